#!/usr/bin/env bash
# End-to-end overhead of the layer under load, on 127.0.0.1 only.
# Builds examples/load_target.rs in release mode and measures, in one run and alternating,
# four configurations (no layer; layer disabled; quickstart rules; rules + 100,000-CIDR deny list
# with WAF block) on GET /, a 10-parameter GET /search and a 2 KiB JSON POST /api/echo, over
# ROUNDS rounds (default 3). Prints requests/s and p50/p99 per configuration (median and spread
# over the rounds) and the ratio to "no layer". Installs wrk from Debian's packages if missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5s}
CONNECTIONS=${CONNECTIONS:-32}
if ! command -v wrk >/dev/null; then
  apt-get update -qq && apt-get install -y -qq wrk
fi
cargo build --release --example load_target -q
BIN=target/release/examples/load_target
OUT=$(mktemp -d)
echo "raw wrk output: $OUT"
PORT=18090
SEARCH="/search?q=shoes&page=2&sort=price&size=42&color=red&brand=acme&lang=en&ref=home&min=10&max=90"
for round in $(seq 1 "$ROUNDS"); do
  for mode in none disabled rules block100k; do
    LOAD_MODE=$mode SQREEN_DEMO_ADDR=127.0.0.1:$PORT "$BIN" >"$OUT/server.log" 2>&1 &
    server=$!
    for _ in $(seq 1 100); do grep -q "listening on" "$OUT/server.log" && break; sleep 0.1; done
    for endpoint in root search echo; do
      case $endpoint in
        root) args=("http://127.0.0.1:$PORT/") ;;
        search) args=("http://127.0.0.1:$PORT$SEARCH") ;;
        echo) args=(-s benches/load/post.lua "http://127.0.0.1:$PORT/api/echo") ;;
      esac
      wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -H "X-Forwarded-For: 192.0.2.77" "${args[@]}" \
        >"$OUT/$round-$mode-$endpoint.txt"
    done
    kill "$server"; wait "$server" 2>/dev/null || true
  done
done
python3 - "$OUT" "$ROUNDS" <<'PY'
import re, statistics, sys, pathlib
out, rounds = pathlib.Path(sys.argv[1]), int(sys.argv[2])
def unit(v):
    m = re.match(r"([\d.]+)(us|ms|s)", v)
    return float(m.group(1)) * {"us": 1, "ms": 1000, "s": 1e6}[m.group(2)]
def read(f):
    t = f.read_text()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
    p50 = unit(re.search(r"^\s+50%\s+(\S+)", t, re.M).group(1))
    p99 = unit(re.search(r"^\s+99%\s+(\S+)", t, re.M).group(1))
    return rps, p50, p99
modes = ["none", "disabled", "rules", "block100k"]
for endpoint in ["root", "search", "echo"]:
    print(f"\n{endpoint}: median over {rounds} rounds [min-max]")
    base = None
    for mode in modes:
        runs = [read(out / f"{r}-{mode}-{endpoint}.txt") for r in range(1, rounds + 1)]
        rps = [r[0] for r in runs]; p50 = [r[1] for r in runs]; p99 = [r[2] for r in runs]
        med = statistics.median(rps)
        if mode == "none":
            base = (med, statistics.median(p99))
        print(f"  {mode:10} {med:9.0f} req/s [{min(rps):.0f}-{max(rps):.0f}]  "
              f"ratio {med / base[0]:.3f}  p50 {statistics.median(p50):7.0f} us  "
              f"p99 {statistics.median(p99):7.0f} us (added {statistics.median(p99) - base[1]:+.0f} us)")
PY
