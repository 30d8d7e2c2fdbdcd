//! API Gateway HTTP API (v2), the default gateway kind: its route keys ([`route_keys`]), its
//! route selection ([`Router`]), the conflict analysis that makes it pick Next's route
//! ([`conflicts`]), the payload 2.0 event it sends a function ([`event`]) and how it turns the
//! function's answer into HTTP ([`response`]).

pub mod conflicts;
pub mod event;
pub mod response;
pub mod route_keys;
mod select;

use nextr::manifest::Manifest;

pub use select::{Router, RouterError, Selection};

/// Where the gateway sends one request (shared by both kinds).
pub use super::Routed;

use event::{gateway_path, ClientRequest, RequestMeta};

/// The route key of the route that takes every request no other key matches.
pub const DEFAULT_ROUTE: &str = "$default";
/// The stage every HTTP API gets: `$default` serves at the API's root, without a prefix.
pub const STAGE: &str = "$default";
/// The payload format of every integration.
pub const PAYLOAD_FORMAT_VERSION: &str = "2.0";
/// The integration timeout nextr sets: the HTTP API's ceiling, in milliseconds.
pub const INTEGRATION_TIMEOUT_MS: i32 = nextr::limits::HTTP_API_TIMEOUT_S as i32 * 1000;

/// One deployed HTTP API: the manifest's route keys, as the gateway selects among them.
#[derive(Debug, Clone, Default)]
pub struct HttpApi {
    router: Router,
}

impl HttpApi {
    /// The API of a manifest; a route key API Gateway would refuse is an error naming it.
    pub fn new(manifest: &Manifest) -> Result<Self, RouterError> {
        let router = Router::new(
            manifest
                .routes
                .iter()
                .map(|r| r.route_keys.iter().map(String::as_str)),
        )?;
        Ok(HttpApi { router })
    }

    /// The API's selector.
    pub fn router(&self) -> &Router {
        &self.router
    }

    /// Routes a raw request target (path and query, as received):
    ///
    /// 1. The path is percent-decoded as API Gateway decodes it ([`gateway_path`]); one that
    ///    does not decode is a 400.
    /// 2. Dot segments are resolved (RFC 3986; Next resolves them too. Whether API Gateway
    ///    does is not observed, and clients such as browsers and curl never send them).
    /// 3. The [`Router`] selects among the manifest's keys; on an undocumented tie (possible
    ///    only for conflicts the app accepted), the route first in Next's order.
    /// 4. No key matches: the `$default` route, with the decoded path.
    pub fn route(&self, target: &str) -> Routed<'_> {
        let raw_path = target.split_once('?').map_or(target, |(p, _)| p);
        let Ok(decoded) = gateway_path(raw_path) else {
            return Routed::BadRequest;
        };
        let resolved = remove_dot_segments(&decoded);
        match self.router.select(&resolved).served() {
            Some((owner, key)) => Routed::Route {
                owner,
                key,
                path: decoded,
            },
            None => Routed::Default {
                path: decoded,
                key: None,
            },
        }
    }

    /// The payload 2.0 event of a routed request; `None` (API Gateway's 400) for
    /// [`Routed::BadRequest`] and for a request with more than one `Host` header.
    pub fn event(
        &self,
        req: &ClientRequest<'_>,
        routed: &Routed<'_>,
        meta: &RequestMeta,
    ) -> Option<Vec<u8>> {
        // API Gateway refuses two `Host` headers instead of joining them as it joins others:
        // which host the client meant is ambiguous.
        if req
            .headers
            .get_all(http::header::HOST)
            .iter()
            .nth(1)
            .is_some()
        {
            return None;
        }
        match routed {
            Routed::Route { key, path, .. } => Some(event::build(req, Some(key), path, meta)),
            Routed::Default { path, .. } => Some(event::build(req, None, path, meta)),
            Routed::BadRequest => None,
        }
    }
}

