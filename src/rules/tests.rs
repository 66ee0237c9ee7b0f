//! Tests of the rules document format: the sample from the design parses, every kind of
//! invalid document is rejected at the right place with a useful message, and big or hostile
//! input is handled without a crash. This file owns no production code and must stay test-only.

use std::time::Duration;

use serde_json::{json, Value};

use super::*;
use crate::duration::Lifetime;
use crate::playbook::{
    ActorKind, EventPattern, Frequency, Notification, Playbook, ResponseAction, Severity, Trigger,
};

const SAMPLE: &str = r#"{
  "version": "2026-11-23.1",
  "playbooks": [ { "id": "free-plan-abuse", "name": "Free plan abuse", "enabled": true,
      "trigger": { "event": "user.invited", "threshold": 2, "period": "5m", "actor": "user" },
      "response": { "action": "none" },
      "notification": { "severity": "low", "frequency": "daily", "webhook": true } } ],
  "ip_denylist": ["203.0.113.0/24"], "ip_passlist": ["198.51.100.7"],
  "user_denylist": ["mallory@example.com"], "user_passlist": [],
  "redirect_passlist": ["/blocked"],
  "waf": { "mode": "block", "disabled_rules": [], "paranoia": 2 }
}"#;

fn net(s: &str) -> ipnet::IpNet {
    s.parse().unwrap()
}

/// The sample with the value at `pointer` replaced, added (`Some`) or removed (`None`).
fn sample_with(pointer: &str, value: Option<Value>) -> String {
    let mut doc: Value = serde_json::from_str(SAMPLE).unwrap();
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    match (doc.pointer_mut(parent).unwrap(), value) {
        (Value::Object(map), Some(v)) => drop(map.insert(key.to_string(), v)),
        (Value::Object(map), None) => drop(map.remove(key)),
        (Value::Array(items), Some(v)) => match key.parse::<usize>().unwrap() {
            i if i == items.len() => items.push(v),
            i => items[i] = v,
        },
        (Value::Array(items), None) => drop(items.remove(key.parse::<usize>().unwrap())),
        _ => panic!("bad pointer {pointer}"),
    }
    doc.to_string()
}

/// Asserts that `text` is rejected at `place` with a message containing `fragment`.
fn assert_rejected(text: &str, place: &str, fragment: &str) {
    let err = RulesDocument::parse(text).expect_err(text);
    let shown = err.to_string();
    assert_eq!(err.place(), Some(place), "{shown}");
    assert!(shown.contains(fragment), "{shown:?} lacks {fragment:?}");
    assert!(shown.starts_with("invalid rules document: "), "{shown}");
}

#[test]
fn the_sample_parses() {
    let doc = RulesDocument::parse(SAMPLE).unwrap();
    let expected = RulesDocument {
        version: Some("2026-11-23.1".into()),
        playbooks: vec![Playbook {
            id: "free-plan-abuse".into(),
            name: "Free plan abuse".into(),
            enabled: true,
            trigger: Trigger {
                event: EventPattern::Exact("user.invited".into()),
                threshold: 2,
                period: Duration::from_secs(300),
                actor: ActorKind::User,
                filter: None,
            },
            response: ResponseAction::None,
            notification: Notification {
                severity: Severity::Low,
                frequency: Frequency::Daily,
                webhook: true,
                slack: false,
                email: false,
            },
        }],
        ip_denylist: vec![net("203.0.113.0/24")],
        ip_passlist: vec![net("198.51.100.7/32")],
        user_denylist: vec!["mallory@example.com".into()],
        user_passlist: vec![],
        redirect_passlist: vec!["/blocked".into()],
        ipv6_actor_prefix: None,
        rasp: Default::default(),
        issued_at: None,
        waf: WafSettings {
            on_budget_exceeded: Default::default(),
            on_body_over_limit: Default::default(),
            mode: Some(WafMode::Block),
            disabled_rules: vec![],
            paranoia: Some(Paranoia::Level2),
            exclusions: vec![],
            routes: vec![],
        },
    };
    assert_eq!(doc, expected);
}

