//! The typed surface route code leans on: the prelude next to `serde_json`'s names, statuses as
//! `u16` or `StatusCode`, header names as anything `TryInto<HeaderName>`, and a handler's own
//! error type deciding its response.

use http::header::{HeaderName, ALLOW, CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use nextr::prelude::*;
use nextr::testing::TestRoute;

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
    let route = TestRoute::new("/api/s", nextr::handler!(created));
    let res = route.get("/api/s").send().await.unwrap();
    assert_eq!((res.status, res.text().as_str()), (201, r#"{"ok":true}"#));

    let route = TestRoute::new("/api/s", nextr::handler!(moved));
    let res = route.get("/api/s").send().await.unwrap();
    assert_eq!((res.status, res.header(LOCATION)), (308, Some("/new")));

    let route = TestRoute::new("/api/s", nextr::handler!(gone));
    let res = route.get("/api/s").send().await.unwrap();
    assert_eq!((res.status, res.text().as_str()), (410, "Gone for good"));
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
    let route = TestRoute::new("/api/h", nextr::handler!(named_headers));
    let res = route.get("/api/h").send().await.unwrap();
    assert_eq!(res.status, 200, "{:?}", res.logs);
    assert_eq!(res.header(CACHE_CONTROL), Some("no-store"));
    assert_eq!(res.header("x-custom"), Some("1"));
    let allow: Vec<_> = res.headers.get_all(ALLOW).iter().collect();
    assert_eq!(allow, ["GET", "PUT"]);
    assert_eq!(res.header("x-owned"), None);
    assert_eq!(res.header(CONTENT_TYPE), None);
}

async fn invalid_name(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    let err = res.set_header("bad header", "x").err().map(|e| e.to_string());
    assert_eq!(err.as_deref(), Some(r#"Invalid header name: "bad header""#));
    let err = res.append_header(String::from("x:y"), "x").err();
    assert_eq!(err.map(|e| e.to_string()).as_deref(), Some(r#"Invalid header name: "x:y""#));
    assert!(res.set_header_values("", ["x"]).is_err());
    assert!(res.headers().is_empty());
    res.set_header("also bad", "x")?;
    res.send("unreachable")
}

#[tokio::test]
async fn an_invalid_header_name_is_an_error_naming_it() {
    let route = TestRoute::new("/api/h", nextr::handler!(invalid_name));
    let res = route.get("/api/h").send().await.unwrap();
    assert_eq!((res.status, res.text().as_str()), (500, "Internal Server Error"));
    assert!(
        res.logs.iter().any(|l| l.ends_with(r#"Invalid header name: "also bad""#)),
        "{:?}",
        res.logs
    );

    let err = route.get("/api/h").header("bad name", "x").send().await.err();
    assert_eq!(err.map(|e| e.to_string()).as_deref(), Some(r#"Invalid header name: "bad name""#));
}
