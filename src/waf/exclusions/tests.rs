use std::sync::Arc;

use http::{HeaderMap, Method, Uri};

use super::*;
use crate::rules::RulesDocument;

fn scopes(waf: &str) -> Arc<WafScopes> {
    let doc = RulesDocument::parse(&format!(r#"{{"waf": {waf}}}"#)).unwrap();
    Arc::new(WafScopes::compile(&doc.waf.exclusions, &doc.waf.routes))
}

fn resolve(
    s: &Arc<WafScopes>,
    global: WafMode,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
) -> RequestScope {
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        map.append(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    let uri: Uri = uri.parse().unwrap();
    s.resolve(
        global,
        &Method::from_bytes(method.as_bytes()).unwrap(),
        &uri,
        &map,
    )
}

fn applies(s: &Arc<WafScopes>, method: &str, uri: &str) -> Vec<u32> {
    resolve(s, WafMode::Block, method, uri, &[])
        .applied
        .map_or_else(Vec::new, |a| a.indices.to_vec())
}

#[test]
fn canonical_paths_are_decoded_once_and_the_rest_refused() {
    assert_eq!(canonical("/forum/1").as_deref(), Some("/forum/1"));
    assert_eq!(canonical("/forum/").as_deref(), Some("/forum/"));
    assert_eq!(canonical("/f%6frum/a%20b").as_deref(), Some("/forum/a b"));
    assert_eq!(canonical("/caf%C3%A9").as_deref(), Some("/café"));
    for bad in [
        "/forum/../admin",
        "/forum/./x",
        "/forum/%2e%2e/admin",
        "/forum%2f..%2fadmin",
        "/forum%2Fx",
        "/forum//x",
        "//forum/x",
        "/forum\\..\\admin",
        "/forum%5c..",
        "/forum/%252e%252e/admin",
        "/forum;x=1/a",
        "/forum/%00",
        "/forum/%zz",
        "/forum/%ff",
        "forum",
        "*",
    ] {
        assert_eq!(canonical(bad), None, "{bad}");
    }
    assert_eq!(canonical(&format!("/{}", "a".repeat(MAX_PATH))), None);
}

#[test]
fn loose_paths_resolve_what_lenient_servers_resolve() {
    for (raw, loose) in [
        ("/Admin/", "/admin"),
        ("/forum/../admin/x", "/admin/x"),
        ("/forum%2f..%2fadmin", "/admin"),
        ("/forum/%252e%252e/ADMIN", "/admin"),
        ("//admin//x/", "/admin/x"),
        ("/admin;jsessionid=1/x", "/admin/x"),
        ("/forum\\..\\admin", "/admin"),
        ("/../../admin", "/admin"),
        ("/", "/"),
    ] {
        assert_eq!(loose_path(raw).as_deref(), Some(loose), "{raw}");
    }
    assert_eq!(loose_path(&format!("/{}", "a".repeat(MAX_PATH + 1))), None);
}

#[test]
fn no_exclusions_no_routes_resolve_to_the_global_mode_and_nothing_applied() {
    let s = Arc::new(WafScopes::default());
    assert!(s.is_empty());
    let r = resolve(&s, WafMode::Monitor, "POST", "/forum/1", &[]);
    assert_eq!((r.mode, r.applied.is_none()), (WafMode::Monitor, true));
}

#[test]
fn exclusions_apply_by_path_and_method_in_document_order() {
    let s = scopes(
        r#"{"exclusions": [
            {"path": "/forum/*", "method": "POST", "categories": ["xss"]},
            {"path": "/forum/**", "inputs": ["body.content"]},
            {"method": "PUT", "rules": ["sqli-comment"]},
            {"path": "/*/preview", "categories": ["rce"]}
        ]}"#,
    );
    assert_eq!(applies(&s, "POST", "/forum/1"), vec![0, 1]);
    assert_eq!(applies(&s, "GET", "/forum/1"), vec![1]);
    assert_eq!(applies(&s, "PUT", "/forum/1/reply"), vec![1, 2]);
    assert_eq!(applies(&s, "GET", "/blog/preview"), vec![3]);
    assert_eq!(applies(&s, "GET", "/forum/preview"), vec![1, 3]);
    assert!(applies(&s, "POST", "/admin/1").is_empty());
    // case, encoded slashes, dot segments, double slashes: none
    for uri in [
        "/Forum/1",
        "/FORUM/1",
        "/forum/../admin",
        "/forum%2f..%2fadmin",
        "/forum//1",
        "/x/../forum/1",
        "/forum/1;x",
    ] {
        assert!(applies(&s, "POST", uri).is_empty(), "{uri}");
    }
    // a lowercase method is another method
    assert_eq!(applies(&s, "post", "/forum/1"), vec![1]);
    // the skip mask: categories excluded for every input
    let r = resolve(&s, WafMode::Block, "POST", "/forum/1", &[]);
    assert_eq!(r.applied.unwrap().skip, AttackCategory::Xss.bit());
}

#[test]
fn method_overrides_void_method_scoped_exclusions_and_routes() {
    let s = scopes(
        r#"{"exclusions": [{"path": "/forum/*", "method": "POST", "categories": ["xss"]},
                            {"path": "/forum/*", "categories": ["sqli"]}],
            "routes": [{"path": "/forum/*", "method": "POST", "mode": "off"}]}"#,
    );
    for header in [
        "X-HTTP-Method-Override",
        "x-http-method",
        "X-Method-Override",
    ] {
        let r = resolve(
            &s,
            WafMode::Block,
            "POST",
            "/forum/1",
            &[(header, "DELETE")],
        );
        assert_eq!(r.mode, WafMode::Block, "{header}");
        assert_eq!(r.applied.unwrap().indices.to_vec(), vec![1], "{header}");
    }
    let r = resolve(&s, WafMode::Block, "POST", "/forum/1?_method=PUT", &[]);
    assert_eq!(
        (r.mode, r.applied.unwrap().indices.to_vec()),
        (WafMode::Block, vec![1])
    );
    // an override naming the same method changes nothing
    let r = resolve(
        &s,
        WafMode::Block,
        "POST",
        "/forum/1",
        &[("x-http-method-override", "post")],
    );
    assert_eq!(
        (r.mode, r.applied.unwrap().indices.to_vec()),
        (WafMode::Off, vec![0, 1])
    );
}

