//! One request through the proxy and then its route, in Next's order: the host check, `TRACE`
//! (App routes), Next's 308 normalisations (no proxy), the client's internal `x-middleware-*`
//! headers removed, the proxy when its matcher takes the request, then what it asked for.

use std::sync::Arc;
use std::time::Instant;

use http::{HeaderMap, Method};

use super::answers::{
    error_page, path_and_query, redirect, resolve, same_origin, InvalidUrl, MAX_REWRITES,
};
use super::headers::{MatchView, Precedence, ProxyHeaders};
use super::invoke::{self, Forward};
use super::response::{Action, NextResponse};
use super::setup::{Forwarder, Proxy};
use crate::app::{deliver, request_origin, NextRequest, NextUrl, RequestCookies, Response};
use crate::dispatch::{
    add_forwarded, deadline, fallback, finish_head, redirect_308, single_host, strip_internal,
    Endpoint, Incoming, Outgoing, Path, Route,
};
use crate::routing::{normalize, Normalized, SearchParams};
use crate::streaming::Writer;
use crate::util::CatchUnwind;

/// Which function serves the request: a route's, or the app's `$default` (no route).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Serving<'a> {
    /// A route's function, with its handler.
    Route(&'a Route, &'a Endpoint),
    /// The `$default` function: 308s and 404s.
    Fallback,
}

impl Serving<'_> {
    /// The route's page; `None` for `$default`.
    fn page(&self) -> Option<&'static str> {
        match self {
            Serving::Route(route, _) => Some(route.spec.page),
            Serving::Fallback => None,
        }
    }

    /// When the proxy's time is up: the route's deadline (the proxy counts against its
    /// `max_duration`); for `$default`, Lambda's.
    fn deadline(&self, start: Instant, platform: Option<Instant>) -> Instant {
        match self {
            Serving::Route(route, _) => route.deadline(start, platform),
            Serving::Fallback => deadline(None, start, platform),
        }
    }
}

/// The state of one request between proxy runs.
struct Run<'a> {
    serving: Serving<'a>,
    /// The normalised path of the current target (the request's, or the rewrite's).
    pathname: String,
    /// Its raw query, without `?`.
    query: String,
    /// What the proxy runs leave for the answer.
    carry: ProxyHeaders,
    /// The request's target, then each rewrite's (path and query): the depth and the loop's
    /// log line (empty until the first rewrite).
    chain: Vec<String>,
}

/// What one proxy run leads to.
enum Step {
    /// The route (or `$default`) answers the current target.
    Route,
    /// Rewritten to a path this function serves: the proxy runs again if it matches.
    Again,
    /// The answer is made.
    Answer(Outgoing),
    /// Rewritten to another function's page, at this depth.
    Forward(String, u32),
}

impl Proxy {
    /// Serves one request through the proxy and then `serving`.
    pub(crate) async fn serve(
        &self,
        serving: Serving<'_>,
        mut incoming: Incoming,
        stream: Option<Writer>,
        logs: &mut Vec<String>,
    ) -> Outgoing {
        let start = Instant::now();
        let head = incoming.method == Method::HEAD;
        if incoming.rewrite_depth >= MAX_REWRITES {
            logs.push(format!(
                "nextr: [{}] {}: invoked for a rewrite to {} at depth {}; Next stops nested proxy runs at {MAX_REWRITES}, so this is a rewrite loop; answered 500",
                incoming.request_id, self.app.file, incoming.target, incoming.rewrite_depth
            ));
            return finish_head(error_page(), head);
        }
        if !single_host(&incoming.headers) {
            return Outgoing::text(400, "Bad Request");
        }
        if let Serving::Route(route, Endpoint::App(app)) = serving {
            if let Some(out) = app.before_routing(route, &incoming, logs) {
                return out;
            }
        }
        let (pathname, query) = match normalize(&incoming.target) {
            Err(_) => return Outgoing::text(400, "Bad Request"),
            Ok(Normalized::Redirect(location)) => return redirect_308(&location, head),
            Ok(Normalized::Path { pathname, query }) => (pathname, query.to_owned()),
        };
        strip_internal(&mut incoming.headers);
        let mut run = Run {
            serving,
            pathname,
            query,
            carry: ProxyHeaders::default(),
            chain: Vec::new(),
        };
        let deadline = serving.deadline(start, incoming.platform_deadline);
        loop {
            let view = MatchView {
                pathname: &run.pathname,
                query: &run.query,
                headers: &incoming.headers,
            };
            if !self.app.matcher.matches(&view) {
                break;
            }
            match self.step(&mut run, &mut incoming, deadline, logs).await {
                Step::Route => break,
                Step::Again => {}
                Step::Answer(out) => return finish_head(out, head),
                Step::Forward(page, depth) => {
                    let out = self.forward(&page, depth, incoming, &run.carry, logs).await;
                    return finish_head(out, head);
                }
            }
        }
        self.answer(run, incoming, start, stream, logs).await
    }

