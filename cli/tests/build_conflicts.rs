//! `nextr build` refuses a route tree that the deployed API Gateway would route differently
//! from Next.js when nextr cannot fix it, naming both files — before compiling anything.

use std::path::Path;
use std::process::Command;

const HANDLER: &str = "use nextr::prelude::*;\n\npub async fn handler(_req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {\n    res.status(200).send(\"ok\")\n}\n";

/// An app with the design's example pair: Next serves `/api/users/42` from the catch-all,
/// API Gateway's documented rules would pick `[resource]/[id]`.
fn app(nextr_toml: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let runtime = Path::new(env!("CARGO_MANIFEST_DIR")).join("../runtime");
    std::fs::write(
        dir.path().join("Cargo.toml"),
        format!(
            "[package]\nname = \"conflicts\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nnextr = {{ path = {:?} }}\n",
            runtime.display().to_string()
        ),
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/lib.rs"), "//! Shared code.\n").unwrap();
    std::fs::write(dir.path().join("nextr.toml"), nextr_toml).unwrap();
    for file in ["api/users/[...path].rs", "api/[resource]/[id].rs"] {
        let path = dir.path().join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, HANDLER).unwrap();
    }
    dir
}

fn build(dir: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_nextr"))
        .arg("build")
        .arg(dir)
        .arg("--debug")
        .env("CI", "true")
        .output()
        .unwrap()
}

#[test]
fn an_unresolvable_conflict_fails_the_build_naming_both_files() {
    let app = app("[conflicts]\nkeys = \"static-only\"\n");
    let out = build(app.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("api/users/[...path].rs"), "{stderr}");
    assert!(stderr.contains("api/[resource]/[id].rs"), "{stderr}");
    assert!(
        stderr.contains("/api/users/"),
        "example path missing: {stderr}"
    );
    assert!(
        !app.path().join(".nextr").exists(),
        "nothing may be written on a failed build"
    );
}

#[test]
fn an_accepted_conflict_is_a_warning_not_an_error() {
    let app = app(
        "[conflicts]\nkeys = \"static-only\"\naccept = [{ a = \"/api/users/[...path]\", b = \"/api/[resource]/[id]\" }]\n",
    );
    // The warning is printed right after the analysis; `--arch arm64` with no linker on PATH
    // then stops the build before any compilation, which keeps the test fast.
    let out = Command::new(env!("CARGO_BIN_EXE_nextr"))
        .arg("build")
        .arg(app.path())
        .args(["--debug", "--arch", "arm64"])
        .env("CI", "true")
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("accepted risk"), "{stderr}");
    assert!(stderr.contains("api/users/[...path].rs"), "{stderr}");
}
