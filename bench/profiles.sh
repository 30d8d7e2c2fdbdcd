#!/usr/bin/env bash
# Which cargo profile should route bundles get? For each candidate profile (set through
# cargo's CARGO_PROFILE_<NAME>_<KEY> variables, which win over the bundle crate's own
# [profile] table), with dependencies warm:
#   - wall/CPU seconds of `nextr build` for a fresh app of 1 and of 10 hello routes, and the
#     cost per extra route ((t10 - t1) / 9)
#   - the hello bundle: zipped and unzipped size
#   - cold start: spawn of the bootstrap → first response, as the emulator measures it
#     (`nextr invoke`'s REPORT line: Init Duration + Duration), median of RUNS
#
# usage: bench/profiles.sh release|dev [CANDIDATE…]   (default: every candidate of the mode)
# env:   WORK (default /tmp/nextr-bench-profiles), RUNS (cold starts per candidate, default 5),
#        NEXTR (default: target/release/nextr, built first), BENCH_TARGET_DIR (default
#        $WORK/target), BENCH_SMOKE=1 (1 and 2 routes, one cold start: see bench/lib.sh)
# Every run uses fresh app names, so nothing of the apps is cached; dependencies compiled for
# a candidate stay in $WORK/target (the first build of a candidate compiles them: "deps" column).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
MODE="${1:?usage: bench/profiles.sh release|dev [CANDIDATE…]}"
shift
WORK="${WORK:-/tmp/nextr-bench-profiles}"
RUNS="${RUNS:-5}"
LOG="$WORK/log.txt"
mkdir -p "$WORK"
: > "$LOG"
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
export CARGO_TARGET_DIR="${BENCH_TARGET_DIR:-$WORK/target}" CI=true
MANY=10
if [ "$SMOKE" = 1 ]; then MANY=2 RUNS=1; fi

if [ -z "${NEXTR:-}" ]; then
    cargo build --release -q -p nextr-cli --manifest-path "$ROOT/Cargo.toml"
    NEXTR="$ROOT/target/release/nextr"
fi

# name → space-separated KEY=VALUE settings of the profile (every key given, so that the
# bundle crate's own [profile] table does not matter).
declare -A RELEASE=(
    [o3]="OPT_LEVEL=3 LTO=false CODEGEN_UNITS=16 STRIP=none DEBUG=false"
    [o3-strip]="OPT_LEVEL=3 LTO=false CODEGEN_UNITS=16 STRIP=true DEBUG=false"
    [o3-thin-strip]="OPT_LEVEL=3 LTO=thin CODEGEN_UNITS=16 STRIP=true DEBUG=false"
    [o3-fat-cgu1-strip]="OPT_LEVEL=3 LTO=fat CODEGEN_UNITS=1 STRIP=true DEBUG=false"
    [o3-cgu1-strip]="OPT_LEVEL=3 LTO=false CODEGEN_UNITS=1 STRIP=true DEBUG=false"
    [os-strip]="OPT_LEVEL=s LTO=false CODEGEN_UNITS=16 STRIP=true DEBUG=false"
    [oz-strip]="OPT_LEVEL=z LTO=false CODEGEN_UNITS=16 STRIP=true DEBUG=false"
    [os-fat-cgu1-strip]="OPT_LEVEL=s LTO=fat CODEGEN_UNITS=1 STRIP=true DEBUG=false"
    [os-cgu1-strip]="OPT_LEVEL=s LTO=false CODEGEN_UNITS=1 STRIP=true DEBUG=false"
    [oz-cgu1-strip]="OPT_LEVEL=z LTO=false CODEGEN_UNITS=1 STRIP=true DEBUG=false"
    [o2-cgu1-strip]="OPT_LEVEL=2 LTO=false CODEGEN_UNITS=1 STRIP=true DEBUG=false"
)
RELEASE_ORDER="o3 o3-strip o3-thin-strip o3-cgu1-strip o3-fat-cgu1-strip os-strip oz-strip os-fat-cgu1-strip os-cgu1-strip oz-cgu1-strip o2-cgu1-strip"
declare -A DEV=(
    [dev-default]="OPT_LEVEL=0 DEBUG=true STRIP=none"
    [dev-line-tables]="OPT_LEVEL=0 DEBUG=line-tables-only STRIP=none"
    [dev-nodebug]="OPT_LEVEL=0 DEBUG=false STRIP=none"
    [dev-nodebug-strip]="OPT_LEVEL=0 DEBUG=false STRIP=debuginfo"
)
DEV_ORDER="dev-default dev-line-tables dev-nodebug dev-nodebug-strip"

