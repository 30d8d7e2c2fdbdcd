//! `nextr dev` against a real nextr app (`fixtures/dev-app`: route files written with
//! `nextr::prelude::*` and `nextr::config!`, built by the real `nextr build`), over real HTTP
//! on 127.0.0.1: every kind of route, query/cookie/body round trips, Next's 413 and 400,
//! redirects, binary bodies, scale-out, the runtime's deadline, Lambda's timeout, panics,
//! crashing processes, and a source edit picked up while serving.
//!
//! What a failed invocation answers is what a deployed **HTTP API** answers: 500
//! `{"message":"Internal Server Error"}` for a Lambda error, crash or timeout (API Gateway,
//! "Troubleshooting issues with HTTP API Lambda integrations": HTTP APIs return 500 when the
//! Lambda invocation fails, whatever the cause; the 502 `Internal server error` of the dev
//! issue is the REST API's answer to a malformed or failed Lambda proxy response). See
//! `cli/src/emulator/gateway.rs`.

mod support;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::apps::TestApp;
use support::dev::Dev;
use support::http::{self, encode, Reply};

/// The app, built once per test binary (cargo and the zip stamps keep later builds no-ops).
fn app() -> &'static TestApp {
    static APP: OnceLock<TestApp> = OnceLock::new();
    APP.get_or_init(|| {
        let app = TestApp::from_fixture("nextr-dev-app", "dev-app");
        app.build();
        app
    })
}

fn dev() -> Dev {
    Dev::start(app().path(), &[])
}

fn ok_json(r: &Reply, what: &str) -> Value {
    assert_eq!(r.status, 200, "{what}: {}", r.text());
    r.json()
}

