//! Lambda's `Invoke` API over HTTP: the endpoint from the environment, the signed call
//! through the process's AWS client ([`crate::aws`]), and Lambda's answers and errors.

use std::time::Instant;

use base64::Engine as _;
use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full, Limited};

use super::InvokeError;
use crate::aws::{error_chain, shared, Credentials, SignError};
use crate::manifest::{LAMBDA_ENDPOINT_ENV, STAGE_ENV};

/// The alias every deployed function is invoked through.
const QUALIFIER: &str = "live";

/// SigV4's name for Lambda.
const SERVICE: &str = "lambda";

/// The client context's key for the rewrite depth (read by the target's runtime).
pub(super) const DEPTH_KEY: &str = "nextr-rewrite-depth";

/// The most of an answer read: Lambda's synchronous limit, with room for its envelope.
const MAX_ANSWER_BYTES: usize = 2 * crate::limits::LAMBDA_PAYLOAD_BYTES;

/// What an invocation needs from the function's environment, read once per rewrite.
#[derive(Debug, Clone, Default)]
pub(super) struct Setup {
    /// [`STAGE_ENV`]: the stage the app is deployed to (`None` in `nextr dev`).
    pub(super) stage: Option<String>,
    /// [`LAMBDA_ENDPOINT_ENV`], when set.
    pub(super) endpoint: Option<String>,
    /// `AWS_REGION`.
    pub(super) region: Option<String>,
    /// The function's credentials.
    pub(super) credentials: Credentials,
}

impl Setup {
    /// The function's environment.
    pub(super) fn from_env() -> Self {
        use crate::aws::var;
        Setup {
            stage: var(STAGE_ENV),
            endpoint: var(LAMBDA_ENDPOINT_ENV),
            region: var("AWS_REGION"),
            credentials: Credentials::from_env(),
        }
    }

    /// The endpoint's base URL (no trailing `/`) and the region to sign for.
    fn endpoint(&self, function: &str) -> Result<(String, String), InvokeError> {
        // A local endpoint (`nextr dev`) checks no signature; any region will do.
        let region = self
            .region
            .clone()
            .unwrap_or_else(|| "us-east-1".to_owned());
        let Some(endpoint) = &self.endpoint else {
            return match &self.region {
                Some(region) => Ok((
                    format!("https://lambda.{region}.amazonaws.com"),
                    region.clone(),
                )),
                None => Err(InvokeError::NoEndpoint {
                    function: function.to_owned(),
                }),
            };
        };
        let invalid = |reason: &str| InvokeError::InvalidEndpoint {
            endpoint: endpoint.clone(),
            reason: reason.to_owned(),
        };
        let base = crate::aws::check_endpoint(endpoint).map_err(invalid)?;
        Ok((base, region))
    }
}

/// What the Invoke API answered for an invocation that ran.
pub(super) struct Invoked {
    /// `X-Amz-Function-Error` (`Unhandled`, `Handled`): the payload is an error document.
    pub(super) function_error: Option<String>,
    /// The function's response payload, or its error document.
    pub(super) payload: Bytes,
}

/// `X-Amz-Client-Context`: base64 of `{"custom":{"nextr-rewrite-depth":"N"}}`.
pub(super) fn client_context(depth: u32) -> String {
    let context = serde_json::json!({ "custom": { DEPTH_KEY: depth.to_string() } });
    base64::engine::general_purpose::STANDARD.encode(context.to_string())
}