#[test]
fn empty_and_minimal_documents_are_valid() {
    for text in [
        "{}",
        " \n{ }\n",
        r#"{"version": null, "waf": null}"#,
        r#"{"waf": {}}"#,
    ] {
        assert_eq!(
            RulesDocument::parse(text).unwrap(),
            RulesDocument::default(),
            "{text}"
        );
    }
    let doc = RulesDocument::parse(r#"{"waf": {"mode": null}}"#).unwrap();
    assert_eq!(
        doc.waf.mode, None,
        "a missing mode leaves the environment's value"
    );
}

#[test]
fn playbook_defaults_and_responses() {
    let text = r#"{"playbooks": [
      {"id": "p1", "trigger": {"event": "app.sqreen.attack.*", "threshold": 1,
        "period": "1h", "actor": "ip"}, "response": {"action": "block", "duration": "24h"}},
      {"id": "p2", "enabled": false, "trigger": {"event": "login.failed", "threshold": 5,
        "period": "30d", "actor": "user"},
       "response": {"action": "redirect", "url": "https://x.example/reset",
         "duration": "permanent"},
       "notification": {"slack": true, "email": true}}]}"#;
    let doc = RulesDocument::parse(text).unwrap();
    let (p1, p2) = (&doc.playbooks[0], &doc.playbooks[1]);
    assert_eq!(p1.name, "p1");
    assert!(p1.enabled && !p2.enabled);
    assert_eq!(
        p1.trigger.event,
        EventPattern::Prefix("app.sqreen.attack".into())
    );
    assert!(p1.trigger.event.matches("app.sqreen.attack.xss"));
    assert_eq!(
        p1.response,
        ResponseAction::Block {
            lifetime: Lifetime::For(Duration::from_secs(86_400))
        }
    );
    assert_eq!(p1.notification, Notification::default());
    assert_eq!(p2.trigger.period, Duration::from_secs(30 * 86_400));
    assert_eq!(
        p2.response,
        ResponseAction::Redirect {
            url: "https://x.example/reset".into(),
            lifetime: Lifetime::Permanent
        }
    );
    assert!(p2.notification.slack && p2.notification.email && !p2.notification.webhook);
    assert!(!p1.notification.email);
    assert_eq!(p2.notification.severity, Severity::Medium);
    assert_eq!(p2.notification.frequency, Frequency::Immediately);
}

#[test]
fn good_redirect_urls_are_kept() {
    for url in ["/blocked", "https://x.example/reset"] {
        let response = json!({"action": "redirect", "url": url, "duration": "1h"});
        let doc =
            RulesDocument::parse(&sample_with("/playbooks/0/response", Some(response))).unwrap();
        assert_eq!(
            doc.playbooks[0].response,
            ResponseAction::Redirect {
                url: url.into(),
                lifetime: Lifetime::For(Duration::from_secs(3600))
            }
        );
    }
}

#[test]
fn entries_are_trimmed_and_duplicates_kept() {
    let text = r#"{"user_denylist": [" mallory ", "mallory"], "redirect_passlist": ["/static/*"],
        "ip_denylist":
        [" 10.0.0.1 ", "10.0.0.1", "[2001:db8::1]", "2001:db8::/32", "10.1.2.3/8"],
        "waf": {"mode": " MONITOR ", "disabled_rules": [" 942100 "]}}"#;
    let doc = RulesDocument::parse(text).unwrap();
    assert_eq!(doc.user_denylist, ["mallory", "mallory"]);
    assert_eq!(doc.redirect_passlist, ["/static/*"]);
    assert_eq!(
        doc.ip_denylist,
        [
            net("10.0.0.1/32"),
            net("10.0.0.1/32"),
            net("2001:db8::1/128"),
            net("2001:db8::/32"),
            net("10.0.0.0/8")
        ]
    );
    assert_eq!(doc.waf.mode, Some(WafMode::Monitor));
    assert_eq!(doc.waf.disabled_rules, ["942100"]);
}