#[test]
fn every_kind_of_route_answers_with_its_params() {
    let dev = dev();
    let cases: &[(&str, &str, Value, &str)] = &[
        ("/api", "api/index.rs", Value::Null, "/api"),
        (
            "/api/items/a%20b?x=1",
            "api/items/[id].rs",
            json!({"x": "1", "id": "a b"}),
            "/api/items/a%20b?x=1",
        ),
        (
            "/api/items/7/parts/wheel",
            "api/items/[id]/parts/[part].rs",
            json!({"id": "7", "part": "wheel"}),
            "/api/items/7/parts/wheel",
        ),
        (
            "/api/files/a/b/c.txt",
            "api/files/[...path].rs",
            json!({"path": ["a", "b", "c.txt"]}),
            "/api/files/a/b/c.txt",
        ),
        ("/api/opt", "api/opt/[[...rest]].rs", json!({}), "/api/opt"),
        (
            "/api/opt/x/y",
            "api/opt/[[...rest]].rs",
            json!({"rest": ["x", "y"]}),
            "/api/opt/x/y",
        ),
    ];
    for (path, file, query, url) in cases {
        let got = ok_json(&dev.get(path), path);
        assert_eq!(got["file"], *file, "{path}: {got}");
        if !query.is_null() {
            assert_eq!(got["query"], *query, "{path}: {got}");
        }
        assert_eq!(got["url"], *url, "{path}: {got}");
    }
    let hello = dev.get("/api/hello");
    assert_eq!(
        ok_json(&hello, "hello"),
        json!({"message": "Hello from Next.js!"})
    );
    assert_eq!(
        hello.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert!(hello.header("apigw-requestid").is_some());

    // What no route takes: the $default answers (Next's 308, API Gateway's 404).
    let r = dev.get("/api/hello/");
    assert_eq!(r.status, 308);
    assert_eq!(r.header("location"), Some("/api/hello"));
    assert_eq!(dev.get("/api/nope").status, 404);
    assert_eq!(
        dev.get("/api/files").status,
        404,
        "a catch-all needs a segment"
    );
    assert_eq!(dev.get("/api/items/7/parts").status, 404);
}

#[test]
fn query_cookies_and_bodies_round_trip() {
    let dev = dev();
    // Query: repeated keys, encoded values, `+`.
    let got = ok_json(
        &dev.get(&format!(
            "/api/echo?a=1&b=x+y&a=2&c={}",
            encode("é & ✓ = ?")
        )),
        "query",
    );
    assert_eq!(got["method"], "GET");
    assert_eq!(
        got["query"],
        json!({"a": ["1", "2"], "b": "x y", "c": "é & ✓ = ?"})
    );
    assert_eq!(
        got["url"],
        "/api/echo?a=1&a=2&b=x+y&c=%C3%A9+%26+%E2%9C%93+%3D+%3F"
    );

    // Cookies: in through the Cookie header, back out as Set-Cookie headers.
    let r = dev.request(
        "GET",
        "/api/echo",
        &[("Cookie", "session=abc; theme=dark"), ("Cookie", "lang=fr")],
        b"",
    );
    let got = ok_json(&r, "cookies");
    assert_eq!(
        got["cookies"],
        json!({"session": "abc", "theme": "dark", "lang": "fr"})
    );
    let mut set: Vec<&str> = r.all("set-cookie");
    set.sort();
    assert_eq!(
        set,
        [
            "lang=fr-back; Path=/; HttpOnly",
            "session=abc-back; Path=/; HttpOnly",
            "theme=dark-back; Path=/; HttpOnly"
        ]
    );

    // Bodies, parsed by content type as Next does.
    let cases: &[(&str, &str, &str, Value)] = &[
        (
            "application/json",
            r#"{"k":[1,true,null],"s":"é"}"#,
            "object",
            json!({"k": [1, true, null], "s": "é"}),
        ),
        ("application/json", "[1,2]", "array", json!([1, 2])),
        ("application/json", "", "object", json!({})),
        (
            "application/x-www-form-urlencoded",
            "a=1&a=2&b=x+y&c=%C3%A9",
            "object",
            json!({"a": ["1", "2"], "b": "x y", "c": "é"}),
        ),
        (
            "text/plain; charset=utf-8",
            "héllo\nworld",
            "string",
            json!("héllo\nworld"),
        ),
    ];
    for (content_type, body, js_type, value) in cases {
        let r = dev.request(
            "POST",
            "/api/echo?via=post",
            &[("Content-Type", content_type)],
            body.as_bytes(),
        );
        let got = ok_json(&r, content_type);
        assert_eq!(got["method"], "POST");
        assert_eq!(got["content_type"], *content_type);
        assert_eq!(got["body_type"], *js_type, "{content_type}: {got}");
        assert_eq!(got["body"], *value, "{content_type}: {got}");
        assert_eq!(got["query"], json!({"via": "post"}));
    }
    // Every method reaches the handler.
    for method in ["PUT", "PATCH", "DELETE", "OPTIONS"] {
        let got = ok_json(&dev.request(method, "/api/echo", &[], b""), method);
        assert_eq!(got["method"], method);
    }
}

#[test]
fn body_limits_and_invalid_json_answer_as_next() {
    let dev = dev();
    // size_limit "1kb" = 1024 bytes (Next's `bytes` package counts in powers of 1024).
    let r = dev.request(
        "POST",
        "/api/small",
        &[("Content-Type", "text/plain")],
        &[b'x'; 1024],
    );
    assert_eq!(ok_json(&r, "1024 bytes"), json!({"bytes": 1024}));
    let r = dev.request(
        "POST",
        "/api/small",
        &[("Content-Type", "text/plain")],
        &[b'x'; 1025],
    );
    assert_eq!(r.status, 413, "{}", r.text());
    assert_eq!(r.text(), "Body exceeded 1kb limit");
    // The default limit (1mb) elsewhere.
    let r = dev.request(
        "POST",
        "/api/echo",
        &[("Content-Type", "text/plain")],
        &vec![b'y'; 1024 * 1024 + 1],
    );
    assert_eq!(r.status, 413, "{}", r.text());
    assert_eq!(r.text(), "Body exceeded 1mb limit");

    let r = dev.request(
        "POST",
        "/api/json",
        &[("Content-Type", "application/json")],
        br#"{"item": "#,
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(r.text(), "Invalid JSON");
    let r = dev.request(
        "POST",
        "/api/json",
        &[("Content-Type", "application/json")],
        br#"{"item":"wheel","count":"two"}"#,
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("at `count`"), "{}", r.text());
    let r = dev.request(
        "POST",
        "/api/json",
        &[("Content-Type", "application/json")],
        br#"{"item":"wheel","count":2}"#,
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json(), json!({"item": "wheel", "count": 2}));
}

#[test]
fn handlers_returning_nothing_or_unit_answer() {
    let dev = dev();
    let r = dev.get("/api/void?form=none");
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json(), json!({ "returned": "none" }));
    let r = dev.get("/api/unit");
    assert_eq!((r.status, r.text().as_str()), (202, "unit"));
    assert_eq!(r.header("x-form"), Some("unit"));
}

#[test]
fn redirects_keep_status_and_location() {
    let dev = dev();
    let r = dev.get("/api/redirect");
    assert_eq!(r.status, 307, "{}", r.text());
    assert_eq!(r.header("location"), Some("/api/hello?from=redirect"));
    let r = dev.get("/api/redirect?permanent");
    assert_eq!(r.status, 308, "{}", r.text());
    assert_eq!(r.header("location"), Some("/api/hello?from=redirect"));
    // Following it lands on the route.
    let r = dev.get(r.header("location").unwrap());
    assert_eq!(r.status, 200);
}

#[test]
fn binary_bodies_round_trip_both_ways() {
    let dev = dev();
    // Every byte value, invalid UTF-8 included, and more than one base64 block.
    let bytes: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let r = dev.request(
        "POST",
        "/api/binary",
        &[("Content-Type", "application/octet-stream")],
        &bytes,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/octet-stream"));
    let mut reversed = bytes.clone();
    reversed.reverse();
    assert_eq!(r.body.len(), reversed.len());
    assert!(r.body == reversed, "the bytes came back altered");
    // Text sent as a binary type stays bytes too.
    let r = dev.request(
        "POST",
        "/api/binary",
        &[("Content-Type", "image/png")],
        b"abc",
    );
    assert_eq!(r.body, b"cba");
}

fn concurrent(dev: &Dev, n: usize, path: &str) -> (Vec<u16>, HashSet<u64>) {
    let replies = http::get_concurrently(dev.port(), n, path);
    let statuses = replies.iter().map(|r| r.status).collect();
    let pids = replies
        .iter()
        .filter(|r| r.status == 200)
        .filter_map(|r| r.json()["pid"].as_u64())
        .collect();
    (statuses, pids)
}

#[test]
fn concurrent_requests_reach_several_instances() {
    let dev = dev();
    let (statuses, pids) = concurrent(&dev, 40, "/api/pid?ms=300");
    assert!(statuses.iter().all(|&s| s == 200), "{statuses:?}");
    assert!(
        pids.len() > 1,
        "40 concurrent requests all served by {pids:?}"
    );
    assert!(pids.len() <= 8, "the default cap is 8 instances: {pids:?}");
    // Warm instances serve the next wave.
    let (statuses, again) = concurrent(&dev, 8, "/api/pid?ms=50");
    assert!(statuses.iter().all(|&s| s == 200), "{statuses:?}");
    assert!(again.is_subset(&pids), "{again:?} not among {pids:?}");
}

#[test]
fn max_duration_answers_504_at_the_deadline_and_the_next_request_succeeds() {
    let dev = dev();
    let started = Instant::now();
    let r = dev.get("/api/slow");
    let took = started.elapsed();
    // The runtime answers at min(max_duration, Lambda's remaining time) minus 100 ms, as a
    // normal response: the deployed HTTP API passes the 504 through.
    assert_eq!(r.status, 504, "{}", r.text());
    let body = r.json();
    assert_eq!(body["route"], "/api/slow");
    assert_eq!(body["error"], "FUNCTION_INVOCATION_TIMEOUT");
    assert!(
        took >= Duration::from_millis(800) && took < Duration::from_secs(5),
        "{took:?}"
    );
    let after = dev.get("/api/slow?ms=10");
    assert_eq!(ok_json(&after, "after")["slept"], 10);
}

#[test]
fn a_handler_blocking_its_thread_answers_504_and_a_fresh_instance_serves_next() {
    let dev = dev();
    let started = Instant::now();
    // The handler blocks its thread, and with it the runtime's timer: the runtime's watchdog
    // answers at the deadline, then the process exits.
    let r = dev.get("/api/stuck");
    let took = started.elapsed();
    assert_eq!(r.status, 504, "{}", r.text());
    let body = r.json();
    assert_eq!(body["error"], "FUNCTION_INVOCATION_TIMEOUT");
    assert_eq!(
        body["message"],
        "The route /api/stuck did not respond within its time limit of 1 s."
    );
    assert!(
        took >= Duration::from_millis(800) && took < Duration::from_secs(3),
        "{took:?}"
    );
    dev.wait_for(
        |l| l.starts_with("[/api/stuck] ") && l.contains("blocks its thread"),
        Duration::from_secs(10),
    )
    .unwrap_or_else(|| panic!("no watchdog line:\n{}", dev.output()));
    // The exited instance is replaced by a cold start.
    let after = dev.get("/api/stuck?ms=10");
    assert_eq!(ok_json(&after, "after")["slept"], 10);
}

#[test]
fn a_panic_answers_500_and_the_same_process_serves_on() {
    let dev = dev();
    let before = ok_json(&dev.get("/api/panic?ok"), "before")["pid"].clone();
    let r = dev.get("/api/panic");
    // The runtime catches the panic and answers Next's 500 itself.
    assert_eq!(r.status, 500, "{}", r.text());
    assert_eq!(r.text(), "Internal Server Error");
    dev.wait_for(
        |l| l.contains("the test route panics on purpose"),
        Duration::from_secs(10),
    )
    .unwrap_or_else(|| panic!("the panic is not logged:\n{}", dev.output()));
    let after = ok_json(&dev.get("/api/panic?ok"), "after")["pid"].clone();
    assert_eq!(before, after, "the process keeps serving");
}

#[test]
fn a_process_exit_answers_500_then_a_new_instance_serves() {
    let dev = dev();
    // Warm an instance first: the crash below then happens in a process that served before.
    ok_json(&dev.get("/api/exit?ok"), "before");
    let started = Instant::now();
    let r = dev.get("/api/exit");
    // HTTP API: a crashed invocation (Runtime.ExitError) is 500, not the REST API's 502.
    assert_eq!(r.status, 500, "{}", r.text());
    assert_eq!(r.text(), r#"{"message":"Internal Server Error"}"#);
    assert!(started.elapsed() < Duration::from_secs(10));
    dev.wait_for(|l| l.contains("Runtime.ExitError"), Duration::from_secs(10))
        .unwrap_or_else(|| panic!("no Runtime.ExitError:\n{}", dev.output()));
    let line = dev
        .wait_for(
            |l| l.contains("the test route exits on purpose (pid "),
            Duration::from_secs(10),
        )
        .unwrap_or_else(|| panic!("the function's stderr is not shown:\n{}", dev.output()));
    // The process that exited, named by its own last words: which instance served the warm-up
    // request is the pool's choice (under load a second one may start), but the dead one
    // must never answer again.
    let crashed: u64 = line
        .rsplit("(pid ")
        .next()
        .and_then(|s| s.trim_end_matches(')').trim().parse().ok())
        .unwrap_or_else(|| panic!("no pid in {line:?}"));
    for _ in 0..3 {
        let after = ok_json(&dev.get("/api/exit?ok"), "after")["pid"].clone();
        assert_ne!(after, json!(crashed), "the exited process served again");
    }
}

#[test]
fn cold_start_and_reports_are_logged() {
    let dev = Dev::start(app().path(), &["--lambda-logs"]);
    assert_eq!(dev.get("/api/hello").status, 200);
    assert_eq!(dev.get("/api/hello").status, 200);
    let report = |init: bool| {
        dev.wait_for(
            |l| {
                l.starts_with("[/api/hello] REPORT RequestId: ")
                    && l.contains("Init Duration: ") == init
            },
            Duration::from_secs(10),
        )
        .unwrap_or_else(|| panic!("no REPORT (init {init}):\n{}", dev.output()))
    };
    let cold = report(true);
    let init: f64 = cold
        .split("Init Duration: ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|ms| ms.parse().ok())
        .unwrap_or_else(|| panic!("{cold}"));
    assert!(init > 0.0 && init < 10_000.0, "{cold}");
    let warm = report(false);
    assert!(warm.contains("Billed Duration: "), "{warm}");
}

const EDITED_V1: &str = r#"//! /api/edited: its output changes while `nextr dev` serves it.
use nextr::prelude::*;

pub async fn handler(_req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.status(200).json(&json!({ "version": 1, "pid": std::process::id() }))
}
"#;

#[test]
fn a_file_edit_is_picked_up_without_restart_and_no_request_fails() {
    let files = vec![
        ("api/edited.rs".to_owned(), EDITED_V1.to_owned()),
        (
            "api/pid.rs".to_owned(),
            std::fs::read_to_string(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("tests/fixtures/dev-app/api/pid.rs"),
            )
            .unwrap(),
        ),
    ];
    let app = TestApp::cached("nextr-dev-edit", &files);
    let dev = Dev::start(app.path(), &[]);
    assert_eq!(ok_json(&dev.get("/api/edited"), "v1")["version"], 1);
    ok_json(&dev.get("/api/pid"), "pid");

    // Requests keep coming, to the edited route and to another one, during the rebuild and
    // the swap; a slow one is in flight when the swap happens.
    let stop = Arc::new(AtomicBool::new(false));
    let port = dev.port();
    let load: Vec<_> = ["/api/edited", "/api/pid?ms=20", "/api/pid?ms=1500"]
        .into_iter()
        .map(|path| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut seen = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let r = http::get(port, path);
                    seen.push((r.status, r.text()));
                }
                seen
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));

    app.write(
        "api/edited.rs",
        &EDITED_V1.replace(r#""version": 1"#, r#""version": 2"#),
    );
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let r = dev.get("/api/edited");
        if r.status == 200 && r.json()["version"] == 2 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the edit was not picked up:\n{}",
            dev.output()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // Let the slow request that straddles the swap finish, then stop the load.
    std::thread::sleep(Duration::from_millis(1600));
    stop.store(true, Ordering::Relaxed);
    let mut total = 0;
    for t in load {
        for (status, text) in t.join().unwrap() {
            total += 1;
            assert_eq!(status, 200, "a request failed during the rebuild: {text}");
        }
    }
    assert!(total > 3, "{total} requests");
    let reload = dev
        .wait_for(
            |l| l.contains("reloaded the route manifest"),
            Duration::from_secs(5),
        )
        .unwrap_or_else(|| panic!("no reload line:\n{}", dev.output()));
    // Only the edited function got new workers; the other and `$default` kept theirs.
    assert!(
        reload.contains("new workers for nextr-dev-edit-edited-") && reload.contains("2 kept warm"),
        "{reload}"
    );
    // The next run starts from v1 again: `TestApp::cached` rewrites every file.
}

/// The request log's line for `GET target`: the first line naming it, within a few seconds.
fn request_line(dev: &Dev, method_target: &str) -> String {
    let prefix = format!("{method_target} ");
    dev.wait_for(|l| l.starts_with(&prefix), Duration::from_secs(10))
        .unwrap_or_else(|| panic!("no request line for {method_target}:\n{}", dev.output()))
}

/// `METHOD TARGET STATUS in DURATION [ANSWERER]…`: the status, the duration in ms and the rest.
fn fields<'a>(line: &'a str, method_target: &str) -> (u16, f64, &'a str) {
    let rest = line
        .strip_prefix(method_target)
        .and_then(|r| r.strip_prefix(' '))
        .unwrap_or_else(|| panic!("{line}"));
    let (status, rest) = rest.split_once(" in ").unwrap_or_else(|| panic!("{line}"));
    let (duration, rest) = rest.split_once(' ').unwrap_or_else(|| panic!("{line}"));
    let ms = millis(duration).unwrap_or_else(|| panic!("{line}"));
    (
        status.parse().unwrap_or_else(|_| panic!("{line}")),
        ms,
        rest,
    )
}

/// `3.1ms`, `42ms` or `1.2s` in milliseconds.
fn millis(text: &str) -> Option<f64> {
    match text.strip_suffix("ms") {
        Some(ms) => ms.parse().ok(),
        None => text
            .strip_suffix('s')?
            .parse::<f64>()
            .ok()
            .map(|s| s * 1000.0),
    }
}

#[test]
fn each_request_is_one_log_line_with_its_status_time_and_answerer() {
    let dev = dev();
    let requests = [
        ("GET /api/hello?x=1", 200, "[/api/hello]"),
        ("GET /api/nothing", 404, "[$default]"),
        ("GET /api/hello/?x=1", 308, "[$default]"),
        // A path that does not decode: API Gateway's own 400, no function runs.
        ("GET /api/items/%E0%A4%A", 400, "[gateway]"),
    ];
    for (method_target, status, _) in requests {
        let target = method_target.trim_start_matches("GET ");
        assert_eq!(dev.get(target).status, status, "{method_target}");
    }
    let r = dev.request("POST", "/api/echo?y=2", &[], b"{}");
    assert_eq!(r.status, 200, "{}", r.text());
    for (method_target, status, answerer) in
        requests
            .into_iter()
            .chain([("POST /api/echo?y=2", 200, "[/api/echo]")])
    {
        let line = request_line(&dev, method_target);
        let (got, ms, rest) = fields(&line, method_target);
        assert_eq!(got, status, "{line}");
        assert!((0.0..30_000.0).contains(&ms), "{line}");
        assert!(rest.starts_with(answerer), "{line}");
    }
    std::thread::sleep(Duration::from_millis(300));
    let lines = dev.lines();
    for (method_target, _, _) in requests {
        let prefix = format!("{method_target} ");
        let n = lines.iter().filter(|l| l.starts_with(&prefix)).count();
        assert_eq!(n, 1, "{method_target}:\n{lines:#?}");
    }
    // Lambda's own lines only with --lambda-logs.
    assert!(
        !lines
            .iter()
            .any(|l| l.contains("] START RequestId: ") || l.contains("] REPORT RequestId: ")),
        "{lines:#?}"
    );
}

#[test]
fn only_the_request_that_starts_an_instance_is_marked_cold() {
    let dev = dev();
    for n in 1..=3 {
        assert_eq!(dev.get(&format!("/api/hello?n={n}")).status, 200);
    }
    let first = request_line(&dev, "GET /api/hello?n=1");
    let (_, ms, rest) = fields(&first, "GET /api/hello?n=1");
    let init = rest
        .strip_prefix("[/api/hello] (cold start ")
        .and_then(|r| r.strip_suffix(')'))
        .and_then(millis)
        .unwrap_or_else(|| panic!("no cold start in {first}"));
    assert!(init > 0.0, "{first}");
    // Its duration includes the instance's start (both rounded as shown).
    assert!(ms + 1.0 >= init, "{first}");
    for n in 2..=3 {
        let warm = request_line(&dev, &format!("GET /api/hello?n={n}"));
        assert!(
            warm.ends_with(" [/api/hello]") && !warm.contains("cold"),
            "{warm}"
        );
    }
}

const SAVED: &str = r#"//! /api/saved: edited while `nextr dev` serves it, as an editor saves a file.
use nextr::prelude::*;

pub async fn handler(_req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.status(200).json(&json!({ "version": 1 }))
}
"#;

/// Waits until `/api/saved` answers `version`, then until dev has had time to start a second
/// rebuild if it were going to (a change queued during the first starts one right after it).
fn wait_for_version(dev: &Dev, version: u64) {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let r = dev.get("/api/saved");
        if r.status == 200 && r.json()["version"] == version {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "version {version} never served:\n{}",
            dev.output()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(3));
}

fn count(dev: &Dev, needle: &str) -> usize {
    dev.lines().iter().filter(|l| l.contains(needle)).count()
}

#[test]
fn one_save_is_one_rebuild() {
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;

    let app = TestApp::cached(
        "nextr-dev-save",
        &[("api/saved.rs".to_owned(), SAVED.to_owned())],
    );
    let file = app.path().join("api/saved.rs");
    let dev = Dev::start(app.path(), &[]);
    assert_eq!(ok_json(&dev.get("/api/saved"), "v1")["version"], 1);

    // Saved in place, as many editors do: truncated, written in two parts 60 ms apart, then
    // its permissions set. The events span more than a tick of the watcher's debouncer.
    let v2 = SAVED.replace(r#""version": 1"#, r#""version": 2"#);
    let (head, tail) = v2.split_at(v2.len() / 2);
    let mut f = std::fs::File::create(&file).unwrap();
    f.write_all(head.as_bytes()).unwrap();
    f.flush().unwrap();
    std::thread::sleep(Duration::from_millis(60));
    f.write_all(tail.as_bytes()).unwrap();
    drop(f);
    std::thread::sleep(Duration::from_millis(60));
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    wait_for_version(&dev, 2);
    assert_eq!(count(&dev, "changed; rebuilding"), 1, "{}", dev.output());
    assert_eq!(
        count(&dev, "reloaded the route manifest"),
        1,
        "{}",
        dev.output()
    );

    // Saved through a temporary file renamed over it, as other editors do.
    let v3 = SAVED.replace(r#""version": 1"#, r#""version": 3"#);
    let tmp = app.path().join("api/saved.rs.tmp-4913");
    std::fs::write(&tmp, &v3).unwrap();
    std::thread::sleep(Duration::from_millis(60));
    std::fs::rename(&tmp, &file).unwrap();
    wait_for_version(&dev, 3);
    assert_eq!(count(&dev, "changed; rebuilding"), 2, "{}", dev.output());
    assert_eq!(
        count(&dev, "reloaded the route manifest"),
        2,
        "{}",
        dev.output()
    );
    let last = dev
        .lines()
        .into_iter()
        .rfind(|l| l.contains("changed; rebuilding"))
        .unwrap();
    assert_eq!(last, "nextr: api/saved.rs changed; rebuilding");
}
