//! A small JSON Schema (2020-12) validator for the subset the admin API's OpenAPI document uses,
//! so the tests need no validator crate (the `jsonschema` crate would bring an HTTP client and a
//! regex engine of its own into the dev-dependencies for a few keywords).
//!
//! Keywords: `$ref` (local, `#/...`), `type` (one or a list), `const`, `enum`, `properties`,
//! `required`, `additionalProperties`, `items`, `allOf`, `anyOf`, `oneOf`, `not`,
//! `if`/`then`/`else`, `minimum`, `maximum`, `minLength`, `maxLength`, `pattern`, and `format:
//! date-time` (checked). Annotations (`description`, `default`, ...) are ignored. A keyword the
//! validator does not know is an error, so the document cannot use one that would go unchecked.
#![allow(dead_code, unreachable_pub)]

use serde_json::Value;

const ANNOTATIONS: &[&str] = &["description", "default", "title", "examples", "deprecated"];

/// Validates `value` against `schema`, resolving `$ref`s in `root`. The error names the place
/// in the value (`/actions/0/url`) and the keyword that failed.
pub fn validate(root: &Value, schema: &Value, value: &Value) -> Result<(), String> {
    check(root, schema, value, "")
}

fn check(root: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    let fail = |why: String| {
        Err(format!(
            "{}: {why} (value {value})",
            if at.is_empty() { "/" } else { at }
        ))
    };
    let schema = match schema {
        Value::Bool(true) => return Ok(()),
        Value::Bool(false) => return fail("false schema".to_owned()),
        Value::Object(s) => s,
        _ => return fail(format!("not a schema: {schema}")),
    };
    for (key, arg) in schema {
        match key.as_str() {
            "$ref" => {
                let pointer = arg
                    .as_str()
                    .and_then(|r| r.strip_prefix('#'))
                    .unwrap_or("?");
                let target = root
                    .pointer(pointer)
                    .ok_or_else(|| format!("{at}: unresolved $ref {arg}"))?;
                check(root, target, value, at)?;
            }
            "type" => {
                let types: Vec<&str> = match arg {
                    Value::String(t) => vec![t.as_str()],
                    Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
                    _ => return fail(format!("bad type {arg}")),
                };
                if !types.iter().any(|t| is_type(value, t)) {
                    return fail(format!("expected type {arg}"));
                }
            }
            "const" if value != arg => return fail(format!("expected {arg}")),
            "const" => {}
            "enum" => {
                if !arg.as_array().is_some_and(|a| a.contains(value)) {
                    return fail(format!("expected one of {arg}"));
                }
            }
            "properties" => {
                if let (Some(obj), Some(props)) = (value.as_object(), arg.as_object()) {
                    for (name, sub) in props {
                        if let Some(v) = obj.get(name) {
                            check(root, sub, v, &format!("{at}/{name}"))?;
                        }
                    }
                }
            }
            "required" => {
                if let Some(obj) = value.as_object() {
                    for name in arg
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                    {
                        if !obj.contains_key(name) {
                            return fail(format!("missing required member {name:?}"));
                        }
                    }
                }
            }
            "additionalProperties" => {
                if let Some(obj) = value.as_object() {
                    let known = schema.get("properties").and_then(Value::as_object);
                    for (name, v) in obj {
                        if !known.is_some_and(|k| k.contains_key(name)) {
                            check(root, arg, v, &format!("{at}/{name}"))
                                .map_err(|e| format!("{e} [member {name:?} not in the schema]"))?;
                        }
                    }
                }
            }
            "items" => {
                if let Some(items) = value.as_array() {
                    for (i, v) in items.iter().enumerate() {
                        check(root, arg, v, &format!("{at}/{i}"))?;
                    }
                }
            }
            "allOf" => {
                for sub in arg.as_array().into_iter().flatten() {
                    check(root, sub, value, at)?;
                }
            }
            "anyOf" | "oneOf" => {
                let subs = arg.as_array().map(Vec::as_slice).unwrap_or_default();
                let results: Vec<Result<(), String>> =
                    subs.iter().map(|s| check(root, s, value, at)).collect();
                let passed = results.iter().filter(|r| r.is_ok()).count();
                let ok = if key == "oneOf" {
                    passed == 1
                } else {
                    passed >= 1
                };
                if !ok {
                    let errors: Vec<String> = results.into_iter().filter_map(Result::err).collect();
                    return fail(format!(
                        "{key}: {passed} of {} matched {errors:?}",
                        subs.len()
                    ));
                }
            }
            "not" if check(root, arg, value, at).is_ok() => {
                return fail(format!("matches the `not` schema {arg}"))
            }
            "not" => {}
            "if" => {
                let branch = if check(root, arg, value, at).is_ok() {
                    "then"
                } else {
                    "else"
                };
                if let Some(sub) = schema.get(branch) {
                    check(root, sub, value, at).map_err(|e| format!("{e} [{branch}]"))?;
                }
            }
            "then" | "else" => {}
            "minimum" | "maximum" => {
                if let (Some(n), Some(limit)) = (value.as_f64(), arg.as_f64()) {
                    if (key == "minimum" && n < limit) || (key == "maximum" && n > limit) {
                        return fail(format!("{key} {limit}"));
                    }
                }
            }
            "minLength" | "maxLength" => {
                if let (Some(s), Some(limit)) = (value.as_str(), arg.as_u64()) {
                    let n = s.chars().count() as u64;
                    if (key == "minLength" && n < limit) || (key == "maxLength" && n > limit) {
                        return fail(format!("{key} {limit}"));
                    }
                }
            }
            "pattern" => {
                if let Some(s) = value.as_str() {
                    let re = regex::Regex::new(arg.as_str().unwrap_or_default())
                        .map_err(|e| format!("{at}: bad pattern {arg}: {e}"))?;
                    if !re.is_match(s) {
                        return fail(format!("does not match {arg}"));
                    }
                }
            }
            "format" => {
                if let (Some(s), Some("date-time")) = (value.as_str(), arg.as_str()) {
                    if !is_date_time(s) {
                        return fail("not an RFC 3339 date-time".to_owned());
                    }
                }
            }
            other if ANNOTATIONS.contains(&other) => {}
            other => {
                return fail(format!(
                    "keyword {other:?} is not supported by this validator"
                ))
            }
        }
    }
    Ok(())
}

