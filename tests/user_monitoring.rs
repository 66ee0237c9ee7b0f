//! Automatic user monitoring over real HTTP: the user from HTTP Basic credentials, a bearer JWT
//! and an auth middleware's `AuthenticatedUser` extension; automatic login tracking feeding a
//! login-failure playbook; anonymized user ids; `off`. An axum app on 127.0.0.1, the real
//! layer, a real client.

mod common;

use std::sync::{Arc, Mutex};

use axum::extract::{Form, Request};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::{client, serve_router};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sqreen::action::Actor;
use sqreen::event::Event;
use sqreen::notify::PlaybookNotification;
use sqreen::{
    identify, track, AgentBuilder, AuthenticatedUser, Config, RequestContext, UserIdMode, UserKeys,
    UserMonitoring,
};

type Events = Arc<Mutex<Vec<Event>>>;

/// An agent builder from these `SQREEN_*` variables, recording events in the returned list.
fn agent_with(vars: &[(&str, &str)]) -> (AgentBuilder, Events) {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let config = Config::from_lookup(|name| {
        Ok(vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    })
    .unwrap();
    let events: Events = Arc::default();
    let sink = events.clone();
    let builder = AgentBuilder::from_config(config)
        .event_sink(move |e: &Event| sink.lock().unwrap().push(e.clone()));
    (builder, events)
}

#[derive(serde::Deserialize)]
struct Login {
    username: String,
    password: String,
}

/// `/me` answers the request context's user id (or `anonymous`) and records `page.viewed`;
/// `/login` checks a password and calls no SDK; `/invite` identifies the `x-user` header's user
/// and tracks `user.invited`.
fn app() -> Router {
    Router::new()
        .route("/", get(|| async { "hello" }))
        .route("/blocked", get(|| async { "blocked page" }))
        .route(
            "/me",
            get(|ctx: RequestContext| async move {
                track("page.viewed", Value::Null);
                ctx.user().map_or("anonymous".to_owned(), |u| u.id())
            }),
        )
        .route(
            "/login",
            post(|Form(form): Form<Login>| async move {
                if form.password == "secret" {
                    (StatusCode::OK, format!("welcome {}", form.username))
                } else {
                    (StatusCode::UNAUTHORIZED, "wrong password".to_owned())
                }
            }),
        )
        .route(
            "/api/login",
            post(|axum::Json(body): axum::Json<Value>| async move {
                match body["password"].as_str() {
                    Some("secret") => StatusCode::SEE_OTHER,
                    Some(_) => StatusCode::FORBIDDEN,
                    None => StatusCode::BAD_REQUEST,
                }
            }),
        )
        .route(
            "/invite",
            post(|headers: axum::http::HeaderMap| async move {
                let user = headers["x-user"].to_str().unwrap().to_owned();
                if identify(UserKeys::new().with("email", &user)).is_blocked() {
                    return "identify said blocked".to_owned();
                }
                format!("{:?}", track("user.invited", Value::Null))
            }),
        )
}

/// A test authentication middleware: the `x-session` header names the user.
async fn authenticate(mut req: Request, next: Next) -> Response {
    if let Some(email) = req.headers().get("x-session").and_then(|v| v.to_str().ok()) {
        let user = UserKeys::new().with("email", email);
        req.extensions_mut().insert(AuthenticatedUser(user));
    }
    next.run(req).await
}

async fn me(base: &str, auth: Option<&str>, extra: &[(&str, &str)]) -> String {
    let mut req = client()
        .get(format!("{base}/me"))
        .header("x-forwarded-for", "192.0.2.1");
    if let Some(auth) = auth {
        req = req.header("authorization", auth);
    }
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), 200);
    res.text().await.unwrap()
}

fn basic(user: &str, password: &str) -> String {
    use base64::engine::general_purpose::STANDARD;
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}

