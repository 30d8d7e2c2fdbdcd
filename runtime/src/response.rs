//! `NextApiResponse`: `res.status()`, `res.json()`, `res.send()`, `res.redirect()`, headers,
//! cookies, `res.write_head()`/`res.write()`/`res.end()`, `res.stream()`, `res.revalidate()`,
//! with Next's observable behaviour.
//!
//! A response leaves in one of two ways, chosen by the runtime per invocation (see
//! [`crate::lambda`]):
//!
//! - **buffered** (the default, and always behind an HTTP API): nothing goes to the client
//!   until the handler returns; `write` appends to the body, `drain` returns at once, and the
//!   whole answer (up to Lambda's 6 MB) is sent at the end.
//! - **streamed** (`response = "stream"`, behind a REST API or a function URL): as Node's
//!   `http.ServerResponse` does in `next start`, the status and headers leave with the first
//!   `write` (or `write_head`, `end`, or the handler returning), each `write` reaches the
//!   client as its own chunk right away, and `end` closes the body. An answer completed in
//!   one call (`json`, `send`, `redirect`, an error) is sent whole, with the same status,
//!   headers and body as when buffered. A streamed response without a `Content-Type` reaches
//!   the client as `application/octet-stream` (Lambda's default; Next would send none).

use std::fmt;

use bytes::{Bytes, BytesMut};
use http::header::{
    AsHeaderName, HeaderName, HeaderValue, CONTENT_LENGTH, CONTENT_TYPE, ETAG, LOCATION,
};
use http::{HeaderMap, StatusCode};
use serde::Serialize;

use crate::error::{ErrorResponse, Result};
use crate::streaming::Writer;
use crate::util::{etag_of_bytes, etag_of_str};

const JSON_CONTENT_TYPE: &str = "application/json; charset=utf-8";

/// Why a response helper failed (the handler's error: the client gets a 500).
#[derive(Debug, thiserror::Error)]
pub enum ResponseError {
    /// A status outside 100–999 (Node's `ERR_HTTP_INVALID_STATUS_CODE`).
    #[error("Invalid status code: {0}")]
    InvalidStatus(u16),
    /// A header name that is not an HTTP token (the name as given, quoted).
    #[error("Invalid header name: {0}")]
    InvalidHeaderName(String),
    /// A header value with characters HTTP does not allow (control characters).
    #[error("Invalid character in header content [{0:?}]")]
    InvalidHeaderValue(String),
    /// The response was already sent (`ERR_HTTP_HEADERS_SENT` / write after end).
    #[error("Cannot {0} after the response was sent")]
    AlreadySent(&'static str),
    /// Headers cannot change once `write` or `write_head` sent them.
    #[error("Cannot set headers after they are sent to the client")]
    HeadersSent,
    /// A value that cannot be serialised to JSON.
    #[error("could not serialize the response body as JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// A status as the response helpers take it: a `u16` (any number, as in Next, so an invalid one
/// is the clean 500 Next's would be) or an [`http::StatusCode`].
pub trait IntoStatus: sealed::Sealed {
    /// The numeric code.
    fn into_status(self) -> u16;
}

impl IntoStatus for u16 {
    fn into_status(self) -> u16 {
        self
    }
}

impl IntoStatus for StatusCode {
    fn into_status(self) -> u16 {
        self.as_u16()
    }
}

// Sealed: one more integer impl would make `res.status(200)` ambiguous.
mod sealed {
    pub trait Sealed {}
    impl Sealed for u16 {}
    impl Sealed for http::StatusCode {}
}

/// What a request says about caching, for `send`'s ETag/304 rule (the `fresh` package).
#[derive(Debug, Clone, Default)]
pub(crate) struct Conditional {
    pub(crate) if_none_match: Option<String>,
    pub(crate) if_modified_since: bool,
    pub(crate) no_cache: bool,
}

impl Conditional {
    pub(crate) fn from_headers(headers: &HeaderMap) -> Self {
        let text = |name: &str| {
            headers
                .get(name)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        };
        let no_cache = text("cache-control").is_some_and(|cc| {
            cc.split(',')
                .any(|d| d.trim_matches(|c: char| c == ' ' || c == '\t') == "no-cache")
        });
        Conditional {
            if_none_match: text("if-none-match").filter(|s| !s.is_empty()),
            if_modified_since: text("if-modified-since").is_some_and(|s| !s.is_empty()),
            no_cache,
        }
    }

    /// `fresh(req.headers, { etag })`.
    fn is_fresh(&self, etag: &str) -> bool {
        if self.if_none_match.is_none() && !self.if_modified_since {
            return false;
        }
        if self.no_cache {
            return false;
        }
        if let Some(none_match) = self.if_none_match.as_deref() {
            if none_match != "*" {
                let weak = format!("W/{etag}");
                let matches = none_match
                    .split([' ', ','])
                    .filter(|t| !t.is_empty())
                    .any(|t| t == etag || t == weak || format!("W/{t}") == etag);
                if !matches {
                    return false;
                }
            }
        }
        // Next passes no Last-Modified, so any If-Modified-Since makes the response stale.
        !self.if_modified_since
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Open,
    Writing,
    Ended,
}

/// The response under construction, as a Next API route sees `res`.
///
/// Buffered, the client gets the status, headers and body built here when the handler
/// returns; streamed, the head leaves with the first write and every write as it happens (see
/// the [module docs](crate::response)).
pub struct NextApiResponse {
    status: u16,
    headers: HeaderMap,
    /// The body (buffered), or what is left to send (streamed: always empty).
    body: BytesMut,
    state: State,
    conditional: Conditional,
    /// The pipe to the client when this invocation streams.
    stream: Option<Writer>,
    pub(crate) url: String,
    pub(crate) response_limit: Option<u64>,
    pub(crate) warnings: Vec<String>,
}

impl fmt::Debug for NextApiResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NextApiResponse")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body_len", &self.body.len())
            .field("state", &self.state)
            .field("stream", &self.stream)
            .finish()
    }
}

