//! `GET openapi.json`: the OpenAPI 3.1 document of the admin API.
//!
//! The document is a static file (`openapi.json`) compiled into the crate, so it reads and diffs
//! as the JSON it is, and tools can take the file from the repository as well as from a running
//! agent. Its paths are written under the default admin path, `/_sqreen`; an agent with another
//! `SQREEN_ADMIN_PATH` serves it with its paths moved there (once, at start). A unit test holds
//! its paths and methods to the router's table ([`super::ROUTES`]), both ways; the integration
//! tests validate real answers against its schemas.

use bytes::Bytes;
use serde_json::{Map, Value};

/// The document, with its paths under [`DEFAULT_PATH`].
pub(crate) const DOCUMENT: &str = include_str!("openapi.json");

/// The admin path the document is written for.
pub(crate) const DEFAULT_PATH: &str = "/_sqreen";

/// The document for an admin API served under `admin_path` (no trailing `/`).
pub(crate) fn document(admin_path: &str) -> Bytes {
    if admin_path == DEFAULT_PATH {
        return Bytes::from_static(DOCUMENT.as_bytes());
    }
    let Ok(mut doc) = serde_json::from_str::<Value>(DOCUMENT) else {
        return Bytes::from_static(DOCUMENT.as_bytes());
    };
    if let Some(Value::Object(paths)) = doc.get_mut("paths") {
        let moved: Map<String, Value> = std::mem::take(paths)
            .into_iter()
            .map(|(path, item)| match path.strip_prefix(DEFAULT_PATH) {
                Some(rest) => (format!("{admin_path}{rest}"), item),
                None => (path, item),
            })
            .collect();
        *paths = moved;
    }
    Bytes::from(serde_json::to_vec(&doc).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    const METHODS: [&str; 8] = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];

    /// (METHOD, path below the admin path) for every operation of `doc`.
    fn operations(doc: &Value, admin_path: &str) -> BTreeSet<(String, String)> {
        let mut out = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            let sub = path
                .strip_prefix(admin_path)
                .and_then(|p| p.strip_prefix('/'))
                .unwrap_or_else(|| panic!("{path} is not under {admin_path}"));
            for (key, _) in item.as_object().unwrap() {
                assert!(METHODS.contains(&key.as_str()), "{path}: {key}");
                out.insert((key.to_uppercase(), sub.to_owned()));
            }
        }
        out
    }

    #[test]
    fn the_document_lists_exactly_the_routes_the_router_serves() {
        let doc: Value = serde_json::from_str(DOCUMENT).unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1."));
        let routes: BTreeSet<(String, String)> = super::super::ROUTES
            .iter()
            .map(|(method, path, _)| ((*method).to_owned(), (*path).to_owned()))
            .collect();
        assert_eq!(operations(&doc, DEFAULT_PATH), routes);
    }

    #[test]
    fn another_admin_path_moves_every_path() {
        let doc: Value = serde_json::from_slice(&document("/ops/sec")).unwrap();
        let default: Value = serde_json::from_str(DOCUMENT).unwrap();
        assert_eq!(
            operations(&doc, "/ops/sec"),
            operations(&default, DEFAULT_PATH)
        );
        assert_eq!(doc["components"], default["components"]);
        assert_eq!(&document(DEFAULT_PATH)[..], DOCUMENT.as_bytes());
    }
}
