//! Real Lambda events (payload 2.0, 1.0, Function URL, ALB) through the real `lambda_runtime`
//! loop that `nextr::lambda::start` runs, against a minimal Lambda Runtime API served by this
//! test on 127.0.0.1. One process is one function, as on Lambda: a single route,
//! `/api/loop/[[...slug]]` with `max_duration: 1`, whose handler does what the first segment
//! says (sleep, panic, fail, binary, cookie) or echoes the request.

mod support;

use std::collections::HashMap;
use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use base64::Engine as _;
use nextr::prelude::*;
use serde_json::Value as Json;

mod route {
    use super::*;

    nextr::config! { max_duration: 1 }

    pub async fn handler(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
        let first = req.query.all("slug").first().cloned().unwrap_or_default();
        match first.as_str() {
            "sleep" => {
                tokio::time::sleep(Duration::from_secs(3)).await;
                res.send("too late")
            }
            "panic" => panic!("the handler panicked on purpose"),
            "err" => Err(nextr::Error::msg("failed on purpose")),
            "binary" => {
                res.set_header("content-type", "image/png")?;
                res.send(vec![0u8, 159, 146, 150, 255])
            }
            "cookie" => {
                res.set_cookie("session", "a b", &CookieOptions::session())?;
                res.set_cookie("theme", "dark", &CookieOptions::default())?;
                res.json(&json!({ "ok": true }))
            }
            _ => {
                let raw = base64::engine::general_purpose::STANDARD.encode(req.raw_body());
                let ctx = req.lambda_context().map(|c| c.request_id.clone());
                res.json(&json!({
                    "method": req.method.as_str(),
                    "url": req.url,
                    "query": req.query,
                    "cookies": req.cookies,
                    "body": req.body,
                    "rawBody": raw,
                    "requestId": req.request_id(),
                    "contextRequestId": ctx,
                    "hasRequestContext": req.request_context().is_some(),
                    "remainingMs": req.remaining().as_millis() as u64,
                    "xff": req.header("x-forwarded-for"),
                }))
            }
        }
    }
}

/// What the function posted back for one invocation.
#[derive(Debug)]
struct Posted {
    kind: &'static str,
    body: Json,
}

struct RuntimeApi {
    events: Sender<(String, String)>,
    results: Mutex<Receiver<(String, Posted)>>,
    /// One invocation at a time, as Lambda does.
    serial: Mutex<u64>,
}

fn serve_connection(
    stream: TcpStream,
    events: Arc<Mutex<Receiver<(String, String)>>>,
    results: Sender<(String, Posted)>,
) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    while let Some((method, path, body)) = support::read_request(&mut reader) {
        if method == "GET" && path.ends_with("/runtime/invocation/next") {
            let Ok((id, event)) = events.lock().expect("events").recv() else {
                return;
            };
            let _ = writer.write_all(support::next_event_response(&id, &event).as_bytes());
        } else if method == "POST" {
            let segments: Vec<&str> = path.split('/').collect();
            let kind = if path.ends_with("/response") {
                "response"
            } else {
                "error"
            };
            let id = segments
                .get(segments.len().saturating_sub(2))
                .copied()
                .unwrap_or_default();
            let body = serde_json::from_slice(&body).unwrap_or(Json::Null);
            let _ = results.send((id.to_owned(), Posted { kind, body }));
            let _ = write!(writer, "HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n");
        } else {
            let _ = write!(
                writer,
                "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"
            );
        }
    }
}

