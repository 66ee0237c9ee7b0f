#!/usr/bin/env bash
# Fills fuzz/corpus/<target>/ with seed inputs made from the development corpus
# (../shared/corpus beside the project, or $SQREEN_CORPUS_DIR; see its README) and the rules
# examples. Seeds are generated, never committed. Needs python3. Run from anywhere:
#   bash fuzz/seed.sh
set -euo pipefail
if [ -n "${SQREEN_CORPUS_DIR:-}" ]; then
  CORPUS_DIR="$(cd "$SQREEN_CORPUS_DIR" 2>/dev/null && pwd || echo "$SQREEN_CORPUS_DIR")"
fi
cd "$(dirname "$0")"
CORPUS_DIR="${CORPUS_DIR:-../../shared/corpus}"
if [ ! -f "$CORPUS_DIR/crs-requests.jsonl" ]; then
  echo "seed.sh: no corpus at $CORPUS_DIR (set SQREEN_CORPUS_DIR); seeding from the rules examples only" >&2
fi
python3 - "$CORPUS_DIR" <<'PY'
import base64, hashlib, json, os, sys

src = sys.argv[1]
out = "corpus"
counts = {}

def put(target, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    path = os.path.join(d, name)
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(data)
        counts[target] = counts.get(target, 0) + 1

def records(name):
    path = os.path.join(src, name)
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]

def raw_request(control, method, uri, headers, body):
    """The `layer` target's input (fuzz/src/lib.rs, RawRequest)."""
    text = "%s %s\n" % (method, uri)
    for k, v in headers:
        text += "%s: %s\n" % (k, v)
    return bytes([control]) + (text + "\n" + body).encode("utf-8")

requests = records("crs-requests.jsonl") + records("crs-code-requests.jsonl")
for i, r in enumerate(requests):
    headers = dict(r["headers"])
    # the peer (bits 0-1) varies, most come through a trusted proxy; one in 7 is answered 404
    control = [1, 1, 2, 3, 0][i % 5] | (4 if i % 7 == 0 else 0)
    if i % 3 == 0:
        headers.setdefault("X-Forwarded-For", "198.51.100.%d, 10.0.0.2" % (i % 250))
    put("layer", raw_request(control, r["method"], r["uri"], headers.items(), r["body"]))
    ct = next((v for k, v in r["headers"].items() if k.lower() == "content-type"), "")
    essence = ct.split(";")[0].strip().lower()
    body = r["body"]
    if "?" in r["uri"]:
        put("body_form", r["uri"].split("?", 1)[1])
    if not body:
        continue
    if essence == "application/x-www-form-urlencoded":
        put("body_form", body)
    elif essence == "application/json" or essence.endswith("+json"):
        put("body_json", body)
    elif essence in ("application/xml", "text/xml") or essence.endswith("+xml"):
        put("body_xml", body)
    elif essence == "text/plain":
        put("body_text", body)
    elif essence == "multipart/form-data":
        params = ct.split(";", 1)[1].strip() if ";" in ct else "boundary=fuzz"
        put("body_multipart", params + "\n" + body)

for r in records("values.jsonl"):
    value = base64.b64decode(r["value_b64"]) if "value_b64" in r else r["value"].encode("utf-8")
    put("detectors", value)
    if r["category"] in ("sqli", "xss"):
        # a sample in the body parsers' carriers
        h = hashlib.sha1(value).digest()[0]
        if h % 8 == 0:
            put("body_json", json.dumps({"q": value.decode("utf-8", "replace"), "n": [1, {"k": "v"}]}))
        if h % 8 == 1:
            put("body_xml", "<a><q>%s</q></a>" % value.decode("utf-8", "replace")
                .replace("&", "&amp;").replace("<", "&lt;"))

# user monitoring: Basic credentials and bearer JWTs, logins, identify, cookies, proxies
jwt = lambda claims: ".".join(
    base64.urlsafe_b64encode(json.dumps(p).encode()).decode().rstrip("=")
    for p in ({"alg": "HS256", "typ": "JWT"}, claims)) + ".c2lnbmF0dXJl"
