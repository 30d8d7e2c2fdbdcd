//! `Response`: what an App Router handler returns (Next's `Response` / `NextResponse`), built
//! axum-style: a constructor for the body, then builder methods for status and headers.
//!
//! Building never fails: an invalid status, header or JSON body is kept and reported when the
//! runtime sends the response (logged; the client gets Next's empty 500, as a throwing
//! `new Response(...)` would give). `Response::redirect` is the exception: it returns a
//! `Result`, so that `?` turns a relative URL into that 500 at the call, as Next's throw does.
//!
//! A custom reason phrase (`statusText`) cannot be expressed: API Gateway and Lambda send the
//! standard phrase of the status code.

use std::error::Error as StdError;
use std::fmt;
use std::pin::Pin;

use bytes::Bytes;
use futures_core::Stream;
use http::header::{HeaderName, HeaderValue, CONTENT_TYPE, LOCATION, SET_COOKIE};
use http::{HeaderMap, StatusCode};
use serde::Serialize;

use super::cookies::ResponseCookies;
use crate::response::{header_name, header_value, CookieOptions, IntoStatus, ResponseError};

/// A streamed body's chunks; an `Err` item cuts the body where it is.
pub(crate) type BodyChunks =
    Pin<Box<dyn Stream<Item = Result<Bytes, Box<dyn StdError + Send + Sync>>> + Send>>;

/// A response body: none, bytes known now, or a stream.
pub(crate) enum Body {
    Empty,
    Bytes(Bytes),
    Stream(BodyChunks),
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Body::Empty => f.write_str("Empty"),
            Body::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
            Body::Stream(_) => f.write_str("Stream"),
        }
    }
}

/// Why a response could not be built or sent (the client gets Next's empty 500).
#[derive(Debug, thiserror::Error)]
pub enum AppResponseError {
    /// A status outside 200–599 (WHATWG `Response`'s `RangeError`), or a redirect status
    /// that is not 301, 302, 303, 307 or 308.
    #[error("RangeError: Invalid status code {0}")]
    InvalidStatus(u16),
    /// A header name or value HTTP does not allow, or a body that is not JSON.
    #[error(transparent)]
    Header(#[from] ResponseError),
    /// `Response::redirect` with a URL that is not absolute (Next's `TypeError`).
    #[error("TypeError: Failed to parse URL from {0}")]
    InvalidUrl(String),
}

/// An App Router response (Next's `Response` / `NextResponse`).
#[derive(Debug)]
pub struct Response {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Body,
    pub(crate) cookies: ResponseCookies,
    /// The first problem met while building.
    pub(crate) problem: Option<AppResponseError>,
}

/// A status (a `u16` or a `StatusCode`) checked as the WHATWG `Response` checks it.
fn status_of(status: impl IntoStatus) -> Result<u16, AppResponseError> {
    let status = status.into_status();
    if (200..=599).contains(&status) {
        Ok(status)
    } else {
        Err(AppResponseError::InvalidStatus(status))
    }
}

impl Response {
    fn with_body(body: Body, content_type: Option<&'static str>) -> Self {
        let mut headers = HeaderMap::new();
        if let Some(ct) = content_type {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(ct));
        }
        Response {
            status: 200,
            headers,
            body,
            cookies: ResponseCookies::new(),
            problem: None,
        }
    }

    /// `Response.json(value)`: 200, `content-type: application/json` (no charset, as Next).
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Self {
        match serde_json::to_vec(value) {
            Ok(text) => Self::with_body(Body::Bytes(text.into()), Some("application/json")),
            Err(e) => {
                let mut res = Self::with_body(Body::Empty, None);
                res.problem = Some(ResponseError::Json(e).into());
                res
            }
        }
    }

    /// `new Response(text)`: 200, `content-type: text/plain;charset=UTF-8`.
    pub fn text(text: impl Into<String>) -> Self {
        let text: String = text.into();
        Self::with_body(
            Body::Bytes(Bytes::from(text)),
            Some("text/plain;charset=UTF-8"),
        )
    }

    /// `new Response(uint8Array)`: 200, the bytes, no content type.
    pub fn bytes(bytes: impl Into<Bytes>) -> Self {
        Self::with_body(Body::Bytes(bytes.into()), None)
    }

    /// `new Response(null, { status })`: no body, no content type (204 is the usual one).
    pub fn new(status: impl IntoStatus) -> Self {
        Self::with_body(Body::Empty, None).status(status)
    }

