//! The SDK called from handler code: [`identify`] (and, with the playbooks, `track` & co).
//!
//! The free functions act for the agent serving the current request (the layer's task-local).
//! Outside a request they have nothing to act on: they do nothing and warn once. A failure
//! inside them is caught and logged; it never reaches the handler as a panic.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::action::ActionKind;
use crate::agent::{guard, FailureKind};
use crate::context::{PendingResponse, RequestContext, UserKeys};

/// What the agent decided for the current request after an SDK call.
///
/// The layer enforces it on the response whatever the handler does; a handler may use it to stop
/// early (e.g. skip work for a blocked user).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// Go on: nothing applies.
    Proceed,
    /// The response will be the 403 block page.
    Block,
    /// The response will be a redirect to `url`.
    Redirect {
        /// Where the client is sent.
        url: String,
    },
    /// The agent failed and is configured to fail closed: the response will be a 503.
    Unavailable,
}

impl Verdict {
    /// True when the handler's response will be replaced.
    pub fn is_blocked(&self) -> bool {
        !matches!(self, Verdict::Proceed)
    }
}

impl From<&ActionKind> for Verdict {
    fn from(kind: &ActionKind) -> Self {
        match kind {
            ActionKind::Block => Verdict::Block,
            ActionKind::Redirect { url } => Verdict::Redirect { url: url.clone() },
        }
    }
}

static WARNED_OUTSIDE_REQUEST: AtomicBool = AtomicBool::new(false);

fn warn_outside_request(call: &str) {
    if !WARNED_OUTSIDE_REQUEST.swap(true, Ordering::Relaxed) {
        tracing::warn!(
            target: "sqreen",
            "sqreen::{call} called outside a request served by the sqreen layer: ignored (warned once)"
        );
    }
}

/// Tells the agent who the user of the current request is.
///
/// A user on the deny list, or under an active block or redirect, gets that response instead of
/// the handler's, and the returned [`Verdict`] says so. Pass-listed users and IPs always proceed.
///
/// ```no_run
/// # async fn handler() {
/// use sqreen::{identify, UserKeys, Verdict};
/// if identify(UserKeys::new().with("email", "alice@example.com")).is_blocked() {
///     return; // the layer answers with the block page or redirect
/// }
/// # }
/// ```
pub fn identify(user: UserKeys) -> Verdict {
    RequestContext::with_current(|ctx| {
        let agent = &ctx.inner().agent;
        guard(|| agent.identify(ctx, user)).unwrap_or_else(|| {
            let closed = agent.config.fail_closed;
            agent.failures.record(FailureKind::Sdk, closed);
            if closed {
                *ctx.inner().pending.lock() = Some(PendingResponse::Unavailable);
                Verdict::Unavailable
            } else {
                Verdict::Proceed
            }
        })
    })
    .unwrap_or_else(|| {
        warn_outside_request("identify");
        Verdict::Proceed
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identify_outside_a_request_proceeds() {
        assert_eq!(identify(UserKeys::new().with("id", "1")), Verdict::Proceed);
        assert!(WARNED_OUTSIDE_REQUEST.load(Ordering::Relaxed));
    }

    #[test]
    fn verdicts() {
        assert!(!Verdict::Proceed.is_blocked());
        assert!(Verdict::Block.is_blocked());
        let r = Verdict::from(&ActionKind::Redirect { url: "/x".into() });
        assert_eq!(r, Verdict::Redirect { url: "/x".into() });
    }
}
