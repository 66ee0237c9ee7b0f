#!/usr/bin/env bash
# End-to-end overhead of the layer under load, on 127.0.0.1 only.
# Builds examples/load_target.rs in release mode and measures, in one run and alternating,
# four configurations (no layer; layer disabled; quickstart rules; rules + 100,000-CIDR deny list
# with WAF block), and for reference axum with a layer that does nothing (identity), on GET /,
# a 10-parameter GET /search and a 2 KiB JSON POST /api/echo, over ROUNDS rounds (default 3),
# the servers running side by side and wrk alternating between them. Prints requests/s and
# p50/p99 per configuration (median and spread over the rounds), the ratio to "no layer" and
# the added p99, taken round by round, and the server's CPU time per request (from
# /proc/<pid>/stat, kernel included) and what the layer adds to it. Installs wrk from Debian's
# packages if missing. CLUSTER=1 adds cluster mode (see below). With PIN=1 the servers run on the first core and wrk on the second
# (taskset, from util-linux); on a 2-core machine this makes the ratios steadier (see
# benches/README.md, "load").
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5s}
CONNECTIONS=${CONNECTIONS:-32}
# PIN=1: the servers on the first core, wrk on the second (`taskset`), so that they do not take
# turns on both cores: the servers' throughput is then their CPU cost alone
PIN=${PIN:-0}
SERVER_CPU=(); WRK_CPU=()
if [ "$PIN" = 1 ]; then
  SERVER_CPU=(taskset -c 0); WRK_CPU=(taskset -c 1)
fi
if ! command -v wrk >/dev/null; then
  apt-get update -qq && apt-get install -y -qq wrk
fi
cargo build --release --example load_target -q
BIN=target/release/examples/load_target
OUT=$(mktemp -d)
echo "raw wrk output: $OUT"
BASE_PORT=18090
SEARCH="/search?q=shoes&page=2&sort=price&size=42&color=red&brand=acme&lang=en&ref=home&min=10&max=90"
# `identity` (axum with a layer that does nothing) is the floor any layer starts from
MODES=(none identity disabled rules block100k)
# CLUSTER=1: also `cluster` (the quickstart rules in cluster mode, on a redis-server this script
# starts on a free loopback port); CLUSTER=only: `rules` and `cluster` alone
CLUSTER=${CLUSTER:-0}
if [ "$CLUSTER" != 0 ]; then
  if ! command -v redis-server >/dev/null; then
    apt-get update -qq && apt-get install -y -qq redis-server
  fi
  REDIS_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no >/dev/null 2>&1 &
  REDIS_PID=$!
  export SQREEN_REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
  if [ "$CLUSTER" = only ]; then MODES=(rules cluster); else MODES+=(cluster); fi
fi
N=${#MODES[@]}
# All four servers run for the whole measurement, each on its own port, idle while another is
# loaded: wrk alternates between them endpoint by endpoint, in an order rotated every round, so
# the machine's drift falls on every configuration alike.
pids=()
trap 'kill "${pids[@]}" ${REDIS_PID:-} 2>/dev/null || true' EXIT
for i in "${!MODES[@]}"; do
  LOAD_MODE=${MODES[$i]} SQREEN_DEMO_ADDR=127.0.0.1:$((BASE_PORT + i)) "${SERVER_CPU[@]}" "$BIN" \
    >"$OUT/server-${MODES[$i]}.log" 2>&1 &
  pids+=($!)
done
for i in "${!MODES[@]}"; do
  for _ in $(seq 1 300); do grep -q "listening on" "$OUT/server-${MODES[$i]}.log" && break; sleep 0.1; done
  grep -q "listening on" "$OUT/server-${MODES[$i]}.log" || { cat "$OUT/server-${MODES[$i]}.log"; exit 1; }
done
# the server's CPU time so far (user + system, in clock ticks): its CPU per request is less
# sensitive to the machine's noise than its requests per second, which wrk shares the cores with
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
for round in $(seq 1 "$ROUNDS"); do
  for endpoint in root search echo; do
    for k in $(seq 0 $((N - 1))); do
      i=$(( (k + round - 1) % N ))
      mode=${MODES[$i]}
      port=$((BASE_PORT + i))
      case $endpoint in
        root) args=("http://127.0.0.1:$port/") ;;
        search) args=("http://127.0.0.1:$port$SEARCH") ;;
        echo) args=(-s benches/load/post.lua "http://127.0.0.1:$port/api/echo") ;;
      esac
      before=$(cpu_ticks "${pids[$i]}")
      "${WRK_CPU[@]}" wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -H "X-Forwarded-For: 192.0.2.77" "${args[@]}" \
        >"$OUT/$round-$mode-$endpoint.txt"
      echo $(( $(cpu_ticks "${pids[$i]}") - before )) >"$OUT/$round-$mode-$endpoint.cpu"
    done
  done
done
python3 - "$OUT" "$ROUNDS" "$(getconf CLK_TCK)" "${MODES[@]}" <<'PY'
import re, statistics, sys, pathlib
out, rounds, tck = pathlib.Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
modes = sys.argv[4:]
def unit(v):
    m = re.match(r"([\d.]+)(us|ms|s)", v)
    return float(m.group(1)) * {"us": 1, "ms": 1000, "s": 1e6}[m.group(2)]
def read(f):
    t = f.read_text()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
    p50 = unit(re.search(r"^\s+50%\s+(\S+)", t, re.M).group(1))
    p99 = unit(re.search(r"^\s+99%\s+(\S+)", t, re.M).group(1))
    requests = int(re.search(r"(\d+) requests in", t).group(1))
    ticks = int(f.with_suffix(".cpu").read_text())
    # the server's CPU time per request, kernel share (loopback TCP) included
    cpu = ticks / tck * 1e6 / max(requests, 1)
    return rps, p50, p99, cpu
for endpoint in ["root", "search", "echo"]:
    print(f"\n{endpoint}: median over {rounds} rounds [min-max], ratios to {modes[0]}")
    base = None
    for mode in modes:
        runs = [read(out / f"{r}-{mode}-{endpoint}.txt") for r in range(1, rounds + 1)]
        rps = [r[0] for r in runs]; p50 = [r[1] for r in runs]; p99 = [r[2] for r in runs]
        med = statistics.median(rps)
        if base is None:
            base = runs
        # ratios and added p99 taken round by round (the runs of one round are minutes apart at
        # most), then their median and spread
        ratios = [r[0] / b[0] for r, b in zip(runs, base)]
        added = [r[2] - b[2] for r, b in zip(runs, base)]
        cpu = [r[3] for r in runs]
        cpu_added = [r[3] - b[3] for r, b in zip(runs, base)]
        print(f"  {mode:10} {med:9.0f} req/s [{min(rps):.0f}-{max(rps):.0f}]  "
              f"ratio {statistics.median(ratios):.3f} [{min(ratios):.3f}-{max(ratios):.3f}]  "
              f"p50 {statistics.median(p50):6.0f} us  p99 {statistics.median(p99):6.0f} us "
              f"(added {statistics.median(added):+.0f} us [{min(added):+.0f}..{max(added):+.0f}])")
        print(f"  {'':10} server CPU {statistics.median(cpu):5.2f} us/request "
              f"(added {statistics.median(cpu_added):+.2f} [{min(cpu_added):+.2f}..{max(cpu_added):+.2f}])")
PY
