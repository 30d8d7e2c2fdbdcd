#!/usr/bin/env bash
# `nextr dev` serving examples/docs' /api/hello, side by side in one run with its peers from
# ../shared/peers: `next start` serving the same route in JavaScript, and cargo-lambda's local
# Lambda emulator serving an equivalent lambda_http function (`cargo lambda watch`, and its
# `--only-lambda-apis` mode with 8 release bootstraps). Same load for all: wrk, keep-alive,
# c=1 and c=32 (see ../shared/peers/README.md for the harness).
#
# nextr is built before the timed starts (`--extra-prepare`: the release build `nextr dev
# --release` serves, in its own folder `.nextr/dev`), so its cold start is `nextr dev
# --release` finding that build current by its fingerprint (no cargo at all), starting the
# emulator, and the first invocation's cold start, not a compile. The Lambda-style cold start
# of the hello bundle itself (`Init Duration` of its first REPORT line) is printed at the end.
#
# usage: bench/dev.sh [compare.sh options…]   e.g. --seconds 3 --warmup 1 --cold-runs 1
# env:   PEERS_DIR (default ../shared/peers), BENCH_PEERS (default "next cargo-lambda-watch
#        cargo-lambda"), OUT (default $PEERS_CACHE/results/nextr-dev-<time>)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# The nextr under test: the workspace's release build (honouring CARGO_TARGET_DIR).
NEXTR="${CARGO_TARGET_DIR:-$ROOT/target}/release/nextr"
PEERS_DIR="${PEERS_DIR:-$ROOT/../shared/peers}"
OUT="${OUT:-${PEERS_CACHE:-/tmp/nextr-peers}/results/nextr-dev-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$OUT"

echo "load: $(uptime)" >&2
"$PEERS_DIR/compare.sh" \
    --peers "${BENCH_PEERS:-next cargo-lambda-watch cargo-lambda}" \
    --extra "$NEXTR dev examples/docs --release --lambda-logs --port {PORT}" \
    --extra-ready 'ready on' \
    --extra-prepare "cargo build --release -p nextr-cli && $NEXTR build examples/docs --out examples/docs/.nextr/dev" \
    --extra-name nextr \
    --extra-cwd "$ROOT" \
    --out "$OUT" \
    "$@"

# The hello bundle's own cold start, as Lambda reports it: the Init Duration of the first
# REPORT line of each start of nextr dev (later ones are the scale-out under load).
inits=$(for log in "$OUT"/nextr.server*.log; do
    [ -f "$log" ] || continue
    grep -h '^\[/api/hello\] REPORT' "$log" | grep -o 'Init Duration: [0-9.]* ms' | head -1 | awk '{print $3}'
done | sort -n)
if [ -n "$inits" ]; then
    n=$(echo "$inits" | wc -l)
    median=$(echo "$inits" | awk -v n="$n" 'NR == int((n + 1) / 2) {print}')
    echo
    echo "hello bundle Init Duration (first REPORT of each of $n starts): median $median ms, range $(echo "$inits" | head -1)–$(echo "$inits" | tail -1) ms"
fi
echo "results: $OUT" >&2
