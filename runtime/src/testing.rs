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
//!
//! An app with a `proxy.rs`: [`TestRoute::with_proxy`] runs the proxy before the route, as
//! the deployed function does (see [`crate::proxy`] for an example), and [`TestApp`] serves
//! several routes' functions and the `$default` one together, so that a rewrite from one
//! function to another's page is answered by that function, in process, as Lambda's `Invoke`
//! would.

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{AsHeaderName, HeaderName, HeaderValue};
use http::{HeaderMap, Method};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::app::{AppEndpoint, AppRoute, PrerenderError, StaticMode};
use crate::config::RouteConfig;
use crate::dispatch::{Endpoint, Incoming, Outgoing, Route};
use crate::manifest::ProxyBundle;
use crate::proxy::invoke::Forward;
use crate::proxy::{
    Forwarder, Invoked, LocalFunctions, Proxy, ProxyApp, ProxyHandler, ProxyStartError, Serving,
};
use crate::response::{header_name, ResponseError};
use crate::routing::Router;
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
        let mut route = Route::new(spec);
        if let Some(proxy) = self.route.proxy() {
            route = route.with_proxy(Arc::clone(proxy));
        }
        TestRoute {
            route,
            endpoint: self.endpoint,
        }
    }

    /// The same route in an app with a `proxy.rs`: `proxy` (made with
    /// [`proxy_handler!`](crate::proxy_handler)) runs before it as in the deployed function,
    /// with the matcher and routes of `bundle` (what `nextr build` writes as `proxy.json`).
    /// A rewrite to another route's page answers 500 here (logged): serve the routes together
    /// with [`TestApp`] to test those.
    pub fn with_proxy(
        self,
        proxy: ProxyHandler,
        bundle: &ProxyBundle,
    ) -> Result<Self, ProxyStartError> {
        let app = ProxyApp::new(proxy, bundle)?;
        let no_functions: Weak<dyn LocalFunctions> = Weak::<NoFunctions>::new();
        let proxy = Proxy {
            app: Arc::new(app),
            forwarder: Forwarder::Local(no_functions),
        };
        Ok(TestRoute {
            route: self.route.with_proxy(Arc::new(proxy)),
            endpoint: self.endpoint,
        })
    }

    /// The route's pattern (`/api/post/[pid]`).
    pub fn page(&self) -> &'static str {
        self.route.spec.page
    }

    /// The router of the route's file.
    pub fn router(&self) -> Router {
        match self.endpoint {
            Endpoint::Pages(_) => Router::Pages,
            Endpoint::App(_) => Router::App,
        }
    }

    /// A request with any method; `target` is the raw request target (`/api/x?a=1`).
    pub fn request(&self, method: Method, target: &str) -> TestRequest<'_> {
        TestRequest {
            to: Receiver::Route(self),
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

/// Who answers a [`TestRequest`].
#[derive(Debug, Clone, Copy)]
enum Receiver<'r> {
    Route(&'r TestRoute),
    App(&'r TestApp),
}

/// A request being built for a [`TestRoute`] or a [`TestApp`].
#[derive(Debug)]
pub struct TestRequest<'r> {
    to: Receiver<'r>,
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
            rewrite_depth: 0,
        };
        let (out, logs) = match self.to {
            Receiver::Route(r) => r.route.dispatch(&r.endpoint, incoming).await,
            Receiver::App(app) => app.dispatch(incoming).await,
        };
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

/// An app with a `proxy.rs` under test: its routes' functions and its `$default` function,
/// each running the proxy as deployed. A request goes to the function of the route Next
/// resolves for its path (as `nextr routes --match` does; the `$default` function when none
/// does), and a rewrite to another function's page is served by that function, in process,
/// as Lambda's `Invoke` would serve it.
///
/// ```
/// use nextr::app::{prelude::*, AppHandlers, AppRoute};
/// use nextr::manifest::{ProxyBundle, ProxyRoute};
/// use nextr::proxy::NextResponse;
/// use nextr::routing::Router;
/// use nextr::testing::{TestApp, TestRoute};
///
/// async fn proxy(req: NextRequest) -> Option<NextResponse> {
///     (req.next_url().pathname() == "/api/old").then(|| NextResponse::rewrite("/api/new?via=rewrite"))
/// }
///
/// async fn new(req: NextRequest) -> Response {
///     Response::json(&json!({ "url": req.next_url().href() }))
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let route = |page: &str| ProxyRoute {
///     page: page.into(),
///     router: Router::App,
///     function: Some(page.trim_start_matches('/').replace('/', "-")),
/// };
/// let bundle = ProxyBundle {
///     file: "proxy.rs".into(),
///     matcher: None,
///     pages_router: false,
///     routes: vec![route("/api/new")],
///     fallback: "default".into(),
/// };
/// let get = |handler| AppRoute {
///     handlers: AppHandlers { get: Some(handler), ..AppHandlers::default() },
///     pages_router: false,
/// };
/// let app = TestApp::new(
///     nextr::proxy_handler!(proxy),
///     &bundle,
///     [TestRoute::app("/api/new", get(nextr::app_handler!(new, req)))],
/// )
/// .unwrap();
/// // No route serves `/api/old`: the `$default` function's proxy rewrites it to `/api/new`,
/// // and `/api/new`'s function answers.
/// let res = app.get("/api/old").header("host", "h").send().await.unwrap();
/// assert_eq!(res.text(), r#"{"url":"https://h/api/new?via=rewrite"}"#);
/// assert_eq!(res.header("x-middleware-rewrite"), Some("https://h/api/new?via=rewrite"));
/// assert_eq!(app.get("/nowhere").send().await.unwrap().status, 404);
/// # }
/// ```
#[derive(Debug)]
pub struct TestApp {
    functions: Arc<AppFunctions>,
}

/// The functions of a [`TestApp`].
struct AppFunctions {
    /// Each route's function by its manifest name.
    by_name: HashMap<String, TestRoute>,
    /// The `$default` function.
    fallback: Proxy,
}

impl std::fmt::Debug for AppFunctions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&String> = self.by_name.keys().collect();
        names.sort();
        f.debug_struct("AppFunctions")
            .field("functions", &names)
            .field("fallback", &self.fallback.app.fallback)
            .finish()
    }
}