/// A body for [`NextApiResponse::send`], classified as Next's `sendData` does.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// `null`/`undefined`: ends the response with no body and no content type.
    Empty,
    /// A string: sent as is, no content type added.
    Text(String),
    /// A `Buffer`: `application/octet-stream` unless a content type is set.
    Bytes(Bytes),
    /// An object, array, number or boolean, already serialised: JSON content type forced.
    Json(String),
}

/// Converts a value into the [`Payload`] `res.send` sends.
pub trait IntoPayload {
    /// The conversion (JSON serialisation can fail).
    fn into_payload(self) -> Result<Payload>;
}

impl IntoPayload for Payload {
    fn into_payload(self) -> Result<Payload> {
        Ok(self)
    }
}
impl IntoPayload for &str {
    fn into_payload(self) -> Result<Payload> {
        Ok(Payload::Text(self.to_owned()))
    }
}
impl IntoPayload for String {
    fn into_payload(self) -> Result<Payload> {
        Ok(Payload::Text(self))
    }
}
impl IntoPayload for &String {
    fn into_payload(self) -> Result<Payload> {
        Ok(Payload::Text(self.clone()))
    }
}
impl IntoPayload for Vec<u8> {
    fn into_payload(self) -> Result<Payload> {
        Ok(Payload::Bytes(Bytes::from(self)))
    }
}
impl IntoPayload for &[u8] {
    fn into_payload(self) -> Result<Payload> {
        Ok(Payload::Bytes(Bytes::copy_from_slice(self)))
    }
}
impl<const N: usize> IntoPayload for &[u8; N] {
    fn into_payload(self) -> Result<Payload> {
        Ok(Payload::Bytes(Bytes::copy_from_slice(self)))
    }
}
impl IntoPayload for Bytes {
    fn into_payload(self) -> Result<Payload> {
        Ok(Payload::Bytes(self))
    }
}
impl IntoPayload for () {
    fn into_payload(self) -> Result<Payload> {
        Ok(Payload::Empty)
    }
}
impl<T: IntoPayload> IntoPayload for Option<T> {
    fn into_payload(self) -> Result<Payload> {
        match self {
            Some(v) => v.into_payload(),
            None => Ok(Payload::Empty),
        }
    }
}
impl IntoPayload for serde_json::Value {
    fn into_payload(self) -> Result<Payload> {
        (&self).into_payload()
    }
}
impl IntoPayload for &serde_json::Value {
    fn into_payload(self) -> Result<Payload> {
        Ok(match self {
            serde_json::Value::Null => Payload::Empty,
            serde_json::Value::String(s) => Payload::Text(s.clone()),
            other => Payload::Json(serde_json::to_string(other).map_err(ResponseError::from)?),
        })
    }
}
macro_rules! json_like {
    ($($t:ty),*) => {$(
        impl IntoPayload for $t {
            fn into_payload(self) -> Result<Payload> {
                Ok(Payload::Json(serde_json::to_string(&self).map_err(ResponseError::from)?))
            }
        }
    )*};
}
json_like!(bool, i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, f32, f64);

