//! `NextRequest`: the request an App Router handler receives, with Next's `request.url`,
//! `request.nextUrl`, headers and one-shot body readers.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::header::{AsHeaderName, CONTENT_TYPE};
use http::{HeaderMap, Method};
use serde::de::DeserializeOwned;

use super::cookies::RequestCookies;
use super::json_error::{parse_json, JsonBodyError};
use crate::form::{FormData, FormError};
use crate::routing::SearchParams;

/// Why a body reader failed, in Next's words (`TypeError`/`SyntaxError` messages), so that `?`
/// gives Next's empty 500 while a handler can match it and answer 400 itself.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// The body was already read (WHATWG `bodyUsed`).
    #[error("Body is unusable: Body has already been read")]
    Unusable,
    /// `json()`: the body is not JSON (V8's `SyntaxError` message), or not the JSON `T` wants.
    #[error(transparent)]
    Json(#[from] JsonBodyError),
    /// `form_data()`: not a form, or a multipart body that does not parse.
    #[error(transparent)]
    Form(#[from] FormError),
}

impl BodyError {
    /// The JavaScript error class Next throws for it (`TypeError` or `SyntaxError`), for
    /// handlers that report errors as the corpus's do.
    pub fn name(&self) -> &'static str {
        match self {
            BodyError::Json(e) => e.name(),
            BodyError::Unusable | BodyError::Form(_) => "TypeError",
        }
    }
}

/// What a `dynamic = "error"` route read from its request, which makes its prerender fail:
/// the first access is kept, and the prerender reports it in Next's words.
#[derive(Debug)]
pub(crate) struct StaticBailout {
    page: &'static str,
    used: Mutex<Option<&'static str>>,
}

impl StaticBailout {
    /// A tracker for the route `page`.
    pub(crate) fn new(page: &'static str) -> Arc<Self> {
        Arc::new(StaticBailout {
            page,
            used: Mutex::new(None),
        })
    }

    fn record(&self, what: &'static str) {
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        used.get_or_insert(what);
    }

    /// Next's build error for the first request property read, if any.
    pub(crate) fn error(&self) -> Option<String> {
        let used = *self.used.lock().unwrap_or_else(|e| e.into_inner());
        used.map(|what| {
            format!(
                "Route {} with `dynamic = \"error\"` couldn't be rendered statically because it used `{what}`.",
                self.page
            )
        })
    }
}

/// `request.nextUrl`: the parsed URL of the request (pathname encoded as sent).
#[derive(Debug, Clone)]
pub struct NextUrl {
    pub(crate) origin: String,
    pub(crate) host: String,
    pub(crate) pathname: String,
    pub(crate) search: String,
    pub(crate) search_params: SearchParams,
    pub(crate) bailout: Option<Arc<StaticBailout>>,
}

impl NextUrl {
    /// `nextUrl.pathname`: the normalised path, still percent-encoded.
    pub fn pathname(&self) -> &str {
        &self.pathname
    }

    /// `nextUrl.search`: `?` plus the re-serialised query, or `""`.
    pub fn search(&self) -> &str {
        self.used("nextUrl.search");
        &self.search
    }

    /// `nextUrl.searchParams`.
    pub fn search_params(&self) -> &SearchParams {
        self.used("nextUrl.searchParams");
        &self.search_params
    }

    /// `nextUrl.host`: the host (and port) of [`NextRequest::url`].
    pub fn host(&self) -> &str {
        &self.host
    }

    /// `nextUrl.origin`: scheme and host, to build the absolute URL
    /// [`Response::redirect`](super::Response::redirect) wants.
    pub fn origin(&self) -> &str {
        self.used("nextUrl.origin");
        &self.origin
    }

    /// `nextUrl.href`: the full URL, the same as [`NextRequest::url`].
    pub fn href(&self) -> String {
        self.used("nextUrl.href");
        format!("{}{}{}", self.origin, self.pathname, self.search)
    }

    /// Records a read a `dynamic = "error"` route may not make (its pathname is allowed).
    fn used(&self, what: &'static str) {
        if let Some(bailout) = &self.bailout {
            bailout.record(what);
        }
    }
}

/// The request of an App Router handler (Next's `NextRequest`).
///
/// **`url()`'s origin.** Next puts `http://localhost:<port>` there whatever the `Host`
/// header. A function behind API Gateway has a public origin instead, so nextr builds it from
/// the request: the scheme from `x-forwarded-proto` (API Gateway and `nextr dev` send it; when
/// absent, `https`, the only scheme API Gateway and function URLs serve), the host from the
/// `Host` header (the API's or `nextr dev`'s), `localhost` without one. So `url()` is the
/// address the client used, and a redirect built on it points back at the same API. The path
/// and query are Next's exactly (path as sent, query re-serialised).
#[derive(Debug)]
pub struct NextRequest {
    pub(crate) method: Method,
    pub(crate) url: String,
    pub(crate) next_url: NextUrl,
    pub(crate) headers: HeaderMap,
    pub(crate) cookies: RequestCookies,
    pub(crate) body: Bytes,
    pub(crate) body_used: bool,
    pub(crate) bailout: Option<Arc<StaticBailout>>,
}

