//! `forward` against a small HTTP server on 127.0.0.1 standing in for Lambda's Invoke API:
//! what it receives (path, qualifier, SigV4 headers, client context, the payload 2.0 event)
//! and what becomes of its answers (text, base64, cookies, multi-value headers, function
//! errors, refusals, silence).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::client::Setup;
use super::{forward_with, Forward, InvokeError};

/// One request as the stand-in received it.
#[derive(Debug)]
struct Received {
    method: String,
    target: String,
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", String::as_str)
    }

    fn event(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// A canned answer of the stand-in: status, headers, body.
struct Answer {
    status: u16,
    headers: Vec<(&'static str, &'static str)>,
    body: String,
}

impl Answer {
    /// 200 with this payload, as Lambda answers an invocation that ran.
    fn payload(payload: Value) -> Self {
        Answer {
            status: 200,
            headers: vec![("content-type", "application/json")],
            body: payload.to_string(),
        }
    }
}

/// A stand-in for the Invoke API that takes one request, answers it (or, with `None`,
/// holds the connection without answering) and hands back what it received.
async fn stand_in(answer: Option<Answer>) -> (u16, tokio::task::JoinHandle<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut bytes = Vec::new();
        let mut chunk = [0u8; 8192];
        let head_end = loop {
            let n = stream.read(&mut chunk).await.unwrap();
            assert!(n > 0, "the client closed before its request's head");
            bytes.extend_from_slice(&chunk[..n]);
            if let Some(i) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
                break i;
            }
        };
        let head = String::from_utf8(bytes[..head_end].to_vec()).unwrap();
        let mut lines = head.split("\r\n");
        let mut request_line = lines.next().unwrap().split(' ');
        let method = request_line.next().unwrap().to_owned();
        let target = request_line.next().unwrap().to_owned();
        let headers: BTreeMap<String, String> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let length: usize = headers
            .get("content-length")
            .map_or(0, |l| l.parse().unwrap());
        let mut body = bytes[head_end + 4..].to_vec();
        while body.len() < length {
            let n = stream.read(&mut chunk).await.unwrap();
            assert!(n > 0, "the client closed mid-body");
            body.extend_from_slice(&chunk[..n]);
        }
        let received = Received {
            method,
            target,
            headers,
            body,
        };
        match answer {
            Some(a) => {
                let mut text = format!("HTTP/1.1 {} X\r\n", a.status);
                for (k, v) in &a.headers {
                    text.push_str(&format!("{k}: {v}\r\n"));
                }
                text.push_str(&format!(
                    "content-length: {}\r\n\r\n{}",
                    a.body.len(),
                    a.body
                ));
                stream.write_all(text.as_bytes()).await.unwrap();
                stream.flush().await.unwrap();
            }
            None => tokio::time::sleep(Duration::from_secs(30)).await,
        }
        received
    });
    (port, task)
}

fn setup(port: u16, stage: Option<&str>) -> Setup {
    Setup {
        stage: stage.map(str::to_owned),
        endpoint: Some(format!("http://127.0.0.1:{port}/")),
        region: Some("eu-west-1".into()),
        credentials: crate::aws::Credentials {
            access_key: Some("ASIAEXAMPLEKEY".into()),
            secret_key: Some("secret/example".into()),
            session_token: Some("session-token-example".into()),
        },
    }
}

/// `GET /api/post/a%20b?x=1&x=2&y=%C3%A9` with repeated headers, two cookie headers, a body.
fn request() -> Forward {
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_static("app.example:3000"));
    headers.append("x-many", HeaderValue::from_static("a"));
    headers.append("x-many", HeaderValue::from_static("b"));
    headers.append("cookie", HeaderValue::from_static("a=1; b=2"));
    headers.append("cookie", HeaderValue::from_static("c=3"));
    headers.insert("content-length", HeaderValue::from_static("999"));
    headers.insert("connection", HeaderValue::from_static("keep-alive"));
    headers.insert("user-agent", HeaderValue::from_static("curl/8"));
    Forward {
        method: Method::POST,
        target: "/api/post/a%20b?x=1&x=2&y=%C3%A9".into(),
        headers,
        body: Bytes::from_static(b"\x00\xffbody"),
        request_id: "req-123".into(),
        source_ip: Some("203.0.113.9".into()),
        depth: 2,
    }
}

fn soon() -> Instant {
    Instant::now() + Duration::from_secs(10)
}

fn headers_of(out: &crate::dispatch::Outgoing) -> Vec<(String, String)> {
    out.headers
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap().to_owned()))
        .collect()
}

