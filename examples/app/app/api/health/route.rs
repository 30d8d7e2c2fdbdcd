//! `GET /api/health`: prerendered at build (`dynamic: "force-static"` on a GET-only file, as
//! in Next): `nextr build` runs this handler once with Next's synthetic request and the bundle
//! serves that body to every GET and HEAD, with `x-nextjs-cache: HIT` and
//! `cache-control: s-maxage=31536000`; other methods get Next's prerendered 405.
use nextr::app::prelude::*;

nextr::config! {
    dynamic: "force-static",
}

/// `GET /api/health`.
pub async fn get() -> Response {
    Response::json(&json!({ "status": "ok", "app": "links" }))
}