extra = [
    (1, "GET", "/account", [("Host", "app.example"), ("Authorization", "Bearer " + jwt({"sub": "alice", "exp": 4102444800})),
        ("X-Forwarded-For", "203.0.113.9, 10.0.0.3")], ""),
    (3, "GET", "/account", [("Host", "app.example"), ("Authorization", "Basic " + base64.b64encode(b"mallory:secret").decode()),
        ("Forwarded", 'for="[2001:db8:cafe::17]:4711";proto=https, for=10.1.2.3')], ""),
    (1 | 8, "POST", "/login", [("Host", "app.example"), ("Content-Type", "application/x-www-form-urlencoded"),
        ("X-Real-IP", "198.51.100.4")], "username=alice&password=hunter2"),
    (1 | 8, "POST", "/login", [("Host", "app.example"), ("Content-Type", "application/json")],
        '{"username": "bob", "password": "x"}'),
    (2 | 16, "GET", "/profile?tab=1", [("Host", "app.example"), ("x-fuzz-user", "mallory"),
        ("Cookie", "session=abc; theme=dark; q=1%27%20or%201%3D1")], ""),
    (1 | 4, "GET", "/.git/config", [("Host", "app.example"), ("User-Agent", "sqlmap/1.7")], ""),
    (1 | (3 << 5), "POST", "/upload", [("Host", "app.example"), ("Content-Type", "multipart/form-data; boundary=XyZ")],
        '--XyZ\r\nContent-Disposition: form-data; name="f"; filename="../../etc/passwd"\r\n\r\n<?php system($_GET[1]); ?>\r\n--XyZ--\r\n'),
    (1 | (2 << 5), "POST", "/xml", [("Host", "app.example"), ("Content-Type", "text/xml")],
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r a="1">&x;<![CDATA[<script>]]></r>'),
]
for control, method, uri, headers, body in extra:
    put("layer", raw_request(control, method, uri, headers, body))

# rules documents: the examples
for root in ("../examples", "../examples/playbooks"):
    if os.path.isdir(root):
        for name in sorted(os.listdir(root)):
            if name.endswith(".json"):
                with open(os.path.join(root, name), "rb") as f:
                    put("rules_document", f.read())
put("rules_document", "{}")
put("rules_document", '{"waf": {"mode": "monitor", "paranoia": 2, "disabled_rules": ["sqli-pl2-strict"]}}')

# admin API calls: control bit 0 adds the token, bit 1 a JSON content type
admin = [
    (1, "GET", "health", ""), (1, "GET", "metrics", ""), (0, "GET", "health", ""),
    (1, "GET", "events?name=app.sqreen.*&limit=5&view=summary", ""),
    (1, "GET", "events?actor=203.0.113.0/24&since=2026-11-23T00:00:00Z", ""),
    (1, "GET", "actions", ""), (1, "DELETE", "actions/1", ""), (1, "GET", "openapi.json", ""),
    (0, "GET", "explorer", ""), (1, "PUT", "actions", ""),
    (3, "POST", "actions", '{"actor": {"ip": "192.0.2.0/24"}, "action": "block", "duration": "1h"}'),
    (3, "POST", "actions", '{"actor": {"user": "eve@example.com"}, "action": "redirect", "url": "/blocked", "duration": "permanent"}'),
    (3, "POST", "actions", '{"actor": {"ip": "2001:db8::1"}, "action": "block", "duration": "3650d"}'),
    (3, "POST", "actions", '{"actor": {"ip": "::"}, "action": "block", "duration": "18446744073709552s"}'),
]
for control, method, target, body in admin:
    put("admin", raw_request(control, method, "/" + target, [("Host", "internal")], body))

for target in sorted(counts):
    print("seed.sh: %-16s %6d new seeds" % (target, counts[target]))
PY
