//! One request through one App Router route file, after the shared pre-routing steps of
//! [`crate::dispatch`] (host check, Next's 308 normalisations): `TRACE`, params and
//! searchParams, the prerendered answer, method selection (automatic `OPTIONS` and `HEAD`,
//! 405, 400), then the method function under the route's deadline and its response, buffered
//! or streamed.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use http::header::{HeaderValue, ALLOW, CACHE_CONTROL, CONTENT_TYPE, HOST, SET_COOKIE};
use http::{HeaderMap, Method};

use super::cookies::RequestCookies;
use super::handler::{AppHandler, AppHandlers, AppRoute, RouteContext};
use super::prerender::{Prerendered, StaticMode};
use super::request::{NextRequest, NextUrl, StaticBailout};
use super::response::{Body, Response};
use crate::dispatch::{
    finish_head, next_headers, Incoming, Outgoing, Path, Route, PLATFORM_SCHEME,
};
use crate::response::header_value;
use crate::routing::{self, AppMatched, SearchParams};
use crate::streaming::Writer;
use crate::util::CatchUnwind;

/// An App Router route as the runtime serves it: its method functions, how its segment
/// config makes it static, and its prerendered answer when it has one.
#[derive(Debug, Clone)]
pub(crate) struct AppEndpoint {
    pub(crate) route: AppRoute,
    pub(crate) mode: StaticMode,
    pub(crate) prerendered: Option<Arc<Prerendered>>,
}

/// Next's answer to a thrown error before any response: `500`, `text/plain`, "Internal Server
/// Error" (TRACE, a malformed escape in an App-only project).
pub(crate) fn internal_error_text() -> Outgoing {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    Outgoing {
        status: 500,
        headers,
        body: Bytes::from_static(b"Internal Server Error"),
    }
}

/// Next's text 500 for a malformed escape in the path, with the `cache-control` Next's
/// error pages carry (TRACE's 500 has none).
fn malformed_escape() -> Outgoing {
    let mut out = internal_error_text();
    out.headers.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache, no-store, max-age=0, must-revalidate"),
    );
    out
}

/// A bare answer: a status, no headers, no body (405, 400, the uncaught-error 500).
fn bare(status: u16) -> Outgoing {
    Outgoing {
        status,
        headers: HeaderMap::new(),
        body: Bytes::new(),
    }
}

/// The methods Next's route modules know; any other is a 400.
const KNOWN: [Method; 7] = [
    Method::GET,
    Method::HEAD,
    Method::OPTIONS,
    Method::POST,
    Method::PUT,
    Method::DELETE,
    Method::PATCH,
];

/// What a method gets: a function to run, or Next's answer without one.
#[derive(Debug)]
pub(crate) enum Selected {
    /// The method's function (`HEAD` may run `get`).
    Run(AppHandler),
    /// The automatic `OPTIONS`, a 405 or a 400.
    Answer(Outgoing),
}

/// Which function a method runs, or the answer Next gives without one.
pub(crate) fn select(handlers: &AppHandlers, method: &Method) -> Selected {
    let found = match *method {
        Method::GET => handlers.get,
        Method::HEAD => handlers.head.or(handlers.get),
        Method::OPTIONS => match handlers.options {
            Some(h) => Some(h),
            None => return Selected::Answer(automatic_options(handlers)),
        },
        Method::POST => handlers.post,
        Method::PUT => handlers.put,
        Method::DELETE => handlers.delete,
        Method::PATCH => handlers.patch,
        _ => return Selected::Answer(bare(400)),
    };
    found.map_or_else(|| Selected::Answer(bare(405)), Selected::Run)
}

/// The automatic `OPTIONS`: 204 and `Allow` = the exported methods, `HEAD` with `GET`, and
/// `OPTIONS`, sorted and joined with `", "`.
fn automatic_options(handlers: &AppHandlers) -> Outgoing {
    let mut allow: Vec<&str> = KNOWN
        .iter()
        .filter(|m| match **m {
            Method::OPTIONS => true,
            Method::HEAD => handlers.head.is_some() || handlers.get.is_some(),
            _ => select_exported(handlers, m),
        })
        .map(Method::as_str)
        .collect();
    allow.sort_unstable();
    let mut out = bare(204);
    // Method names are tokens: always a valid header value.
    if let Ok(v) = HeaderValue::from_str(&allow.join(", ")) {
        out.headers.insert(ALLOW, v);
    }
    out
}

