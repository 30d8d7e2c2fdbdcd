//! The gateway model: everything nextr knows about the API Gateway in front of the functions,
//! pure (no AWS SDK), in one place. Build asks it for route keys and the conflict analysis,
//! `nextr dev` for request → function selection, the event a function receives and how its
//! answer becomes HTTP, and deploy and the template for the gateway's resources and limits.
//!
//! One submodule per gateway kind ([`GatewayKind`], named in `nextr.toml` and recorded in the
//! manifest): [`http_api`] (payload 2.0, route keys and the conflict analysis) and
//! [`rest_api`] (payload 1.0, a resource tree, streaming). [`Gateway`] dispatches on the kind;
//! [`Routed`] and [`GatewayError`] are shared, the answers' statuses and bodies per kind.

pub mod http_api;
pub mod rest_api;

pub use nextr::manifest::GatewayKind;

use http::StatusCode;
use nextr::manifest::Manifest;

use http_api::event::{ClientRequest, RequestMeta};
use http_api::response::{MalformedResponse, Mapped};
use http_api::route_keys::RouteKey;
use http_api::HttpApi;
use rest_api::RestApi;

/// The gateway of one build, as its manifest describes it.
#[derive(Debug, Clone)]
pub enum Gateway {
    /// An HTTP API.
    Http(HttpApi),
    /// A REST API.
    Rest(RestApi),
}

/// Where the gateway sends one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Routed<'a> {
    /// To the route with this index (in the manifest's order), through this key.
    Route {
        /// The route's index.
        owner: usize,
        /// The selected key (HTTP API: route key; REST API: resource).
        key: &'a RouteKey,
        /// The path the function sees: HTTP API `rawPath` (decoded), REST API `path` (as
        /// received).
        path: String,
    },
    /// To the fallback function (the manifest's `fallback`).
    Default {
        /// The path the function sees, as for [`Routed::Route`].
        path: String,
        /// The REST resource that took it (one of `gateway.fallback_keys`); `None` behind an
        /// HTTP API (its `$default` route) and for REST paths with an empty segment.
        key: Option<&'a RouteKey>,
    },
    /// Nowhere: the path does not percent-decode, and the gateway answers 400 itself.
    BadRequest,
}

/// A manifest whose keys the gateway would refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// An HTTP API route key.
    #[error(transparent)]
    Http(#[from] http_api::RouterError),
    /// The REST API's resources.
    #[error(transparent)]
    Rest(#[from] rest_api::RouterError),
}

impl Gateway {
    /// The gateway a manifest describes; a key the gateway would refuse is an error.
    pub fn new(manifest: &Manifest) -> Result<Self, ModelError> {
        Ok(match manifest.gateway.kind {
            GatewayKind::Http => Gateway::Http(HttpApi::new(manifest)?),
            GatewayKind::Rest => Gateway::Rest(RestApi::new(manifest)?),
        })
    }

    /// Which kind.
    pub fn kind(&self) -> GatewayKind {
        match self {
            Gateway::Http(_) => GatewayKind::Http,
            Gateway::Rest(_) => GatewayKind::Rest,
        }
    }

    /// Where the gateway sends a raw request target (path and query, as received).
    pub fn route(&self, target: &str) -> Routed<'_> {
        match self {
            Gateway::Http(api) => api.route(target),
            Gateway::Rest(api) => api.route(target),
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
            Gateway::Rest(api) => api.event(req, routed, meta),
        }
    }

    /// The HTTP response the gateway makes of a function's buffered answer.
    pub fn response(&self, payload: bytes::Bytes) -> Result<Mapped, MalformedResponse> {
        match self {
            Gateway::Http(_) => http_api::response::map(payload),
            Gateway::Rest(_) => rest_api::response::map(payload),
        }
    }

    /// Status and JSON body of one of the gateway's own answers.
    pub fn error(&self, e: GatewayError) -> (StatusCode, &'static str) {
        e.parts_for(self.kind())
    }
}

/// The gateway's own answers; their statuses and bodies differ per kind
/// ([`GatewayError::parts_for`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatewayError {
    /// 400.
    BadRequest,
    /// 413.
    TooLarge,
    /// 431: the request line and header values are over the gateway's limit.
    HeadersTooLarge,
    /// The function failed (HTTP API 500, REST API 502).
    FunctionFailed,
    /// No answer within the integration timeout (HTTP API 503, REST API 504).
    Timeout,
    /// Over the stage's or the route's throttling (429, both kinds).
    Throttled,
}

impl GatewayError {
    /// Status and JSON body as an API of `kind` sends them.
    pub fn parts_for(self, kind: GatewayKind) -> (StatusCode, &'static str) {
        match (kind, self) {
            (GatewayKind::Http, e) => e.parts(),
            // REST's default gateway responses (`DEFAULT_5XX` with the integration's
            // message), as clients of REST APIs see them.
            (GatewayKind::Rest, GatewayError::FunctionFailed) => (
                StatusCode::BAD_GATEWAY,
                r#"{"message": "Internal server error"}"#,
            ),
            (GatewayKind::Rest, GatewayError::Timeout) => (
                StatusCode::GATEWAY_TIMEOUT,
                r#"{"message": "Endpoint request timed out"}"#,
            ),
            (GatewayKind::Rest, GatewayError::TooLarge) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                r#"{"message":"Request Too Long"}"#,
            ),
            (
                GatewayKind::Rest,
                e @ (GatewayError::BadRequest
                | GatewayError::HeadersTooLarge
                | GatewayError::Throttled),
            ) => e.parts(),
        }
    }

    /// Status and JSON body as an HTTP API sends them.
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
            // HTTP APIs and REST APIs (its `THROTTLED` gateway response) answer alike.
            GatewayError::Throttled => (
                StatusCode::TOO_MANY_REQUESTS,
                r#"{"message":"Too Many Requests"}"#,
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
        let (_, body) = GatewayError::HeadersTooLarge.parts_for(GatewayKind::Rest);
        assert!(body.contains(&nextr::limits::REST_API_HEADER_BYTES.to_string()));
    }

    #[test]
    fn rest_answers_failures_with_its_own_statuses() {
        let rest = |e: GatewayError| e.parts_for(GatewayKind::Rest).0.as_u16();
        assert_eq!(rest(GatewayError::FunctionFailed), 502);
        assert_eq!(rest(GatewayError::Timeout), 504);
        assert_eq!(rest(GatewayError::TooLarge), 413);
        for e in [GatewayError::FunctionFailed, GatewayError::Timeout] {
            assert_eq!(e.parts_for(GatewayKind::Http), e.parts());
        }
    }
}