fn runtime_api() -> &'static RuntimeApi {
    static API: OnceLock<RuntimeApi> = OnceLock::new();
    API.get_or_init(|| {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (events_tx, events_rx) = channel::<(String, String)>();
        let (results_tx, results_rx) = channel::<(String, Posted)>();
        let events_rx = Arc::new(Mutex::new(events_rx));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let events = Arc::clone(&events_rx);
                let results = results_tx.clone();
                std::thread::spawn(move || serve_connection(stream, events, results));
            }
        });
        std::env::set_var("AWS_LAMBDA_RUNTIME_API", addr.to_string());
        std::env::set_var("AWS_LAMBDA_FUNCTION_NAME", "loop");
        std::env::set_var("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128");
        std::env::set_var("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST");
        std::thread::spawn(|| {
            // Exactly what the generated main does.
            nextr::lambda::start(
                nextr::RouteSpec {
                    page: "/api/loop/[[...slug]]",
                    file: "api/loop/[[...slug]].rs",
                    config: route::config(),
                },
                nextr::handler!(route::handler),
            )
        });
        RuntimeApi {
            events: events_tx,
            results: Mutex::new(results_rx),
            serial: Mutex::new(0),
        }
    })
}

/// Sends one event to the function and waits for what it posts back.
fn invoke(event: &str) -> (Posted, Duration) {
    let api = runtime_api();
    let mut n = api.serial.lock().unwrap_or_else(|e| e.into_inner());
    *n += 1;
    let id = format!("req-{n}");
    let start = Instant::now();
    api.events
        .send((id.clone(), event.to_owned()))
        .expect("send event");
    let results = api.results.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let (got, posted) = results
            .recv_timeout(Duration::from_secs(20))
            .expect("the function answered");
        if got == id {
            return (posted, start.elapsed());
        }
    }
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/events/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture")
}

fn response(name: &str) -> (Json, Duration) {
    let (posted, took) = invoke(&fixture(name));
    assert_eq!(posted.kind, "response", "{name}: {:?}", posted.body);
    (posted.body, took)
}

fn body_json(res: &Json) -> Json {
    let body = res["body"].as_str().expect("body");
    if res["isBase64Encoded"] == json!(true) {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(body)
            .expect("base64");
        serde_json::from_slice(&bytes).expect("json body")
    } else {
        serde_json::from_str(body).expect("json body")
    }
}

#[test]
fn v2_catch_all_with_encoded_slash_repeated_query_and_cookies() {
    let (res, _) = response("v2-catchall-query-cookies.json");
    assert_eq!(res["statusCode"], 200);
    assert_eq!(
        res["headers"]["content-type"],
        "application/json; charset=utf-8"
    );
    let body = body_json(&res);
    // Params re-matched from rawPath (not API Gateway's pathParameters); the query rebuilt
    // from rawQueryString (not the comma-joined map); the param wins over `?slug=`.
    assert_eq!(
        body["query"],
        json!({ "x": ["1", "2"], "y": "a b", "slug": ["a/b", "c"] })
    );
    assert_eq!(body["url"], "/api/loop/a%2Fb/c?x=1&x=2&y=a+b");
    assert_eq!(body["cookies"], json!({ "a": "1", "b": " two" }));
    assert_eq!(body["method"], "GET");
    assert_eq!(body["body"], "");
    assert_eq!(body["requestId"], body["contextRequestId"]);
    assert_eq!(body["hasRequestContext"], true);
    assert_eq!(body["xff"], "205.255.255.176");
    let remaining = body["remainingMs"].as_u64().expect("remaining");
    assert!(
        remaining > 500 && remaining <= 1000,
        "deadline from max_duration: {remaining}"
    );
}

#[test]
fn v2_named_stage_prefix_is_stripped() {
    let (res, _) = response("v2-named-stage.json");
    let body = body_json(&res);
    assert_eq!(body["query"], json!({ "slug": ["hello"] }));
    assert_eq!(body["url"], "/api/loop/hello");
}

#[test]
fn v2_optional_catch_all_absent_keeps_the_query_value() {
    let (res, _) = response("v2-optional-absent.json");
    let body = body_json(&res);
    assert_eq!(body["query"], json!({ "slug": "q" }));
    // As in Next (routing.json `/api/t02/opt?slug=q`): the key is a param name, so it leaves
    // `req.url`.
    assert_eq!(body["url"], "/api/loop");
}