fn select_exported(handlers: &AppHandlers, method: &Method) -> bool {
    match *method {
        Method::GET => handlers.get.is_some(),
        Method::POST => handlers.post.is_some(),
        Method::PUT => handlers.put.is_some(),
        Method::DELETE => handlers.delete.is_some(),
        Method::PATCH => handlers.patch.is_some(),
        _ => false,
    }
}

impl AppEndpoint {
    /// A route file served per request (not prerendered).
    pub(crate) fn dynamic(route: AppRoute, mode: StaticMode) -> Self {
        AppEndpoint {
            route,
            mode,
            prerendered: None,
        }
    }

    /// What Next answers before routing: `TRACE` is a 500 (and a `TypeError` in the log).
    pub(crate) fn before_routing(
        &self,
        route: &Route,
        incoming: &Incoming,
        logs: &mut Vec<String>,
    ) -> Option<Outgoing> {
        (incoming.method == Method::TRACE).then(|| {
            logs.push(format!(
                "nextr: [{}] {} ({}): TypeError: 'TRACE' HTTP method is unsupported.",
                incoming.request_id, route.spec.page, route.spec.file
            ));
            internal_error_text()
        })
    }

    /// Serves one normalised request.
    pub(crate) async fn serve(
        &self,
        route: &Route,
        incoming: Incoming,
        path: Path,
        stream: Option<Writer>,
        logs: &mut Vec<String>,
    ) -> Outgoing {
        let head = incoming.method == Method::HEAD;
        let matched = match complete(route, &path, logs) {
            Ok(m) => m,
            // Next's router throws on the escape: its 500 in an App-only project, the Pages
            // Router's 400 when the project has `api/` routes too.
            Err(()) if self.route.pages_router => return Outgoing::text(400, "Bad Request"),
            Err(()) => return malformed_escape(),
        };
        if let Some(prerendered) = &self.prerendered {
            return finish_head(prerendered.answer(&incoming.method), head);
        }
        let handler = match select(&self.route.handlers, &incoming.method) {
            Selected::Run(h) => h,
            Selected::Answer(out) => return out,
        };
        let request_id = incoming.request_id.clone();
        let deadline = route.deadline(path.start, incoming.platform_deadline);
        let (req, bailout) = self.request(route, incoming, &matched);
        let ctx = RouteContext {
            params: matched.params,
        };
        let outcome = {
            let run = Box::pin(async {
                let response = handler(req, ctx).await?;
                Ok::<_, crate::Error>(deliver(response, stream.as_ref(), head, logs).await)
            });
            tokio::time::timeout_at(tokio::time::Instant::from_std(deadline), CatchUnwind(run))
                .await
        };
        let failed = |logs: &mut Vec<String>, what: String| {
            logs.push(format!(
                "nextr: [{request_id}] {} ({}): {what}",
                route.spec.page, route.spec.file
            ));
            bare(500)
        };
        let out = match outcome {
            Err(_elapsed) => match stream.as_ref().filter(|w| w.started()) {
                Some(writer) => {
                    logs.push(route.stream_deadline_log(&request_id, writer.bytes_sent()));
                    writer.close();
                    bare(200)
                }
                None => {
                    logs.push(route.timeout_log(&request_id));
                    route.timeout_response(head)
                }
            },
            Ok(Err(panic)) => failed(logs, format!("the handler panicked: {panic}")),
            Ok(Ok(Err(e))) => failed(logs, format!("handler error: {e}")),
            Ok(Ok(Ok(Err(e)))) => failed(logs, format!("invalid response: {e}")),
            Ok(Ok(Ok(Ok(out)))) => out,
        };
        if let Some(used) = bailout.and_then(|b| b.error()) {
            return failed(logs, used);
        }
        finish_head(out, head)
    }

