//! `nextr new demo && cd demo && nextr dev` serves `/api/hello` with no edits; `nextr new`
//! depends on this checkout's runtime (or `--nextr-path`), and refuses names and folders it
//! cannot use.

mod support;

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use support::dev::Dev;
use support::workspace_root;

fn nextr_new(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nextr"))
        .current_dir(cwd)
        .arg("new")
        .args(args)
        .output()
        .expect("nextr runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn new_app_builds_and_serves_hello() {
    let dir = tempfile::tempdir().unwrap();
    let out = nextr_new(dir.path(), &["demo"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("Created the nextr app `demo`"),
        "{}",
        text(&out.stdout)
    );
    let app = dir.path().join("demo");
    for file in [
        "Cargo.toml",
        "api/hello.rs",
        "src/lib.rs",
        "nextr.toml",
        ".gitignore",
        "README.md",
    ] {
        assert!(app.join(file).is_file(), "{file} was not written");
    }
    // This `nextr` was built from a checkout: the app depends on its runtime by path.
    let runtime = fs::canonicalize(workspace_root().join("runtime")).unwrap();
    let cargo_toml = fs::read_to_string(app.join("Cargo.toml")).unwrap();
    let manifest: toml::Table = cargo_toml.parse().unwrap();
    assert_eq!(
        manifest["dependencies"]["nextr"]["path"].as_str(),
        runtime.to_str(),
        "{cargo_toml}"
    );
    assert_eq!(
        fs::read_to_string(app.join(".gitignore")).unwrap(),
        "/target\n/.nextr\n"
    );

    // Only to keep the suite fast: pin the dependencies to the versions the examples use, so
    // that they are already compiled in the shared target dir (cargo keeps a lock file's
    // versions for the packages still needed and drops the rest).
    fs::copy(
        workspace_root().join("examples/notes/Cargo.lock"),
        app.join("Cargo.lock"),
    )
    .unwrap();

    // `cd demo && nextr dev`, as a user types it (on a free port rather than 3000).
    let dev = Dev::start_in(&app, &[], &[]);
    let reply = dev.get("/api/hello");
    assert_eq!(
        (
            reply.status,
            reply.header("content-type"),
            reply.text().as_str()
        ),
        (
            200,
            Some("application/json; charset=utf-8"),
            r#"{"message":"Hello from nextr!"}"#
        ),
        "{}",
        dev.output()
    );
    assert!(
        app.join(".nextr/dev/routes-manifest.json").is_file(),
        "nextr dev built into the app's .nextr/dev/"
    );
    assert!(
        !app.join(".nextr/routes-manifest.json").exists(),
        "nextr dev leaves deploy's build folder alone"
    );

    // A folder that is already there is not overwritten.
    let again = nextr_new(dir.path(), &["demo"]);
    assert!(!again.status.success());
    assert!(
        text(&again.stderr).contains("already exists"),
        "{}",
        text(&again.stderr)
    );
}

#[test]
fn nextr_path_and_bad_names() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = workspace_root().join("runtime");
    let out = nextr_new(
        dir.path(),
        &["nested/my_app", "--nextr-path", runtime.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let cargo_toml = fs::read_to_string(dir.path().join("nested/my_app/Cargo.toml")).unwrap();
    let manifest: toml::Table = cargo_toml.parse().unwrap();
    assert_eq!(manifest["package"]["name"].as_str(), Some("my_app"));
    assert_eq!(
        manifest["dependencies"]["nextr"]["path"].as_str(),
        fs::canonicalize(&runtime).unwrap().to_str()
    );
    // The app name is the package name with `-` for `_` (AWS resource names).
    let settings = fs::read_to_string(dir.path().join("nested/my_app/nextr.toml")).unwrap();
    assert!(settings.contains("app = \"my-app\""), "{settings}");

    let out = nextr_new(dir.path(), &["x", "--nextr-path", "/nonexistent/nextr"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("--nextr-path"),
        "{}",
        text(&out.stderr)
    );
    assert!(!dir.path().join("x").exists(), "nothing written on error");

    for bad in ["2fast", "my app", "nextr", "fn"] {
        let out = nextr_new(dir.path(), &[bad]);
        assert!(!out.status.success(), "{bad:?} was accepted");
        assert!(!dir.path().join(bad).exists(), "{bad:?}: nothing written");
    }
}
