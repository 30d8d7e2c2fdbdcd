//! One request through one route, platform-independent: Next's request pipeline for a single
//! pattern (normalisation, params, query, cookies, body), the handler under its deadline, and
//! the response as Next would send it. Lambda ([`crate::lambda`]) and tests
//! ([`crate::testing`]) both go through [`Route::dispatch`].

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, CONTENT_TYPE, COOKIE, HOST, LOCATION};
use http::{HeaderMap, Method};

use crate::config::RouteConfig;
use crate::error::{Error, HttpError, Result};
use crate::limits::DEFAULT_TIMEOUT_S;
use crate::proxy::{Proxy, Serving};
use crate::request::{parse_body, Cookies, NextApiRequest};
use crate::response::{Conditional, NextApiResponse};
use crate::routing::{self, Normalized, Query, RoutePattern};
use crate::streaming::Writer;
use crate::util::CatchUnwind;

/// The future a [`Handler`] returns.
pub type HandlerFuture<'a> = Pin<Box<dyn Future<Output = Result<()>> + Send + 'a>>;

/// A route handler behind a plain function pointer: the runtime is compiled once, not once per
/// route. Make one with [`handler!`](crate::handler).
pub type Handler = for<'a> fn(&'a mut NextApiRequest, &'a mut NextApiResponse) -> HandlerFuture<'a>;

/// What serves a route's requests: a Pages Router handler, or an App Router route file's
/// method functions (cheap to clone: the streamed path moves it into the handler's task).
#[derive(Debug, Clone)]
pub(crate) enum Endpoint {
    /// `api/**.rs`: one handler for every method.
    Pages(Handler),
    /// `app/**/route.rs`: one function per method, possibly prerendered.
    App(crate::app::AppEndpoint),
}

/// What the generated `main` bakes into a route binary: the route pattern, its source file and
/// its declared configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSpec {
    /// The route pattern, `/api/post/[pid]`.
    pub page: &'static str,
    /// The route file, relative to the app (`api/post/[pid].rs`), for messages.
    pub file: &'static str,
    /// The route's `nextr::config!` (or the default).
    pub config: RouteConfig,
}

/// How long before the real deadline the runtime answers 504, to leave time to send it.
pub(crate) const DEADLINE_MARGIN: Duration = Duration::from_millis(100);

/// A request as the platform delivered it, before any Next processing.
#[derive(Debug)]
pub(crate) struct Incoming {
    pub(crate) method: Method,
    /// Raw path (stage prefix stripped) plus `?` and the raw query string when there is one.
    pub(crate) target: String,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    pub(crate) extensions: http::Extensions,
    pub(crate) request_id: String,
    /// Lambda's own deadline, when there is one.
    pub(crate) platform_deadline: Option<Instant>,
    /// The client's address (for `x-forwarded-for`).
    pub(crate) source_ip: Option<String>,
    /// How many proxy rewrites led to this invocation (Lambda's client context
    /// `nextr-rewrite-depth`, set by the function that rewrote; 0 for a client's request).
    pub(crate) rewrite_depth: u32,
}

/// The answer, ready for the platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Outgoing {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Outgoing {
    pub(crate) fn text(status: u16, message: &str) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        Outgoing {
            status,
            headers,
            body: Bytes::copy_from_slice(message.as_bytes()),
        }
    }

    /// Next's error answers (`ApiError`): status, the message as body, no content type.
    fn api_error(e: &HttpError) -> Self {
        Outgoing {
            status: e.status,
            headers: HeaderMap::new(),
            body: Bytes::copy_from_slice(e.message.as_bytes()),
        }
    }

    pub(crate) fn json(status: u16, value: &serde_json::Value) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        Outgoing {
            status,
            headers,
            body: Bytes::from(value.to_string()),
        }
    }
}

/// A normalised request path, and when the request arrived (its deadline counts from there).
#[derive(Debug)]
pub(crate) struct Path {
    /// The pathname after Next's normalisation (still encoded).
    pub(crate) pathname: String,
    /// The raw query string, without `?`.
    pub(crate) raw_query: String,
    /// When the runtime received the request.
    pub(crate) start: Instant,
}

/// A route ready to serve: its spec, pattern parsed once, and the app's proxy when it has one.
#[derive(Debug)]
pub(crate) struct Route {
    pub(crate) spec: RouteSpec,
    pub(crate) pattern: Option<RoutePattern>,
    response_limit: Option<u64>,
    proxy: Option<Arc<Proxy>>,
}

