//! The email sink: playbook notifications and digests sent over SMTP (`SQREEN_SMTP_URL`) from
//! `SQREEN_EMAIL_FROM` to `SQREEN_EMAIL_TO`, each an [`Email`] with a plain-text and an HTML part.
//!
//! This folder owns the SMTP URL ([`SmtpUrl`], `url.rs`: parsed at start-up, shown without its
//! credentials), the addresses ([`EmailAddress`]), what the emails say (`message.rs`) and
//! [`EmailSink`], which hands one email to the server with lettre's blocking SMTP client and
//! retries transient failures (connection errors, timeouts, SMTP 4xx replies) with the same
//! backoff as the webhook ([`RetryPolicy`]); a 5xx reply is final. The sink blocks its caller:
//! the agent runs it on its own `sqreen-email` thread, never on the request path, so a slow or
//! absent mail server delays neither requests nor the webhook. It never logs a message body,
//! and never shows the URL's user or password (they are scrubbed from the client's errors too).

mod message;
mod url;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Message, SmtpTransport, Transport};

use super::delivery::{Outcome, RetryObserver, RetryPolicy, RetryReason, Step, Target};

pub use message::{digest_email, notification_email, DigestActor, PlaybookDigest};
pub use url::{redact, SmtpSecurity, SmtpUrl};

/// The most recipients `SQREEN_EMAIL_TO` may name.
pub const MAX_RECIPIENTS: usize = 50;

/// The most characters of the server's answer kept in an error.
const MAX_ERROR_CHARS: usize = 200;

/// One email: its subject and its two parts (the HTML part is the one mail clients show).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email {
    /// The subject, one line.
    pub subject: String,
    /// The `text/plain` part.
    pub text: String,
    /// The `text/html` part.
    pub html: String,
}

/// An email address with an optional display name (`ops@example.com`,
/// `Security team <security@example.com>`), checked when it is parsed.
#[derive(Clone, PartialEq, Eq)]
pub struct EmailAddress(Mailbox);

impl EmailAddress {
    /// Parses one address; the error says why without repeating it.
    pub fn parse(value: &str) -> Result<EmailAddress, String> {
        let value = value.trim();
        if value.is_empty() {
            return Err("an address must not be empty".to_owned());
        }
        if value.chars().any(char::is_control) {
            return Err("an address must not contain control characters".to_owned());
        }
        Mailbox::from_str(value).map(EmailAddress).map_err(|_| {
            "expected an address such as ops@example.com or Ops <ops@example.com>".to_owned()
        })
    }

    /// Parses a comma-separated list of 1 to [`MAX_RECIPIENTS`] addresses (display names must
    /// not contain commas).
    pub fn parse_list(value: &str) -> Result<Vec<EmailAddress>, String> {
        let list = value
            .split(',')
            .enumerate()
            .map(|(i, item)| {
                EmailAddress::parse(item).map_err(|reason| format!("item {}: {reason}", i + 1))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if list.len() > MAX_RECIPIENTS {
            return Err(format!("at most {MAX_RECIPIENTS} addresses"));
        }
        Ok(list)
    }

    /// The address alone, e.g. `ops@example.com`.
    pub fn address(&self) -> String {
        self.0.email.to_string()
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EmailAddress({})", self.0)
    }
}

/// Sends emails to one SMTP server.
///
/// ```no_run
/// use sqreen::notify::email::{Email, EmailAddress, EmailSink, SmtpUrl};
/// use sqreen::notify::RetryPolicy;
///
/// let url = SmtpUrl::parse("smtps://alerts:password@smtp.example.com").unwrap();
/// let from = EmailAddress::parse("Sqreen <sqreen@example.com>").unwrap();
/// let to = EmailAddress::parse_list("ops@example.com, security@example.com").unwrap();
/// let sink = EmailSink::new(&url, &from, &to, RetryPolicy::default());
/// let email = Email {
///     subject: "hello from sqreen".into(),
///     text: "It works.".into(),
///     html: "<p>It works.</p>".into(),
/// };
/// let outcome = sink.send(&email, &|| false); // blocks until delivered or given up
/// ```
pub struct EmailSink {
    transport: Result<SmtpTransport, String>,
    url: SmtpUrl,
    from: Mailbox,
    to: Vec<Mailbox>,
    policy: RetryPolicy,
    observer: Option<RetryObserver>,
}

impl fmt::Debug for EmailSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmailSink")
            .field("url", &self.url)
            .field("from", &self.from.to_string())
            .field("to", &self.to.len())
            .field("policy", &self.policy)
            .finish()
    }
}