    /// One proxy run for the current target.
    async fn step(
        &self,
        run: &mut Run<'_>,
        incoming: &mut Incoming,
        deadline: Instant,
        logs: &mut Vec<String>,
    ) -> Step {
        let request = proxy_request(incoming, &run.pathname, &run.query);
        let base = request.url.clone();
        let run_proxy = CatchUnwind((self.app.handler)(request));
        let outcome =
            tokio::time::timeout_at(tokio::time::Instant::from_std(deadline), run_proxy).await;
        let response = match outcome {
            Err(_elapsed) => return Step::Answer(self.timeout(run.serving, incoming, logs)),
            Ok(Err(panic)) => {
                return self.failed(incoming, logs, format!("the proxy panicked: {panic}"))
            }
            Ok(Ok(Err(e))) => return self.failed(incoming, logs, e.to_string()),
            Ok(Ok(Ok(response))) => response,
        };
        let NextResponse {
            action,
            headers,
            cookies,
            request,
            problem,
        } = response;
        if let Some(problem) = problem {
            return self.failed(incoming, logs, problem.to_string());
        }
        if let Err(e) = run.carry.add(headers, &cookies) {
            return self.failed(incoming, logs, e.to_string());
        }
        request.apply(&mut incoming.headers);
        match action {
            Action::Next => Step::Route,
            Action::Respond(response) => {
                let carry = std::mem::take(&mut run.carry);
                Step::Answer(
                    self.respond(*response, carry, incoming, deadline, logs)
                        .await,
                )
            }
            Action::Redirect { url, status } => {
                let carry = std::mem::take(&mut run.carry);
                let answer = resolve(&url, &base).and_then(|target| {
                    let origin = url::Url::parse(&base).map_err(|_| InvalidUrl(base.clone()))?;
                    redirect(&target, &origin, status, carry.into_headers())
                        .ok_or(InvalidUrl(url.clone()))
                });
                match answer {
                    Ok(out) => Step::Answer(out),
                    Err(e) => self.failed(incoming, logs, e.to_string()),
                }
            }
            Action::Rewrite(url) => self.rewrite(run, incoming, &url, &base, logs),
        }
    }

    /// `NextResponse.rewrite(url)`: which function serves the target (this one, `$default`'s
    /// answer made here, or another function), counting the rewrites.
    fn rewrite(
        &self,
        run: &mut Run<'_>,
        incoming: &mut Incoming,
        url: &str,
        base: &str,
        logs: &mut Vec<String>,
    ) -> Step {
        let target = match resolve(url, base) {
            Ok(target) => target,
            Err(e) => return self.failed(incoming, logs, e.to_string()),
        };
        let own = url::Url::parse(base).is_ok_and(|origin| same_origin(&target, &origin));
        if !own {
            return self.failed(
                incoming,
                logs,
                format!("NextResponse.rewrite to another origin ({target}) is not supported: nextr serves the app's own routes only"),
            );
        }
        if let Err(e) = run.carry.rewrote_to(target.as_str()) {
            return self.failed(incoming, logs, e.to_string());
        }
        let path = path_and_query(&target).to_owned();
        if run.chain.is_empty() {
            run.chain.push(incoming.target.clone());
        }
        run.chain.push(path.clone());
        let here = u32::try_from(run.chain.len() - 1).unwrap_or(u32::MAX);
        let depth = incoming.rewrite_depth.saturating_add(here);
        if depth >= MAX_REWRITES {
            logs.push(format!(
                "nextr: [{}] {}: rewrite number {depth} of this request (here: {}); Next stops nested proxy runs at {MAX_REWRITES}, so this is a rewrite loop; answered 500",
                incoming.request_id,
                self.app.file,
                run.chain.join(" → ")
            ));
            return Step::Answer(rewrite_failed(&run.carry));
        }
        incoming.target = path;
        match self.app.table.route_for(&incoming.target) {
            Some(route) if Some(route.page()) == run.serving.page() => {}
            Some(route) => return Step::Forward(route.page().to_owned(), depth),
            // No route: the answer is the `$default` function's, made here.
            None => run.serving = Serving::Fallback,
        }
        match normalize(&incoming.target) {
            Ok(Normalized::Path { pathname, query }) => {
                run.pathname = pathname;
                run.query = query.to_owned();
                Step::Again
            }
            // A target Next would redirect: `$default` answers its 308, without a proxy run.
            _ => Step::Route,
        }
    }