/// Next's internal request headers: a client may not send them (they are removed before the
/// proxy and the handler see the request). `x-middleware-subrequest` is not among them: Next
/// passes a client's through.
const INTERNAL_HEADERS: [&str; 11] = [
    "x-middleware-rewrite",
    "x-middleware-redirect",
    "x-middleware-set-cookie",
    "x-middleware-skip",
    "x-middleware-override-headers",
    "x-middleware-next",
    "x-now-route-matches",
    "x-matched-path",
    "x-nextjs-data",
    "x-next-resume-state-length",
    "next-resume",
];

impl Route {
    pub(crate) fn new(spec: RouteSpec) -> Self {
        let pattern = match RoutePattern::parse(spec.page) {
            Ok(p) => Some(p),
            Err(e) => {
                eprintln!(
                    "nextr: route {} ({}): invalid route pattern: {e}; requests get no params",
                    spec.page, spec.file
                );
                None
            }
        };
        let response_limit = spec.config.response_limit.bytes();
        Route {
            spec,
            pattern,
            response_limit,
            proxy: None,
        }
    }

    /// The same route with the app's proxy running before it.
    pub(crate) fn with_proxy(mut self, proxy: Arc<Proxy>) -> Self {
        self.proxy = Some(proxy);
        self
    }

    /// The app's proxy, when it runs before this route.
    pub(crate) fn proxy(&self) -> Option<&Arc<Proxy>> {
        self.proxy.as_ref()
    }

    /// When the handler's time is up: `max_duration` (or the platform's deadline when it is
    /// sooner) minus [`DEADLINE_MARGIN`].
    pub(crate) fn deadline(&self, start: Instant, platform: Option<Instant>) -> Instant {
        let declared = self
            .spec
            .config
            .max_duration
            .map(|s| Duration::from_secs(s.into()));
        deadline(declared, start, platform)
    }

    /// The configured time limit in seconds: `max_duration`, else the default that `nextr
    /// build` also gives the Lambda function. Messages name this, not the time left when the
    /// request arrived.
    fn time_limit_s(&self) -> u32 {
        self.spec.config.max_duration.unwrap_or(DEFAULT_TIMEOUT_S)
    }

    /// The log line of a request answered 504.
    pub(crate) fn timeout_log(&self, request_id: &str) -> String {
        format!(
            "nextr: [{request_id}] {} ({}): the handler did not finish within {} s (max_duration); answered 504",
            self.spec.page,
            self.spec.file,
            self.time_limit_s()
        )
    }

    /// The 504 of a handler past its deadline, naming the route and its limit.
    pub(crate) fn timeout_response(&self, head: bool) -> Outgoing {
        let limit = self.time_limit_s();
        let out = Outgoing::json(
            504,
            &serde_json::json!({
                "error": "FUNCTION_INVOCATION_TIMEOUT",
                "message": format!(
                    "The route {} did not respond within its time limit of {limit} s.",
                    self.spec.page
                ),
                "route": self.spec.page,
                "maxDuration": limit,
            }),
        );
        finish_head(out, head)
    }

    /// What the log says of a handler past its deadline after its streamed response's head
    /// left (the caller adds what became of the stream).
    pub(crate) fn stream_timeout_log(&self, request_id: &str) -> String {
        format!(
            "nextr: [{request_id}] {} ({}): the handler did not finish within {} s (max_duration) after its response started streaming",
            self.spec.page,
            self.spec.file,
            self.time_limit_s()
        )
    }

    /// The log line of a streamed response ended by its deadline after its head left.
    pub(crate) fn stream_deadline_log(&self, request_id: &str, bytes: u64) -> String {
        format!(
            "{}; the stream was ended after {bytes} bytes",
            self.stream_timeout_log(request_id)
        )
    }

    /// Serves one request, buffered: the answer is the returned [`Outgoing`].
    pub(crate) async fn dispatch(
        &self,
        endpoint: &Endpoint,
        incoming: Incoming,
    ) -> (Outgoing, Vec<String>) {
        self.dispatch_to(endpoint, incoming, None).await
    }

    /// Serves one request; with `stream`, the response goes out through it as the handler
    /// writes, and the returned [`Outgoing`] is the answer only if its head never left (an
    /// answer made before or instead of the handler's: 400, 308, 413, 504).
    pub(crate) async fn dispatch_to(
        &self,
        endpoint: &Endpoint,
        incoming: Incoming,
        stream: Option<Writer>,
    ) -> (Outgoing, Vec<String>) {
        let mut logs = Vec::new();
        let out = self.serve(endpoint, incoming, stream, &mut logs).await;
        (out, logs)
    }

