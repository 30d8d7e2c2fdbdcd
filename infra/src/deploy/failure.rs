//! Why an AWS call failed, classified by what the user has to do about it.
//!
//! The SDK's own rendering (`DisplayErrorContext`) prints its whole error chain and then its
//! `Debug` form, about a kilobyte of connector internals for a missing credential. Here each
//! [`SdkError`] becomes an [`AwsFailure`]: a short cause for the error line and a
//! [`AwsFailure::fix`] naming the setting to change.

use std::any::Any;
use std::error::Error;
use std::fmt;

use aws_credential_types::provider::error::CredentialsError;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// Why an AWS call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AwsFailure {
    /// The credential chain found no credentials, or could not load them.
    NoCredentials {
        /// Why loading failed, when it is more than "none found" (a broken profile).
        detail: Option<String>,
    },
    /// AWS refused the credentials: unknown key, bad signature, expired token.
    BadCredentials {
        /// AWS's error code (`UnrecognizedClientException`, `ExpiredToken`, …).
        code: String,
        /// AWS's message.
        message: Option<String>,
    },
    /// The credentials are valid but not allowed to make the call.
    AccessDenied {
        /// AWS's error code (`AccessDenied`, `AccessDeniedException`, …).
        code: String,
        /// AWS's message.
        message: Option<String>,
    },
    /// No answer from the endpoint: connection refused, DNS, TLS.
    Unreachable {
        /// The innermost cause (`Connection refused (os error 111)`).
        detail: String,
    },
    /// The call timed out.
    TimedOut,
    /// The endpoint refused the request (HTTP 401 or 403) without saying why: credentials.
    Refused {
        /// The HTTP status of the answer.
        status: u16,
    },
    /// The endpoint answered, but not as an AWS API does (no error code, unparsable).
    BadAnswer {
        /// The HTTP status of the answer.
        status: Option<u16>,
    },
    /// The SDK could not build the request (a missing region or endpoint, typically).
    Construction {
        /// The cause.
        detail: String,
    },
    /// Any other AWS error code.
    Service {
        /// AWS's error code.
        code: String,
        /// AWS's message.
        message: Option<String>,
    },
    /// Anything else, as one line (an interrupted deploy, an invalid request value).
    Other(String),
}

impl fmt::Display for AwsFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AwsFailure::NoCredentials { detail: None } => write!(f, "no AWS credentials found"),
            AwsFailure::NoCredentials {
                detail: Some(detail),
            } => write!(f, "cannot load AWS credentials: {detail}"),
            AwsFailure::BadCredentials { code, message }
            | AwsFailure::AccessDenied { code, message }
            | AwsFailure::Service { code, message } => match message {
                Some(m) => write!(f, "{code}: {m}"),
                None => write!(f, "{code}"),
            },
            AwsFailure::Unreachable { detail } => write!(f, "cannot connect to AWS: {detail}"),
            AwsFailure::TimedOut => write!(f, "AWS did not answer in time"),
            AwsFailure::Refused { status } => write!(
                f,
                "the endpoint refused the request (HTTP {status}) without an AWS error code"
            ),
            AwsFailure::BadAnswer { status: Some(s) } => {
                write!(f, "the endpoint answered HTTP {s}, not an AWS API answer")
            }
            AwsFailure::BadAnswer { status: None } => {
                write!(f, "the endpoint's answer is not an AWS API answer")
            }
            AwsFailure::Construction { detail } => write!(f, "cannot build the request: {detail}"),
            AwsFailure::Other(text) => write!(f, "{text}"),
        }
    }
}

