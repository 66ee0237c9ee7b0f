//! A small SMTP server for the tests, on 127.0.0.1: the real protocol, line by line (greeting,
//! EHLO/HELO, AUTH PLAIN and LOGIN, MAIL FROM, RCPT TO, DATA with dot-unstuffing, RSET, NOOP,
//! QUIT), one thread per connection, every accepted message recorded. It can be told to answer a
//! reply code at the end of DATA for the next N messages (4xx: the client should retry; 5xx: it
//! should give up), and it can be down: [`SmtpServer::reserve`] gives a free port with nothing
//! listening, [`SmtpServer::start_on`] brings the server up there later.
//!
//! [`Received`] reads what arrived: the envelope, the headers (unfolded) and the MIME parts,
//! decoded from quoted-printable or base64.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use base64::Engine as _;

/// One message the server accepted.
#[derive(Clone, Debug)]
pub struct Received {
    /// The reverse path of MAIL FROM, without the angle brackets.
    pub mail_from: String,
    /// The forward paths of RCPT TO.
    pub rcpt_to: Vec<String>,
    /// The user and password of AUTH, if the client authenticated.
    pub auth: Option<(String, String)>,
    /// The message as sent after DATA, dot-unstuffed, lines joined with CRLF.
    pub data: String,
}

impl Received {
    /// The header block, unfolded: one `(name, value)` per header, in order.
    pub fn headers(&self) -> Vec<(String, String)> {
        headers_of(self.head())
    }

    /// The first header called `name` (case-insensitive), RFC 2047 words decoded.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers()
            .into_iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| decode_words(&v))
    }

    fn head(&self) -> &str {
        self.data.split("\r\n\r\n").next().unwrap_or("")
    }

    /// The decoded body of the first MIME part whose content type starts with `content_type`
    /// (`text/plain`, `text/html`), looking into multipart bodies.
    pub fn part(&self, content_type: &str) -> Option<String> {
        find_part(&self.data, content_type)
    }
}

fn headers_of(head: &str) -> Vec<(String, String)> {
    let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    unfolded
        .split("\r\n")
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

fn find_part(entity: &str, content_type: &str) -> Option<String> {
    let (head, body) = entity.split_once("\r\n\r\n")?;
    let headers = headers_of(head);
    let get = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let ctype = get("Content-Type").unwrap_or_else(|| "text/plain".to_owned());
    if ctype.to_ascii_lowercase().starts_with("multipart/") {
        let boundary = ctype
            .split(';')
            .filter_map(|p| p.trim().strip_prefix("boundary="))
            .next()?
            .trim_matches('"')
            .to_owned();
        let delimiter = format!("--{boundary}");
        return body
            .split(delimiter.as_str())
            .skip(1)
            .take_while(|p| !p.starts_with("--"))
            .filter_map(|p| find_part(p.trim_start_matches("\r\n"), content_type))
            .next();
    }
    if !ctype.to_ascii_lowercase().starts_with(content_type) {
        return None;
    }
    let encoding = get("Content-Transfer-Encoding")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let body = body.trim_end_matches("\r\n");
    Some(match encoding.as_str() {
        "base64" => {
            let compact: String = body.split_whitespace().collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(compact)
                .expect("base64 body");
            String::from_utf8(bytes).expect("UTF-8 body")
        }
        "quoted-printable" => quoted_printable(body),
        _ => body.to_owned(),
    })
}

fn quoted_printable(s: &str) -> String {
    let mut out = Vec::new();
    let bytes = s.replace("=\r\n", "").into_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).expect("QP escape"));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("UTF-8 body")
}

