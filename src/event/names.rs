//! The built-in event names, in the reserved `app.sqreen.` namespace (custom `track` names may
//! not use it).

/// The reserved prefix of built-in events.
pub const RESERVED_PREFIX: &str = "app.sqreen.";
/// A successful login (`auth_track(true, ..)`).
pub const LOGIN_SUCCESS: &str = "app.sqreen.auth.login_success";
/// A failed login (`auth_track(false, ..)`).
pub const LOGIN_FAILURE: &str = "app.sqreen.auth.login_failure";
/// A signup (`signup_track(..)`).
pub const SIGNUP: &str = "app.sqreen.auth.signup";
/// A SQL injection recognised by the WAF.
pub const ATTACK_SQLI: &str = "app.sqreen.attack.sqli";
/// Cross-site scripting recognised by the WAF.
pub const ATTACK_XSS: &str = "app.sqreen.attack.xss";
/// Path traversal or file inclusion recognised by the WAF.
pub const ATTACK_LFI: &str = "app.sqreen.attack.lfi";
/// Command injection or code execution recognised by the WAF.
pub const ATTACK_RCE: &str = "app.sqreen.attack.rce";
/// Server-side request forgery recognised by the WAF.
pub const ATTACK_SSRF: &str = "app.sqreen.attack.ssrf";
/// Code injection (PHP, Java expression languages, templates, Node.js, Python...) recognised
/// by the WAF.
pub const ATTACK_CODE_INJECTION: &str = "app.sqreen.attack.code_injection";
/// A request answered 404 (`app.sqreen.http.not_found`).
pub const HTTP_NOT_FOUND: &str = "app.sqreen.http.not_found";
/// A known scanner's path or user agent.
pub const HTTP_SCANNER: &str = "app.sqreen.http.scanner";
/// A playbook fired.
pub const PLAYBOOK_TRIGGERED: &str = "app.sqreen.playbook.triggered";
/// A request refused because of its IP (deny list or action).
pub const IP_DENIED: &str = "app.sqreen.ip.denied";
/// A request refused because of its user (deny list or action).
pub const USER_DENIED: &str = "app.sqreen.user.denied";
/// The WAF spent more than its time budget on a request (`inspected` says how much of the
/// request it read: all of it, unless the rules document says `waf.on_budget_exceeded: "pass"`).
pub const WAF_BUDGET_EXCEEDED: &str = "app.sqreen.waf.budget_exceeded";
/// A request body the WAF could not read as text: a decompression bomb, or an encoding it does
/// not decode (`reason`); refused in block mode (413, 415).
pub const WAF_BODY_REFUSED: &str = "app.sqreen.waf.body_refused";
/// A request body longer than `SQREEN_MAX_BODY_BYTES`: only its first bytes were inspected
/// (`waf.on_body_over_limit: "inspect_prefix"`, the default), or it was refused in block mode
/// (413, `"refuse"`).
pub const WAF_BODY_OVER_LIMIT: &str = "app.sqreen.waf.body_over_limit";

/// True for names in the reserved namespace.
pub fn is_reserved(name: &str) -> bool {
    name.len() >= RESERVED_PREFIX.len()
        && name[..RESERVED_PREFIX.len()].eq_ignore_ascii_case(RESERVED_PREFIX)
}

#[cfg(test)]
mod tests {
    #[test]
    fn reserved_names() {
        assert!(super::is_reserved("app.sqreen.auth.login_failure"));
        assert!(super::is_reserved("APP.Sqreen.x"));
        assert!(!super::is_reserved("app.sqreenx"));
        assert!(!super::is_reserved("user.invited"));
    }
}
