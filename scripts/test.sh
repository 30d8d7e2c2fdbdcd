#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it: formatting, lints, every test of the workspace.
# It installs what the tests need first (idempotent: a no-op when all is there) and caches
# nothing it cannot rebuild. `scripts/test.sh --setup` only installs, for running single
# test targets afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
    echo "error: cargo is not on PATH; install Rust (https://rustup.rs) first" >&2
    exit 1
fi

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
# The arm64 test (cli/tests/arm64.rs) cross-compiles with cargo-zigbuild and zig, which it
# takes from .venv (first on nextr's PATH there), so they are always installed there.
have_zigbuild() { [ -x .venv/bin/cargo-zigbuild ] && .venv/bin/python3 -m ziglang version >/dev/null 2>&1; }
venv_packages=()
if [ -z "${NEXTR_MOTO_SERVER:-}" ] && ! have_moto; then
    venv_packages+=('moto[server,awslambda,apigatewayv2]>=5,<6')
fi
if [ -z "${NEXTR_CFN_LINT:-}" ] && { ! have_cfn_lint || ! have_serverless_rules; }; then
    venv_packages+=(cfn-lint cfn-lint-serverless)
fi
host_arch="$(uname -m)"
if [ "$host_arch" = x86_64 ] && ! have_zigbuild; then
    venv_packages+=('cargo-zigbuild>=0.24,<0.25' 'ziglang>=0.15,<0.18')
fi
if [ ${#venv_packages[@]} -gt 0 ]; then
    echo "==> installing into .venv: ${venv_packages[*]}"
    [ -x .venv/bin/pip ] || python3 -m venv .venv
    .venv/bin/pip install --quiet "${venv_packages[@]}"
fi

# The rest of what the arm64 test needs on an x86_64 machine (on an aarch64 one its build is
# native): the aarch64 standard library, and qemu-user with the aarch64 glibc to run the
# bootstraps. Each is installed when missing; what cannot be is named, and the suite stops.
if [ "$host_arch" = x86_64 ]; then
    arm_triple=aarch64-unknown-linux-gnu
    if [ ! -d "$(rustc --print sysroot)/lib/rustlib/$arm_triple/lib" ]; then
        if ! command -v rustup >/dev/null 2>&1; then
            echo "error: the Rust standard library for $arm_triple is missing and rustup is not" \
                "on PATH to add it: install it for this toolchain (rustup target add $arm_triple)" >&2
            exit 1
        fi
        echo "==> rustup target add $arm_triple"
        rustup target add "$arm_triple"
    fi
    have_qemu() { command -v qemu-aarch64 >/dev/null 2>&1 || command -v qemu-aarch64-static >/dev/null 2>&1; }
    have_arm_libc() { [ -e "${QEMU_LD_PREFIX:-/usr/aarch64-linux-gnu}/lib/ld-linux-aarch64.so.1" ]; }
    if ! have_qemu || ! have_arm_libc; then
        apt_get=()
        if [ "$(id -u)" = 0 ]; then
            apt_get=(apt-get)
        elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            apt_get=(sudo -n apt-get)
        fi
        if ! command -v apt-get >/dev/null 2>&1 || [ ${#apt_get[@]} -eq 0 ]; then
            echo "error: the arm64 test runs its bootstraps under qemu-user, and this machine" \
                "lacks qemu-aarch64 or the aarch64 glibc (/usr/aarch64-linux-gnu): install" \
                "qemu-user and libc6-arm64-cross (Debian, Ubuntu: apt-get install qemu-user" \
                "libc6-arm64-cross), or set QEMU_LD_PREFIX to an aarch64 sysroot" >&2
            exit 1
        fi
        echo "==> apt-get install qemu-user libc6-arm64-cross"
        export DEBIAN_FRONTEND=noninteractive
        # A fresh machine's package lists may be empty or stale: update once if needed.
        if ! "${apt_get[@]}" install -y -qq qemu-user libc6-arm64-cross >/dev/null 2>&1; then
            "${apt_get[@]}" update -qq
            "${apt_get[@]}" install -y -qq qemu-user libc6-arm64-cross >/dev/null
        fi
    fi
fi

if [ "${1:-}" = --setup ]; then
    echo "==> set up: the tests' tools are installed"
    exit 0
fi

echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings
echo "==> cargo test"
cargo test --workspace --no-fail-fast