#[test]
fn v2_base64_json_body_is_decoded_and_parsed() {
    let (res, _) = response("v2-base64-json-body.json");
    let body = body_json(&res);
    assert_eq!(body["method"], "POST");
    assert_eq!(body["body"], json!({ "k": "v", "n": [1, 2] }));
}

#[test]
fn v2_base64_binary_body_round_trips_byte_for_byte() {
    let (res, _) = response("v2-base64-binary-body.json");
    let body = body_json(&res);
    assert_eq!(
        body["rawBody"],
        base64::engine::general_purpose::STANDARD.encode([0u8, 159, 146, 150, 255, 10])
    );
    assert_eq!(body["method"], "PUT");
}

#[test]
fn v2_bad_base64_body_is_a_400() {
    let (res, _) = response("v2-bad-base64.json");
    assert_eq!(res["statusCode"], 400);
}

#[test]
fn binary_response_is_base64_encoded() {
    let (res, _) = response("v2-binary-response.json");
    assert_eq!(res["statusCode"], 200);
    assert_eq!(res["isBase64Encoded"], true);
    assert_eq!(res["headers"]["content-type"], "image/png");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(res["body"].as_str().expect("body"))
        .expect("base64");
    assert_eq!(bytes, vec![0u8, 159, 146, 150, 255]);
}

#[test]
fn v2_set_cookie_goes_to_the_cookies_array() {
    let (res, _) = response("v2-set-cookie.json");
    assert_eq!(
        res["cookies"],
        json!(["session=a%20b; Path=/; HttpOnly", "theme=dark"])
    );
    assert!(res["headers"].get("set-cookie").is_none());
}

#[test]
fn two_host_headers_are_a_400() {
    let mut event: Json = serde_json::from_str(&fixture("v1-rest.json")).expect("fixture");
    event["multiValueHeaders"]["Host"] = json!(["a.example", "b.example"]);
    let (posted, _) = invoke(&event.to_string());
    assert_eq!(posted.body["statusCode"], 400, "{:?}", posted.body);
    let mut event: Json = serde_json::from_str(&fixture("v2-named-stage.json")).expect("fixture");
    event["headers"]["host"] = json!("a.example,b.example");
    let (posted, _) = invoke(&event.to_string());
    assert_eq!(posted.body["statusCode"], 400, "{:?}", posted.body);
    let (next, _) = response("v1-rest.json");
    assert_eq!(next["statusCode"], 200);
}

#[test]
fn v1_rest_event() {
    let (res, _) = response("v1-rest.json");
    assert_eq!(res["statusCode"], 200);
    assert_eq!(
        res["multiValueHeaders"]["content-type"],
        json!(["application/json; charset=utf-8"])
    );
    let body = body_json(&res);
    assert_eq!(body["method"], "POST");
    // The path carries no stage in payload 1.0; the query is rebuilt from the decoded
    // multi-value map in the event's key order.
    assert_eq!(
        body["query"],
        json!({ "b": "x y", "a": ["1", "2"], "amp": "1&2", "slug": ["rest", "a/b"] })
    );
    assert_eq!(body["url"], "/api/loop/rest/a%2Fb?b=x+y&a=1&a=2&amp=1%262");
    // Quotes are stripped before decoding, so `%22q%22` keeps its quotes (as in Next).
    assert_eq!(body["cookies"], json!({ "c": "3", "d": "\"q\"" }));
    assert_eq!(body["body"], "héllo");
}

#[test]
fn v1_set_cookie_is_a_multi_value_header() {
    let (res, _) = response("v1-set-cookie.json");
    assert_eq!(
        res["multiValueHeaders"]["set-cookie"],
        json!(["session=a%20b; Path=/; HttpOnly", "theme=dark"])
    );
}