#[test]
fn invalid_values_name_their_place() {
    // Each case: JSON pointer into the sample | new value ("-" removes it) | place | message part.
    let cases = [
        "/playbooks/0/trigger/threshold | 0 | playbooks[0].trigger.threshold | : must be at least 1",
        "/playbooks/0/trigger/threshold | -1 | playbooks[0].trigger.threshold | : must be at least 1",
        "/playbooks/0/trigger/threshold | 1000001 | playbooks[0].trigger.threshold | must be at most 1000000",
        r#"/playbooks/0/trigger/threshold | "2" | playbooks[0].trigger.threshold | invalid type: string "2", expected i64"#,
        "/playbooks/0/trigger/threshold | 1.5 | playbooks[0].trigger.threshold | invalid type: floating point `1.5`, expected i64",
        "/playbooks/0/trigger/threshold | null | playbooks[0].trigger.threshold | invalid type: null",
        r#"/playbooks/0/trigger/period | "5x" | playbooks[0].trigger.period | invalid duration "5x""#,
        r#"/playbooks/0/trigger/period | "5M" | playbooks[0].trigger.period | units are lowercase"#,
        r#"/playbooks/0/trigger/period | "31d" | playbooks[0].trigger.period | must be at most 30d"#,
        r#"/playbooks/0/trigger/period | "0s" | playbooks[0].trigger.period | must be greater than zero"#,
        "/playbooks/0/trigger/period | 300 | playbooks[0].trigger.period | invalid type: integer `300`, expected a string",
        r#"/playbooks/0/trigger/event | "" | playbooks[0].trigger.event | : must not be empty"#,
        r#"/playbooks/0/trigger/event | "user invited" | playbooks[0].trigger.event | invalid character ' ' in event "user invited""#,
        r#"/playbooks/0/trigger/event | ".*" | playbooks[0].trigger.event | needs a name before ".*""#,
        r#"/playbooks/0/trigger/event | "a*" | playbooks[0].trigger.event | invalid character '*'"#,
        r#"/playbooks/0/trigger/actor | "robot" | playbooks[0].trigger.actor | unknown variant `robot`, expected `ip` or `user`"#,
        "/playbooks/0/trigger/actor | - | playbooks[0].trigger | missing field `actor`",
        r#"/playbooks/0/trigger | ["user.invited", 2, "5m", "user"] | playbooks[0].trigger | invalid type: sequence, expected a JSON object"#,
        "/playbooks/0/trigger | - | playbooks[0] | missing field `trigger`",
        r#"/playbooks/0/id | "" | playbooks[0].id | : must not be empty"#,
        r#"/playbooks/0/id | "a b" | playbooks[0].id | invalid character ' ' in id "a b""#,
        r#"/playbooks/0/id | "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" | playbooks[0].id | longer than 64 characters"#,
        "/playbooks/0/id | - | playbooks[0] | missing field `id`",
        r#"/playbooks/0/name | " " | playbooks[0].name | : must not be empty"#,
        r#"/playbooks/0/enabled | "yes" | playbooks[0].enabled | invalid type: string "yes", expected a boolean"#,
        r#"/playbooks/0/response | {"action": "block"} | playbooks[0].response.duration | required when action is "block""#,
        r#"/playbooks/0/response | {"action": "redirect", "duration": "1h"} | playbooks[0].response.url | required when action is "redirect""#,
        r#"/playbooks/0/response | {"action": "redirect", "url": "/x"} | playbooks[0].response.duration | required when action is "redirect""#,
        r#"/playbooks/0/response | {"action": "none", "duration": "1h"} | playbooks[0].response.duration | not allowed when action is "none""#,
        r#"/playbooks/0/response | {"action": "none", "url": "/x"} | playbooks[0].response.url | only allowed when action is "redirect""#,
        r#"/playbooks/0/response | {"action": "block", "url": "/x", "duration": "1h"} | playbooks[0].response.url | only allowed when action is "redirect""#,
        r#"/playbooks/0/response | {"action": "block", "duration": "forever"} | playbooks[0].response.duration | invalid duration "forever""#,
        r#"/playbooks/0/response | {"action": "block", "duration": "400d"} | playbooks[0].response.duration | must be at most 365d"#,
        r#"/playbooks/0/response | {"action": "ban"} | playbooks[0].response.action | unknown variant `ban`"#,
        "/playbooks/0/response | {} | playbooks[0].response | missing field `action`",
        r#"/playbooks/0/notification/severity | "urgent" | playbooks[0].notification.severity | unknown variant `urgent`"#,
        r#"/playbooks/0/notification/frequency | "hourly" | playbooks[0].notification.frequency | unknown variant `hourly`"#,
        r#"/playbooks/0/notification/webhook | "true" | playbooks[0].notification.webhook | invalid type: string "true", expected a boolean"#,
        r#"/playbooks/0/notification/email | "ops@example.com" | playbooks[0].notification.email | invalid type: string "ops@example.com", expected a boolean"#,
        r#"/playbooks/1 | {"id": "free-plan-abuse", "trigger": {"event": "e", "threshold": 1, "period": "1s", "actor": "ip"}, "response": {"action": "none"}} | playbooks[1].id | duplicate id "free-plan-abuse" (first used by playbooks[0])"#,
        "/playbooks | {} | playbooks | invalid type: map, expected a sequence",
        r#"/playbooks/0 | "free-plan-abuse" | playbooks[0] | expected a JSON object"#,
        r#"/ip_denylist/1 | "300.1.1.1/8" | ip_denylist[1] | "300.1.1.1/8""#,
        r#"/ip_passlist/0 | "nope" | ip_passlist[0] | "nope""#,
        "/ip_denylist/0 | 5 | ip_denylist[0] | invalid type: integer `5`, expected a string",
        r#"/user_denylist/0 | "  " | user_denylist[0] | : must not be empty"#,
        r#"/user_passlist | ["ok", ""] | user_passlist[1] | : must not be empty"#,
        r#"/redirect_passlist/0 | "blocked" | redirect_passlist[0] | : must start with "/""#,
        r#"/redirect_passlist/0 | "/a b" | redirect_passlist[0] | must not contain whitespace"#,
        r#"/waf/mode | "deny" | waf.mode | : expected one of off, monitor, block (got "deny")"#,
        "/waf/mode | 1 | waf.mode | invalid type: integer `1`, expected a string",
        r#"/waf/disabled_rules | ["", "x"] | waf.disabled_rules[0] | : must not be empty"#,
        "/waf | [] | waf | expected a JSON object",
        "/version | 3 | version | invalid type: integer `3`, expected a string",
        r#"/version | "a\nb" | version | must not contain control characters"#,
    ];
    for case in cases {
        let parts: Vec<&str> = case.splitn(4, " | ").collect();
        let [pointer, value, place, fragment] = parts[..] else {
            panic!("bad case {case}");
        };
        let value = (value != "-").then(|| serde_json::from_str::<Value>(value).unwrap());
        assert_rejected(&sample_with(pointer, value), place, fragment);
    }
    let long_version = json!("v".repeat(257));
    let text = sample_with("/version", Some(long_version));
    assert_rejected(&text, "version", "longer than 256 characters");
    let long_event = json!("e".repeat(129));
    let text = sample_with("/playbooks/0/trigger/event", Some(long_event));
    assert_rejected(
        &text,
        "playbooks[0].trigger.event",
        "longer than 128 characters",
    );
}

