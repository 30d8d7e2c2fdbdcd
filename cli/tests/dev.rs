//! `nextr dev` over real HTTP, against real Lambda bootstraps (the `lambda-fn` fixture):
//! routing and API Gateway's own answers, the payload 2.0 event, response mapping, scale-out,
//! timeouts, crashes, init failures, Lambda's logs, and swapping workers on a new manifest.

mod support;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::dev::Dev;
use support::fixture::{all_routes, bundle_bytes, App, Route};
use support::http;

fn echo(dev: &Dev, path: &str) -> Value {
    let r = dev.get(path);
    assert_eq!(r.status, 200, "{path}: {}", r.text());
    r.json()
}

#[test]
fn prints_the_ready_line_then_the_route_table() {
    let app = App::new(&all_routes());
    let dev = app.dev(&[]);
    let lines = dev.lines();
    let ready = &lines[0];
    assert!(
        ready.starts_with("ready on http://127.0.0.1:") && dev.port() != 0,
        "{ready}"
    );
    assert_eq!(*ready, format!("ready on http://127.0.0.1:{}", dev.port()));
    dev.wait_for(|l| l.contains("14 routes at"), Duration::from_secs(5))
        .expect("route table footer");
    let table = dev.output();
    assert!(table.contains("Route"), "{table}");
    assert!(table.contains("/api/items/[id]"), "{table}");
    assert!(table.contains("test-api-sleep"), "{table}");
}