/// Sends any serialisable value as JSON through `res.send` (object semantics: the JSON content
/// type is forced): `res.send(Json(&user))`.
#[derive(Debug, Clone, Copy)]
pub struct Json<T>(pub T);

impl<T: Serialize> IntoPayload for Json<T> {
    fn into_payload(self) -> Result<Payload> {
        Ok(Payload::Json(
            serde_json::to_string(&self.0).map_err(ResponseError::from)?,
        ))
    }
}

/// `SameSite` attribute of a cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameSite {
    /// `SameSite=Strict`.
    Strict,
    /// `SameSite=Lax`.
    Lax,
    /// `SameSite=None` (browsers require `Secure` with it).
    None,
}

/// `Priority` attribute of a cookie (Chrome's cookie priority).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// `Priority=Low`.
    Low,
    /// `Priority=Medium`.
    Medium,
    /// `Priority=High`.
    High,
}

/// Attributes of a cookie, for both routers: [`NextApiResponse::set_cookie`] (the `cookie`
/// package's `serialize` options) and the App Router's `ResponseCookies::set` (Next's
/// `ResponseCookie`; it defaults `path` to `/`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CookieOptions {
    /// `Max-Age` in seconds.
    pub max_age: Option<i64>,
    /// `Domain`.
    pub domain: Option<String>,
    /// `Path`.
    pub path: Option<String>,
    /// `Expires`, as an HTTP date (`Thu, 01 Jan 1970 00:00:00 GMT`).
    pub expires: Option<String>,
    /// `HttpOnly`.
    pub http_only: bool,
    /// `Secure`.
    pub secure: bool,
    /// `SameSite`.
    pub same_site: Option<SameSite>,
    /// `Partitioned`.
    pub partitioned: bool,
    /// `Priority`.
    pub priority: Option<Priority>,
}

impl CookieOptions {
    /// `Path=/; HttpOnly`: the usual session cookie.
    pub fn session() -> Self {
        CookieOptions {
            path: Some("/".into()),
            http_only: true,
            ..Default::default()
        }
    }
}

/// The `cookie` package's `serialize`: the value is `encodeURIComponent`-ed.
pub fn serialize_cookie(name: &str, value: &str, opts: &CookieOptions) -> String {
    let mut s = format!("{}={}", name, crate::routing::encode_uri_component(value));
    if let Some(age) = opts.max_age {
        s.push_str(&format!("; Max-Age={age}"));
    }
    if let Some(d) = &opts.domain {
        s.push_str(&format!("; Domain={d}"));
    }
    if let Some(p) = &opts.path {
        s.push_str(&format!("; Path={p}"));
    }
    if let Some(e) = &opts.expires {
        s.push_str(&format!("; Expires={e}"));
    }
    if opts.http_only {
        s.push_str("; HttpOnly");
    }
    if opts.secure {
        s.push_str("; Secure");
    }
    if opts.partitioned {
        s.push_str("; Partitioned");
    }
    match opts.priority {
        Some(Priority::Low) => s.push_str("; Priority=Low"),
        Some(Priority::Medium) => s.push_str("; Priority=Medium"),
        Some(Priority::High) => s.push_str("; Priority=High"),
        None => {}
    }
    match opts.same_site {
        Some(SameSite::Strict) => s.push_str("; SameSite=Strict"),
        Some(SameSite::Lax) => s.push_str("; SameSite=Lax"),
        Some(SameSite::None) => s.push_str("; SameSite=None"),
        None => {}
    }
    s
}

/// Converts a name given as text or as a `HeaderName`. The conversion consumes the name, so a
/// copy is kept to say which name was invalid.
pub(crate) fn header_name<K>(name: K) -> std::result::Result<HeaderName, ResponseError>
where
    K: TryInto<HeaderName> + Clone + fmt::Debug,
{
    name.clone()
        .try_into()
        .map_err(|_| ResponseError::InvalidHeaderName(format!("{name:?}")))
}

pub(crate) fn header_value(value: &str) -> std::result::Result<HeaderValue, ResponseError> {
    HeaderValue::from_str(value).map_err(|_| ResponseError::InvalidHeaderValue(value.to_owned()))
}