    /// The route's (or `$default`'s) answer with the proxy's headers on it. When the
    /// invocation streams, the headers go into the head as it leaves, so a pass-through still
    /// streams.
    async fn answer(
        &self,
        run: Run<'_>,
        incoming: Incoming,
        start: Instant,
        stream: Option<Writer>,
        logs: &mut Vec<String>,
    ) -> Outgoing {
        let Run {
            serving,
            pathname,
            query,
            carry,
            ..
        } = run;
        let (route, endpoint) = match serving {
            Serving::Route(route, endpoint) => (route, endpoint),
            Serving::Fallback => {
                let mut out = fallback(&incoming);
                carry.apply(&mut out.headers, Precedence::Proxy);
                return out;
            }
        };
        let path = Path {
            pathname,
            raw_query: query,
            start,
        };
        if carry.is_empty() {
            return route
                .serve_path(endpoint, incoming, path, stream, logs)
                .await;
        }
        let precedence = match endpoint {
            Endpoint::Pages(_) => Precedence::Answer,
            Endpoint::App(_) => Precedence::Proxy,
        };
        let carry = Arc::new(carry);
        if let Some(writer) = &stream {
            let hook = Arc::clone(&carry);
            writer.on_head(Some(Box::new(move |headers: &mut HeaderMap| {
                hook.apply(headers, precedence);
            })));
        }
        let writer = stream.clone();
        let mut out = route
            .serve_path(endpoint, incoming, path, stream, logs)
            .await;
        // An answer whose head has not left goes out whole, after this: the headers are put
        // on it here, once.
        if let Some(writer) = writer {
            writer.on_head(None);
        }
        carry.apply(&mut out.headers, precedence);
        out
    }

    /// An early answer: the proxy's `Response` with the headers of every run (buffered: a
    /// streamed body is collected, within the deadline).
    async fn respond(
        &self,
        mut response: Response,
        carry: ProxyHeaders,
        incoming: &Incoming,
        deadline: Instant,
        logs: &mut Vec<String>,
    ) -> Outgoing {
        *response.headers_mut() = carry.into_headers();
        let head = incoming.method == Method::HEAD;
        let mut delivered = Vec::new();
        let outcome = tokio::time::timeout_at(
            tokio::time::Instant::from_std(deadline),
            deliver(response, None, head, &mut delivered),
        )
        .await;
        logs.extend(delivered);
        match outcome {
            Ok(Ok(out)) => out,
            Ok(Err(e)) => {
                self.log_error(incoming, logs, &format!("invalid response: {e}"));
                error_page()
            }
            Err(_elapsed) => {
                self.log_error(
                    incoming,
                    logs,
                    "its response's body did not end within the function's time limit",
                );
                error_page()
            }
        }
    }

