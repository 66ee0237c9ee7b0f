//! The typical request of the WAF's benchmark (`benches/waf.rs`, `waf/typical`), shared with
//! `examples/profile_waf.rs`: 10 query parameters, browser headers with cookies, a 2 KiB JSON
//! order. Also the load test's JSON body ([`echo_body`], `benches/load/post.lua`), shared by
//! `examples/load_target.rs` and `examples/profile_waf.rs`.
#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use bytes::Bytes;
use http::Request;
use http_body_util::Full;

/// A 2 KiB JSON document shaped like an order: nested objects, an array, a free-text comment.
pub fn json_body() -> String {
    let items: Vec<serde_json::Value> = (0..8)
        .map(|i| {
            serde_json::json!({
                "sku": format!("SKU-{i:05}"),
                "name": "Wireless noise-cancelling headphones, black",
                "quantity": i + 1,
                "price": 129.99,
                "gift": i % 2 == 0,
            })
        })
        .collect();
    let mut doc = serde_json::json!({
        "customer": { "name": "Jane O'Connor", "email": "jane.oconnor@example.com",
                      "phone": "+1 (555) 010-2030" },
        "shipping": { "street": "1200 Market Street, Apt. 4B", "city": "San Francisco",
                      "zip": "94103", "country": "US" },
        "items": items,
        "note": "Please leave the parcel at the front desk if nobody answers. Thanks!",
        "coupon": "WINTER-2026",
    });
    // a free-text comment fills the document up to 2 KiB: ordinary prose
    let room = 2048usize.saturating_sub(doc.to_string().len() + 14);
    let sentence =
        "The headphones arrived two days late, but the box was intact and the sound is great. ";
    let mut comment = String::new();
    while comment.len() + sentence.len() <= room {
        comment.push_str(sentence);
    }
    doc["comment"] = comment.into();
    doc.to_string()
}

/// The unit `waf/body_64k`'s value repeats: a trigger of every detector (the code-injection
/// detector's `(`, `{`, `$`, `<`, `.` included), no attack.
pub const NEAR_ATTACKS: &str = "' or <a on=../;|${ ";

/// `waf/body_64k`'s body: a JSON document whose one string is 64 KiB of [`NEAR_ATTACKS`].
pub fn worst_body() -> String {
    let big = NEAR_ATTACKS.repeat((64 << 10) / NEAR_ATTACKS.len());
    serde_json::json!({ "q": big }).to_string()
}

/// [`NEAR_ATTACKS`] ×13 and a spot where an XSS rule could fire in a tag but does not in text
/// (`> x onabc=1 `): 259 bytes. Repeated, a padding where the detectors' cheap passes flag a
/// spot every 259 bytes.
pub fn spotted_unit() -> String {
    format!("{}> x onabc=1 ", NEAR_ATTACKS.repeat(13))
}

/// `waf/body_64k_spots`'s body: [`worst_body`] with [`spotted_unit`] repeated instead.
pub fn spotted_body() -> String {
    let unit = spotted_unit();
    let big = unit.repeat((64 << 10) / unit.len());
    serde_json::json!({ "q": big }).to_string()
}

/// The worst paddings found per detector, none an attack, as units to repeat: [`NEAR_ATTACKS`]
/// ×13 and a trigger word SQLi must read around (`select`), a command after a separator (RCE's
/// word gate passes: `;cat x`), a leftover escape or a non-ASCII letter (LFI decodes and reads
/// again: `%41`, `é`), a call (code injection: `f(x)`); the next worst found once those were
/// bounded: a command word in every statement and a glob byte (RCE past its statement windows),
/// a closed `${x}` (code injection's `$` and template rules), a fullwidth slash and a
/// double-escaped dot (LFI); and short units dense with what XSS's cheap pass flags (a
/// handler-like name a tag would make fire, a tag name, the same names in a quoted attribute
/// value).
pub fn paddings() -> Vec<(&'static str, String)> {
    let near = NEAR_ATTACKS.repeat(13);
    vec![
        ("select", format!("{near}select ")),
        ("commands", format!("{near};cat x ")),
        ("escapes", format!("{near}%41 ")),
        ("accent", format!("{near}\u{e9} ")),
        ("calls", format!("{near}f(x) ")),
        // RCE past its statement windows: a command word in every statement, a glob byte
        ("command_run", ";cat x ".to_owned()),
        ("globs", format!("{near}x? ")),
        ("closers", format!("{near}${{x}} ")),
        ("slashes", format!("{near}\u{ff0f} ")),
        ("dot_escapes", format!("{near}%252e ")),
        ("handlers", "onabc=1 ".to_owned()),
        ("tags", "<abc ".to_owned()),
        ("quoted", format!("<a b=\"{}\">", "onabc=1 ".repeat(31))),
    ]
}

/// A JSON document whose one string is `unit` repeated to 64 KiB.
pub fn padded_body(unit: &str) -> String {
    let big = unit.repeat((64 << 10) / unit.len());
    serde_json::json!({ "q": big }).to_string()
}

/// A JSON array of short distinct strings, each `mark` and a counter (`"a_0"`, `"a_1"`, ...), to
/// 64 KiB: the shape that costs the scan the most outside the detectors (every string is read,
/// classed, looked up among the repeats and handed to every detector; none is plain, none a
/// repeat).
pub fn many_strings_body(mark: &str) -> String {
    let mut out = String::from("[");
    let mut i = 0u32;
    while out.len() < 64 << 10 {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&serde_json::to_string(&format!("{mark}{i}")).expect("a string"));
        i += 1;
    }
    out.push(']');
    out
}

pub fn typical(body: &Bytes) -> Request<Full<Bytes>> {
    let uri = "/api/orders?page=2&per_page=50&sort=created_at&order=desc&status=open\
               &q=wireless+headphones&category=audio&min_price=10&max_price=300&lang=en-US";
    let mut req = Request::post(uri)
        .header("host", "shop.example")
        .header(
            "user-agent",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
             Chrome/131.0.0.0 Safari/537.36",
        )
        .header(
            "accept",
            "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
        )
        .header("accept-language", "en-US,en;q=0.9,fr;q=0.8")
        .header("accept-encoding", "gzip, deflate, br, zstd")
        .header("content-type", "application/json")
        .header("referer", "https://shop.example/cart?step=2")
        .header(
            "cookie",
            "session=6f1c2b7e9a4d4e0b8c3f2a1d5e6b7c8d; theme=dark; consent=analytics%3Dno",
        )
        .header("x-forwarded-for", "192.0.2.44")
        .body(Full::new(body.clone()))
        .unwrap();
    req.extensions_mut()
        .insert(SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 443));
    req
}

/// The 2 KiB JSON body of `benches/load/post.lua`: 40 small records, every string plain.
pub fn echo_body() -> String {
    let items: Vec<String> = (1..=40)
        .map(|i| format!(r#"{{"id": {i}, "name": "item-{i:04}", "tags": ["a", "b", "c"]}}"#))
        .collect();
    format!(r#"{{"items": [{}]}}"#, items.join(", "))
}