#[test]
fn bad_redirect_urls_are_rejected() {
    for (url, fragment) in [
        (
            "javascript:alert(1)",
            "must start with \"/\", \"http://\" or \"https://\"",
        ),
        ("//evil.example", "must not start with \"//\""),
        ("blocked", "must start with \"/\""),
        ("/a b", "must not contain whitespace"),
        ("/\\evil.example", "backslash"),
        ("https://", "has no host"),
    ] {
        let response = json!({"action": "redirect", "url": url, "duration": "1h"});
        let text = sample_with("/playbooks/0/response", Some(response));
        assert_rejected(&text, "playbooks[0].response.url", fragment);
    }
}

#[test]
fn unknown_fields_are_rejected_at_every_level() {
    for (pointer, place) in [
        ("/colour", ""),
        ("/playbooks/0/extra", "playbooks[0]"),
        ("/playbooks/0/trigger/treshold", "playbooks[0].trigger"),
        ("/playbooks/0/response/reason", "playbooks[0].response"),
        (
            "/playbooks/0/notification/mail",
            "playbooks[0].notification",
        ),
        ("/waf/strict", "waf"),
    ] {
        let key = pointer.rsplit('/').next().unwrap();
        let text = sample_with(pointer, Some(json!(true)));
        assert_rejected(&text, place, &format!("unknown field `{key}`, expected"));
    }
    let second = r#"{"playbooks": [
        {"id": "a", "trigger": {"event": "e", "threshold": 1, "period": "1s", "actor": "ip"},
         "response": {"action": "none"}},
        {"id": "b", "trigger": {"event": "e", "treshold": 1, "period": "1s", "actor": "ip"},
         "response": {"action": "none"}}]}"#;
    assert_rejected(
        second,
        "playbooks[1].trigger",
        "unknown field `treshold`, expected one of `event`, `threshold`, `period`, `actor`",
    );
}

