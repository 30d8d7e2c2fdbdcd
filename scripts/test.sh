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
# The deploy tests run against moto's AWS server and the template tests run cfn-lint. Both
# are Python tools: use the machine's when it has them, else install them into .venv (which
# the tests look in; NEXTR_MOTO_SERVER and NEXTR_CFN_LINT override both).
have_moto() { [ -x .venv/bin/moto_server ] || python3 -c 'import moto.server' >/dev/null 2>&1; }
have_cfn_lint() { [ -x .venv/bin/cfn-lint ] || command -v cfn-lint >/dev/null 2>&1; }
# The template test also runs cfn-lint with the serverless rules (`-a cfn_lint_serverless.rules`),
# which must be importable by the cfn-lint the tests run: the .venv one when there is one.
have_serverless_rules() {
    if [ -x .venv/bin/cfn-lint ]; then
        .venv/bin/python -c 'import cfn_lint_serverless' >/dev/null 2>&1
    else
        python3 -c 'import cfn_lint_serverless' >/dev/null 2>&1
    fi
}
need_moto=false
need_lint=false
if [ -z "${NEXTR_MOTO_SERVER:-}" ] && ! have_moto; then need_moto=true; fi
if [ -z "${NEXTR_CFN_LINT:-}" ] && { ! have_cfn_lint || ! have_serverless_rules; }; then need_lint=true; fi
if $need_moto; then
    echo "==> installing moto into .venv"
    python3 -m venv .venv
    .venv/bin/pip install --quiet 'moto[server,awslambda,apigatewayv2]>=5,<6'
fi
if $need_lint; then
    echo "==> installing cfn-lint and its serverless rules into .venv"
    python3 -m venv .venv
    .venv/bin/pip install --quiet cfn-lint cfn-lint-serverless
fi

echo "==> cargo test"
cargo test --workspace --no-fail-fast
