//! Call a route's handler in a unit test, without Lambda (like `next-test-api-route-handler`).
//!
//! ```
//! use nextr::prelude::*;
//! use nextr::testing::TestRoute;
//!
//! async fn handler(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
//!     let pid = req.query.str("pid").unwrap_or_default().to_owned();
//!     res.status(200).send(format!("Post: {pid}"))
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let route = TestRoute::new("/api/post/[pid]", nextr::handler!(handler));
//! let res = route.get("/api/post/abc?x=1").send().await.unwrap();
//! assert_eq!(res.status, 200);
//! assert_eq!(res.text(), "Post: abc");
//! # }
//! ```
//!
//! [`TestRoute::app`] does the same for an App Router route file's functions (see
//! [`crate::app`] for an example), and [`TestRoute::prerendered`] for a static one as deployed.
//!
//! Requests go through exactly the pipeline the Lambda entry point uses (normalisation, params,
//! body parsing with the route's limits, deadline, error and panic handling, ETag/304), and
//! [`TestRoute::invoke_event`] runs a raw Lambda event through the Lambda conversion too.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{AsHeaderName, HeaderName, HeaderValue};
use http::{HeaderMap, Method};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::app::{AppEndpoint, AppRoute, PrerenderError, StaticMode};
use crate::config::RouteConfig;
use crate::dispatch::{Endpoint, Incoming, Route};
use crate::response::{header_name, ResponseError};
use crate::{Handler, RouteSpec};

/// A route under test: its pattern, configuration and handler (or App Router functions).
#[derive(Debug)]
pub struct TestRoute {
    route: Route,
    endpoint: Endpoint,
}

impl TestRoute {
    /// A route with the default configuration. `page` is the route pattern
    /// (`/api/post/[pid]`).
    pub fn new(page: &'static str, handler: Handler) -> Self {
        Self::from_spec(
            RouteSpec {
                page,
                file: page,
                config: RouteConfig::default(),
            },
            handler,
        )
    }

    /// A route exactly as the generated `main` describes it.
    pub fn from_spec(spec: RouteSpec, handler: Handler) -> Self {
        TestRoute {
            route: Route::new(spec),
            endpoint: Endpoint::Pages(handler),
        }
    }

    /// An App Router route file (`app/**/route.rs`) with the default configuration; `page` is
    /// its route pattern (`/api/post/[pid]`).
    pub fn app(page: &'static str, route: AppRoute) -> Self {
        Self::app_from_spec(
            RouteSpec {
                page,
                file: page,
                config: RouteConfig::default(),
            },
            route,
        )
    }

    /// An App Router route file as the generated `main` describes it, served per request
    /// (a static route's handlers get Next's synthetic request; to serve a prerendered
    /// response as the deployed function does, use [`TestRoute::prerendered`]).
    pub fn app_from_spec(spec: RouteSpec, route: AppRoute) -> Self {
        let mode = StaticMode::of(&spec.config);
        TestRoute {
            route: Route::new(spec),
            endpoint: Endpoint::App(AppEndpoint::dynamic(route, mode)),
        }
    }

    /// A static App Router route as deployed: prerendered now (as `nextr build` does), then
    /// serving that response. Fails as the build would (a dynamic pattern, a route that is not
    /// static, a handler error, a `dynamic = "error"` route reading its request).
    pub async fn prerendered(spec: RouteSpec, route: AppRoute) -> Result<Self, PrerenderError> {
        let file = crate::app::prerender(&spec, &route).await?;
        let served = crate::app::Prerendered::new(&file, &spec.config).map_err(|reason| {
            PrerenderError::Missing {
                page: spec.page,
                path: "(in memory)".into(),
                reason,
            }
        })?;
        let mut app = AppEndpoint::dynamic(route, StaticMode::of(&spec.config));
        app.prerendered = Some(std::sync::Arc::new(served));
        Ok(TestRoute {
            route: Route::new(spec),
            endpoint: Endpoint::App(app),
        })
    }

    /// The same route with another configuration (for instance the file's `config()`).
    pub fn with_config(self, config: RouteConfig) -> Self {
        let mut spec = self.route.spec.clone();
        spec.config = config;
        TestRoute {
            route: Route::new(spec),
            endpoint: self.endpoint,
        }
    }