impl NextApiResponse {
    /// A fresh response (200, no headers) for a request with these caching headers.
    pub(crate) fn new(conditional: Conditional, url: String, response_limit: Option<u64>) -> Self {
        NextApiResponse {
            status: 200,
            headers: HeaderMap::new(),
            body: BytesMut::new(),
            state: State::Open,
            conditional,
            stream: None,
            url,
            response_limit,
            warnings: Vec::new(),
        }
    }

    /// `res.status(code)`: sets the status (`201` or `StatusCode::CREATED`) and returns `res`
    /// for chaining. Next does not validate it; nextr accepts 100–999 and makes anything else
    /// an error when the response is sent (→ 500).
    pub fn status(&mut self, code: impl IntoStatus) -> &mut Self {
        self.status = code.into_status();
        self
    }

    /// The status set so far (200 by default).
    pub fn status_code(&self) -> u16 {
        self.status
    }

    /// `res.setHeader(name, value)`: replaces every value of the header. The name is text
    /// (`"Allow"`) or a `HeaderName` (`http::header::ALLOW`).
    pub fn set_header<K>(&mut self, name: K, value: impl AsRef<str>) -> Result<&mut Self>
    where
        K: TryInto<HeaderName> + Clone + fmt::Debug,
    {
        self.check_headers_open()?;
        let n = header_name(name)?;
        let v = header_value(value.as_ref())?;
        self.headers.insert(n, v);
        Ok(self)
    }

