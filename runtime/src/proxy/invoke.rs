//! A proxy's rewrite to another route's function: Lambda's `Invoke` API from inside a
//! function (the proxy contract, §5).
//!
//! The running function turns the rewritten request into an API Gateway HTTP API **payload
//! 2.0** event, whatever event it got itself (`event`), and invokes the target's `live` alias
//! synchronously: `POST /2015-03-31/functions/{name}/invocations?Qualifier=live` with
//! `X-Amz-Invocation-Type: RequestResponse` and the rewrite depth in Lambda's client context,
//! `X-Amz-Client-Context: base64({"custom":{"nextr-rewrite-depth":"N"}})`, which the target's
//! runtime reads from `Context::client_context`. The target's payload 2.0 response becomes
//! this function's answer (an [`Outgoing`]), encoded afterwards in its own event's format;
//! a failed invocation (`X-Amz-Function-Error`) is an [`InvokeError::Function`].
//!
//! - **Where** (`client`): [`LAMBDA_ENDPOINT_ENV`] when set (`nextr dev`'s Invoke API, plain
//!   HTTP on 127.0.0.1), else `https://lambda.{AWS_REGION}.amazonaws.com`.
//! - **Which function**: [`deployed_function_name`] of the manifest name and the stage in
//!   [`STAGE_ENV`] (unset in `nextr dev`, whose functions keep their manifest names).
//! - **As whom**: SigV4 (service `lambda`, the `aws-sigv4` crate) with the function's own
//!   credentials from its environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//!   `AWS_SESSION_TOKEN`, which Lambda sets from the execution role); `nextr deploy` lets
//!   the role invoke exactly the app's own `live` aliases.
//! - **How long**: until the calling invocation's deadline (noted by the Lambda loop through
//!   [`note_deadline`]) less the margin the runtime keeps to send its own answer.
//! - One HTTP client per process, built at the first rewrite and reused (connections are kept
//!   alive between invocations).
//!
//! All of it is compiled only with the crate feature `proxy` (`nextr build` turns it on for
//! apps with a `proxy.rs`); without it, [`forward`] answers [`InvokeError::NotBuiltIn`].
//!
//! [`LAMBDA_ENDPOINT_ENV`]: crate::manifest::LAMBDA_ENDPOINT_ENV
//! [`STAGE_ENV`]: crate::manifest::STAGE_ENV
//! [`deployed_function_name`]: crate::manifest::deployed_function_name

#[cfg(feature = "proxy")]
mod client;
#[cfg(feature = "proxy")]
mod event;
#[cfg(all(test, feature = "proxy"))]
mod tests;

use std::sync::Mutex;
use std::time::Instant;

use crate::dispatch::Outgoing;

/// The rewritten request a proxy hands to another function.
#[derive(Debug, Clone)]
pub(crate) struct Forward {
    /// The request's method.
    pub method: http::Method,
    /// The rewritten target: raw path plus `?` and the raw query string when there is one.
    pub target: String,
    /// The request's headers, as the proxy left them.
    pub headers: http::HeaderMap,
    /// The request's body.
    pub body: bytes::Bytes,
    /// The original request's id (the event's `requestContext.requestId`).
    pub request_id: String,
    /// The client's address (`requestContext.http.sourceIp`).
    pub source_ip: Option<String>,
    /// How many rewrites to another function led here, this one included.
    pub depth: u32,
}

