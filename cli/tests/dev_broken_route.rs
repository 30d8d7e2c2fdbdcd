//! `nextr dev` with a route file that does not build: the other routes keep building and
//! reloading, the broken route answers 500 with its diagnostic (and keeps its path), fixing it
//! serves it, and an error that is not one route's (the app's lib) still fails the rebuild.
//! `nextr build` keeps failing the whole build.

mod support;

use std::time::{Duration, Instant};

use support::apps::{TestApp, HELLO};
use support::dev::Dev;
use support::http::Reply;

/// A route answering `{"version": "<v>"}`.
fn versioned(v: &str) -> String {
    format!(
        r#"use nextr::prelude::*;

pub async fn handler(_req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {{
    res.status(200).json(&json!({{ "version": {v:?} }}))
}}
"#
    )
}

/// A route with a type error on line 4.
const TYPE_ERROR: &str = r#"use nextr::prelude::*;

pub async fn handler(_req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    let n: u32 = "not a number";
    res.status(200).json(&json!({ "n": n }))
}
"#;

/// How long one rebuild may take (a guard against hangs: a rebuild links a few binaries).
const REBUILD_LIMIT: Duration = Duration::from_secs(600);

/// Polls `GET target` until `done` holds for the reply; the last reply.
fn until(dev: &Dev, target: &str, what: &str, done: impl Fn(&Reply) -> bool) -> Reply {
    let deadline = Instant::now() + REBUILD_LIMIT;
    loop {
        let r = dev.get(target);
        if done(&r) {
            return r;
        }
        assert!(
            Instant::now() < deadline,
            "{target} never {what}; last answer {} {:?}; output:\n{}",
            r.status,
            r.text(),
            dev.output()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn answers_version(dev: &Dev, target: &str, v: &str) {
    until(dev, target, &format!("answered version {v}"), |r| {
        r.status == 200 && r.text() == format!(r#"{{"version":"{v}"}}"#)
    });
}

/// Waits until `target` answers dev's 500 for `file`; its body.
fn does_not_build(dev: &Dev, target: &str, file: &str) -> String {
    let first_line = format!("nextr dev: {file} does not build");
    let r = until(dev, target, "answered that it does not build", |r| {
        r.status == 500 && r.text().starts_with(&first_line)
    });
    assert_eq!(
        r.header("content-type"),
        Some("text/plain; charset=utf-8"),
        "{r:?}"
    );
    assert!(r.header("apigw-requestid").is_some(), "{r:?}");
    let body = r.text();
    assert!(
        !body.contains('\u{1b}'),
        "ANSI colours in the body:\n{body}"
    );
    body
}

/// How many lines dev printed that contain `text`.
fn count(dev: &Dev, text: &str) -> usize {
    dev.lines().iter().filter(|l| l.contains(text)).count()
}

#[test]
fn a_broken_route_answers_its_error_while_the_others_keep_reloading() {
    let app = TestApp::new("isolate");
    app.write("api/hello.rs", HELLO);
    app.write("api/other.rs", &versioned("v1"));
    let dev = Dev::start(app.path(), &[]);
    answers_version(&dev, "/api/other", "v1");

    // An empty route file: it fails analysis.
    app.write("api/new.rs", "");
    let body = does_not_build(&dev, "/api/new", "api/new.rs");
    assert!(body.contains("api/new.rs"), "{body}");
    assert!(body.contains("has no `pub async fn handler`"), "{body}");
    // It owns its path: a sub-path still goes to the fallback, which answers Next's 404.
    assert_eq!(dev.get("/api/new/x").status, 404);
    // The others still serve, and an edit of one of them is built and served.
    assert_eq!(dev.get("/api/hello").status, 200);
    app.write("api/other.rs", &versioned("v2"));
    answers_version(&dev, "/api/other", "v2");
    does_not_build(&dev, "/api/new", "api/new.rs");
    // The terminal shows the error per rebuild, not per request.
    let shown = count(&dev, "api/new.rs does not build");
    assert!(shown >= 1, "{}", dev.output());
    for _ in 0..5 {
        assert_eq!(dev.get("/api/new").status, 500);
    }
    assert_eq!(count(&dev, "api/new.rs does not build"), shown);
    // No template describes a build with a route left out.
    let out = app.path().join(".nextr/dev");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("routes-manifest.json")).unwrap())
            .unwrap();
    let new = manifest["routes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["file"] == "api/new.rs")
        .unwrap();
    assert!(new.get("function").is_none(), "{new}");
    assert!(new["build_error"].as_str().unwrap().contains("api/new.rs"));
    assert!(!out.join("template.json").exists());

    // Fixed: served at the next rebuild.
    app.write("api/new.rs", &versioned("new"));
    answers_version(&dev, "/api/new", "new");
    assert!(out.join("template.json").exists());

    // A compiler error in one route: the others build (cargo --keep-going).
    app.write("api/typed.rs", TYPE_ERROR);
    let body = does_not_build(&dev, "/api/typed", "api/typed.rs");
    assert!(body.contains("mismatched types"), "{body}");
    // Named relative to the app, as the manifest keeps no absolute path.
    assert!(body.contains("--> api/typed.rs:4:18"), "{body}");
    app.write("api/other.rs", &versioned("v3"));
    answers_version(&dev, "/api/other", "v3");
    answers_version(&dev, "/api/new", "new");
    does_not_build(&dev, "/api/typed", "api/typed.rs");
    app.write("api/typed.rs", &versioned("typed"));
    answers_version(&dev, "/api/typed", "typed");

    // An error that is not one route's fails the rebuild as before: the last build serves.
    let failed = count(&dev, "rebuild failed; still serving the previous build");
    app.write("src/lib.rs", "pub fn greeting() -> u32 { \"no\" }\n");
    let deadline = Instant::now() + REBUILD_LIMIT;
    while count(&dev, "rebuild failed; still serving the previous build") == failed {
        assert!(
            Instant::now() < deadline,
            "the broken lib did not fail the rebuild:\n{}",
            dev.output()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    answers_version(&dev, "/api/other", "v3");
    answers_version(&dev, "/api/typed", "typed");
}

#[test]
fn dev_starts_with_a_broken_route_and_nextr_build_still_refuses_it() {
    let app = TestApp::new("isolate-start");
    app.write("api/hello.rs", HELLO);
    app.write("api/new.rs", "pub fn handler() {}\n");
    let dev = Dev::start(app.path(), &[]);
    assert_eq!(dev.get("/api/hello").status, 200);
    let body = does_not_build(&dev, "/api/new", "api/new.rs");
    assert!(body.contains("`handler` must be an `async fn`"), "{body}");
    dev.wait_for(|l| l.contains("(does not build)"), Duration::from_secs(10))
        .unwrap_or_else(|| panic!("the route table does not say so:\n{}", dev.output()));
    drop(dev);

    // `nextr invoke` of the broken route says why; of another, answers.
    let call = app
        .nextr()
        .args(["invoke", "/api/new"])
        .arg(app.path())
        .output()
        .unwrap();
    assert_eq!(call.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&call.stderr);
    assert!(stderr.contains("api/new.rs does not build"), "{stderr}");
    assert_eq!(app.invoke("/api/hello", &[]).response["statusCode"], 200);

    // `nextr build` keeps failing the whole build, and writes nothing.
    let out = app.build_output();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("`handler` must be an `async fn`"),
        "{stderr}"
    );
    assert!(!app.out().join("routes-manifest.json").exists());
}