    /// `res.setHeader(name, [v1, v2])`: one header line per value (as for `Set-Cookie`).
    pub fn set_header_values<K, I, S>(&mut self, name: K, values: I) -> Result<&mut Self>
    where
        K: TryInto<HeaderName> + Clone + fmt::Debug,
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.check_headers_open()?;
        let n = header_name(name)?;
        let values: Vec<HeaderValue> = values
            .into_iter()
            .map(|v| header_value(v.as_ref()))
            .collect::<std::result::Result<_, _>>()?;
        self.headers.remove(&n);
        for v in values {
            self.headers.append(n.clone(), v);
        }
        Ok(self)
    }

    /// `res.appendHeader(name, value)`: adds a value, keeping the existing ones.
    pub fn append_header<K>(&mut self, name: K, value: impl AsRef<str>) -> Result<&mut Self>
    where
        K: TryInto<HeaderName> + Clone + fmt::Debug,
    {
        self.check_headers_open()?;
        let n = header_name(name)?;
        let v = header_value(value.as_ref())?;
        self.headers.append(n, v);
        Ok(self)
    }

    /// `res.getHeader(name)`: the first value, if it is valid text. Lookups take what
    /// `HeaderMap::get` takes (text or a `HeaderName`); an invalid name is simply absent.
    pub fn get_header(&self, name: impl AsHeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Every value of a header.
    pub fn get_header_all(&self, name: impl AsHeaderName) -> Vec<&str> {
        self.headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect()
    }

    /// `res.hasHeader(name)`.
    pub fn has_header(&self, name: impl AsHeaderName) -> bool {
        self.headers.contains_key(name)
    }

    /// `res.removeHeader(name)`.
    pub fn remove_header(&mut self, name: impl AsHeaderName) -> &mut Self {
        if self.state == State::Open {
            self.headers.remove(name);
        }
        self
    }

    /// The headers built so far.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// Mutable access to the headers (the escape hatch; no Next validation).
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.headers
    }

    /// Adds a `Set-Cookie` header (`name=encodeURIComponent(value)` plus the attributes),
    /// keeping the cookies already set.
    pub fn set_cookie(
        &mut self,
        name: &str,
        value: &str,
        options: &CookieOptions,
    ) -> Result<&mut Self> {
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b))
        {
            return Err(ResponseError::InvalidHeaderValue(name.to_owned()).into());
        }
        let line = serialize_cookie(name, value, options);
        self.append_header(http::header::SET_COOKIE, line)
    }

    /// Expires a cookie: empty value, `Expires` in 1970 (pass the same `path`/`domain` it was
    /// set with).
    pub fn clear_cookie(&mut self, name: &str, options: &CookieOptions) -> Result<&mut Self> {
        let mut opts = options.clone();
        opts.max_age = None;
        opts.expires = Some("Thu, 01 Jan 1970 00:00:00 GMT".into());
        self.set_cookie(name, "", &opts)
    }

    /// `res.json(value)`: `Content-Type: application/json; charset=utf-8`, then `send` of the
    /// serialised value (so strings, ETag and 304 behave as for `send`).
    pub fn json<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.check_sendable("send a response")?;
        let text = serde_json::to_string(value).map_err(ResponseError::from)?;
        self.send_json_text(text)
    }

    /// `res.json` of a value already serialised.
    fn send_json_text(&mut self, text: String) -> Result<()> {
        self.set_header(CONTENT_TYPE, JSON_CONTENT_TYPE)?;
        self.send_payload(Payload::Text(text))
    }

    /// Sends the answer an [`IntoErrorResponse`](crate::IntoErrorResponse) error describes, on
    /// a response the handler has not started: its headers replace the handler's of the same
    /// names (the others are kept, as Next's error answers keep them).
    pub(crate) fn send_error_response(&mut self, answer: &ErrorResponse) -> Result<()> {
        self.status = answer.status();
        self.headers.extend(answer.headers().clone());
        self.send_json_text(answer.body().to_owned())
    }

    /// `res.send(body)`: a string (no content type added), bytes (`application/octet-stream`
    /// unless set), a number/bool/[`Json`]/`serde_json::Value` object (JSON content type
    /// forced), or `None`/`()` (empty). Adds Next's ETag and answers 304 to a matching
    /// `If-None-Match` (any method) unless the request says `Cache-Control: no-cache`.
    pub fn send(&mut self, body: impl IntoPayload) -> Result<()> {
        self.check_sendable("send a response")?;
        let payload = body.into_payload()?;
        self.send_payload(payload)
    }

    fn send_payload(&mut self, payload: Payload) -> Result<()> {
        if payload == Payload::Empty {
            return self.finish(None);
        }
        if self.status == 204 || self.status == 304 {
            self.headers.remove(CONTENT_TYPE);
            self.headers.remove(CONTENT_LENGTH);
            self.headers.remove("transfer-encoding");
            return self.finish(None);
        }
        let etag = match &payload {
            Payload::Text(s) | Payload::Json(s) => etag_of_str(s),
            Payload::Bytes(b) => etag_of_bytes(b),
            Payload::Empty => String::new(),
        };
        self.headers.insert(ETAG, header_value(&etag)?);
        if self.conditional.is_fresh(&etag) {
            self.status = 304;
            return self.finish(None);
        }
        let body = match payload {
            Payload::Bytes(b) => {
                if !self.headers.contains_key(CONTENT_TYPE) {
                    self.headers.insert(
                        CONTENT_TYPE,
                        HeaderValue::from_static("application/octet-stream"),
                    );
                }
                b
            }
            Payload::Json(s) => {
                self.headers
                    .insert(CONTENT_TYPE, HeaderValue::from_static(JSON_CONTENT_TYPE));
                Bytes::from(s)
            }
            Payload::Text(s) => Bytes::from(s),
            Payload::Empty => Bytes::new(),
        };
        self.headers
            .insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
        self.finish(Some(&body))
    }

    /// `res.redirect(url)`: 307 with `Location: url` and the URL as a plain-text body (a prior
    /// `res.status()` is ignored, as in Next).
    pub fn redirect(&mut self, url: &str) -> Result<()> {
        self.redirect_with(307, url)
    }

    /// `res.redirect(status, url)`.
    pub fn redirect_with(&mut self, status: impl IntoStatus, url: &str) -> Result<()> {
        let status = status.into_status();
        self.check_sendable("redirect")?;
        check_status(status)?;
        let location = header_value(url)?;
        self.status = status;
        self.headers.insert(LOCATION, location);
        self.finish(Some(url.as_bytes()))
    }

    /// `res.write(chunk)`: fixes the headers (later header changes are errors) and adds the
    /// chunk to the body: streamed, the head (on the first write) and the chunk leave at once,
    /// without waiting; buffered, the chunk is appended. No ETag, no content type (as in Next).
    pub fn write(&mut self, chunk: impl AsRef<[u8]>) -> Result<()> {
        self.check_sendable("write")?;
        check_status(self.status)?;
        self.state = State::Writing;
        self.append(chunk.as_ref());
        Ok(())
    }

    /// `res.writeHead(status, headers)`: sets the status and these headers (over the ones
    /// already set; a name given twice keeps both values) and sends the head, after which
    /// headers cannot change. An invalid status, name or value is an error and changes nothing.
    ///
    /// ```
    /// # use nextr::prelude::*;
    /// # async fn handler(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    /// res.write_head(200, [("Content-Type", "text/event-stream"), ("Cache-Control", "no-store")])?;
    /// # Ok(()) }
    /// ```
    pub fn write_head<K, V, I>(&mut self, status: impl IntoStatus, headers: I) -> Result<&mut Self>
    where
        I: IntoIterator<Item = (K, V)>,
        K: TryInto<HeaderName> + Clone + fmt::Debug,
        V: AsRef<str>,
    {
        self.check_headers_open()?;
        let status = status.into_status();
        check_status(status)?;
        let headers: Vec<(HeaderName, HeaderValue)> = headers
            .into_iter()
            .map(|(k, v)| Ok((header_name(k)?, header_value(v.as_ref())?)))
            .collect::<std::result::Result<_, ResponseError>>()?;
        for (name, _) in &headers {
            self.headers.remove(name);
        }
        for (name, value) in headers {
            self.headers.append(name, value);
        }
        self.status = status;
        self.state = State::Writing;
        if let Some(stream) = &self.stream {
            stream.send_head(self.status, &self.headers);
        }
        Ok(self)
    }

    /// Waits until everything written so far has been taken by the sender: call it in a loop
    /// that writes a lot, so the response never holds more than a chunk or so in memory
    /// (Node's `'drain'`). Returns at once when buffered, or when the client is gone.
    pub async fn drain(&mut self) {
        if let Some(stream) = &self.stream {
            stream.drained().await;
        }
    }

    /// Bytes written and not yet taken by the sender (Node's `res.writableLength`); always 0
    /// when buffered, where the body is not sent before the handler returns.
    pub fn writable_length(&self) -> usize {
        self.stream.as_ref().map_or(0, Writer::queued)
    }

    /// Sends a stream of byte chunks as the body, then ends the response (Node's
    /// `stream.pipe(res)`): each chunk is written and drained before the next is pulled
    /// (buffered, the chunks are collected). An `Err` item ends the response with what was
    /// sent so far and is logged; it is not the handler's error, since the head may have left.
    pub async fn stream<S, B, E>(&mut self, body: S) -> Result<()>
    where
        S: futures_core::Stream<Item = std::result::Result<B, E>>,
        B: Into<Bytes>,
        E: fmt::Display,
    {
        self.check_sendable("write")?;
        let mut body = std::pin::pin!(body);
        loop {
            let next = std::future::poll_fn(|cx| body.as_mut().poll_next(cx)).await;
            match next {
                Some(Ok(chunk)) => {
                    let chunk: Bytes = chunk.into();
                    self.write(&chunk)?;
                    self.drain().await;
                }
                Some(Err(e)) => {
                    self.warnings.push(format!(
                        "nextr: the body stream of {} failed after {} bytes: {e}; the response was ended",
                        self.url,
                        self.bytes_written()
                    ));
                    break;
                }
                None => break,
            }
        }
        self.end()
    }

    /// `res.end()`: finishes the response as built.
    pub fn end(&mut self) -> Result<()> {
        self.check_sendable("end")?;
        self.finish(None)
    }

    /// `res.end(chunk)`: appends a last chunk and finishes.
    pub fn end_with(&mut self, chunk: impl AsRef<[u8]>) -> Result<()> {
        self.check_sendable("end")?;
        self.finish(Some(chunk.as_ref()))
    }

    /// True once the response is finished (`res.writableEnded`).
    pub fn is_ended(&self) -> bool {
        self.state == State::Ended
    }

    /// True once `write`, `write_head` or `end` fixed the headers (`res.headersSent`).
    pub fn headers_sent(&self) -> bool {
        self.state != State::Open
    }

    /// The body built so far (buffered; streamed, the chunks already sent are not kept).
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Streams this response through `writer` (the runtime's choice, before the handler runs).
    pub(crate) fn set_stream(&mut self, writer: Writer) {
        self.stream = Some(writer);
    }

    /// Whether the head of a streamed response left.
    pub(crate) fn stream_started(&self) -> bool {
        self.stream.as_ref().is_some_and(Writer::started)
    }

    /// Body bytes written so far (sent or buffered).
    pub(crate) fn bytes_written(&self) -> u64 {
        self.body.len() as u64 + self.stream.as_ref().map_or(0, Writer::bytes_sent)
    }

    /// Ends a streamed body where it is (the deadline passed after the head left).
    pub(crate) fn close_stream(&mut self) {
        if let Some(stream) = &self.stream {
            stream.close();
        }
        self.state = State::Ended;
    }

    /// Adds body bytes: sent (with the head, the first time) when streamed, kept when buffered.
    fn append(&mut self, chunk: &[u8]) {
        match &self.stream {
            Some(stream) => {
                stream.send_head(self.status, &self.headers);
                stream.push(Bytes::copy_from_slice(chunk));
            }
            None => self.body.extend_from_slice(chunk),
        }
    }

    /// Streamed: sends the head if it has not left, and ends the body.
    fn close_if_streamed(&self) {
        if let Some(stream) = &self.stream {
            stream.send_head(self.status, &self.headers);
            stream.close();
        }
    }

    /// `res.revalidate(path)`: asks the Next.js site configured by `NEXTR_REVALIDATE_ORIGIN`
    /// and `NEXTR_REVALIDATE_SECRET` to regenerate `path` (see [`crate::response::revalidate`]).
    pub async fn revalidate(&mut self, url_path: &str) -> Result<()> {
        revalidate(url_path, RevalidateOptions::default()).await
    }

    /// `res.revalidate(path, { unstable_onlyGenerated })`.
    pub async fn revalidate_with(
        &mut self,
        url_path: &str,
        options: RevalidateOptions,
    ) -> Result<()> {
        revalidate(url_path, options).await
    }

    fn check_headers_open(&self) -> Result<()> {
        match self.state {
            State::Open => Ok(()),
            State::Writing => Err(ResponseError::HeadersSent.into()),
            State::Ended => Err(ResponseError::AlreadySent("set headers").into()),
        }
    }

    fn check_sendable(&self, what: &'static str) -> Result<()> {
        if self.state == State::Ended {
            return Err(ResponseError::AlreadySent(what).into());
        }
        Ok(())
    }

    fn finish(&mut self, chunk: Option<&[u8]>) -> Result<()> {
        check_status(self.status)?;
        if let Some(c) = chunk {
            self.append(c);
        }
        self.close_if_streamed();
        self.state = State::Ended;
        if let Some(limit) = self.response_limit {
            if self.bytes_written() >= limit {
                self.warnings.push(format!(
                    "API response for {} exceeds {}. API Routes are meant to respond quickly. https://nextjs.org/docs/messages/api-routes-response-size-limit",
                    self.url,
                    crate::util::format_bytes(limit)
                ));
            }
        }
        Ok(())
    }

    /// Replaces the response with Next's error answer (`sendError`): the status, the message as
    /// plain-text body, the headers set so far kept (minus a stale length and ETag).
    pub(crate) fn send_error(&mut self, status: u16, message: &str) {
        match self.state {
            State::Ended => {}
            State::Writing => {
                self.append(message.as_bytes());
                self.close_if_streamed();
                self.state = State::Ended;
            }
            State::Open => {
                self.status = status;
                self.headers.remove(CONTENT_LENGTH);
                self.headers.remove(ETAG);
                self.body.clear();
                self.append(message.as_bytes());
                self.close_if_streamed();
                self.state = State::Ended;
            }
        }
    }

    /// Status, headers and body, ready for the platform.
    pub(crate) fn into_parts(self) -> (u16, HeaderMap, Bytes, Vec<String>) {
        (self.status, self.headers, self.body.freeze(), self.warnings)
    }
}

