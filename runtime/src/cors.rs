//! CORS: which cross-origin requests an API allows, and the headers that say so.
//!
//! One implementation serves two callers. `nextr dev` builds a [`Cors`] from the manifest's
//! `gateway.cors` (`nextr.toml`'s `[cors]`) and answers as an API Gateway HTTP API with a
//! `CorsConfiguration` does; a route that wants its own answer builds one in code:
//!
//! ```
//! use nextr::cors::Cors;
//!
//! let cors = Cors::new()
//!     .allow_origin("https://app.example")
//!     .allow_methods(["GET", "POST"])
//!     .allow_headers(["content-type"])
//!     .max_age(600);
//! let headers = cors.preflight(Some("https://app.example"), Some("POST"), None);
//! assert!(headers.contains(&("access-control-allow-origin", "https://app.example".to_owned())));
//! assert!(cors.preflight(Some("https://evil.example"), Some("POST"), None).is_empty());
//! ```
//!
//! In a Pages route, [`Cors::apply`] does both halves (answers a preflight 204, or adds the
//! headers to the response); in an App Router route, [`Cors::preflight_response`] and
//! [`Cors::headers_for`]. The API follows tower-http's `CorsLayer`: nothing is allowed
//! until said, and an origin not allowed gets no CORS headers at all (the browser then
//! blocks the response; the server still answers).

use crate::manifest;

/// The CORS headers of an answer, as `(lowercase name, value)` pairs.
pub type CorsHeaders = Vec<(&'static str, String)>;

/// Methods a browser sends cross-origin without their being listed (CORS's "CORS-safelisted
/// methods").
const SAFELISTED_METHODS: [&str; 3] = ["GET", "HEAD", "POST"];

/// A CORS policy: origins, methods and headers allowed, and what the answers say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cors {
    origins: Vec<String>,
    methods: Vec<String>,
    headers: Vec<String>,
    expose: Vec<String>,
    credentials: bool,
    max_age_s: Option<u32>,
}

impl Cors {
    /// A policy that allows nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Allows one origin (`https://app.example`), or any with `"*"`.
    pub fn allow_origin(mut self, origin: impl Into<String>) -> Self {
        self.origins.push(origin.into());
        self
    }

