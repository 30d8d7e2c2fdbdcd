//! `nextr logs` against moto: events put into a deployed function's log group are printed
//! `timestamp [route] message`, for one route (by page, file or function name) or all, and
//! `--follow` picks up an event written after it started.

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nextr_infra::deploy::{self, CallLog};
use nextr_infra::testing::{put_log_event as put, MotoServer, TestApp, TestRoute};

const ROUTES: &[TestRoute<'static>] = &[
    ("/api/hello", &["ANY /api/hello"]),
    ("/api/post/[pid]", &["ANY /api/post/{pid}"]),
];

fn command(moto: &MotoServer, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nextr"));
    cmd.args(args).stdin(Stdio::null());
    for (k, v) in moto.env() {
        cmd.env(k, v);
    }
    cmd.env_remove("AWS_PROFILE").env_remove("NEXTR_STAGE");
    cmd
}

fn run(moto: &MotoServer, args: &[&str]) -> Output {
    command(moto, args).output().unwrap()
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn logs_prints_one_routes_events_or_all_and_follow_picks_up_new_ones() {
    let moto = MotoServer::start();
    let app = TestApp::new("demo", ROUTES);
    let rt = runtime();
    let c = rt.block_on(moto.clients(CallLog::new()));
    rt.block_on(deploy::deploy(&c, &app.desired("dev")))
        .unwrap();
    let hello = "/aws/lambda/demo-api-hello-dev";
    let post = "/aws/lambda/demo-api-post-pid-dev";
    let t = now_ms();
    rt.block_on(put(&c, hello, "a", t - 120_000, "START RequestId: 1\n"));
    rt.block_on(put(&c, hello, "b", t - 60_000, "hello from the route\n"));
    rt.block_on(put(&c, post, "a", t - 90_000, "post says hi\n"));
    // Older than --since: left out.
    rt.block_on(put(&c, hello, "c", t - 3 * 3_600_000, "too old\n"));

    let dir = app.dir().to_str().unwrap().to_owned();
    for route in ["/api/hello", "api/hello.rs", "demo-api-hello-dev"] {
        let out = run(&moto, &["logs", route, &dir, "--since", "1h"]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{route}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{route}: {text}");
        assert!(
            lines[0].ends_with(" [/api/hello] START RequestId: 1"),
            "{text}"
        );
        assert!(
            lines[1].ends_with(" [/api/hello] hello from the route"),
            "{text}"
        );
        // `2025-01-02T03:04:05.678Z`
        assert_eq!(lines[0].find(' '), Some(24), "{text}");
        assert!(lines[0][..24].ends_with('Z'), "{text}");
    }
    // Every route, in time order.
    let out = run(&moto, &["logs", &dir, "--since", "1h"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let routes: Vec<&str> = text
        .lines()
        .map(|l| l.split(' ').nth(1).unwrap_or_default())
        .collect();
    assert_eq!(
        routes,
        ["[/api/hello]", "[/api/post/[pid]]", "[/api/hello]"],
        "{text}"
    );

    // A route the app does not have, and a stage never deployed, say what to do.
    let out = run(&moto, &["logs", "/api/nope", &dir]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(err.contains("no route `/api/nope`"), "{err}");
    assert!(err.contains("nextr routes"), "{err}");
    let out = run(&moto, &["logs", "/api/hello", &dir, "--stage", "prod"]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        err.contains("route /api/hello has no logs in this stage") && err.contains("nextr deploy"),
        "{err}"
    );
    let out = run(&moto, &["logs", &dir, "--since", "ten"]);
    assert_eq!(out.status.code(), Some(2));

    // --follow prints what there is, then a new event as it arrives.
    let mut child = command(
        &moto,
        &["logs", "/api/hello", &dir, "--since", "1h", "--follow"],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let next = || lines.recv_timeout(Duration::from_secs(30));
    assert!(next().unwrap().ends_with("START RequestId: 1"));
    assert!(next().unwrap().ends_with("hello from the route"));
    rt.block_on(put(&c, hello, "d", now_ms(), "a new event\n"));
    let line = next();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        line.as_deref()
            .is_ok_and(|l| l.ends_with(" [/api/hello] a new event")),
        "{line:?}"
    );
}
