//! Automatic login tracking: `auth_track` for a login route the app does not instrument.
//!
//! For `POST SQREEN_LOGIN_PATH`, after the handler and before the response leaves, the layer
//! reads the user field (`SQREEN_LOGIN_USER_FIELD`, default `username`) from the form or JSON
//! body it already read (up to `SQREEN_MAX_BODY_BYTES`; nothing more is read) and calls the same
//! code as [`crate::auth_track`]: a 2xx or 3xx answer is `app.sqreen.auth.login_success` (the
//! user is identified), a 401 or 403 is `app.sqreen.auth.login_failure`; any other status
//! records nothing. A playbook firing on it replaces this very response, as with `auth_track`.
//! A body without the field still counts for the client IP. When the handler called
//! `auth_track` itself during the request, nothing more is recorded (no double count).

use std::sync::atomic::Ordering;

use http::{Method, StatusCode};
use serde_json::Value;

use super::credentials::MAX_USER_ID_BYTES;
use crate::agent::AgentInner;
use crate::body::ReadBody;
use crate::context::{RequestContext, UserKeys};

/// The login route tracked automatically.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LoginRoute {
    path: String,
    field: String,
}

impl LoginRoute {
    pub(crate) fn new(path: String, field: String) -> Self {
        LoginRoute { path, field }
    }

    /// True when the request is a login attempt on this route.
    fn matches(&self, method: &Method, path: &str) -> bool {
        method == Method::POST && path == self.path
    }

    /// The user field's value in a form or JSON body: a string (or the first of repeated form
    /// values), or a number as its decimal text.
    fn user(&self, body: &ReadBody) -> Option<String> {
        let params = body.params();
        let value = match params.json {
            Some(Value::Object(mut map)) => map.remove(&self.field)?,
            Some(_) => return None,
            None => match params.form.get(&self.field)? {
                Value::Array(items) => items.first()?.clone(),
                other => other.clone(),
            },
        };
        let id = match value {
            Value::String(s) => s,
            Value::Number(n) => n.to_string(),
            _ => return None,
        };
        (id.len() <= MAX_USER_ID_BYTES).then_some(id)
    }
}

impl AgentInner {
    /// Records a login attempt on the configured login route, from the handler's `status`.
    pub(crate) fn track_login(&self, ctx: &RequestContext, status: StatusCode) {
        let Some(route) = self.users.login() else {
            return;
        };
        let inner = ctx.inner();
        if !route.matches(&inner.method, inner.uri.path())
            || inner.auth_tracked.load(Ordering::Relaxed)
        {
            return;
        }
        let success = match status.as_u16() {
            200..=399 => true,
            401 | 403 => false,
            _ => return,
        };
        let user = inner
            .body
            .get()
            .and_then(|body| route.user(body))
            .map_or_else(UserKeys::new, |id| UserKeys::new().with(&route.field, id));
        self.auth_track_request(ctx, success, user);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::BodyKind;
    use bytes::Bytes;

    fn user(kind: BodyKind, body: &'static str) -> Option<String> {
        let route = LoginRoute::new("/login".into(), "username".into());
        route.user(&ReadBody {
            kind,
            bytes: Bytes::from_static(body.as_bytes()),
            complete: true,
        })
    }

    #[test]
    fn user_field_from_form_or_json() {
        assert_eq!(
            user(BodyKind::Form, "username=alice&password=x").as_deref(),
            Some("alice")
        );
        assert_eq!(
            user(BodyKind::Form, "username=a&username=b").as_deref(),
            Some("a")
        );
        assert_eq!(
            user(BodyKind::Json, r#"{"username":"bob","password":"x"}"#).as_deref(),
            Some("bob")
        );
        assert_eq!(
            user(BodyKind::Json, r#"{"username":42}"#).as_deref(),
            Some("42")
        );
        assert_eq!(user(BodyKind::Json, r#"{"username":{"a":1}}"#), None);
        assert_eq!(user(BodyKind::Json, r#"["username"]"#), None);
        assert_eq!(user(BodyKind::Json, "not json"), None);
        assert_eq!(user(BodyKind::Form, "user=alice"), None);
        assert_eq!(user(BodyKind::Xml, "<username>x</username>"), None);
    }

    #[test]
    fn only_post_on_the_path() {
        let route = LoginRoute::new("/login".into(), "username".into());
        assert!(route.matches(&Method::POST, "/login"));
        assert!(!route.matches(&Method::GET, "/login"));
        assert!(!route.matches(&Method::POST, "/login/"));
        assert!(!route.matches(&Method::POST, "/"));
    }
}
