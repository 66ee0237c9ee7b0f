//! `sqreen-rules check`: the built binary run on files, as CI runs it. Exit 0 with a summary
//! for a valid document, 1 with the place and line of what is wrong, 2 for a usage error;
//! `--json` for machines.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// Runs the checker; returns exit code, stdout and stderr.
fn checker(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sqreen-rules"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// `checker check --json FILE`'s answer.
fn checked_json(file: &Path) -> (i32, Value) {
    let (code, stdout, _) = checker(&["check", "--json", file.to_str().unwrap()]);
    (code, serde_json::from_str(&stdout).unwrap())
}

/// Writes `text` to a file named `name` in `dir`.
fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

const GOOD: &str = r#"{
  "version": "2026-12-07.1",
  "issued_at": "2026-12-07T09:00:00Z",
  "ip_denylist": ["203.0.113.0/24", "198.51.100.9"],
  "user_denylist": ["mallory@example.com"],
  "redirect_passlist": ["/blocked"],
  "playbooks": [
    { "id": "invite-flood",
      "trigger": { "event": "user.invited", "threshold": 10, "period": "5m", "actor": "user" },
      "response": { "action": "block", "duration": "24h" } },
    { "id": "login-brute-force", "enabled": false,
      "trigger": { "event": "app.sqreen.auth.login_failure", "threshold": 5, "period": "10m",
                   "actor": "ip" },
      "response": { "action": "redirect", "url": "/blocked", "duration": "1h" } }
  ],
  "waf": { "mode": "block", "paranoia": 2, "disabled_rules": ["sqli-tautology"],
           "exclusions": [
             { "path": "/forum/*", "method": "POST", "inputs": ["body.content", "body.*.text"],
               "rules": ["xss-*"] },
             { "inputs": ["header.x-preview"] } ],
           "routes": [ { "path": "/admin/**", "mode": "monitor" } ] },
  "rasp": { "mode": "monitor" },
  "ipv6_actor_prefix": 56
}
"#;

/// `GOOD` with one line replaced: the broken documents below differ from it in one place.
fn broken(from: &str, to: &str) -> String {
    assert!(GOOD.contains(from), "{from}");
    GOOD.replacen(from, to, 1)
}

