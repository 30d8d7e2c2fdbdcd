//! `NextResponse`: what `proxy.rs` returns (Next's `NextResponse.next/rewrite/redirect` and
//! early answers), built like the App Router's [`Response`]: a constructor, then builders.
//!
//! Building never fails: an invalid header, cookie or redirect status is kept and reported
//! when the runtime acts on the result (logged; the client gets the proxy's 500 page, as a
//! throwing `NextResponse` call in Next would give).

use std::fmt;

use http::header::{HeaderName, HOST};
use http::HeaderMap;

use crate::app::{AppResponseError, Response, ResponseCookies};
use crate::response::{header_name, header_value, CookieOptions, IntoStatus};

/// What the proxy asks for, besides headers and cookies.
#[derive(Debug)]
pub(crate) enum Action {
    /// `NextResponse.next()` (or no result): the route answers.
    Next,
    /// `NextResponse.rewrite(url)`: the route of `url` answers (the URL as given).
    Rewrite(String),
    /// `NextResponse.redirect(url, status)`: the URL as given.
    Redirect {
        /// Absolute, or relative to the request's URL.
        url: String,
        /// 301, 302, 303, 307 or 308.
        status: u16,
    },
    /// An early answer (`Response`, `NextResponse.json(...)`): status and body; its headers
    /// and cookies are the [`NextResponse`]'s.
    Respond(Box<Response>),
}

/// What the handler's request headers become (Next's `next({ request: { headers } })`).
#[derive(Debug, Default)]
pub(crate) enum RequestHeaders {
    /// The request's own headers.
    #[default]
    Keep,
    /// These headers added or overwritten, the others kept.
    Modify(HeaderMap),
    /// Exactly these headers (plus the request's `Host` when they have none: `request.url`
    /// keeps its origin, as Next's does).
    Replace(HeaderMap),
}

impl RequestHeaders {
    /// Applies the change to the request's headers.
    pub(crate) fn apply(self, headers: &mut HeaderMap) {
        match self {
            RequestHeaders::Keep => {}
            RequestHeaders::Modify(changes) => overwrite(headers, changes),
            RequestHeaders::Replace(mut replacement) => {
                if !replacement.contains_key(HOST) {
                    if let Some(host) = headers.get(HOST) {
                        replacement.insert(HOST, host.clone());
                    }
                }
                *headers = replacement;
            }
        }
    }
}

/// Every name of `changes` replaces that header of `headers` (all its values).
fn overwrite(headers: &mut HeaderMap, changes: HeaderMap) {
    let mut current: Option<HeaderName> = None;
    for (name, value) in changes {
        // `HeaderMap`'s owned iterator names a header once, then `None` for its other values.
        if let Some(name) = name {
            headers.remove(&name);
            current = Some(name);
        }
        if let Some(name) = &current {
            headers.append(name.clone(), value);
        }
    }
}

/// The result of `proxy.rs`: go on to the route (`next`), rewrite, redirect, or answer early.
///
/// `.header()` and `.cookie()` set response headers and `Set-Cookie`s: on the route's answer
/// after [`next`](Self::next) or [`rewrite`](Self::rewrite), on the redirect, or on the early
/// answer. `.request_header()` and `.request_headers()` change the headers the route's
/// handler sees; nothing of them reaches the client.
pub struct NextResponse {
    pub(crate) action: Action,
    pub(crate) headers: HeaderMap,
    pub(crate) cookies: ResponseCookies,
    pub(crate) request: RequestHeaders,
    /// The first problem met while building.
    pub(crate) problem: Option<AppResponseError>,
}

impl fmt::Debug for NextResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NextResponse")
            .field("action", &self.action)
            .field("headers", &self.headers)
            .field("cookies", &self.cookies)
            .field("request", &self.request)
            .field("problem", &self.problem)
            .finish()
    }
}

impl NextResponse {
    fn with(action: Action) -> Self {
        NextResponse {
            action,
            headers: HeaderMap::new(),
            cookies: ResponseCookies::new(),
            request: RequestHeaders::Keep,
            problem: None,
        }
    }

    /// `NextResponse.next()`: the route answers; this response's headers and cookies are
    /// added to its answer.
    pub fn next() -> Self {
        Self::with(Action::Next)
    }

    /// `NextResponse.rewrite(url)`: the route of `url` answers instead, with `url`'s path and
    /// query (the request's query is not kept). `url` is absolute (`https://…`, the request's
    /// own origin) or relative to the request (`/api/x?y=1`), as `new URL(url, request.url)`.
    pub fn rewrite(url: impl Into<String>) -> Self {
        Self::with(Action::Rewrite(url.into()))
    }

    /// `NextResponse.redirect(url)`: 307 to `url` (absolute, or relative to the request).
    pub fn redirect(url: impl Into<String>) -> Self {
        Self::with(Action::Redirect {
            url: url.into(),
            status: 307,
        })
    }

    /// `NextResponse.redirect(url, status)`: 301, 302, 303, 307 or 308 (another status is
    /// Next's `RangeError`: the proxy's 500).
    pub fn redirect_with(url: impl Into<String>, status: impl IntoStatus) -> Self {
        let status = status.into_status();
        let mut res = Self::with(Action::Redirect {
            url: url.into(),
            status,
        });
        if ![301, 302, 303, 307, 308].contains(&status) {
            res.fail(AppResponseError::InvalidStatus(status));
        }
        res
    }

