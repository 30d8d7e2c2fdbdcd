//! The runtime API beyond helpers.json: typed bodies, cookies, header rules, limits, deadlines,
//! the Lambda response envelope.

use std::time::Duration;

use nextr::prelude::*;
use nextr::testing::TestRoute;
use serde_json::Value as Json;

#[derive(Debug, Deserialize, Serialize)]
struct NewUser {
    name: String,
    age: u32,
    address: Address,
}

#[derive(Debug, Deserialize, Serialize)]
struct Address {
    city: String,
}

async fn typed(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    let user: NewUser = req.json()?;
    res.status(201).json(&user)
}

#[tokio::test]
async fn typed_json_body() {
    let route = TestRoute::new("/api/users", nextr::handler!(typed));
    let ok = route
        .post("/api/users")
        .json(&json!({ "name": "Ada", "age": 36, "address": { "city": "London" } }))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status, 201);
    assert_eq!(ok.json::<Json>().unwrap()["address"]["city"], "London");

    let wrong = route
        .post("/api/users")
        .json(&json!({ "name": "Ada", "age": "x", "address": { "city": "London" } }))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status, 400);
    assert!(wrong.text().contains("`age`"), "{}", wrong.text());

    let nested = route
        .post("/api/users")
        .json(&json!({ "name": "Ada", "age": 1, "address": {} }))
        .send()
        .await
        .unwrap();
    assert_eq!(nested.status, 400);
    assert!(nested.text().contains("address"), "{}", nested.text());
    assert!(nested.text().contains("city"), "{}", nested.text());

    let text = route
        .post("/api/users")
        .header("content-type", "application/json")
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(text.status, 400);
    assert_eq!(text.text(), "Invalid JSON");
}

/// A cross-site HTML form can post `text/plain` or a urlencoded form without a CORS
/// preflight: `req.json()` refuses anything not declared JSON with 415.
#[tokio::test]
async fn typed_json_needs_a_json_content_type() {
    let route = TestRoute::new("/api/users", nextr::handler!(typed));
    let body = r#"{"name":"Ada","age":36,"address":{"city":"London"}}"#;
    let post = |content_type: Option<&'static str>, body: &'static str| {
        let mut req = route.post("/api/users").body(body);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        req.send()
    };
    for ct in [
        "application/json",
        "Application/JSON; charset=utf-8",
        "application/json;",
        "application/vnd.api+json",
        "application/problem+json; charset=utf-8",
    ] {
        let res = post(Some(ct), body).await.unwrap();
        assert_eq!(res.status, 201, "{ct}: {}", res.text());
    }
    for (ct, got) in [
        (Some("text/plain"), "Content-Type `text/plain`"),
        (
            Some("text/plain; charset=utf-8"),
            "Content-Type `text/plain`",
        ),
        (
            Some("application/x-www-form-urlencoded"),
            "Content-Type `application/x-www-form-urlencoded`",
        ),
        (
            Some("multipart/form-data; boundary=x"),
            "Content-Type `multipart/form-data`",
        ),
        (Some("text/json"), "Content-Type `text/json`"),
        (
            Some("application/+json"),
            "Content-Type `application/+json`",
        ),
        (None, "no Content-Type"),
    ] {
        let res = post(ct, body).await.unwrap();
        assert_eq!(res.status, 415, "{ct:?}: {}", res.text());
        assert_eq!(
            res.text(),
            format!("Unsupported Media Type: expected a JSON body (`application/json`), got {got}")
        );
    }
}

#[derive(Debug, Deserialize, Serialize)]
struct Comment {
    name: String,
    tags: Vec<String>,
}

async fn form_comment(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    let c: Comment = req.form()?;
    res.json(&c)
}

#[tokio::test]
async fn typed_form_body() {
    for parser in [true, false] {
        let mut route = TestRoute::new("/api/c", nextr::handler!(form_comment));
        if !parser {
            route = route.with_config(nextr::config::RouteConfig {
                body_parser: nextr::config::BodyParser::Disabled(nextr::config::Disabled),
                ..Default::default()
            });
        }
        let ok = route
            .post("/api/c")
            .header("content-type", "application/x-www-form-urlencoded")
            .body("name=Ada+L&tags=a&tags=b")
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status, 200, "{}", ok.text());
        assert_eq!(
            ok.json::<Json>().unwrap(),
            json!({"name": "Ada L", "tags": ["a", "b"]})
        );
        let json = route
            .post("/api/c")
            .header("content-type", "application/json")
            .body(r#"{"name":"Ada","tags":[]}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(json.status, 415, "{}", json.text());
    }
}