case "$MODE" in
release) PROFILE=RELEASE; FLAG=(); INVOKE_FLAG=(--release); ORDER=$RELEASE_ORDER ;;
dev) PROFILE=DEV; FLAG=(--debug); INVOKE_FLAG=(); ORDER=$DEV_ORDER ;;
*) echo "mode must be release or dev" >&2; exit 2 ;;
esac
[ $# -gt 0 ] && ORDER="$*"

run_id=$(date +%s | tail -c 6)
printf '| profile (%s) | deps (s) | 1 route (s) | %s routes (s) | per extra route, wall (CPU) | hello zip | hello binary | cold start, median of %s (init + first response) |\n' "$MODE" "$MANY" "$RUNS"
printf '|---|---|---|---|---|---|---|---|\n'
for name in $ORDER; do
    eval "settings=\${${PROFILE}[\$name]:-}"
    if [ -z "$settings" ]; then echo "unknown candidate $name" >&2; exit 2; fi
    envs=()
    for kv in $settings; do envs+=("CARGO_PROFILE_${PROFILE}_$kv"); done
    nextr=(env "${envs[@]}" "$NEXTR")
    d="$WORK/$name"
    rm -rf "$d"
    mkdir -p "$d"
    tag="${name//[^a-z0-9]/}"
    tag="${tag:0:16}"
    # Dependencies: a throwaway app (a no-op when they are already compiled for this profile).
    make_app "$d/warm" "w$tag$run_id" 1
    timed "$d/t.deps" "${nextr[@]}" build "${FLAG[@]}" "$d/warm"
    make_app "$d/a1" "a$tag$run_id" 1
    timed "$d/t.1" "${nextr[@]}" build "${FLAG[@]}" "$d/a1"
    make_app "$d/a$MANY" "b$tag$run_id" "$MANY"
    timed "$d/t.many" "${nextr[@]}" build "${FLAG[@]}" "$d/a$MANY"
    zip_bytes=$(manifest_field "$d/a1" 'm["routes"][0]["function"]["bytes"]')
    fn=$(manifest_field "$d/a1" 'm["routes"][0]["function"]["name"]')
    prof_dir=$([ "$MODE" = release ] && echo release || echo debug)
    bin_bytes=$(stat -c %s "$CARGO_TARGET_DIR/nextr/target/$prof_dir/$fn")
    : > "$d/cold"
    for _ in $(seq 1 "$RUNS"); do
        "${nextr[@]}" invoke /api/r0 "$d/a1" "${INVOKE_FLAG[@]}" > "$d/invoke.out" 2> "$d/invoke.err" ||
            { cat "$d/invoke.err" >&2; exit 1; }
        report_durations "$d/invoke.err" >> "$d/cold"
    done
    python3 - "$d" "$name" "$zip_bytes" "$bin_bytes" "$MANY" <<'PY'
import statistics, sys
d, name, zip_bytes, bin_bytes, many = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
def wc(f):
    w, c = open(f"{d}/{f}").read().split()
    return float(w), float(c)
deps, t1, t10 = wc("t.deps"), wc("t.1"), wc("t.many")
cold = [tuple(map(float, l.split())) for l in open(f"{d}/cold") if l.strip()]
init = statistics.median(c[0] for c in cold)
total = statistics.median(c[0] + c[1] for c in cold)
print(f"| {name} | {deps[0]:.0f} | {t1[0]:.1f} | {t10[0]:.1f} | {(t10[0]-t1[0])/(many-1):.2f} s ({(t10[1]-t1[1])/(many-1):.2f} s) "
      f"| {zip_bytes/1e6:.2f} MB | {bin_bytes/1e6:.2f} MB | {total:.1f} ms ({init:.1f} + {total-init:.1f}) |")
PY
done