impl NextRequest {
    /// The request method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// `request.url`: the full href (see the type's docs for its origin).
    pub fn url(&self) -> &str {
        self.used("request.url");
        &self.url
    }

    /// `request.nextUrl`.
    pub fn next_url(&self) -> &NextUrl {
        &self.next_url
    }

    /// `request.headers`, with Next's `x-forwarded-*` additions.
    pub fn headers(&self) -> &HeaderMap {
        self.used("request.headers");
        &self.headers
    }

    /// `request.cookies`: the `Cookie` header as Next parses it (the last duplicate wins).
    pub fn cookies(&self) -> &RequestCookies {
        self.used("request.cookies");
        &self.cookies
    }

    /// `request.headers.get(name)`: every value of the header joined with `", "`, as the
    /// WHATWG `Headers` joins repeated request headers.
    pub fn header(&self, name: impl AsHeaderName) -> Option<String> {
        let mut values = self.headers().get_all(name).iter().peekable();
        values.peek()?;
        let joined: Vec<String> = values
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        Some(joined.join(", "))
    }

    /// `request.bodyUsed`: a reader consumed the body.
    pub fn body_used(&self) -> bool {
        self.body_used
    }

    /// `request.arrayBuffer()`: the body's bytes (once; a request without a body gives empty
    /// bytes and stays unread, as a WHATWG request with a null body does).
    pub async fn bytes(&mut self) -> Result<Bytes, BodyError> {
        self.used("request.arrayBuffer");
        self.take()
    }

    /// `request.text()`: the body as UTF-8 (invalid sequences replaced, as `TextDecoder` does).
    pub async fn text(&mut self) -> Result<String, BodyError> {
        self.used("request.text");
        let bytes = self.take()?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// `request.json()`: the body parsed as JSON whatever its Content-Type; an empty body is an
    /// error (`Unexpected end of JSON input`), as in Next.
    pub async fn json<T: DeserializeOwned>(&mut self) -> Result<T, BodyError> {
        self.used("request.json");
        let bytes = self.take()?;
        Ok(parse_json(&bytes)?)
    }

    /// `request.formData()`: a urlencoded or multipart body, with Next's errors.
    pub async fn form_data(&mut self) -> Result<FormData, BodyError> {
        self.used("request.formData");
        let bytes = self.take()?;
        let content_type = self
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(FormData::parse(content_type.as_deref(), bytes).await?)
    }

    /// Consumes the body once; an empty body is WHATWG's null body, which never gets used.
    fn take(&mut self) -> Result<Bytes, BodyError> {
        if self.body_used {
            return Err(BodyError::Unusable);
        }
        if !self.body.is_empty() {
            self.body_used = true;
        }
        Ok(std::mem::take(&mut self.body))
    }

    fn used(&self, what: &'static str) {
        if let Some(bailout) = &self.bailout {
            bailout.record(what);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(body: &'static [u8]) -> NextRequest {
        NextRequest {
            method: Method::POST,
            url: "https://localhost/api/x".into(),
            next_url: NextUrl {
                origin: "https://localhost".into(),
                host: "localhost".into(),
                pathname: "/api/x".into(),
                search: String::new(),
                search_params: SearchParams::default(),
                bailout: None,
            },
            headers: HeaderMap::new(),
            cookies: RequestCookies::default(),
            body: Bytes::from_static(body),
            body_used: false,
            bailout: None,
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_body_is_read_once() {
        let mut req = request(b"once");
        assert_eq!(req.text().await.unwrap(), "once");
        assert!(req.body_used());
        let e = req.text().await.unwrap_err();
        assert_eq!(
            e.to_string(),
            "Body is unusable: Body has already been read"
        );
        assert!(matches!(req.bytes().await, Err(BodyError::Unusable)));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn an_empty_body_is_never_used() {
        let mut req = request(b"");
        assert_eq!(req.text().await.unwrap(), "");
        assert!(!req.body_used());
        assert_eq!(req.text().await.unwrap(), "");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn json_errors_carry_v8_messages_and_names() {
        let mut req = request(b"{\"a\":Invalid}");
        let e = req.json::<serde_json::Value>().await.unwrap_err();
        assert_eq!(e.name(), "SyntaxError");
        assert_eq!(
            e.to_string(),
            "Unexpected token 'I', \"{\"a\":Invalid}\" is not valid JSON"
        );
        let mut req = request(b"");
        let e = req.json::<serde_json::Value>().await.unwrap_err();
        assert_eq!(e.to_string(), "Unexpected end of JSON input");
    }

    #[test]
    fn the_bailout_names_the_first_property_read() {
        let mut req = request(b"");
        let bailout = StaticBailout::new("/api/ih");
        req.bailout = Some(Arc::clone(&bailout));
        assert_eq!(bailout.error(), None);
        let _ = req.next_url().pathname();
        assert_eq!(bailout.error(), None);
        let _ = req.url();
        let _ = req.headers();
        assert_eq!(
            bailout.error().unwrap(),
            "Route /api/ih with `dynamic = \"error\"` couldn't be rendered statically because it used `request.url`."
        );
    }
}