async fn cookie_jar(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.set_cookie(
        "token",
        "a;b c",
        &CookieOptions {
            max_age: Some(60),
            path: Some("/api".into()),
            http_only: true,
            secure: true,
            same_site: Some(SameSite::Lax),
            ..Default::default()
        },
    )?;
    res.clear_cookie("old", &CookieOptions::session())?;
    assert!(res
        .set_cookie("bad name", "x", &CookieOptions::default())
        .is_err());
    res.send("ok")
}

#[tokio::test]
async fn response_cookies() {
    let route = TestRoute::new("/api/c", nextr::handler!(cookie_jar));
    let res = route.get("/api/c").send().await.unwrap();
    let cookies: Vec<&str> = res
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(
        cookies,
        [
            "token=a%3Bb%20c; Max-Age=60; Path=/api; HttpOnly; Secure; SameSite=Lax",
            "old=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly",
        ]
    );
}

async fn header_rules(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    assert!(res.set_header("bad header", "x").is_err());
    assert!(res.set_header("x-ok", "line\nbreak").is_err());
    res.set_header("x-a", "1")?.append_header("x-a", "2")?;
    assert_eq!(res.get_header_all("x-a"), ["1", "2"]);
    res.set_header_values("x-b", ["p", "q"])?;
    res.remove_header("x-b");
    assert!(!res.has_header("x-b"));
    res.write("partial ")?;
    assert!(res.set_header("x-late", "1").is_err());
    assert!(res.headers_sent());
    res.end_with("done")?;
    assert!(res.send("again").is_err());
    assert!(res.is_ended());
    Ok(())
}

#[tokio::test]
async fn header_rules_and_write_end() {
    let route = TestRoute::new("/api/h", nextr::handler!(header_rules));
    let res = route.get("/api/h").send().await.unwrap();
    assert_eq!(res.status, 200);
    assert_eq!(res.text(), "partial done");
    assert_eq!(res.header("x-a"), Some("1"));
    assert!(res.header("etag").is_none());
}

async fn throw_after_write(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.write("partial")?;
    Err(nextr::Error::msg("late failure"))
}

#[tokio::test]
async fn error_after_write_appends_next_s_message() {
    let route = TestRoute::new("/api/w", nextr::handler!(throw_after_write));
    let res = route.get("/api/w").send().await.unwrap();
    assert_eq!(res.status, 200);
    assert_eq!(res.text(), "partialInternal Server Error");
    assert!(res.logs.iter().any(|l| l.contains("late failure")));
}

async fn http_error(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.set_header("content-type", "application/json")?;
    Err(nextr::Error::http(422, "Unprocessable"))
}

#[tokio::test]
async fn http_errors_answer_their_status() {
    let route = TestRoute::new("/api/e", nextr::handler!(http_error));
    let res = route.get("/api/e").send().await.unwrap();
    assert_eq!(res.status, 422);
    assert_eq!(res.text(), "Unprocessable");
}

async fn json_type_kept_on_error(
    _: &mut NextApiRequest,
    res: &mut NextApiResponse,
) -> nextr::Result<()> {
    res.set_header("content-type", "application/json; charset=utf-8")?;
    Err(nextr::Error::msg("boom"))
}

#[tokio::test]
async fn content_type_set_before_an_error_is_kept() {
    let route = TestRoute::new("/api/e", nextr::handler!(json_type_kept_on_error));
    let res = route.get("/api/e").send().await.unwrap();
    assert_eq!(res.status, 500);
    assert_eq!(
        res.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(res.text(), "Internal Server Error");
}

async fn slow(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    tokio::time::sleep(Duration::from_secs(5)).await;
    res.send("late")
}

#[tokio::test]
async fn lambda_remaining_time_bounds_the_deadline() {
    let route = TestRoute::new("/api/slow", nextr::handler!(slow));
    let start = std::time::Instant::now();
    let res = route
        .get("/api/slow")
        .lambda_timeout(Duration::from_millis(400))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status, 504);
    assert!(start.elapsed() < Duration::from_secs(2));
    let body: Json = res.json().unwrap();
    assert_eq!(body["route"], "/api/slow");
}