fn jwt(claims: Value) -> String {
    format!(
        "Bearer {}.{}.bm90LWNoZWNrZWQ",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

/// The users of the recorded events named `name`, as JSON.
fn users_of(events: &Events, name: &str) -> Vec<Value> {
    events
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.name == name)
        .map(|e| json!(e.user))
        .collect()
}

fn all_events_text(events: &Events) -> String {
    events
        .lock()
        .unwrap()
        .iter()
        .map(|e| serde_json::to_string(e).unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn automatic_monitoring_takes_the_basic_username_and_never_the_password() {
    let (builder, events) = agent_with(&[("SQREEN_USER_MONITORING", "automatic")]);
    let agent = builder.build().unwrap();
    let base = serve_router(app().layer(agent.layer())).await;

    let auth = basic("alice@example.com", "pa55word-zz");
    assert_eq!(me(&base, Some(&auth), &[]).await, "alice@example.com");
    assert_eq!(me(&base, None, &[]).await, "anonymous");
    assert_eq!(
        users_of(&events, "page.viewed"),
        vec![json!({"username": "alice@example.com"}), Value::Null]
    );
    assert!(!all_events_text(&events).contains("pa55word"));
}

#[tokio::test]
async fn automatic_monitoring_takes_a_jwt_claim_unverified() {
    let (builder, events) = agent_with(&[("SQREEN_USER_MONITORING", "automatic")]);
    let agent = builder.build().unwrap();
    let base = serve_router(app().layer(agent.layer())).await;
    let token = jwt(json!({"sub": "user-42", "email": "carol@example.com", "exp": 1}));
    assert_eq!(me(&base, Some(&token), &[]).await, "user-42");
    assert_eq!(
        users_of(&events, "page.viewed"),
        vec![json!({"sub": "user-42"})]
    );
    let text = all_events_text(&events);
    assert!(!text.contains("bm90LWNoZWNrZWQ") && !text.contains("carol"));

    // another claim, through SQREEN_JWT_USER_CLAIM
    let (builder, events) = agent_with(&[
        ("SQREEN_USER_MONITORING", "automatic"),
        ("SQREEN_JWT_USER_CLAIM", "email"),
    ]);
    let agent = builder.build().unwrap();
    let base = serve_router(app().layer(agent.layer())).await;
    assert_eq!(me(&base, Some(&token), &[]).await, "carol@example.com");
    assert_eq!(
        users_of(&events, "page.viewed"),
        vec![json!({"email": "carol@example.com"})]
    );
    // a token without the claim names nobody
    let no_email = jwt(json!({"sub": "user-42"}));
    assert_eq!(me(&base, Some(&no_email), &[]).await, "anonymous");
}

#[tokio::test]
async fn automatic_monitoring_takes_the_auth_middlewares_extension_first() {
    let (builder, events) = agent_with(&[("SQREEN_USER_MONITORING", "automatic")]);
    let agent = builder
        .rules_json(r#"{"user_denylist": ["mallory@example.com"]}"#)
        .build()
        .unwrap();
    let router = app()
        .layer(agent.layer())
        .layer(middleware::from_fn(authenticate));
    let base = serve_router(router).await;

    let session = [("x-session", "dave@example.com")];
    assert_eq!(me(&base, None, &session).await, "dave@example.com");
    // the extension comes before Basic credentials
    let auth = basic("alice", "x");
    assert_eq!(me(&base, Some(&auth), &session).await, "dave@example.com");
    assert_eq!(
        users_of(&events, "page.viewed"),
        vec![json!({"email": "dave@example.com"}); 2]
    );
    // the user so named is checked before the handler, like identify's
    let res = client()
        .get(format!("{base}/me"))
        .header("x-forwarded-for", "192.0.2.1")
        .header("x-session", "mallory@example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(agent.stats().blocked_user, 1);
}

#[tokio::test]
async fn the_builders_resolver_comes_first_and_advanced_mode_reads_no_credentials() {
    let (builder, _) = agent_with(&[]);
    let agent = builder
        .user_resolver(|head| {
            let v = head.headers.get("x-api-user")?.to_str().ok()?;
            Some(UserKeys::new().with("api_user", v))
        })
        .build()
        .unwrap();
    assert_eq!(agent.config().user_monitoring, UserMonitoring::Advanced);
    let base = serve_router(app().layer(agent.layer())).await;
    let auth = basic("alice", "x");
    // advanced (the default): credentials are not read, the resolver is
    assert_eq!(me(&base, Some(&auth), &[]).await, "anonymous");
    assert_eq!(
        me(&base, Some(&auth), &[("x-api-user", "robot-7")]).await,
        "robot-7"
    );

    let (builder, _) = agent_with(&[]);
    let agent = builder
        .user_monitoring(UserMonitoring::Automatic)
        .user_resolver(|head| {
            let v = head.headers.get("x-api-user")?.to_str().ok()?;
            Some(UserKeys::new().with("api_user", v))
        })
        .build()
        .unwrap();
    let base = serve_router(app().layer(agent.layer())).await;
    assert_eq!(
        me(&base, Some(&auth), &[("x-api-user", "robot-7")]).await,
        "robot-7"
    );
    assert_eq!(me(&base, Some(&auth), &[]).await, "alice");
}

#[tokio::test]
async fn malformed_credentials_give_no_user_and_no_failure() {
    let (builder, events) = agent_with(&[("SQREEN_USER_MONITORING", "automatic")]);
    let agent = builder.build().unwrap();
    let base = serve_router(app().layer(agent.layer())).await;
    let long_user = basic(&"u".repeat(5000), "p");
    let huge_claim = jwt(json!({"sub": "x".repeat(20_000)}));
    let nested = format!("Bearer x.{}.y", URL_SAFE_NO_PAD.encode("[".repeat(10_000)));
    let cases = [
        "Basic",
        "Basic ",
        "Basic %%%%",
        "Basic bm8tY29sb24=", // "no-colon"
        "Basic OnBhc3N3b3Jk", // ":password"
        "Basic //79Og==",     // invalid UTF-8 username
        "Bearer",
        "Bearer not.a",
        "Bearer a.b.c.d.e",
        "Bearer x.bm90IGpzb24.y",          // "not json"
        "Bearer x.WzEsMl0.y",              // [1,2]
        "Bearer x.eyJzdWIiOnsiYSI6MX19.y", // {"sub":{"a":1}}
        "Bearer x.eyJzdWIiOiIifQ.y",       // {"sub":""}
        "Negotiate abc",
        "garbage",
        &long_user,
        &huge_claim,
        &nested,
    ];
    for auth in cases {
        assert_eq!(me(&base, Some(auth), &[]).await, "anonymous", "{auth:.60}");
    }
    // a header that is not even text
    let res = client()
        .get(format!("{base}/me"))
        .header(
            "authorization",
            reqwest::header::HeaderValue::from_bytes(b"Basic \xff\xfe\xfd").unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.text().await.unwrap(), "anonymous");
    assert_eq!(agent.stats().internal_failures, 0);
    assert!(users_of(&events, "page.viewed").iter().all(Value::is_null));
}

const LOGIN_PLAYBOOK: &str = r#"{
  "redirect_passlist": ["/blocked"],
  "playbooks": [
    { "id": "login-brute-force",
      "trigger": { "event": "app.sqreen.auth.login_failure", "threshold": 3, "period": "10m", "actor": "ip" },
      "response": { "action": "redirect", "url": "/blocked", "duration": "1h" } }
  ]
}"#;

async fn login(base: &str, ip: &str, user: &str, password: &str) -> reqwest::Response {
    client()
        .post(format!("{base}/login"))
        .header("x-forwarded-for", ip)
        .form(&[("username", user), ("password", password)])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn automatic_login_tracking_feeds_a_login_failure_playbook() {
    let (builder, events) = agent_with(&[("SQREEN_LOGIN_PATH", "/login")]);
    let agent = builder.rules_json(LOGIN_PLAYBOOK).build().unwrap();
    let base = serve_router(app().layer(agent.layer())).await;

    // successes are recorded as such, and never count as failures
    for _ in 0..5 {
        let res = login(&base, "192.0.2.50", "alice", "secret").await;
        assert_eq!(res.status(), 200);
    }
    assert_eq!(agent.stats().playbooks_fired, 0);

    let ip = "192.0.2.51";
    assert_eq!(login(&base, ip, "bob", "guess1").await.status(), 401);
    assert_eq!(login(&base, ip, "bob", "guess2").await.status(), 401);
    let third = login(&base, ip, "bob", "guess3").await;
    assert_eq!(
        third.status(),
        303,
        "redirected on the very response that fired"
    );
    assert_eq!(third.headers()["location"], "/blocked");
    // later requests from the IP are redirected before the handler; the target is served
    let res = client()
        .get(&base)
        .header("x-forwarded-for", ip)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let res = client()
        .get(format!("{base}/blocked"))
        .header("x-forwarded-for", ip)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(agent.stats().playbooks_fired, 1);

    assert_eq!(
        users_of(&events, "app.sqreen.auth.login_success"),
        vec![json!({"username": "alice"}); 5]
    );
    assert_eq!(
        users_of(&events, "app.sqreen.auth.login_failure"),
        vec![json!({"username": "bob"}); 3]
    );
    // the password field is redacted in the events' parameters
    let text = all_events_text(&events);
    assert!(
        !text.contains("guess1") && !text.contains("\"secret\""),
        "{text}"
    );
    // a GET on the path, or another path, is not a login
    let _ = client().get(format!("{base}/login")).send().await.unwrap();
    assert_eq!(users_of(&events, "app.sqreen.auth.login_failure").len(), 3);
}

#[tokio::test]
async fn login_tracking_reads_json_bodies_and_ignores_other_statuses() {
    let (builder, events) = agent_with(&[
        ("SQREEN_LOGIN_PATH", "/api/login"),
        ("SQREEN_LOGIN_USER_FIELD", "email"),
    ]);
    let agent = builder.build().unwrap();
    let base = serve_router(app().layer(agent.layer())).await;
    let post = |body: Value| {
        client()
            .post(format!("{base}/api/login"))
            .header("x-forwarded-for", "192.0.2.60")
            .json(&body)
            .send()
    };
    assert_eq!(
        post(json!({"email": "erin@example.com", "password": "secret"}))
            .await
            .unwrap()
            .status(),
        303
    );
    assert_eq!(
        post(json!({"email": "erin@example.com", "password": "nope"}))
            .await
            .unwrap()
            .status(),
        403
    );
    // 400: neither success nor failure
    assert_eq!(
        post(json!({"email": "erin@example.com"}))
            .await
            .unwrap()
            .status(),
        400
    );
    // a failure without the field still counts for the IP, without a user
    assert_eq!(
        post(json!({"password": "nope"})).await.unwrap().status(),
        403
    );
    assert_eq!(
        users_of(&events, "app.sqreen.auth.login_success"),
        vec![json!({"email": "erin@example.com"})]
    );
    assert_eq!(
        users_of(&events, "app.sqreen.auth.login_failure"),
        vec![json!({"email": "erin@example.com"}), Value::Null]
    );
}

#[tokio::test]
async fn a_handler_that_calls_auth_track_is_not_counted_twice() {
    let (builder, events) = agent_with(&[]);
    let agent = builder
        .login_tracking("/login", "username")
        .build()
        .unwrap();
    let router = Router::new().route(
        "/login",
        post(|Form(form): Form<Login>| async move {
            sqreen::auth_track(false, UserKeys::new().with("login", &form.username));
            StatusCode::UNAUTHORIZED
        }),
    );
    let base = serve_router(router.layer(agent.layer())).await;
    assert_eq!(login(&base, "192.0.2.70", "bob", "x").await.status(), 401);
    assert_eq!(
        users_of(&events, "app.sqreen.auth.login_failure"),
        vec![json!({"login": "bob"})],
        "only the handler's own auth_track"
    );
}

fn sha256_hex(salt: &str, id: &str) -> String {
    hex::encode(Sha256::digest(format!("{salt}{id}").as_bytes()))
}

#[tokio::test]
async fn anonymized_ids_are_salted_hashes_in_events_playbooks_and_actions() {
    let salt = "test-salt-0123456789";
    let (builder, events) = agent_with(&[
        ("SQREEN_USER_MONITORING", "automatic"),
        ("SQREEN_USER_ID_MODE", "anonymized"),
        ("SQREEN_USER_ID_SALT", salt),
        ("SQREEN_LOGIN_PATH", "/login"),
    ]);
    let notes = Arc::new(Mutex::new(Vec::<PlaybookNotification>::new()));
    let sink = notes.clone();
    let agent = builder
        .rules_json(
            r#"{"playbooks": [
              { "id": "invite-flood",
                "trigger": { "event": "user.invited", "threshold": 2, "period": "5m", "actor": "user" },
                "response": { "action": "block", "duration": "1h" } },
              { "id": "user-login-failures",
                "trigger": { "event": "app.sqreen.auth.login_failure", "threshold": 2, "period": "5m", "actor": "user" },
                "response": { "action": "none" } }
            ]}"#,
        )
        .notifier(move |n: &PlaybookNotification| sink.lock().unwrap().push(n.clone()))
        .build()
        .unwrap();
    let base = serve_router(app().layer(agent.layer())).await;
    let alice = sha256_hex(salt, "alice@example.com");
    let bob = sha256_hex(salt, "bob");
    assert_eq!(agent.user_id("alice@example.com"), alice);

    // identify: the request context and the events hold the hash
    let invite = || async {
        client()
            .post(format!("{base}/invite"))
            .header("x-forwarded-for", "192.0.2.80")
            .header("x-user", "alice@example.com")
            .send()
            .await
            .unwrap()
    };
    assert_eq!(invite().await.status(), 200);
    assert_eq!(
        invite().await.status(),
        403,
        "the playbook fired for the hashed user"
    );
    assert_eq!(
        invite().await.status(),
        403,
        "and its action matches the hash"
    );
    // Basic credentials and login tracking: the same
    assert_eq!(me(&base, Some(&basic("bob", "pw-zz")), &[]).await, bob);
    assert_eq!(
        login(&base, "192.0.2.81", "bob", "bad1").await.status(),
        401
    );
    assert_eq!(
        login(&base, "192.0.2.82", "bob", "bad2").await.status(),
        401
    );

    let hashed = |id: &str| json!({"id": id});
    assert_eq!(users_of(&events, "user.invited"), vec![hashed(&alice); 2]);
    assert_eq!(users_of(&events, "page.viewed"), vec![hashed(&bob)]);
    assert_eq!(
        users_of(&events, "app.sqreen.auth.login_failure"),
        vec![hashed(&bob); 2]
    );
    let triggered = users_of(&events, "app.sqreen.playbook.triggered");
    assert_eq!(triggered, vec![hashed(&alice), hashed(&bob)]);
    // the notifier runs on its own thread
    let wait = std::time::Duration::from_secs(5);
    assert!(common::eventually(wait, || notes.lock().unwrap().len() >= 2).await);
    let actors: Vec<String> = notes
        .lock()
        .unwrap()
        .iter()
        .map(|n| n.actor.clone())
        .collect();
    assert_eq!(actors, vec![format!("user {alice}"), format!("user {bob}")]);
    let actions = agent.actions();
    assert_eq!(actions.len(), 1);
    assert_eq!(actions[0].actor, Actor::User(alice.clone()));
    // the raw ids appear nowhere, not even in the login form's parameters
    let text = all_events_text(&events);
    for raw in ["alice@example.com", "\"bob\"", "=bob", "pw-zz"] {
        assert!(!text.contains(raw), "{raw} in {text}");
    }
    // an operator names a user by raw id or by the hash events show
    assert!(agent.unblock_user("alice@example.com"));
    assert_eq!(invite().await.status(), 200);
    agent.block_user(&alice, None).unwrap();
    assert_eq!(invite().await.status(), 403);
}

#[tokio::test]
async fn anonymized_user_lists_are_hashed_on_load() {
    let salt = "list-salt-0123456789";
    let (builder, _) = agent_with(&[]);
    let pre_hashed = sha256_hex(salt, "carol@example.com");
    let agent = builder
        .user_id_mode(UserIdMode::Anonymized)
        .user_id_salt(salt)
        .rules_json(&format!(
            r#"{{"user_denylist": ["mallory@example.com", "{pre_hashed}"]}}"#
        ))
        .build()
        .unwrap();
    let base = serve_router(app().layer(agent.layer())).await;
    let invite = |user: &'static str| {
        client()
            .post(format!("{base}/invite"))
            .header("x-forwarded-for", "192.0.2.90")
            .header("x-user", user)
            .send()
    };
    assert_eq!(invite("mallory@example.com").await.unwrap().status(), 403);
    assert_eq!(invite("carol@example.com").await.unwrap().status(), 403);
    assert_eq!(invite("alice@example.com").await.unwrap().status(), 200);
    // a reload (set_rules) is hashed the same way
    agent.set_rules(
        sqreen::rules::RulesDocument::parse(r#"{"user_denylist": ["alice@example.com"]}"#).unwrap(),
    );
    assert_eq!(invite("alice@example.com").await.unwrap().status(), 403);
    assert_eq!(invite("mallory@example.com").await.unwrap().status(), 200);
}

#[tokio::test]
async fn off_mode_handles_no_user_at_all() {
    let (builder, events) = agent_with(&[
        ("SQREEN_USER_MONITORING", "off"),
        ("SQREEN_LOGIN_PATH", "/login"),
    ]);
    let agent = builder
        .rules_json(r#"{"user_denylist": ["mallory@example.com"]}"#)
        .user_resolver(|_| Some(UserKeys::new().with("id", "from-resolver")))
        .build()
        .unwrap();
    let base = serve_router(app().layer(agent.layer())).await;
    assert_eq!(
        me(&base, Some(&basic("alice", "x")), &[]).await,
        "anonymous"
    );
    // identify is ignored: a deny-listed user is not blocked, events carry no user
    let res = client()
        .post(format!("{base}/invite"))
        .header("x-forwarded-for", "192.0.2.95")
        .header("x-user", "mallory@example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // login events still count for the IP, without a user
    assert_eq!(login(&base, "192.0.2.96", "bob", "x").await.status(), 401);
    let failures = events
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.name == "app.sqreen.auth.login_failure")
        .map(|e| (e.client_ip.map(|ip| ip.to_string()), e.user.clone()))
        .collect::<Vec<_>>();
    assert_eq!(failures, vec![(Some("192.0.2.96".to_owned()), None)]);
    assert!(events.lock().unwrap().iter().all(|e| e.user.is_none()));
}