#[tokio::test]
async fn the_request_is_a_signed_invoke_of_the_live_alias_with_a_payload_2_event() {
    let (port, received) = stand_in(Some(Answer::payload(json!({
        "statusCode": 201,
        "headers": {"content-type": "text/plain; charset=utf-8", "x-target": "yes"},
        "body": "created",
        "isBase64Encoded": false
    }))))
    .await;
    let out = forward_with(
        &setup(port, Some("prod")),
        "docs-post-1a2b",
        &request(),
        soon(),
    )
    .await
    .unwrap();
    assert_eq!(out.status, 201);
    assert_eq!(
        headers_of(&out),
        [
            ("content-type".into(), "text/plain; charset=utf-8".into()),
            ("x-target".into(), "yes".into())
        ]
    );
    assert_eq!(out.body, "created");

    let r = received.await.unwrap();
    assert_eq!(r.method, "POST");
    assert_eq!(
        r.target,
        "/2015-03-31/functions/docs-post-1a2b-prod/invocations?Qualifier=live"
    );
    let auth = r.header("authorization");
    assert!(
        auth.starts_with("AWS4-HMAC-SHA256 Credential=ASIAEXAMPLEKEY/"),
        "{auth}"
    );
    assert!(auth.contains("/eu-west-1/lambda/aws4_request"), "{auth}");
    assert!(auth.contains("SignedHeaders="), "{auth}");
    for signed in [
        "host",
        "x-amz-client-context",
        "x-amz-date",
        "x-amz-security-token",
    ] {
        assert!(auth.contains(signed), "{signed} is not signed: {auth}");
    }
    assert!(auth.contains("Signature="), "{auth}");
    assert_eq!(r.header("x-amz-security-token"), "session-token-example");
    assert_eq!(r.header("x-amz-date").len(), "20260101T000000Z".len());
    assert_eq!(r.header("x-amz-invocation-type"), "RequestResponse");
    assert_eq!(r.header("host"), format!("127.0.0.1:{port}"));
    let context = base64::engine::general_purpose::STANDARD
        .decode(r.header("x-amz-client-context"))
        .unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&context).unwrap(),
        json!({"custom": {"nextr-rewrite-depth": "2"}})
    );

    let event = r.event();
    assert_eq!(event["version"], "2.0");
    assert_eq!(event["routeKey"], "$default");
    assert_eq!(event["rawPath"], "/api/post/a%20b");
    assert_eq!(event["rawQueryString"], "x=1&x=2&y=%C3%A9");
    assert_eq!(
        event["queryStringParameters"],
        json!({"x": "1,2", "y": "é"})
    );
    assert_eq!(event["cookies"], json!(["a=1", "b=2", "c=3"]));
    assert_eq!(event["headers"]["x-many"], "a,b");
    assert_eq!(event["headers"]["host"], "app.example:3000");
    assert_eq!(
        event["headers"]["content-length"], "6",
        "the body's own length"
    );
    assert!(event["headers"].get("cookie").is_none());
    assert!(event["headers"].get("connection").is_none());
    assert_eq!(event["isBase64Encoded"], true);
    assert_eq!(event["body"], "AP9ib2R5");
    let context = &event["requestContext"];
    assert_eq!(context["requestId"], "req-123");
    assert_eq!(context["stage"], "$default");
    assert_eq!(context["domainName"], "app.example");
    assert_eq!(
        context["http"],
        json!({"method": "POST", "path": "/api/post/a%20b", "protocol": "HTTP/1.1",
               "sourceIp": "203.0.113.9", "userAgent": "curl/8"})
    );
    // The runtime reads it as the HTTP API event it is.
    let parsed: lambda_http::request::LambdaRequest = serde_json::from_slice(&r.body).unwrap();
    assert!(matches!(
        parsed,
        lambda_http::request::LambdaRequest::ApiGatewayV2(_)
    ));
}

#[tokio::test]
async fn in_dev_the_manifest_name_is_invoked_and_an_empty_body_is_left_out() {
    let (port, received) = stand_in(Some(Answer::payload(json!({"statusCode": 204})))).await;
    let mut req = request();
    req.body = Bytes::new();
    req.target = "/api/x".into();
    req.headers.insert(
        "host",
        HeaderValue::from_static("fn.lambda-url.us-east-1.on.aws"),
    );
    let out = forward_with(&setup(port, None), "docs-x-1a2b", &req, soon())
        .await
        .unwrap();
    assert_eq!((out.status, out.body.len()), (204, 0));
    let r = received.await.unwrap();
    assert_eq!(
        r.target,
        "/2015-03-31/functions/docs-x-1a2b/invocations?Qualifier=live"
    );
    let event = r.event();
    assert_eq!(event["rawQueryString"], "");
    assert!(event.get("body").is_none());
    assert_eq!(event["isBase64Encoded"], false);
    assert!(event.get("queryStringParameters").is_none());
    // A function URL's host would make a streaming target stream into a buffered call.
    assert!(event["requestContext"].get("domainName").is_none());
}

