//! [`SmtpUrl`]: `SQREEN_SMTP_URL`, checked at start-up and never shown with its credentials.
//!
//! The forms are the usual ones (those of lettre's `from_url`, stricter):
//! `smtps://[user:password@]host[:port]` (implicit TLS, port 465),
//! `smtp://[user:password@]host[:port]?tls=required` (STARTTLS or nothing, port 587),
//! `?tls=opportunistic` (STARTTLS when offered, port 587) and `smtp://host[:port]` (plain, port 25,
//! for a local relay). User and password are percent-decoded. Anything else (another scheme or
//! query key, a path, a user without a password) is an error that never repeats the credentials.
//! This file owns the parsing, the redacted form and the plain-text warning; it never connects.

use std::fmt;
use std::net::IpAddr;

/// How the connection to the SMTP server is secured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SmtpSecurity {
    /// `smtps://`: TLS from the first byte.
    ImplicitTls,
    /// `smtp://...?tls=required`: STARTTLS, or no mail at all.
    StartTls,
    /// `smtp://...?tls=opportunistic`: STARTTLS when the server offers it, else plain text.
    Opportunistic,
    /// `smtp://`: plain text (a local relay).
    Plain,
}

/// `SQREEN_SMTP_URL`, parsed. `Display` and `Debug` show it with user and password replaced by
/// `***`, so it can be logged; the credentials are only handed to the SMTP client.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpUrl {
    host: String,
    port: u16,
    security: SmtpSecurity,
    credentials: Option<(String, String)>,
    redacted: String,
}

impl SmtpUrl {
    /// Checks `value`; the error says what is wrong without repeating user or password (show
    /// the value with [`redact`]).
    pub fn parse(value: &str) -> Result<SmtpUrl, String> {
        const FORMS: &str = "expected smtps://[user:password@]host[:port], \
             smtp://[user:password@]host[:port]?tls=required or smtp://host[:port]";
        let raw = value.trim();
        if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!("whitespace or control characters: {FORMS}"));
        }
        let url = url::Url::parse(raw).map_err(|_| format!("not a URL: {FORMS}"))?;
        let tls = tls_parameter(&url)?;
        let security = match (url.scheme(), tls.as_deref()) {
            ("smtps", None) => SmtpSecurity::ImplicitTls,
            ("smtps", Some(_)) => {
                return Err("smtps:// is TLS from the start: drop the tls parameter".to_owned())
            }
            ("smtp", None | Some("none")) => SmtpSecurity::Plain,
            ("smtp", Some("required")) => SmtpSecurity::StartTls,
            ("smtp", Some("opportunistic")) => SmtpSecurity::Opportunistic,
            ("smtp", Some(_)) => {
                return Err("the tls parameter is required, opportunistic or none".to_owned())
            }
            _ => return Err(format!("the scheme must be smtp or smtps: {FORMS}")),
        };
        if security != SmtpSecurity::Plain && !cfg!(feature = "tls") {
            return Err("TLS (smtps:// or ?tls=) needs the crate's `tls` feature".to_owned());
        }
        let host = match url.host() {
            Some(url::Host::Domain(d)) if !d.is_empty() => d.to_owned(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            _ => return Err(format!("no host: {FORMS}")),
        };
        if !matches!(url.path(), "" | "/") || url.fragment().is_some() {
            return Err("no path or fragment expected after the host".to_owned());
        }
        let port = url.port().unwrap_or(match security {
            SmtpSecurity::ImplicitTls => 465,
            SmtpSecurity::StartTls | SmtpSecurity::Opportunistic => 587,
            SmtpSecurity::Plain => 25,
        });
        let credentials = match (url.username(), url.password()) {
            ("", None) => None,
            (_, None) => return Err("a user needs a password (user:password@host)".to_owned()),
            (user, Some(password)) => {
                let user = decode(user, "the user")?;
                let password = decode(password, "the password")?;
                if user.is_empty() {
                    return Err("a password needs a user (user:password@host)".to_owned());
                }
                Some((user, password))
            }
        };
        let shown_host = match url.host() {
            Some(url::Host::Ipv6(ip)) => format!("[{ip}]"),
            _ => host.clone(),
        };
        let userinfo = if credentials.is_some() { "***@" } else { "" };
        let query = match security {
            SmtpSecurity::StartTls => "?tls=required",
            SmtpSecurity::Opportunistic => "?tls=opportunistic",
            _ => "",
        };
        let redacted = format!("{}://{userinfo}{shown_host}:{port}{query}", url.scheme());
        Ok(SmtpUrl {
            host,
            port,
            security,
            credentials,
            redacted,
        })
    }

    /// The server's host name or address.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The server's port (465, 587 or 25 unless the URL names one).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// How the connection is secured.
    pub fn security(&self) -> SmtpSecurity {
        self.security
    }

    /// Whether the URL carries a user and a password.
    pub fn has_credentials(&self) -> bool {
        self.credentials.is_some()
    }

    /// The URL with user and password replaced by `***`, e.g. `smtps://***@smtp.example.com:465`.
    pub fn redacted(&self) -> &str {
        &self.redacted
    }

    /// Whether the credentials may cross the network in plain text: a user and password, a
    /// connection that is not always encrypted (`smtp://` or `?tls=opportunistic`), and a host
    /// that is not this machine. The agent warns about it at start-up.
    pub fn credentials_in_clear(&self) -> bool {
        let maybe_plain = matches!(
            self.security,
            SmtpSecurity::Plain | SmtpSecurity::Opportunistic
        );
        self.has_credentials() && maybe_plain && !is_loopback(&self.host)
    }

    pub(crate) fn credentials(&self) -> Option<(&str, &str)> {
        self.credentials
            .as_ref()
            .map(|(u, p)| (u.as_str(), p.as_str()))
    }

    /// `text` (e.g. an error from the SMTP client) with the user and password, should they
    /// appear in it, replaced by `***`.
    pub(crate) fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        if let Some((user, password)) = &self.credentials {
            // the longer first, so a user inside the password does not leave half of it
            let (a, b) = if user.len() >= password.len() {
                (user, password)
            } else {
                (password, user)
            };
            for secret in [a, b] {
                if !secret.is_empty() {
                    out = out.replace(secret.as_str(), "***");
                }
            }
        }
        out
    }
}

