#!/usr/bin/env bash
# What a pass-through proxy.rs costs a request through `nextr dev`: the same one-route app
# served twice, without and with a proxy.rs whose matcher covers the route and which answers
# `NextResponse::next()` (so every request runs it), loaded with wrk at c=1 (keep-alive, one
# thread), the two variants alternating ROUNDS times in one run so both see the same machine.
# Prints each round's requests/s and mean latency, and the ratio of the medians
# (with proxy / without): the target is a latency ratio of at most 1.10.
#
# Both apps are release builds made before any timing (`nextr build --out`), served with
# `nextr dev DIR --release` (no cargo while timing). The in-process cost of the proxy alone is
# `cargo bench -p nextr --bench proxy`.
#
# usage: bench/proxy.sh [ROUNDS=5] [SECONDS=10] [WORK_DIR=${TMPDIR:-/tmp}/nextr-bench-proxy]
# env:   NEXTR (default: the workspace's release build), BENCH_TARGET_DIR (default
#        WORK_DIR/target), BENCH_SMOKE=1 (1 round of 1 s, debug builds: see bench/lib.sh)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
ROUNDS="${1:-5}"
SECS="${2:-10}"
WORK="${3:-${TMPDIR:-/tmp}/nextr-bench-proxy}"
LOG="$WORK/bench.log"
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
NEXTR="${NEXTR:-${CARGO_TARGET_DIR:-$ROOT/target}/release/nextr}"
export CARGO_TARGET_DIR="${BENCH_TARGET_DIR:-$WORK/target}"
# Release bundles, served as built (`nextr build` makes release bundles; dev serves the folder).
BUILD_FLAGS=()
if [ "$SMOKE" = 1 ]; then ROUNDS=1 SECS=1 BUILD_FLAGS=(--debug); fi
command -v wrk > /dev/null || { echo "bench/proxy.sh needs wrk (Debian: apt-get install wrk)" >&2; exit 2; }
[ -x "$NEXTR" ] || { echo "no nextr at $NEXTR: cargo build --release -p nextr-cli, or set NEXTR" >&2; exit 2; }
mkdir -p "$WORK"
: > "$LOG"

make_app "$WORK/plain" bench-plain 1
make_app "$WORK/proxied" bench-proxied 1
cat > "$WORK/proxied/proxy.rs" <<'RS'
use nextr::proxy::prelude::*;

nextr::config! {
    matcher: ["/api/:path*"],
}

pub async fn proxy(_req: NextRequest) -> NextResponse {
    NextResponse::next()
}
RS

for app in plain proxied; do
    echo "building $app…" >&2
    "$NEXTR" build "$WORK/$app" "${BUILD_FLAGS[@]}" --out "$WORK/$app/.nextr/dev" >> "$LOG" 2>&1 || {
        echo "nextr build $app failed (see $LOG)" >&2; tail -n 30 "$LOG" >&2; exit 1; }
done

# One variant: serve it, warm it, load it; prints "requests/s latency_ms".
measure() { # $1 = app, $2 = port
    local app=$1 port=$2 pid out
    "$NEXTR" dev "$WORK/$app/.nextr/dev" --port "$port" > "$WORK/$app.dev.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 200); do grep -q 'ready on' "$WORK/$app.dev.log" && break; sleep 0.1; done
    grep -q 'ready on' "$WORK/$app.dev.log" || { echo "nextr dev $app did not start:" >&2; cat "$WORK/$app.dev.log" >&2; kill "$pid"; exit 1; }
    local url="http://127.0.0.1:$port/api/r0"
    curl -sf "$url" > /dev/null
    wrk -t1 -c1 -d1s "$url" > /dev/null
    out=$(wrk -t1 -c1 -d"${SECS}s" --latency "$url")
    kill "$pid"; wait "$pid" 2> /dev/null || true
    local rps lat
    rps=$(awk '/^Requests\/sec/ {print $2}' <<< "$out")
    lat=$(awk '$1 == "Latency" {print $2; exit}' <<< "$out")
    python3 - "$rps" "$lat" <<'PY'
import re, sys
rps, lat = sys.argv[1], sys.argv[2]
value, unit = re.match(r"([0-9.]+)(us|ms|s)", lat).groups()
ms = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
print(f"{float(rps):.1f} {ms:.4f}")
PY
}

echo "load: $(uptime)" >&2
printf '%-6s %-8s %12s %12s\n' round variant 'requests/s' 'latency ms'
results=()
port=3400
for round in $(seq 1 "$ROUNDS"); do
    for app in plain proxied; do
        port=$((port + 1))
        read -r rps lat < <(measure "$app" "$port")
        printf '%-6s %-8s %12s %12s\n' "$round" "$app" "$rps" "$lat"
        results+=("$app $rps $lat")
    done
done
printf '%s\n' "${results[@]}" | python3 -c '
import statistics, sys
rows = [l.split() for l in sys.stdin if l.strip()]
med = lambda app, i: statistics.median(float(r[i]) for r in rows if r[0] == app)
plain, proxied = med("plain", 2), med("proxied", 2)
rps_plain, rps_proxied = med("plain", 1), med("proxied", 1)
print(f"median latency: without proxy {plain:.4f} ms, with {proxied:.4f} ms: ratio {proxied / plain:.3f} (target <= 1.10)")
print(f"median requests/s: without {rps_plain:.1f}, with {rps_proxied:.1f}: ratio {rps_proxied / rps_plain:.3f}")
'
