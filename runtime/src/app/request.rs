//! `NextRequest`: the request an App Router handler receives.

/// The request of an App Router handler (Next's `NextRequest`).
#[derive(Debug)]
pub struct NextRequest {
    pub(crate) method: http::Method,
}

impl NextRequest {
    /// The request method.
    pub fn method(&self) -> &http::Method {
        &self.method
    }
}