#[test]
fn the_first_route_that_matches_wins() {
    let s = scopes(
        r#"{"routes": [
            {"path": "/admin/public/**", "mode": "monitor"},
            {"path": "/admin/**", "mode": "block"},
            {"path": "/health", "mode": "off"},
            {"path": "/api/**", "method": "GET", "mode": "off"}
        ]}"#,
    );
    let mode = |global, method, uri| resolve(&s, global, method, uri, &[]).mode;
    use WafMode::*;
    assert_eq!(mode(Monitor, "GET", "/admin/public/logo.png"), Monitor);
    assert_eq!(mode(Monitor, "GET", "/admin/users"), Block);
    assert_eq!(mode(Monitor, "GET", "/admin"), Block);
    assert_eq!(mode(Block, "GET", "/health"), Off);
    assert_eq!(mode(Block, "GET", "/api/items"), Off);
    assert_eq!(mode(Block, "POST", "/api/items"), Block);
    assert_eq!(mode(Monitor, "GET", "/other"), Monitor);
    // a weaker route needs the canonical path
    for uri in [
        "/health/",
        "/Health",
        "/x/../health",
        "/health;a",
        "//health",
    ] {
        assert_eq!(mode(Block, "GET", uri), Block, "{uri}");
    }
    // a stricter route cannot be escaped by spelling the path another way
    for uri in [
        "/ADMIN/users",
        "/Admin/",
        "/public/../admin/users",
        "/admin%2fusers",
        "//admin//users",
        "/admin;x=1/users",
        "/admin\\users",
        "/%2561dmin/users",
    ] {
        assert_eq!(mode(Monitor, "GET", uri), Block, "{uri}");
    }
    // ... but its own exceptions still read loosely first
    assert_eq!(mode(Monitor, "GET", "/ADMIN/public/x"), Monitor);
    // a stricter method-scoped route counts override methods too
    let s = scopes(r#"{"routes": [{"path": "/api/**", "method": "DELETE", "mode": "block"}]}"#);
    let r = resolve(
        &s,
        WafMode::Off,
        "POST",
        "/api/x",
        &[("x-http-method-override", "DELETE")],
    );
    assert_eq!(r.mode, Block);
    assert_eq!(resolve(&s, WafMode::Off, "POST", "/api/x", &[]).mode, Off);
    // too long to read: the strictest route mode
    let long = format!("/{}", "a/".repeat(3000));
    assert_eq!(resolve(&s, WafMode::Off, "GET", &long, &[]).mode, Block);
}

