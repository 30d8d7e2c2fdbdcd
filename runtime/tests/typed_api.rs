//! The typed surface route code leans on: the prelude next to `serde_json`'s names, statuses as
//! `u16` or `StatusCode`, header names as anything `TryInto<HeaderName>`, and a handler's own
//! error type deciding its response.

use http::header::{HeaderName, ALLOW, CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use nextr::prelude::*;
use nextr::testing::{TestResponse, TestRoute};
use nextr::Handler;

/// The route every test serves, under this pattern.
const PAGE: &str = "/api/t";

/// `GET target` through a route serving `handler`.
async fn get(handler: Handler, target: &str) -> TestResponse {
    TestRoute::new(PAGE, handler)
        .get(target)
        .send()
        .await
        .unwrap()
}

/// The status and the body, as text.
fn answer(res: &TestResponse) -> (u16, String) {
    (res.status, res.text())
}

/// What the runtime logs for a handler error on [`PAGE`].
fn logged(error: &str) -> [String; 1] {
    [format!(
        "nextr: [test] {PAGE} ({PAGE}): handler error{error}"
    )]
}

/// Next's answer to a handler that failed.
fn internal_server_error() -> (u16, String) {
    (500, "Internal Server Error".into())
}

/// `serde_json::Value` and the prelude together: a glob import of each must not collide.
mod prelude_and_serde_json {
    use nextr::prelude::*;
    use serde_json::*;

    pub fn value() -> Value {
        json!({ "query": QueryValue::One("a".into()) })
    }
}

#[test]
fn the_prelude_leaves_value_to_serde_json() {
    assert_eq!(prelude_and_serde_json::value()["query"], "a");
}

async fn created(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.status(StatusCode::CREATED).json(&json!({ "ok": true }))
}

async fn moved(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.redirect_with(StatusCode::PERMANENT_REDIRECT, "/new")
}

async fn gone(_: &mut NextApiRequest, _: &mut NextApiResponse) -> nextr::Result<()> {
    Err(nextr::Error::http(StatusCode::GONE, "Gone for good"))
}

#[tokio::test]
async fn statuses_may_be_status_codes() {
    let res = get(nextr::handler!(created), PAGE).await;
    assert_eq!(answer(&res), (201, r#"{"ok":true}"#.into()));
    let res = get(nextr::handler!(moved), PAGE).await;
    assert_eq!((res.status, res.header(LOCATION)), (308, Some("/new")));
    let res = get(nextr::handler!(gone), PAGE).await;
    assert_eq!(answer(&res), (410, "Gone for good".into()));
}

async fn named_headers(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    let custom = HeaderName::from_static("x-custom");
    let owned = String::from("x-owned");
    res.set_header(CACHE_CONTROL, "no-store")?
        .set_header(&custom, "1")?
        .append_header(custom.clone(), "2")?
        .set_header_values(ALLOW, ["GET", "PUT"])?
        .set_header(&owned, "a")?
        .set_header(owned.clone(), "b")?;
    assert_eq!(res.get_header_all(&custom), ["1", "2"]);
    assert!(res.has_header(CACHE_CONTROL) && res.has_header("allow"));
    assert_eq!(res.get_header(&owned), Some("b"));
    res.remove_header(owned);
    res.send("ok")
}

#[tokio::test]
async fn header_names_may_be_header_names() {
    let res = get(nextr::handler!(named_headers), PAGE).await;
    assert_eq!(res.status, 200, "{:?}", res.logs);
    assert_eq!(res.header(CACHE_CONTROL), Some("no-store"));
    assert_eq!(res.header("x-custom"), Some("1"));
    let allow: Vec<_> = res.headers.get_all(ALLOW).iter().collect();
    assert_eq!(allow, ["GET", "PUT"]);
    assert_eq!(res.header("x-owned"), None);
    assert_eq!(res.header(CONTENT_TYPE), None);
}

async fn invalid_name(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    let err = res
        .set_header("bad header", "x")
        .err()
        .map(|e| e.to_string());
    assert_eq!(err.as_deref(), Some(r#"Invalid header name: "bad header""#));
    let err = res.append_header(String::from("x:y"), "x").err();
    let err = err.map(|e| e.to_string());
    assert_eq!(err.as_deref(), Some(r#"Invalid header name: "x:y""#));
    assert!(res.set_header_values("", ["x"]).is_err());
    assert!(res.headers().is_empty());
    res.set_header("also bad", "x")?;
    res.send("unreachable")
}

#[tokio::test]
async fn an_invalid_header_name_is_an_error_naming_it() {
    let res = get(nextr::handler!(invalid_name), PAGE).await;
    assert_eq!(answer(&res), internal_server_error());
    assert_eq!(res.logs, logged(r#": Invalid header name: "also bad""#));

    let route = TestRoute::new(PAGE, nextr::handler!(invalid_name));
    let err = route.get(PAGE).header("bad name", "x").send().await.err();
    let err = err.map(|e| e.to_string());
    assert_eq!(err.as_deref(), Some(r#"Invalid header name: "bad name""#));
}

/// An app's error type: its variants decide the answer.
#[derive(Debug)]
enum AppError {
    NotFound(String),
    WrongMethod(&'static str),
    Storage(std::io::Error),
}

impl From<std::io::Error> for AppError {
    fn from(e: std::io::Error) -> Self {
        AppError::Storage(e)
    }
}

impl IntoErrorResponse for AppError {
    fn into_error_response(self) -> ErrorResponse {
        match self {
            AppError::NotFound(what) => {
                ErrorResponse::json(404, &json!({ "error": format!("{what} not found") }))
            }
            AppError::WrongMethod(allow) => {
                ErrorResponse::json(StatusCode::METHOD_NOT_ALLOWED, &json!({ "allow": allow }))
                    .header(ALLOW, allow)
                    .header("x-reason", "method")
                    .header("x-reason", "again")
            }
            AppError::Storage(e) => ErrorResponse::json(503, &json!({ "error": e.to_string() })),
        }
    }
}

async fn app(req: &mut NextApiRequest, res: &mut NextApiResponse) -> Result<(), AppError> {
    res.set_header(ALLOW, "stale").ok();
    res.set_header("x-kept", "1").ok();
    match req.query.str("case") {
        Some("missing") => Err(AppError::NotFound("note 7".into())),
        Some("method") => Err(AppError::WrongMethod("GET, POST")),
        Some("io") => Err(std::io::Error::other("disk full"))?,
        Some("write") => {
            res.write("partial ").ok();
            Err(AppError::NotFound("late".into()))
        }
        Some("ended") => {
            res.send("done").ok();
            Err(AppError::NotFound("after".into()))
        }
        _ => {
            res.json(&json!({ "ok": true })).ok();
            Ok(())
        }
    }
}

/// `GET /api/t?case=…` through [`app`].
async fn app_case(case: &str) -> TestResponse {
    get(nextr::handler!(app), &format!("{PAGE}?case={case}")).await
}

#[tokio::test]
async fn an_app_error_sends_the_answer_it_describes() {
    let res = app_case("missing").await;
    assert_eq!(
        answer(&res),
        (404, r#"{"error":"note 7 not found"}"#.into())
    );
    assert_eq!(
        res.header(CONTENT_TYPE),
        Some("application/json; charset=utf-8")
    );
    // The handler's other headers are kept, as Next keeps them on its error answers; an answer
    // sent is the app's decision, not a failure to log.
    assert_eq!(res.header("x-kept"), Some("1"));
    assert_eq!(res.header(ALLOW), Some("stale"));
    assert!(res.logs.is_empty(), "{:?}", res.logs);

    let res = app_case("method").await;
    assert_eq!(answer(&res), (405, r#"{"allow":"GET, POST"}"#.into()));
    assert_eq!(res.header(ALLOW), Some("GET, POST"));
    let reasons: Vec<_> = res.headers.get_all("x-reason").iter().collect();
    assert_eq!(reasons, ["method", "again"]);

    // `?` converts a foreign error into the app's, which decides its answer.
    let res = app_case("io").await;
    assert_eq!(answer(&res), (503, r#"{"error":"disk full"}"#.into()));

    let res = app_case("other").await;
    assert_eq!(answer(&res), (200, r#"{"ok":true}"#.into()));
}

#[tokio::test]
async fn an_app_error_after_the_response_started_is_logged_as_errors_are() {
    // Headers sent: the status stays, the answer's body ends the body (as for `Error::http`).
    let res = app_case("write").await;
    let late = r#"{"error":"late not found"}"#;
    assert_eq!(answer(&res), (200, format!("partial {late}")));
    assert_eq!(res.logs, logged(&format!(": error response 404: {late}")));

    // Ended: nothing changes but the log.
    let res = app_case("ended").await;
    assert_eq!(answer(&res), (200, "done".into()));
    let after = r#"{"error":"after not found"}"#;
    assert_eq!(
        res.logs,
        logged(&format!(
            " after the response was sent: error response 404: {after}"
        ))
    );
}

/// An error type that is also a `std::error::Error` (so it converts into `nextr::Error`).
#[derive(Debug)]
struct Teapot;

impl std::fmt::Display for Teapot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("short and stout")
    }
}

impl std::error::Error for Teapot {}

impl IntoErrorResponse for Teapot {
    fn into_error_response(self) -> ErrorResponse {
        ErrorResponse::json(418, &json!({ "error": self.to_string() }))
    }
}

async fn teapot(_: &mut NextApiRequest, _: &mut NextApiResponse) -> Result<(), Teapot> {
    Err(Teapot)
}

async fn teapot_as_error(_: &mut NextApiRequest, _: &mut NextApiResponse) -> nextr::Result<()> {
    Err(Teapot.into())
}

async fn answer_in_nextr_result(
    _: &mut NextApiRequest,
    _: &mut NextApiResponse,
) -> nextr::Result<()> {
    let answer = ErrorResponse::json(StatusCode::CONFLICT, &json!({ "error": "taken" }));
    assert_eq!(
        (answer.status(), answer.body()),
        (409, r#"{"error":"taken"}"#)
    );
    let e = nextr::Error::from(answer);
    assert_eq!(e.status(), Some(409));
    Err(e)
}

#[tokio::test]
async fn the_answer_wins_over_the_500_and_travels_in_nextr_error() {
    let res = get(nextr::handler!(teapot), PAGE).await;
    assert_eq!(answer(&res), (418, r#"{"error":"short and stout"}"#.into()));

    // Converted into `nextr::Error` by hand, `Teapot` is an ordinary error again.
    let res = get(nextr::handler!(teapot_as_error), PAGE).await;
    assert_eq!(answer(&res), internal_server_error());

    let res = get(nextr::handler!(answer_in_nextr_result), PAGE).await;
    assert_eq!(answer(&res), (409, r#"{"error":"taken"}"#.into()));
}

async fn bad_header(_: &mut NextApiRequest, _: &mut NextApiResponse) -> Result<(), ErrorResponse> {
    Err(ErrorResponse::json(400, &json!({})).header("bad name", "x"))
}

async fn bad_status(_: &mut NextApiRequest, _: &mut NextApiResponse) -> Result<(), ErrorResponse> {
    Err(ErrorResponse::json(42, &json!({})))
}

#[tokio::test]
async fn an_answer_that_cannot_be_sent_is_next_s_500() {
    let res = get(nextr::handler!(bad_header), PAGE).await;
    assert_eq!(answer(&res), internal_server_error());
    assert_eq!(
        res.logs,
        logged(r#": error response 400 could not be built: Invalid header name: "bad name""#)
    );

    let res = get(nextr::handler!(bad_status), PAGE).await;
    assert_eq!(answer(&res), internal_server_error());
    assert_eq!(res.logs, logged(": Invalid status code: 42"));
}
