//! What the runtime's own AWS calls share (features `proxy` and `secrets`): the function's
//! credentials from its environment, SigV4 (the `aws-sigv4` crate), and one hyper client per
//! process over rustls (ring, the system's root certificates). A proxy's rewrite calls
//! Lambda's `Invoke` with it ([`crate::proxy`]); a function with secrets calls SSM and Secrets
//! Manager at start ([`crate::secrets`]).

use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::Request;
use http_body_util::Full;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};

/// How long an idle kept-alive connection is reused: AWS endpoints close idle connections
/// after a while, and a frozen execution environment does not notice.
const POOL_IDLE: Duration = Duration::from_secs(20);

/// The function's credentials, as Lambda sets them from the execution role.
#[derive(Debug, Clone, Default)]
pub(crate) struct Credentials {
    /// `AWS_ACCESS_KEY_ID`.
    pub(crate) access_key: Option<String>,
    /// `AWS_SECRET_ACCESS_KEY`.
    pub(crate) secret_key: Option<String>,
    /// `AWS_SESSION_TOKEN` (Lambda always sets one; long-term keys have none).
    pub(crate) session_token: Option<String>,
}

impl Credentials {
    /// The process's environment.
    pub(crate) fn from_env() -> Self {
        Credentials {
            access_key: var("AWS_ACCESS_KEY_ID"),
            secret_key: var("AWS_SECRET_ACCESS_KEY"),
            session_token: var("AWS_SESSION_TOKEN"),
        }
    }
}

/// A variable of the process's environment, `None` when unset or empty.
pub(crate) fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Why a request could not be signed.
#[derive(Debug)]
pub(crate) enum SignError {
    /// A credential variable is missing.
    NoCredentials(&'static str),
    /// SigV4 refused (its message).
    Signing(String),
}

/// The HTTP client every AWS call of the process goes through.
pub(crate) type HttpClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// The process's client, and why HTTPS cannot work when no root certificate was found
/// (plain HTTP, `nextr dev`'s endpoint or moto's, still can).
pub(crate) struct Shared {
    /// The client.
    pub(crate) http: HttpClient,
    /// Why `https://` endpoints cannot be reached, when they cannot.
    pub(crate) no_roots: Option<String>,
}

/// The one client of the process, built at its first AWS call.
pub(crate) fn shared() -> Result<&'static Shared, String> {
    static SHARED: OnceLock<Result<Shared, String>> = OnceLock::new();
    SHARED
        .get_or_init(build_client)
        .as_ref()
        .map_err(Clone::clone)
}

fn build_client() -> Result<Shared, String> {
    // rustls 0.23.48 deprecates its ring provider (no post-quantum key exchange) in favour of
    // aws-lc-rs, a much longer C build in every bundle that calls AWS; ring's TLS 1.3 with
    // classical key exchange is enough for a call to AWS's own endpoints.
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

/// Signs the request in place (`Authorization`, `X-Amz-Date`, `X-Amz-Security-Token`) for
/// `service` in `region`; `body` is what will be sent.
pub(crate) fn sign(
    credentials: &Credentials,
    service: &str,
    region: &str,
    request: &mut Request<Full<Bytes>>,
    body: &[u8],
) -> Result<(), SignError> {
    use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
    use aws_sigv4::sign::v4;

    let access_key = credentials
        .access_key
        .clone()
        .ok_or(SignError::NoCredentials("AWS_ACCESS_KEY_ID"))?;
    let secret_key = credentials
        .secret_key
        .clone()
        .ok_or(SignError::NoCredentials("AWS_SECRET_ACCESS_KEY"))?;
    let signing_error = |reason: String| SignError::Signing(reason);
    let identity = aws_credential_types::Credentials::new(
        access_key,
        secret_key,
        credentials.session_token.clone(),
        None,
        "nextr-function-environment",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
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

/// Checks an endpoint override (`http://` or `https://`, a host, no query) and returns it
/// without a trailing `/`; `Err` says what is wrong.
pub(crate) fn check_endpoint(endpoint: &str) -> Result<String, &'static str> {
    let base = endpoint.trim_end_matches('/');
    if !base.starts_with("http://") && !base.starts_with("https://") {
        return Err("it must start with http:// or https://");
    }
    let uri: http::Uri = base.parse().map_err(|_| "it does not parse")?;
    if uri.host().is_none_or(str::is_empty) {
        return Err("it names no host");
    }
    if uri.query().is_some() {
        return Err("it has a query");
    }
    Ok(base.to_owned())
}

/// An error with its causes (hyper's "client error (Connect)" says little alone).
pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
