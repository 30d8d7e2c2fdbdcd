//! The gateway model: everything nextr knows about the API Gateway in front of the functions,
//! pure (no AWS SDK), in one place. Build asks it for route keys and the conflict analysis,
//! `nextr dev` for request → function selection, the event a function receives and how its
//! answer becomes HTTP, and deploy and the template for the gateway's resources and limits.
//!
//! One submodule per gateway kind ([`GatewayKind`], named in `nextr.toml` and recorded in the
//! manifest); [`Gateway`] dispatches on the kind, so a second kind (a REST API, for response
//! streaming) is one more variant and one more submodule, with nothing copied.

pub mod http_api;

pub use nextr::manifest::GatewayKind;

use http::StatusCode;
use nextr::manifest::Manifest;

use http_api::event::{ClientRequest, RequestMeta};
use http_api::response::{MalformedResponse, Mapped};
use http_api::{HttpApi, Routed, RouterError};

/// The gateway of one build, as its manifest describes it.
#[derive(Debug, Clone)]
pub enum Gateway {
    /// An HTTP API.
    Http(HttpApi),
}

impl Gateway {
    /// The gateway a manifest describes; a route key the gateway would refuse is an error.
    pub fn new(manifest: &Manifest) -> Result<Self, RouterError> {
        match manifest.gateway.kind {
            // TEMPORARY until the REST model lands (issue 12, same submission).
            GatewayKind::Http | GatewayKind::Rest => Ok(Gateway::Http(HttpApi::new(manifest)?)),
        }
    }

    /// Which kind.
    pub fn kind(&self) -> GatewayKind {
        match self {
            Gateway::Http(_) => GatewayKind::Http,
        }
    }

    /// Where the gateway sends a raw request target (path and query, as received).
    pub fn route(&self, target: &str) -> Routed<'_> {
        match self {
            Gateway::Http(api) => api.route(target),
        }
    }

    /// The event the function of a routed request receives.
    pub fn event(
        &self,
        req: &ClientRequest<'_>,
        routed: &Routed<'_>,
        meta: &RequestMeta,
    ) -> Option<Vec<u8>> {
        match self {
            Gateway::Http(api) => api.event(req, routed, meta),
        }
    }

    /// The HTTP response the gateway makes of a function's answer.
    pub fn response(&self, payload: bytes::Bytes) -> Result<Mapped, MalformedResponse> {
        match self {
            Gateway::Http(_) => http_api::response::map(payload),
        }
    }
}

/// The gateway's own answers, with the bodies API Gateway sends (the same for both kinds
/// of API).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatewayError {
    /// 400.
    BadRequest,
    /// 413.
    TooLarge,
    /// 431: the request line and header values are over the gateway's limit.
    HeadersTooLarge,
    /// 500: the function failed.
    FunctionFailed,
    /// 503: no answer within the integration timeout.
    Timeout,
}

impl GatewayError {
    /// Status and JSON body.
    pub fn parts(self) -> (StatusCode, &'static str) {
        match self {
            GatewayError::BadRequest => (StatusCode::BAD_REQUEST, r#"{"message":"Bad Request"}"#),
            GatewayError::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                r#"{"message":"Request Entity Too Large"}"#,
            ),
            GatewayError::HeadersTooLarge => (
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                r#"{"message":"HTTP header is larger than 10240 bytes."}"#,
            ),
            GatewayError::FunctionFailed => (
                StatusCode::INTERNAL_SERVER_ERROR,
                r#"{"message":"Internal Server Error"}"#,
            ),
            GatewayError::Timeout => (
                StatusCode::SERVICE_UNAVAILABLE,
                r#"{"message":"Service Unavailable"}"#,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_limit_answer_names_the_limit() {
        let (status, body) = GatewayError::HeadersTooLarge.parts();
        assert_eq!(status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
        assert!(body.contains(&nextr::limits::HTTP_API_HEADER_BYTES.to_string()));
    }
}