impl fmt::Display for SmtpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted)
    }
}

impl fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SmtpUrl({})", self.redacted)
    }
}

/// `value` with whatever stands between `://` and the last `@` of its authority replaced by
/// `***`, so that neither user nor password shows in an error, even for a value that does not
/// parse.
pub fn redact(value: &str) -> String {
    let value = value.trim();
    let Some((scheme, rest)) = value.split_once("://") else {
        // no scheme: anything before an `@` may still be a secret
        return match value.rsplit_once('@') {
            Some((_, host)) => format!("***@{host}"),
            None => value.to_owned(),
        };
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((_, host)) => format!("{scheme}://***@{host}{tail}"),
        None => value.to_owned(),
    }
}

fn tls_parameter(url: &url::Url) -> Result<Option<String>, String> {
    let mut tls = None;
    for (key, value) in url.query_pairs() {
        match key.as_ref() {
            "tls" if tls.is_none() => tls = Some(value.to_ascii_lowercase()),
            "tls" => return Err("the tls parameter is given twice".to_owned()),
            _ => return Err("the only query parameter is tls".to_owned()),
        }
    }
    Ok(tls)
}

fn decode(s: &str, what: &str) -> Result<String, String> {
    percent_decode(s).ok_or_else(|| format!("{what} is not valid percent-encoded UTF-8"))
}