    /// The handler's request: Next's, or the synthetic one of a `force-static` file.
    fn request(
        &self,
        route: &Route,
        incoming: Incoming,
        matched: &AppMatched,
    ) -> (NextRequest, Option<Arc<StaticBailout>>) {
        let Incoming {
            method,
            mut headers,
            body,
            source_ip,
            ..
        } = incoming;
        let bailout = (self.mode == StaticMode::Error).then(|| StaticBailout::new(route.spec.page));
        let mut req = if self.mode == StaticMode::ForceStatic {
            synthetic(method, &matched.pathname, body)
        } else {
            next_headers(&mut headers, source_ip.as_deref());
            let (origin, host) = request_origin(&headers);
            let query_start = matched.url.find('?');
            let search = query_start.map_or(String::new(), |i| matched.url[i..].to_owned());
            NextRequest {
                method,
                cookies: RequestCookies::from_headers(&headers),
                url: format!("{origin}{}", matched.url),
                next_url: NextUrl {
                    origin,
                    host,
                    pathname: matched.pathname.clone(),
                    search,
                    search_params: matched.search_params.clone(),
                    bailout: None,
                },
                headers,
                body,
                body_used: false,
                bailout: None,
            }
        };
        req.bailout = bailout.clone();
        req.next_url.bailout = bailout.clone();
        (req, bailout)
    }
}

/// `request.url`'s origin and host (see [`NextRequest`]): the scheme from `x-forwarded-proto`
/// (which [`next_headers`] fills in when the platform sent none), the host from `Host`,
/// `localhost` without one.
pub(crate) fn request_origin(headers: &HeaderMap) -> (String, String) {
    let proto = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .unwrap_or(PLATFORM_SCHEME);
    let host = headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost")
        .to_owned();
    (format!("{proto}://{host}"), host)
}

/// Next's synthetic request of a static route: `http://localhost:3000/<path>`, no query, no
/// headers, no cookies (the body is kept).
pub(crate) fn synthetic(method: Method, pathname: &str, body: Bytes) -> NextRequest {
    let host = super::prerender::SYNTHETIC_HOST;
    let origin = format!("http://{host}");
    NextRequest {
        method,
        url: format!("{origin}{pathname}"),
        next_url: NextUrl {
            host: host.to_owned(),
            origin,
            pathname: pathname.to_owned(),
            search: String::new(),
            search_params: SearchParams::default(),
            bailout: None,
        },
        headers: HeaderMap::new(),
        cookies: RequestCookies::default(),
        body,
        body_used: false,
        bailout: None,
    }
}

/// `context.params`, `searchParams` and `request.url` for the path; `Err` for a malformed
/// escape. A path the pattern does not match (an extra route key) is served without params.
fn complete(route: &Route, path: &Path, logs: &mut Vec<String>) -> Result<AppMatched, ()> {
    if let Some(pattern) = &route.pattern {
        let literal = path.pathname == route.spec.page;
        match routing::complete_app(pattern, &path.pathname, &path.raw_query, literal) {
            Some(Ok(m)) => return Ok(m),
            Some(Err(_)) => return Err(()),
            None => logs.push(format!(
                "nextr: {} does not match this function's route {}; serving it without params",
                path.pathname, route.spec.page
            )),
        }
    }
    let search_params = SearchParams::parse(&path.raw_query);
    let query = search_params.to_query_string();
    let url = if query.is_empty() {
        path.pathname.clone()
    } else {
        format!("{}?{query}", path.pathname)
    };
    Ok(AppMatched {
        params: None,
        search_params,
        url,
        pathname: path.pathname.clone(),
    })
}