#[test]
fn routes_redirects_and_not_found_as_deployed() {
    let app = App::new(&all_routes());
    let dev = app.dev(&[]);

    let r = dev.get("/api/hello");
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"message": "Hello from Next.js!"}));
    assert_eq!(
        r.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(r.header("apigw-requestid").map(str::len), Some(16));

    // What no route key takes goes to the `$default` route's own function (here the
    // fixture, which echoes its event; a real app's answers Next's 308 and 404, see
    // `dev_app.rs`), with the decoded path and the `$default` route key.
    for (target, raw_path) in [
        ("/api/hello/?a=1", "/api/hello/"),
        ("/api//hello", "/api//hello"),
        ("/api\\hello", "/api\\hello"),
        ("/api/nope", "/api/nope"),
        ("/api/n%6Fpe", "/api/nope"),
        ("/api/files", "/api/files"),
    ] {
        let r = dev.get(target);
        assert_eq!(r.status, 200, "{target}: {}", r.text());
        let event = &r.json()["event"];
        assert_eq!(event["routeKey"], "$default", "{target}");
        assert_eq!(event["rawPath"], raw_path, "{target}");
        assert_eq!(event["requestContext"]["routeKey"], "$default", "{target}");
        assert!(event.get("pathParameters").is_none(), "{target}");
    }
    dev.wait_for(
        |l| l.starts_with("GET /api/n%6Fpe 200 in ") && l.contains(" [$default]"),
        Duration::from_secs(5),
    )
    .unwrap_or_else(|| {
        panic!(
            "no request line of the $default function:\n{}",
            dev.output()
        )
    });

    // A path that does not decode never reaches a function.
    let r = dev.get("/api/items/%E0%A4%A");
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(
        r.text().ends_with(r#"{"message":"Bad Request"}"#),
        "{}",
        r.text()
    );

    // Precedence: the static route beats nothing else here, the optional catch-all takes its
    // parent path.
    assert_eq!(echo(&dev, "/api/opt")["event"]["routeKey"], "ANY /api/opt");
}

#[test]
fn the_event_is_what_api_gateway_sends() {
    let app = App::new(&all_routes());
    let dev = app.dev(&[]);
    let r = dev.request(
        "POST",
        "/api/echo?b=2&a=1&a=3&sp=x+y&enc=a%2Bb&empty=",
        &[
            ("X-Multi", "one"),
            ("X-Multi", "two"),
            ("Cookie", "session=abc; theme=dark"),
            ("User-Agent", "nextr-test/1"),
            ("Content-Type", "application/json"),
        ],
        br#"{"k":1}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let echoed = r.json();
    let e = &echoed["event"];
    assert_eq!(e["version"], "2.0");
    assert_eq!(e["routeKey"], "ANY /api/echo");
    assert_eq!(e["rawPath"], "/api/echo");
    assert_eq!(e["rawQueryString"], "b=2&a=1&a=3&sp=x+y&enc=a%2Bb&empty=");
    assert_eq!(
        e["queryStringParameters"],
        json!({"b": "2", "a": "1,3", "sp": "x y", "enc": "a+b", "empty": ""})
    );
    assert_eq!(e["cookies"], json!(["session=abc", "theme=dark"]));
    let h = &e["headers"];
    assert_eq!(h["x-multi"], "one,two");
    assert!(h.get("cookie").is_none(), "cookies leave the headers: {h}");
    assert!(
        h.get("X-Multi").is_none(),
        "header names are lower-case: {h}"
    );
    assert_eq!(h["user-agent"], "nextr-test/1");
    assert_eq!(h["content-type"], "application/json");
    assert_eq!(h["content-length"], "7");
    assert_eq!(h["x-forwarded-for"], "127.0.0.1");
    assert_eq!(h["x-forwarded-proto"], "http");
    assert_eq!(h["x-forwarded-port"], dev.port().to_string());
    assert!(h["x-amzn-trace-id"]
        .as_str()
        .unwrap()
        .starts_with("Root=1-"));
    assert_eq!(h["host"], format!("127.0.0.1:{}", dev.port()));
    assert_eq!(e["body"], r#"{"k":1}"#);
    assert_eq!(e["isBase64Encoded"], false);
    assert!(e.get("pathParameters").is_none());

    let c = &e["requestContext"];
    assert_eq!(c["accountId"], "123456789012");
    assert_eq!(c["stage"], "$default");
    assert_eq!(c["routeKey"], "ANY /api/echo");
    assert_eq!(c["domainName"], "127.0.0.1");
    assert_eq!(c["domainPrefix"], "127");
    assert_eq!(
        c["http"],
        json!({"method": "POST", "path": "/api/echo", "protocol": "HTTP/1.1",
               "sourceIp": "127.0.0.1", "userAgent": "nextr-test/1"})
    );
    assert_eq!(c["requestId"].as_str().unwrap().len(), 16);
    let epoch = c["timeEpoch"].as_u64().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    assert!(now.abs_diff(epoch) < 60_000, "{epoch} vs {now}");
    let time = c["time"].as_str().unwrap();
    assert!(
        time.len() == 26 && time.ends_with(" +0000") && time.as_bytes()[2] == b'/',
        "{time}"
    );

    // The official event types and lambda_http accept it.
    assert_eq!(echoed["lambdaHttp"]["ok"], true, "{}", echoed["lambdaHttp"]);
    assert_eq!(echoed["lambdaHttp"]["method"], "POST");
    assert_eq!(echoed["lambdaHttp"]["body"], r#"{"k":1}"#);
    // The Runtime API and Lambda's environment.
    assert_eq!(echoed["env"]["functionName"], "test-api-echo");
    assert_eq!(echoed["env"]["memory"], "256");
    assert_eq!(echoed["env"]["version"], "$LATEST");
    assert_eq!(echoed["env"]["handler"], "bootstrap");
    assert_eq!(echoed["env"]["logGroup"], "/aws/lambda/test-api-echo");
    assert!(echoed["env"]["accessKey"].as_str().is_some());
    let api = echoed["env"]["runtimeApi"].as_str().unwrap();
    assert!(
        api.starts_with("127.0.0.1:") && api[10..].parse::<u16>().is_ok(),
        "{api}"
    );
    assert_eq!(
        echoed["invokedFunctionArn"],
        "arn:aws:lambda:us-east-1:123456789012:function:test-api-echo"
    );
    let request_id = echoed["requestId"].as_str().unwrap();
    assert_eq!(request_id.len(), 36, "{request_id}");
    let deadline = echoed["deadlineMs"].as_u64().unwrap();
    assert!(
        deadline > now && deadline < now + 60_000,
        "deadline {deadline} is about 5 s away from {now}"
    );

    // A form post arrives base64-encoded, as on HTTP APIs.
    let r = dev.request(
        "POST",
        "/api/echo",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"a=1&b=2",
    );
    let e = &r.json()["event"];
    assert_eq!(e["isBase64Encoded"], true);
    assert_eq!(e["body"], "YT0xJmI9Mg==");
}

#[test]
fn path_parameters_and_route_keys() {
    let app = App::new(&all_routes());
    let dev = app.dev(&[]);
    let e = echo(&dev, "/api/items/a%20b");
    let ev = &e["event"];
    assert_eq!(ev["routeKey"], "ANY /api/items/{id}");
    assert_eq!(ev["pathParameters"], json!({"id": "a b"}));
    // API Gateway HTTP API hands the path over decoded.
    assert_eq!(ev["rawPath"], "/api/items/a b");
    assert_eq!(ev["requestContext"]["http"]["path"], "/api/items/a b");

    let ev = &echo(&dev, "/api/files/x/y%2Bz")["event"];
    assert_eq!(ev["routeKey"], "ANY /api/files/{path+}");
    assert_eq!(ev["pathParameters"], json!({"path": "x/y+z"}));

    let ev = &echo(&dev, "/api/opt/a/b")["event"];
    assert_eq!(ev["routeKey"], "ANY /api/opt/{rest+}");
    assert_eq!(ev["pathParameters"], json!({"rest": "a/b"}));
    let ev = &echo(&dev, "/api/opt")["event"];
    assert_eq!(ev["routeKey"], "ANY /api/opt");
    assert!(ev.get("pathParameters").is_none());
}

#[test]
fn binary_bodies_round_trip() {
    let app = App::new(&all_routes());
    let dev = app.dev(&[]);
    let bytes: Vec<u8> = (0..=255u8).chain(0..=255u8).collect();
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
    assert_eq!(r.body, reversed);
}

#[test]
fn cookies_become_set_cookie_headers() {
    let app = App::new(&all_routes());
    let dev = app.dev(&[]);
    let r = dev.get("/api/cookies");
    assert_eq!(r.status, 200);
    assert_eq!(
        r.all("set-cookie"),
        ["a=1; Path=/", "b=2; HttpOnly", "c=3; Max-Age=60"]
    );
}

fn concurrent_pids(dev: &Dev, n: usize, ms: u64) -> (Vec<u16>, HashSet<u64>) {
    let replies = http::get_concurrently(dev.port(), n, &format!("/api/pid?ms={ms}"));
    let statuses = replies.iter().map(|r| r.status).collect();
    let pids = replies
        .iter()
        .filter_map(|r| r.json()["pid"].as_u64())
        .collect();
    (statuses, pids)
}

#[test]
fn concurrent_requests_scale_out_to_several_instances() {
    let app = App::new(&all_routes());
    let dev = app.dev(&[]);
    let (statuses, pids) = concurrent_pids(&dev, 32, 300);
    assert!(statuses.iter().all(|&s| s == 200), "{statuses:?}");
    assert!(
        pids.len() > 1,
        "only {pids:?} served 32 concurrent requests"
    );
    assert!(pids.len() <= 8, "the default cap is 8 instances: {pids:?}");
    // The instances stay warm: a second wave reuses them.
    let (statuses, again) = concurrent_pids(&dev, 8, 50);
    assert!(statuses.iter().all(|&s| s == 200), "{statuses:?}");
    assert!(again.is_subset(&pids), "{again:?} not among {pids:?}");
}

#[test]
fn the_instance_cap_is_configurable() {
    let app = App::new(&all_routes());
    let dev = app.dev(&["--max-instances", "2"]);
    let (statuses, pids) = concurrent_pids(&dev, 12, 100);
    assert!(statuses.iter().all(|&s| s == 200), "{statuses:?}");
    assert!(
        !pids.is_empty() && pids.len() <= 2,
        "at most 2 instances: {pids:?}"
    );
}

#[test]
fn a_timeout_kills_the_instance_and_the_next_request_succeeds() {
    let app = App::new(&all_routes());
    let dev = app.dev(&["--lambda-logs"]);
    let started = Instant::now();
    let r = dev.get("/api/sleep?ms=8000");
    let took = started.elapsed();
    // Lambda ends the invocation at the 1 s timeout; HTTP API answers a failed invocation 500.
    assert_eq!(r.status, 500, "{}", r.text());
    assert_eq!(r.text(), r#"{"message":"Internal Server Error"}"#);
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(5),
        "{took:?}"
    );
    let line = dev
        .wait_for(
            |l| l.starts_with("[/api/sleep] ") && l.contains("Task timed out after 1.00 seconds"),
            Duration::from_secs(5),
        )
        .unwrap_or_else(|| panic!("no timeout line:\n{}", dev.output()));
    assert!(line.contains("Z "), "{line}");
    dev.wait_for(|l| l.contains("Status: timeout"), Duration::from_secs(5))
        .expect("REPORT with Status: timeout");
    let r = dev.get("/api/sleep?ms=10");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json(), json!({"slept": 10}));
}

#[test]
fn the_integration_timeout_answers_503_while_the_function_runs_on() {
    let app = App::new(&[Route::new("/api/pid").timeout(5)]);
    let dev = app.dev(&["--integration-timeout-ms", "500", "--lambda-logs"]);
    let started = Instant::now();
    let r = dev.get("/api/pid?ms=2000");
    let took = started.elapsed();
    assert_eq!(r.status, 503, "{}", r.text());
    assert_eq!(r.text(), r#"{"message":"Service Unavailable"}"#);
    assert!(took < Duration::from_millis(1800), "{took:?}");
    // Lambda does not stop the invocation because the gateway gave up: it completes.
    let line = dev
        .wait_for(
            |l| l.contains("REPORT RequestId: "),
            Duration::from_secs(10),
        )
        .unwrap_or_else(|| panic!("no REPORT:\n{}", dev.output()));
    assert!(!line.contains("Status:"), "{line}");
    assert_eq!(dev.get("/api/pid?ms=0").status, 200);
}

#[test]
fn a_panic_is_a_function_error_and_the_process_keeps_serving() {
    let app = App::new(&all_routes());
    let dev = app.dev(&[]);
    let r = dev.get("/api/pid?ms=0");
    assert_eq!(r.status, 200);
    let r = dev.get("/api/panic");
    assert_eq!(r.status, 500, "{}", r.text());
    assert_eq!(r.text(), r#"{"message":"Internal Server Error"}"#);
    let first = dev.get("/api/panic?ok");
    assert_eq!(first.status, 200, "{}", first.text());
    let second = dev.get("/api/panic?ok");
    // lambda_runtime reports the panic on /error and keeps its process.
    assert_eq!(first.json()["pid"], second.json()["pid"]);
}

#[test]
fn a_process_exit_is_a_function_error_and_the_instance_is_replaced() {
    let app = App::new(&all_routes());
    let dev = app.dev(&["--lambda-logs"]);
    let before = dev.get("/api/exit?ok");
    assert_eq!(before.status, 200);
    let started = Instant::now();
    let r = dev.get("/api/exit");
    assert_eq!(r.status, 500, "{}", r.text());
    assert_eq!(r.text(), r#"{"message":"Internal Server Error"}"#);
    assert!(started.elapsed() < Duration::from_secs(5));
    dev.wait_for(
        |l| l.contains("Error: Runtime exited with error: exit status 3"),
        Duration::from_secs(5),
    )
    .unwrap_or_else(|| panic!("no exit line:\n{}", dev.output()));
    dev.wait_for(
        |l| l.contains("Status: error\tError Type: Runtime.ExitError"),
        Duration::from_secs(5),
    )
    .expect("REPORT with Runtime.ExitError");
    dev.wait_for(
        |l| l.contains("fixture exiting on purpose"),
        Duration::from_secs(5),
    )
    .expect("the function's stderr is shown");
    let after = dev.get("/api/exit?ok");
    assert_eq!(after.status, 200, "{}", after.text());
    assert_ne!(before.json()["pid"], after.json()["pid"]);
}

#[test]
fn init_failures_answer_500_and_never_hang() {
    let app = App::new(&all_routes());
    let dev = app.dev(&[]);
    for path in ["/api/initfail", "/api/initexit", "/api/initfail"] {
        let started = Instant::now();
        let r = dev.get(path);
        assert_eq!(r.status, 500, "{path}: {}", r.text());
        assert!(started.elapsed() < Duration::from_secs(10), "{path}");
    }
    dev.wait_for(
        |l| {
            l.starts_with("[/api/initfail] INIT_REPORT")
                && l.contains("Error Type: FixtureInitError")
        },
        Duration::from_secs(5),
    )
    .unwrap_or_else(|| panic!("no INIT_REPORT:\n{}", dev.output()));
    dev.wait_for(
        |l| l.starts_with("[/api/initexit] INIT_REPORT") && l.contains("Runtime.ExitError"),
        Duration::from_secs(5),
    )
    .unwrap_or_else(|| panic!("no INIT_REPORT:\n{}", dev.output()));
    assert_eq!(dev.get("/api/hello").status, 200);
}

#[test]
fn lambda_logs_start_output_end_report_in_order() {
    let app = App::new(&all_routes());
    let dev = app.dev(&["--lambda-logs"]);
    for _ in 0..2 {
        assert_eq!(dev.get("/api/hello").status, 200);
    }
    dev.wait_for(|l| l.contains("REPORT"), Duration::from_secs(5));
    std::thread::sleep(Duration::from_millis(300));
    let lines: Vec<String> = dev
        .lines()
        .into_iter()
        .filter(|l| l.starts_with("[/api/hello] "))
        .collect();
    let reports: Vec<&String> = lines.iter().filter(|l| l.contains("REPORT")).collect();
    assert_eq!(reports.len(), 2, "{lines:#?}");
    for (i, report) in reports.iter().enumerate() {
        let id = report
            .split("RequestId: ")
            .nth(1)
            .and_then(|r| r.split('\t').next())
            .unwrap();
        let pos = |needle: &str| {
            lines
                .iter()
                .position(|l| l.contains(needle))
                .unwrap_or_else(|| panic!("{needle} missing:\n{lines:#?}"))
        };
        let start = pos(&format!("START RequestId: {id} Version: $LATEST"));
        let output = pos(&format!("hello handler {id}"));
        let end = pos(&format!("END RequestId: {id}"));
        let rep = pos(&format!("REPORT RequestId: {id}\t"));
        assert!(start < output && output < end && end < rep, "{lines:#?}");
        let fields: Vec<&str> = report.split('\t').collect();
        assert!(fields[1].starts_with("Duration: ") && fields[1].ends_with(" ms"));
        assert!(fields[2].starts_with("Billed Duration: "));
        assert_eq!(fields[3], "Memory Size: 256 MB");
        let used: u64 = fields[4]
            .trim_start_matches("Max Memory Used: ")
            .trim_end_matches(" MB")
            .parse()
            .unwrap();
        assert!(used > 0 && used < 256, "{report}");
        // Only the cold start reports an init duration.
        assert_eq!(report.contains("Init Duration: "), i == 0, "{report}");
    }
}

#[test]
fn payload_limits() {
    let app = App::new(&all_routes());
    let dev = app.dev(&[]);
    // Over HTTP API's 10 MB request limit.
    let big = vec![b'x'; 10 * 1024 * 1024 + 1];
    let r = dev.request("POST", "/api/echo", &[("Content-Type", "text/plain")], &big);
    assert_eq!(r.status, 413);
    assert_eq!(r.text(), r#"{"message":"Request Entity Too Large"}"#);
    // A response over Lambda's 6 MB limit fails the invocation.
    let r = dev.get("/api/big?bytes=7000000");
    assert_eq!(r.status, 500, "{}", r.text().len());
    let r = dev.get("/api/big?bytes=1000");
    assert_eq!(r.status, 200);
    assert_eq!(r.body.len(), 1000);
}

#[test]
fn a_new_manifest_swaps_workers_without_restart_or_dropped_requests() {
    let routes = vec![Route::new("/api/pid"), Route::new("/api/hello")];
    let app = App::new(&routes);
    let dev = app.dev(&[]);
    let old_pid = dev.get("/api/pid?ms=0").json()["pid"].clone();
    // No route yet: the `$default` function (the fixture, echoing its event) gets it.
    assert_eq!(dev.get("/api/echo").json()["event"]["routeKey"], "$default");

    // A slow request in flight while the manifest changes.
    let port = dev.port();
    let slow = std::thread::spawn(move || http::get(port, "/api/pid?ms=1500"));
    std::thread::sleep(Duration::from_millis(300));

    let mut next = routes.clone();
    next.push(Route::new("/api/echo"));
    app.write(&next, &bundle_bytes(&[("VERSION", b"2")]), "fixture-v2.zip");
    dev.wait_for(
        |l| l.contains("reloaded the route manifest"),
        Duration::from_secs(20),
    )
    .unwrap_or_else(|| panic!("no reload:\n{}", dev.output()));

    let in_flight = slow.join().unwrap();
    assert_eq!(in_flight.status, 200, "{}", in_flight.text());
    assert_eq!(
        in_flight.json()["pid"],
        old_pid,
        "finished on the old worker"
    );
    let r = dev.get("/api/echo");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["event"]["routeKey"], "ANY /api/echo");
    let new_pid = dev.get("/api/pid?ms=0").json()["pid"].clone();
    assert_ne!(new_pid, old_pid, "a new bundle runs in a new process");
    // The replaced worker stops once nothing holds it.
    let old_proc = format!("/proc/{}", old_pid.as_u64().unwrap());
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline && std::path::Path::new(&old_proc).exists() {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        !std::path::Path::new(&old_proc).exists(),
        "the old worker still runs"
    );

    // A manifest that cannot be served keeps the current workers.
    std::fs::write(
        app.path().join(".nextr/routes-manifest.json"),
        r#"{"version":5,"app":"test","nextr_version":"0","routes":[{"page":"/x"}]}"#,
    )
    .unwrap();
    dev.wait_for(
        |l| l.contains("still serving the previous build"),
        Duration::from_secs(20),
    )
    .unwrap_or_else(|| panic!("no refusal:\n{}", dev.output()));
    assert_eq!(dev.get("/api/echo").status, 200);
}

#[test]
fn stops_its_functions_on_sigterm() {
    let app = App::new(&all_routes());
    let dev = app.dev(&[]);
    let pid = dev.get("/api/pid?ms=0").json()["pid"].as_u64().unwrap();
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
    drop(dev);
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline && std::path::Path::new(&format!("/proc/{pid}")).exists() {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "function process {pid} outlived nextr dev"
    );
}

/// Whether a process is gone (or a zombie waiting for init to reap it).
fn gone(pid: u64) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z')),
    }
}

fn wait_gone(pid: u64) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline && !gone(pid) {
        std::thread::sleep(Duration::from_millis(20));
    }
    gone(pid)
}

#[test]
fn processes_a_function_started_die_with_it_at_its_timeout_and_when_dev_stops() {
    let app = App::new(&[Route::new("/api/spawn").timeout(1)]);
    let dev = app.dev(&[]);
    // A timeout kills the instance, and the child it left behind.
    assert_eq!(dev.get("/api/spawn?ms=5000").status, 500);
    let line = dev
        .wait_for(|l| l.contains("spawned child "), Duration::from_secs(5))
        .unwrap_or_else(|| panic!("no child:\n{}", dev.output()));
    let child: u64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(
        wait_gone(child),
        "child {child} outlived its timed-out function"
    );

    // A child of a healthy instance goes when nextr dev stops.
    let r = dev.get("/api/spawn?ms=0");
    assert_eq!(r.status, 200, "{}", r.text());
    let child = r.json()["child"].as_u64().unwrap();
    assert!(!gone(child));
    drop(dev);
    assert!(wait_gone(child), "child {child} outlived nextr dev");
}

#[test]
fn another_local_process_cannot_use_an_instances_runtime_api() {
    let app = App::new(&[Route::new("/api/echo")]);
    let dev = app.dev(&[]);
    let echoed = dev.get("/api/echo").json();
    let api = echoed["env"]["runtimeApi"].as_str().unwrap().to_owned();
    let port: u16 = api.rsplit(':').next().unwrap().parse().unwrap();
    // The function is parked in `/next`: this process may neither take the next event nor
    // answer for it.
    let next = http::request(port, "GET", "/2018-06-01/runtime/invocation/next", &[], b"");
    assert_eq!(next.status, 403, "{}", next.text());
    assert!(
        next.text().contains("AccessDeniedException"),
        "{}",
        next.text()
    );
    let forged = http::request(
        port,
        "POST",
        "/2018-06-01/runtime/invocation/x/response",
        &[("Content-Type", "application/json")],
        br#"{"statusCode":200,"body":"forged"}"#,
    );
    assert_eq!(forged.status, 403);
    // The real runtime still gets every event.
    for _ in 0..3 {
        let r = dev.get("/api/echo?k=v");
        assert_eq!(r.status, 200);
        assert_eq!(r.json()["event"]["rawQueryString"], "k=v");
    }
}

/// A connection that sends `bytes` and then nothing.
fn stalled(port: u16, bytes: &[u8]) -> std::net::TcpStream {
    use std::io::Write;
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(bytes).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s
}

/// Whether the server closed the connection (reading gives EOF or a reset; an answer first
/// is read and skipped).
fn closed_by_server(mut s: std::net::TcpStream) -> bool {
    use std::io::Read;
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) => return e.kind() == std::io::ErrorKind::ConnectionReset,
        }
    }
}

