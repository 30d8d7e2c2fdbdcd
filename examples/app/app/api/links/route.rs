//! `/api/links`: `GET` lists the links (oldest first; `?tag=x` keeps those tagged `x`),
//! `POST` creates one from `{"url": "...", "title": "...", "tags": [...]}` and answers 201 with
//! the link and its `Location`. A body that is not JSON, of the wrong shape or with a bad field
//! is a 400 naming the problem. Other methods get Next's automatic answers: `OPTIONS` 204 with
//! `Allow: GET, HEAD, OPTIONS, POST`, anything else 405.
use links::{NewLink, Store};
use nextr::app::prelude::*;

/// `GET /api/links?tag=…`.
pub async fn get(req: NextRequest) -> nextr::Result<Response> {
    let tag = req.next_url().search_params().get("tag");
    Ok(Response::json(&Store::open()?.list(tag)?))
}

/// `POST /api/links`.
pub async fn post(mut req: NextRequest) -> nextr::Result<Response> {
    let new = match req.json::<NewLink>().await {
        Ok(new) => new,
        Err(e) => return Ok(bad_request(&e.to_string())),
    };
    let new = match new.validate() {
        Ok(new) => new,
        Err(message) => return Ok(bad_request(&message)),
    };
    let link = Store::open()?.create(new)?;
    Ok(Response::json(&link)
        .status(StatusCode::CREATED)
        .header("location", format!("/api/links/{}", link.id)))
}

fn bad_request(message: &str) -> Response {
    Response::json(&json!({ "error": message })).status(StatusCode::BAD_REQUEST)
}