    /// Allows these origins.
    pub fn allow_origins<I, S>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.origins.extend(origins.into_iter().map(Into::into));
        self
    }

    /// Allows these methods (`"*"`: any).
    pub fn allow_methods<I, S>(mut self, methods: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.methods
            .extend(methods.into_iter().map(|m| m.into().to_ascii_uppercase()));
        self
    }

    /// Allows these request headers (`"*"`: any the browser asks for).
    pub fn allow_headers<I, S>(mut self, headers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.headers
            .extend(headers.into_iter().map(|h| h.into().to_ascii_lowercase()));
        self
    }

    /// Lets scripts read these response headers.
    pub fn expose_headers<I, S>(mut self, headers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.expose
            .extend(headers.into_iter().map(|h| h.into().to_ascii_lowercase()));
        self
    }

    /// Allows credentials (cookies, `Authorization`); the allowed origin is then echoed,
    /// never `*`, as browsers require.
    pub fn allow_credentials(mut self, allow: bool) -> Self {
        self.credentials = allow;
        self
    }

    /// How long a browser may cache a preflight's answer, in seconds.
    pub fn max_age(mut self, seconds: u32) -> Self {
        self.max_age_s = Some(seconds);
        self
    }

    /// Whether a request is a CORS preflight: `OPTIONS` with `Origin` and
    /// `Access-Control-Request-Method`.
    pub fn is_preflight(method: &str, origin: Option<&str>, request_method: Option<&str>) -> bool {
        method.eq_ignore_ascii_case("OPTIONS") && origin.is_some() && request_method.is_some()
    }

    /// The `Access-Control-Allow-Origin` value for a request's `Origin`, if it is allowed.
    fn allowed_origin(&self, origin: &str) -> Option<String> {
        let any = self.origins.iter().any(|o| o == "*");
        if any && !self.credentials {
            return Some("*".to_owned());
        }
        // Origins compare as serialised (`scheme://host[:port]`); scheme and host are
        // case-insensitive, so both sides are lowercased.
        let listed = self
            .origins
            .iter()
            .any(|o| o.trim_end_matches('/').eq_ignore_ascii_case(origin));
        (any || listed).then(|| origin.to_owned())
    }

    fn method_allowed(&self, method: &str) -> bool {
        let m = method.trim().to_ascii_uppercase();
        SAFELISTED_METHODS.contains(&m.as_str())
            || self.methods.iter().any(|a| *a == "*" || *a == m)
    }

    /// The headers of a preflight's answer (the answer itself is a 204 with no body): empty
    /// when the origin or the method is not allowed.
    pub fn preflight(
        &self,
        origin: Option<&str>,
        request_method: Option<&str>,
        request_headers: Option<&str>,
    ) -> CorsHeaders {
        let (Some(origin), Some(method)) = (origin, request_method) else {
            return Vec::new();
        };
        let Some(allow_origin) = self.allowed_origin(origin) else {
            return Vec::new();
        };
        if !self.method_allowed(method) {
            return Vec::new();
        }
        let mut out = self.origin_headers(allow_origin);
        if self.methods.iter().any(|m| m == "*") {
            out.push(("access-control-allow-methods", method.trim().to_owned()));
        } else if !self.methods.is_empty() {
            out.push(("access-control-allow-methods", self.methods.join(",")));
        }
        if self.headers.iter().any(|h| h == "*") {
            // Echoed: with credentials a `*` would name a header called `*`.
            if let Some(asked) = request_headers.filter(|h| !h.trim().is_empty()) {
                out.push(("access-control-allow-headers", asked.trim().to_owned()));
            }
        } else if !self.headers.is_empty() {
            out.push(("access-control-allow-headers", self.headers.join(",")));
        }
        if let Some(age) = self.max_age_s {
            out.push(("access-control-max-age", age.to_string()));
        }
        out
    }

    /// The headers added to an ordinary answer to a request from `origin`: empty when the
    /// request has no `Origin` or it is not allowed.
    pub fn response_headers(&self, origin: Option<&str>) -> CorsHeaders {
        let Some(allow_origin) = origin.and_then(|o| self.allowed_origin(o)) else {
            return Vec::new();
        };
        let mut out = self.origin_headers(allow_origin);
        if !self.expose.is_empty() {
            out.push(("access-control-expose-headers", self.expose.join(",")));
        }
        out
    }

    fn origin_headers(&self, allow_origin: String) -> CorsHeaders {
        let echoed = allow_origin != "*";
        let mut out = vec![("access-control-allow-origin", allow_origin)];
        if self.credentials {
            out.push(("access-control-allow-credentials", "true".to_owned()));
        }
        if echoed {
            // The answer depends on the request's Origin: caches must key on it.
            out.push(("vary", "origin".to_owned()));
        }
        out
    }
}

impl From<&manifest::Cors> for Cors {
    fn from(c: &manifest::Cors) -> Self {
        let mut cors = Cors::new()
            .allow_origins(c.allow_origins.iter().cloned())
            .allow_methods(c.allow_methods.iter().cloned())
            .allow_headers(c.allow_headers.iter().cloned())
            .expose_headers(c.expose_headers.iter().cloned())
            .allow_credentials(c.allow_credentials);
        cors.max_age_s = c.max_age_s;
        cors
    }
}

#[cfg(feature = "lambda")]
mod route;

#[cfg(test)]
mod tests {
    use super::*;