    /// A rewrite to another function's page: that function answers (it runs the proxy again
    /// for the target), with this run's headers under its own.
    async fn forward(
        &self,
        page: &str,
        depth: u32,
        incoming: Incoming,
        carry: &ProxyHeaders,
        logs: &mut Vec<String>,
    ) -> Outgoing {
        let Some(function) = self.app.functions.get(page).and_then(Option::as_deref) else {
            self.log_error(
                &incoming,
                logs,
                &format!("the rewrite to {} is served by the route {page}, which has no function (it did not build)", incoming.target),
            );
            return rewrite_failed(carry);
        };
        let target = incoming.target.clone();
        let request_id = incoming.request_id.clone();
        let request = Forward {
            method: incoming.method,
            target: incoming.target,
            headers: incoming.headers,
            body: incoming.body,
            request_id: incoming.request_id,
            source_ip: incoming.source_ip,
            depth,
        };
        let answer = match &self.forwarder {
            Forwarder::Lambda => invoke::forward(function, request)
                .await
                .map_err(|e| e.to_string()),
            Forwarder::Local(functions) => match functions.upgrade() {
                Some(functions) => match functions.invoke(function, request).await {
                    Some((out, lines)) => {
                        logs.extend(lines);
                        Ok(out)
                    }
                    None => Err(format!("the test has no function {function}")),
                },
                None => Err("this test serves one function (serve the app with `nextr::testing::TestApp` to test rewrites across functions)".to_owned()),
            },
        };
        match answer {
            Ok(mut out) => {
                carry.apply(&mut out.headers, Precedence::Answer);
                out
            }
            Err(e) => {
                logs.push(format!(
                    "nextr: [{request_id}] {}: the rewrite to {target} is served by function {function} ({page}), which could not answer: {e}; answered 500",
                    self.app.file
                ));
                rewrite_failed(carry)
            }
        }
    }

    /// The proxy threw (an `Err`, a panic, an invalid result): Next's 500 page, logged as
    /// Next logs it (`Error: <message>`), with the proxy's file.
    fn failed(&self, incoming: &Incoming, logs: &mut Vec<String>, message: String) -> Step {
        self.log_error(incoming, logs, &message);
        Step::Answer(error_page())
    }

    fn log_error(&self, incoming: &Incoming, logs: &mut Vec<String>, message: &str) {
        logs.push(format!(
            "nextr: [{}] {}: Error: {message}",
            incoming.request_id, self.app.file
        ));
    }

    /// The proxy did not finish in time: the route's 504 (the proxy counts against its
    /// `max_duration`), or for `$default` the same answer without a route.
    fn timeout(
        &self,
        serving: Serving<'_>,
        incoming: &Incoming,
        logs: &mut Vec<String>,
    ) -> Outgoing {
        let head = incoming.method == Method::HEAD;
        match serving {
            Serving::Route(route, _) => {
                logs.push(format!(
                    "{} ({} did not return)",
                    route.timeout_log(&incoming.request_id),
                    self.app.file
                ));
                route.timeout_response(head)
            }
            Serving::Fallback => {
                logs.push(format!(
                    "nextr: [{}] {}: the proxy did not finish within the function's time limit; answered 504",
                    incoming.request_id, self.app.file
                ));
                finish_head(
                    Outgoing::json(
                        504,
                        &serde_json::json!({
                            "error": "FUNCTION_INVOCATION_TIMEOUT",
                            "message": "The proxy did not respond within the function's time limit.",
                        }),
                    ),
                    head,
                )
            }
        }
    }
}

/// The 500 of a rewrite that cannot be served, with what the proxy runs set (its
/// `x-middleware-rewrite` says where the request was going); the page keeps its own headers.
fn rewrite_failed(carry: &ProxyHeaders) -> Outgoing {
    let mut out = error_page();
    carry.apply(&mut out.headers, Precedence::Answer);
    out
}

/// The proxy's `request`: Next's `NextRequest` for the current target, with the request's
/// headers (Next's `x-forwarded-*` added) and a copy of its body, which the handler still
/// gets whole.
fn proxy_request(incoming: &Incoming, pathname: &str, query: &str) -> NextRequest {
    // The internal headers are gone already (`strip_internal`).
    let mut headers = incoming.headers.clone();
    add_forwarded(&mut headers, incoming.source_ip.as_deref());
    let (origin, host) = request_origin(&headers);
    let search_params = SearchParams::parse(query);
    let serialised = search_params.to_query_string();
    let search = if serialised.is_empty() {
        String::new()
    } else {
        format!("?{serialised}")
    };
    NextRequest {
        method: incoming.method.clone(),
        url: format!("{origin}{pathname}{search}"),
        next_url: NextUrl {
            origin,
            host,
            pathname: pathname.to_owned(),
            search,
            search_params,
            bailout: None,
        },
        cookies: RequestCookies::from_headers(&headers),
        headers,
        body: incoming.body.clone(),
        body_used: false,
        bailout: None,
    }
}

#[cfg(test)]
mod tests;