fn is_type(value: &Value, t: &str) -> bool {
    match t {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "number" => value.is_number(),
        "integer" => value.is_i64() || value.is_u64(),
        _ => false,
    }
}

/// `2026-11-23T16:00:00Z`, `2026-11-23T16:00:00.123+01:00`.
fn is_date_time(s: &str) -> bool {
    regex::Regex::new(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
        .unwrap()
        .is_match(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_subset() {
        let root = json!({"defs": {"n": {"type": "integer", "minimum": 1}}});
        let schema = json!({
            "type": "object", "required": ["a"], "additionalProperties": false,
            "properties": {
                "a": {"$ref": "#/defs/n"},
                "b": {"type": ["string", "null"], "pattern": "^x", "maxLength": 3},
                "c": {"oneOf": [{"const": 1}, {"type": "string", "format": "date-time"}]},
                "d": {"type": "array", "items": {"enum": ["p", "q"]}}
            },
            "if": {"properties": {"a": {"const": 2}}},
            "then": {"required": ["b"]}
        });
        let ok = |v: Value| validate(&root, &schema, &v);
        assert!(ok(json!({"a": 1})).is_ok());
        assert!(ok(json!({"a": 1, "b": null, "c": "2026-11-23T16:00:00Z", "d": ["q"]})).is_ok());
        assert!(ok(json!({"a": 2, "b": "xy"})).is_ok());
        for bad in [
            json!({}),
            json!({"a": 0}),
            json!({"a": 1.5}),
            json!({"a": 1, "e": 1}),
            json!({"a": 1, "b": "y"}),
            json!({"a": 1, "b": "xyzw"}),
            json!({"a": 1, "c": "yesterday"}),
            json!({"a": 1, "c": 2}),
            json!({"a": 1, "d": ["r"]}),
            json!({"a": 2}),
        ] {
            assert!(ok(bad.clone()).is_err(), "{bad}");
        }
        assert!(validate(&root, &json!({"minItems": 1}), &json!([])).is_err());
    }
}
