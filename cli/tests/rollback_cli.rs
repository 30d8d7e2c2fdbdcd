//! `nextr rollback` against moto: one route moves back (the others do not), status shows
//! it, no earlier kept version is refused naming `keep_versions`, `--dry-run` changes
//! nothing, `--to`, every function at once, and the next deploy moves live forward again.

mod support;

use std::process::Output;

use nextr_infra::deploy::CallLog;
use nextr_infra::testing::{MotoServer, TestApp, TestRoute};
use support::moto::nextr;

const ROUTES: &[TestRoute<'static>] = &[
    ("/api/hello", &["ANY /api/hello"]),
    ("/api/post/[pid]", &["ANY /api/post/{pid}"]),
];
const HELLO: &str = "demo-api-hello-dev";
const POST: &str = "demo-api-post-pid-dev";

fn ok(o: Output) -> String {
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

fn live(moto: &MotoServer, function: &str) -> String {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let c = rt.block_on(moto.clients(CallLog::new()));
    let out = rt
        .block_on(
            c.lambda
                .get_alias()
                .function_name(function)
                .name("live")
                .send(),
        )
        .unwrap();
    out.function_version().unwrap_or_default().to_string()
}

#[test]
fn rollback_moves_live_back_and_deploy_moves_it_forward() {
    let moto = MotoServer::start();
    let mut app = TestApp::new("demo", ROUTES);
    let dir = app.dir().to_str().unwrap().to_owned();

    // Never deployed: nothing to roll back.
    let o = nextr(&moto, &["rollback", &dir, "--yes"]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(err.contains("stage dev was never deployed"), "{err}");

    ok(nextr(&moto, &["deploy", &dir, "--yes"]));
    app.change_code("/api/hello", "v2");
    app.change_code("/api/post/[pid]", "v2");
    ok(nextr(&moto, &["deploy", &dir, "--yes"]));
    let (hello2, post2) = (live(&moto, HELLO), live(&moto, POST));

    // --dry-run shows the plan and changes nothing.
    let out = ok(nextr(&moto, &["rollback", "/api/hello", &dir, "--dry-run"]));
    assert!(
        out.contains(&format!("~ /api/hello ({HELLO}): live {hello2} → ")),
        "{out}"
    );
    assert!(out.contains("Dry run: nothing was changed."), "{out}");
    assert_eq!(live(&moto, HELLO), hello2);

    // Without --yes and without a terminal, nothing moves.
    let o = nextr(&moto, &["rollback", "/api/hello", &dir]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--yes"));
    assert_eq!(live(&moto, HELLO), hello2);

    // One route by its file: it moves back, the other does not.
    let o = nextr(&moto, &["rollback", "api/hello.rs", &dir, "--yes"]);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(err.contains("API Gateway routes"), "{err}");
    ok(o);
    let hello1 = live(&moto, HELLO);
    assert!(hello1 < hello2, "{hello1} {hello2}");
    assert_eq!(live(&moto, POST), post2);

    // Status says which version serves.
    let status = ok(nextr(&moto, &["status", &dir]));
    assert!(
        status.contains(&format!(
            "live {hello1} (rolled back from {hello2}; latest {hello2}; kept"
        )),
        "{status}"
    );
    assert!(status.contains("Drift: none"), "{status}");

    // No version before the first one: refused, naming keep_versions; nothing moves.
    let o = nextr(&moto, &["rollback", "/api/hello", &dir, "--yes"]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(
        err.contains("no version before") && err.contains("keep_versions"),
        "{err}"
    );
    assert_eq!(live(&moto, HELLO), hello1);

    // --to moves it forward again.
    ok(nextr(
        &moto,
        &["rollback", "/api/hello", &dir, "--to", &hello2, "--yes"],
    ));
    assert_eq!(live(&moto, HELLO), hello2);

    // Every function: back to what the last deploy replaced; run twice, the second finds it done.
    let out = ok(nextr(&moto, &["rollback", &dir, "--yes"]));
    assert!(
        out.contains(&format!("~ /api/post/[pid] ({POST})")),
        "{out}"
    );
    assert!(live(&moto, HELLO) < hello2 && live(&moto, POST) < post2);
    let out = ok(nextr(&moto, &["rollback", &dir, "--yes"]));
    assert!(
        out.contains("(already)") && out.contains("0 alias(es) moved"),
        "{out}"
    );

    // The next deploy says so and moves live forward to the build; no version was deleted.
    let out = ok(nextr(&moto, &["deploy", &dir, "--yes"]));
    assert!(out.contains("moves live forward"), "{out}");
    assert!(live(&moto, HELLO) >= hello2, "{out}");
    assert!(live(&moto, POST) >= post2, "{out}");
    let status = ok(nextr(&moto, &["status", &dir]));
    assert!(!status.contains("rolled back"), "{status}");
    assert!(status.contains("Drift: none"), "{status}");
}
