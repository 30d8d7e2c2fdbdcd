//! The route manifest as the whole contract between build, dev and deploy, with a real app:
//! `nextr dev` builds into its own `.nextr/dev/` (never what deploy ships), serves the
//! `$default` route with the app's real fallback bundle, follows `nextr.toml` edits while it
//! runs, starts without cargo when nothing changed, and serves any build folder as it is;
//! a `max_duration` the gateway cannot wait for fails the build at its line.

mod support;

use std::fs;
use std::time::Duration;

use support::apps::{TestApp, HELLO};
use support::dev::Dev;

/// A route that answers the function's `GREETING` variable.
const GREETING: &str = r#"use nextr::prelude::*;

pub async fn handler(_req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    let greeting = std::env::var("GREETING").unwrap_or_else(|_| "(unset)".to_owned());
    res.status(200).json(&json!({ "greeting": greeting }))
}
"#;

fn app(name: &str) -> TestApp {
    let app = TestApp::new(name);
    app.write("api/hello.rs", HELLO);
    app.write("api/greeting.rs", GREETING);
    app.write("nextr.toml", "[env]\nGREETING = \"hello\"\n");
    app
}

#[test]
fn dev_builds_apart_serves_default_with_its_bundle_and_follows_nextr_toml() {
    let app = app("dev");
    let dev = Dev::start(app.path(), &[]);

    // dev's own build folder; deploy's `.nextr/routes-manifest.json` is not touched.
    let manifest = app.path().join(".nextr/dev/routes-manifest.json");
    assert!(manifest.is_file());
    assert!(!app.out().join("routes-manifest.json").exists());
    let text = fs::read_to_string(&manifest).unwrap();
    assert!(text.contains("\"profile\": \"debug\""), "{text}");

    assert_eq!(dev.get("/api/greeting").json()["greeting"], "hello");

    // A path no route key takes runs the app's `$default` bundle: Next's 404 and 308.
    let r = dev.get("/api/nothing");
    assert_eq!(r.status, 404);
    assert_eq!(r.text(), r#"{"message":"Not Found"}"#);
    let r = dev.get("/api/hello/?x=1");
    assert_eq!(r.status, 308);
    assert_eq!(r.header("location"), Some("/api/hello?x=1"));
    // Decoded, `%09` is a tab: the redirect must stay on this origin, never `//evil.com`.
    for probe in [
        "/%09/evil.com/",
        "/%0a/evil.com/",
        "/%0D/evil.com/",
        "/%09%5Cevil.com/",
    ] {
        let r = dev.get(probe);
        assert_eq!(r.status, 308, "{probe}");
        let location = r.header("location").unwrap_or_default().to_owned();
        assert!(
            nextr::routing::is_same_origin_path(&location),
            "{probe} → {location}"
        );
    }
    // The request log names the function that answered: the `$default` route's.
    dev.wait_for(
        |l| l.contains(" 308 in ") && l.contains(" [$default]"),
        Duration::from_secs(10),
    )
    .unwrap_or_else(|| panic!("no 308 of the $default function:\n{}", dev.output()));

    // An edit of nextr.toml's [env] reaches the running server.
    app.write("nextr.toml", "[env]\nGREETING = \"bonjour\"\n");
    dev.wait_for(
        |l| l.contains("reloaded the route manifest") && l.contains("new workers"),
        Duration::from_secs(300),
    )
    .unwrap_or_else(|| panic!("no reload after the nextr.toml edit:\n{}", dev.output()));
    assert_eq!(dev.get("/api/greeting").json()["greeting"], "bonjour");
    let text = fs::read_to_string(&manifest).unwrap();
    assert!(text.contains("\"GREETING\": \"bonjour\""), "{text}");

    // A broken nextr.toml is reported, and the last good build keeps serving.
    app.write("nextr.toml", "[env]\nGREETING = 1\n");
    let line = dev
        .wait_for(|l| l.contains("env.GREETING"), Duration::from_secs(60))
        .unwrap_or_else(|| panic!("the bad nextr.toml was not reported:\n{}", dev.output()));
    assert!(
        line.contains("expected a string, found the number 1"),
        "{line}"
    );
    // The code frame names the place.
    dev.wait_for(|l| l.contains("[nextr.toml:2:12]"), Duration::from_secs(10))
        .unwrap_or_else(|| panic!("no code frame at nextr.toml:2:12:\n{}", dev.output()));
    let output = dev.output();
    assert!(
        output.contains("rebuild failed; still serving the previous build"),
        "{output}"
    );
    assert_eq!(dev.get("/api/greeting").json()["greeting"], "bonjour");
}

#[test]
fn a_start_with_nothing_changed_runs_no_cargo() {
    let app = app("fresh");
    drop(Dev::start(app.path(), &[]));
    // A cargo that cannot run: the start must not need it.
    let dev = Dev::start_in(
        app.path(),
        &[],
        &[("CARGO", std::ffi::OsStr::new("/nonexistent/cargo"))],
    );
    assert_eq!(dev.get("/api/greeting").json()["greeting"], "hello");
    drop(dev);

    // Any change to an input means a build (which here fails: cargo cannot run).
    app.write("api/greeting.rs", &format!("{GREETING}\n// edited\n"));
    let out = app
        .nextr()
        .args(["dev", "--port", "0"])
        .arg(app.path())
        .env("CARGO", "/nonexistent/cargo")
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cargo"), "{stderr}");
}

#[test]
fn a_build_folder_is_served_and_invoked_as_it_is_and_deploy_refuses_a_debug_one() {
    let app = app("out");
    let dist = app.path().join("dist");
    let out = app
        .nextr()
        .args(["build", "--debug", "--out"])
        .arg(&dist)
        .arg(app.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Move it: every path in the manifest is relative to it.
    let moved = app.path().join("moved");
    fs::rename(&dist, &moved).unwrap();

    let dev = Dev::start(&moved, &[]);
    assert_eq!(dev.get("/api/greeting").json()["greeting"], "hello");
    assert_eq!(dev.get("/api/nothing").status, 404);
    drop(dev);

    let call = app
        .nextr()
        .args(["invoke", "/api/hello"])
        .arg(&moved)
        .output()
        .unwrap();
    assert!(call.status.success());
    let response: serde_json::Value = serde_json::from_slice(&call.stdout).unwrap();
    assert_eq!(response["statusCode"], 200);

    // Deploy never ships a debug build: refused before any AWS call, naming the fix.
    let deploy = app
        .nextr()
        .args(["deploy", "--yes"])
        .arg(&moved)
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_REGION", "us-east-1")
        .output()
        .unwrap();
    assert_eq!(deploy.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&deploy.stderr);
    assert!(stderr.contains("is a debug build"), "{stderr}");
    assert!(stderr.contains("run `nextr build`"), "{stderr}");
    // And with no release build at all, deploy says to build one.
    let deploy = app
        .nextr()
        .args(["deploy", "--yes"])
        .arg(app.path())
        .output()
        .unwrap();
    assert_eq!(deploy.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&deploy.stderr);
    assert!(stderr.contains("run `nextr build` first"), "{stderr}");
}

#[test]
fn a_max_duration_past_the_gateway_fails_the_build_at_its_line() {
    let app = app("slow");
    app.write(
        "api/slow.rs",
        &format!("nextr::config! {{\n    max_duration: 60,\n}}\n\n{HELLO}"),
    );
    let out = app.build_output();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("api/slow.rs:2:19"), "{stderr}");
    assert!(stderr.contains("an API Gateway HTTP API"), "{stderr}");
    assert!(stderr.contains("more than the gateway's 30 s"), "{stderr}");
    assert!(
        stderr.contains("write `max_duration: 30` or less"),
        "{stderr}"
    );
    assert!(!app.out().join("routes-manifest.json").exists());
}