/// `%XX` sequences decoded; `None` for a bad sequence or bytes that are not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_usual_forms_parse_with_their_default_ports() {
        for (url, host, port, security, shown) in [
            (
                "smtps://me:s3cret@smtp.example.com",
                "smtp.example.com",
                465,
                SmtpSecurity::ImplicitTls,
                "smtps://***@smtp.example.com:465",
            ),
            (
                "smtp://me:s3cret@smtp.example.com?tls=required",
                "smtp.example.com",
                587,
                SmtpSecurity::StartTls,
                "smtp://***@smtp.example.com:587?tls=required",
            ),
            (
                "SMTP://mail.example.com:2525?tls=opportunistic",
                "mail.example.com",
                2525,
                SmtpSecurity::Opportunistic,
                "smtp://mail.example.com:2525?tls=opportunistic",
            ),
            (
                "smtp://127.0.0.1:2525",
                "127.0.0.1",
                2525,
                SmtpSecurity::Plain,
                "smtp://127.0.0.1:2525",
            ),
            (
                " smtp://[::1] ",
                "::1",
                25,
                SmtpSecurity::Plain,
                "smtp://[::1]:25",
            ),
            (
                "smtp://localhost/?tls=none",
                "localhost",
                25,
                SmtpSecurity::Plain,
                "smtp://localhost:25",
            ),
        ] {
            let u = SmtpUrl::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!(
                (u.host(), u.port(), u.security(), u.redacted()),
                (host, port, security, shown),
                "{url}"
            );
            assert_eq!(u.to_string(), shown);
            assert!(!format!("{u:?}").contains("s3cret") && !format!("{u:?}").contains("me:"));
        }
    }

    #[test]
    fn credentials_are_percent_decoded_and_scrubbed() {
        let u = SmtpUrl::parse("smtps://ops%40example.com:p%3Ass%2Fw0rd@smtp.example.com").unwrap();
        assert_eq!(u.credentials(), Some(("ops@example.com", "p:ss/w0rd")));
        assert_eq!(
            u.scrub("535 auth failed for ops@example.com with p:ss/w0rd"),
            "535 auth failed for *** with ***"
        );
        let plain = SmtpUrl::parse("smtp://relay.internal:25").unwrap();
        assert_eq!(plain.scrub("nothing to hide"), "nothing to hide");
    }

    #[test]
    fn bad_urls_are_refused_without_showing_credentials() {
        for bad in [
            "",
            "smtp.example.com:587",
            "http://me:pw@smtp.example.com",
            "smtp://",
            "smtp://me:pw@",
            "smtp://me:pw@smtp.example.com:notaport",
            "smtp://me:pw@smtp.example.com:99999",
            "smtp://me:pw@smtp.example.com?tls=maybe",
            "smtp://me:pw@smtp.example.com?tls=required&tls=none",
            "smtp://me:pw@smtp.example.com?auth=plain",
            "smtps://me:pw@smtp.example.com?tls=required",
            "smtp://me:pw@smtp.example.com/ehlo.name",
            "smtp://me:pw@smtp.example.com#x",
            "smtp://me@smtp.example.com",
            "smtp://:pw@smtp.example.com",
            "smtp://me:%FF@smtp.example.com",
            "smtp://me:pw@smtp.example.com\r\nX: y",
            "smtp://me:pw@smtp.exa mple.com",
        ] {
            let e = SmtpUrl::parse(bad)
                .err()
                .unwrap_or_else(|| panic!("{bad:?} accepted"));
            assert!(!e.is_empty());
            assert!(!e.contains("pw"), "{e}");
        }
    }

    #[test]
    fn redact_hides_user_and_password_even_when_the_value_is_bad() {
        assert_eq!(
            redact("smtp://me:pw@smtp.example.com:99999"),
            "smtp://***@smtp.example.com:99999"
        );
        assert_eq!(redact("smtp://me@host?tls=x"), "smtp://***@host?tls=x");
        assert_eq!(redact("me:pw@host"), "***@host");
        assert_eq!(redact("smtp://host:25"), "smtp://host:25");
    }

    #[test]
    fn credentials_in_clear_only_off_this_machine_without_tls() {
        let clear = |u: &str| SmtpUrl::parse(u).unwrap().credentials_in_clear();
        assert!(clear("smtp://me:pw@smtp.example.com:587"));
        assert!(clear("smtp://me:pw@smtp.example.com?tls=opportunistic"));
        assert!(clear("smtp://me:pw@192.0.2.1"));
        assert!(!clear("smtp://me:pw@127.0.0.1:2525"));
        assert!(!clear("smtp://me:pw@localhost"));
        assert!(!clear("smtp://me:pw@[::1]:2525"));
        assert!(!clear("smtp://smtp.example.com:25"));
        if cfg!(feature = "tls") {
            assert!(!clear("smtps://me:pw@smtp.example.com"));
            assert!(!clear("smtp://me:pw@smtp.example.com?tls=required"));
        }
    }
}
