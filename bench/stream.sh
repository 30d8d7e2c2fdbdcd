#!/usr/bin/env bash
# Streaming through `nextr dev`, side by side in one run with `next start` serving the same
# routes in JavaScript (issue 12's benchmarks):
#
#  1. time to the first event and the gaps between events of the Next.js docs' SSE example
#     (examples/stream/api/events.rs against pages/api/events.js, the docs' code as written):
#     RUNS full requests each;
#  2. throughput of a 100 MB streamed body (examples/stream/api/big.rs against
#     pages/api/big.js, both 64 KiB writes that wait for drain);
#  3. the buffered hello (examples/docs /api/hello, wrk c=1) of this nextr against a baseline
#     nextr (BASELINE_NEXTR, built from BASELINE_SRC: a checkout of the commit to compare with),
#     alternating A B A B so that load drifts hit both.
#
# usage: bench/stream.sh            env: RUNS (3), SECONDS_C1 (10), BASELINE_NEXTR, BASELINE_SRC,
#                                        PEERS_DIR (../shared/peers), PEERS_CACHE (/tmp/nextr-peers)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
NEXTR="${CARGO_TARGET_DIR:-$ROOT/target}/release/nextr"
PEERS_DIR="${PEERS_DIR:-$ROOT/../shared/peers}"
CACHE="${PEERS_CACHE:-/tmp/nextr-peers}"
RUNS="${RUNS:-3}"
SECONDS_C1="${SECONDS_C1:-10}"
OUT="$CACHE/results/stream-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
CLIENT="$ROOT/bench/sse_client.py"
pids=()
cleanup() { for p in "${pids[@]}"; do kill -TERM -- "-$p" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_200() { # $1 = url
    for _ in $(seq 1 3000); do
        curl -fso /dev/null "$1" && return 0
        sleep 0.1
    done
    echo "no 200 from $1" >&2
    return 1
}
start() { # $1 = log, then the command; prints the session's pid
    setsid "${@:2}" > "$1" 2>&1 &
    pids+=($!)
}
stop_last() { local p=${pids[-1]}; kill -TERM -- "-$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; unset 'pids[-1]'; }

echo "load: $(uptime)" >&2
echo "== prepare" >&2
(cd "$ROOT" && cargo build --release -p nextr-cli >&2)
"$NEXTR" build "$ROOT/examples/stream" --out "$ROOT/examples/stream/.nextr/dev" >&2
"$NEXTR" build "$ROOT/examples/docs" --out "$ROOT/examples/docs/.nextr/dev" >&2

# The Next.js peer: the shared peer app plus the two streaming routes, built once.
"$PEERS_DIR/next.sh" --prepare >&2
NEXT_APP="$CACHE/next-stream-app"
mkdir -p "$NEXT_APP/pages/api"
cp "$PEERS_DIR/next-app/package.json" "$PEERS_DIR/next-app/next.config.js" "$NEXT_APP/"
# A real copy: Turbopack refuses a symlinked node_modules.
[ -L "$NEXT_APP/node_modules" ] && rm "$NEXT_APP/node_modules"
[ -d "$NEXT_APP/node_modules" ] || cp -a "$PEERS_DIR/next-app/node_modules" "$NEXT_APP/node_modules"
cat > "$NEXT_APP/pages/api/events.js" <<'JS'
export default async function handler(req, res) {
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store' })
  let i = 0
  while (i < 10) {
    res.write(`data: ${i}\n\n`)
    i++
    await new Promise((resolve) => setTimeout(resolve, 1000))
  }
  res.end()
}
JS
cat > "$NEXT_APP/pages/api/big.js" <<'JS'
export const config = { api: { responseLimit: false } }
export default async function handler(req, res) {
  const total = Number(req.query.mb ?? 10) * 1024 * 1024
  res.writeHead(200, { 'Content-Type': 'application/octet-stream' })
  const chunk = Buffer.alloc(64 * 1024, 'x')
  for (let sent = 0; sent < total; sent += chunk.length) {
    const part = sent + chunk.length <= total ? chunk : chunk.subarray(0, total - sent)
    if (!res.write(part)) await new Promise((resolve) => res.once('drain', resolve))
  }
  res.end()
}
JS
(cd "$NEXT_APP" && NEXT_TELEMETRY_DISABLED=1 node_modules/.bin/next build > "$OUT/next-build.log" 2>&1)

run_stream_checks() { # $1 = name, $2 = base url
    local name=$1 base=$2 i
    python3 "$CLIENT" events "$base/api/events" > /dev/null # warm: the first start is a cold start
    for i in $(seq 1 "$RUNS"); do
        echo "{\"system\":\"$name\",\"check\":\"events\",\"result\":$(python3 "$CLIENT" events "$base/api/events")}" | tee -a "$OUT/results.jsonl"
    done
    python3 "$CLIENT" bulk "$base/api/big?mb=10" > /dev/null
    for i in $(seq 1 "$RUNS"); do
        echo "{\"system\":\"$name\",\"check\":\"100MB\",\"result\":$(python3 "$CLIENT" bulk "$base/api/big?mb=100")}" | tee -a "$OUT/results.jsonl"
    done
}

echo "== streaming: nextr dev (REST front) vs next start" >&2
port=$(free_port)
start "$OUT/nextr-stream.log" "$NEXTR" dev "$ROOT/examples/stream" --release --port "$port"
wait_200 "http://127.0.0.1:$port/api/hello"
run_stream_checks nextr "http://127.0.0.1:$port"
stop_last
port=$(free_port)
start "$OUT/next.log" env NEXT_TELEMETRY_DISABLED=1 bash -c "cd '$NEXT_APP' && exec node_modules/.bin/next start -p $port -H 127.0.0.1"
wait_200 "http://127.0.0.1:$port/api/big?mb=0"
run_stream_checks next "http://127.0.0.1:$port"
stop_last

if [ -n "${BASELINE_NEXTR:-}" ] && [ -n "${BASELINE_SRC:-}" ]; then
    echo "== buffered hello, c=1: this nextr vs $BASELINE_NEXTR" >&2
    "$BASELINE_NEXTR" build "$BASELINE_SRC/examples/docs" --out "$BASELINE_SRC/examples/docs/.nextr/dev" >&2
    for round in 1 2; do
        for sys in baseline current; do
            if [ "$sys" = baseline ]; then bin=$BASELINE_NEXTR; app=$BASELINE_SRC/examples/docs; else bin=$NEXTR; app=$ROOT/examples/docs; fi
            port=$(free_port)
            start "$OUT/hello-$sys-$round.log" "$bin" dev "$app" --release --port "$port"
            wait_200 "http://127.0.0.1:$port/api/hello"
            "$PEERS_DIR/load.sh" "http://127.0.0.1:$port/api/hello" 32 2 > /dev/null # warm-up
            echo "{\"system\":\"$sys\",\"check\":\"hello-c1\",\"round\":$round,\"result\":$("$PEERS_DIR/load.sh" "http://127.0.0.1:$port/api/hello" 1 "$SECONDS_C1")}" | tee -a "$OUT/results.jsonl"
            stop_last
        done
    done
fi

python3 - "$OUT/results.jsonl" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def med(xs): return statistics.median(xs) if xs else float("nan")
print("\n| system | first event ms (median) | event gaps ms (median, min–max) | 100 MB MB/s (median) |")
print("|---|---|---|---|")
for s in ("nextr", "next"):
    ev = [r["result"] for r in rows if r["system"] == s and r["check"] == "events"]
    bulk = [r["result"]["mb_per_s"] for r in rows if r["system"] == s and r["check"] == "100MB"]
    gaps = [g for e in ev for g in e["gaps_ms"]]
    if ev:
        print(f"| {s} | {med([e['first_event_ms'] for e in ev]):.1f} | {med(gaps):.0f} ({min(gaps):.0f}–{max(gaps):.0f}) | {med(bulk):.0f} |")
hello = {s: [r["result"]["rps"] for r in rows if r["check"] == "hello-c1" and r["system"] == s] for s in ("baseline", "current")}
if hello["baseline"]:
    b, c = med(hello["baseline"]), med(hello["current"])
    print(f"\nbuffered hello c=1: baseline {b:.0f} rps, current {c:.0f} rps, ratio {c / b:.3f}")
PY
echo "results: $OUT" >&2