impl AwsFailure {
    /// What to do about it, as one line; `None` when the cause says it all.
    pub fn fix(&self) -> Option<&'static str> {
        match self {
            AwsFailure::NoCredentials { .. } => Some(
                "give nextr AWS credentials: set AWS_PROFILE to a profile (`aws configure` or \
                 `aws sso login` makes one), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
            ),
            AwsFailure::BadCredentials { code, .. } if code.starts_with("Expired") => Some(
                "the credentials have expired: refresh them (`aws sso login`, or a new \
                 AWS_SESSION_TOKEN) and run the command again",
            ),
            AwsFailure::BadCredentials { .. } | AwsFailure::Refused { .. } => Some(
                "AWS does not accept these credentials: check AWS_PROFILE or \
                 AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (`aws sts get-caller-identity` tests them)",
            ),
            AwsFailure::AccessDenied { .. } => Some(
                "the credentials lack a permission this command needs: use a role or user \
                 allowed to manage Lambda, API Gateway and IAM roles (AWS_PROFILE)",
            ),
            AwsFailure::Unreachable { .. } | AwsFailure::TimedOut => Some(
                "check the network and the region (--region, AWS_REGION or `region` in \
                 nextr.toml); with --endpoint-url or AWS_ENDPOINT_URL, check that its server runs",
            ),
            AwsFailure::BadAnswer { .. } => Some(
                "check the region (--region, AWS_REGION or `region` in nextr.toml) and, when \
                 set, that --endpoint-url or AWS_ENDPOINT_URL points at an AWS-compatible API",
            ),
            AwsFailure::Construction { .. } => Some(
                "check the region (--region, AWS_REGION or `region` in nextr.toml) and \
                 --endpoint-url or AWS_ENDPOINT_URL",
            ),
            AwsFailure::Service { .. } | AwsFailure::Other(_) => None,
        }
    }

    /// Classifies a failed SDK call.
    pub fn of<E, R>(err: &SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + Error + 'static,
        R: fmt::Debug + 'static,
    {
        if let Some(credentials) = find::<CredentialsError>(err) {
            return no_credentials(credentials);
        }
        match err {
            SdkError::ServiceError(service) => {
                let e = service.err();
                if let Some(code) = e.code() {
                    return by_code(code, e.message());
                }
                // An AWS-compatible server may wrap its XML error differently than the
                // protocol says (moto's `<Errors><Error>`): its code still says what is wrong.
                if let Some((code, message)) = body_code(service.raw()) {
                    return by_code(&code, message.as_deref());
                }
                match status(service.raw()) {
                    Some(status @ (401 | 403)) => AwsFailure::Refused { status },
                    status => AwsFailure::BadAnswer { status },
                }
            }
            SdkError::ResponseError(response) => AwsFailure::BadAnswer {
                status: status(response.raw()),
            },
            SdkError::TimeoutError(_) => AwsFailure::TimedOut,
            SdkError::DispatchFailure(dispatch) if dispatch.is_timeout() => AwsFailure::TimedOut,
            SdkError::DispatchFailure(dispatch) if dispatch.is_io() => AwsFailure::Unreachable {
                detail: innermost(err),
            },
            SdkError::ConstructionFailure(_) => AwsFailure::Construction {
                detail: causes(err),
            },
            // `Other` dispatch failures (an interceptor's error) and future variants.
            _ => AwsFailure::Other(causes(err)),
        }
    }
}

impl From<String> for AwsFailure {
    fn from(text: String) -> Self {
        AwsFailure::Other(text)
    }
}

impl From<&str> for AwsFailure {
    fn from(text: &str) -> Self {
        AwsFailure::Other(text.to_string())
    }
}

/// An error code AWS answered with, by what it means for the user.
fn by_code(code: &str, message: Option<&str>) -> AwsFailure {
    let code_s = code.to_string();
    let message = message.map(str::to_string);
    match code {
        "UnrecognizedClientException"
        | "InvalidClientTokenId"
        | "InvalidSignatureException"
        | "SignatureDoesNotMatch"
        | "IncompleteSignature"
        | "MissingAuthenticationToken"
        | "MissingAuthenticationTokenException"
        | "InvalidAccessKeyId"
        | "InvalidToken"
        | "AuthFailure"
        | "ExpiredToken"
        | "ExpiredTokenException"
        | "RequestExpired" => AwsFailure::BadCredentials {
            code: code_s,
            message,
        },
        "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" => {
            AwsFailure::AccessDenied {
                code: code_s,
                message,
            }
        }
        _ => AwsFailure::Service {
            code: code_s,
            message,
        },
    }
}

/// A credentials failure: "none found" unless the configuration itself is broken.
fn no_credentials(err: &CredentialsError) -> AwsFailure {
    let detail = match err {
        CredentialsError::InvalidConfiguration(_) => err.source().map(|s| s.to_string()),
        _ => None,
    };
    AwsFailure::NoCredentials { detail }
}

/// The first error of type `T` in the chain below `err`.
fn find<'a, T: Error + 'static>(err: &'a (dyn Error + 'static)) -> Option<&'a T> {
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(t) = e.downcast_ref::<T>() {
            return Some(t);
        }
        next = e.source();
    }
    None
}