    /// A request with any method; `target` is the raw request target (`/api/x?a=1`).
    pub fn request(&self, method: Method, target: &str) -> TestRequest<'_> {
        TestRequest {
            route: self,
            method,
            target: target.to_owned(),
            headers: Vec::new(),
            body: Bytes::new(),
            timeout: None,
        }
    }

    /// A GET request.
    pub fn get(&self, target: &str) -> TestRequest<'_> {
        self.request(Method::GET, target)
    }

    /// A POST request.
    pub fn post(&self, target: &str) -> TestRequest<'_> {
        self.request(Method::POST, target)
    }

    /// Runs a Lambda event (API Gateway 2.0 / 1.0, Function URL or ALB JSON) through the Lambda
    /// entry point's conversion, the route and back, and returns the response event.
    pub async fn invoke_event(&self, event: &str) -> Result<serde_json::Value, TestError> {
        let raw = self.invoke_event_raw(event).await?;
        serde_json::from_str(&raw).map_err(|e| TestError(e.to_string()))
    }

    /// [`invoke_event`](Self::invoke_event), returning the response payload exactly as the
    /// function would post it to the Runtime API.
    pub async fn invoke_event_raw(&self, event: &str) -> Result<String, TestError> {
        let response = crate::lambda::respond(&self.route, &self.endpoint, event, None, None, None)
            .await
            .map_err(|e| TestError(e.to_string()))?;
        Ok(response.payload.get().to_owned())
    }
}

/// A request being built for a [`TestRoute`].
#[derive(Debug)]
pub struct TestRequest<'r> {
    route: &'r TestRoute,
    method: Method,
    target: String,
    /// Each name converted when added (the error names it), each value checked when sent.
    headers: Vec<(Result<HeaderName, ResponseError>, Vec<u8>)>,
    body: Bytes,
    timeout: Option<Duration>,
}

impl TestRequest<'_> {
    /// Adds a header; the name is text or a `HeaderName` (an invalid one fails [`send`](Self::send)).
    pub fn header<K>(mut self, name: K, value: impl AsRef<[u8]>) -> Self
    where
        K: TryInto<HeaderName> + Clone + std::fmt::Debug,
    {
        self.headers
            .push((header_name(name), value.as_ref().to_vec()));
        self
    }

    /// Sets the body bytes.
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// Sets a JSON body and `Content-Type: application/json`.
    pub fn json<T: Serialize + ?Sized>(self, value: &T) -> Self {
        let text = serde_json::to_vec(value).unwrap_or_default();
        self.header("content-type", "application/json").body(text)
    }

    /// Simulates the time Lambda has left for the invocation.
    pub fn lambda_timeout(mut self, left: Duration) -> Self {
        self.timeout = Some(left);
        self
    }

    /// Runs the request through the route.
    pub async fn send(self) -> Result<TestResponse, TestError> {
        let mut headers = HeaderMap::new();
        for (name, value) in self.headers {
            let n = name.map_err(|e| TestError(e.to_string()))?;
            let v = HeaderValue::from_bytes(&value)
                .map_err(|_| TestError(format!("invalid value for header {:?}", n.as_str())))?;
            headers.append(n, v);
        }
        let incoming = Incoming {
            method: self.method,
            target: self.target,
            headers,
            body: self.body,
            extensions: http::Extensions::new(),
            request_id: "test".to_owned(),
            platform_deadline: self.timeout.map(|t| Instant::now() + t),
            source_ip: Some("127.0.0.1".to_owned()),
        };
        let (out, logs) = self
            .route
            .route
            .dispatch(&self.route.endpoint, incoming)
            .await;
        Ok(TestResponse {
            status: out.status,
            headers: out.headers,
            body: out.body,
            logs,
        })
    }
}

/// A malformed test request or event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TestError(String);

/// What the client would receive.
#[derive(Debug, Clone)]
pub struct TestResponse {
    /// The status code.
    pub status: u16,
    /// The response headers.
    pub headers: HeaderMap,
    /// The body bytes.
    pub body: Bytes,
    /// What the runtime logged for this request (warnings, errors).
    pub logs: Vec<String>,
}

impl TestResponse {
    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }

    /// A header's first value, as text (the name as text or a `HeaderName`).
    pub fn header(&self, name: impl AsHeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}