#[test]
fn malformed_json_is_rejected_with_line_and_column() {
    for (text, place, fragment) in [
        (
            "",
            "",
            "invalid JSON: EOF while parsing a value at line 1 column 0",
        ),
        (
            "{\n  \"version\": \"1\",\n  \"playbooks\": [ {\"id\": } ]\n}",
            "playbooks[0].id",
            "invalid JSON: expected value at line 3 column 25",
        ),
        (
            "{\"version\": \"1\"",
            "",
            "invalid JSON: EOF while parsing an object at line 1 column 15",
        ),
        (
            "{} {}",
            "",
            "invalid JSON: trailing characters at line 1 column 4",
        ),
        (
            "{\"version\": \"1\",}",
            "",
            "invalid JSON: trailing comma at line 1 column 17",
        ),
        (
            "[]",
            "",
            "invalid type: sequence, expected a JSON object at line 1",
        ),
        ("null", "", "invalid type: null, expected a JSON object"),
        (
            "\"rules\"",
            "",
            "invalid type: string \"rules\", expected a JSON object",
        ),
        (
            "{\"version\": \"a\", \"version\": \"b\"}",
            "",
            "duplicate field `version`",
        ),
        (
            "{\"playbooks\": [{\"trigger\": {\"threshold\": 99999999999999999999}}]}",
            "playbooks[0].trigger.threshold",
            "invalid type: floating point",
        ),
    ] {
        assert_rejected(text, place, fragment);
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let text = format!(
        "{{\"version\": {}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    assert_rejected(
        &text,
        "version",
        "invalid type: sequence, expected a string",
    );
}

#[test]
fn a_large_deny_list_parses() {
    let entries: Vec<String> = (0..100_000u32)
        .map(|i| format!("\"10.{}.{}.0/24\"", (i >> 8) & 0xff, i & 0xff))
        .collect();
    let text = format!("{{\"ip_denylist\": [{}]}}", entries.join(","));
    let doc = RulesDocument::parse(&text).unwrap();
    assert_eq!(doc.ip_denylist.len(), 100_000);
    assert_eq!(doc.ip_denylist[258], net("10.1.2.0/24"));
}

#[test]
fn oversized_documents_are_refused_before_parsing() {
    let text = " ".repeat(MAX_DOCUMENT_BYTES + 1);
    assert_rejected(&text, "", "larger than 64 MiB");
}

#[test]
fn load_reads_files() {
    let path = std::env::temp_dir().join(format!("sqreen-rules-{}.json", std::process::id()));
    std::fs::write(&path, SAMPLE).unwrap();
    let loaded = RulesDocument::load(&path);
    std::fs::remove_file(&path).unwrap();
    assert_eq!(loaded.unwrap(), RulesDocument::parse(SAMPLE).unwrap());

    let err = RulesDocument::load(&path).unwrap_err();
    assert_eq!(err.place(), None);
    assert!(err.to_string().starts_with("cannot read "), "{err}");
    assert!(std::error::Error::source(&err).is_some());
}

#[test]
fn waf_mode_parses_in_any_case() {
    for (text, mode) in [
        ("off", WafMode::Off),
        ("Monitor", WafMode::Monitor),
        (" BLOCK\n", WafMode::Block),
    ] {
        assert_eq!(text.parse::<WafMode>(), Ok(mode));
        assert_eq!(mode.to_string().parse::<WafMode>(), Ok(mode));
    }
    let err = "deny".parse::<WafMode>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "expected one of off, monitor, block (got \"deny\")"
    );
    assert!("".parse::<WafMode>().is_err());
    assert_eq!(WafMode::Monitor.to_string(), "monitor");
}