    /// `new Response(null, { status: 204 })`.
    pub fn empty() -> Self {
        Self::new(StatusCode::NO_CONTENT)
    }

    /// `new Response(readableStream)`: a body sent chunk by chunk as the stream yields. When
    /// the invocation streams (a REST API or function URL in `stream` mode) each chunk leaves
    /// at once; otherwise the chunks are collected and sent together. An `Err` item ends the
    /// body where it is (logged), as Next cuts the connection after `failed to pipe response`.
    /// A streamed response without a content type reaches the client as
    /// `application/octet-stream` (Lambda's default for a stream; Next sends none): set one.
    pub fn stream<S, B, E>(stream: S) -> Self
    where
        S: Stream<Item = Result<B, E>> + Send + 'static,
        B: Into<Bytes>,
        E: Into<Box<dyn StdError + Send + Sync>>,
    {
        let chunks = MapChunks(Box::pin(stream));
        Self::with_body(Body::Stream(Box::pin(chunks)), None)
    }

    /// `NextResponse.redirect(url)`: 307, `Location` = `url`, empty body. `url` must be
    /// absolute (build it on [`NextUrl::origin`](super::NextUrl::origin)); a relative one is
    /// Next's `TypeError`, a 500 once returned with `?`.
    pub fn redirect(url: &str) -> Result<Self, AppResponseError> {
        Self::redirect_with(url, StatusCode::TEMPORARY_REDIRECT)
    }

    /// `Response.redirect(url, status)`: [`Response::redirect`] with 301, 302, 303, 307 or 308.
    pub fn redirect_with(url: &str, status: impl IntoStatus) -> Result<Self, AppResponseError> {
        let status = status_of(status)?;
        if ![301, 302, 303, 307, 308].contains(&status) {
            return Err(AppResponseError::InvalidStatus(status));
        }
        let parsed = url::Url::parse(url).map_err(|_| AppResponseError::InvalidUrl(url.into()))?;
        let location = header_value(parsed.as_str())?;
        let mut res = Self::with_body(Body::Empty, None);
        res.status = status;
        res.headers.insert(LOCATION, location);
        Ok(res)
    }

    /// Sets the status (a `u16` or a `StatusCode`; outside 200–599 the response is a 500).
    pub fn status(mut self, status: impl IntoStatus) -> Self {
        match status_of(status) {
            Ok(s) => self.status = s,
            Err(e) => self.fail(e),
        }
        self
    }

    /// Sets a header, replacing any value it had (`headers: { name: value }`, so a
    /// `content-type` here wins over the constructor's).
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

    /// `headers.append(name, value)`: `set-cookie` values stay separate lines; any other
    /// repeated header is joined into one line with `", "`, as the WHATWG `Headers` does.
    pub fn append_header<K, V>(mut self, name: K, value: V) -> Self
    where
        K: TryInto<HeaderName> + Clone + fmt::Debug,
        V: AsRef<str>,
    {
        let name = match header_name(name) {
            Ok(n) => n,
            Err(e) => {
                self.fail(e.into());
                return self;
            }
        };
        let joined = match self.headers.get(&name) {
            Some(old) if name != SET_COOKIE => {
                format!(
                    "{}, {}",
                    String::from_utf8_lossy(old.as_bytes()),
                    value.as_ref()
                )
            }
            _ => value.as_ref().to_owned(),
        };
        match header_value(&joined) {
            Ok(v) if name == SET_COOKIE => {
                self.headers.append(name, v);
            }
            Ok(v) => {
                self.headers.insert(name, v);
            }
            Err(e) => self.fail(e.into()),
        }
        self
    }

    /// The status.
    pub fn status_code(&self) -> u16 {
        self.status
    }

    /// The headers set so far.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// `response.cookies`: the cookies set so far.
    pub fn cookies(&self) -> &ResponseCookies {
        &self.cookies
    }

    /// `response.cookies`, to `set` or `delete` cookies; each becomes a `Set-Cookie` line
    /// (after those set with [`append_header`](Self::append_header)), serialised as Next does.
    pub fn cookies_mut(&mut self) -> &mut ResponseCookies {
        &mut self.cookies
    }

    /// Sets a cookie (builder form of `cookies_mut().set(...)`).
    pub fn cookie(mut self, name: &str, value: &str, options: CookieOptions) -> Self {
        self.cookies.set(name, value, options);
        self
    }

    /// The headers, to change them in place.
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.headers
    }

    fn fail(&mut self, e: AppResponseError) {
        self.problem.get_or_insert(e);
    }
}