    async fn serve(
        &self,
        endpoint: &Endpoint,
        incoming: Incoming,
        stream: Option<Writer>,
        logs: &mut Vec<String>,
    ) -> Outgoing {
        if let Some(proxy) = &self.proxy {
            let serving = Serving::Route(self, endpoint);
            return proxy.serve(serving, incoming, stream, logs).await;
        }
        let start = Instant::now();
        let head = incoming.method == Method::HEAD;

        // Two `Host` headers (or two joined with a comma, as a payload 2.0 event joins repeated
        // headers) leave the host ambiguous: 400, as API Gateway answers.
        if !single_host(&incoming.headers) {
            return Outgoing::text(400, "Bad Request");
        }
        if let Endpoint::App(app) = endpoint {
            if let Some(out) = app.before_routing(self, &incoming, logs) {
                return out;
            }
        }

        // Next's pre-routing steps on the raw target, then this route's pattern.
        let (pathname, raw_query) = match routing::normalize(&incoming.target) {
            Err(_) => return Outgoing::text(400, "Bad Request"),
            Ok(Normalized::Redirect(location)) => return redirect_308(&location, head),
            Ok(Normalized::Path { pathname, query }) => (pathname, query.to_owned()),
        };
        let path = Path {
            pathname,
            raw_query,
            start,
        };
        self.serve_path(endpoint, incoming, path, stream, logs)
            .await
    }

    /// Serves a normalised request (after the host check, Next's 308s and the proxy).
    pub(crate) async fn serve_path(
        &self,
        endpoint: &Endpoint,
        incoming: Incoming,
        path: Path,
        stream: Option<Writer>,
        logs: &mut Vec<String>,
    ) -> Outgoing {
        match endpoint {
            Endpoint::Pages(handler) => {
                self.serve_pages(*handler, incoming, path, stream, logs)
                    .await
            }
            Endpoint::App(app) => app.serve(self, incoming, path, stream, logs).await,
        }
    }

    /// A Pages Router request after normalisation: params, query, body parsing, the handler.
    async fn serve_pages(
        &self,
        handler: Handler,
        incoming: Incoming,
        path: Path,
        stream: Option<Writer>,
        logs: &mut Vec<String>,
    ) -> Outgoing {
        let Path {
            pathname,
            raw_query,
            start,
        } = path;
        let Incoming {
            method,
            target,
            mut headers,
            body,
            extensions,
            request_id,
            platform_deadline,
            source_ip,
            rewrite_depth: _,
        } = incoming;
        let head = method == Method::HEAD;
        let (query, url) = match self.complete(&pathname, &raw_query, logs) {
            Ok(m) => m,
            Err(()) => return Outgoing::text(400, "Bad Request"),
        };

        next_headers(&mut headers, source_ip.as_deref());

        let parsed = parse_body(
            headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()),
            &body,
            &self.spec.config.body_parser,
        );
        let parsed = match parsed {
            Ok(b) => b,
            Err(e) => return finish_head(Outgoing::api_error(&e), head),
        };
        let cookies = cookie_header(&headers)
            .map(|c| Cookies::parse(&c))
            .unwrap_or_default();

        let deadline = self.deadline(start, platform_deadline);
        let mut req = NextApiRequest {
            method,
            url: url.clone(),
            headers,
            query,
            cookies,
            body: parsed,
            raw_body: body,
            target,
            extensions,
            request_id,
            deadline,
            page: self.spec.page,
        };
        let conditional = Conditional::from_headers(&req.headers);
        let mut res = NextApiResponse::new(conditional, url, self.response_limit);
        if let Some(writer) = stream {
            res.set_stream(writer);
        }

