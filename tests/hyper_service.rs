//! The layer on a plain hyper 1 service through tower (no axum): the peer address comes from a
//! `SocketAddr` request extension.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use sqreen::{Agent, RequestContext, SqreenRequestBody};
use tower::ServiceBuilder;

/// A plain hyper handler behind the layer: its body is the layer's `SqreenRequestBody`, which
/// gives back exactly what the client sent.
async fn handler(
    req: Request<SqreenRequestBody<hyper::body::Incoming>>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let ip = req
        .extensions()
        .get::<RequestContext>()
        .and_then(|c| c.client_ip())
        .map_or("unknown".to_owned(), |ip| ip.to_string());
    Ok(Response::new(Full::new(Bytes::from(ip))))
}

async fn serve(agent: Agent) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (stream, peer) = listener.accept().await.unwrap();
            let service = ServiceBuilder::new()
                .map_request(move |mut req: Request<hyper::body::Incoming>| {
                    req.extensions_mut().insert::<SocketAddr>(peer);
                    req
                })
                .layer(agent.layer())
                .service(tower::service_fn(handler));
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
                    .await;
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn layer_works_on_a_plain_hyper_service() {
    let agent = Agent::builder()
        .rules_json(r#"{"ip_denylist": ["203.0.113.0/24"]}"#)
        .build()
        .unwrap();
    let base = serve(agent).await;
    let client = reqwest::Client::new();
    let res = client.get(&base).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "127.0.0.1");
    let res = client
        .get(&base)
        .header("x-forwarded-for", "203.0.113.5")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = client
        .get(&base)
        .header("x-forwarded-for", "192.0.2.9")
        .send()
        .await
        .unwrap();
    assert_eq!(res.text().await.unwrap(), "192.0.2.9");
}
