#!/usr/bin/env bash
# Routing speed, nextr vs Next.js's own matcher, side by side.
#
# usage: bench/routing.sh [--quick]
#
# 1. `cargo bench -p nextr --bench routing` (criterion; --quick for a short run): resolution of a
#    representative request mix on a 1,000-route table and on the spec corpus trees, and the
#    time to build the 1,000-route table.
# 2. The same bench binary exports its tables and request targets (NEXTR_ROUTING_EXPORT).
# 3. bench/next-matcher/match.js resolves the same targets with next@16.4.6's compiled router
#    utilities (installed on first use into bench/next-matcher/node_modules, git-ignored) the way
#    `next start` does, and cross-checks every answer's status and route with nextr's.
# 4. A table: ns/request for each, and the ratio.
#
# Needs cargo, node >= 20 and npm (for the first install). Numbers are medians on this machine;
# compare runs made back to back.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
quick=()
ms=2000
if [ "${1:-}" = "--quick" ]; then quick=(--quick); ms=700; fi

for tool in cargo node npm python3; do
  command -v "$tool" >/dev/null 2>&1 || { echo "bench/routing.sh: $tool is not on PATH" >&2; exit 1; }
done

matcher=$root/bench/next-matcher
if [ ! -f "$matcher/node_modules/next/package.json" ]; then
  echo "==> npm install next@16.4.6 into bench/next-matcher/node_modules" >&2
  (cd "$matcher" && npm install --no-audit --no-fund --loglevel=error --omit=optional >&2)
fi

echo "==> cargo bench -p nextr --bench routing ${quick[*]}" >&2
cargo bench -q -p nextr --bench routing -- "${quick[@]}" >&2

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
NEXTR_ROUTING_EXPORT=$work/export.json cargo bench -q -p nextr --bench routing >/dev/null
echo "==> node bench/next-matcher/match.js" >&2
node "$matcher/match.js" "$work/export.json" --ms-per-case "$ms" > "$work/next.jsonl"

target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
python3 - "$target_dir/criterion" "$work/next.jsonl" <<'EOF'
import json, os, sys
crit, next_file = sys.argv[1], sys.argv[2]

def nextr_ns(bench):
    d = os.path.join(crit, bench, "new")
    est = json.load(open(os.path.join(d, "estimates.json")))
    meta = json.load(open(os.path.join(d, "benchmark.json")))
    return est["median"]["point_estimate"] / meta["throughput"]["Elements"], meta["throughput"]["Elements"]

rows = [json.loads(l) for l in open(next_file)]
nx = {(r["table"], r["mode"]): r for r in rows}
version = rows[0]["next"] if rows else "?"

print()
print(f"Routing, ns per request (median). nextr: criterion; Next: next@{version} router utils on node {os.popen('node --version').read().strip()}")
print()
print("| table | requests | nextr resolve | Next match only | Next match + URL parse + query | Next full / nextr | mismatches |")
print("|---|---:|---:|---:|---:|---:|---:|")
for table, bench in [("1000-routes", "resolve/1000-routes"), ("spec-corpus", "resolve/spec-corpus")]:
    ns, n = nextr_ns(bench)
    m, f = nx[(table, "match")], nx[(table, "full")]
    print(f"| {table} | {n} | {ns:,.0f} | {m['ns_per_request']:,.0f} | {f['ns_per_request']:,.0f} | {f['ns_per_request'] / ns:.1f}x | {f['mismatches']} |")
b_ns, b_n = nextr_ns("build/1000-routes")
nb = nx[("1000-routes", "build")]
print()
print("| table build | routes | nextr (validate + order + trie) | Next (getSortedRoutes + 1 regex per dynamic route) | ratio |")
print("|---|---:|---:|---:|---:|")
print(f"| 1000-routes | {b_n} | {b_ns * b_n / 1e6:.2f} ms | {nb['ns'] / 1e6:.2f} ms | {nb['ns'] / (b_ns * b_n):.1f}x |")
bad = sum(r["mismatches"] for r in rows if "mismatches" in r)
if bad:
    print(f"\nWARNING: {bad} answers differ between Next's matcher and nextr (see stderr above)")
EOF
