//! `examples/docs` served by `nextr dev` answers every example of the Next.js "API Routes" and
//! "Dynamic API Routes" docs (and the tutorial and config examples of its README) exactly as
//! documented: status, content type, body byte for byte, plus the headers each example is
//! about (`Allow`, `Location`, ETag present or not). Every mismatch is reported at once.

mod support;

use std::time::Duration;

use support::dev::Dev;
use support::http::Reply;
use support::workspace_root;

/// GitHub's documented webhook test vector ("Validating webhook deliveries"): the docs app's
/// nextr.toml sets this secret.
const GITHUB_BODY: &str = "Hello, World!";
const GITHUB_SIGNATURE: &str =
    "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

const JSON: Option<&str> = Some("application/json; charset=utf-8");

/// The headers a comparison ignores: they change with every request or are the transport's.
const VOLATILE_HEADERS: &[&str] = &["date", "apigw-requestid", "content-length"];

/// One documented request and its answer.
struct Case {
    method: &'static str,
    target: &'static str,
    headers: &'static [(&'static str, &'static str)],
    body: Vec<u8>,
    status: u16,
    content_type: Option<&'static str>,
    response: Vec<u8>,
    /// Further headers the example is about: `(name, Some(value))` must be there with that
    /// value, `(name, None)` must be absent. `etag` with `Some("*")`: present, any value.
    expect_headers: Vec<(&'static str, Option<&'static str>)>,
}

fn case(method: &'static str, target: &'static str, status: u16) -> Case {
    Case {
        method,
        target,
        headers: &[],
        body: Vec::new(),
        status,
        content_type: None,
        response: Vec::new(),
        expect_headers: Vec::new(),
    }
}

impl Case {
    /// A JSON answer (what `res.json` and `res.send(object)` send, with an ETag).
    fn json(mut self, body: &str) -> Self {
        self.content_type = JSON;
        self.response = body.as_bytes().to_vec();
        self.expect_headers.push(("etag", Some("*")));
        self
    }

    /// A body with the given content type (`None`: no content type at all).
    fn body(mut self, content_type: Option<&'static str>, body: &str) -> Self {
        self.content_type = content_type;
        self.response = body.as_bytes().to_vec();
        self
    }

    fn send(mut self, headers: &'static [(&'static str, &'static str)], body: &[u8]) -> Self {
        self.headers = headers;
        self.body = body.to_vec();
        self
    }

    fn header(mut self, name: &'static str, value: Option<&'static str>) -> Self {
        self.expect_headers.push((name, value));
        self
    }

    /// What is wrong with `reply`, if anything.
    fn check(&self, reply: &Reply) -> Vec<String> {
        let mut problems = Vec::new();
        if reply.status != self.status {
            problems.push(format!(
                "status {} (expected {})",
                reply.status, self.status
            ));
        }
        let content_type = reply.header("content-type");
        if content_type != self.content_type {
            problems.push(format!(
                "content-type {content_type:?} (expected {:?})",
                self.content_type
            ));
        }
        if reply.body != self.response {
            problems.push(format!(
                "body {:?} (expected {:?})",
                reply.text(),
                String::from_utf8_lossy(&self.response)
            ));
        }
        if let Some(length) = reply.header("content-length") {
            if length != reply.body.len().to_string() {
                problems.push(format!(
                    "content-length {length} for {} bytes",
                    reply.body.len()
                ));
            }
        }
        for (name, expected) in &self.expect_headers {
            match (reply.header(name), expected) {
                (Some(_), Some("*")) | (None, None) => {}
                (Some(got), Some(want)) if got == *want => {}
                (got, want) => problems.push(format!("header {name}: {got:?} (expected {want:?})")),
            }
        }
        // Nothing unexpected: every header is either compared above or volatile.
        for (name, value) in &reply.headers {
            let known = name == "content-type"
                || VOLATILE_HEADERS.contains(&name.as_str())
                || self.expect_headers.iter().any(|(n, _)| n == name);
            if !known {
                problems.push(format!("unexpected header {name}: {value}"));
            }
        }
        problems
    }
}

