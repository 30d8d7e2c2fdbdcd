//! arm64 for real: `nextr build --arch arm64` cross-compiles through cargo-zigbuild, the
//! manifest records arm64, each zip's `bootstrap` is an aarch64 ELF within Lambda's glibc, and
//! `nextr dev` / `nextr invoke` serve that build folder under qemu-user, whose answers come
//! from the aarch64 code; a dev build of the same app stays for this machine.
//!
//! What it needs (cargo-zigbuild and zig, the aarch64 standard library, qemu-user and the
//! aarch64 glibc) is installed by `scripts/test.sh`; cargo-zigbuild and zig may live in the
//! repository's `.venv`, which is put first on nextr's `PATH` here. When something is
//! missing the test fails with nextr's own message naming it and its install command: it
//! never skips.

mod support;

use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use nextr::manifest::{Architecture, Manifest};
use nextr_cli::bundle::elf::{self, GlibcVersion, LAMBDA_GLIBC};
use serde_json::Value;
use support::apps::TestApp;
use support::dev::Dev;

/// A route that says which machine its code was compiled for, and uses the app's lib.
const WHERE: &str = r#"use nextr::prelude::*;

pub async fn handler(_req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.status(200).json(&json!({
        "arch": std::env::consts::ARCH,
        "greeting": test_app::greeting("Graviton"),
    }))
}
"#;

/// What to do when the build or the emulator is missing a tool.
const INSTALL_HINT: &str = "scripts/test.sh installs what this test needs: cargo-zigbuild and \
    zig into .venv (pip), the aarch64 standard library (rustup target add \
    aarch64-unknown-linux-gnu), qemu-user and libc6-arm64-cross (apt-get)";

/// `PATH` with the repository's `.venv/bin` first, where scripts/test.sh installs
/// cargo-zigbuild and zig (as the `ziglang` package of its `python3`).
fn path_with_venv() -> OsString {
    let venv = support::workspace_root().join(".venv/bin");
    let current = std::env::var_os("PATH").unwrap_or_default();
    let dirs = std::iter::once(venv).chain(std::env::split_paths(&current));
    std::env::join_paths(dirs).expect("PATH entries hold no separator")
}

