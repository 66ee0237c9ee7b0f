//! The ready-made playbooks of `examples/playbooks/` load, say what the README says they do, and
//! behave so when their events happen.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;
use sqreen::duration::Lifetime;
use sqreen::playbook::{ActorKind, Frequency, ResponseAction};
use sqreen::rules::RulesDocument;
use sqreen::{Actor, Agent, Verdict};

fn template(name: &str) -> RulesDocument {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "examples", "playbooks", name]
        .iter()
        .collect();
    RulesDocument::load(&path).unwrap()
}

fn hours(h: u64) -> Lifetime {
    Lifetime::For(Duration::from_secs(h * 3600))
}

#[test]
fn every_template_says_what_the_readme_says() {
    let minutes = |m: u64| Duration::from_secs(m * 60);
    let cases = [
        (
            "free-plan-abuse.json",
            "user.invited",
            2,
            minutes(5),
            ActorKind::User,
            ResponseAction::None,
        ),
        (
            "login-brute-force.json",
            "app.sqreen.auth.login_failure",
            10,
            minutes(10),
            ActorKind::Ip,
            ResponseAction::Block {
                lifetime: hours(24),
            },
        ),
        (
            "account-takeover.json",
            "app.sqreen.auth.login_failure",
            5,
            minutes(10),
            ActorKind::User,
            ResponseAction::Redirect {
                url: "/password-reset".into(),
                lifetime: hours(1),
            },
        ),
        (
            "csrf-abuse.json",
            "csrf_request",
            10,
            minutes(10),
            ActorKind::Ip,
            ResponseAction::Block {
                lifetime: Lifetime::Permanent,
            },
        ),
        (
            "attack-burst.json",
            "app.sqreen.attack.*",
            3,
            minutes(10),
            ActorKind::Ip,
            ResponseAction::Block { lifetime: hours(1) },
        ),
    ];
    for (file, event, threshold, period, actor, response) in cases {
        let doc = template(file);
        assert_eq!(doc.playbooks.len(), 1, "{file}");
        let p = &doc.playbooks[0];
        assert_eq!(p.trigger.event.to_string(), event, "{file}");
        assert_eq!(p.trigger.threshold, threshold, "{file}");
        assert_eq!(p.trigger.period, period, "{file}");
        assert_eq!(p.trigger.actor, actor, "{file}");
        assert_eq!(p.response, response, "{file}");
        assert!(p.enabled);
    }
    let free_plan = template("free-plan-abuse.json").playbooks[0].notification;
    assert_eq!(free_plan.frequency, Frequency::Daily);
    // "sends a daily email digest and Slack notification"
    assert!(free_plan.email && free_plan.slack);
    assert!(template("attack-burst.json").playbooks[0]
        .trigger
        .event
        .matches("app.sqreen.attack.sqli"));
}

#[test]
fn csrf_template_blocks_an_ip_for_good_on_its_tenth_event() {
    let agent = Agent::builder()
        .rules(template("csrf-abuse.json"))
        .build()
        .unwrap();
    let ip = Actor::ip("192.0.2.99".parse().unwrap());
    for _ in 0..9 {
        assert_eq!(
            agent.track_for(&ip, "csrf_request", Value::Null),
            Verdict::Proceed
        );
    }
    assert_eq!(
        agent.track_for(&ip, "csrf_request", Value::Null),
        Verdict::Block
    );
    let action = &agent.actions()[0];
    assert_eq!(action.until, None, "permanent");
}

#[test]
fn a_rules_reload_keeps_the_counts_of_unchanged_playbooks() {
    let doc = |threshold: u32, period: &str, deny: &str| {
        RulesDocument::parse(&format!(
            r#"{{"ip_denylist": ["{deny}"], "playbooks": [{{"id": "p",
                "trigger": {{"event": "e", "threshold": {threshold}, "period": "{period}", "actor": "ip"}},
                "response": {{"action": "block", "duration": "1h"}}}}]}}"#
        ))
        .unwrap()
    };
    let agent = Agent::builder()
        .rules(doc(3, "1h", "203.0.113.1"))
        .build()
        .unwrap();
    let ip = Actor::ip("192.0.2.5".parse().unwrap());
    assert_eq!(agent.track_for(&ip, "e", Value::Null), Verdict::Proceed);
    assert_eq!(agent.track_for(&ip, "e", Value::Null), Verdict::Proceed);
    // another list changes, the playbook does not: its two events still count
    agent.set_rules(doc(3, "1h", "203.0.113.2"));
    assert_eq!(agent.track_for(&ip, "e", Value::Null), Verdict::Block);

    // a changed threshold keeps the counts (the same events by the same actors over the same
    // period): two events, then two more fire at the new threshold of 4
    let other = Actor::ip("192.0.2.6".parse().unwrap());
    agent.track_for(&other, "e", Value::Null);
    agent.track_for(&other, "e", Value::Null);
    agent.set_rules(doc(4, "1h", "203.0.113.2"));
    assert_eq!(agent.track_for(&other, "e", Value::Null), Verdict::Proceed);
    assert_eq!(agent.track_for(&other, "e", Value::Null), Verdict::Block);

    // a changed period starts from zero
    let third = Actor::ip("192.0.2.7".parse().unwrap());
    agent.track_for(&third, "e", Value::Null);
    agent.track_for(&third, "e", Value::Null);
    agent.set_rules(doc(4, "2h", "203.0.113.2"));
    for _ in 0..3 {
        assert_eq!(agent.track_for(&third, "e", Value::Null), Verdict::Proceed);
    }
    assert_eq!(agent.track_for(&third, "e", Value::Null), Verdict::Block);
}