/// Invokes `function` (its deployed name) with `payload`, answering by `answer_by`.
pub(super) async fn invoke(
    setup: &Setup,
    function: &str,
    payload: Vec<u8>,
    depth: u32,
    answer_by: Instant,
) -> Result<Invoked, InvokeError> {
    let (base, region) = setup.endpoint(function)?;
    let url = format!("{base}/2015-03-31/functions/{function}/invocations?Qualifier={QUALIFIER}");
    let connect_error = |reason: String| InvokeError::Connect {
        function: function.to_owned(),
        endpoint: base.clone(),
        reason,
    };
    let shared = shared().map_err(|reason| InvokeError::Tls {
        endpoint: base.clone(),
        reason,
    })?;
    if let (true, Some(reason)) = (base.starts_with("https://"), &shared.no_roots) {
        return Err(InvokeError::Tls {
            endpoint: base.clone(),
            reason: reason.clone(),
        });
    }
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(&url)
        .header(CONTENT_TYPE, "application/json")
        .header("x-amz-invocation-type", "RequestResponse")
        .header("x-amz-client-context", client_context(depth))
        .body(Full::new(Bytes::new()))
        .map_err(|e| connect_error(e.to_string()))?;
    sign(setup, &region, function, &mut request, &payload)?;
    *request.body_mut() = Full::new(Bytes::from(payload));

    let left = answer_by.saturating_duration_since(Instant::now());
    let exchange = async {
        let response = shared
            .http
            .request(request)
            .await
            .map_err(|e| connect_error(error_chain(&e)))?;
        let (parts, body) = response.into_parts();
        let body = Limited::new(body, MAX_ANSWER_BYTES)
            .collect()
            .await
            .map_err(|e| connect_error(format!("reading the answer: {e}")))?
            .to_bytes();
        Ok::<_, InvokeError>((parts, body))
    };
    let (parts, body) =
        tokio::time::timeout_at(tokio::time::Instant::from_std(answer_by), exchange)
            .await
            .map_err(|_elapsed| InvokeError::Timeout {
                function: function.to_owned(),
                left_ms: left.as_millis(),
            })??;
    if parts.status == StatusCode::OK {
        let function_error = parts
            .headers
            .get("x-amz-function-error")
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        return Ok(Invoked {
            function_error,
            payload: body,
        });
    }
    Err(refusal(function, parts.status, &parts.headers, &body))
}

/// Signs the request in place for Lambda.
fn sign(
    setup: &Setup,
    region: &str,
    function: &str,
    request: &mut Request<Full<Bytes>>,
    body: &[u8],
) -> Result<(), InvokeError> {
    crate::aws::sign(&setup.credentials, SERVICE, region, request, body).map_err(|e| match e {
        SignError::NoCredentials(variable) => InvokeError::NoCredentials {
            function: function.to_owned(),
            variable,
        },
        SignError::Signing(reason) => InvokeError::Signing {
            function: function.to_owned(),
            reason,
        },
    })
}

/// Lambda's refusal (`X-Amzn-ErrorType`, the body's `message`) as an [`InvokeError`].
fn refusal(
    function: &str,
    status: StatusCode,
    headers: &http::HeaderMap,
    body: &[u8],
) -> InvokeError {
    let doc: Option<serde_json::Map<String, serde_json::Value>> = serde_json::from_slice(body).ok();
    let field = |key: &str| {
        doc.as_ref()
            .and_then(|d| d.get(key))
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    };
    // `X-Amzn-ErrorType: AccessDeniedException:http://internal.amazon.com/…`.
    let error_type = headers
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(':').next().unwrap_or(v).to_owned())
        .or_else(|| field("__type"))
        .or_else(|| field("code"))
        .unwrap_or_default();
    let message = field("message")
        .or_else(|| field("Message"))
        .unwrap_or_else(|| String::from_utf8_lossy(body).into_owned());
    let function = function.to_owned();
    match (status.as_u16(), error_type.as_str()) {
        (_, "AccessDeniedException") | (403, _) => InvokeError::AccessDenied { function, message },
        (_, "ResourceNotFoundException") | (404, _) => InvokeError::NotFound { function, message },
        (_, "TooManyRequestsException") | (429, _) => InvokeError::Throttled { function, message },
        _ => InvokeError::Service {
            function,
            status: status.as_u16(),
            error_type: if error_type.is_empty() {
                status.canonical_reason().unwrap_or("Error").to_owned()
            } else {
                error_type
            },
            message,
        },
    }
}
