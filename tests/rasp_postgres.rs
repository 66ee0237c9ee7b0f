//! The tokio-postgres adapter against a real PostgreSQL (started by the test on a free port),
//! over real HTTP: a route that concatenates a parameter into its query through
//! `query_checked` is refused on every classic exploit and serves the benign value; the same
//! route with a bound parameter serves every string as data; with RASP off the exploit works.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use common::postgres::Postgres;
use common::{client, serve_router};
use serde::Deserialize;
use sqreen::rasp::postgres::{CheckedClient, Error};
use sqreen::rules::WafMode;
use sqreen::Agent;
use tokio_postgres::{Client, NoTls};

#[derive(Deserialize)]
struct Q {
    category: String,
}

async fn connect(pg: &Postgres) -> Client {
    let start = Instant::now();
    loop {
        match tokio_postgres::connect(&pg.config(), NoTls).await {
            Ok((client, connection)) => {
                tokio::spawn(connection);
                return client;
            }
            Err(e) if start.elapsed() < Duration::from_secs(20) => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("postgres never accepted a connection: {e}"),
        }
    }
}

fn answer(rows: Result<Vec<tokio_postgres::Row>, Error>) -> Response {
    match rows {
        Ok(rows) => {
            let names: Vec<String> = rows.iter().map(|r| r.get::<_, String>(0)).collect();
            names.join(",").into_response()
        }
        Err(e @ Error::Blocked(_)) => (StatusCode::FORBIDDEN, e.to_string()).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

fn app(db: Arc<Client>) -> Router {
    Router::new()
        .route(
            "/products",
            get(
                |State(db): State<Arc<Client>>, Query(q): Query<Q>| async move {
                    // VULNERABLE on purpose: concatenation
                    let sql = format!(
                        "SELECT name FROM products WHERE category = '{}' ORDER BY name",
                        q.category
                    );
                    answer(db.query_checked(&sql, &[]).await)
                },
            ),
        )
        .route(
            "/products-safe",
            get(
                |State(db): State<Arc<Client>>, Query(q): Query<Q>| async move {
                    let sql = "SELECT name FROM products WHERE category = $1 ORDER BY name";
                    answer(db.query_checked(sql, &[&q.category]).await)
                },
            ),
        )
        .with_state(db)
}

async fn call(base: &str, path: &str, category: &str) -> (u16, String) {
    let r = client()
        .get(format!("{base}{path}"))
        .query(&[("category", category)])
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

const PROBES: &[&str] = &[
    "books' OR '1'='1",
    "books' OR 1=1--",
    "nothing' UNION SELECT secret FROM vault--",
    "books'; DROP TABLE products; --",
    "books' AND pg_sleep(2) IS NULL--",
    "books' AND 1=CAST((SELECT secret FROM vault) AS int)--",
    "books'/*",
    "books' OR TRUE--",
    "O'Brien",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concatenated_queries_are_refused_and_bound_ones_serve_every_string_as_data() {
    let Some(pg) = Postgres::start() else {
        return;
    };
    let db = Arc::new(connect(&pg).await);
    db.batch_execute(
        "CREATE TABLE products (name TEXT, category TEXT);
         INSERT INTO products VALUES ('Dune', 'books'), ('Emma', 'books'), ('Kettle', 'kitchen');
         CREATE TABLE vault (secret TEXT); INSERT INTO vault VALUES ('launch-code-0000');",
    )
    .await
    .unwrap();

    let agent = Agent::builder().build().unwrap();
    let base = serve_router(app(db.clone()).layer(agent.layer().axum())).await;
    assert_eq!(
        call(&base, "/products", "books").await,
        (200, "Dune,Emma".into())
    );
    for probe in PROBES {
        let (status, body) = call(&base, "/products", probe).await;
        assert_eq!(status, 403, "{probe}: {body}");
        assert!(!body.contains("launch-code"));
        assert_eq!(
            call(&base, "/products-safe", probe).await,
            (200, String::new()),
            "{probe}"
        );
    }
    assert_eq!(agent.stats().rasp.sqli, PROBES.len() as u64);
    // the table is still there: nothing went through
    let rows = db
        .query("SELECT count(*) FROM products", &[])
        .await
        .unwrap();
    assert_eq!(rows[0].get::<_, i64>(0), 3);

    // RASP off: the same route leaks the vault
    let off = Agent::builder()
        .configure(|c| c.rasp_mode = WafMode::Off)
        .build()
        .unwrap();
    let base = serve_router(app(db.clone()).layer(off.layer().axum())).await;
    let (status, body) = call(
        &base,
        "/products",
        "nothing' UNION SELECT secret FROM vault--",
    )
    .await;
    assert_eq!((status, body.as_str()), (200, "launch-code-0000"));
}

#[tokio::test]
async fn outside_a_request_checked_calls_run_as_they_are() {
    let Some(pg) = Postgres::start() else {
        return;
    };
    let db = connect(&pg).await;
    // a start-up migration built from a string: no request, nothing to check against
    db.batch_execute_checked("CREATE TABLE t (x TEXT); INSERT INTO t VALUES ('a''b')")
        .await
        .unwrap();
    let row = db.query_one_checked("SELECT x FROM t", &[]).await.unwrap();
    assert_eq!(row.get::<_, String>(0), "a'b");
    assert_eq!(db.execute_checked("DELETE FROM t", &[]).await.unwrap(), 1);
    // the driver's own errors come through as such
    let err = db.simple_query_checked("SELEKT 1").await.unwrap_err();
    assert!(matches!(err, Error::Postgres(_)), "{err}");
}
