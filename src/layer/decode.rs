//! Compressed request bodies (`Content-Encoding: gzip`, `deflate`, `br`), decoded for the WAF.
//!
//! The application gets the body as it came; the WAF reads it decoded, so compressing a body is
//! no way around inspection (an app that decompresses inside this layer would otherwise see
//! what the WAF never did). Decoding is bounded: it stops at `SQREEN_MAX_BODY_BYTES` of output
//! (the decoded size counts against the limit, as an uncompressed body's does), and a body
//! that expands past the limit by more than [`BOMB_RATIO`] times its compressed size is a
//! decompression bomb (see [`Decoded::Bomb`]). A body that does not decode (corrupt, cut at
//! the read limit) is inspected as far as it decoded.

use std::io::Read;

use bytes::Bytes;
use http::header::CONTENT_ENCODING;
use http::HeaderMap;

/// Decoded bodies past the limit and more than this many times their compressed size are bombs.
pub(crate) const BOMB_RATIO: usize = 100;

/// What a body's `Content-Encoding` makes of it.
#[derive(Debug, PartialEq)]
pub(crate) enum Decoded {
    /// No encoding (or `identity`): the bytes as they are.
    Plain,
    /// Decoded: at most `limit` bytes; `whole` when that is all of it.
    Bytes { bytes: Bytes, whole: bool },
    /// Decoded past the limit at more than [`BOMB_RATIO`] times the compressed size.
    Bomb {
        /// The coding that expanded (`gzip`, `deflate`, `br`).
        #[allow(dead_code)]
        encoding: &'static str,
    },
    /// An encoding this layer does not decode (or several stacked): not inspectable as text.
    Unsupported,
}

/// Decodes `raw` (the body as read, at most `limit` bytes of it) by its `Content-Encoding`.
pub(crate) fn decode(headers: &HeaderMap, raw: &[u8], limit: usize) -> Decoded {
    let Some(value) = headers.get(CONTENT_ENCODING) else {
        return Decoded::Plain;
    };
    let Ok(value) = value.to_str() else {
        return Decoded::Unsupported;
    };
    let codings: Vec<String> = value
        .split(',')
        .map(|c| c.trim().to_ascii_lowercase())
        .filter(|c| !c.is_empty() && c != "identity")
        .collect();
    let coding = match codings.as_slice() {
        [] => return Decoded::Plain,
        [one] => one.as_str(),
        _ => return Decoded::Unsupported,
    };
    let (encoding, reader): (&'static str, Box<dyn Read + '_>) = match coding {
        "gzip" | "x-gzip" => ("gzip", Box::new(flate2::read::MultiGzDecoder::new(raw))),
        // HTTP's deflate is zlib-wrapped; some clients send raw deflate
        "deflate" if looks_like_zlib(raw) => {
            ("deflate", Box::new(flate2::read::ZlibDecoder::new(raw)))
        }
        "deflate" => ("deflate", Box::new(flate2::read::DeflateDecoder::new(raw))),
        "br" => (
            "br",
            Box::new(brotli_decompressor::Decompressor::new(raw, 4096)),
        ),
        _ => return Decoded::Unsupported,
    };
    let mut reader = reader;
    let mut out = Vec::new();
    // one byte past the limit tells a body that fits from one that does not
    let read = (&mut reader).take(limit as u64 + 1).read_to_end(&mut out);
    let over = out.len() > limit;
    if over {
        // past the limit, count on (without keeping) up to BOMB_RATIO times the compressed
        // size: reaching it is a bomb (at most 100 x SQREEN_MAX_BODY_BYTES decoded, once)
        let cap = raw.len().saturating_mul(BOMB_RATIO) as u64;
        let more = std::io::copy(
            &mut reader.take(cap.saturating_sub(out.len() as u64)),
            &mut std::io::sink(),
        )
        .unwrap_or(0);
        if out.len() as u64 + more >= cap {
            return Decoded::Bomb { encoding };
        }
    }
    out.truncate(limit);
    Decoded::Bytes {
        bytes: Bytes::from(out),
        whole: read.is_ok() && !over,
    }
}