#[test]
fn function_url_event() {
    let (res, _) = response("function-url.json");
    let body = body_json(&res);
    assert_eq!(body["query"], json!({ "q": ["1", "2"], "slug": ["fn"] }));
    assert_eq!(body["url"], "/api/loop/fn?q=1&q=2");
}

#[test]
fn alb_event() {
    let (res, _) = response("alb.json");
    assert_eq!(res["statusCode"], 200);
    assert_eq!(res["statusDescription"], "200 OK");
    let body = body_json(&res);
    assert_eq!(
        body["query"],
        json!({ "q": "a b", "e": "", "slug": ["alb"] })
    );
    assert_eq!(body["cookies"], json!({ "s": "1" }));
    assert_eq!(body["xff"], "72.12.164.125");
}

#[test]
fn trailing_slash_redirects_like_next() {
    let (res, _) = response("v2-trailing-slash.json");
    assert_eq!(res["statusCode"], 308);
    assert_eq!(res["headers"]["location"], "/api/loop/x?a=1");
    assert_eq!(res["headers"]["refresh"], "0;url=/api/loop/x?a=1");
}

#[test]
fn malformed_escape_in_a_param_is_a_400() {
    // `%C3` is two hex digits that decode to invalid UTF-8: a malformed escape for
    // `decodeURIComponent`. (A bare `%ZZ` is a literal `%` in an HTTP API's decoded rawPath.)
    let (res, _) = response("v2-bad-escape.json");
    assert_eq!(res["statusCode"], 400);
}

#[test]
fn timeout_gives_504_at_about_one_second_and_the_process_keeps_serving() {
    let (res, took) = response("v2-sleep.json");
    assert_eq!(res["statusCode"], 504);
    let body = body_json(&res);
    assert_eq!(body["route"], "/api/loop/[[...slug]]");
    // The configured limit, not the time left when the request arrived (0.9997… s).
    assert_eq!(body["maxDuration"], 1);
    assert_eq!(
        body["message"],
        "The route /api/loop/[[...slug]] did not respond within its time limit of 1 s."
    );
    assert!(took >= Duration::from_millis(800), "too early: {took:?}");
    assert!(took < Duration::from_secs(3), "too late: {took:?}");
    let (next, _) = response("v2-named-stage.json");
    assert_eq!(next["statusCode"], 200);
}

#[test]
fn panic_gives_500_and_the_next_invocation_works() {
    let (res, _) = response("v2-panic.json");
    assert_eq!(res["statusCode"], 500);
    assert_eq!(res["body"], "Internal Server Error");
    let (next, _) = response("v2-named-stage.json");
    assert_eq!(next["statusCode"], 200);
}

#[test]
fn error_gives_500_and_the_next_invocation_works() {
    let (res, _) = response("v2-error.json");
    assert_eq!(res["statusCode"], 500);
    assert_eq!(res["body"], "Internal Server Error");
    let (next, _) = response("v2-named-stage.json");
    assert_eq!(next["statusCode"], 200);
}

#[test]
fn a_non_http_event_is_an_invocation_error_not_a_crash() {
    let (posted, _) = invoke(r#"{"Records":[{"eventSource":"aws:sqs"}]}"#);
    assert_eq!(posted.kind, "error");
    let (next, _) = response("v2-named-stage.json");
    assert_eq!(next["statusCode"], 200);
}

#[test]
fn many_invocations_in_a_row() {
    let mut counts: HashMap<i64, usize> = HashMap::new();
    for name in [
        "v2-named-stage.json",
        "v2-error.json",
        "alb.json",
        "v1-rest.json",
        "v2-panic.json",
    ] {
        for _ in 0..5 {
            let (res, _) = response(name);
            *counts
                .entry(res["statusCode"].as_i64().unwrap_or_default())
                .or_default() += 1;
        }
    }
    assert_eq!(counts.get(&200), Some(&15));
    assert_eq!(counts.get(&500), Some(&10));
}
