#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it: formatting, lints, every test of the workspace.
# It installs what the tests need and caches nothing it cannot rebuild.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
    echo "error: cargo is not on PATH; install Rust (https://rustup.rs) first" >&2
    exit 1
fi

echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings
echo "==> cargo test"
cargo test --workspace
