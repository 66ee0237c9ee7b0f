//! What the fuzz targets share: agents built once per process, a request decoded from fuzz
//! input, and one request driven through `agent.layer()` around a trivial service on a
//! current-thread tokio runtime.
//!
//! Every request checks, besides "no panic":
//! - the agent counted no internal failure (the layer catches its own panics and counts them:
//!   each one is a bug);
//! - when the handler is reached, it receives the body byte for byte as it was sent (the layer
//!   reads form, JSON, XML and multipart bodies up to `max_body_bytes` and hands them on).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Request, Response, StatusCode, Uri};
use http_body::{Body, Frame};
use http_body_util::{BodyExt, Full};
use sqreen::rules::{Paranoia, WafMode};
use sqreen::{Agent, AgentBuilder, SqreenRequestBody, UserKeys, UserMonitoring};
use tower::{Layer, ServiceExt};

/// The trusted proxies of every agent here.
pub const TRUSTED: [&str; 2] = ["10.0.0.0/8", "2001:db8:1::/48"];

/// The rules of the agents here: deny and pass lists (no playbooks: their state would make a
/// request's outcome depend on the ones before it).
pub const RULES: &str = r#"{
  "version": "fuzz",
  "ip_denylist": ["203.0.113.0/24", "2001:db8:bad::/48"],
  "ip_passlist": ["192.0.2.77"],
  "user_denylist": ["mallory@example.com", "mallory"],
  "redirect_passlist": ["/blocked"]
}"#;

/// A builder with the settings every agent here shares: paranoia 2, automatic user monitoring
/// (Basic credentials, bearer JWTs), a login route, trusted proxies, a WAF budget large enough
/// for whole inputs to be inspected under instrumentation.
pub fn builder(mode: WafMode) -> AgentBuilder {
    Agent::builder()
        .waf_mode(mode)
        .waf_paranoia(Paranoia::Level2)
        .user_monitoring(UserMonitoring::Automatic)
        .login_tracking("/login", "username")
        .trusted_proxies(TRUSTED)
        .rules_json(RULES)
        .configure(|c| c.waf_budget = Duration::from_secs(2))
}

/// The runtime requests are driven on.
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a current-thread runtime")
    })
}

/// A request body sent in the given chunks (one frame each).
#[derive(Debug, Default)]
pub struct Chunks(VecDeque<Bytes>);

impl Chunks {
    /// `body` cut into frames of `size` bytes (one frame when `size` is 0).
    pub fn new(body: &Bytes, size: usize) -> Self {
        if size == 0 || body.is_empty() {
            return Chunks(
                std::iter::once(body.clone())
                    .filter(|b| !b.is_empty())
                    .collect(),
            );
        }
        Chunks(
            (0..body.len())
                .step_by(size)
                .map(|i| body.slice(i..(i + size).min(body.len())))
                .collect(),
        )
    }
}

impl Body for Chunks {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.get_mut().0.pop_front().map(|b| Ok(Frame::data(b))))
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_empty()
    }
}

/// What the trivial service behind the layer does.
#[derive(Clone, Debug)]
pub struct Handler {
    /// The status it answers with.
    pub status: StatusCode,
    /// A user it names with `sqreen::identify`, if any.
    pub identify: Option<String>,
}

impl Default for Handler {
    fn default() -> Self {
        Handler {
            status: StatusCode::OK,
            identify: None,
        }
    }
}

/// Sends `req` with `body` (cut into frames of `chunk` bytes, 0: one frame) from `peer` through
/// `agent`'s layer to a service that reads the whole body and answers as `handler` says. Panics
/// (a fuzz finding) when the agent counted an internal failure or the service got another body.
pub fn send(
    agent: &Agent,
    req: http::request::Builder,
    body: Bytes,
    chunk: usize,
    peer: Option<SocketAddr>,
    handler: Handler,
) {
    let Ok(mut req) = req.body(Chunks::new(&body, chunk)) else {
        return;
    };
    if let Some(peer) = peer {
        req.extensions_mut().insert(peer);
    }
    let expected = body.clone();
    let service = tower::service_fn(move |req: Request<SqreenRequestBody<Chunks>>| {
        let expected = expected.clone();
        let handler = handler.clone();
        async move {
            let got = req.into_body().collect().await?.to_bytes();
            assert_eq!(got, expected, "the service got another body than was sent");
            if let Some(user) = handler.identify {
                let _ = sqreen::identify(UserKeys::new().with("id", user));
            }
            let mut res = Response::new(Full::new(Bytes::from_static(b"ok")));
            *res.status_mut() = handler.status;
            Ok::<_, Infallible>(res)
        }
    });
    runtime().block_on(async {
        let res = agent.layer().layer(service).oneshot(req).await.unwrap();
        let _ = res.into_body().collect().await;
    });
    assert_eq!(
        agent.stats().internal_failures,
        0,
        "the agent caught a panic or failure of its own"
    );
}

/// `raw` as a URI: as it is if `http` takes it, else with the bytes it refuses
/// percent-encoded, else `/`.
pub fn uri(raw: &[u8]) -> Uri {
    if let Ok(uri) = Uri::try_from(raw) {
        return uri;
    }
    let mut safe = String::with_capacity(raw.len());
    for &b in raw {
        match b {
            b'!' | b'$'..=b';' | b'=' | b'?'..=b'_' | b'a'..=b'z' | b'{'..=b'~' => {
                safe.push(b as char)
            }
            _ => safe.push_str(&format!("%{b:02X}")),
        }
    }
    safe.parse().unwrap_or_else(|_| Uri::from_static("/"))
}