#[test]
fn slow_and_stalled_clients_are_cut_off_and_never_starve_others() {
    let app = App::new(&[Route::new("/api/hello"), Route::new("/api/echo")]);
    let dev = app.dev(&["--header-timeout-ms", "400", "--body-timeout-ms", "400"]);
    let port = dev.port();
    // Bounded: 40 connections stopping mid-headers, 40 mid-body, 40 that never send a byte.
    let mut held = Vec::new();
    for _ in 0..40 {
        held.push(stalled(
            port,
            b"GET /api/hello HTTP/1.1\r\nHost: x\r\nX-Slow: ",
        ));
        held.push(stalled(
            port,
            b"POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly ten b",
        ));
        held.push(stalled(port, b""));
    }
    // Others are served meanwhile.
    assert_eq!(dev.get("/api/hello").status, 200);
    // Each stalled connection is closed by the server once its timeout passes.
    let started = Instant::now();
    for s in held {
        assert!(closed_by_server(s), "a stalled connection stayed open");
    }
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(dev.get("/api/hello").status, 200);
}

#[test]
fn connections_are_capped_and_the_next_one_gets_503() {
    let app = App::new(&[Route::new("/api/hello")]);
    let dev = app.dev(&["--max-connections", "4"]);
    let port = dev.port();
    let idle: Vec<_> = (0..4).map(|_| stalled(port, b"")).collect();
    std::thread::sleep(Duration::from_millis(200));
    let r = dev.get("/api/hello");
    assert_eq!(r.status, 503, "{}", r.text());
    assert_eq!(r.text(), r#"{"message":"Service Unavailable"}"#);
    drop(idle);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(dev.get("/api/hello").status, 200);
}

#[test]
fn request_line_and_headers_over_10_kb_get_api_gateways_431() {
    let app = App::new(&[Route::new("/api/hello")]);
    let dev = app.dev(&[]);
    let big = "x".repeat(10_300);
    let r = dev.request("GET", "/api/hello", &[("X-Big", &big)], b"");
    assert_eq!(r.status, 431);
    assert_eq!(
        r.text(),
        r#"{"message":"HTTP header is larger than 10240 bytes."}"#
    );
    let fits = "x".repeat(9_000);
    assert_eq!(
        dev.request("GET", "/api/hello", &[("X-Big", &fits)], b"")
            .status,
        200
    );
}

#[test]
fn a_function_over_its_memory_size_is_killed_as_lambda_kills_it() {
    // The fixture's functions have 256 MB.
    let app = App::new(&[Route::new("/api/alloc")]);
    let dev = app.dev(&[]);
    assert_eq!(dev.get("/api/alloc?mb=16").status, 200);
    let r = dev.get("/api/alloc?mb=600");
    assert_eq!(r.status, 500, "{}", r.text());
    dev.wait_for(
        |l| l.contains("Runtime.OutOfMemory"),
        Duration::from_secs(5),
    )
    .unwrap_or_else(|| panic!("no OutOfMemory:\n{}", dev.output()));
    // A new instance serves the next request.
    assert_eq!(dev.get("/api/alloc?mb=16").status, 200);
}

/// Holds `127.0.0.1:port` (0: a free port) until dropped, as another server would.
fn hold_port(port: u16) -> Option<std::net::TcpListener> {
    std::net::TcpListener::bind(("127.0.0.1", port)).ok()
}

#[test]
fn a_taken_default_port_moves_to_the_next_free_one_and_says_so() {
    let app = App::new(&[Route::new("/api/hello")]);
    // 3000 is taken: by this test, or already by something else on the machine.
    let _held = hold_port(3000);
    let dev = Dev::start_on_default_port(&app.out(), &[]);
    assert_ne!(dev.port(), 3000);
    let warning = dev
        .wait_for(
            |l| l.starts_with("warning: port 3000 "),
            Duration::from_secs(1),
        )
        .unwrap_or_else(|| panic!("no warning:\n{}", dev.output()));
    assert_eq!(
        warning,
        format!("warning: port 3000 is in use, using {} instead", dev.port())
    );
    assert!(
        dev.port() > 3000 && dev.port() <= 3010,
        "the next free port after 3000: {}",
        dev.port()
    );
    assert_eq!(dev.get("/api/hello").status, 200);
}

/// Runs `nextr dev` to its end (at most `limit`), returning its exit code, output and time.
fn run_to_end(mut cmd: std::process::Command, limit: Duration) -> (Option<i32>, String, Duration) {
    let started = Instant::now();
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    while child.try_wait().unwrap().is_none() && started.elapsed() < limit {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text, started.elapsed())
}

#[test]
fn a_taken_port_asked_for_fails_at_once_before_any_build() {
    // An app that needs a build (minutes, the first time): the port must be refused first.
    let app = support::apps::TestApp::new("taken-port");
    app.write("api/hello.rs", support::apps::HELLO);
    let held = hold_port(0).unwrap();
    let port = held.local_addr().unwrap().port();
    let with_flag = {
        let mut cmd = support::nextr();
        cmd.arg("dev")
            .arg(app.path())
            .args(["--port", &port.to_string()]);
        cmd
    };
    let with_env = {
        let mut cmd = support::nextr();
        cmd.arg("dev").arg(app.path()).env("PORT", port.to_string());
        cmd
    };
    for cmd in [with_flag, with_env] {
        let (code, output, took) = run_to_end(cmd, Duration::from_secs(30));
        assert_eq!(code, Some(1), "{output}");
        assert!(took < Duration::from_secs(5), "{took:?}\n{output}");
        assert_eq!(
            output.trim_end(),
            format!(
                "error: port {port} on 127.0.0.1 is in use (another `nextr dev`?): stop what listens there, or pass another --port"
            ),
        );
    }
    assert!(!app.path().join(".nextr").exists(), "nothing was built");
}

#[test]
fn prints_a_line_when_it_stops() {
    let app = App::new(&[Route::new("/api/hello")]);
    let mut dev = app.dev(&[]);
    assert_eq!(dev.get("/api/hello").status, 200);
    dev.stop();
    let lines = dev.lines();
    assert_eq!(
        lines.last().map(String::as_str),
        Some("nextr: stopped"),
        "{lines:#?}"
    );
}
