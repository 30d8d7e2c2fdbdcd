//! The gateway's protections, as the manifest sets them (`nextr.toml`'s `[cors]`,
//! `[throttle]` and `[routes."<page>".throttle]`): what the deployed API Gateway answers
//! before, and around, a function.
//!
//! - **CORS**: a preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) is
//!   answered by the gateway itself, `204` without invoking a function, with the CORS headers
//!   when the origin (and method) are allowed and none otherwise, as an HTTP API with a
//!   `CorsConfiguration` does (and a REST API's `MOCK` `OPTIONS` method that `nextr deploy`
//!   makes). Behind an HTTP API the gateway also puts the CORS headers on every function
//!   answer to an allowed origin, replacing any the function sent (AWS: "API Gateway ignores
//!   CORS headers returned from your backend integration"); a REST API passes a proxy
//!   integration's answer through, so there the function sets them (`nextr::cors`).
//! - **Throttling**: a token bucket for the stage and one per throttled route, each holding
//!   `burst` tokens refilled at `rate` per second; a request takes one from the stage's and
//!   one from its route's, and is answered `429 {"message":"Too Many Requests"}` when
//!   either is empty. A new deployment (a rebuild) starts with full buckets.

use std::sync::Mutex;
use std::time::Instant;

use http::HeaderMap;
use nextr::cors::{Cors, CorsHeaders};
use nextr::manifest::{GatewayKind, Manifest, Throttle};
use nextr_infra::deploy::rest::Preflight;

/// A token bucket: `burst` tokens, refilled at `rate` per second.
#[derive(Debug)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    state: Mutex<(f64, Instant)>,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(throttle: Throttle, now: Instant) -> Self {
        let burst = f64::from(throttle.burst);
        TokenBucket {
            rate: f64::from(throttle.rate),
            burst,
            state: Mutex::new((burst, now)),
        }
    }

    /// Takes a token if there is one.
    pub fn take(&self, now: Instant) -> bool {
        let Ok(mut state) = self.state.lock() else {
            // A panic while holding the lock leaves the count unknown: admit, as no
            // throttling at all would.
            return true;
        };
        let (tokens, last) = *state;
        let elapsed = now.saturating_duration_since(last).as_secs_f64();
        let tokens = (tokens + elapsed * self.rate).min(self.burst);
        if tokens >= 1.0 {
            *state = (tokens - 1.0, now);
            true
        } else {
            *state = (tokens, now);
            false
        }
    }
}

/// What the gateway does before a function: CORS and throttling of one deployment.
#[derive(Debug)]
pub struct Protections {
    kind: GatewayKind,
    cors: Option<Cors>,
    /// Behind a REST API with CORS: the MOCK `OPTIONS` method's fixed headers.
    rest_preflight: Option<Vec<(String, String)>>,
    stage: Option<TokenBucket>,
    routes: Vec<Option<TokenBucket>>,
}

/// What the gateway answers itself, before any function.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing: the request goes on to its function.
    Pass,
    /// A CORS preflight: 204 with these headers (none for a refused origin).
    Preflight(CorsHeaders),
    /// Behind a REST API with CORS, any `OPTIONS`: the MOCK method's `200` with these fixed
    /// headers, whatever the `Origin`.
    MockPreflight(Vec<(String, String)>),
    /// Over a throttle: 429.
    Throttled,
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

impl Protections {
    /// The protections the manifest sets, with full buckets.
    pub fn new(manifest: &Manifest) -> Self {
        let now = Instant::now();
        Protections {
            kind: manifest.gateway.kind,
            cors: manifest.gateway.cors.as_ref().map(Cors::from),
            // nextr.toml refuses a policy a MOCK cannot answer (several origins).
            rest_preflight: manifest
                .gateway
                .cors
                .as_ref()
                .filter(|_| manifest.gateway.kind == GatewayKind::Rest)
                .and_then(|c| Preflight::of(c).ok())
                .map(|p| p.headers.into_iter().collect()),
            stage: manifest.gateway.throttle.map(|t| TokenBucket::new(t, now)),
            routes: manifest
                .routes
                .iter()
                .map(|r| r.throttle.map(|t| TokenBucket::new(t, now)))
                .collect(),
        }
    }

    /// What the gateway answers a request routed to `route` (its index in the manifest;
    /// `None` for `$default`) before invoking anything. A preflight counts against the
    /// stage's throttle only: the gateway answers it, no route's integration runs.
    pub fn check(&self, method: &str, headers: &HeaderMap, route: Option<usize>) -> Verdict {
        let origin = header(headers, "origin");
        let asked = header(headers, "access-control-request-method");
        let preflight = self
            .cors
            .as_ref()
            .filter(|_| Cors::is_preflight(method, origin, asked));
        let now = Instant::now();
        if self.stage.as_ref().is_some_and(|b| !b.take(now)) {
            return Verdict::Throttled;
        }
        let bucket = route
            .and_then(|i| self.routes.get(i))
            .and_then(Option::as_ref);
        // A REST API's explicit `OPTIONS` method takes every OPTIONS request to the resource
        // (API Gateway picks it over `ANY`), preflight or not; the method settings throttle
        // it like the route's other methods.
        if let (Some(headers), true) = (&self.rest_preflight, method == "OPTIONS") {
            if bucket.is_some_and(|b| !b.take(now)) {
                return Verdict::Throttled;
            }
            return Verdict::MockPreflight(headers.clone());
        }
        if let Some(cors) = preflight.filter(|_| self.kind == GatewayKind::Http) {
            let requested = header(headers, "access-control-request-headers");
            return Verdict::Preflight(cors.preflight(origin, asked, requested));
        }
        if bucket.is_some_and(|b| !b.take(now)) {
            return Verdict::Throttled;
        }
        Verdict::Pass
    }