#[test]
fn applied_exclusions_cover_their_inputs_rules_and_categories() {
    let s = scopes(
        r#"{"exclusions": [
            {"path": "/forum/*", "inputs": ["body.content", "body.*.text"], "rules": ["xss-script-tag"]},
            {"path": "/forum/*", "inputs": ["query.q"], "categories": ["sqli"]},
            {"path": "/forum/*", "inputs": ["header.x-preview"]},
            {"path": "/forum/*", "rules": ["rce-*"]}
        ]}"#,
    );
    let r = resolve(&s, WafMode::Block, "POST", "/forum/1", &[]);
    let a = r.applied.unwrap();
    // `rce-*` is the whole category, for every input: the detector does not run
    assert_eq!(a.skip, AttackCategory::Rce.bit());
    let mut scratch = String::new();
    let mut ex = |c, rule, name: &str| a.excludes(c, rule, &name, &mut scratch);
    use AttackCategory::*;
    assert!(ex(Xss, "xss-script-tag", "body.content"));
    assert!(ex(Xss, "xss-script-tag", "body.post.text"));
    assert!(!ex(Xss, "xss-event-handler", "body.content"));
    assert!(!ex(Xss, "xss-script-tag", "body.title"));
    assert!(!ex(Xss, "xss-script-tag", "body.a.b.text"));
    assert!(ex(Sqli, "sqli-union", "query.q"));
    assert!(!ex(Sqli, "sqli-union", "query.qq"));
    assert!(!ex(Xss, "xss-script-tag", "query.q"));
    assert!(ex(Lfi, "lfi-traversal", "header.x-preview"));
    assert!(ex(Sqli, "sqli-union", "header.x-preview"));
    assert!(!ex(Lfi, "lfi-traversal", "header.x-other"));
}

#[test]
fn the_first_segment_table_finds_its_segments_and_skips_most_others() {
    let mut table = Table::default();
    let named: Vec<String> = (0..100).map(|i| format!("route{i}")).collect();
    for (i, name) in named.iter().enumerate() {
        table.add(i, Some(&PathGlob::parse(&format!("/{name}/*")).unwrap()));
    }
    for name in &named {
        assert!(table.may_match(name), "{name}");
    }
    // a segment with an escape may decode to one of them
    assert!(table.may_match("r%6fute1"));
    let others: Vec<String> = (0..1000).map(|i| format!("other{i}")).collect();
    let passed = others.iter().filter(|o| table.may_match(o)).count();
    assert!(
        passed < 200,
        "{passed} of 1000 unnamed segments not told apart"
    );
    assert!(!Table::default().may_match("api"));
    let mut anywhere = Table::default();
    anywhere.add(0, Some(&PathGlob::parse("/*/x").unwrap()));
    assert!(anywhere.may_match("api"));
}