fn check_status(status: u16) -> Result<()> {
    if (100..=999).contains(&status) {
        Ok(())
    } else {
        Err(ResponseError::InvalidStatus(status).into())
    }
}

/// Options of [`NextApiResponse::revalidate_with`].
#[derive(Debug, Clone, Copy, Default)]
pub struct RevalidateOptions {
    /// `unstable_onlyGenerated`: a 404 (path never generated) counts as success.
    pub only_generated: bool,
}

/// Why `res.revalidate` failed; the message is Next's.
#[derive(Debug, thiserror::Error)]
pub enum RevalidateError {
    /// The path does not start with `/`.
    #[error(
        "Invalid urlPath provided to revalidate(), must be a path e.g. /blog/post-1, received {0}"
    )]
    InvalidPath(String),
    /// The environment does not say where the Next.js site is.
    #[error("Failed to revalidate {0}: revalidation is not configured (set NEXTR_REVALIDATE_ORIGIN to the Next.js site's origin, e.g. http://site.internal:3000, and NEXTR_REVALIDATE_SECRET to its preview-mode id)")]
    NotConfigured(String),
    /// The origin is not a plain `http://host[:port]` origin.
    #[error("Failed to revalidate {0}: NEXTR_REVALIDATE_ORIGIN must be an http:// origin (https is not supported by this runtime), got {1:?}")]
    BadOrigin(String, String),
    /// The site answered something else than 200 / `REVALIDATED`.
    #[error("Failed to revalidate {0}: Invalid response {1}")]
    InvalidResponse(String, u16),
    /// The site could not be reached.
    #[error("Failed to revalidate {0}: {1}")]
    Io(String, std::io::Error),
}