impl EmailSink {
    /// A sink for the server at `url`, sending from `from` to every address of `to`. The
    /// policy's `timeout` bounds connecting and each exchange with the server.
    pub fn new(
        url: &SmtpUrl,
        from: &EmailAddress,
        to: &[EmailAddress],
        policy: RetryPolicy,
    ) -> Self {
        let transport = transport(url, &policy);
        if let Err(reason) = &transport {
            tracing::error!(
                target: "sqreen::notify",
                sink = "email", url = %url, %reason,
                "every email will fail: the SMTP settings are unusable",
            );
        }
        EmailSink {
            transport,
            url: url.clone(),
            from: from.0.clone(),
            to: to.iter().map(|a| a.0.clone()).collect(),
            policy,
            observer: None,
        }
    }

    /// Calls `observer` for every failed attempt that will be retried (e.g. to count failures
    /// by SMTP reply code). It runs on the sending thread and must return quickly.
    pub fn with_retry_observer(
        mut self,
        observer: impl Fn(&RetryReason) + Send + Sync + 'static,
    ) -> Self {
        self.observer = Some(Arc::new(observer));
        self
    }

    /// Sends `email`. Blocks until the server takes it ([`Outcome::Delivered`]), refuses it
    /// for good with a 5xx reply ([`Outcome::Rejected`] with the reply code), the settings make
    /// it impossible ([`Outcome::Failed`], e.g. a server without STARTTLS when `tls=required`),
    /// or `stop()` is true ([`Outcome::Abandoned`]); connection errors, timeouts and 4xx
    /// replies are retried with the policy's backoff. Every attempt sends the same message
    /// (same `Message-ID`).
    pub fn send(&self, email: &Email, stop: &dyn Fn() -> bool) -> Outcome {
        let transport = match &self.transport {
            Ok(t) => t,
            Err(reason) => {
                return Outcome::Failed {
                    reason: reason.clone(),
                }
            }
        };
        let message = match self.message(email) {
            Ok(m) => m,
            Err(reason) => {
                tracing::error!(target: "sqreen::notify", sink = "email", %reason, "email not sent");
                return Outcome::Failed { reason };
            }
        };
        let target = Target {
            sink: "email",
            shown: self.url.redacted(),
            policy: &self.policy,
            observer: self.observer.as_ref(),
        };
        target.with_retries(
            &mut |_| match transport.send(&message) {
                Ok(_) => Step::Done,
                Err(e) => self.classify(&e),
            },
            stop,
        )
    }

    fn message(&self, email: &Email) -> Result<Message, String> {
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(email.subject.clone())
            .message_id(None)
            .user_agent(crate::notify::delivery::USER_AGENT.to_owned())
            // RFC 3834: no vacation or out-of-office replies to an automatic message
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("Auto-Submitted"),
                "auto-generated".to_owned(),
            ));
        for to in &self.to {
            builder = builder.to(to.clone());
        }
        builder
            .multipart(MultiPart::alternative_plain_html(
                email.text.clone(),
                email.html.clone(),
            ))
            .map_err(|e| format!("the message cannot be built: {e}"))
    }

    /// Sorts an SMTP client error into retry, rejected or unusable. Unknown kinds are retried:
    /// losing nothing matters more than a few wasted connections.
    fn classify(&self, e: &lettre::transport::smtp::Error) -> Step {
        let shown = self.shown_error(e);
        if let Some(code) = e.status() {
            let code = code.to_string().parse::<u16>().unwrap_or(0);
            if e.is_permanent() {
                tracing::warn!(target: "sqreen::notify", sink = "email", code, error = %shown, "the SMTP server refused the email");
                return Step::Rejected(code);
            }
            return Step::Retry(RetryReason::Status(code), None);
        }
        if e.is_timeout() {
            return Step::Retry(RetryReason::Timeout, None);
        }
        if e.is_client() {
            // e.g. STARTTLS required but not offered, no authentication mechanism in common
            return Step::Unusable(shown);
        }
        Step::Retry(RetryReason::Connection(shown), None)
    }

    /// The client's error, cut, on one line, without the URL's user or password.
    fn shown_error(&self, e: &lettre::transport::smtp::Error) -> String {
        let text: String = self
            .url
            .scrub(&e.to_string())
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .take(MAX_ERROR_CHARS)
            .collect();
        text
    }
}