/// Resolves `.` and `..` segments (RFC 3986 §5.2.4); a path ending in one keeps a trailing
/// slash.
pub(crate) fn remove_dot_segments(path: &str) -> String {
    if !path.split('/').any(|s| s == "." || s == "..") {
        return path.to_owned();
    }
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.strip_prefix('/').unwrap_or(path).split('/').collect();
    for (i, segment) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        match *segment {
            "." => {
                if last {
                    out.push("");
                }
            }
            ".." => {
                out.pop();
                if last {
                    out.push("");
                }
            }
            s => out.push(s),
        }
    }
    format!("/{}", out.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_segments_resolve_like_rfc_3986() {
        for (path, expect) in [
            ("/api/x", "/api/x"),
            ("/api/./x", "/api/x"),
            ("/api/y/../x", "/api/x"),
            ("/api/c/a/../b", "/api/c/b"),
            ("/api/t12/.", "/api/t12/"),
            ("/api/t12/x/..", "/api/t12/"),
            ("/..", "/"),
            ("/a/../../b", "/b"),
            ("/a/.../b", "/a/.../b"),
        ] {
            assert_eq!(remove_dot_segments(path), expect, "{path}");
        }
    }

    fn api(routes: &[&[&str]]) -> HttpApi {
        HttpApi {
            router: Router::new(routes.iter().map(|r| r.iter().copied())).unwrap(),
        }
    }

    #[test]
    fn two_host_headers_are_a_400() {
        let api = api(&[&["ANY /api/x"]]);
        let routed = api.route("/api/x");
        let mut headers = http::HeaderMap::new();
        headers.append("host", http::HeaderValue::from_static("a.example"));
        fn req(headers: &http::HeaderMap) -> ClientRequest<'_> {
            ClientRequest {
                method: "GET",
                target: "/api/x",
                protocol: "HTTP/1.1",
                headers,
                body: b"",
                source_ip: std::net::IpAddr::from([127, 0, 0, 1]),
                local_port: 3000,
            }
        }
        let meta = RequestMeta::now();
        assert!(api.event(&req(&headers), &routed, &meta).is_some());
        headers.append("host", http::HeaderValue::from_static("b.example"));
        assert!(api.event(&req(&headers), &routed, &meta).is_none());
    }

    fn pick(api: &HttpApi, target: &str) -> String {
        match api.route(target) {
            Routed::Route { owner, key, path } => format!("#{owner} via {key} as {path}"),
            Routed::Default { path, .. } => format!("$default as {path}"),
            Routed::BadRequest => "400".into(),
        }
    }

    #[test]
    fn requests_go_where_the_deployed_api_sends_them() {
        // In Next's order, as the manifest lists them. The catch-all owns an extra key from
        // the conflict analysis (`/api/users/{path}` beats `/api/{resource}/{id}`).
        let a = api(&[
            &["ANY /api/t01"],
            &["ANY /api/t01/about"],
            &["ANY /api/users/{path+}", "ANY /api/users/{path}"],
            &["ANY /api/t01/{id}"],
            &["ANY /api/{resource}/{id}"],
            &["ANY /api/t01/{slug+}"],
            // `api/hello world.rs`: no key, as unreachable as in Next.
            &[],
        ]);
        for (target, expect) in [
            ("/api/t01", "#0 via ANY /api/t01 as /api/t01"),
            ("/api/t01?x=1", "#0 via ANY /api/t01 as /api/t01"),
            (
                "/api/t01/about",
                "#1 via ANY /api/t01/about as /api/t01/about",
            ),
            // API Gateway routes the decoded path: Next would pick [id] for the raw spelling.
            (
                "/api/t01/%61bout",
                "#1 via ANY /api/t01/about as /api/t01/about",
            ),
            ("/api/t01/x", "#3 via ANY /api/t01/{id} as /api/t01/x"),
            (
                "/api/t01/x/y",
                "#5 via ANY /api/t01/{slug+} as /api/t01/x/y",
            ),
            (
                "/api/t01/a%2Fb",
                "#5 via ANY /api/t01/{slug+} as /api/t01/a/b",
            ),
            ("/api/t01/./x", "#3 via ANY /api/t01/{id} as /api/t01/./x"),
            (
                "/api/t01/y/../about",
                "#1 via ANY /api/t01/about as /api/t01/y/../about",
            ),
            (
                "/api/users/42",
                "#2 via ANY /api/users/{path} as /api/users/42",
            ),
            (
                "/api/users/42/x",
                "#2 via ANY /api/users/{path+} as /api/users/42/x",
            ),
            (
                "/api/posts/42",
                "#4 via ANY /api/{resource}/{id} as /api/posts/42",
            ),
            // $default: its function answers Next's 308 for these, else 404.
            ("/api/t01/", "$default as /api/t01/"),
            ("/api/t01/x/?a=1", "$default as /api/t01/x/"),
            ("/api//t01", "$default as /api//t01"),
            ("/api\\t01", "$default as /api\\t01"),
            ("/api/t01/x%2F", "$default as /api/t01/x/"),
            ("/api", "$default as /api"),
            ("/api/hello%20world", "$default as /api/hello world"),
            ("/other/x", "$default as /other/x"),
            // Undecodable: API Gateway's 400 before routing.
            ("/api/t01/%ZZ", "400"),
            ("/api/t01/100%25", "400"),
        ] {
            assert_eq!(pick(&a, target), expect, "{target}");
        }
    }
}