/// Next's serverless `res.revalidate`: a `HEAD <origin><path>` with
/// `x-prerender-revalidate: <secret>` (and `x-prerender-revalidate-if-generated: 1` for
/// `only_generated`); success when the site answers 200 or `x-nextjs-cache: REVALIDATED`
/// (or `x-vercel-cache`), or 404 with `only_generated`. The origin and secret come from
/// `NEXTR_REVALIDATE_ORIGIN` and `NEXTR_REVALIDATE_SECRET`.
pub async fn revalidate(url_path: &str, options: RevalidateOptions) -> Result<()> {
    if !url_path.starts_with('/') {
        return Err(RevalidateError::InvalidPath(url_path.to_owned()).into());
    }
    let (Ok(origin), Ok(secret)) = (
        std::env::var("NEXTR_REVALIDATE_ORIGIN"),
        std::env::var("NEXTR_REVALIDATE_SECRET"),
    ) else {
        return Err(RevalidateError::NotConfigured(url_path.to_owned()).into());
    };
    let Some(authority) = origin
        .strip_prefix("http://")
        .map(|a| a.trim_end_matches('/'))
        .filter(|a| !a.is_empty() && !a.contains(['/', '?', '#', ' ', '\r', '\n']))
    else {
        return Err(RevalidateError::BadOrigin(url_path.to_owned(), origin).into());
    };
    if url_path.contains(['\r', '\n', ' ']) || secret.contains(['\r', '\n']) {
        return Err(RevalidateError::InvalidPath(url_path.to_owned()).into());
    }
    let addr = if authority.contains(':') {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    let mut request = format!(
        "HEAD {url_path} HTTP/1.1\r\nhost: {authority}\r\nx-prerender-revalidate: {secret}\r\nconnection: close\r\n"
    );
    if options.only_generated {
        request.push_str("x-prerender-revalidate-if-generated: 1\r\n");
    }
    request.push_str("\r\n");
    let io = |e| RevalidateError::Io(url_path.to_owned(), e);
    let head = head_request(&addr, request.as_bytes()).await.map_err(io)?;
    let status = head.status;
    let revalidated = head
        .cache
        .as_deref()
        .is_some_and(|c| c.eq_ignore_ascii_case("REVALIDATED"));
    if revalidated || status == 200 || (status == 404 && options.only_generated) {
        Ok(())
    } else {
        Err(RevalidateError::InvalidResponse(url_path.to_owned(), status).into())
    }
}

struct Head {
    status: u16,
    cache: Option<String>,
}

async fn head_request(addr: &str, request: &[u8]) -> std::io::Result<Head> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream.write_all(request).await?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.windows(4).any(|w| w == b"\r\n\r\n") || buf.len() > 64 * 1024 {
            break;
        }
    }
    let text = String::from_utf8_lossy(&buf);
    let mut lines = text.split("\r\n");
    let bad = || std::io::Error::new(std::io::ErrorKind::InvalidData, "not an HTTP response");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(bad)?;
    let mut cache = None;
    for line in lines {
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            let k = k.trim().to_ascii_lowercase();
            if (k == "x-vercel-cache" || k == "x-nextjs-cache") && cache.is_none() {
                cache = Some(v.trim().to_owned());
            }
        }
    }
    Ok(Head { status, cache })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_package_order_with_priority() {
        let opts = CookieOptions {
            max_age: Some(5),
            path: Some("/".into()),
            secure: true,
            partitioned: true,
            priority: Some(Priority::High),
            same_site: Some(SameSite::None),
            ..Default::default()
        };
        assert_eq!(
            serialize_cookie("a", "b c", &opts),
            "a=b%20c; Max-Age=5; Path=/; Secure; Partitioned; Priority=High; SameSite=None"
        );
    }
}
