//! Rewrites served by another function of the app (Lambda `Invoke`): part B of issue 14 owns
//! this file. Until it lands, [`forward`] only says that it cannot.

/// A request to hand to another function of the app (a rewrite's target).
#[derive(Debug)]
pub(crate) struct Forward {
    /// The request's method.
    pub method: http::Method,
    /// Raw path + `?query` of the rewrite's target.
    pub target: String,
    /// The request's headers, with the proxy's changes.
    pub headers: http::HeaderMap,
    /// The request's body.
    pub body: bytes::Bytes,
    /// The original invocation's request id.
    pub request_id: String,
    /// The client's address.
    pub source_ip: Option<String>,
    /// How many rewrites led here, this one included.
    pub depth: u32,
}

/// Invokes `function` (its manifest name) with the request and returns its answer.
pub(crate) async fn forward(
    function: &str,
    request: Forward,
) -> Result<crate::dispatch::Outgoing, InvokeError> {
    let _ = request;
    Err(InvokeError::Unavailable(function.to_owned()))
}

/// Why another function could not answer a rewrite.
#[derive(Debug, thiserror::Error)]
pub(crate) enum InvokeError {
    /// This build cannot invoke other functions yet.
    #[error("invoking function {0} is not available in this build of the runtime")]
    Unavailable(String),
}