    /// Whether [`Protections::finish`] changes answers (CORS behind an HTTP API): only then
    /// does the front keep the request's headers for it.
    pub fn finishes(&self) -> bool {
        self.cors.is_some() && self.kind == GatewayKind::Http
    }

    /// A function's answer as the gateway sends it on: behind an HTTP API with CORS set, the
    /// function's own `access-control-*` headers are dropped and the gateway's added for an
    /// allowed origin.
    pub fn finish(&self, request: &HeaderMap, response: &mut HeaderMap) {
        let Some(cors) = self
            .cors
            .as_ref()
            .filter(|_| self.kind == GatewayKind::Http)
        else {
            return;
        };
        let own: Vec<_> = response
            .keys()
            .filter(|k| k.as_str().starts_with("access-control-"))
            .cloned()
            .collect();
        for k in own {
            response.remove(k);
        }
        for (name, value) in cors.response_headers(header(request, "origin")) {
            if let Ok(v) = http::HeaderValue::from_str(&value) {
                response.append(name, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_bucket_allows_its_burst_then_its_rate() {
        let t0 = Instant::now();
        let b = TokenBucket::new(Throttle { rate: 2, burst: 3 }, t0);
        assert!((0..3).all(|_| b.take(t0)));
        assert!(!b.take(t0));
        // Half a second at 2 per second: one more.
        let t1 = t0 + Duration::from_millis(500);
        assert!(b.take(t1));
        assert!(!b.take(t1));
        // Never more than the burst, however long the wait.
        let t2 = t1 + Duration::from_secs(60);
        assert_eq!((0..10).filter(|_| b.take(t2)).count(), 3);
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    http::HeaderName::from_static(k),
                    http::HeaderValue::from_static(v),
                )
            })
            .collect()
    }

    #[test]
    fn the_gateway_replaces_the_functions_cors_headers() {
        let fallback = nextr::manifest::Function {
            name: "a-default".into(),
            bundle: "functions/a.zip".into(),
            sha256: "00".repeat(32),
            bytes: 1,
            runtime: "provided.al2023".into(),
            handler: "bootstrap".into(),
            architecture: nextr::manifest::Architecture::X86_64,
            timeout_s: 3,
            memory_mb: 128,
            env: Default::default(),
            response_mode: nextr::manifest::ResponseMode::Buffered,
            function_url: None,
        };
        let mut m = nextr::manifest::Manifest::new("a", fallback);
        m.gateway.cors = Some(nextr::manifest::Cors {
            allow_origins: vec!["https://app.example".into()],
            ..Default::default()
        });
        let p = Protections::new(&m);
        let mut out = headers(&[("access-control-allow-origin", "*"), ("x-a", "1")]);
        p.finish(&headers(&[("origin", "https://app.example")]), &mut out);
        assert_eq!(out["access-control-allow-origin"], "https://app.example");
        assert_eq!(out["x-a"], "1");
        let mut out = headers(&[("access-control-allow-origin", "*")]);
        p.finish(&headers(&[("origin", "https://evil.example")]), &mut out);
        assert!(out.get("access-control-allow-origin").is_none());
        let v = p.check(
            "OPTIONS",
            &headers(&[
                ("origin", "https://evil.example"),
                ("access-control-request-method", "GET"),
            ]),
            None,
        );
        assert_eq!(v, Verdict::Preflight(Vec::new()));

        // Behind a REST API: the MOCK method's fixed answer to any OPTIONS, counted against
        // the route's throttle too; the function's own headers pass untouched.
        m.gateway.kind = GatewayKind::Rest;
        m.gateway.throttle = None;
        let mut p = Protections::new(&m);
        // The bucket of a route throttled to one request (the manifest's routes are not
        // needed for that).
        p.routes = vec![Some(TokenBucket::new(
            Throttle { rate: 1, burst: 1 },
            Instant::now(),
        ))];
        let origin = |v: &Verdict| match v {
            Verdict::MockPreflight(h) => h
                .iter()
                .find(|(k, _)| k == "Access-Control-Allow-Origin")
                .map(|(_, v)| v.clone()),
            _ => None,
        };
        let v = p.check("OPTIONS", &HeaderMap::new(), Some(0));
        assert_eq!(origin(&v).as_deref(), Some("https://app.example"));
        assert_eq!(
            p.check("OPTIONS", &HeaderMap::new(), Some(0)),
            Verdict::Throttled
        );
        assert!(!p.finishes());
        let mut out = headers(&[("access-control-allow-origin", "*")]);
        p.finish(&headers(&[("origin", "https://evil.example")]), &mut out);
        assert_eq!(out["access-control-allow-origin"], "*");
    }
}