/// A whole request in the text form the `layer` target reads (and `seed.sh` writes):
///
/// ```text
/// <control byte>METHOD TARGET\n
/// Name: value\n        (any number; a line without `:`, or a bad name or value, is skipped)
/// \n
/// body                 (the rest, as it is)
/// ```
///
/// A `\r` before a `\n` is dropped. The control byte says who sends it and what the handler does
/// (see [`Control`]).
#[derive(Debug)]
pub struct RawRequest {
    /// The method (`GET` when it is not a valid one).
    pub method: Method,
    /// The request target.
    pub uri: Uri,
    /// The headers, in order.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// The body.
    pub body: Bytes,
}

impl RawRequest {
    /// Decodes the text after the control byte.
    pub fn decode(data: &[u8]) -> RawRequest {
        let mut lines = Lines { rest: data };
        let first = lines.next().unwrap_or_default();
        let (method, target) = match first.iter().position(|&b| b == b' ') {
            Some(i) => (&first[..i], &first[i + 1..]),
            None => (&b"GET"[..], first),
        };
        let method = Method::from_bytes(method).unwrap_or(Method::GET);
        let uri = uri(if target.is_empty() { b"/" } else { target });
        let mut headers = Vec::new();
        while let Some(line) = lines.next() {
            if line.is_empty() {
                break;
            }
            let Some(colon) = line.iter().position(|&b| b == b':') else {
                continue;
            };
            let value = &line[colon + 1..];
            let start = value
                .iter()
                .position(|&b| b != b' ' && b != b'\t')
                .unwrap_or(value.len());
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(&line[..colon]),
                HeaderValue::from_bytes(&value[start..]),
            ) {
                headers.push((name, value));
            }
        }
        RawRequest {
            method,
            uri,
            headers,
            body: Bytes::copy_from_slice(lines.rest),
        }
    }

    /// A request builder with this method, target and headers.
    pub fn builder(&self) -> http::request::Builder {
        let mut b = Request::builder()
            .method(self.method.clone())
            .uri(self.uri.clone());
        for (name, value) in &self.headers {
            b = b.header(name, value);
        }
        b
    }
}

struct Lines<'a> {
    rest: &'a [u8],
}

impl<'a> Lines<'a> {
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.rest.is_empty() {
            return None;
        }
        let (line, rest) = match self.rest.iter().position(|&b| b == b'\n') {
            Some(i) => (&self.rest[..i], &self.rest[i + 1..]),
            None => (self.rest, &b""[..]),
        };
        self.rest = rest;
        Some(line.strip_suffix(b"\r").unwrap_or(line))
    }
}

/// The `layer` target's control byte:
/// - bits 0-1, the peer: none, `10.0.0.1` (a trusted proxy), `198.51.100.9` (a client),
///   `[2001:db8:1::5]` (a trusted proxy);
/// - bits 2-3, the handler's status: 200, 404, 401, 500;
/// - bit 4: the handler names the user given in the `x-fuzz-user` header with `identify`;
/// - bits 5-7, the body's frames: one, or 1, 2, 7, 64, 512, 1000 or 4096 bytes each.
#[derive(Clone, Copy, Debug)]
pub struct Control(pub u8);

impl Control {
    /// The peer address.
    pub fn peer(self) -> Option<SocketAddr> {
        match self.0 & 3 {
            0 => None,
            1 => Some(([10, 0, 0, 1], 443).into()),
            2 => Some(([198, 51, 100, 9], 50_000).into()),
            _ => Some(SocketAddr::new(
                "2001:db8:1::5".parse().expect("an address"),
                443,
            )),
        }
    }

    /// The handler's status.
    pub fn status(self) -> StatusCode {
        [
            StatusCode::OK,
            StatusCode::NOT_FOUND,
            StatusCode::UNAUTHORIZED,
            StatusCode::INTERNAL_SERVER_ERROR,
        ][usize::from((self.0 >> 2) & 3)]
    }

    /// Whether the handler calls `identify`.
    pub fn identify(self) -> bool {
        self.0 & 0x10 != 0
    }

    /// The size of the body's frames (0: one frame).
    pub fn chunk(self) -> usize {
        [0, 1, 2, 7, 64, 512, 1000, 4096][usize::from(self.0 >> 5)]
    }
}

/// Sends a body of `content_type` (POST `/submit`, from a trusted proxy on behalf of a client)
/// through `agent`.
pub fn send_body(agent: &Agent, content_type: &str, body: &[u8]) {
    let req = Request::builder()
        .method(Method::POST)
        .uri("/submit")
        .header("host", "app.example")
        .header("x-forwarded-for", "198.51.100.20")
        .header("content-type", content_type);
    send(
        agent,
        req,
        Bytes::copy_from_slice(body),
        0,
        Some(([10, 0, 0, 1], 443).into()),
        Handler::default(),
    );
}

/// The agent of the body targets: monitor mode, so that a finding does not end the scan and
/// the parser reads the whole body.
pub fn body_agent() -> &'static Agent {
    static AGENT: OnceLock<Agent> = OnceLock::new();
    AGENT.get_or_init(|| builder(WafMode::Monitor).build().expect("the fuzz agent"))
}
