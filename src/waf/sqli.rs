//! (placeholder until the detector lands)
use super::Finding;
/// Rule ids this detector can report.
pub const RULES: &[&str] = &[];
/// Looks for an attack in one decoded value.
pub fn detect(_input: &str) -> Option<Finding> {
    None
}