/// The blocking SMTP client for `url`: no connection pool (a connection per email; they are
/// few), the policy's timeout on connecting and on each exchange.
fn transport(url: &SmtpUrl, policy: &RetryPolicy) -> Result<SmtpTransport, String> {
    let mut builder = SmtpTransport::builder_dangerous(url.host())
        .port(url.port())
        .timeout(Some(policy.timeout));
    #[cfg(feature = "tls")]
    {
        use lettre::transport::smtp::client::{Tls, TlsParameters};
        let params = || {
            TlsParameters::new(url.host().to_owned())
                .map_err(|e| format!("TLS settings for the host: {e}"))
        };
        builder = match url.security() {
            SmtpSecurity::ImplicitTls => builder.tls(Tls::Wrapper(params()?)),
            SmtpSecurity::StartTls => builder.tls(Tls::Required(params()?)),
            SmtpSecurity::Opportunistic => builder.tls(Tls::Opportunistic(params()?)),
            SmtpSecurity::Plain => builder.tls(Tls::None),
        };
    }
    #[cfg(not(feature = "tls"))]
    if url.security() != SmtpSecurity::Plain {
        return Err("TLS needs the crate's `tls` feature".to_owned());
    }
    if let Some((user, password)) = url.credentials() {
        builder = builder.credentials(Credentials::new(user.to_owned(), password.to_owned()));
    }
    Ok(builder.build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse_with_or_without_a_name() {
        let a = EmailAddress::parse(" ops@example.com ").unwrap();
        assert_eq!(a.address(), "ops@example.com");
        let b = EmailAddress::parse("Security team <security@example.com>").unwrap();
        assert_eq!(b.address(), "security@example.com");
        assert!(b.to_string().contains("Security team"));
        let list =
            EmailAddress::parse_list("a@example.com,b@example.com , C <c@example.com>").unwrap();
        assert_eq!(list.len(), 3);
        assert_eq!(list[2].address(), "c@example.com");
    }

    #[test]
    fn bad_addresses_are_refused() {
        for bad in [
            "",
            "  ",
            "not an address",
            "ops@",
            "@example.com",
            "ops@example.com\r\nBcc: victim@example.com",
            "ops@example.com\nX: y",
            "<ops@example.com",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(EmailAddress::parse_list("a@example.com,,b@example.com").is_err());
        assert!(EmailAddress::parse_list("").is_err());
        let many = vec!["x@example.com"; MAX_RECIPIENTS + 1].join(",");
        assert!(EmailAddress::parse_list(&many).is_err());
        let e = EmailAddress::parse_list("a@example.com, nope").unwrap_err();
        assert!(e.starts_with("item 2:"), "{e}");
    }

    #[test]
    fn the_sink_never_shows_the_password() {
        let url = SmtpUrl::parse("smtp://alerts:hunter2@127.0.0.1:1").unwrap();
        let from = EmailAddress::parse("a@example.com").unwrap();
        let sink = EmailSink::new(
            &url,
            &from,
            std::slice::from_ref(&from),
            RetryPolicy::default(),
        );
        let shown = format!("{sink:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("alerts"),
            "{shown}"
        );
    }
}