/// Why a rewrite to another function got no HTTP answer from it; each says what failed and
/// what to do.
#[derive(Debug, thiserror::Error)]
// Without the `proxy` feature only `NotBuiltIn` is made; with it, every variant but that one.
#[cfg_attr(not(feature = "proxy"), allow(dead_code))]
pub(crate) enum InvokeError {
    /// The bundle was built without the `proxy` feature.
    #[cfg_attr(feature = "proxy", allow(dead_code))]
    #[error("cannot invoke {function} for a rewrite: this bundle was built without nextr's `proxy` feature, which `nextr build` turns on for apps with a proxy.rs; build the app again with `nextr build`")]
    NotBuiltIn {
        /// The manifest name of the target.
        function: String,
    },
    /// No endpoint to call: neither variable is set.
    #[error("cannot invoke {function}: neither NEXTR_LAMBDA_ENDPOINT nor AWS_REGION is set (Lambda always sets AWS_REGION; outside Lambda, run the app with `nextr dev`)")]
    NoEndpoint {
        /// The target's deployed name.
        function: String,
    },
    /// `NEXTR_LAMBDA_ENDPOINT` is not an `http://` or `https://` URL.
    #[error("NEXTR_LAMBDA_ENDPOINT={endpoint:?} is not an http:// or https:// URL: {reason}")]
    InvalidEndpoint {
        /// The variable's value.
        endpoint: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A credential variable is missing.
    #[error("cannot sign the Invoke call to {function}: {variable} is not set (Lambda sets it from the function's execution role)")]
    NoCredentials {
        /// The target's deployed name.
        function: String,
        /// The missing variable.
        variable: &'static str,
    },
    /// SigV4 refused to sign the request.
    #[error("cannot sign the Invoke call to {function}: {reason}")]
    Signing {
        /// The target's deployed name.
        function: String,
        /// The signer's message.
        reason: String,
    },
    /// The event is over Lambda's synchronous payload limit.
    #[error("the rewritten request to {function} is {bytes} bytes as a Lambda event, over Lambda's 6 MB limit for synchronous invocations")]
    RequestTooLarge {
        /// The target's deployed name.
        function: String,
        /// The event's size.
        bytes: usize,
    },
    /// No TLS configuration for an `https://` endpoint.
    #[error("cannot open HTTPS connections to {endpoint}: {reason} (the function reads the system's CA certificates, as provided.al2023 ships them in /etc/pki/tls/certs)")]
    Tls {
        /// The endpoint.
        endpoint: String,
        /// Why.
        reason: String,
    },
    /// The endpoint could not be reached, or the connection broke.
    #[error("cannot reach the Lambda endpoint {endpoint} to invoke {function}: {reason} (check NEXTR_LAMBDA_ENDPOINT, or the function's network access to Lambda's regional endpoint)")]
    Connect {
        /// The target's deployed name.
        function: String,
        /// The endpoint.
        endpoint: String,
        /// The client's message.
        reason: String,
    },
    /// No answer before the calling invocation's deadline.
    #[error("{function} did not answer within the {left_ms} ms this invocation had left")]
    Timeout {
        /// The target's deployed name.
        function: String,
        /// The time there was.
        left_ms: u128,
    },
    /// The execution role may not invoke the target.
    #[error("the execution role may not invoke {function} ({message}): it needs lambda:InvokeFunction on the function's `live` alias, which `nextr deploy` grants its own role for apps with a proxy.rs (with `nextr deploy --role`, grant it to that role)")]
    AccessDenied {
        /// The target's deployed name.
        function: String,
        /// Lambda's message.
        message: String,
    },
    /// No such function or alias.
    #[error("there is no function {function} with a `live` alias ({message}): deploy the app again (`nextr deploy`) so that every route's function exists in this stage")]
    NotFound {
        /// The target's deployed name.
        function: String,
        /// Lambda's message.
        message: String,
    },
    /// Lambda throttled the invocation.
    #[error("Lambda throttled the invocation of {function} ({message}): the account's or the function's concurrency limit is reached")]
    Throttled {
        /// The target's deployed name.
        function: String,
        /// Lambda's message.
        message: String,
    },
    /// Any other refusal of the Invoke API.
    #[error("Lambda answered {status} {error_type} to the invocation of {function}: {message}")]
    Service {
        /// The target's deployed name.
        function: String,
        /// The HTTP status.
        status: u16,
        /// `X-Amzn-ErrorType`.
        error_type: String,
        /// Lambda's message.
        message: String,
    },
    /// The target ran and failed (`X-Amz-Function-Error`): a crash, a timeout, an init error.
    #[error("{function} failed: {error_type}: {message} (see that function's logs)")]
    Function {
        /// The target's deployed name.
        function: String,
        /// The error document's `errorType`.
        error_type: String,
        /// Its `errorMessage`.
        message: String,
    },
    /// The target answered something that is not a payload 2.0 response.
    #[error("{function} did not answer with an HTTP response (payload format 2.0): {reason}")]
    InvalidResponse {
        /// The target's deployed name.
        function: String,
        /// What is wrong.
        reason: String,
    },
}

/// The deadline of the invocation this process is serving (Lambda runs one at a time), for
/// the rewrites it makes.
static DEADLINE: Mutex<Option<Instant>> = Mutex::new(None);

/// Notes the deadline of the invocation starting now (the Lambda loop calls it for every
/// event), so that a rewrite made while serving it waits no longer than it may.
pub(crate) fn note_deadline(deadline: Option<Instant>) {
    *DEADLINE.lock().unwrap_or_else(|e| e.into_inner()) = deadline;
}

/// When a rewrite must have its answer: the invocation's deadline less the margin the
/// runtime keeps to send its own answer; without a noted deadline, Lambda's longest timeout.
#[cfg(feature = "proxy")]
fn answer_by() -> Instant {
    let noted = *DEADLINE.lock().unwrap_or_else(|e| e.into_inner());
    let now = Instant::now();
    let longest = std::time::Duration::from_secs(u64::from(*crate::limits::LAMBDA_TIMEOUT_S.end()));
    match noted {
        Some(d) => d
            .checked_sub(crate::dispatch::DEADLINE_MARGIN)
            .unwrap_or(now)
            .max(now),
        None => now + longest,
    }
}

/// Invokes the function `function` (its manifest name) with the rewritten request and
/// returns its answer (see the module's documentation).
#[cfg(feature = "proxy")]
pub(crate) async fn forward(function: &str, request: Forward) -> Result<Outgoing, InvokeError> {
    let setup = client::Setup::from_env();
    forward_with(&setup, function, &request, answer_by()).await
}

/// [`forward`] without the `proxy` feature: it says so.
#[cfg(not(feature = "proxy"))]
pub(crate) async fn forward(function: &str, request: Forward) -> Result<Outgoing, InvokeError> {
    let _ = request;
    Err(InvokeError::NotBuiltIn {
        function: function.to_owned(),
    })
}

/// [`forward`] with its environment and deadline given.
#[cfg(feature = "proxy")]
async fn forward_with(
    setup: &client::Setup,
    function: &str,
    request: &Forward,
    answer_by: Instant,
) -> Result<Outgoing, InvokeError> {
    let name = crate::manifest::deployed_function_name(function, setup.stage.as_deref());
    let payload = event::encode(request, std::time::SystemTime::now());
    if payload.len() > crate::limits::LAMBDA_PAYLOAD_BYTES {
        return Err(InvokeError::RequestTooLarge {
            function: name,
            bytes: payload.len(),
        });
    }
    let reply = client::invoke(setup, &name, payload, request.depth, answer_by).await?;
    if reply.function_error.is_some() {
        let (error_type, message) = event::error_document(&reply.payload);
        return Err(InvokeError::Function {
            function: name,
            error_type,
            message,
        });
    }
    event::outgoing(&reply.payload).map_err(|reason| InvokeError::InvalidResponse {
        function: name,
        reason,
    })
}