        let outcome = {
            let fut = CatchUnwind(handler(&mut req, &mut res));
            tokio::time::timeout_at(tokio::time::Instant::from_std(deadline), fut).await
        };
        match outcome {
            Err(_elapsed) if res.stream_started() => {
                // Too late for a 504: the client has the head and part of the body. End the
                // body cleanly (a stream cannot carry an error) and keep serving.
                logs.push(self.stream_deadline_log(&req.request_id, res.bytes_written()));
                res.close_stream();
            }
            Err(_elapsed) => {
                logs.push(self.timeout_log(&req.request_id));
                return self.timeout_response(head);
            }
            Ok(Err(panic)) => {
                logs.push(format!(
                    "nextr: [{}] {} ({}): the handler panicked: {panic}",
                    req.request_id, self.spec.page, self.spec.file
                ));
                respond_error(&mut res, None);
            }
            Ok(Ok(Err(e))) => {
                match e.error_response().filter(|_| !res.headers_sent()) {
                    // The app's own answer: sent as is, and not a failure to log.
                    Some(answer) => {
                        if let Err(e) = res.send_error_response(answer) {
                            // Only an invalid status can fail here.
                            log_error(logs, &req, &self.spec, &e, false);
                            respond_error(&mut res, None);
                        }
                    }
                    None => {
                        log_error(logs, &req, &self.spec, &e, res.is_ended());
                        respond_error(&mut res, e.answer());
                    }
                }
            }
            Ok(Ok(Ok(()))) => {
                if !res.is_ended() {
                    if !self.spec.config.external_resolver {
                        logs.push(format!(
                            "API resolved without sending a response for {}, this may result in stalled requests.",
                            req.url
                        ));
                    }
                    if let Err(e) = res.end() {
                        // Only an invalid status can fail here.
                        log_error(logs, &req, &self.spec, &e, false);
                        respond_error(&mut res, None);
                    }
                }
            }
        }
        let (status, headers, body, warnings) = res.into_parts();
        logs.extend(warnings);
        finish_head(
            Outgoing {
                status,
                headers,
                body,
            },
            head,
        )
    }

    /// `req.query` and `req.url` for a normalised path; `Err` for a malformed escape (400).
    fn complete(
        &self,
        pathname: &str,
        raw_query: &str,
        logs: &mut Vec<String>,
    ) -> std::result::Result<(Query, String), ()> {
        if let Some(pattern) = &self.pattern {
            let literal = pathname == self.spec.page;
            match routing::complete(pattern, pathname, raw_query, literal) {
                Some(Ok(m)) => return Ok((m.query, m.url)),
                Some(Err(_)) => return Err(()),
                None => logs.push(format!(
                    "nextr: {pathname} does not match this function's route {}; serving it without params",
                    self.spec.page
                )),
            }
        }
        // Fallback: the platform routed a path the pattern does not match (for instance an
        // explicit route key added for another spelling). Serve it with the query string only,
        // as Next serves a static route.
        let query = Query::parse_public(raw_query);
        let mut url = pathname.to_owned();
        let search = query.to_search_string(|_| false);
        if !search.is_empty() {
            url.push('?');
            url.push_str(&search);
        }
        Ok((query, url))
    }
}

fn log_error(
    logs: &mut Vec<String>,
    req: &NextApiRequest,
    spec: &RouteSpec,
    e: &Error,
    after_end: bool,
) {
    let when = if after_end {
        " after the response was sent"
    } else {
        ""
    };
    logs.push(format!(
        "nextr: [{}] {} ({}): handler error{when}: {e}",
        req.request_id, spec.page, spec.file
    ));
}

/// Next's error answer: the error's own status and body when it carries them, else 500.
fn respond_error(res: &mut NextApiResponse, answer: Option<(u16, &str)>) {
    let (status, body) = answer.unwrap_or((500, "Internal Server Error"));
    res.send_error(status, body);
}

/// When a handler's time is up: its declared limit (or the platform's deadline when it is
/// sooner; the default timeout without either) minus [`DEADLINE_MARGIN`].
pub(crate) fn deadline(
    declared: Option<Duration>,
    start: Instant,
    platform: Option<Instant>,
) -> Instant {
    let budget = match (declared, platform) {
        (Some(d), Some(p)) => d.min(p.saturating_duration_since(start)),
        (Some(d), None) => d,
        (None, Some(p)) => p.saturating_duration_since(start),
        (None, None) => Duration::from_secs(DEFAULT_TIMEOUT_S.into()),
    };
    start
        .checked_add(budget.saturating_sub(DEADLINE_MARGIN))
        .unwrap_or_else(|| start + Duration::from_secs(365 * 24 * 3600))
}