    fn get<'a>(headers: &'a CorsHeaders, name: &str) -> Option<&'a str> {
        headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    fn app() -> Cors {
        Cors::new()
            .allow_origin("https://app.example")
            .allow_methods(["get", "PUT"])
            .allow_headers(["Content-Type", "x-token"])
            .expose_headers(["x-request-id"])
            .max_age(600)
    }

    #[test]
    fn a_preflight_from_an_allowed_origin_gets_the_policy() {
        let h = app().preflight(
            Some("https://app.example"),
            Some("PUT"),
            Some("content-type"),
        );
        assert_eq!(
            get(&h, "access-control-allow-origin"),
            Some("https://app.example")
        );
        assert_eq!(get(&h, "access-control-allow-methods"), Some("GET,PUT"));
        assert_eq!(
            get(&h, "access-control-allow-headers"),
            Some("content-type,x-token")
        );
        assert_eq!(get(&h, "access-control-max-age"), Some("600"));
        assert_eq!(get(&h, "vary"), Some("origin"));
        assert_eq!(get(&h, "access-control-allow-credentials"), None);
    }

    #[test]
    fn an_origin_or_method_not_allowed_gets_nothing() {
        assert!(app()
            .preflight(Some("https://evil.example"), Some("PUT"), None)
            .is_empty());
        assert!(app()
            .preflight(Some("https://app.example"), Some("DELETE"), None)
            .is_empty());
        assert!(app().preflight(None, Some("PUT"), None).is_empty());
        assert!(app()
            .response_headers(Some("http://app.example"))
            .is_empty());
        assert!(app().response_headers(None).is_empty());
        // A safelisted method needs no listing.
        assert!(!app()
            .preflight(Some("https://app.example"), Some("POST"), None)
            .is_empty());
    }

    #[test]
    fn any_origin_is_star_unless_credentials_are_allowed() {
        let any = Cors::new().allow_origin("*").allow_methods(["*"]);
        let h = any.preflight(Some("https://x.example"), Some("PATCH"), None);
        assert_eq!(get(&h, "access-control-allow-origin"), Some("*"));
        assert_eq!(get(&h, "access-control-allow-methods"), Some("PATCH"));
        assert_eq!(get(&h, "vary"), None);
        let h = any
            .allow_credentials(true)
            .response_headers(Some("https://x.example"));
        assert_eq!(
            get(&h, "access-control-allow-origin"),
            Some("https://x.example")
        );
        assert_eq!(get(&h, "access-control-allow-credentials"), Some("true"));
    }

    #[test]
    fn responses_carry_origin_and_exposed_headers() {
        let h = app().response_headers(Some("HTTPS://APP.example"));
        assert_eq!(
            get(&h, "access-control-allow-origin"),
            Some("HTTPS://APP.example")
        );
        assert_eq!(
            get(&h, "access-control-expose-headers"),
            Some("x-request-id")
        );
        assert_eq!(get(&h, "access-control-max-age"), None);
    }

    #[test]
    fn star_headers_echo_what_the_browser_asks() {
        let c = Cors::new().allow_origin("*").allow_headers(["*"]);
        let h = c.preflight(Some("https://a.example"), Some("GET"), Some("x-a, x-b"));
        assert_eq!(get(&h, "access-control-allow-headers"), Some("x-a, x-b"));
    }

    #[test]
    fn preflights_are_recognised() {
        assert!(Cors::is_preflight("OPTIONS", Some("o"), Some("GET")));
        assert!(!Cors::is_preflight("OPTIONS", Some("o"), None));
        assert!(!Cors::is_preflight("GET", Some("o"), Some("GET")));
    }

    #[test]
    fn the_manifest_policy_converts() {
        let m = manifest::Cors {
            allow_origins: vec!["https://app.example".into()],
            allow_credentials: true,
            max_age_s: Some(5),
            ..manifest::Cors::default()
        };
        let h = Cors::from(&m).preflight(Some("https://app.example"), Some("GET"), None);
        assert_eq!(get(&h, "access-control-max-age"), Some("5"));
        assert_eq!(get(&h, "access-control-allow-credentials"), Some("true"));
    }
}
