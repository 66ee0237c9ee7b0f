//! `sqreen-rules check [--json] FILE`: validates a rules document the way the agent does, for CI
//! and pre-commit hooks, without starting the app.
//!
//! Exit status: 0 when the document is valid (a one-screen summary is printed), 1 when it is
//! not or cannot be read (the error names the place, e.g. `playbooks[0].trigger.threshold`,
//! and the line), 2 for a usage error. `--json` prints one JSON object instead:
//! `{"ok": true, "file": ..., "summary": {...}}` or
//! `{"ok": false, "file": ..., "place": ..., "line": ..., "error": ...}`.
//! The document is read by `sqreen::rules::RulesDocument::load`, the agent's own parser, so
//! what passes here is what the agent accepts.
#![forbid(unsafe_code)]

use std::path::Path;
use std::process::ExitCode;

use serde_json::{json, Value};
use sqreen::playbook::{Playbook, ResponseAction};
use sqreen::rules::{RulesDocument, WafExclusion, WafRoute};

const USAGE: &str = "usage: sqreen-rules check [--json] FILE

Checks a sqreen rules document (the file SQREEN_RULES_PATH names) as the agent would load it.
Exit status: 0 valid, 1 invalid or unreadable, 2 usage error.
  --json   print one JSON object: {\"ok\": true, \"summary\": ...} or
           {\"ok\": false, \"place\": ..., \"line\": ..., \"error\": ...}";

/// Playbooks listed one per line; past this many the rest are counted (`--json` has them all).
const PLAYBOOKS_SHOWN: usize = 20;

/// What the command line asks for.
#[derive(Debug)]
struct Check {
    file: String,
    json: bool,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match parse_args(&args) {
        Ok(Some(check)) => run(&check),
        Ok(None) => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Err(problem) => {
            eprintln!("sqreen-rules: {problem}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

/// `Ok(None)` asks for the help text.
fn parse_args(args: &[String]) -> Result<Option<Check>, String> {
    let mut args = args.iter().map(String::as_str);
    match args.next() {
        Some("check") => {}
        Some("-h" | "--help" | "help") => return Ok(None),
        Some(other) => return Err(format!("unknown command {other:?}")),
        None => return Err("no command given".to_owned()),
    }
    let (mut file, mut json) = (None, false);
    for arg in args {
        match arg {
            "--json" => json = true,
            "-h" | "--help" => return Ok(None),
            flag if flag.starts_with('-') && flag.len() > 1 => {
                return Err(format!("unknown option {flag:?}"))
            }
            path if file.is_none() => file = Some(path.to_owned()),
            extra => return Err(format!("one file at a time (also got {extra:?})")),
        }
    }
    let file = file.ok_or("no file given")?;
    Ok(Some(Check { file, json }))
}

fn run(check: &Check) -> ExitCode {
    match RulesDocument::load(Path::new(&check.file)) {
        Ok(doc) => {
            if check.json {
                let out = json!({ "ok": true, "file": check.file, "summary": summary(&doc) });
                println!("{out}");
            } else {
                print!("{}", report(&check.file, &doc));
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            let (place, line) = (e.place().filter(|p| !p.is_empty()), e.line());
            if check.json {
                let out = json!({
                    "ok": false,
                    "file": check.file,
                    "place": place,
                    "line": line,
                    "error": e.to_string(),
                });
                println!("{out}");
            } else {
                eprintln!("error: {e}");
                match (line, place) {
                    (Some(line), Some(place)) => eprintln!("  --> {}:{line} ({place})", check.file),
                    (Some(line), None) => eprintln!("  --> {}:{line}", check.file),
                    (None, Some(place)) => eprintln!("  --> {} ({place})", check.file),
                    (None, None) => {}
                }
            }
            ExitCode::from(1)
        }
    }
}

/// The document as `--json` reports it.
fn summary(doc: &RulesDocument) -> Value {
    json!({
        "version": doc.version,
        "issued_at": doc.issued_at.map(sqreen::event::time::rfc3339),
        "ip_denylist": doc.ip_denylist.len(),
        "ip_passlist": doc.ip_passlist.len(),
        "user_denylist": doc.user_denylist.len(),
        "user_passlist": doc.user_passlist.len(),
        "redirect_passlist": doc.redirect_passlist.len(),
        "playbooks": doc.playbooks,
        "waf": {
            "mode": doc.waf.mode.map(|m| m.as_str()),
            "paranoia": doc.waf.paranoia.map(|p| p.level()),
            "disabled_rules": doc.waf.disabled_rules,
            "on_budget_exceeded": doc.waf.on_budget_exceeded,
            "exclusions": doc.waf.exclusions.iter().map(|e| json!({
                "path": e.path,
                "method": e.method,
                "inputs": e.inputs,
                "rules": e.rules,
                "categories": e.categories.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
                "excludes": exclusion_what(e),
            })).collect::<Vec<_>>(),
            "routes": doc.waf.routes.iter().map(|r| json!({
                "path": r.path,
                "method": r.method,
                "mode": r.mode.as_str(),
            })).collect::<Vec<_>>(),
        },
        "rasp": { "mode": doc.rasp.mode.map(|m| m.as_str()) },
        "ipv6_actor_prefix": doc.ipv6_actor_prefix,
    })
}

/// The document as a person reads it: one screen.
fn report(file: &str, doc: &RulesDocument) -> String {
    let stated = |v: Option<String>| v.unwrap_or_else(|| "not stated".to_owned());
    let mut out = format!("{file}: valid rules document\n");
    out += &format!("  version            {}\n", stated(doc.version.clone()));
    out += &format!(
        "  issued_at          {}\n",
        stated(doc.issued_at.map(sqreen::event::time::rfc3339))
    );
    out += &format!(
        "  lists              ip deny {}, ip pass {}, user deny {}, user pass {}, redirect pass {}\n",
        doc.ip_denylist.len(),
        doc.ip_passlist.len(),
        doc.user_denylist.len(),
        doc.user_passlist.len(),
        doc.redirect_passlist.len(),
    );
    out += &format!("  playbooks          {}\n", doc.playbooks.len());
    for playbook in doc.playbooks.iter().take(PLAYBOOKS_SHOWN) {
        out += &format!("    {}\n", playbook_line(playbook));
    }
    if doc.playbooks.len() > PLAYBOOKS_SHOWN {
        out += &format!(
            "    ... and {} more (--json lists them all)\n",
            doc.playbooks.len() - PLAYBOOKS_SHOWN
        );
    }
    let waf = &doc.waf;
    let disabled = if waf.disabled_rules.is_empty() {
        "none".to_owned()
    } else {
        waf.disabled_rules.join(", ")
    };
    out += &format!(
        "  waf                mode {}, paranoia {}, disabled rules: {disabled}\n",
        stated(waf.mode.map(|m| m.as_str().to_owned())),
        stated(waf.paranoia.map(|p| p.level().to_string())),
    );
    out += &format!("  waf exclusions     {}\n", waf.exclusions.len());
    for e in waf.exclusions.iter().take(PLAYBOOKS_SHOWN) {
        out += &format!("    {}\n", exclusion_line(e));
    }
    if waf.exclusions.len() > PLAYBOOKS_SHOWN {
        out += &format!(
            "    ... and {} more (--json lists them all)\n",
            waf.exclusions.len() - PLAYBOOKS_SHOWN
        );
    }
    out += &format!("  waf routes         {}\n", waf.routes.len());
    for r in waf.routes.iter().take(PLAYBOOKS_SHOWN) {
        out += &format!("    {}\n", route_line(r));
    }
    if waf.routes.len() > PLAYBOOKS_SHOWN {
        out += &format!(
            "    ... and {} more (--json lists them all)\n",
            waf.routes.len() - PLAYBOOKS_SHOWN
        );
    }
    out += &format!(
        "  rasp               mode {}\n",
        stated(doc.rasp.mode.map(|m| m.as_str().to_owned()))
    );
    out += &format!(
        "  ipv6_actor_prefix  {}\n",
        stated(doc.ipv6_actor_prefix.map(|p| format!("/{p}")))
    );
    out
}

/// What an exclusion turns off: `rules xss-*; categories sqli`, or `every rule`.
fn exclusion_what(e: &WafExclusion) -> String {
    if e.excludes_everything() {
        return "every rule".to_owned();
    }
    let mut parts = Vec::new();
    if !e.rules.is_empty() {
        parts.push(format!("rules {}", e.rules.join(", ")));
    }
    if !e.categories.is_empty() {
        let names: Vec<&str> = e.categories.iter().map(|c| c.as_str()).collect();
        parts.push(format!("categories {}", names.join(", ")));
    }
    parts.join("; ")
}

/// `POST /forum/* inputs body.content, body.*.text: rules xss-*`.
fn exclusion_line(e: &WafExclusion) -> String {
    let mut scope = Vec::new();
    if let Some(method) = &e.method {
        scope.push(method.clone());
    }
    scope.push(e.path.clone().unwrap_or_else(|| "any path".to_owned()));
    if !e.inputs.is_empty() {
        scope.push(format!("inputs {}", e.inputs.join(", ")));
    }
    format!("{}: {}", scope.join(" "), exclusion_what(e))
}

/// `GET /api/* -> off`.
fn route_line(r: &WafRoute) -> String {
    match &r.method {
        Some(method) => format!("{method} {} -> {}", r.path, r.mode),
        None => format!("{} -> {}", r.path, r.mode),
    }
}

/// `invite-flood: 10 x user.invited in 5m by user -> block 24h`.
fn playbook_line(p: &Playbook) -> String {
    let t = &p.trigger;
    let response = match &p.response {
        ResponseAction::None => "none".to_owned(),
        ResponseAction::Block { lifetime } => format!("block {lifetime}"),
        ResponseAction::Redirect { url, lifetime } => format!("redirect to {url} {lifetime}"),
    };
    format!(
        "{}: {} x {} in {} by {} -> {response}{}",
        p.id,
        t.threshold,
        t.event,
        sqreen::duration::format_duration(t.period),
        t.actor,
        if p.enabled { "" } else { " (disabled)" },
    )
}