#[tokio::test]
async fn base64_bodies_cookies_and_multi_value_headers_come_back() {
    let (port, _received) = stand_in(Some(Answer::payload(json!({
        "statusCode": 200,
        "headers": {"content-type": "application/octet-stream", "x-one": "1", "x-n": 7},
        "multiValueHeaders": {"x-one": ["a", "b"], "vary": ["accept", "origin"]},
        "cookies": ["s=1; Path=/; HttpOnly", "t=2"],
        "body": base64::engine::general_purpose::STANDARD.encode([0u8, 159, 146, 150]),
        "isBase64Encoded": true
    }))))
    .await;
    let out = forward_with(&setup(port, Some("dev")), "f", &request(), soon())
        .await
        .unwrap();
    assert_eq!(out.status, 200);
    assert_eq!(out.body.as_ref(), [0u8, 159, 146, 150]);
    let all = |name: &str| -> Vec<&str> {
        out.headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect()
    };
    assert_eq!(all("x-one"), ["a", "b"]);
    assert_eq!(all("vary"), ["accept", "origin"]);
    assert_eq!(all("x-n"), ["7"]);
    assert_eq!(all("set-cookie"), ["s=1; Path=/; HttpOnly", "t=2"]);
}

#[tokio::test]
async fn a_payload_without_status_code_is_what_an_http_api_makes_of_it() {
    let (port, _received) = stand_in(Some(Answer::payload(json!({"hello": "world"})))).await;
    let out = forward_with(&setup(port, None), "f", &request(), soon())
        .await
        .unwrap();
    assert_eq!(out.status, 200);
    assert_eq!(out.headers["content-type"], "application/json");
    assert_eq!(out.body, r#"{"hello":"world"}"#);
}

#[tokio::test]
async fn a_function_error_is_an_error_naming_it() {
    let (port, _received) = stand_in(Some(Answer {
        status: 200,
        headers: vec![("x-amz-function-error", "Unhandled")],
        body: json!({"errorType": "Runtime.ExitError", "errorMessage": "exit status 101"})
            .to_string(),
    }))
    .await;
    let e = forward_with(&setup(port, Some("prod")), "f", &request(), soon())
        .await
        .unwrap_err();
    assert!(
        matches!(&e, InvokeError::Function { function, error_type, .. }
            if function == "f-prod" && error_type == "Runtime.ExitError"),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "f-prod failed: Runtime.ExitError: exit status 101 (see that function's logs)"
    );
}

#[tokio::test]
async fn refusals_say_what_to_do() {
    let cases = [
        (
            403,
            "AccessDeniedException:http://internal.amazon.com/coral/",
            "lambda:InvokeFunction",
        ),
        (404, "ResourceNotFoundException", "nextr deploy"),
        (429, "TooManyRequestsException", "concurrency"),
        (
            502,
            "ServiceException",
            "Lambda answered 502 ServiceException",
        ),
    ];
    for (status, error_type, hint) in cases {
        let (port, _received) = stand_in(Some(Answer {
            status,
            headers: vec![("x-amzn-errortype", error_type)],
            body: json!({"Type": "User", "message": "no entry"}).to_string(),
        }))
        .await;
        let e = forward_with(&setup(port, None), "f", &request(), soon())
            .await
            .unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains(hint) && text.contains("no entry"),
            "{status}: {text}"
        );
    }
}

#[tokio::test]
async fn no_answer_before_the_deadline_is_a_timeout() {
    let (port, _received) = stand_in(None).await;
    let started = Instant::now();
    let e = forward_with(
        &setup(port, None),
        "f",
        &request(),
        Instant::now() + Duration::from_millis(300),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, InvokeError::Timeout { .. }), "{e:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_closed_port_and_a_bad_environment_are_named() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let e = forward_with(&setup(port, None), "f", &request(), soon())
        .await
        .unwrap_err();
    assert!(
        matches!(&e, InvokeError::Connect { endpoint, .. } if *endpoint == format!("http://127.0.0.1:{port}")),
        "{e:?}"
    );

    let none = Setup::default();
    let e = forward_with(&none, "f", &request(), soon())
        .await
        .unwrap_err();
    assert!(matches!(e, InvokeError::NoEndpoint { .. }), "{e:?}");

    let bad = Setup {
        endpoint: Some("127.0.0.1:9000".into()),
        ..setup(port, None)
    };
    let e = forward_with(&bad, "f", &request(), soon())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("NEXTR_LAMBDA_ENDPOINT"), "{e}");

    let mut anonymous = setup(port, None);
    anonymous.credentials.secret_key = None;
    let e = forward_with(&anonymous, "f", &request(), soon())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("AWS_SECRET_ACCESS_KEY"), "{e}");
}

#[tokio::test]
async fn an_event_over_six_megabytes_is_refused_before_any_call() {
    let mut req = request();
    req.body = Bytes::from(vec![b'x'; crate::limits::LAMBDA_PAYLOAD_BYTES]);
    // Nothing listens there: the refusal comes first.
    let e = forward_with(&setup(1, None), "f", &req, soon())
        .await
        .unwrap_err();
    assert!(matches!(e, InvokeError::RequestTooLarge { .. }), "{e:?}");
}
