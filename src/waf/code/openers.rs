//! Calls that open something: a value that is nothing but a function's name and its `(` (a
//! probe for which functions an `eval` will run: `gethostbyname(`, `array_diff (`), and a
//! call that opens a segment of the request's path (`/get/substr()`, `/post/unpack($x)`), where
//! routers that map path segments to handlers or templates hand it to code.
//!
//! In a path, `/` is where a value starts: a segment is read as `calls` reads a value, with
//! two differences. PHP's names that are English words (`copy`, `file`, `print`: see
//! `calls::Need::Args`) are left out, since file names such as `copy(1).txt` and
//! `file(2).pdf` are ordinary in paths; and the other names need arguments that read as code
//! in PHP (none, a variable, a string), not any text.

use super::calls::{php_need, Need};
use super::{ident_start, skip_blanks, skip_blanks_back, Hit, R_PHP_FUNCTION};

/// True when the call of `name` (its `(` at `p`) is cut right after its `(`: only blanks
/// follow, up to `end`.
fn cut_after_paren(t: &[u8], p: usize, end: usize) -> bool {
    skip_blanks(t, p + 1) >= end
}

/// True for a name shaped as a function's: `snake_case` (not a leading `_`), or a word of
/// six or more letters and digits starting with a lower-case letter (`gethostbyname`,
/// `getElementById`), which ordinary text does not end with a bare `(`.
fn function_shaped(name: &[u8]) -> bool {
    let snake = name.contains(&b'_') && name[0] != b'_';
    let word = name.len() >= 6
        && name[0].is_ascii_lowercase()
        && name.iter().all(u8::is_ascii_alphanumeric);
    snake || word
}

/// A value that is one function name and its `(`, nothing after it (blanks aside): the
/// callee is `t[s..k]`, its `(` at `p`.
pub(super) fn lone_opener(t: &[u8], s: usize, k: usize, p: usize) -> Option<Hit> {
    let whole = s == skip_blanks(t, 0) && cut_after_paren(t, p, t.len());
    (whole && function_shaped(&t[s..k])).then_some((R_PHP_FUNCTION, s, t.len()))
}

/// A call opening a segment of a path (see the module docs).
pub(crate) fn path_calls(t: &[u8]) -> Option<Hit> {
    for p in memchr::memchr_iter(b'(', t) {
        let k = skip_blanks_back(t, p);
        let s = ident_start(t, k);
        if s == k || k - s > 64 {
            continue;
        }
        // the segment: from the `/` before the callee to the next `/`
        if s == 0 || t[s - 1] != b'/' {
            continue;
        }
        let end = memchr::memchr(b'/', &t[p..]).map_or(t.len(), |q| p + q);
        let name = &t[s..k];
        let mut buf = [0u8; 64];
        let lower = &mut buf[..name.len()];
        lower.copy_from_slice(name);
        lower.make_ascii_lowercase();
        let a = skip_blanks(t, p + 1);
        let codey_args = a >= end || matches!(t[a], b')' | b'$' | b'\'' | b'"');
        let hit = match php_need(lower) {
            Some(Need::Call | Need::Position) => codey_args,
            Some(Need::Args) => false,
            None => function_shaped(name) && cut_after_paren(t, p, end),
        };
        if hit {
            let close = memchr::memchr(b')', &t[p..end]).map_or(end, |q| p + q + 1);
            return Some((R_PHP_FUNCTION, s, close));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::path_calls;
    use crate::waf::code::detect;

    #[test]
    fn calls_opening_a_path_segment() {
        for path in [
            "/get/substr()",
            "/post/subSTR($x)",
            "/get/unpack()",
            "/post/unPACK($x)",
            "/shell_exec('id')",
            "/get/array_diff (",
            "/get/pg_enter_pipeline_mode (",
            "/get/sodium_crypto_aead_chacha20poly1305_ietf_keygen (",
            "/a/phpinfo()/b",
            "/x/base64_decode(\"aWQ=\")",
        ] {
            assert!(path_calls(path.as_bytes()).is_some(), "{path:?}");
        }
        for path in [
            "/wiki/Python_(programming_language)",
            "/files/copy(1).txt",
            "/files/file(2).pdf",
            "/get/eval(",
            "/get/print(1)",
            "/photos/summer(2024)/beach.jpg",
            "/docs/getting-started(v2)",
            "/api/items(42)",
            "/odata/Products(1)/Name",
            "/report (final).pdf",
            "/get/substr",
            "/search/(unpack)",
            "/x/unpack(17)",
        ] {
            assert!(path_calls(path.as_bytes()).is_none(), "{path:?}");
        }
    }

    #[test]
    fn a_value_that_is_a_function_name_and_its_paren() {
        let fires = |v: &str| detect(v).map(|f| f.rule);
        for v in [
            "gethostbynamE(",
            "gethostbyname (",
            "array_diff (",
            "getElementById(",
            "sodium_crypto_aead_chacha20poly1305_ietf_keygen (",
        ] {
            assert_eq!(fires(v), Some("code_injection-php-function"), "{v:?}");
        }
        for v in [
            "Hello(",
            "smile :(",
            "executor()",
            "systems()",
            "gethostbyname",
            "see gethostbyname(",
            "ceiling height(9ft)",
            "Quarterly(",
        ] {
            assert_eq!(fires(v), None, "{v:?}");
        }
    }
}