async fn unit_handler(_: &mut NextApiRequest, res: &mut NextApiResponse) {
    let _ = res.send("unit");
}

async fn custom_error(
    _: &mut NextApiRequest,
    _: &mut NextApiResponse,
) -> Result<(), std::io::Error> {
    Err(std::io::Error::other("disk"))
}

#[tokio::test]
async fn handlers_may_return_unit_or_any_error() {
    let route = TestRoute::new("/api/u", nextr::handler!(unit_handler));
    assert_eq!(route.get("/api/u").send().await.unwrap().text(), "unit");
    let route = TestRoute::new("/api/u", nextr::handler!(custom_error));
    let res = route.get("/api/u").send().await.unwrap();
    assert_eq!(res.status, 500);
    assert!(res.logs.iter().any(|l| l.contains("disk")));
}

async fn query_view(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.json(&json!({ "query": req.query, "url": req.url, "pid": req.query.str("pid"), "all": req.query.all("x") }))
}

#[tokio::test]
async fn literal_pattern_request_and_param_override() {
    let route = TestRoute::new("/api/post/[pid]", nextr::handler!(query_view));
    let res = route
        .get("/api/post/[pid]?pid=foo&x=1&x=2")
        .send()
        .await
        .unwrap();
    let body: Json = res.json().unwrap();
    assert_eq!(body["pid"], "foo");
    assert_eq!(body["url"], "/api/post/foo?x=1&x=2");
    let res = route.get("/api/post/abc?pid=1&pid=2").send().await.unwrap();
    let body: Json = res.json().unwrap();
    assert_eq!(body["query"], json!({ "pid": "abc" }));
    assert_eq!(body["url"], "/api/post/abc");
}

#[tokio::test]
async fn a_path_the_pattern_does_not_match_is_served_without_params() {
    let route = TestRoute::new("/api/post/[pid]", nextr::handler!(query_view));
    let res = route.get("/api/other/x/y?x=1").send().await.unwrap();
    assert_eq!(res.status, 200);
    let body: Json = res.json().unwrap();
    assert_eq!(body["query"], json!({ "x": "1" }));
    assert_eq!(body["url"], "/api/other/x/y?x=1");
    assert!(res.logs.iter().any(|l| l.contains("does not match")));
}

#[tokio::test]
async fn dot_segments_and_slashes_like_next_start() {
    let route = TestRoute::new("/api/post/[pid]", nextr::handler!(query_view));
    let res = route.get("/api/post/x/../abc").send().await.unwrap();
    assert_eq!(res.json::<Json>().unwrap()["pid"], "abc");
    let res = route.get("/api//post/abc").send().await.unwrap();
    assert_eq!(res.status, 308);
    assert_eq!(res.header("location"), Some("/api/post/abc"));
    let res = route.get("relative").send().await.unwrap();
    assert_eq!(res.status, 400);
}

async fn revalidate_unconfigured(
    _: &mut NextApiRequest,
    res: &mut NextApiResponse,
) -> nextr::Result<()> {
    let e = res.revalidate("/blog/1").await.unwrap_err();
    res.send(e.to_string())
}

#[tokio::test]
async fn revalidate_without_configuration_is_a_clear_error() {
    let route = TestRoute::new("/api/r", nextr::handler!(revalidate_unconfigured));
    let res = route.get("/api/r").send().await.unwrap();
    assert!(
        res.text().contains("NEXTR_REVALIDATE_ORIGIN"),
        "{}",
        res.text()
    );
}

async fn huge(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.send(vec![0xffu8; 5 * 1024 * 1024])
}

fn v2_event(path: &str, query: &str) -> String {
    json!({
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": query,
        "headers": { "host": "x.lambda-url.us-east-1.on.aws" },
        "requestContext": { "http": { "method": "GET", "path": path, "sourceIp": "1.2.3.4" }, "stage": "$default", "requestId": "r" },
        "isBase64Encoded": false
    })
    .to_string()
}