#[test]
fn a_valid_document_exits_0_with_a_one_screen_summary() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "rules.json", GOOD);
    let (code, stdout, stderr) = checker(&["check", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    for line in [
        "valid rules document",
        "version            2026-12-07.1",
        "issued_at          2026-12-07T09:00:00.000Z",
        "lists              ip deny 2, ip pass 0, user deny 1, user pass 0, redirect pass 1",
        "playbooks          2",
        "invite-flood: 10 x user.invited in 5m by user -> block 1d",
        "login-brute-force: 5 x app.sqreen.auth.login_failure in 10m by ip -> redirect to /blocked 1h (disabled)",
        "waf                mode block, paranoia 2, disabled rules: sqli-tautology",
        "waf exclusions     2",
        "POST /forum/* inputs body.content, body.*.text: rules xss-*",
        "any path inputs header.x-preview: every rule",
        "waf routes         1",
        "/admin/** -> monitor",
        "rasp               mode monitor",
        "ipv6_actor_prefix  /56",
    ] {
        assert!(stdout.contains(line), "{line:?} not in:\n{stdout}");
    }
    assert!(
        stdout.lines().count() <= 24,
        "more than a screen:\n{stdout}"
    );

    let (code, json) = checked_json(&file);
    assert_eq!(code, 0);
    assert_eq!(json["ok"], true);
    let summary = &json["summary"];
    assert_eq!(summary["version"], "2026-12-07.1");
    assert_eq!(summary["ip_denylist"], 2);
    assert_eq!(summary["playbooks"][0]["id"], "invite-flood");
    assert_eq!(summary["playbooks"][0]["trigger"]["threshold"], 10);
    assert_eq!(summary["playbooks"][1]["response"]["action"], "redirect");
    assert_eq!(summary["waf"]["mode"], "block");
    assert_eq!(summary["waf"]["paranoia"], 2);
    assert_eq!(summary["rasp"]["mode"], "monitor");
    let exclusion = &summary["waf"]["exclusions"][0];
    assert_eq!(exclusion["inputs"][1], "body.*.text");
    assert_eq!(exclusion["excludes"], "rules xss-*");
    assert_eq!(summary["waf"]["exclusions"][1]["excludes"], "every rule");
    assert_eq!(summary["waf"]["routes"][0]["mode"], "monitor");
    assert_eq!(summary["ipv6_actor_prefix"], 56);
}

/// The invalid documents: file name, text, the place and line the checker must name, and a
/// fragment of its message.
fn invalid_documents() -> Vec<(
    &'static str,
    String,
    Option<&'static str>,
    u64,
    &'static str,
)> {
    vec![
        (
            "malformed.json",
            broken(
                r#""user_denylist": ["mallory@example.com"],"#,
                r#""user_denylist": [,"#,
            ),
            Some("user_denylist[0]"),
            5,
            "invalid JSON: expected value at line 5",
        ),
        (
            "unknown-field.json",
            broken(r#""threshold": 10,"#, r#""treshold": 10,"#),
            Some("playbooks[0].trigger"),
            9,
            "unknown field `treshold`",
        ),
        (
            "bad-cidr.json",
            broken(r#""198.51.100.9""#, r#""198.51.100.0/33""#),
            Some("ip_denylist[1]"),
            4,
            "prefix length",
        ),
        (
            "bad-exclusion-input.json",
            broken(r#""body.*.text"]"#, r#""content"]"#),
            Some("waf.exclusions[0].inputs[1]"),
            18,
            "an input starts with path",
        ),
        (
            "bad-route-mode.json",
            broken(r#""mode": "monitor" }"#, r#""mode": "watch" }"#),
            Some("waf.routes[0].mode"),
            21,
            "expected one of off, monitor, block",
        ),
        (
            "bad-duration.json",
            broken(r#""duration": "1h""#, r#""duration": "an hour""#),
            Some("playbooks[1].response.duration"),
            14,
            "an hour",
        ),
    ]
}

#[test]
fn an_invalid_document_exits_1_naming_the_place_and_the_line() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text, place, line, fragment) in invalid_documents() {
        let file = write(&dir, name, &text);
        let shown = file.to_str().unwrap();
        let (code, stdout, stderr) = checker(&["check", shown]);
        assert_eq!(code, 1, "{name}: {stdout}{stderr}");
        assert!(stdout.is_empty(), "{name}: {stdout}");
        assert!(stderr.contains(fragment), "{name}: {stderr}");
        assert!(stderr.contains(shown), "{name} not named: {stderr}");
        let at = match place {
            Some(place) => format!("--> {shown}:{line} ({place})"),
            None => format!("--> {shown}:{line}"),
        };
        assert!(stderr.contains(&at), "{name}: {at:?} not in {stderr}");

        let (code, json) = checked_json(&file);
        assert_eq!(code, 1);
        assert_eq!(json["ok"], false, "{name}");
        assert_eq!(
            json["place"],
            place.map_or(Value::Null, Value::from),
            "{name}"
        );
        assert_eq!(json["line"], line, "{name}");
        let error = json["error"].as_str().unwrap();
        assert!(error.contains(fragment), "{name}: {error}");
    }
}

#[test]
fn a_missing_file_exits_1_without_a_place() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nowhere.json");
    let (code, _, stderr) = checker(&["check", file.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(stderr.contains("cannot read"), "{stderr}");
    let (code, json) = checked_json(&file);
    assert_eq!(code, 1);
    assert_eq!(
        (&json["ok"], &json["place"], &json["line"]),
        (&Value::Bool(false), &Value::Null, &Value::Null)
    );
}

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
    for args in [
        &[][..],
        &["verify", "rules.json"],
        &["check"],
        &["check", "--yaml", "rules.json"],
        &["check", "a.json", "b.json"],
    ] {
        let (code, stdout, stderr) = checker(args);
        assert_eq!(code, 2, "{args:?}: {stdout}{stderr}");
        assert!(
            stderr.contains("usage: sqreen-rules check"),
            "{args:?}: {stderr}"
        );
    }
    let (code, stdout, _) = checker(&["--help"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("usage: sqreen-rules check [--json] FILE"));
}
