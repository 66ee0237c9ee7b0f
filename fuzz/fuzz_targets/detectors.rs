//! Every WAF detector on an arbitrary value (the input, lossily as UTF-8): `detect` and
//! `detect_at` for every category at both paranoia levels, the off-site inclusion rules against
//! two request hosts, and the path detectors. Asserts that a finding's span lies in the value,
//! on char boundaries, and that `detect_at` at level 1 is `detect`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sqreen::rules::Paranoia;
use sqreen::waf::{self, lfi, scanner, AttackCategory, Finding};

fn check(value: &str, finding: Option<Finding>) -> Option<Finding> {
    if let Some(f) = &finding {
        assert!(
            f.span.start <= f.span.end
                && f.span.end <= value.len()
                && value.is_char_boundary(f.span.start)
                && value.is_char_boundary(f.span.end),
            "rule {} reports span {:?} in a value of {} bytes",
            f.rule,
            f.span,
            value.len()
        );
        assert!(waf::is_rule(f.rule), "unknown rule {}", f.rule);
    }
    finding
}

fuzz_target!(|data: &[u8]| {
    let value = String::from_utf8_lossy(data);
    let value = value.as_ref();
    for category in AttackCategory::ALL {
        let plain = check(value, waf::detect(category, value));
        let level1 = check(value, waf::detect_at(category, value, Paranoia::Level1));
        assert_eq!(plain, level1, "{category:?}: detect_at level 1 differs");
        check(value, waf::detect_at(category, value, Paranoia::Level2));
    }
    for host in ["localhost", "app.example:8443", "[2001:db8::1]:80"] {
        check(value, lfi::detect_strict(value, host));
        check(value, lfi::detect_offsite(value, host));
    }
    check(value, lfi::detect_path(value));
    check(value, scanner::detect_probe_path(value));
});
