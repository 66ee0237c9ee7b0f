//! A real webhook receiver on 127.0.0.1 for the tests: records every request (headers and raw
//! body) and answers from a script of behaviours (a status, or hanging), then 200.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;

/// What the receiver does with one request.
#[derive(Clone, Copy, Debug)]
pub enum Behaviour {
    Status(u16),
    /// Never answers (until the test ends).
    Hang,
}

/// One received request.
#[derive(Clone, Debug)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
    pub status: u16,
}

impl Received {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

#[derive(Clone, Default)]
pub struct Receiver {
    pub received: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<VecDeque<Behaviour>>>,
    default: Arc<Mutex<Option<Behaviour>>>,
}

impl Receiver {
    /// Starts a receiver; returns it and its URL.
    pub async fn start(script: Vec<Behaviour>) -> (Receiver, String) {
        let receiver = Receiver {
            script: Arc::new(Mutex::new(script.into())),
            ..Receiver::default()
        };
        let app = Router::new()
            .route("/hook", post(handle))
            .with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        (receiver, format!("http://{addr}/hook"))
    }

    /// What to do once the script is used up (default: answer 200).
    pub fn set_default(&self, behaviour: Behaviour) {
        *self.default.lock().unwrap() = Some(behaviour);
    }

    /// The requests answered 2xx.
    pub fn accepted(&self) -> Vec<Received> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .filter(|r| (200..300).contains(&r.status))
            .cloned()
            .collect()
    }

    /// Every message of the accepted requests.
    pub fn accepted_messages(&self) -> Vec<serde_json::Value> {
        self.accepted()
            .iter()
            .flat_map(|r| r.json().as_array().cloned().unwrap_or_default())
            .collect()
    }
}

async fn handle(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let behaviour = r
        .script
        .lock()
        .unwrap()
        .pop_front()
        .or(*r.default.lock().unwrap())
        .unwrap_or(Behaviour::Status(200));
    let status = match behaviour {
        Behaviour::Status(s) => s,
        Behaviour::Hang => {
            r.received.lock().unwrap().push(Received {
                headers,
                body,
                status: 0,
            });
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return StatusCode::OK;
        }
    };
    r.received.lock().unwrap().push(Received {
        headers,
        body,
        status,
    });
    StatusCode::from_u16(status).unwrap()
}