/// The message of the deepest cause (the OS's "Connection refused", the resolver's error).
fn innermost(err: &(dyn Error + 'static)) -> String {
    let mut last = err;
    while let Some(next) = last.source() {
        last = next;
    }
    one_line(&last.to_string())
}

/// The causes below the SDK's own variant name, joined: no `Debug` dump.
fn causes(err: &(dyn Error + 'static)) -> String {
    let mut parts = Vec::new();
    let mut next = err.source();
    while let Some(e) = next {
        let text = one_line(&e.to_string());
        // Wrappers often repeat their source's text (`other: x` over `x`).
        if !text.is_empty() && !parts.iter().any(|p: &String| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    if parts.is_empty() {
        one_line(&err.to_string())
    } else {
        parts.join(": ")
    }
}

/// Text on one line: an error message from a server may hold anything.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The `<Code>` and `<Message>` of an XML error body the SDK could not place.
fn body_code<R: 'static>(raw: &R) -> Option<(String, Option<String>)> {
    let body = (raw as &dyn Any)
        .downcast_ref::<HttpResponse>()?
        .body()
        .bytes()?;
    let text = std::str::from_utf8(body).ok()?;
    let element = |name: &str| {
        let open = format!("<{name}>");
        let start = text.find(&open)? + open.len();
        let len = text[start..].find(&format!("</{name}>"))?;
        Some(one_line(&text[start..start + len]))
    };
    let code = element("Code")?;
    let plausible = !code.is_empty()
        && code.len() <= 100
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_');
    plausible.then(|| {
        (
            code,
            element("Message").map(|m| m.chars().take(300).collect()),
        )
    })
}

/// The HTTP status of a raw response, when it is the SDK's HTTP response type.
fn status<R: 'static>(raw: &R) -> Option<u16> {
    (raw as &dyn Any)
        .downcast_ref::<HttpResponse>()
        .map(|r| r.status().as_u16())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_runtime_api::client::result::ConnectorError;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    /// An SDK-like operation error carrying only metadata.
    #[derive(Debug)]
    struct OpError(ErrorMetadata);

    impl fmt::Display for OpError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "operation error")
        }
    }

    impl Error for OpError {}

    impl ProvideErrorMetadata for OpError {
        fn meta(&self) -> &ErrorMetadata {
            &self.0
        }
    }

    fn response(status: u16) -> HttpResponse {
        HttpResponse::new(
            status.try_into().unwrap(),
            SdkBody::from("<html>oops</html>"),
        )
    }

    fn service(code: Option<&str>, status: u16) -> SdkError<OpError, HttpResponse> {
        let mut meta = ErrorMetadata::builder();
        if let Some(code) = code {
            meta = meta.code(code).message("the message");
        }
        SdkError::service_error(OpError(meta.build()), response(status))
    }

    #[test]
    fn service_codes_by_meaning() {
        let f = AwsFailure::of(&service(Some("UnrecognizedClientException"), 403));
        assert!(matches!(f, AwsFailure::BadCredentials { .. }), "{f:?}");
        assert_eq!(f.to_string(), "UnrecognizedClientException: the message");
        assert!(f.fix().unwrap().contains("AWS_PROFILE"));
        let f = AwsFailure::of(&service(Some("ExpiredToken"), 403));
        assert!(f.fix().unwrap().contains("expired"));
        let f = AwsFailure::of(&service(Some("AccessDeniedException"), 403));
        assert!(matches!(f, AwsFailure::AccessDenied { .. }), "{f:?}");
        let f = AwsFailure::of(&service(Some("ConflictException"), 409));
        assert!(matches!(f, AwsFailure::Service { .. }) && f.fix().is_none());
        let f = AwsFailure::of(&service(None, 500));
        assert_eq!(f, AwsFailure::BadAnswer { status: Some(500) });
        let f = AwsFailure::of(&service(None, 403));
        assert_eq!(f, AwsFailure::Refused { status: 403 });
        assert!(f.fix().unwrap().contains("credentials"));
    }

    #[test]
    fn a_code_the_sdk_missed_is_read_from_the_xml_body() {
        let body = "<ErrorResponse><Errors><Error><Code>InvalidClientTokenId</Code>\
                    <Message>The security token included in the request is invalid.</Message>\
                    </Error></Errors></ErrorResponse>";
        let raw = HttpResponse::new(403.try_into().unwrap(), SdkBody::from(body));
        let err: SdkError<OpError, HttpResponse> =
            SdkError::service_error(OpError(ErrorMetadata::builder().build()), raw);
        let f = AwsFailure::of(&err);
        assert!(matches!(f, AwsFailure::BadCredentials { .. }), "{f:?}");
        assert_eq!(
            f.to_string(),
            "InvalidClientTokenId: The security token included in the request is invalid."
        );
    }

    #[test]
    fn missing_credentials_are_found_below_the_connector() {
        let err: SdkError<OpError, HttpResponse> = SdkError::dispatch_failure(
            ConnectorError::other(CredentialsError::not_loaded_no_source().into(), None),
        );
        let f = AwsFailure::of(&err);
        assert_eq!(f, AwsFailure::NoCredentials { detail: None });
        assert!(f.fix().unwrap().contains("aws configure"));
    }

    #[test]
    fn io_failures_are_unreachable_with_the_os_reason() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "Connection refused");
        let err: SdkError<OpError, HttpResponse> =
            SdkError::dispatch_failure(ConnectorError::io(io.into()));
        let f = AwsFailure::of(&err);
        assert_eq!(
            f,
            AwsFailure::Unreachable {
                detail: "Connection refused".into()
            }
        );
        assert_eq!(f.to_string(), "cannot connect to AWS: Connection refused");
    }

    #[test]
    fn other_failures_keep_their_causes_without_debug() {
        let err: SdkError<OpError, HttpResponse> = SdkError::dispatch_failure(
            ConnectorError::other("interrupted before Lambda.CreateFunction".into(), None),
        );
        let text = AwsFailure::of(&err).to_string();
        assert!(
            text.contains("interrupted before Lambda.CreateFunction"),
            "{text}"
        );
        assert!(
            !text.contains('{') && !text.contains("ConnectorError"),
            "{text}"
        );
    }
}