impl TestApp {
    /// The app of `bundle` (what `nextr build` writes as `proxy.json`) with its proxy and these
    /// routes, each the function of its page in `bundle` (a route `bundle` does not list, or
    /// lists without a function, is an error). Pages of `bundle` without a route here answer
    /// a rewrite with a 500, as a function that cannot be invoked would.
    pub fn new(
        proxy: ProxyHandler,
        bundle: &ProxyBundle,
        routes: impl IntoIterator<Item = TestRoute>,
    ) -> Result<Self, TestError> {
        let app = Arc::new(ProxyApp::new(proxy, bundle).map_err(|e| TestError(e.to_string()))?);
        let mut named = Vec::new();
        for route in routes {
            let page = route.route.spec.page;
            let Some(Some(name)) = app.functions.get(page) else {
                return Err(TestError(format!(
                    "the route {page} has no function in the proxy bundle"
                )));
            };
            named.push((name.clone(), route));
        }
        let functions = Arc::new_cyclic(|me: &Weak<AppFunctions>| {
            let me: Weak<dyn LocalFunctions> = me.clone();
            let proxy = |app: &Arc<ProxyApp>| Proxy {
                app: Arc::clone(app),
                forwarder: Forwarder::Local(me.clone()),
            };
            let by_name = named
                .into_iter()
                .map(|(name, r)| {
                    let route = TestRoute {
                        route: r.route.with_proxy(Arc::new(proxy(&app))),
                        endpoint: r.endpoint,
                    };
                    (name, route)
                })
                .collect();
            AppFunctions {
                by_name,
                fallback: proxy(&app),
            }
        });
        Ok(TestApp { functions })
    }

    /// A request with any method; `target` is the raw request target (`/api/x?a=1`).
    pub fn request(&self, method: Method, target: &str) -> TestRequest<'_> {
        TestRequest {
            to: Receiver::App(self),
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

    /// Serves a request as the gateway would route it.
    async fn dispatch(&self, incoming: Incoming) -> (Outgoing, Vec<String>) {
        let functions = &self.functions;
        let app = &functions.fallback.app;
        let Some(page) = app.table.route_for(&incoming.target).map(|r| r.page()) else {
            return functions.serve_fallback(incoming).await;
        };
        let function = app.functions.get(page).and_then(Option::as_deref);
        match function.and_then(|name| functions.by_name.get(name)) {
            Some(route) => route.route.dispatch(&route.endpoint, incoming).await,
            None => (
                Outgoing::text(500, "Internal Server Error"),
                vec![format!(
                    "nextr: {} is served by the route {page}, which has no function in this TestApp",
                    incoming.target
                )],
            ),
        }
    }
}

impl AppFunctions {
    async fn serve_fallback(&self, incoming: Incoming) -> (Outgoing, Vec<String>) {
        let mut logs = Vec::new();
        let out = self
            .fallback
            .serve(Serving::Fallback, incoming, None, &mut logs)
            .await;
        (out, logs)
    }
}

impl LocalFunctions for AppFunctions {
    fn invoke<'a>(&'a self, function: &'a str, request: Forward) -> Invoked<'a> {
        Box::pin(async move {
            let incoming = Incoming {
                method: request.method,
                target: request.target,
                headers: request.headers,
                body: request.body,
                extensions: http::Extensions::new(),
                request_id: request.request_id,
                platform_deadline: None,
                source_ip: request.source_ip,
                rewrite_depth: request.depth,
            };
            if function == self.fallback.app.fallback {
                return Some(self.serve_fallback(incoming).await);
            }
            let route = self.by_name.get(function)?;
            Some(route.route.dispatch(&route.endpoint, incoming).await)
        })
    }
}

/// The other functions of a [`TestRoute`] with a proxy: none.
struct NoFunctions;

impl LocalFunctions for NoFunctions {
    fn invoke<'a>(&'a self, _function: &'a str, _request: Forward) -> Invoked<'a> {
        Box::pin(async { None })
    }
}