fn documented_cases() -> Vec<Case> {
    let form = &[("content-type", "application/x-www-form-urlencoded")][..];
    let json = &[("content-type", "application/json")][..];
    let webhook_ok = &[
        ("content-type", "application/json"),
        ("x-github-event", "push"),
        ("x-hub-signature-256", GITHUB_SIGNATURE),
    ][..];
    let webhook_bad = &[
        ("content-type", "application/json"),
        (
            "x-hub-signature-256",
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e18",
        ),
    ][..];
    let text = &[("content-type", "text/plain")][..];
    let no_etag = ("etag", None);
    vec![
        // API Routes: the first example, "Setting the status code", "Adding TypeScript types".
        case("GET", "/api/hello", 200).json(r#"{"message":"Hello from Next.js!"}"#),
        case("GET", "/api/typed", 200).json(r#"{"message":"Hello from Next.js!"}"#),
        // "Sending a JSON response" / "Sending a HTTP response": both branches of try/catch.
        case("GET", "/api/json", 200).json(r#"{"result":"done"}"#),
        case("GET", "/api/json?fail=1", 500).json(r#"{"error":"failed to load data"}"#),
        case("GET", "/api/send", 200).json(r#"{"result":"done"}"#),
        case("GET", "/api/send?fail=1", 500).json(r#"{"error":"failed to fetch data"}"#),
        // "Redirects to a specified path or URL": the form, urlencoded or JSON.
        case("POST", "/api/form", 307)
            .send(form, b"name=Ada&message=Hello")
            .body(None, "/")
            .header("location", Some("/")),
        case("POST", "/api/form", 307)
            .send(json, br#"{"name":"Ada","message":"Hello"}"#)
            .body(None, "/")
            .header("location", Some("/")),
        case("POST", "/api/form", 500)
            .send(form, b"name=Ada")
            .json(r#"{"error":"Failed to fetch data"}"#),
        // "HTTP Methods", as the "API Routes with REST" example dispatches them.
        case("GET", "/api/users", 200).json(r#"[{"id":1},{"id":2},{"id":3}]"#),
        case("GET", "/api/user/7", 200).json(r#"{"id":7,"name":"User 7"}"#),
        case("GET", "/api/user/abc", 200).json(r#"{"id":null,"name":"User NaN"}"#),
        case("PUT", "/api/user/7?name=Ada", 200).json(r#"{"id":7,"name":"Ada"}"#),
        case("PUT", "/api/user/7", 200).json(r#"{"id":7,"name":"User 7"}"#),
        case("DELETE", "/api/user/7", 405)
            .body(None, "Method DELETE Not Allowed")
            .header("allow", Some("GET, PUT"))
            .header("etag", None),
        case("POST", "/api/user/7", 405)
            .body(None, "Method POST Not Allowed")
            .header("allow", Some("GET, PUT")),
        // Dynamic API Routes, catch-all, optional catch-all, and the precedence caveats.
        case("GET", "/api/post/abc", 200)
            .body(None, "Post: abc")
            .header("etag", None),
        case("GET", "/api/post/a/b/c", 200)
            .body(None, "Post: a, b, c")
            .header("etag", None),
        case("GET", "/api/post/a", 200).body(None, "Post: a"),
        case("GET", "/api/post/1/2", 200).body(None, "Post: 1, 2"),
        case("GET", "/api/post/1", 200).body(None, "Post: 1"),
        case("GET", "/api/post/create", 200).json(r#"{"created":true}"#),
        case("GET", "/api/note", 200).json("{}"),
        case("GET", "/api/note/a", 200).json(r#"{"slug":["a"]}"#),
        case("GET", "/api/note/a/b", 200).json(r#"{"slug":["a","b"]}"#),
        // Custom config: bodyParser.sizeLimit "500kb".
        case("POST", "/api/upload", 200)
            .send(text, &[b'a'; 1000])
            .json(r#"{"received":1000}"#),
        case("POST", "/api/upload", 200)
            .send(text, &[b'a'; 512_000])
            .json(r#"{"received":512000}"#),
        case("POST", "/api/upload", 413)
            .send(text, &[b'a'; 512_001])
            .body(None, "Body exceeded 500kb limit"),
        // Custom config: bodyParser false, a GitHub webhook checked over the raw bytes.
        case("POST", "/api/webhook", 200)
            .send(webhook_ok, GITHUB_BODY.as_bytes())
            .json(r#"{"received":true,"event":"push"}"#),
        case("POST", "/api/webhook", 401)
            .send(webhook_bad, GITHUB_BODY.as_bytes())
            .json(r#"{"error":"invalid signature"}"#),
        case("POST", "/api/webhook", 401)
            .send(json, GITHUB_BODY.as_bytes())
            .json(r#"{"error":"invalid signature"}"#),
        case("GET", "/api/webhook", 405)
            .body(None, "Method GET Not Allowed")
            .header("allow", Some("POST")),
        // Custom config: externalResolver (the response is sent as built).
        case("GET", "/api/external", 202)
            .body(None, "accepted")
            .header("etag", None),
        // Streaming with res.write: server-sent events (buffered by the HTTP API integration).
        case("GET", "/api/stream", 200)
            .body(
                Some("text/event-stream"),
                "data: 0\n\ndata: 1\n\ndata: 2\n\nevent: done\ndata: {}\n\n",
            )
            .header("cache-control", Some("no-cache, no-transform"))
            .header("etag", None),
        // The tutorial examples.
        case("GET", "/api/authors/1", 200).json(r#"{"id":"1","name":"Ada Lovelace"}"#),
        case("GET", "/api/authors/42", 404).json(r#"{"error":"Author 42 not found"}"#),
        case("POST", "/api/authors/4", 201)
            .send(json, br#"{"name":"Edsger Dijkstra"}"#)
            .json(r#"{"id":"4","name":"Edsger Dijkstra"}"#),
        case("PUT", "/api/authors/1", 200)
            .send(json, br#"{"name":"Ada King"}"#)
            .json(r#"{"id":"1","name":"Ada King"}"#),
        case("PUT", "/api/authors/1", 400)
            .send(json, br#"{"nom":"Ada"}"#)
            .body(
                None,
                "Invalid body: at `nom`: unknown field `nom`, expected `name`",
            ),
        case("DELETE", "/api/authors/1", 200).json(r#"{"message":"Author 1 deleted"}"#),
        case("PATCH", "/api/authors/1", 405)
            .json(r#"{"error":"Method PATCH Not Allowed"}"#)
            .header("allow", Some("GET, POST, PUT, DELETE")),
        case("GET", "/api/store/phones/apple/iphone-15?sort=price", 200)
            .json(r#"{"sort":"price","gadgets":["phones","apple","iphone-15"]}"#),
        case("GET", "/api/store/a", 200).json(r#"{"gadgets":["a"]}"#),
        // What no route takes: the deployed API's own 404 and Next's trailing-slash redirect.
        case("GET", "/api/store", 404).body(Some("application/json"), r#"{"message":"Not Found"}"#),
        case("GET", "/api/hello/", 308)
            .body(None, "/api/hello")
            .header("location", Some("/api/hello"))
            .header("refresh", Some("0;url=/api/hello")),
        case("GET", "/api/nope", 404).body(Some("application/json"), r#"{"message":"Not Found"}"#),
    ]
    .into_iter()
    .map(|c| {
        if c.content_type.is_none() {
            c.header(no_etag.0, no_etag.1)
        } else {
            c
        }
    })
    .collect()
}

#[test]
fn every_documented_output_over_http() {
    let docs = workspace_root().join("examples/docs");
    // Lambda's lines too: the last request's REPORT says its output is all printed.
    let dev = Dev::start_in(&docs, &[".", "--lambda-logs"], &[]);

    let mut failures = Vec::new();
    let cases = documented_cases();
    for c in &cases {
        let reply = dev.request(c.method, c.target, c.headers, &c.body);
        for problem in c.check(&reply) {
            failures.push(format!("{} {}: {problem}", c.method, c.target));
        }
    }

    // responseLimit "8mb": a 5,000,000-byte CSV goes out whole, with no size warning.
    let large = dev.get("/api/large");
    if large.status != 200
        || large.header("content-type") != Some("text/csv")
        || large.body.len() != 5_000_000
        || !large
            .body
            .starts_with(b"00000000,0000000000000000000000000000000000000000\n")
        || !large
            .body
            .ends_with(b"00099999,0000000000000000000000000000000000699993\n")
    {
        failures.push(format!(
            "GET /api/large: status {}, content-type {:?}, {} bytes",
            large.status,
            large.header("content-type"),
            large.body.len()
        ));
    }

    // The functions' logs arrive asynchronously: wait for the last request's REPORT line.
    dev.wait_for(
        |l| l.starts_with("[/api/large] REPORT"),
        Duration::from_secs(30),
    );
    let output = dev.output();
    for (route, warning) in [
        ("/api/large", "exceeds"),
        ("/api/external", "API resolved without sending a response"),
    ] {
        if let Some(line) = output
            .lines()
            .find(|l| l.starts_with(&format!("[{route}]")) && l.contains(warning))
        {
            failures.push(format!(
                "{route} logged a warning its config turns off: {line}"
            ));
        }
    }

    assert!(
        failures.is_empty(),
        "{} of {} documented answers differ:\n{}\n\nnextr dev output:\n{output}",
        failures.len(),
        cases.len() + 1,
        failures.join("\n")
    );
}
