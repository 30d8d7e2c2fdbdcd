//! The app's settings files through the real `nextr`: a `nextr.toml` with several problems
//! is refused with all of them, before anything is built or written; `.env` files reach the
//! functions in Next's order, the development files under `nextr dev` and the production
//! ones under `nextr build`, which names (never shows) what it takes from a `.local` file.

mod support;

use std::fs;
use std::time::Duration;

use support::apps::TestApp;
use support::dev::Dev;

/// A route that answers its function's `GREETING` and `FROM_BASE` variables.
const GREETING: &str = r#"use nextr::prelude::*;

pub async fn handler(_req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    let var = |k: &str| std::env::var(k).unwrap_or_else(|_| "(unset)".to_owned());
    res.status(200).json(&json!({ "greeting": var("GREETING"), "base": var("FROM_BASE") }))
}
"#;

/// A route file the analysis refuses: the build stops before compiling anything.
const BROKEN: &str = "pub fn not_a_handler() {}\n";

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn every_nextr_toml_problem_is_reported_and_nothing_is_written() {
    let app = TestApp::new("toml");
    app.write("api/greeting.rs", GREETING);
    app.write(
        "nextr.toml",
        "regon = \"eu-west-1\"\nmemory = \"big\"\n\n[routes.\"/api/greeting\"]\nrespnse = \"buffered\"\n",
    );
    // A build folder from before: a refused build leaves it as it was.
    app.write(".nextr/routes-manifest.json", "{\"earlier\": true}");
    let before = app.out_files();

    let out = app.build_output();
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("3 problems in nextr.toml"), "{text}");
    for expected in [
        "unknown key `regon` in nextr.toml",
        "[nextr.toml:1:1]",
        "did you mean `region`?",
        "`memory`: expected a whole number of MB (128–10240), found the string \"big\"",
        "[nextr.toml:2:10]",
        "unknown key `respnse` in [routes.\"/api/greeting\"]",
        "[nextr.toml:5:1]",
        "did you mean `response`?",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    assert!(
        !text.contains("Building"),
        "nothing may be compiled:\n{text}"
    );
    assert_eq!(app.out_files(), before, "the build folder was touched");
}

#[test]
fn a_bad_env_line_is_named_by_file_and_line_without_its_value() {
    let app = TestApp::new("bad-env");
    app.write("api/greeting.rs", GREETING);
    app.write(".env.local", "GREETING=hi\nTOKEN=\"s3cret never closed\n");
    let out = app.build_output();
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(".env.local:2: not a `NAME=value` line"),
        "{text}"
    );
    assert!(!text.contains("s3cret"), "a value was printed:\n{text}");
    assert!(!app.out().exists());
}

#[test]
fn a_production_build_names_what_it_takes_from_local_files() {
    // The route file problem stops the build after the files are read: no compile needed.
    let app = TestApp::new("local-warning");
    app.write("api/broken.rs", BROKEN);
    app.write(".env", "GREETING=base\n");
    app.write(".env.local", "API_KEY=s3cr3t-local\nGREETING=local\n");
    let out = app.build_output();
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("warning: this production build takes API_KEY, GREETING from .env.local"),
        "{text}"
    );
    assert!(
        !text.contains("s3cr3t-local"),
        "a value was printed:\n{text}"
    );
}

#[test]
fn env_files_reach_the_functions_in_nexts_order() {
    let app = TestApp::new("dotenv");
    app.write("api/greeting.rs", GREETING);
    app.write(".env", "GREETING=base\nFROM_BASE=$GREETING-and-more\n");
    app.write(".env.development", "GREETING=development\n");
    app.write(".env.production", "GREETING=production\n");

    // `nextr build` (production, whatever the profile): `.env.production` over `.env`.
    let manifest = app.build();
    let env = &manifest.routes[0].function.as_ref().unwrap().env;
    assert_eq!(env["GREETING"], "production");
    assert_eq!(env["FROM_BASE"], "base-and-more");
    assert_eq!(manifest.fallback.env["GREETING"], "production");

    // `nextr dev`: the development files.
    let dev = Dev::start(app.path(), &[]);
    let body = dev.get("/api/greeting").json();
    assert_eq!(body["greeting"], "development");
    assert_eq!(body["base"], "base-and-more");

    // `.env.local` is above `.env.development`, and an edit of it reaches the running server.
    app.write(".env.local", "GREETING=local\n");
    dev.wait_for(
        |l| l.contains("reloaded the route manifest") && l.contains("new workers"),
        Duration::from_secs(300),
    )
    .unwrap_or_else(|| panic!("no reload after the .env.local edit:\n{}", dev.output()));
    assert_eq!(dev.get("/api/greeting").json()["greeting"], "local");

    // nextr.toml's [env] is above every file.
    app.write(
        "nextr.toml",
        &format!(
            "app = {:?}\nmemory = 256\n[env]\nGREETING = \"toml\"\n",
            app.name()
        ),
    );
    // The reload line of the edit above is already there: poll the answer instead.
    let deadline = std::time::Instant::now() + Duration::from_secs(300);
    while dev.get("/api/greeting").json()["greeting"] != "toml" {
        assert!(
            std::time::Instant::now() < deadline,
            "[env] did not win:\n{}",
            dev.output()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let text = fs::read_to_string(app.path().join(".nextr/dev/routes-manifest.json")).unwrap();
    assert!(text.contains("\"GREETING\": \"toml\""), "{text}");
}

#[test]
fn a_bad_permission_is_named_by_file_line_and_field() {
    let app = TestApp::new("perms");
    app.write("api/greeting.rs", GREETING);
    app.write(
        "nextr.toml",
        "[[permissions]]\nactions = [\"GetItem\"]\nresources = [\"arn:aws:dynamodb:{regoin}:1:table/x\"]\nefect = \"Deny\"\n",
    );
    let out = app.build_output();
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("3 problems in nextr.toml"), "{text}");
    for expected in [
        "`permissions[0].actions`: \"GetItem\" is not an IAM action",
        "[nextr.toml:2:12]",
        "{regoin} is not a placeholder",
        "[nextr.toml:3:14]",
        "unknown key `efect` in a permission",
        "[nextr.toml:4:1]",
        "did you mean `effect`?",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}