#[tokio::test]
async fn over_six_megabytes_is_a_clear_500() {
    let route = TestRoute::new("/api/huge", nextr::handler!(huge));
    let res = route
        .invoke_event(&v2_event("/api/huge", ""))
        .await
        .unwrap();
    assert_eq!(res["statusCode"], 500);
    let body: Json = serde_json::from_str(res["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["error"], "RESPONSE_TOO_LARGE");
}

#[tokio::test]
async fn head_keeps_headers_and_drops_the_body() {
    let route = TestRoute::new("/api/post/[pid]", nextr::handler!(query_view));
    let res = route
        .request(Method::HEAD, "/api/post/a")
        .send()
        .await
        .unwrap();
    assert!(res.body.is_empty());
    assert!(res.header("content-length").is_some());
}

#[tokio::test]
async fn raw_request_escape_hatch() {
    async fn raw(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
        let http = req.to_http();
        res.json(
            &json!({ "uri": http.uri().to_string(), "len": http.body().len(), "page": req.page() }),
        )
    }
    let route = TestRoute::new("/api/raw/[x]", nextr::handler!(raw));
    let res = route
        .post("/api/raw/%41?b=1")
        .body("abc")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.json::<Json>().unwrap(),
        json!({ "uri": "/api/raw/%41?b=1", "len": 3, "page": "/api/raw/[x]" })
    );
}

/// HTTP APIs deliver `rawPath` percent-decoded: a `#` or `?` in it came from an escape and
/// belongs to the path (Next, given `/api/post/a%23b`, answers `pid: "a#b"`), while an encoded
/// path (Function URLs) is read as it is, a malformed escape included.
#[tokio::test]
async fn a_decoded_raw_path_keeps_hash_and_question_mark() {
    let route = TestRoute::new("/api/post/[pid]", nextr::handler!(query_view));
    for (path, query, pid, url) in [
        ("/api/post/a#b", "", "a#b", "/api/post/a%23b"),
        ("/api/post/a#b", "x=1", "a#b", "/api/post/a%23b?x=1"),
        ("/api/post/a?b", "", "a?b", "/api/post/a%3Fb"),
        ("/api/post/a%20b", "", "a b", "/api/post/a%20b"),
        ("/api/post/a b", "", "a b", "/api/post/a%20b"),
    ] {
        let res = route.invoke_event(&v2_event(path, query)).await.unwrap();
        assert_eq!(res["statusCode"], 200, "{path}: {res}");
        let body: Json = serde_json::from_str(res["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["pid"], pid, "{path}");
        assert_eq!(body["url"], url, "{path}");
    }
    let res = route
        .invoke_event(&v2_event("/api/post/%zz", ""))
        .await
        .unwrap();
    assert_eq!(res["statusCode"], 400, "a malformed escape is Next's 400");
}

/// Why nextr converts events itself instead of through `lambda_http`'s adapter: the adapter
/// builds an `http::Uri` from `rawQueryString` and `Host` and panics (`request.rs`, "failed to
/// build request" / `Url::parse(..).unwrap()`) on a raw `"` or space in the query, which
/// clients such as curl send as typed, or on an unusual Host. nextr answers those requests.
#[tokio::test]
async fn raw_queries_lambda_http_cannot_build_a_uri_for() {
    let route = TestRoute::new("/api/post/[pid]", nextr::handler!(query_view));
    for (query, host) in [
        ("a=\"q\"", "x.com"),
        ("a=b c", "x.com"),
        ("a=1", "bad host"),
    ] {
        let event = json!({
            "version": "2.0", "routeKey": "$default", "rawPath": "/api/post/7", "rawQueryString": query,
            "headers": { "host": host },
            "requestContext": { "http": { "method": "GET", "path": "/api/post/7", "sourceIp": "1.2.3.4" }, "stage": "$default", "requestId": "r" },
            "isBase64Encoded": false
        })
        .to_string();
        let adapter = std::panic::catch_unwind(|| lambda_http::request::from_str(&event).is_ok());
        let res = route.invoke_event(&event).await.unwrap();
        assert_eq!(
            res["statusCode"], 200,
            "{query:?} (lambda_http adapter: {adapter:?})"
        );
        let body: Json = serde_json::from_str(res["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["pid"], "7");
    }
}

async fn host(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    let host = req.header("host").unwrap_or_default().to_owned();
    res.send(host)
}

#[tokio::test]
async fn two_host_headers_are_a_400() {
    let route = TestRoute::new("/api/host", nextr::handler!(host));
    let one = route
        .get("/api/host")
        .header("host", "a.example")
        .send()
        .await
        .unwrap();
    assert_eq!((one.status, one.text().as_str()), (200, "a.example"));
    let two = route
        .get("/api/host")
        .header("host", "a.example")
        .header("host", "b.example")
        .send()
        .await
        .unwrap();
    assert_eq!(two.status, 400, "{}", two.text());
}
