//! The app's proxy (Next 16's `proxy.ts`): it runs inside each function, before the route,
//! for every request under `/api/notes`.
//!
//! Reading is open; writing (`POST`, `PUT`, `PATCH`, `DELETE`) needs `Authorization: Bearer
//! <token>`. A missing or unknown token is answered here, 401, and the route never runs. A
//! known one passes the user's name to the route in the `x-notes-user` request header, which
//! the proxy always sets or removes itself, so a client cannot send its own.
//!
//! The tokens are not in the configuration: `NOTES_TOKENS_SHA256` lists `user:sha256(token)`
//! pairs, so `nextr.toml`, the manifest and the functions' environment hold hashes only.
use nextr::proxy::prelude::*;
use notes::auth::{Tokens, SIGN_IN, USER_HEADER};

nextr::config! {
    matcher: ["/api/notes/:path*"],
}

pub async fn proxy(req: NextRequest) -> NextResponse {
    let writes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let tokens = Tokens::from_env();
    let authorization = req.header("authorization");
    let user = authorization.as_deref().and_then(|value| tokens.user_of(value));
    match (writes, user) {
        (_, Some(user)) => NextResponse::next().request_header(USER_HEADER, user),
        (false, None) => NextResponse::next().request_headers(without_user(req.headers())),
        (true, None) => Response::json(&json!({ "error": SIGN_IN }))
            .status(401)
        .header("www-authenticate", "Bearer")
        .into(),
    }
}

/// The request's headers without a client-sent `x-notes-user`.
fn without_user(headers: &HeaderMap) -> HeaderMap {
    let mut headers = headers.clone();
    headers.remove(USER_HEADER);
    headers
}
