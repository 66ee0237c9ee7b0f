use sqreen::waf::{detect, AttackCategory::*};
#[test]
fn probe() {
    let items: Vec<serde_json::Value> = (0..8).map(|i| serde_json::json!({"sku": format!("SKU-{i:05}"),"name": "Wireless noise-cancelling headphones, black","quantity": i + 1,"price": 129.99,"gift": i % 2 == 0})).collect();
    let mut doc = serde_json::json!({"customer": { "name": "Jane O'Connor", "email": "jane.oconnor@example.com","phone": "+1 (555) 010-2030" },"shipping": { "street": "1200 Market Street, Apt. 4B", "city": "San Francisco","zip": "94103", "country": "US" },"items": items,"note": "Please leave the parcel at the front desk if nobody answers. Thanks!","coupon": "WINTER-2026"});
    let text = doc.to_string();
    let prose =
        "The headphones arrived two days late, but the box was intact and the sound is great. ";
    let mut c = String::new();
    while c.len() + prose.len() < 2048 - text.len() - 14 {
        c.push_str(prose);
    }
    doc["comment"] = c.into();
    let pad: String = doc["comment"].as_str().unwrap().to_owned();
    let mut vals: Vec<String> = vec!["/api/orders","per_page","created_at","wireless headphones","min_price","max_price",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "application/json","https://shop.example/cart?step=2","6f1c2b7e9a4d4e0b8c3f2a1d5e6b7c8d","analytics=no","192.0.2.44","Jane O'Connor","jane.oconnor@example.com","+1 (555) 010-2030","1200 Market Street, Apt. 4B","San Francisco","Please leave the parcel at the front desk if nobody answers. Thanks!"].into_iter().map(String::from).collect();
    for _ in 0..8 {
        vals.push("Wireless noise-cancelling headphones, black".into());
    }
    vals.push(pad);
    let n = 2000;
    let mut total = std::time::Duration::ZERO;
    for c in [Sqli, Xss, Rce, Lfi, Ssrf] {
        let t = std::time::Instant::now();
        for _ in 0..n {
            for v in &vals {
                std::hint::black_box(detect(c, std::hint::black_box(v)));
            }
        }
        let e = t.elapsed() / n;
        total += e;
        let t2 = std::time::Instant::now();
        for _ in 0..n {
            std::hint::black_box(detect(c, std::hint::black_box(vals.last().unwrap())));
        }
        println!(
            "{c}: {:?} (of which the 1.2 KB pad: {:?})",
            e,
            t2.elapsed() / n
        );
    }
    println!("total {:?}", total);
}
