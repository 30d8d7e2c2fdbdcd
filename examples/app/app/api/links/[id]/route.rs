//! `/api/links/:id`: `GET` one link, `PATCH` its title or tags, `DELETE` it (204). An unknown
//! id is `notFound()`'s bare 404; a bad `PATCH` body is a 400 naming the problem.
use links::{LinkPatch, Store};
use nextr::app::prelude::*;
use nextr::app::not_found;

fn id(ctx: &RouteContext) -> &str {
    ctx.param("id").and_then(|v| v.first()).unwrap_or_default()
}

/// `GET /api/links/:id`.
pub async fn get(_req: NextRequest, ctx: RouteContext) -> nextr::Result<Response> {
    Ok(match Store::open()?.get(id(&ctx))? {
        Some(link) => Response::json(&link),
        None => not_found(),
    })
}

/// `PATCH /api/links/:id` with `{"title": "...", "tags": [...]}` (both optional).
pub async fn patch(mut req: NextRequest, ctx: RouteContext) -> nextr::Result<Response> {
    let patch = match req.json::<LinkPatch>().await.map_err(|e| e.to_string()) {
        Ok(patch) => patch.validate(),
        Err(message) => Err(message),
    };
    let patch = match patch {
        Ok(patch) => patch,
        Err(message) => {
            return Ok(Response::json(&json!({ "error": message })).status(StatusCode::BAD_REQUEST))
        }
    };
    Ok(match Store::open()?.update(id(&ctx), patch)? {
        Some(link) => Response::json(&link),
        None => not_found(),
    })
}

/// `DELETE /api/links/:id`: 204, or 404 when there was no such link.
pub async fn delete(_req: NextRequest, ctx: RouteContext) -> nextr::Result<Response> {
    Ok(if Store::open()?.delete(id(&ctx))? {
        Response::empty()
    } else {
        not_found()
    })
}
