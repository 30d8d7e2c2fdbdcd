//! Lambda's `Invoke` API over HTTP: the endpoint and credentials from the environment, SigV4
//! (the `aws-sigv4` crate), one hyper client per process over rustls (ring, the system's
//! root certificates), and Lambda's answers and errors.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;
use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use super::InvokeError;
use crate::manifest::{LAMBDA_ENDPOINT_ENV, STAGE_ENV};

/// The alias every deployed function is invoked through.
const QUALIFIER: &str = "live";

/// SigV4's name for Lambda.
const SERVICE: &str = "lambda";

/// The client context's key for the rewrite depth (read by the target's runtime).
pub(super) const DEPTH_KEY: &str = "nextr-rewrite-depth";

/// The most of an answer read: Lambda's synchronous limit, with room for its envelope.
const MAX_ANSWER_BYTES: usize = 2 * crate::limits::LAMBDA_PAYLOAD_BYTES;

/// How long an idle kept-alive connection is reused: Lambda's endpoints close idle
/// connections after a while, and a frozen execution environment does not notice.
const POOL_IDLE: Duration = Duration::from_secs(20);

/// What an invocation needs from the function's environment, read once per rewrite.
#[derive(Debug, Clone, Default)]
pub(super) struct Setup {
    /// [`STAGE_ENV`]: the stage the app is deployed to (`None` in `nextr dev`).
    pub(super) stage: Option<String>,
    /// [`LAMBDA_ENDPOINT_ENV`], when set.
    pub(super) endpoint: Option<String>,
    /// `AWS_REGION`.
    pub(super) region: Option<String>,
    /// `AWS_ACCESS_KEY_ID`.
    pub(super) access_key: Option<String>,
    /// `AWS_SECRET_ACCESS_KEY`.
    pub(super) secret_key: Option<String>,
    /// `AWS_SESSION_TOKEN` (Lambda always sets one; long-term keys have none).
    pub(super) session_token: Option<String>,
}

impl Setup {
    /// The function's environment.
    pub(super) fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Setup {
            stage: var(STAGE_ENV),
            endpoint: var(LAMBDA_ENDPOINT_ENV),
            region: var("AWS_REGION"),
            access_key: var("AWS_ACCESS_KEY_ID"),
            secret_key: var("AWS_SECRET_ACCESS_KEY"),
            session_token: var("AWS_SESSION_TOKEN"),
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
        let base = endpoint.trim_end_matches('/');
        if !base.starts_with("http://") && !base.starts_with("https://") {
            return Err(invalid("it must start with http:// or https://"));
        }
        let uri: http::Uri = base.parse().map_err(|_| invalid("it does not parse"))?;
        if uri.host().is_none_or(str::is_empty) {
            return Err(invalid("it names no host"));
        }
        if uri.query().is_some() {
            return Err(invalid("it has a query"));
        }
        Ok((base.to_owned(), region))
    }
}

/// What the Invoke API answered for an invocation that ran.
pub(super) struct Invoked {
    /// `X-Amz-Function-Error` (`Unhandled`, `Handled`): the payload is an error document.
    pub(super) function_error: Option<String>,
    /// The function's response payload, or its error document.
    pub(super) payload: Bytes,
}

type HttpClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// The process's client, and why HTTPS cannot work when no root certificate was found
/// (plain HTTP, `nextr dev`'s endpoint, still can).
struct Shared {
    http: HttpClient,
    no_roots: Option<String>,
}

/// The one client of the process, built at the first rewrite.
fn shared() -> Result<&'static Shared, String> {
    static SHARED: OnceLock<Result<Shared, String>> = OnceLock::new();
    SHARED
        .get_or_init(build_client)
        .as_ref()
        .map_err(Clone::clone)
}

fn build_client() -> Result<Shared, String> {
    // rustls 0.23.48 deprecates its ring provider (no post-quantum key exchange) in favour of
    // aws-lc-rs, a much longer C build in every bundle of an app with a proxy; ring's TLS 1.3
    // with classical key exchange is enough for a call to Lambda's own endpoint.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    let (added, _ignored) = roots.add_parsable_certificates(native.certs);
    let no_roots = (added == 0).then(|| {
        let errors: Vec<String> = native.errors.iter().map(ToString::to_string).collect();
        if errors.is_empty() {
            "no CA certificate was found on this system".to_owned()
        } else {
            format!("no CA certificate could be loaded ({})", errors.join("; "))
        }
    });
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .build();
    let http = Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(POOL_IDLE)
        .build(connector);
    Ok(Shared { http, no_roots })
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

/// Signs the request in place (`Authorization`, `X-Amz-Date`, `X-Amz-Security-Token`).
fn sign(
    setup: &Setup,
    region: &str,
    function: &str,
    request: &mut Request<Full<Bytes>>,
    body: &[u8],
) -> Result<(), InvokeError> {
    use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
    use aws_sigv4::sign::v4;

    let missing = |variable| InvokeError::NoCredentials {
        function: function.to_owned(),
        variable,
    };
    let access_key = setup
        .access_key
        .clone()
        .ok_or_else(|| missing("AWS_ACCESS_KEY_ID"))?;
    let secret_key = setup
        .secret_key
        .clone()
        .ok_or_else(|| missing("AWS_SECRET_ACCESS_KEY"))?;
    let signing_error = |reason: String| InvokeError::Signing {
        function: function.to_owned(),
        reason,
    };
    let identity = aws_credential_types::Credentials::new(
        access_key,
        secret_key,
        setup.session_token.clone(),
        None,
        "nextr-function-environment",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(SERVICE)
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| signing_error(e.to_string()))?
        .into();
    let uri = request.uri().to_string();
    let headers: Vec<(&str, &str)> = request
        .headers()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?)))
        .collect();
    let signable = SignableRequest::new(
        request.method().as_str(),
        uri,
        headers.into_iter(),
        SignableBody::Bytes(body),
    )
    .map_err(|e| signing_error(e.to_string()))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| signing_error(e.to_string()))?
        .into_parts();
    instructions.apply_to_request_http1x(request);
    Ok(())
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

/// An error with its causes (hyper's "client error (Connect)" says little alone).
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