#[test]
fn paranoia_levels_parse_and_others_are_refused() {
    for (text, level) in [("1", Paranoia::Level1), (" 2\n", Paranoia::Level2)] {
        assert_eq!(text.parse::<Paranoia>(), Ok(level));
        assert_eq!(level.to_string().parse::<Paranoia>(), Ok(level));
    }
    assert_eq!(Paranoia::default(), Paranoia::Level1);
    assert!(Paranoia::Level1 < Paranoia::Level2);
    for bad in ["0", "3", "", "two", "-1", "1.5"] {
        let err = bad.parse::<Paranoia>().unwrap_err();
        assert!(err.to_string().starts_with("expected 1 or 2"), "{err}");
    }
    let doc = RulesDocument::parse(r#"{"waf": {"paranoia": 1}}"#).unwrap();
    assert_eq!(doc.waf.paranoia, Some(Paranoia::Level1));
    assert_eq!(RulesDocument::parse("{}").unwrap().waf.paranoia, None);
    for (text, place) in [
        (r#"{"waf": {"paranoia": 3}}"#, "waf.paranoia"),
        (r#"{"waf": {"paranoia": "2"}}"#, "waf.paranoia"),
        (r#"{"waf": {"paranoia": -1}}"#, "waf.paranoia"),
    ] {
        let err = RulesDocument::parse(text).unwrap_err();
        assert!(err.to_string().contains(place), "{text}: {err}");
    }
}

#[test]
fn the_ipv6_actor_prefix_is_read_and_checked() {
    let doc = RulesDocument::parse(r#"{"ipv6_actor_prefix": 56}"#).unwrap();
    assert_eq!(doc.ipv6_actor_prefix, Some(56));
    assert_eq!(RulesDocument::parse("{}").unwrap().ipv6_actor_prefix, None);
    for text in [
        r#"{"ipv6_actor_prefix": 16}"#,
        r#"{"ipv6_actor_prefix": 129}"#,
        r#"{"ipv6_actor_prefix": "64"}"#,
        r#"{"ipv6_actor_prefix": -64}"#,
        r#"{"ipv6_actor_prefix": 18446744073709551615}"#,
    ] {
        let err = RulesDocument::parse(text).unwrap_err();
        assert!(
            err.to_string().contains("ipv6_actor_prefix"),
            "{text}: {err}"
        );
    }
}

#[test]
fn mangled_documents_never_panic() {
    let richer = sample_with(
        "/playbooks/0/response",
        Some(json!({"action": "redirect", "url": "/blocked", "duration": "24h"})),
    );
    let replacements = [
        '"', '{', '}', '[', ']', ',', ':', '0', '-', 'x', '*', '/', ' ', 'é',
    ];
    for (i, _) in richer.char_indices() {
        let _ = RulesDocument::parse(&richer[..i]);
        for r in replacements {
            let mut mangled = richer.clone();
            let end = i + mangled[i..].chars().next().map_or(0, char::len_utf8);
            mangled.replace_range(i..end, r.encode_utf8(&mut [0; 4]));
            let _ = RulesDocument::parse(&mangled);
        }
    }
}

#[test]
fn errors_name_the_line_of_their_place() {
    let doc = |body: &str| format!("{{\n  \"version\": \"1\",\n{body}\n}}");
    for (text, place, line) in [
        // a syntax error: serde's own line
        (doc("  \"waf\": {\n    \"mode\": ,\n  }"), "waf.mode", 4),
        // an unknown field: the line it is written on
        (
            doc("  \"waf\": {\n    \"mode\": \"block\",\n    \"paranoya\": 2\n  }"),
            "waf",
            5,
        ),
        // a missing field: where the object missing it starts (serde_json points at its end)
        (
            doc("  \"playbooks\": [\n    { \"id\": \"p\",\n      \"trigger\": { \"event\": \"e\", \"threshold\": 2, \"period\": \"5m\", \"actor\": \"ip\" }\n    }\n  ]"),
            "playbooks[0]",
            4,
        ),
        // errors found after parsing: the line where the value starts
        (
            doc("  \"ip_denylist\": [\n    \"203.0.113.0/24\",\n    \"203.0.113.0/33\"\n  ]"),
            "ip_denylist[1]",
            5,
        ),
        (
            doc(concat!(
                "  \"playbooks\": [\n",
                "    { \"id\": \"p\",\n",
                "      \"trigger\": { \"event\": \"e\", \"threshold\": 2, \"period\": \"5 minutes\",\n",
                "        \"actor\": \"ip\" },\n",
                "      \"response\": { \"action\": \"none\" } } ]",
            )),
            "playbooks[0].trigger.period",
            5,
        ),
    ] {
        let err = RulesDocument::parse(&text).unwrap_err();
        assert_eq!(err.place(), Some(place), "{err}\n{text}");
        assert_eq!(err.line(), Some(line), "{err}\n{text}");
    }
    // a document too big to read has no line
    assert_eq!(crate::Error::rules("", "too big").line(), None);
}

#[test]
fn waf_exclusions_and_routes_parse() {
    let doc = RulesDocument::parse(
        r#"{"waf": {
            "exclusions": [
                {"path": "/forum/*", "method": "post", "inputs": ["body.content", "body.*.text", "header.X-Note"],
                 "rules": ["xss-*"], "categories": ["sqli"]},
                {"inputs": ["query.q"]}
            ],
            "routes": [{"path": "/admin/**", "mode": "Monitor"}, {"path": "/api/*", "method": "GET", "mode": "off"}]
        }}"#,
    )
    .unwrap();
    let e = &doc.waf.exclusions[0];
    assert_eq!(e.path.as_deref(), Some("/forum/*"));
    assert_eq!(e.method.as_deref(), Some("POST"));
    assert_eq!(e.inputs, ["body.content", "body.*.text", "header.x-note"]);
    assert_eq!(e.rules, ["xss-*"]);
    assert_eq!(e.categories, [crate::waf::AttackCategory::Sqli]);
    assert!(!e.excludes_everything() && doc.waf.exclusions[1].excludes_everything());
    assert_eq!(doc.waf.routes[0].mode, WafMode::Monitor);
    assert_eq!(doc.waf.routes[1].method.as_deref(), Some("GET"));
}

#[test]
fn invalid_waf_exclusions_and_routes_name_their_place() {
    let waf = |body: &str| format!(r#"{{"waf": {body}}}"#);
    for (body, place, fragment) in [
        (
            r#"{"exclusions": [{"rules": ["xss-*"]}]}"#,
            "waf.exclusions[0]",
            "needs a scope",
        ),
        (
            r#"{"exclusions": [{"path": "/a", "rule": ["x"]}]}"#,
            "waf.exclusions[0]",
            "unknown field `rule`",
        ),
        (
            r#"{"exclusions": [{"path": "/a"}, {"path": "a/*"}]}"#,
            "waf.exclusions[1].path",
            "starts with \"/\"",
        ),
        (
            r#"{"exclusions": [{"path": "/a/**x"}]}"#,
            "waf.exclusions[0].path",
            "whole segment",
        ),
        (
            r#"{"exclusions": [{"path": "/a/../b"}]}"#,
            "waf.exclusions[0].path",
            "\"..\"",
        ),
        (
            r#"{"exclusions": [{"path": "/a%2Fb"}]}"#,
            "waf.exclusions[0].path",
            "decoded",
        ),
        (
            r#"{"exclusions": [{"method": "PO ST"}]}"#,
            "waf.exclusions[0].method",
            "HTTP method",
        ),
        (
            r#"{"exclusions": [{"method": ""}]}"#,
            "waf.exclusions[0].method",
            "HTTP method",
        ),
        (
            r#"{"exclusions": [{"inputs": []}]}"#,
            "waf.exclusions[0].inputs",
            "must not be empty",
        ),
        (
            r#"{"exclusions": [{"inputs": ["body.x", "content"]}]}"#,
            "waf.exclusions[0].inputs[1]",
            "starts with path",
        ),
        (
            r#"{"exclusions": [{"inputs": ["body.***"]}]}"#,
            "waf.exclusions[0].inputs[0]",
            "***",
        ),
        (
            r#"{"exclusions": [{"path": "/a", "rules": []}]}"#,
            "waf.exclusions[0].rules",
            "must not be empty",
        ),
        (
            r#"{"exclusions": [{"path": "/a", "rules": ["xss-*", "xsss-*"]}]}"#,
            "waf.exclusions[0].rules[1]",
            "matches no rule",
        ),
        (
            r#"{"exclusions": [{"path": "/a", "rules": ["sqli union"]}]}"#,
            "waf.exclusions[0].rules[0]",
            "no spaces",
        ),
        (
            r#"{"exclusions": [{"path": "/a", "categories": ["xss", "XSS"]}]}"#,
            "waf.exclusions[0].categories[1]",
            "unknown category",
        ),
        (
            r#"{"exclusions": [{"path": "/a", "categories": []}]}"#,
            "waf.exclusions[0].categories",
            "must not be empty",
        ),
        (
            r#"{"exclusions": {"path": "/a"}}"#,
            "waf.exclusions",
            "sequence",
        ),
        (
            r#"{"exclusions": [["/a"]]}"#,
            "waf.exclusions[0]",
            "JSON object",
        ),
        (
            r#"{"routes": [{"mode": "off"}]}"#,
            "waf.routes[0]",
            "missing field `path`",
        ),
        (
            r#"{"routes": [{"path": "/a"}]}"#,
            "waf.routes[0]",
            "missing field `mode`",
        ),
        (
            r#"{"routes": [{"path": "/a", "mode": "block"}, {"path": "/b", "mode": "loud"}]}"#,
            "waf.routes[1].mode",
            "expected one of off, monitor, block",
        ),
        (
            r#"{"routes": [{"path": "b", "mode": "off"}]}"#,
            "waf.routes[0].path",
            "starts with",
        ),
        (
            r#"{"routes": [{"path": "/b", "method": "G(T", "mode": "off"}]}"#,
            "waf.routes[0].method",
            "HTTP method",
        ),
        (
            r#"{"routes": [{"path": "/b", "mode": "off", "inputs": []}]}"#,
            "waf.routes[0]",
            "unknown field `inputs`",
        ),
    ] {
        assert_rejected(&waf(body), place, fragment);
    }
}

#[test]
fn waf_exclusion_errors_name_their_line() {
    let text = "{\n  \"waf\": {\n    \"exclusions\": [\n      {\"path\": \"/forum/*\",\n       \"inputs\": [\"body.content\",\n                  \"content\"]}\n    ]\n  }\n}";
    let err = RulesDocument::parse(text).unwrap_err();
    assert_eq!(err.place(), Some("waf.exclusions[0].inputs[1]"));
    assert_eq!(err.line(), Some(6));
}
