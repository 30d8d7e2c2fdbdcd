//! API Gateway REST API (v1), the gateway kind that streams: its resource tree
//! ([`resources`], computed at build from the route table), its resource matching
//! ([`Router`], over the manifest's keys), the payload 1.0 event it sends a function
//! ([`event`]) and how it turns the function's answer into HTTP ([`response`]).
//!
//! Keys are written like HTTP API route keys (`ANY /api/post/{pid}`, the root `ANY /`): one
//! per resource, each with an `ANY` method; the resources whose `ANY` goes to the fallback
//! function are the manifest's `gateway.fallback_keys`.

pub mod event;
pub mod resources;
pub mod response;
mod select;

use nextr::manifest::Manifest;

pub use resources::{
    default_resource_tree, resource_tree, Resource, ResourceError, ResourceErrors, ResourceTree,
    Target,
};
pub use select::{Owner, Router, RouterError, Selection};

use super::http_api::event::{ClientRequest, RequestMeta};
use super::http_api::remove_dot_segments;
use super::Routed;
use crate::ids;

/// The payload format of every integration.
pub const PAYLOAD_FORMAT_VERSION: &str = "1.0";
/// The binary media types nextr gives the API: every type, so that request bodies reach the
/// function byte for byte (base64) and `isBase64Encoded` responses are decoded.
pub const BINARY_MEDIA_TYPES: &[&str] = &["*/*"];
/// The integration timeout of a buffered route, in milliseconds: the REST API's default
/// quota.
pub const INTEGRATION_TIMEOUT_MS: i32 = nextr::limits::REST_API_TIMEOUT_S as i32 * 1000;

/// One deployed REST API: the manifest's resources, and the stage it is deployed to.
#[derive(Debug, Clone, Default)]
pub struct RestApi {
    router: Router,
    stage: String,
}

impl RestApi {
    /// The API of a manifest; keys a REST API would refuse, or that leave a dead end, are an
    /// error.
    pub fn new(manifest: &Manifest) -> Result<Self, RouterError> {
        let router = Router::new(
            manifest
                .routes
                .iter()
                .map(|r| r.route_keys.iter().map(String::as_str)),
            manifest.gateway.fallback_keys.iter().map(String::as_str),
        )?;
        Ok(RestApi {
            router,
            stage: manifest.deploy.stage.clone(),
        })
    }

    /// The API's resource matcher.
    pub fn router(&self) -> &Router {
        &self.router
    }

    /// The stage the event names (`requestContext.stage`); dev serves at the root.
    pub fn stage(&self) -> &str {
        &self.stage
    }

    /// Routes a raw request target (path and query, as received). Assumed, as no AWS page
    /// states it (see `infra/MANUAL-CHECKS.md`):
    ///
    /// 1. The path is matched as received, still percent-encoded (the event's `path` is: a
    ///    live capture shows `/capture/space%20value`): an encoded `/` does not separate
    ///    segments and `%61bout` is not the literal `about`, exactly as in Next.
    /// 2. Dot segments are resolved first, as for the HTTP API (clients never send them).
    /// 3. A path with an empty segment (`//`, a trailing `/`) goes to the fallback function,
    ///    which answers Next's 308, as every route's function would.
    pub fn route(&self, target: &str) -> Routed<'_> {
        let raw_path = target.split_once('?').map_or(target, |(p, _)| p);
        let resolved = remove_dot_segments(raw_path);
        let body = resolved.strip_prefix('/').unwrap_or(&resolved);
        let segments: Vec<&str> = if body.is_empty() {
            Vec::new()
        } else {
            body.split('/').collect()
        };
        if !raw_path.starts_with('/') || segments.iter().any(|s| s.is_empty()) {
            return Routed::Default {
                path: raw_path.to_owned(),
                key: None,
            };
        }
        let Selection { target, key } = self.router.select(&segments);
        match target {
            Target::Route(owner) => Routed::Route {
                owner,
                key,
                path: raw_path.to_owned(),
            },
            Target::Fallback => Routed::Default {
                path: raw_path.to_owned(),
                key: Some(key),
            },
        }
    }

    /// The payload 1.0 event of a routed request; `None` (the gateway's 400) for
    /// [`Routed::BadRequest`].
    pub fn event(
        &self,
        req: &ClientRequest<'_>,
        routed: &Routed<'_>,
        meta: &RequestMeta,
    ) -> Option<Vec<u8>> {
        // Paths with an empty segment have no resource of their own here: the root's greedy
        // resource is what the deployed API would name.
        let greedy_root;
        let (key, path) = match routed {
            Routed::Route { key, path, .. } => (*key, path),
            Routed::Default {
                key: Some(key),
                path,
            } => (*key, path),
            Routed::Default { key: None, path } => {
                greedy_root = super::http_api::route_keys::RouteKey::parse("ANY /{proxy+}").ok()?;
                (&greedy_root, path)
            }
            Routed::BadRequest => return None,
        };
        let request_id = ids::request_id();
        Some(event::build(
            req,
            &event::EventContext {
                resource: key,
                path,
                stage: &self.stage,
                request_id: &request_id,
            },
            meta,
        ))
    }
}

#[cfg(test)]
mod tests;
