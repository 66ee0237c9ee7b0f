//! Probe paths of exploit campaigns and scanner user agents: cases written for these tests,
//! generated from each listed entry in several spellings and placements (and, for user
//! agents, several header shapes), each class found at 99% or more; near-miss paths and
//! agents stay clean.

use super::{detect_probe_path, detect_user_agent};
use crate::waf::lists::{CAMPAIGN_PROBE_PATHS, SCANNER_USER_AGENTS};

/// Ways a probe path is requested.
fn path_spellings(entry: &str) -> Vec<String> {
    let tail = if entry.ends_with('/') {
        "index.php"
    } else {
        ""
    };
    let base = format!("{entry}{tail}");
    let mixed: String = base
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if i % 3 == 0 {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect();
    vec![
        base.clone(),
        base.to_ascii_uppercase(),
        mixed,
        format!("/app{base}"),
        format!("/old/site{base}"),
        format!("/{base}"),
        base.replace('/', "\\"),
        format!("{base}/"),
        format!("/./{}", &base[1..]),
    ]
}

#[test]
fn campaign_probe_paths_by_target() {
    let mut failures = Vec::new();
    for group in CAMPAIGN_PROBE_PATHS {
        let cases: Vec<String> = group
            .entries
            .iter()
            .flat_map(|e| path_spellings(e))
            .collect();
        let missed: Vec<&String> = cases
            .iter()
            .filter(|p| detect_probe_path(p).is_none())
            .collect();
        let pct = 100.0 * (cases.len() - missed.len()) as f64 / cases.len() as f64;
        println!(
            "{}: {}/{} = {pct:.2}%",
            group.why,
            cases.len() - missed.len(),
            cases.len()
        );
        if pct < 99.0 {
            failures.push(format!(
                "{}: {pct:.2}% {:?}",
                group.why,
                &missed[..missed.len().min(8)]
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn paths_near_the_campaign_entries_stay_clean() {
    for p in [
        "/shells/list",
        "/shell-config",
        "/api/shell_history",
        "/logs",
        "/blog/logs-and-metrics",
        "/storage/images/cat.png",
        "/mapi",
        "/vpn",
        "/admin/roots.php",
        "/admin/root",
        "/consoles/login",
        "/wp-content/themes/twentytwenty/style.css",
        "/connectors",
        "/docs/powershell-tips",
        "/products/x.php-guide",
        "/upload",
    ] {
        assert!(
            detect_probe_path(p).is_none(),
            "{p} -> {:?}",
            detect_probe_path(p)
        );
    }
}

/// The User-Agent shapes a tool's name or an interaction host is sent in.
fn ua_shapes(token: &str) -> Vec<String> {
    // an interaction host is a random label under the listed domain
    let t = if token.starts_with('.') {
        format!("c9m2x7kq1p{token}")
    } else {
        token.to_owned()
    };
    vec![
        t.clone(),
        format!("{t}/2.4.1"),
        format!("Mozilla/5.0 (compatible; {t}; +https://example.org/bot)"),
        format!("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36 {t}"),
        t.to_ascii_uppercase(),
        format!("${{jndi:ldap://{t}/a}}"),
        format!("() {{ :; }}; /bin/ping -c1 {t}"),
        format!("curl/8.0 ({t})"),
    ]
}

#[test]
fn scanner_user_agents_by_group() {
    let mut failures = Vec::new();
    for group in SCANNER_USER_AGENTS {
        let cases: Vec<String> = group.entries.iter().flat_map(|e| ua_shapes(e)).collect();
        let missed: Vec<&String> = cases
            .iter()
            .filter(|u| detect_user_agent(u).is_none())
            .collect();
        let pct = 100.0 * (cases.len() - missed.len()) as f64 / cases.len() as f64;
        if pct < 99.0 {
            failures.push(format!(
                "{}: {pct:.2}% {:?}",
                group.why,
                &missed[..missed.len().min(8)]
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn agents_near_the_listed_tokens_stay_clean() {
    for ua in [
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36",
        "ToastMediaPlayer/3.1 (toast.media)",
        "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
        "okhttp/4.12.0",
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "Mozilla/5.0 (compatible; Qualcomm Snapdragon test rig)",
        "Datadog Agent/7.50.0",
        "kube-probe/1.29",
        "ELB-HealthChecker/2.0",
        "Mozilla/5.0 (compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
    ] {
        assert!(detect_user_agent(ua).is_none(), "{ua} -> {:?}", detect_user_agent(ua));
    }
}
