//! `nextr deploy`, `nextr status` and `nextr remove` as a user runs them, against moto's
//! server on 127.0.0.1.

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Output, Stdio};

use nextr_infra::deploy::{self, CallLog, Target};
use nextr_infra::testing::{MotoServer, TestApp, TestRoute};
use std::process::Command;
use support::moto::nextr;

const ROUTES: &[TestRoute<'static>] = &[
    ("/api/hello", &["ANY /api/hello"]),
    ("/api/post/[pid]", &["ANY /api/post/{pid}"]),
    (
        "/api/note/[[...slug]]",
        &["ANY /api/note", "ANY /api/note/{slug+}"],
    ),
];

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn ok(o: Output) -> String {
    assert!(
        o.status.success(),
        "nextr failed ({}):\n{}\n{}",
        o.status,
        stdout(&o),
        stderr(&o)
    );
    stdout(&o)
}

fn dir(app: &TestApp) -> &str {
    app.dir().to_str().unwrap()
}

/// What the engine itself sees of the app's stage: function names and route keys.
fn deployed(moto: &MotoServer, app: &str, stage: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = moto.clients(CallLog::new()).await;
        let observed = deploy::observe(
            &c,
            &Target::new(app, stage).unwrap(),
            None,
            &BTreeSet::new(),
            true,
        )
        .await
        .unwrap();
        let keys = observed
            .api()
            .map(|a| a.routes.iter().map(|r| r.key.clone()).collect())
            .unwrap_or_default();
        (observed.functions.keys().cloned().collect(), keys)
    })
}

/// Whether a line of a plan or change table holds these cells, in this order.
fn has_row(out: &str, cells: &[&str]) -> bool {
    out.lines().any(|line| {
        let mut rest = line;
        cells.iter().all(|cell| match rest.find(cell) {
            Some(i) => {
                rest = &rest[i + cell.len()..];
                true
            }
            None => false,
        })
    })
}

