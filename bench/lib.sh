# Shared by bench/build.sh and bench/profiles.sh (source it; it defines functions only).
#
# make_app DIR APP N      a nextr app with N hello routes (api/r0.rs …), the workspace's
#                         runtime as a path dependency, serde + serde_json, src/lib.rs, and
#                         the workspace's Cargo.lock, so every app resolves the same versions
#                         and shares compiled dependencies in one CARGO_TARGET_DIR
# timed OUT CMD…          runs CMD, appends "wall cpu" seconds (cpu = user+sys of the whole
#                         process tree) to OUT; CMD's output goes to $LOG
# manifest_field APP JQ   python one-liner over APP/.nextr/routes-manifest.json
# report_durations STDERR "init_ms duration_ms" from the REPORT line `nextr invoke` printed
#
# BENCH_SMOKE=1 (read by the scripts that source this file): the smallest run that still goes
# through every step and every check of the script (a few routes, debug bundles, one run, no
# peers), with NEXTR and BENCH_TARGET_DIR given. The test suite runs it
# (cli/tests/bench_scripts.rs) so that the scripts keep working as nextr's output changes;
# its numbers mean nothing.

: "${ROOT:?set ROOT to the workspace root before sourcing bench/lib.sh}"
: "${LOG:=/dev/null}"
SMOKE="${BENCH_SMOKE:-0}"
if [ "$SMOKE" = 1 ] && [ -z "${NEXTR:-}" ]; then
    echo "BENCH_SMOKE=1 needs NEXTR (the nextr binary under test)" >&2
    exit 2
fi

hello_route() { # $1 = index
    cat <<RS
use nextr::prelude::*;

pub async fn handler(_req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.status(200).json(&json!({ "message": "Hello from route $1" }))
}
RS
}

make_app() { # $1 = dir, $2 = app name, $3 = routes
    local dir=$1 app=$2 n=$3 i
    rm -rf "$dir"
    mkdir -p "$dir/api" "$dir/src"
    cat > "$dir/Cargo.toml" <<TOML
[package]
name = "bench-app"
version = "0.1.0"
edition = "2021"
publish = false

[dependencies]
nextr = { path = "$ROOT/runtime" }
serde = { version = "1", features = ["derive"] }
serde_json = "1"

[workspace]
TOML
    printf 'app = "%s"\n' "$app" > "$dir/nextr.toml"
    cp "$ROOT/Cargo.lock" "$dir/Cargo.lock"
    echo 'pub fn greeting(name: &str) -> String { format!("Hello, {name}!") }' > "$dir/src/lib.rs"
    for i in $(seq 0 $((n - 1))); do hello_route "$i" > "$dir/api/r$i.rs"; done
}

timed() { # $1 = file to append "wall cpu" to, then the command
    local out=$1
    shift
    /usr/bin/time -f "%e %U %S" -o "$out.time" "$@" >> "$LOG" 2>&1 || {
        echo "failed: $* (see $LOG)" >&2
        tail -n 30 "$LOG" >&2
        return 1
    }
    awk '{ printf "%.2f %.2f\n", $1, $2 + $3 }' "$out.time" >> "$out"
    rm -f "$out.time"
}

manifest_field() { # $1 = app dir, $2 = python expression over `m` (the manifest)
    python3 -c "import json,sys; m=json.load(open(sys.argv[1])); print($2)" \
        "$1/.nextr/routes-manifest.json"
}

report_durations() { # $1 = stderr of nextr invoke
    python3 - "$1" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
m = re.search(r"REPORT RequestId: \S+\tDuration: ([0-9.]+) ms.*?Init Duration: ([0-9.]+) ms", text)
if not m:
    sys.exit("no REPORT line with an Init Duration in " + sys.argv[1])
print(m.group(2), m.group(1))
PY
}
