#!/usr/bin/env bash
# Instructions per request of examples/load_target.rs, in process, under callgrind: the noise of
# a shared machine does not touch them, so two builds can be compared on any day. For each
# configuration (MODES) and endpoint (ENDPOINTS) it runs N1 and N2 requests and prints
# (instructions at N2 - instructions at N1) / (N2 - N1), which leaves start-up out.
# Installs valgrind from Debian's packages if missing. Profiles are kept in $OUT.
set -euo pipefail
cd "$(dirname "$0")/../.."
N1=${N1:-1000}
N2=${N2:-6000}
MODES=${MODES:-none disabled rules}
ENDPOINTS=${ENDPOINTS:-root search echo}
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
if ! command -v valgrind >/dev/null; then
  apt-get update -qq && apt-get install -y -qq valgrind
fi
cargo build --release --example load_target -q
BIN=target/release/examples/load_target
count() {
  LOAD_MODE=$1 LOAD_ENDPOINT=$2 LOAD_INPROCESS=$3 valgrind --tool=callgrind \
    --callgrind-out-file="$4" "$BIN" 2>&1 | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
echo "instructions per request (callgrind profiles in $OUT)"
for mode in $MODES; do
  for endpoint in $ENDPOINTS; do
    a=$(count "$mode" "$endpoint" "$N1" "$OUT/$mode-$endpoint-$N1.out")
    b=$(count "$mode" "$endpoint" "$N2" "$OUT/$mode-$endpoint.out")
    printf '%-10s %-7s %8d\n' "$mode" "$endpoint" $(( (b - a) / (N2 - N1) ))
  done
done