fn record(app: &TestApp, stage: &str) -> serde_json::Value {
    let path = app.out_dir().join(format!("deploy-{stage}.json"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

#[test]
fn deploy_status_redeploy_change_and_remove() {
    let moto = MotoServer::start();
    let mut app = TestApp::new("shop", ROUTES);
    let d = dir(&app).to_string();

    // Dry run: a plan, no change.
    let out = ok(nextr(&moto, &["deploy", &d, "--dry-run"]));
    assert!(out.contains("Dry run: nothing was changed."), "{out}");
    assert!(out.contains("+ function"), "{out}");
    assert_eq!(deployed(&moto, "shop", "dev").0.len(), 0);
    assert!(!app.out_dir().join("deploy-dev.json").exists());

    // First deploy (no terminal, nothing to delete: no --yes needed).
    let out = ok(nextr(&moto, &["deploy", &d]));
    assert!(
        out.contains("Deployed shop (dev): 4 functions, 5 routes"),
        "{out}"
    );
    assert!(out.contains("URL: https://"), "{out}");
    assert!(out.contains("+ route"), "{out}");
    let (functions, keys) = deployed(&moto, "shop", "dev");
    assert_eq!(functions.len(), 4, "{functions:?}");
    assert_eq!(keys.into_iter().collect::<Vec<_>>(), app.route_keys());
    let rec = record(&app, "dev");
    assert_eq!(rec["app"], "shop");
    assert_eq!(rec["stage"], "dev");
    assert_eq!(rec["functions"].as_array().unwrap().len(), 4);
    assert_eq!(rec["functions"][0]["live_version"], "1");

    // Status: in sync.
    let out = ok(nextr(&moto, &["status", &d]));
    assert!(
        out.contains("Local build: the manifest that was deployed"),
        "{out}"
    );
    assert!(out.contains("Drift: none"), "{out}");
    assert!(out.contains("Pending: none"), "{out}");
    let hello = out
        .lines()
        .find(|l| l.trim_start().starts_with("/api/hello "))
        .unwrap_or_else(|| panic!("no /api/hello row:\n{out}"));
    assert!(
        hello.trim_end().ends_with("shop-dev-nextr"),
        "the role column: {hello}"
    );

    // Second deploy: nothing to do, and it says so.
    let out = ok(nextr(&moto, &["deploy", &d]));
    assert!(out.contains("No changes:"), "{out}");
    assert!(out.contains("0 mutating"), "{out}");
    assert_eq!(record(&app, "dev")["deployed_at"], rec["deployed_at"]);

    // A changed route shows as pending in status, then deploys as one function update.
    app.change_code("/api/hello", "v2");
    let out = ok(nextr(&moto, &["status", &d]));
    assert!(
        out.contains("Local build: changed since the last deploy"),
        "{out}"
    );
    assert!(out.contains("would make 3 changes"), "{out}");
    let out = ok(nextr(&moto, &["deploy", &d]));
    assert!(out.contains("Changed (3):"), "{out}");
    assert!(out.contains("update code"), "{out}");

    // A deleted route file needs --yes without a terminal.
    app.remove_route("/api/post/[pid]");
    let o = nextr(&moto, &["deploy", &d]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("re-run with --yes"), "{}", stderr(&o));
    assert_eq!(deployed(&moto, "shop", "dev").0.len(), 4, "nothing deleted");
    let out = ok(nextr(&moto, &["deploy", &d, "--yes"]));
    assert!(out.contains("- function"), "{out}");
    assert_eq!(deployed(&moto, "shop", "dev").0.len(), 3);

    // Drift: a function deleted behind nextr's back shows in status.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = moto.clients(CallLog::new()).await;
        c.lambda
            .delete_function()
            .function_name("shop-api-hello-dev")
            .send()
            .await
            .unwrap();
    });
    let out = ok(nextr(&moto, &["status", &d]));
    assert!(
        out.contains("function shop-api-hello-dev (/api/hello) is missing"),
        "{out}"
    );
    ok(nextr(&moto, &["deploy", &d]));
    assert!(ok(nextr(&moto, &["status", &d])).contains("Drift: none"));

    // Remove: refused without --yes, then everything goes, and the record too.
    let o = nextr(&moto, &["remove", &d]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--yes"), "{}", stderr(&o));
    let out = ok(nextr(&moto, &["remove", &d, "--dry-run"]));
    assert!(out.contains("Dry run: nothing was deleted."), "{out}");
    assert_eq!(deployed(&moto, "shop", "dev").0.len(), 3);
    let out = ok(nextr(&moto, &["remove", &d, "--yes"]));
    assert!(out.contains("Removed shop (stage dev)"), "{out}");
    let (functions, keys) = deployed(&moto, "shop", "dev");
    assert!(functions.is_empty() && keys.is_empty());
    assert!(!app.out_dir().join("deploy-dev.json").exists());
    let out = ok(nextr(&moto, &["remove", &d, "--yes"]));
    assert!(out.contains("Nothing to remove"), "{out}");
}

/// A REST app with a streaming route and a function URL: deploy prints the stage's invoke URL
/// and the function URL, status shows the REST API and the URL, and a redeploy and remove
/// behave as for an HTTP API.
#[test]
fn a_rest_app_with_a_function_url_deploys_shows_status_and_is_removed() {
    use nextr::manifest::{FunctionUrlAuth, ResponseMode};
    let moto = MotoServer::start();
    let mut app = TestApp::rest(
        "shop",
        &ROUTES[..2],
        &["ANY /", "ANY /{proxy+}", "ANY /api", "ANY /api/post"],
    );
    app.set_response_mode("/api/post/[pid]", ResponseMode::Stream);
    app.set_function_url("/api/post/[pid]", Some(FunctionUrlAuth::None));
    let d = dir(&app).to_string();

    let out = ok(nextr(&moto, &["deploy", &d]));
    for parts in [
        ["+", "rest api", "shop-dev", "create"],
        ["+", "resource", "/api/post/{pid}", "create"],
        [
            "~",
            "method",
            "ANY /api/post/{pid}",
            "integrate → shop-api-post-pid-dev (stream)",
        ],
        [
            "+",
            "function url",
            "shop-api-post-pid-dev:live",
            "create (auth NONE, streaming)",
        ],
    ] {
        assert!(has_row(&out, &parts), "{parts:?} in {out}");
    }
    let url = out
        .lines()
        .find_map(|l| l.strip_prefix("URL: "))
        .unwrap_or_else(|| panic!("no URL in {out}"));
    assert!(
        url.starts_with("https://") && url.ends_with(".execute-api.us-east-1.amazonaws.com/dev"),
        "{url}"
    );
    assert!(
        out.contains("Function URL (/api/post/[pid]): https://"),
        "{out}"
    );
    let rec = record(&app, "dev");
    assert_eq!(rec["gateway"], "rest");
    assert_eq!(rec["url"], url);
    assert!(rec["functions"][1]["function_url"]
        .as_str()
        .is_some_and(|u| u.starts_with("https://")));

    let out = ok(nextr(&moto, &["status", &d]));
    assert!(out.contains(&format!("URL: {url}")), "{out}");
    assert!(out.contains("REST API: shop-dev ("), "{out}");
    assert!(out.contains("stage dev on deployment"), "{out}");
    assert!(
        out.contains("Function URL (shop-api-post-pid-dev): https://"),
        "{out}"
    );
    assert!(out.contains("Drift: none"), "{out}");
    assert!(out.contains("Pending: none"), "{out}");

    let out = ok(nextr(&moto, &["deploy", &d]));
    assert!(
        out.contains("No changes:") && out.contains("0 mutating"),
        "{out}"
    );
    assert!(out.contains(&format!("URL: {url}")), "{out}");
    assert!(
        out.contains("Function URL (/api/post/[pid]): https://"),
        "{out}"
    );

    let out = ok(nextr(&moto, &["remove", &d, "--yes"]));
    assert!(has_row(&out, &["-", "rest api", "shop-dev"]), "{out}");
    assert!(out.contains("Removed shop (stage dev)"), "{out}");
    let out = ok(nextr(&moto, &["remove", &d, "--yes"]));
    assert!(out.contains("Nothing to remove"), "{out}");
}

#[test]
fn a_killed_deploy_converges_when_re_run() {
    let moto = MotoServer::start();
    let app = TestApp::new("shop", ROUTES);
    let d = dir(&app).to_string();
    for cut in ["5", "13"] {
        let stage = format!("k{cut}");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_nextr"));
        cmd.args(["deploy", &d, "--stage", &stage])
            .stdin(Stdio::null());
        for (k, v) in moto.env() {
            cmd.env(k, v);
        }
        // Dies like `kill -9` before its 6th (then 14th) mutating call.
        let o = cmd
            .env("NEXTR_TEST_ABORT_AFTER_MUTATIONS", cut)
            .output()
            .unwrap();
        assert!(!o.status.success(), "the deploy was killed: {}", stdout(&o));
        assert!(!app.out_dir().join(format!("deploy-{stage}.json")).exists());
        let (functions, keys) = deployed(&moto, "shop", &stage);
        assert!(
            keys.len() < app.route_keys().len(),
            "killed midway: {functions:?} {keys:?}"
        );

        let out = ok(nextr(&moto, &["deploy", &d, "--stage", &stage]));
        assert!(out.contains("Deployed shop"), "{out}");
        let (functions, keys) = deployed(&moto, "shop", &stage);
        assert_eq!(functions.len(), 4);
        assert_eq!(keys.into_iter().collect::<Vec<_>>(), app.route_keys());
        let out = ok(nextr(&moto, &["deploy", &d, "--stage", &stage]));
        assert!(
            out.contains("No changes:") && out.contains("0 mutating"),
            "{out}"
        );
        let out = ok(nextr(&moto, &["status", &d, "--stage", &stage]));
        assert!(
            out.contains("Drift: none") && out.contains("Pending: none"),
            "{out}"
        );
    }
}

#[test]
fn endpoint_and_region_flags_and_the_manifests_stage_and_env() {
    let moto = MotoServer::start();
    let mut app = TestApp::new("shop", &ROUTES[..1]);
    let d = dir(&app).to_string();
    // What `nextr build` records from `stage = "qa"` and `[env] GREETING = "hi"` in
    // nextr.toml: deploy reads only the manifest.
    app.manifest.deploy.stage = "qa".into();
    app.set_env("GREETING", "hi");
    // No AWS_ENDPOINT_URL or AWS_REGION: the flags carry them.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nextr"));
    cmd.args([
        "deploy",
        &d,
        "--endpoint-url",
        &moto.endpoint(),
        "--region",
        "us-east-1",
    ])
    .stdin(Stdio::null());
    for (k, v) in moto.env() {
        if k != "AWS_ENDPOINT_URL" && k != "AWS_REGION" {
            cmd.env(k, v);
        }
    }
    let out = ok(cmd
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .output()
        .unwrap());
    assert!(out.contains("shop (stage qa) in us-east-1"), "{out}");
    assert_eq!(deployed(&moto, "shop", "qa").0.len(), 2);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let env = rt.block_on(async {
        let c = moto.clients(CallLog::new()).await;
        c.lambda
            .get_function_configuration()
            .function_name("shop-api-hello-qa")
            .send()
            .await
            .unwrap()
            .environment()
            .and_then(|e| e.variables().cloned())
            .unwrap_or_default()
    });
    assert_eq!(env.get("GREETING").map(String::as_str), Some("hi"));
}

#[test]
fn clear_errors() {
    let moto = MotoServer::start();
    let empty = tempfile::tempdir().unwrap();
    let o = nextr(&moto, &["deploy", empty.path().to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("run `nextr build` first"),
        "{}",
        stderr(&o)
    );

    let app = TestApp::new("shop", &ROUTES[..1]);
    let o = nextr(&moto, &["deploy", dir(&app), "--stage", "Prod!"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("\"Prod!\" is not a stage name"),
        "{}",
        stderr(&o)
    );

    // A manifest from another nextr (or hand-edited) is refused with the way out.
    let path = app.out_dir().join("routes-manifest.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let current = format!("\"version\": {}", nextr::manifest::MANIFEST_VERSION);
    assert!(text.contains(&current), "{text}");
    std::fs::write(&path, text.replace(&current, "\"version\": 1")).unwrap();
    let o = nextr(&moto, &["deploy", dir(&app)]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("schema version 1"), "{}", stderr(&o));
    assert!(stderr(&o).contains("run `nextr build`"), "{}", stderr(&o));

    let o = nextr(
        &moto,
        &["remove", Path::new("/nonexistent").to_str().unwrap()],
    );
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("nothing says which app"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_debug_build_is_refused_before_any_aws_call() {
    let moto = MotoServer::start();
    let mut app = TestApp::new("dbg", ROUTES);
    app.manifest.profile = nextr::manifest::Profile::Debug;
    app.write_manifest();
    let out = nextr(&moto, &["deploy", dir(&app), "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains("is a debug build"), "{err}");
    assert!(
        err.contains("run `nextr build` (without --debug) first"),
        "{err}"
    );
    assert_eq!(deployed(&moto, "dbg", "dev").0.len(), 0);
}

#[test]
fn a_build_folder_moved_anywhere_deploys_reports_and_is_removed() {
    let moto = MotoServer::start();
    let app = TestApp::new("moved", ROUTES);
    // Bundles are named relative to the manifest, and the stage is the one built in.
    let dist = app.dir().join("dist");
    std::fs::rename(app.out_dir(), &dist).unwrap();
    let dist_arg = dist.to_str().unwrap();
    let out = ok(nextr(&moto, &["deploy", dist_arg, "--yes"]));
    assert!(out.contains("Deployed moved (dev)"), "{out}");
    assert_eq!(deployed(&moto, "moved", "dev").0.len(), 4);
    assert!(dist.join("deploy-dev.json").is_file());
    let out = ok(nextr(&moto, &["status", dist_arg]));
    assert!(
        out.contains("Local build: the manifest that was deployed"),
        "{out}"
    );
    // `NEXTR_STAGE` names the stage when `--stage` does not.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nextr"));
    cmd.args(["deploy", dist_arg, "--dry-run"])
        .stdin(Stdio::null())
        .env("NEXTR_STAGE", "qa");
    for (k, v) in moto.env() {
        cmd.env(k, v);
    }
    let out = ok(cmd.output().unwrap());
    assert!(out.contains("Planning moved (stage qa)"), "{out}");
    ok(nextr(&moto, &["remove", dist_arg, "--yes"]));
    assert_eq!(deployed(&moto, "moved", "dev").0.len(), 0);
}