/// Adapts a user stream's items to [`BodyChunks`]'.
struct MapChunks<S>(Pin<Box<S>>);

impl<S, B, E> Stream for MapChunks<S>
where
    S: Stream<Item = Result<B, E>>,
    B: Into<Bytes>,
    E: Into<Box<dyn StdError + Send + Sync>>,
{
    type Item = Result<Bytes, Box<dyn StdError + Send + Sync>>;

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.0
            .as_mut()
            .poll_next(cx)
            .map(|item| item.map(|r| r.map(Into::into).map_err(Into::into)))
    }
}

/// `redirect(path)` from `next/navigation`: 307 with `Location` exactly as given (relative
/// is fine) and an empty body, whatever the method (a POST gets 307 too, not 303).
pub fn redirect(path: &str) -> Response {
    navigation_redirect(path, 307)
}

/// `permanentRedirect(path)` from `next/navigation`: [`redirect`] with 308.
pub fn permanent_redirect(path: &str) -> Response {
    navigation_redirect(path, 308)
}

/// `notFound()` from `next/navigation`: 404 with an empty body (no HTML page).
pub fn not_found() -> Response {
    Response::new(StatusCode::NOT_FOUND)
}

fn navigation_redirect(path: &str, status: u16) -> Response {
    Response::new(status).header(LOCATION, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_set_next_content_types() {
        let r = Response::json(&serde_json::json!({"a": 1}));
        assert_eq!(r.headers[CONTENT_TYPE], "application/json");
        assert!(matches!(&r.body, Body::Bytes(b) if b.as_ref() == br#"{"a":1}"#));
        let r = Response::text("hi");
        assert_eq!(r.headers[CONTENT_TYPE], "text/plain;charset=UTF-8");
        let r = Response::bytes(vec![0u8, 255]);
        assert!(r.headers.is_empty());
        let r = Response::empty();
        assert_eq!(r.status, 204);
        assert!(r.headers.is_empty() && matches!(r.body, Body::Empty));
    }

    #[test]
    fn header_replaces_and_append_joins_except_set_cookie() {
        let r = Response::json(&1)
            .header("content-type", "application/vnd.api+json")
            .append_header("x-dup", "1")
            .append_header("x-dup", "2")
            .append_header("set-cookie", "a=1; Path=/")
            .append_header("set-cookie", "b=2; Path=/");
        assert_eq!(r.headers[CONTENT_TYPE], "application/vnd.api+json");
        assert_eq!(r.headers.get_all("x-dup").iter().count(), 1);
        assert_eq!(r.headers["x-dup"], "1, 2");
        let cookies: Vec<_> = r.headers.get_all(SET_COOKIE).iter().collect();
        assert_eq!(cookies, ["a=1; Path=/", "b=2; Path=/"]);
        assert!(r.problem.is_none());
    }

    #[test]
    fn invalid_parts_are_kept_as_the_problem() {
        let r = Response::text("x").status(1000u16);
        assert_eq!(
            r.problem.unwrap().to_string(),
            "RangeError: Invalid status code 1000"
        );
        let r = Response::text("x").header("bad name", "v");
        assert!(r.problem.is_some());
        let r = Response::text("x").header("x-ok", "line\nbreak");
        assert!(r.problem.is_some());
    }

    #[test]
    fn redirects_need_an_absolute_url() {
        let r = Response::redirect("http://localhost:3000/api/s/target?from=redirect").unwrap();
        assert_eq!(r.status, 307);
        assert_eq!(
            r.headers[LOCATION],
            "http://localhost:3000/api/s/target?from=redirect"
        );
        let r = Response::redirect_with("https://example.com", 301).unwrap();
        assert_eq!(
            (r.status, r.headers[LOCATION].to_str().unwrap()),
            (301, "https://example.com/")
        );
        let e = Response::redirect("/api/s/target").unwrap_err();
        assert_eq!(
            e.to_string(),
            "TypeError: Failed to parse URL from /api/s/target"
        );
        assert!(Response::redirect_with("https://example.com/", 200).is_err());
    }

    #[test]
    fn navigation_helpers_keep_the_location_as_given() {
        let r = redirect("/api/s/target?from=nav");
        assert_eq!(
            (r.status, r.headers[LOCATION].to_str().unwrap()),
            (307, "/api/s/target?from=nav")
        );
        assert_eq!(permanent_redirect("/x").status, 308);
        let r = not_found();
        assert_eq!(r.status, 404);
        assert!(r.headers.is_empty() && matches!(r.body, Body::Empty));
    }
}
