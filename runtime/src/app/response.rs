//! `Response`: what an App Router handler returns.

/// An App Router response (Next's `Response` / `NextResponse`).
#[derive(Debug)]
pub struct Response {
    pub(crate) status: http::StatusCode,
}
