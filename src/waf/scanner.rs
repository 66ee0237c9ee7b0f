//! (placeholder)
use super::Finding;
/// Rule ids.
pub const RULES: &[&str] = &[];
/// UA.
pub fn detect_user_agent(_ua: &str) -> Option<Finding> {
    None
}
/// Probe path.
pub fn detect_probe_path(_path: &str) -> Option<Finding> {
    None
}
