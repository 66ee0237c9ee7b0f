//! The module graph stays as `docs/architecture.md` draws it: the parts below the agent (events,
//! notifications, detectors, counters, playbooks, lists, configuration) do not import the agent,
//! the layer or the admin API; and the agent does not import the admin API, which depends on it
//! (only the builder, which wires every part together, names it). Read from the sources, code
//! lines only (comments and doc comments may name anything).

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if dir.is_file() {
        out.push(dir.to_owned());
        return out;
    }
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// Code lines of `file` that name one of `forbidden` (`crate::agent` matches `crate::agent::X`
/// and `crate::agent::{...}`, not `crate::agents`).
fn offending(file: &Path, forbidden: &[&str]) -> Vec<String> {
    let text = std::fs::read_to_string(file).unwrap();
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim_start().starts_with("//"))
        .filter(|(_, line)| {
            forbidden.iter().any(|f| {
                line.match_indices(f).any(|(at, _)| {
                    !line[at + f.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_')
                })
            })
        })
        .map(|(n, line)| format!("{}:{}: {}", file.display(), n + 1, line.trim()))
        .collect()
}

fn src(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(path)
}

#[test]
fn the_parts_below_the_agent_do_not_import_it() {
    let below = [
        "event",
        "notify",
        "waf",
        "counter",
        "playbook",
        "action",
        "ip",
        "body.rs",
        "clock.rs",
        "config.rs",
        "duration.rs",
        "error.rs",
        "failure.rs",
        "fasthash.rs",
        "trace.rs",
        "context/keys.rs",
        "user/mode.rs",
        "cluster/url.rs",
        "intel",
    ];
    let forbidden = [
        "crate::agent",
        "crate::Agent",
        "crate::AgentBuilder",
        "crate::admin",
        "crate::layer",
        "crate::sdk",
    ];
    let mut found = Vec::new();
    for part in below {
        for file in rust_files(&src(part)) {
            found.extend(offending(&file, &forbidden));
        }
    }
    assert!(
        found.is_empty(),
        "imports against the module graph:\n{found:#?}"
    );
}

#[test]
fn the_agent_does_not_import_the_admin_api() {
    let mut found = Vec::new();
    for file in rust_files(&src("agent")) {
        // the builder wires every part together, the admin API included
        if file.ends_with("builder.rs") {
            continue;
        }
        found.extend(offending(&file, &["crate::admin"]));
    }
    assert!(
        found.is_empty(),
        "the agent imports the admin API:\n{found:#?}"
    );
}

#[test]
fn the_check_sees_an_import() {
    let dir = std::env::temp_dir().join(format!("sqreen-arch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("x.rs");
    std::fs::write(
        &file,
        "//! crate::agent in a comment\nuse crate::agents_list;\nuse crate::agent::AgentInner;\n",
    )
    .unwrap();
    let found = offending(&file, &["crate::agent"]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].ends_with("use crate::agent::AgentInner;"));
}