/// Decodes RFC 2047 encoded words (`=?utf-8?b?...?=`, `=?utf-8?q?...?=`) in a header value.
fn decode_words(v: &str) -> String {
    let mut out = String::new();
    let mut rest = v;
    while let Some(start) = rest.find("=?") {
        let Some(end) = rest[start + 2..].find("?=").map(|e| start + 2 + e) else {
            break;
        };
        let word = &rest[start + 2..end];
        let mut fields = word.splitn(3, '?');
        let (_, enc, text) = match (fields.next(), fields.next(), fields.next()) {
            (Some(c), Some(e), Some(t)) => (c, e, t),
            _ => break,
        };
        // whitespace between two encoded words is dropped
        let before = &rest[..start];
        if !before.trim().is_empty() || out.is_empty() {
            out.push_str(before);
        }
        let bytes = if enc.eq_ignore_ascii_case("b") {
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .expect("B word")
        } else {
            quoted_printable(&text.replace('_', " ")).into_bytes()
        };
        out.push_str(&String::from_utf8(bytes).expect("UTF-8 word"));
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

#[derive(Default)]
struct State {
    messages: Mutex<Vec<Received>>,
    /// (reply code, messages left to answer it to) at the end of DATA.
    fail: Mutex<Option<(u16, usize)>>,
    /// Transactions that reached the end of DATA, accepted or not.
    transactions: AtomicUsize,
    /// Every line the clients sent, for checks on what crossed the wire.
    transcript: Mutex<Vec<String>>,
}

/// The server. Dropping it stops it.
pub struct SmtpServer {
    port: u16,
    state: Arc<State>,
    running: Mutex<Option<(Arc<AtomicBool>, JoinHandle<()>)>>,
}

impl SmtpServer {
    /// A server listening on a free port of 127.0.0.1.
    pub fn start() -> SmtpServer {
        let server = SmtpServer::reserve();
        server.up();
        server
    }

    /// A server on a free port of 127.0.0.1 that is down (nothing listens) until
    /// [`up`](Self::up).
    pub fn reserve() -> SmtpServer {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        SmtpServer {
            port,
            state: Arc::default(),
            running: Mutex::new(None),
        }
    }

    /// Starts listening (again) on the server's port.
    pub fn up(&self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).expect("the port is free");
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let (flag, state) = (stop.clone(), self.state.clone());
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let state = state.clone();
                        std::thread::spawn(move || {
                            let _ = session(stream, &state);
                        });
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        *self.running.lock().unwrap() = Some((stop, thread));
    }

    /// Stops listening (connections are refused); sessions in progress finish.
    pub fn down(&self) {
        if let Some((stop, thread)) = self.running.lock().unwrap().take() {
            stop.store(true, Ordering::SeqCst);
            let _ = thread.join();
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `smtp://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Answers `code` at the end of DATA to the next `times` messages (not recorded).
    pub fn fail_next(&self, code: u16, times: usize) {
        *self.state.fail.lock().unwrap() = Some((code, times));
    }

    /// The messages accepted so far.
    pub fn messages(&self) -> Vec<Received> {
        self.state.messages.lock().unwrap().clone()
    }

    /// Transactions that reached the end of DATA, accepted or refused.
    pub fn transactions(&self) -> usize {
        self.state.transactions.load(Ordering::SeqCst)
    }

    /// Every command line clients sent (message lines excluded).
    pub fn transcript(&self) -> Vec<String> {
        self.state.transcript.lock().unwrap().clone()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.down();
    }
}

fn session(stream: TcpStream, state: &State) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut out = stream.try_clone()?;
    let mut lines = BufReader::new(stream);
    let mut reply = |text: &str| out.write_all(format!("{text}\r\n").as_bytes());
    reply("220 127.0.0.1 test SMTP server ready")?;
    let mut from: Option<String> = None;
    let mut to: Vec<String> = Vec::new();
    let mut auth: Option<(String, String)> = None;
    let mut line = String::new();
    let mut read = |line: &mut String| -> std::io::Result<bool> {
        line.clear();
        Ok(lines.read_line(line)? > 0)
    };
    while read(&mut line)? {
        let command = line.trim_end_matches(['\r', '\n']).to_owned();
        state.transcript.lock().unwrap().push(command.clone());
        let upper = command.to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            reply("250-127.0.0.1 greets you")?;
            reply("250-AUTH PLAIN LOGIN")?;
            reply("250 8BITMIME")?;
        } else if upper.starts_with("HELO") {
            reply("250 127.0.0.1")?;
        } else if upper.starts_with("AUTH PLAIN") {
            let encoded = command[10..].trim().to_owned();
            let encoded = if encoded.is_empty() {
                reply("334 ")?;
                read(&mut line)?;
                line.trim().to_owned()
            } else {
                encoded
            };
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .unwrap_or_default();
            let parts: Vec<String> = decoded
                .split(|b| *b == 0)
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .collect();
            if parts.len() == 3 {
                auth = Some((parts[1].clone(), parts[2].clone()));
                reply("235 2.7.0 authenticated")?;
            } else {
                reply("501 5.5.2 bad AUTH PLAIN")?;
            }
        } else if upper.starts_with("AUTH LOGIN") {
            let b64 = base64::engine::general_purpose::STANDARD;
            reply(&format!("334 {}", b64.encode("Username:")))?;
            read(&mut line)?;
            let user = b64.decode(line.trim()).unwrap_or_default();
            reply(&format!("334 {}", b64.encode("Password:")))?;
            read(&mut line)?;
            let password = b64.decode(line.trim()).unwrap_or_default();
            auth = Some((
                String::from_utf8_lossy(&user).into_owned(),
                String::from_utf8_lossy(&password).into_owned(),
            ));
            reply("235 2.7.0 authenticated")?;
        } else if upper.starts_with("MAIL FROM:") {
            from = Some(path(&command[10..]));
            to.clear();
            reply("250 2.1.0 ok")?;
        } else if upper.starts_with("RCPT TO:") {
            if from.is_none() {
                reply("503 5.5.1 MAIL first")?;
            } else {
                to.push(path(&command[8..]));
                reply("250 2.1.5 ok")?;
            }
        } else if upper == "DATA" {
            if from.is_none() || to.is_empty() {
                reply("503 5.5.1 MAIL and RCPT first")?;
                continue;
            }
            reply("354 end data with <CR><LF>.<CR><LF>")?;
            let mut data: Vec<String> = Vec::new();
            loop {
                if !read(&mut line)? {
                    return Ok(());
                }
                let text = line.trim_end_matches(['\r', '\n']);
                if text == "." {
                    break;
                }
                // dot-unstuffing (RFC 5321, 4.5.2)
                data.push(text.strip_prefix('.').unwrap_or(text).to_owned());
            }
            state.transactions.fetch_add(1, Ordering::SeqCst);
            let failing = {
                let mut fail = state.fail.lock().unwrap();
                match fail.as_mut() {
                    Some((code, left)) if *left > 0 => {
                        *left -= 1;
                        Some(*code)
                    }
                    _ => None,
                }
            };
            match failing {
                Some(code) => reply(&format!("{code} test server says no"))?,
                None => {
                    state.messages.lock().unwrap().push(Received {
                        mail_from: from.take().unwrap_or_default(),
                        rcpt_to: std::mem::take(&mut to),
                        auth: auth.clone(),
                        data: data.join("\r\n"),
                    });
                    reply("250 2.0.0 queued")?;
                }
            }
            from = None;
            to.clear();
        } else if upper == "RSET" {
            from = None;
            to.clear();
            reply("250 2.0.0 ok")?;
        } else if upper == "NOOP" {
            reply("250 2.0.0 ok")?;
        } else if upper == "QUIT" {
            reply("221 2.0.0 bye")?;
            return Ok(());
        } else {
            reply("500 5.5.2 unknown command")?;
        }
    }
    Ok(())
}

/// `<a@example.com>` (with optional parameters after it) to `a@example.com`.
fn path(s: &str) -> String {
    let s = s.trim();
    match (s.find('<'), s.find('>')) {
        (Some(a), Some(b)) if a < b => s[a + 1..b].to_owned(),
        _ => s.split_whitespace().next().unwrap_or("").to_owned(),
    }
}