    /// Sets a response header, replacing any value it had.
    pub fn header<K, V>(mut self, name: K, value: V) -> Self
    where
        K: TryInto<HeaderName> + Clone + fmt::Debug,
        V: AsRef<str>,
    {
        match header_name(name).and_then(|n| Ok((n, header_value(value.as_ref())?))) {
            Ok((name, value)) => {
                self.headers.insert(name, value);
            }
            Err(e) => self.fail(e.into()),
        }
        self
    }

    /// Sets a response cookie (`res.cookies.set(name, value, options)`, serialised as Next's).
    pub fn cookie(mut self, name: &str, value: &str, options: CookieOptions) -> Self {
        self.cookies.set(name, value, options);
        self
    }

    /// A request header the route's handler sees, added or replacing the client's
    /// (`next({ request: { headers } })` with one header changed).
    pub fn request_header<K, V>(mut self, name: K, value: V) -> Self
    where
        K: TryInto<HeaderName> + Clone + fmt::Debug,
        V: AsRef<str>,
    {
        let (name, value) =
            match header_name(name).and_then(|n| Ok((n, header_value(value.as_ref())?))) {
                Ok(pair) => pair,
                Err(e) => {
                    self.fail(e.into());
                    return self;
                }
            };
        match &mut self.request {
            RequestHeaders::Modify(map) | RequestHeaders::Replace(map) => {
                map.insert(name, value);
            }
            keep @ RequestHeaders::Keep => {
                let mut map = HeaderMap::new();
                map.insert(name, value);
                *keep = RequestHeaders::Modify(map);
            }
        }
        self
    }

    /// The headers the route's handler sees instead of the client's (`next({ request: {
    /// headers } })`): start from `req.headers().clone()` to change a few.
    pub fn request_headers(mut self, headers: HeaderMap) -> Self {
        self.request = RequestHeaders::Replace(headers);
        self
    }

    /// The response headers set so far.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The response headers, to change them in place (`res.headers.set(...)`).
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.headers
    }

    /// The response cookies set so far.
    pub fn cookies(&self) -> &ResponseCookies {
        &self.cookies
    }

    /// The response cookies, to `set` or `delete` (`res.cookies`).
    pub fn cookies_mut(&mut self) -> &mut ResponseCookies {
        &mut self.cookies
    }

    /// The status of an early answer or a redirect; `None` when the route answers.
    pub fn status_code(&self) -> Option<u16> {
        match &self.action {
            Action::Next | Action::Rewrite(_) => None,
            Action::Redirect { status, .. } => Some(*status),
            Action::Respond(response) => Some(response.status_code()),
        }
    }

    fn fail(&mut self, e: AppResponseError) {
        self.problem.get_or_insert(e);
    }
}

/// An early answer: the route does not run, the client gets this response as it is.
impl From<Response> for NextResponse {
    fn from(mut response: Response) -> Self {
        let headers = std::mem::take(response.headers_mut());
        let cookies = std::mem::take(response.cookies_mut());
        let problem = response.problem.take();
        NextResponse {
            action: Action::Respond(Box::new(response)),
            headers,
            cookies,
            request: RequestHeaders::Keep,
            problem,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::{CONTENT_TYPE, COOKIE};
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(*k, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn request_header_overwrites_and_keeps_the_rest() {
        let res = NextResponse::next()
            .request_header("x-from-proxy", "hello")
            .request_header("x-overwrite", "by-proxy");
        let mut seen = headers(&[
            ("x-overwrite", "from-client"),
            ("x-overwrite", "twice"),
            ("accept", "*/*"),
        ]);
        res.request.apply(&mut seen);
        assert_eq!(seen["x-from-proxy"], "hello");
        assert_eq!(seen.get_all("x-overwrite").iter().count(), 1);
        assert_eq!(seen["x-overwrite"], "by-proxy");
        assert_eq!(seen["accept"], "*/*");
    }

    #[test]
    fn request_headers_replace_all_but_the_host() {
        let res = NextResponse::next()
            .request_headers(headers(&[(COOKIE.as_str(), "pre=0; injected=yes")]))
            .request_header("x-after", "1");
        let mut seen = headers(&[("host", "api.example.com"), ("x-client", "gone")]);
        res.request.apply(&mut seen);
        assert_eq!(seen[COOKIE], "pre=0; injected=yes");
        assert_eq!(seen["x-after"], "1");
        assert_eq!(seen[HOST], "api.example.com");
        assert!(seen.get("x-client").is_none());
    }

    #[test]
    fn an_early_response_keeps_its_headers_and_cookies_on_the_proxy_result() {
        let res: NextResponse = Response::json(&serde_json::json!({"error": "unauthorized"}))
            .status(401)
            .header("www-authenticate", "Bearer")
            .cookie("a", "1", CookieOptions::default())
            .into();
        assert_eq!(res.status_code(), Some(401));
        assert_eq!(res.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(res.headers()["www-authenticate"], "Bearer");
        assert!(res.cookies().has("a"));
        let res = res.header("x-proxy-ran", "/api/px/auth");
        assert_eq!(res.headers().len(), 3);
    }

    #[test]
    fn invalid_parts_are_kept_as_the_problem() {
        let res = NextResponse::redirect_with("/x", 200);
        assert_eq!(
            res.problem.map(|p| p.to_string()).as_deref(),
            Some("RangeError: Invalid status code 200")
        );
        let res = NextResponse::next().header("bad name", "v");
        assert!(res.problem.is_some());
        let res = NextResponse::next().request_header("x-ok", "line\nbreak");
        assert!(res.problem.is_some());
        assert!(matches!(res.request, RequestHeaders::Keep));
        for status in [301u16, 302, 303, 307, 308] {
            assert!(NextResponse::redirect_with("/x", status).problem.is_none());
        }
    }
}