/// The handler's response on its way out: a body known now becomes the [`Outgoing`]; a
/// stream goes through `stream` chunk by chunk (its head first) when the invocation streams,
/// else is collected. A stream's `Err` cuts the body there and is logged.
pub(crate) async fn deliver(
    response: Response,
    stream: Option<&Writer>,
    head: bool,
    logs: &mut Vec<String>,
) -> Result<Outgoing, super::AppResponseError> {
    let Response {
        status,
        mut headers,
        body,
        cookies,
        problem,
    } = response;
    if let Some(problem) = problem {
        return Err(problem);
    }
    // `response.cookies` lines come after the `set-cookie` headers set directly, as in Next.
    for line in cookies.set_cookie_lines() {
        headers.append(SET_COOKIE, header_value(&line)?);
    }
    let mut chunks = match body {
        Body::Empty => return Ok(outgoing(status, headers, Bytes::new())),
        Body::Bytes(bytes) => return Ok(outgoing(status, headers, bytes)),
        // A HEAD answer has no body: the stream is not polled.
        Body::Stream(_) if head => return Ok(outgoing(status, headers, Bytes::new())),
        Body::Stream(chunks) => chunks,
    };
    if let Some(writer) = stream {
        writer.send_head(status, &headers);
    }
    let mut collected = BytesMut::new();
    let mut sent = 0u64;
    loop {
        match std::future::poll_fn(|cx| chunks.as_mut().poll_next(cx)).await {
            Some(Ok(chunk)) => {
                sent += chunk.len() as u64;
                match stream {
                    Some(writer) => {
                        writer.push(chunk);
                        writer.drained().await;
                    }
                    None => collected.extend_from_slice(&chunk),
                }
            }
            Some(Err(e)) => {
                logs.push(format!(
                    "nextr: failed to pipe response: the body stream failed after {sent} bytes: {e}; the response was ended"
                ));
                break;
            }
            None => break,
        }
    }
    Ok(outgoing(status, headers, collected.freeze()))
}

fn outgoing(status: u16, headers: HeaderMap, body: Bytes) -> Outgoing {
    Outgoing {
        status,
        headers,
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(_: NextRequest, _: RouteContext) -> super::super::AppFuture {
        Box::pin(async { Ok(Response::empty()) })
    }

    fn answer(handlers: &AppHandlers, method: &Method) -> Outgoing {
        match select(handlers, method) {
            Selected::Answer(out) => out,
            Selected::Run(_) => panic!("{method} runs a function"),
        }
    }

    fn allow(handlers: AppHandlers) -> Outgoing {
        answer(&handlers, &Method::OPTIONS)
    }

    #[test]
    fn automatic_options_lists_the_sorted_methods() {
        let only_get = AppHandlers {
            get: Some(probe),
            ..AppHandlers::default()
        };
        let out = allow(only_get);
        assert_eq!(out.status, 204);
        assert_eq!(out.headers[ALLOW], "GET, HEAD, OPTIONS");
        assert!(out.body.is_empty() && out.headers.get(CONTENT_TYPE).is_none());
        let some = AppHandlers {
            get: Some(probe),
            post: Some(probe),
            delete: Some(probe),
            ..AppHandlers::default()
        };
        assert_eq!(
            allow(some).headers[ALLOW],
            "DELETE, GET, HEAD, OPTIONS, POST"
        );
        assert_eq!(allow(AppHandlers::default()).headers[ALLOW], "OPTIONS");
    }

    #[test]
    fn methods_without_a_function_are_405_and_unknown_ones_400() {
        let post = AppHandlers {
            post: Some(probe),
            ..AppHandlers::default()
        };
        for m in [
            Method::GET,
            Method::HEAD,
            Method::PUT,
            Method::DELETE,
            Method::PATCH,
        ] {
            let out = answer(&post, &m);
            assert_eq!(out.status, 405, "{m}");
            assert!(out.headers.is_empty() && out.body.is_empty());
        }
        let propfind = Method::from_bytes(b"PROPFIND").unwrap();
        assert_eq!(answer(&post, &propfind).status, 400);
        assert!(matches!(select(&post, &Method::POST), Selected::Run(_)));
        // HEAD runs GET when there is no `head`.
        let get = AppHandlers {
            get: Some(probe),
            ..AppHandlers::default()
        };
        assert!(matches!(select(&get, &Method::HEAD), Selected::Run(_)));
    }

    #[test]
    fn internal_error_text_is_next_plain_500() {
        let out = internal_error_text();
        assert_eq!(out.status, 500);
        assert_eq!(out.headers[CONTENT_TYPE], "text/plain");
        assert_eq!(out.body, "Internal Server Error");
    }
}
