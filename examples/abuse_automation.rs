//! Abuse automation without a cron: playbooks report to a webhook receiver, the receiver scores
//! the reported IP, and abusive IPs go back into the agent's deny list.
//!
//! ```text
//! cargo run --example abuse_automation
//! ```
//!
//! One process runs two servers on 127.0.0.1:
//! - the **app** (`SQREEN_DEMO_ADDR`, default 127.0.0.1:8081) with the sqreen layer and a
//!   playbook: 3 `csrf_request` events in 10 minutes from one IP → block it for 5 minutes and
//!   call the webhook;
//! - the **receiver** (`SQREEN_DEMO_RECEIVER_ADDR`, default 127.0.0.1:8082) for the agent's webhook: it checks the
//!   `X-Sqreen-Integrity` signature, scores each reported IP with an [`AbuseScorer`] (here a
//!   local deny-list file stands in for an abuse-score service such as AbuseIPDB) and, when the
//!   score is high, pushes the IP into the agent's deny list for good.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use serde_json::Value;
use sqreen::ip::{parse_net, IpSet};
use sqreen::notify::webhook::{verify, SIGNATURE_HEADER};
use sqreen::playbook::{ActorKind, Notification, Playbook, ResponseAction};
use sqreen::Agent;

const SECRET: &str = "change-me-abuse-automation";

/// Scores an IP from 0 (fine) to 100 (abusive). Swap in a call to a real reputation service.
trait AbuseScorer: Send + Sync {
    fn score(&self, ip: IpAddr) -> u8;
}

/// A deny-list file (one address or CIDR per line, `#` comments) as the abuse-score service.
struct DenyListFileScorer {
    nets: IpSet,
}

impl DenyListFileScorer {
    fn load(path: &PathBuf) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let mut nets = IpSet::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if !line.is_empty() {
                let net =
                    parse_net(line).map_err(|e| format!("{}:{}: {e}", path.display(), n + 1))?;
                nets.insert(net, ());
            }
        }
        Ok(DenyListFileScorer { nets })
    }
}

impl AbuseScorer for DenyListFileScorer {
    fn score(&self, ip: IpAddr) -> u8 {
        if self.nets.contains(ip) {
            100
        } else {
            0
        }
    }
}

#[derive(Clone)]
struct Automation {
    agent: Agent,
    scorer: Arc<dyn AbuseScorer>,
}

/// The webhook receiver: verify, score, push.
async fn receive(State(auto): State<Automation>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let signature = headers
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !verify(&body, SECRET.as_bytes(), signature) {
        eprintln!("receiver: bad signature, message ignored");
        return StatusCode::UNAUTHORIZED;
    }
    let Ok(Value::Array(messages)) = serde_json::from_slice::<Value>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    for message in messages {
        // security_response: "actor": "ip 192.0.2.7"; security_event: "client_ip": "192.0.2.7"
        let reported = message["message"]["actor"]
            .as_str()
            .and_then(|a| a.strip_prefix("ip "))
            .or_else(|| message["message"]["client_ip"].as_str())
            .and_then(|ip| ip.parse::<IpAddr>().ok());
        let Some(ip) = reported else { continue };
        let score = auto.scorer.score(ip);
        if score >= 50 {
            auto.agent.block_ip(ip, None).expect("no duration to check");
            println!("receiver: {ip} scored {score}: pushed to the deny list for good");
        } else {
            println!("receiver: {ip} scored {score}: the playbook's timed block is enough");
        }
    }
    StatusCode::OK
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("abuse_automation: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let app_addr: SocketAddr = std::env::var("SQREEN_DEMO_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:8081".to_owned())
        .parse()?;
    let deny_file = std::env::temp_dir().join("sqreen-abuse-deny-list.txt");
    if !deny_file.exists() {
        std::fs::write(&deny_file, "# known abusive networks\n192.0.2.0/25\n")?;
    }
    let scorer = Arc::new(DenyListFileScorer::load(&deny_file)?);
    let receiver_addr =
        std::env::var("SQREEN_DEMO_RECEIVER_ADDR").unwrap_or_else(|_| "127.0.0.1:8082".to_owned());
    let receiver_listener = tokio::net::TcpListener::bind(&receiver_addr).await?;
    let receiver_addr = receiver_listener.local_addr()?;
    let agent = Agent::builder()
        .configure(|c| {
            c.webhook_url = Some(format!("http://{receiver_addr}/sqreen"));
            c.webhook_secret = Some(SECRET.to_owned());
        })
        .playbook(
            Playbook::on("csrf_request")
                .id("csrf-abuse")
                .threshold(3)
                .within(Duration::from_secs(600))
                .by(ActorKind::Ip)
                .respond(ResponseAction::block_for(Duration::from_secs(300)))
                .notify(Notification {
                    webhook: true,
                    ..Notification::default()
                }),
        )
        .build()?;

    let receiver = Router::new()
        .route("/sqreen", post(receive))
        .with_state(Automation {
            agent: agent.clone(),
            scorer,
        });
    tokio::spawn(async move {
        let _ = axum::serve(receiver_listener, receiver).await;
    });

    let app = Router::new()
        .route("/", get(|| async { "hello\n" }))
        .route(
            "/form",
            post(|| async {
                // pretend the CSRF token check failed
                sqreen::track("csrf_request", Value::Null);
                (StatusCode::FORBIDDEN, "bad CSRF token\n")
            }),
        )
        .layer(agent.layer().axum());
    let listener = tokio::net::TcpListener::bind(app_addr).await?;
    let addr = listener.local_addr()?;
    println!(
        "deny-list file (the abuse-score stand-in): {}\n\
         try it:\n  \
         for i in 1 2 3; do curl -s -X POST -H 'X-Forwarded-For: 192.0.2.9' http://{addr}/form; done\n  \
         # 192.0.2.9 is in the file: the receiver blocks it for good (see its line below)\n  \
         for i in 1 2 3; do curl -s -X POST -H 'X-Forwarded-For: 192.0.2.200' http://{addr}/form; done\n  \
         # 192.0.2.200 is not: only the playbook's 5-minute block applies",
        deny_file.display()
    );
    println!("listening on http://{addr}");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    agent.shutdown_async(Duration::from_secs(5)).await;
    Ok(())
}