/// A zlib header: compression method 8 and a checksum over the first two bytes.
fn looks_like_zlib(raw: &[u8]) -> bool {
    matches!(raw, [cmf, flg, ..] if cmf & 0x0f == 8 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn headers(encoding: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(CONTENT_ENCODING, encoding.parse().unwrap());
        h
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn raw_deflate(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn brotli(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut w = brotli::CompressorWriter::new(&mut out, 4096, 9, 22);
        w.write_all(data).unwrap();
        drop(w);
        out
    }

    const BODY: &[u8] = br#"{"q": "1' UNION SELECT password FROM users --"}"#;

    #[test]
    fn each_encoding_decodes() {
        for (encoding, raw) in [
            ("gzip", gzip(BODY)),
            ("x-gzip", gzip(BODY)),
            ("GZIP", gzip(BODY)),
            ("deflate", zlib(BODY)),
            ("deflate", raw_deflate(BODY)),
            ("identity, gzip", gzip(BODY)),
            ("br", brotli(BODY)),
        ] {
            assert_eq!(
                decode(&headers(encoding), &raw, 65_536),
                Decoded::Bytes {
                    bytes: Bytes::from_static(BODY),
                    whole: true
                },
                "{encoding}"
            );
        }
        assert_eq!(decode(&HeaderMap::new(), BODY, 10), Decoded::Plain);
        assert_eq!(decode(&headers("identity"), BODY, 10), Decoded::Plain);
        assert_eq!(decode(&headers("zstd"), BODY, 10), Decoded::Unsupported);
        assert_eq!(decode(&headers("gzip, br"), BODY, 10), Decoded::Unsupported);
    }

    #[test]
    fn output_is_bounded_and_bombs_are_told_apart() {
        // 1 MiB of zeros compresses to about 1 KiB: a bomb against a 64 KiB limit
        let zeros = vec![0u8; 1 << 20];
        let bomb = gzip(&zeros);
        assert!(bomb.len() < 2_000, "{}", bomb.len());
        assert!(
            matches!(
                decode(&headers("gzip"), &bomb, 65_536),
                Decoded::Bomb { encoding: "gzip" }
            ),
            "a bomb"
        );
        assert!(matches!(
            decode(&headers("br"), &brotli(&zeros), 65_536),
            Decoded::Bomb { encoding: "br" }
        ));
        // the same zeros, only 64 KiB of them: they fit, not a bomb
        let fits = gzip(&zeros[..60_000]);
        assert!(matches!(
            decode(&headers("gzip"), &fits, 65_536),
            Decoded::Bytes { whole: true, .. }
        ));
        // text that only doubles past the limit: inspected up to the limit
        let text: Vec<u8> = (0..200_000u32)
            .flat_map(|i| format!("{:x}", i.wrapping_mul(2_654_435_761)).into_bytes())
            .collect();
        let packed = gzip(&text);
        assert!(packed.len() > 65_536);
        // the layer reads at most the limit of the compressed body
        match decode(&headers("gzip"), &packed[..65_536], 65_536) {
            Decoded::Bytes { bytes, whole } => {
                assert_eq!(bytes.len(), 65_536);
                assert_eq!(&bytes[..], &text[..65_536]);
                assert!(!whole);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn corrupt_or_cut_bodies_give_what_decoded() {
        let packed = gzip(BODY);
        let cut = &packed[..packed.len() - 12];
        match decode(&headers("gzip"), cut, 65_536) {
            Decoded::Bytes { whole, .. } => assert!(!whole),
            other => panic!("{other:?}"),
        }
        for garbage in [&b""[..], b"\x1f\x8b", b"not compressed at all", &[0xff; 64]] {
            for encoding in ["gzip", "deflate", "br"] {
                match decode(&headers(encoding), garbage, 65_536) {
                    Decoded::Bytes { bytes, .. } => assert!(bytes.len() <= 65_536),
                    other => panic!("{encoding} {garbage:?}: {other:?}"),
                }
            }
        }
    }
}