/// Runs `nextr ARGS…` with the tools' `PATH`; its stdout, asserting success (the failure shows
/// what nextr said, which names anything missing).
fn nextr_ok(args: &[&std::ffi::OsStr]) -> String {
    let out = support::apps::nextr()
        .args(args)
        .env("PATH", path_with_venv())
        .output()
        .expect("nextr runs");
    assert!(
        out.status.success(),
        "nextr {:?} failed ({INSTALL_HINT}):\n{}{}",
        args,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn read_manifest(out: &Path) -> Manifest {
    let text = std::fs::read_to_string(out.join("routes-manifest.json")).expect("a manifest");
    Manifest::from_json(&text).expect("a valid manifest")
}

/// The `bootstrap` of a zip, written to `dest`.
fn bootstrap_of(zip: &Path, dest: &Path) -> Vec<u8> {
    let file = std::fs::File::open(zip).expect("the zip exists");
    let mut archive = zip::ZipArchive::new(file).expect("a zip");
    let mut entry = archive
        .by_name("bootstrap")
        .expect("a bootstrap at the root");
    let mut bytes = Vec::new();
    entry.read_to_end(&mut bytes).expect("readable");
    std::fs::write(dest, &bytes).expect("written");
    bytes
}

/// The Lambda response of `nextr invoke` (stdout), parsed, and its body parsed.
fn invoke_body(stdout: &str) -> Value {
    let response: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("not a Lambda response ({e}): {stdout}"));
    assert_eq!(response["statusCode"], 200, "{response}");
    serde_json::from_str(response["body"].as_str().unwrap_or_default())
        .unwrap_or_else(|e| panic!("the body is not JSON ({e}): {response}"))
}

#[test]
fn an_arm64_build_is_aarch64_through_and_through_and_runs_under_qemu() {
    let app = TestApp::new("hello");
    app.write("api/where.rs", WHERE);
    // nextr.toml asks for arm64: `nextr build` follows it, a dev build does not.
    let toml = std::fs::read_to_string(app.path().join("nextr.toml")).unwrap();
    app.write("nextr.toml", &format!("{toml}architecture = \"arm64\"\n"));
    let host = Architecture::host().expect("the tests run on x86_64 or aarch64");

    // A dev build (`nextr invoke APP` builds `.nextr/dev/`) is for this machine.
    let started = Instant::now();
    let body = invoke_body(&nextr_ok(&[
        "invoke".as_ref(),
        "/api/where".as_ref(),
        app.path().as_os_str(),
    ]));
    let native_build = started.elapsed();
    assert_eq!(body["arch"], std::env::consts::ARCH, "{body}");
    let dev = read_manifest(&app.path().join(".nextr/dev"));
    assert_eq!(dev.fallback.architecture, host);

    // `--arch arm64`: cross-compiled, recorded, checked.
    let started = Instant::now();
    let summary = nextr_ok(&[
        "build".as_ref(),
        "--debug".as_ref(),
        "--arch".as_ref(),
        "arm64".as_ref(),
        app.path().as_os_str(),
    ]);
    let arm_build = started.elapsed();
    eprintln!(
        "build of the app: {:.1} s for {host} (dev build), {:.1} s for arm64",
        native_build.as_secs_f64(),
        arm_build.as_secs_f64()
    );
    assert!(summary.contains("/api/where"), "{summary}");
    let out = app.out();
    let manifest = read_manifest(&out);
    let functions: Vec<_> = manifest
        .routes
        .iter()
        .filter_map(|r| r.function.as_ref())
        .chain([&manifest.fallback])
        .collect();
    assert_eq!(functions.len(), 2);
    let tmp = tempfile::tempdir().unwrap();
    for f in &functions {
        assert_eq!(f.architecture, Architecture::Arm64, "{}", f.name);
        let path: PathBuf = tmp.path().join(&f.name);
        let bytes = bootstrap_of(&out.join(&f.bundle), &path);
        // The ELF header itself: 64-bit, little-endian, e_machine EM_AARCH64 (183).
        assert_eq!(&bytes[..4], b"\x7fELF", "{}", f.name);
        assert_eq!(bytes[4], 2, "{}: ELFCLASS64", f.name);
        assert_eq!(
            u16::from_le_bytes([bytes[18], bytes[19]]),
            object::elf::EM_AARCH64,
            "{}: an aarch64 binary",
            f.name
        );
        // Within provided.al2023's glibc, as zigbuild was asked to link it.
        let info = elf::check(&path, &f.name, Architecture::Arm64).expect("it passes");
        assert!(
            info.max_glibc
                .is_some_and(|v| v >= GlibcVersion(2, 17, 0) && v <= LAMBDA_GLIBC),
            "{}: {:?}",
            f.name,
            info.max_glibc
        );
    }

    // nextr.toml's `architecture` alone gives the same build.
    let toml_out = tmp.path().join("from-toml");
    nextr_ok(&[
        "build".as_ref(),
        "--debug".as_ref(),
        "--out".as_ref(),
        toml_out.as_os_str(),
        app.path().as_os_str(),
    ]);
    assert_eq!(
        read_manifest(&toml_out).fallback.architecture,
        Architecture::Arm64
    );

    // The build folder, invoked and served: the answers come from aarch64 code (under
    // qemu-user on an x86_64 machine).
    let body = invoke_body(&nextr_ok(&[
        "invoke".as_ref(),
        "/api/where".as_ref(),
        out.as_os_str(),
    ]));
    assert_eq!(body["arch"], "aarch64", "{body}");
    assert_eq!(body["greeting"], "Hello, Graviton!", "{body}");

    let mut dev = Dev::start(&out, &["--lambda-logs"]);
    let r = dev.get("/api/where");
    assert_eq!(r.status, 200, "{}\n{}", r.text(), dev.output());
    assert_eq!(r.json()["arch"], "aarch64");
    // The `$default` function too.
    let r = dev.get("/api/nothing-here");
    assert_eq!(r.status, 404, "{}\n{}", r.text(), dev.output());
    // Lambda's lines, as for any function: the REPORT of the cold start.
    assert!(
        dev.wait_for(
            |l| l.contains("REPORT") && l.contains("Init Duration"),
            std::time::Duration::from_secs(10)
        )
        .is_some(),
        "{}",
        dev.output()
    );
    for line in dev.lines() {
        if line.contains("cold start") {
            eprintln!("{line}");
        }
    }
    dev.stop();
}
