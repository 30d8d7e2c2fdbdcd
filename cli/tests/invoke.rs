//! `nextr invoke`: one invocation of a route's real bundle, the Lambda response on stdout and
//! the function's Lambda-style logs on stderr.

mod support;

use assert_cmd::Command;
use serde_json::{json, Value};
use support::fixture::{all_routes, fixture_binary, App};

fn invoke(app: &App, args: &[&str]) -> (i32, Value, String) {
    fixture_binary();
    let out = Command::cargo_bin("nextr")
        .unwrap()
        .arg("invoke")
        .args(args)
        .arg(app.out())
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {stdout}\nstderr: {stderr}"));
    (out.status.code().unwrap_or(-1), value, stderr)
}

#[test]
fn prints_the_lambda_response_and_logs_to_stderr() {
    let app = App::new(&all_routes());
    let (code, response, logs) = invoke(&app, &["/api/hello"]);
    assert_eq!(code, 0, "{logs}");
    assert_eq!(response["statusCode"], 200);
    assert_eq!(
        response["headers"]["content-type"],
        "application/json; charset=utf-8"
    );
    assert_eq!(
        serde_json::from_str::<Value>(response["body"].as_str().unwrap()).unwrap(),
        json!({"message": "Hello from Next.js!"})
    );
    assert!(logs.contains("[/api/hello] START RequestId: "), "{logs}");
    assert!(logs.contains("[/api/hello] hello handler "), "{logs}");
    assert!(logs.contains("[/api/hello] END RequestId: "), "{logs}");
    assert!(logs.contains("\tInit Duration: "), "{logs}");
}

#[test]
fn builds_the_event_from_path_method_body_and_headers() {
    let app = App::new(&all_routes());
    let (code, response, logs) = invoke(
        &app,
        &[
            "api/items/[id].rs",
            "--path",
            "/api/items/42?x=1&x=2",
            "--method",
            "post",
            "--body",
            r#"{"a":1}"#,
            "-H",
            "X-Test: yes",
        ],
    );
    assert_eq!(code, 0, "{logs}");
    let echoed: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    let e = &echoed["event"];
    assert_eq!(e["routeKey"], "ANY /api/items/{id}");
    assert_eq!(e["rawPath"], "/api/items/42");
    assert_eq!(e["rawQueryString"], "x=1&x=2");
    assert_eq!(e["queryStringParameters"]["x"], "1,2");
    assert_eq!(e["pathParameters"], json!({"id": "42"}));
    assert_eq!(e["requestContext"]["http"]["method"], "POST");
    assert_eq!(e["headers"]["x-test"], "yes");
    assert_eq!(e["headers"]["content-type"], "application/json");
    assert_eq!(e["body"], r#"{"a":1}"#);
    assert_eq!(e["isBase64Encoded"], false);
}

#[test]
fn a_url_path_invokes_the_route_the_gateway_picks_with_that_request() {
    let app = App::new(&all_routes());
    let (code, response, logs) = invoke(&app, &["/api/items/42?tab=a%20b&tab=2"]);
    assert_eq!(code, 0, "{logs}");
    let echoed: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    let e = &echoed["event"];
    assert_eq!(e["routeKey"], "ANY /api/items/{id}");
    assert_eq!(e["rawPath"], "/api/items/42");
    assert_eq!(e["rawQueryString"], "tab=a%20b&tab=2");
    assert_eq!(e["queryStringParameters"]["tab"], "a b,2");
    assert_eq!(e["pathParameters"], json!({"id": "42"}));
    assert_eq!(e["requestContext"]["http"]["method"], "GET");
    assert!(
        logs.contains("[/api/items/[id]] START RequestId: "),
        "{logs}"
    );

    // A catch-all, and a page without its leading slash.
    let (code, response, logs) = invoke(&app, &["/api/files/a/b.txt", "--method", "PUT"]);
    assert_eq!(code, 0, "{logs}");
    let echoed: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    assert_eq!(echoed["event"]["routeKey"], "ANY /api/files/{path+}");
    assert_eq!(
        echoed["event"]["pathParameters"],
        json!({"path": "a/b.txt"})
    );
    assert_eq!(echoed["event"]["requestContext"]["http"]["method"], "PUT");
    let (code, response, logs) = invoke(&app, &["api/items/[id]"]);
    assert_eq!(code, 0, "{logs}");
    let echoed: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    assert_eq!(echoed["event"]["rawPath"], "/api/items/[id]");
}

#[test]
fn sends_an_event_file_as_is() {
    let app = App::new(&all_routes());
    let file = app.path().join("event.json");
    let event = json!({"rawPath": "/api/echo", "custom": [1, 2, 3]});
    std::fs::write(&file, event.to_string()).unwrap();
    let (code, response, logs) = invoke(&app, &["/api/echo", "--event", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{logs}");
    let echoed: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    assert_eq!(echoed["event"], event);
}

#[test]
fn a_function_error_prints_lambdas_error_document_and_exits_1() {
    let app = App::new(&all_routes());
    let (code, error, logs) = invoke(&app, &["/api/panic"]);
    assert_eq!(code, 1, "{logs}");
    assert!(error["errorType"].as_str().is_some(), "{error}");
    assert!(
        error["errorMessage"]
            .as_str()
            .unwrap()
            .contains("fixture panic on purpose"),
        "{error}"
    );
    let (code, error, _) = invoke(&app, &["/api/sleep", "--path", "/api/sleep?ms=5000"]);
    assert_eq!(code, 1);
    assert_eq!(error["errorType"], "Sandbox.Timedout");
    let (code, error, _) = invoke(&app, &["/api/exit"]);
    assert_eq!(code, 1);
    assert_eq!(error["errorType"], "Runtime.ExitError");
    let (code, error, _) = invoke(&app, &["/api/initfail"]);
    assert_eq!(code, 1);
    assert_eq!(error["errorType"], "FixtureInitError");
}

#[test]
fn refuses_unknown_routes_and_mismatched_paths() {
    let app = App::new(&all_routes());
    let out = Command::cargo_bin("nextr")
        .unwrap()
        .args(["invoke", "/api/missing"])
        .arg(app.out())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no route serves `/api/missing`: API Gateway sends it to the $default")
            && stderr.contains("nextr invoke '$default' --path '/api/missing'"),
        "{stderr}"
    );

    // A page pattern that does not exist is not resolved as a path.
    let out = Command::cargo_bin("nextr")
        .unwrap()
        .args(["invoke", "/api/items/[idd]"])
        .arg(app.out())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no route `/api/items/[idd]`"), "{stderr}");

    // A request path as ROUTE and another in --path.
    let out = Command::cargo_bin("nextr")
        .unwrap()
        .args(["invoke", "/api/items/1", "--path", "/api/items/2"])
        .arg(app.out())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("give the path once"), "{stderr}");

    let out = Command::cargo_bin("nextr")
        .unwrap()
        .args(["invoke", "/api/hello", "--path", "/api/echo"])
        .arg(app.out())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("/api/echo is served by /api/echo, not /api/hello"),
        "{stderr}"
    );

    let empty = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("nextr")
        .unwrap()
        .args(["invoke", "--no-build", "/api/hello"])
        .arg(empty.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("run `nextr build` first"), "{stderr}");
}
