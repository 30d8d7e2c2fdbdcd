#!/usr/bin/env bash
# `nextr build` (release) at scale, dependencies warm, against `cargo lambda build --release` on
# an equivalent package:
#   - wall (and CPU) seconds for a fresh app of 1, 10 and 40 hello routes; per extra route
#   - an incremental rebuild after editing one route of the 40: only that route's zip changes
#     (checked: exactly one sha256 differs and the build says "1 updated"), and a no-op rebuild
#   - the hello bundle's size
#   - cargo-lambda 1.9.2 (from PyPI, in a venv) building one package with 1 and 10 lambda_http
#     hello binaries (`--output-format zip`), and the same incremental edit
#
# usage: bench/build.sh
# env:   WORK (default /tmp/nextr-bench-build), NEXTR (default: target/release/nextr, built
#        first), VENV (default /tmp/nextr-bench-venv), SKIP_CARGO_LAMBDA=1, BENCH_TARGET_DIR
#        (default $WORK/target-nextr), BENCH_SMOKE=1 (1, 2 and 3 debug routes, no cargo-lambda:
#        see bench/lib.sh)
# Each run uses fresh app names and folders, so only the dependencies are warm.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="${WORK:-/tmp/nextr-bench-build}"
VENV="${VENV:-/tmp/nextr-bench-venv}"
LOG="$WORK/log.txt"
CL_VERSION=1.9.2
mkdir -p "$WORK"
: > "$LOG"
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
export CI=true
SIZES="1 10 40" EDIT=7 FLAGS=() PROFILE_DIR=release
if [ "$SMOKE" = 1 ]; then
    SIZES="1 2 3" EDIT=1 FLAGS=(--debug) PROFILE_DIR=debug SKIP_CARGO_LAMBDA=1
fi
MOST="${SIZES##* }"

if [ -z "${NEXTR:-}" ]; then
    cargo build --release -q -p nextr-cli --manifest-path "$ROOT/Cargo.toml"
    NEXTR="$ROOT/target/release/nextr"
fi
run_id=$(date +%s | tail -c 6)
wall() { cut -d' ' -f1 "$1"; }
cpu() { cut -d' ' -f2 "$1"; }
per() { python3 -c "import sys; a,b,n=map(float,sys.argv[1:]); print(f'{(b-a)/n:.2f}')" "$@"; }

echo "## nextr build ${FLAGS[*]:---release} ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
echo
export CARGO_TARGET_DIR="${BENCH_TARGET_DIR:-$WORK/target-nextr}"
d="$WORK/nextr"
rm -rf "$d"
mkdir -p "$d"
make_app "$d/warm" "warm$run_id" 1
timed "$d/t.warm" "$NEXTR" build "${FLAGS[@]}" "$d/warm"
for n in $SIZES; do
    make_app "$d/a$n" "a$n-$run_id" "$n"
    timed "$d/t.$n" "$NEXTR" build "${FLAGS[@]}" "$d/a$n"
done
last="$d/a$MOST"
cp "$last/.nextr/routes-manifest.json" "$d/before.json"
sed -i "s/Hello from route $EDIT\"/Hello again from route $EDIT\"/" "$last/api/r$EDIT.rs"
timed "$d/t.edit" "$NEXTR" build "${FLAGS[@]}" "$last"
# The summary's last line: "N functions (… zipped, 1 updated) in …" (the routes and $default).
tail -n 3 "$LOG" | grep -q " functions (.* 1 updated)" || { echo "the edit did not update exactly 1 zip:" >&2; tail -n 3 "$LOG" >&2; exit 1; }
changed=$(python3 - "$d/before.json" "$last/.nextr/routes-manifest.json" <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
sha = lambda m: {r["page"]: r["function"]["sha256"] for r in m["routes"]}
print(" ".join(p for p, s in sha(b).items() if sha(a)[p] != s))
PY
)
[ "$changed" = "/api/r$EDIT" ] || { echo "changed bundles: '$changed', expected /api/r$EDIT" >&2; exit 1; }
timed "$d/t.noop" "$NEXTR" build "${FLAGS[@]}" "$last"
hello_zip=$(manifest_field "$d/a1" 'm["routes"][0]["function"]["bytes"]')
fn=$(manifest_field "$d/a1" 'm["routes"][0]["function"]["name"]')
hello_bin=$(stat -c %s "$CARGO_TARGET_DIR/nextr/target/$PROFILE_DIR/$fn")