/// Next's slash/backslash/trailing-slash redirect: 308, `Location`, `Refresh`, the
/// destination as plain-text body.
pub(crate) fn redirect_308(location: &str, head: bool) -> Outgoing {
    let mut headers = HeaderMap::new();
    let (Ok(loc), Ok(refresh)) = (
        HeaderValue::from_str(location),
        HeaderValue::from_str(&format!("0;url={location}")),
    ) else {
        return Outgoing::text(400, "Bad Request");
    };
    headers.insert(LOCATION, loc);
    headers.insert(HeaderName::from_static("refresh"), refresh);
    finish_head(
        Outgoing {
            status: 308,
            headers,
            body: Bytes::copy_from_slice(location.as_bytes()),
        },
        head,
    )
}

/// The app's `$default` route (see [`crate::lambda::start_fallback`]): API Gateway sends it
/// every request no route key matches. It answers as `next start` does for those: 308 to the
/// normalised path for `\\`, `//` and trailing slashes, 404 for everything else (a malformed
/// escape on an unmatched path is a 404 in Next too).
pub(crate) fn fallback(incoming: &Incoming) -> Outgoing {
    let head = incoming.method == Method::HEAD;
    match routing::normalize(&incoming.target) {
        Ok(Normalized::Redirect(location)) => redirect_308(&location, head),
        _ => {
            let mut headers = HeaderMap::new();
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            let body = Bytes::from_static(br#"{"message":"Not Found"}"#);
            finish_head(
                Outgoing {
                    status: 404,
                    headers,
                    body,
                },
                head,
            )
        }
    }
}

/// HEAD answers carry the headers but no body.
pub(crate) fn finish_head(mut out: Outgoing, head: bool) -> Outgoing {
    if head {
        out.body = Bytes::new();
    }
    out
}

/// The `Cookie` header(s), joined with `; ` as Next joins an array header.
fn cookie_header(headers: &HeaderMap) -> Option<String> {
    let mut values = headers
        .get_all(COOKIE)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()));
    let first = values.next()?;
    let mut out = first.into_owned();
    for v in values {
        out.push_str("; ");
        out.push_str(&v);
    }
    Some(out)
}

/// At most one `Host` header, naming one host (a comma never appears in a host).
pub(crate) fn single_host(headers: &HeaderMap) -> bool {
    let mut hosts = headers.get_all(HOST).iter();
    match (hosts.next(), hosts.next()) {
        (None, _) => true,
        (Some(host), None) => !host.as_bytes().contains(&b','),
        (Some(_), Some(_)) => false,
    }
}

/// The request headers as Next's server leaves them for a handler: its internal headers
/// removed, `x-forwarded-*` added.
pub(crate) fn next_headers(headers: &mut HeaderMap, source_ip: Option<&str>) {
    strip_internal(headers);
    add_forwarded(headers, source_ip);
}

/// Removes Next's internal headers a client sent (`x-middleware-rewrite`, …).
pub(crate) fn strip_internal(headers: &mut HeaderMap) {
    // One pass over the request's few names is cheaper than eleven lookups, and a client
    // sends none of them but by mistake or malice.
    let internal = |name: &HeaderName| INTERNAL_HEADERS.contains(&name.as_str());
    if headers.keys().any(internal) {
        for name in INTERNAL_HEADERS {
            headers.remove(name);
        }
    }
}

/// The scheme of a request that names none: API Gateway and function URLs serve HTTPS only.
pub(crate) const PLATFORM_SCHEME: &str = "https";

/// Next's server adds `x-forwarded-host/port/proto/for` when absent.
pub(crate) fn add_forwarded(headers: &mut HeaderMap, source_ip: Option<&str>) {
    if !headers.contains_key("x-forwarded-host") {
        if let Some(host) = headers.get(HOST).cloned() {
            headers.insert(HeaderName::from_static("x-forwarded-host"), host);
        }
    }
    let proto = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .unwrap_or(PLATFORM_SCHEME)
        .to_owned();
    if !headers.contains_key("x-forwarded-proto") {
        headers.insert(
            HeaderName::from_static("x-forwarded-proto"),
            HeaderValue::from_static(PLATFORM_SCHEME),
        );
    }
    if !headers.contains_key("x-forwarded-port") {
        let port = if proto == "http" { "80" } else { "443" };
        headers.insert(
            HeaderName::from_static("x-forwarded-port"),
            HeaderValue::from_static(port),
        );
    }
    if !headers.contains_key("x-forwarded-for") {
        if let Some(ip) = source_ip.and_then(|ip| HeaderValue::from_str(ip).ok()) {
            headers.insert(HeaderName::from_static("x-forwarded-for"), ip);
        }
    }
}