echo "| step | wall (s) | CPU (s) |"
echo "|---|---|---|"
echo "| first build, dependencies cold (1 route) | $(wall "$d/t.warm") | $(cpu "$d/t.warm") |"
for n in $SIZES; do echo "| $n route(s), dependencies warm | $(wall "$d/t.$n") | $(cpu "$d/t.$n") |"; done
for n in $SIZES; do
    [ "$n" = 1 ] && continue
    echo "| per extra route, 1 → $n | $(per "$(wall "$d/t.1")" "$(wall "$d/t.$n")" $((n - 1))) | $(per "$(cpu "$d/t.1")" "$(cpu "$d/t.$n")" $((n - 1))) |"
done
echo "| edit one route of $MOST, rebuild (1 zip changed: $changed) | $(wall "$d/t.edit") | $(cpu "$d/t.edit") |"
echo "| rebuild of $MOST, nothing changed | $(wall "$d/t.noop") | $(cpu "$d/t.noop") |"
echo
echo "hello bundle: $hello_zip bytes zipped ($(python3 -c "print(f'{$hello_zip/1e6:.2f}')") MB), binary $hello_bin bytes"
echo

[ "${SKIP_CARGO_LAMBDA:-0}" = 1 ] && exit 0

# cargo-lambda, from PyPI.
if ! "$VENV/bin/cargo-lambda" lambda --version 2> /dev/null | grep -q "^cargo-lambda $CL_VERSION "; then
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check "cargo-lambda==$CL_VERSION" >> "$LOG" 2>&1
fi
export PATH="$VENV/bin:$PATH"
export CARGO_TARGET_DIR="$WORK/target-cargo-lambda"
peer="$ROOT/../shared/peers/cargo-lambda"
[ -d "$peer" ] || peer=/work/shared/peers/cargo-lambda

make_package() { # $1 = dir, $2 = functions
    local dir=$1 n=$2 i
    rm -rf "$dir"
    mkdir -p "$dir/src/bin"
    sed '/^\[\[bin\]\]/,$d' "$peer/Cargo.toml" > "$dir/Cargo.toml"
    cp "$peer/Cargo.lock" "$dir/Cargo.lock"
    for i in $(seq 0 $((n - 1))); do
        sed "s/Hello from Next.js!/Hello from function $i/" "$peer/src/main.rs" > "$dir/src/bin/f$i.rs"
    done
}
cl_build=(bash -c 'cd "$1" && cargo lambda build --release --output-format zip' cl_build)
c="$WORK/cargo-lambda"
rm -rf "$c"
mkdir -p "$c"
make_package "$c/warm" 1
timed "$c/t.warm" "${cl_build[@]}" "$c/warm"
for n in 1 10; do
    make_package "$c/p$n" "$n"
    timed "$c/t.$n" "${cl_build[@]}" "$c/p$n"
done
sed -i 's/Hello from function 7/Hello again from function 7/' "$c/p10/src/bin/f7.rs"
timed "$c/t.edit" "${cl_build[@]}" "$c/p10"
timed "$c/t.noop" "${cl_build[@]}" "$c/p10"
cl_zip=$(stat -c %s "$CARGO_TARGET_DIR/lambda/f0/bootstrap.zip")

echo "## cargo lambda build --release --output-format zip (cargo-lambda $CL_VERSION)"
echo
echo "| step | wall (s) | CPU (s) |"
echo "|---|---|---|"
echo "| first build, dependencies cold (1 function) | $(wall "$c/t.warm") | $(cpu "$c/t.warm") |"
for n in 1 10; do echo "| $n function(s), dependencies warm | $(wall "$c/t.$n") | $(cpu "$c/t.$n") |"; done
echo "| per extra function, 1 → 10 | $(per "$(wall "$c/t.1")" "$(wall "$c/t.10")" 9) | $(per "$(cpu "$c/t.1")" "$(cpu "$c/t.10")" 9) |"
echo "| edit one function of 10, rebuild | $(wall "$c/t.edit") | $(cpu "$c/t.edit") |"
echo "| rebuild of 10, nothing changed | $(wall "$c/t.noop") | $(cpu "$c/t.noop") |"
echo
echo "hello bundle: $cl_zip bytes zipped ($(python3 -c "print(f'{$cl_zip/1e6:.2f}')") MB)"
