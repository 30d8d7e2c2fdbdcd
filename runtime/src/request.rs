//! `NextApiRequest`: `req.method`, `req.headers`, `req.url`, `req.query`, `req.cookies`,
//! `req.body`, as Next's `apiResolver` prepares them.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, Method};
use serde::de::DeserializeOwned;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::app::JsonShapeError;
use crate::config::{BodyParser, SizeLimit, DEFAULT_BODY_LIMIT};
use crate::error::{Error, HttpError};
use crate::form::{FormData, FormError};
use crate::routing::{decode_uri_component, OrderedMap, Query};

/// The incoming request, as a Next API route sees it.
///
/// The fields are Next's: `req.method`, `req.headers`, `req.url` (path and re-serialised
/// query, as Next computes it), `req.query` (query string merged with the route params),
/// `req.cookies`, `req.body` (parsed per content type). The Lambda side is reachable through
/// [`request_id`](Self::request_id), [`deadline`](Self::deadline),
/// [`lambda_context`](Self::lambda_context) and [`extensions`](Self::extensions).
#[derive(Debug)]
pub struct NextApiRequest {
    /// The method as received (no method handling: every method reaches the handler).
    pub method: Method,
    /// `req.url`: the normalised path plus the query re-serialised, param keys removed.
    pub url: String,
    /// The request headers (Next adds `x-forwarded-*` when absent).
    pub headers: HeaderMap,
    /// `req.query`: the query string (`URLSearchParams` rules) with the route params over it.
    pub query: Query,
    /// `req.cookies`, parsed from the `Cookie` header like Next (first occurrence wins).
    pub cookies: Cookies,
    /// `req.body`, parsed by content type (see [`Body`]).
    pub body: Body,
    pub(crate) raw_body: Bytes,
    pub(crate) target: String,
    pub(crate) extensions: http::Extensions,
    pub(crate) request_id: String,
    pub(crate) deadline: Instant,
    pub(crate) page: &'static str,
}

impl NextApiRequest {
    /// The body deserialized into `T` with serde. A body that is not JSON is a 400
    /// `Invalid JSON`; a JSON body of the wrong shape is a 400 naming the field
    /// (`Invalid body: at `user.age`: invalid type: string "x", expected u32`).
    ///
    /// The request must say it is JSON (`Content-Type: application/json` or
    /// `application/*+json`, with any parameters), else the answer is 415: a cross-site HTML
    /// form can post `text/plain` or a form without a CORS preflight, so accepting those
    /// would let another site submit JSON (as axum's `Json` refuses them). `req.body` is
    /// still parsed by content type, as Next parses it.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        let media = self.media_type();
        if !is_json_media_type(&media) {
            return Err(unsupported(&media, "a JSON body (`application/json`)"));
        }
        match &self.body {
            Body::Json(v) => serde_path_to_error::deserialize(v).map_err(body_shape),
            // `application/*+json` other than `ld+json`, and `application/json;` (which Next
            // leaves as text), are parsed here.
            Body::Text(s) => from_json_text(s.as_bytes()),
            Body::Raw(b) => from_json_text(b),
            Body::Form(_) => Err(unsupported(&media, "a JSON body (`application/json`)")),
        }
    }

    /// The urlencoded form body deserialized into `T` with serde (values are strings; a
    /// repeated key is a list). The request must be `application/x-www-form-urlencoded`,
    /// else the answer is 415; a body of the wrong shape is a 400 naming the field.
    pub fn form<T: DeserializeOwned>(&self) -> Result<T, Error> {
        const FORM: &str = "application/x-www-form-urlencoded";
        let media = self.media_type();
        let parsed;
        let form = match &self.body {
            Body::Form(q) if media == FORM => q,
            Body::Raw(b) if media == FORM => {
                parsed = parse_urlencoded(&String::from_utf8_lossy(b));
                &parsed
            }
            _ => {
                return Err(unsupported(
                    &media,
                    "a form body (`application/x-www-form-urlencoded`)",
                ))
            }
        };
        let v = serde_json::to_value(form).map_err(|_| Error::http(400, "Invalid body"))?;
        serde_path_to_error::deserialize(&v).map_err(body_shape)
    }

    /// The body as a form (`multipart/form-data` with files, or urlencoded), parsed as the
    /// App Router's `request.formData()` parses it (see [`FormData`]): the entries in order,
    /// repeated names kept.
    ///
    /// It reads the raw bytes, so it works whatever `body_parser` says. With the body parser
    /// on (the default), Next's size limit (1 MB unless `size_limit` says more) applies
    /// before the handler runs, and `req.body` still holds Next's own parse (a urlencoded
    /// body as [`Body::Form`], a multipart one as lossy text); for uploads, turn the parser
    /// off (`body_parser: false`) or raise its limit. Another Content-Type is a 415; a
    /// multipart body that does not parse is a 400 `Failed to parse body as FormData.`.
    pub async fn form_data(&self) -> Result<FormData, Error> {
        let content_type = self.header(http::header::CONTENT_TYPE);
        FormData::parse(content_type, self.raw_body.clone())
            .await
            .map_err(|e| self.form_error(e))
    }

    /// A streaming reader over a `multipart/form-data` body: `multer`'s API (each field's
    /// name, file name, headers, and its bytes chunk by chunk), for large files or field
    /// headers [`form_data`](Self::form_data) does not keep. Unlike `form_data`, it applies
    /// `multer`'s rules only (a preamble before the first boundary is skipped). Another
    /// Content-Type is a 415; a Content-Type without a boundary is a 400.
    pub fn multipart(&self) -> Result<multer::Multipart<'static>, Error> {
        let content_type = self.header(http::header::CONTENT_TYPE);
        crate::form::multipart_reader(content_type, self.raw_body.clone())
            .map_err(|e| self.form_error(e))
    }

    /// The answer to a form that cannot be read: 415 for the Content-Type, else 400.
    fn form_error(&self, e: FormError) -> Error {
        match e {
            FormError::ContentType => unsupported(
                &self.media_type(),
                "a form body (`multipart/form-data` or `application/x-www-form-urlencoded`)",
            ),
            FormError::Parse => Error::http(400, e.to_string()),
        }
    }

    /// The media type of `Content-Type`, lower-cased, without parameters (`""` when absent).
    /// Read leniently, so a malformed parameter list does not hide the type.
    fn media_type(&self) -> String {
        let header = self.header(http::header::CONTENT_TYPE).unwrap_or("");
        let media = header.split(';').next().unwrap_or("");
        media
            .trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
            .to_ascii_lowercase()
    }

    /// The body bytes exactly as received (after base64 decoding), whatever the parser did.
    pub fn raw_body(&self) -> &Bytes {
        &self.raw_body
    }

    /// The first value of a header, if it is valid text (the name as text or a `HeaderName`).
    pub fn header(&self, name: impl http::header::AsHeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The route pattern this function serves (`/api/post/[pid]`).
    pub fn page(&self) -> &'static str {
        self.page
    }

    /// The request target as received (path without the stage prefix, raw query).
    pub fn raw_target(&self) -> &str {
        &self.target
    }

    /// The Lambda request id (`"test"` outside Lambda).
    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    /// When the runtime will answer 504: min(`max_duration`, Lambda's remaining time) minus
    /// a small margin.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Time left before [`deadline`](Self::deadline).
    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// The Lambda invocation context (request id, deadline, ARN, X-Ray trace id), when
    /// running in Lambda.
    pub fn lambda_context(&self) -> Option<&lambda_runtime::Context> {
        self.extensions.get::<lambda_runtime::Context>()
    }

    /// The event's request context (API Gateway v1/v2 or ALB), when running in Lambda.
    pub fn request_context(&self) -> Option<&lambda_http::request::RequestContext> {
        self.extensions
            .get::<lambda_http::request::RequestContext>()
    }

    /// The request's extensions: `lambda_http::RequestExt` works on them
    /// (`req.extensions().request_context_ref()`).
    pub fn extensions(&self) -> &http::Extensions {
        &self.extensions
    }

    /// Mutable access to the extensions (to pass data along, for instance).
    pub fn extensions_mut(&mut self) -> &mut http::Extensions {
        &mut self.extensions
    }

    /// The escape hatch: the request as an `http::Request` with the raw body bytes, the raw
    /// target as URI (when it is a valid URI; `/` otherwise), the headers and extensions.
    pub fn to_http(&self) -> http::Request<Bytes> {
        let mut req = http::Request::new(self.raw_body.clone());
        *req.method_mut() = self.method.clone();
        *req.uri_mut() = self
            .target
            .parse()
            .unwrap_or_else(|_| http::Uri::from_static("/"));
        *req.headers_mut() = self.headers.clone();
        *req.extensions_mut() = self.extensions.clone();
        req
    }
}

fn from_json_text<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    let text = strip_bom(bytes);
    let value: serde_json::Value = if text.is_empty() {
        serde_json::Value::Object(Default::default())
    } else {
        serde_json::from_slice(text).map_err(|_| Error::http(400, "Invalid JSON"))?
    };
    serde_path_to_error::deserialize(&value).map_err(body_shape)
}

/// A body of the wrong shape: a 400 naming the field when there is one (the wording is
/// [`JsonShapeError`]'s, shared with the App Router's `request.json()`).
fn body_shape(e: serde_path_to_error::Error<serde_json::Error>) -> Error {
    Error::http(400, JsonShapeError::from(e).to_string())
}

/// `application/json` and the structured-syntax `application/*+json` types.
fn is_json_media_type(media: &str) -> bool {
    media == "application/json"
        || media
            .strip_prefix("application/")
            .is_some_and(|sub| sub.ends_with("+json") && sub.len() > "+json".len())
}

/// The 415 of a typed body helper called on a request of another content type.
fn unsupported(media: &str, expected: &str) -> Error {
    let got = if media.is_empty() {
        "no Content-Type".to_owned()
    } else {
        format!("Content-Type `{media}`")
    };
    Error::http(
        415,
        format!("Unsupported Media Type: expected {expected}, got {got}"),
    )
}

/// `req.body`, as Next's body parser leaves it.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// Any content type other than JSON and urlencoded (also none, or an unparsable one):
    /// the decoded text. An empty body is `Text("")`.
    Text(String),
    /// `application/json` and `application/ld+json`: the parsed value (empty body → `{}`).
    Json(serde_json::Value),
    /// `application/x-www-form-urlencoded`: Node `querystring` rules (repeated keys → lists).
    Form(Query),
    /// `body_parser: false`: the raw bytes, untouched.
    Raw(Bytes),
}

impl Body {
    /// The text of a `Text` body, or of a JSON string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Body::Text(s) => Some(s),
            Body::Json(serde_json::Value::String(s)) => Some(s),
            _ => None,
        }
    }

    /// The parsed JSON value of a `Json` body.
    pub fn as_json(&self) -> Option<&serde_json::Value> {
        match self {
            Body::Json(v) => Some(v),
            _ => None,
        }
    }

    /// The fields of a `Form` body.
    pub fn as_form(&self) -> Option<&Query> {
        match self {
            Body::Form(q) => Some(q),
            _ => None,
        }
    }

    /// The bytes of a `Raw` body.
    pub fn as_bytes(&self) -> Option<&Bytes> {
        match self {
            Body::Raw(b) => Some(b),
            _ => None,
        }
    }

    /// The body as the JSON value JavaScript would see (`Form` → object, `Raw` → Node's
    /// `{"type":"Buffer","data":[…]}`).
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// JavaScript's `typeof` / `Array.isArray` view: `string`, `object`, `number`, `boolean`,
    /// `null`, `array`, or `buffer` for raw bytes.
    pub fn js_type(&self) -> &'static str {
        match self {
            Body::Text(_) => "string",
            Body::Form(_) => "object",
            Body::Raw(_) => "buffer",
            Body::Json(v) => match v {
                serde_json::Value::Null => "null",
                serde_json::Value::Bool(_) => "boolean",
                serde_json::Value::Number(_) => "number",
                serde_json::Value::String(_) => "string",
                serde_json::Value::Array(_) => "array",
                serde_json::Value::Object(_) => "object",
            },
        }
    }
}

impl Serialize for Body {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Body::Text(t) => s.serialize_str(t),
            Body::Json(v) => v.serialize(s),
            Body::Form(q) => q.serialize(s),
            Body::Raw(b) => {
                let mut map = s.serialize_map(Some(2))?;
                map.serialize_entry("type", "Buffer")?;
                map.serialize_entry("data", &b[..])?;
                map.end()
            }
        }
    }
}

/// `req.cookies`: name → value, in header order, first occurrence of a name kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cookies(OrderedMap<String>);

impl Cookies {
    /// Parses a `Cookie` header value with the `cookie` package's rules (what Next uses):
    /// pairs split on `;`, a pair without `=` skipped, key and value trimmed, one pair of
    /// surrounding quotes dropped, values URI-decoded when they can be, first name wins.
    pub fn parse(header: &str) -> Self {
        let mut out = Cookies::default();
        let s = header;
        let mut index = 0;
        while index < s.len() {
            let Some(eq) = s[index..].find('=').map(|i| i + index) else {
                break;
            };
            let end = match s[index..].find(';').map(|i| i + index) {
                None => s.len(),
                Some(end) if end < eq => {
                    index = s[..eq].rfind(';').map_or(0, |i| i + 1);
                    continue;
                }
                Some(end) => end,
            };
            let key = js_trim(&s[index..eq]);
            if !out.contains(key) {
                let mut val = js_trim(&s[eq + 1..end]);
                if val.starts_with('"') {
                    let inner = &val[1..];
                    val = match inner.char_indices().last() {
                        Some((i, _)) => &inner[..i],
                        None => "",
                    };
                }
                let decoded = if val.contains('%') {
                    decode_uri_component(val).unwrap_or_else(|_| val.to_owned())
                } else {
                    val.to_owned()
                };
                out.0.push_new(key.to_owned(), decoded);
            }
            index = end + 1;
        }
        out
    }

    /// The value of a cookie.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// True when the cookie is present.
    pub fn contains(&self, name: &str) -> bool {
        self.0.contains(name)
    }

    /// The cookies in header order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0
            .entries()
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Number of cookies.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.0.len() == 0
    }
}

impl Serialize for Cookies {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0.entries() {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// JavaScript's `String.prototype.trim` (whitespace and line terminators, BOM included).
fn js_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
}

/// A `Content-Type` parsed by the `content-type` package's strict rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ContentType {
    pub(crate) media_type: String,
    pub(crate) charset: Option<String>,
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+.^_`|~-".contains(&b)
}

/// The `content-type` package's `parse`; `None` where it throws.
pub(crate) fn parse_content_type(header: &str) -> Option<ContentType> {
    let (type_part, mut rest) = match header.find(';') {
        Some(i) => (&header[..i], &header[i..]),
        None => (header, ""),
    };
    let media_type = type_part.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    let (main, sub) = media_type.split_once('/')?;
    if main.is_empty()
        || sub.is_empty()
        || !main.bytes().all(is_token_byte)
        || !sub.bytes().all(is_token_byte)
    {
        return None;
    }
    let mut charset = None;
    while !rest.is_empty() {
        // `; *token *= *(quoted|token) *`
        let b = rest.as_bytes();
        let mut i = 1; // the ';'
        while i < b.len() && b[i] == b' ' {
            i += 1;
        }
        let key_start = i;
        while i < b.len() && is_token_byte(b[i]) {
            i += 1;
        }
        if i == key_start {
            return None;
        }
        let key = &rest[key_start..i];
        while i < b.len() && b[i] == b' ' {
            i += 1;
        }
        if i >= b.len() || b[i] != b'=' {
            return None;
        }
        i += 1;
        while i < b.len() && b[i] == b' ' {
            i += 1;
        }
        let value;
        if i < b.len() && b[i] == b'"' {
            i += 1;
            let mut v = String::new();
            let mut closed = false;
            let chars: Vec<(usize, char)> = rest[i..].char_indices().collect();
            let mut k = 0;
            while k < chars.len() {
                let (off, c) = chars[k];
                let ok_text = |c: char| {
                    c == '\u{b}'
                        || c == ' '
                        || c == '!'
                        || ('\u{23}'..='\u{5b}').contains(&c)
                        || ('\u{5d}'..='\u{7e}').contains(&c)
                        || ('\u{80}'..='\u{ff}').contains(&c)
                };
                if c == '"' {
                    i += off + 1;
                    closed = true;
                    break;
                } else if c == '\\' {
                    let &(_, next) = chars.get(k + 1)?;
                    if !(next == '\u{b}' || ('\u{20}'..='\u{ff}').contains(&next)) {
                        return None;
                    }
                    v.push(next);
                    k += 2;
                } else if ok_text(c) {
                    v.push(c);
                    k += 1;
                } else {
                    return None;
                }
            }
            if !closed {
                return None;
            }
            value = v;
        } else {
            let start = i;
            while i < b.len() && is_token_byte(b[i]) {
                i += 1;
            }
            if i == start {
                return None;
            }
            value = rest[start..i].to_owned();
        }
        let b = rest.as_bytes();
        while i < b.len() && b[i] == b' ' {
            i += 1;
        }
        if i < b.len() && b[i] != b';' {
            return None;
        }
        // A repeated parameter overwrites the earlier one, as in the `content-type` package.
        if key.eq_ignore_ascii_case("charset") {
            charset = Some(value);
        }
        rest = &rest[i..];
    }
    Some(ContentType {
        media_type: media_type.to_ascii_lowercase(),
        charset,
    })
}

/// Strips one UTF-8 byte order mark.
fn strip_bom(b: &[u8]) -> &[u8] {
    b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b)
}

/// Decodes the body as `raw-body`/iconv-lite would for `charset`; `None` for an unknown one.
fn decode_text(charset: &str, bytes: &[u8]) -> Option<String> {
    let label = charset.trim().to_ascii_lowercase();
    match label.as_str() {
        "utf-8" | "utf8" | "unicode-1-1-utf-8" => {
            Some(String::from_utf8_lossy(strip_bom(bytes)).into_owned())
        }
        "latin1" | "iso-8859-1" | "iso8859-1" | "binary" | "l1" | "iso88591" => {
            Some(bytes.iter().map(|&b| b as char).collect())
        }
        "ascii" | "us-ascii" => Some(bytes.iter().map(|&b| (b & 0x7f) as char).collect()),
        "utf-16le" | "utf16le" | "ucs2" | "ucs-2" | "utf-16" | "utf16" => {
            let (text, _) = encoding_rs::UTF_16LE.decode_with_bom_removal(bytes);
            Some(text.into_owned())
        }
        _ => {
            let encoding = encoding_rs::Encoding::for_label_no_replacement(label.as_bytes())?;
            let (text, _) = encoding.decode_with_bom_removal(bytes);
            Some(text.into_owned())
        }
    }
}

/// Node's `querystring.parse` (at most 1000 pairs, `+` is a space, bad escapes kept).
pub(crate) fn parse_urlencoded(text: &str) -> Query {
    let mut q = Query::default();
    for (k, v) in form_urlencoded::parse(text.as_bytes()).take(1000) {
        q.append(k.into_owned(), v.into_owned());
    }
    q
}

/// Next's body parser (`parse-body.ts`) for one request: the size limit first, then the
/// charset, then the media type.
pub(crate) fn parse_body(
    content_type: Option<&str>,
    raw: &Bytes,
    parser: &BodyParser,
) -> Result<Body, HttpError> {
    let size_limit = match parser {
        BodyParser::Disabled(_) => return Ok(Body::Raw(raw.clone())),
        BodyParser::Enabled { size_limit } => size_limit,
    };
    let (limit_bytes, limit_text) = match size_limit {
        Some(l) => (l.bytes(), l.as_written()),
        None => (
            SizeLimit::Text(DEFAULT_BODY_LIMIT.into()).bytes(),
            DEFAULT_BODY_LIMIT.to_owned(),
        ),
    };
    if let Some(limit) = limit_bytes {
        if raw.len() as u64 > limit {
            return Err(HttpError {
                status: 413,
                message: format!("Body exceeded {limit_text} limit"),
            });
        }
    }
    let ct = content_type
        .and_then(parse_content_type)
        .unwrap_or_else(|| ContentType {
            media_type: "text/plain".into(),
            charset: None,
        });
    let text = match &ct.charset {
        None => String::from_utf8_lossy(strip_bom(raw)).into_owned(),
        Some(cs) => decode_text(cs, raw).ok_or_else(|| HttpError {
            status: 400,
            message: "Invalid body".into(),
        })?,
    };
    match ct.media_type.as_str() {
        "application/json" | "application/ld+json" => {
            if text.is_empty() {
                return Ok(Body::Json(serde_json::Value::Object(Default::default())));
            }
            serde_json::from_str(&text)
                .map(Body::Json)
                .map_err(|_| HttpError {
                    status: 400,
                    message: "Invalid JSON".into(),
                })
        }
        "application/x-www-form-urlencoded" => Ok(Body::Form(parse_urlencoded(&text))),
        _ => Ok(Body::Text(text)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_like_next() {
        let c = Cookies::parse(
            "a=1; a=2; b=%20x; c=\"q\"; d; e==f; f=%ZZ;g=no-space ; h = spaced ; i=\"unterminated",
        );
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            r#"{"a":"1","b":" x","c":"q","e":"=f","f":"%ZZ","g":"no-space","h":"spaced","i":"unterminate"}"#
        );
        assert_eq!(
            serde_json::to_string(&Cookies::parse("nextjs=cool;")).unwrap(),
            r#"{"nextjs":"cool"}"#
        );
        assert!(Cookies::parse("").is_empty());
        assert_eq!(Cookies::parse("a=\"").get("a"), Some(""));
    }

    #[test]
    fn many_cookies_parse() {
        // 30,000 distinct cookies once took seconds (a linear lookup per cookie).
        let header: Vec<String> = (0..30_000).map(|i| format!("c{i}={i}")).collect();
        let c = Cookies::parse(&header.join("; "));
        assert_eq!(c.len(), 30_000);
        assert_eq!(c.get("c29999"), Some("29999"));
        assert_eq!(c.iter().nth(12_345), Some(("c12345", "12345")));
    }

    proptest::proptest! {
        /// Against a naive model: header order, first occurrence of a name kept.
        #[test]
        fn cookies_match_naive_model(
            pairs in proptest::collection::vec(("[a-e]{1,2}", "[a-z0-9]{0,3}"), 0..40),
        ) {
            let header: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let c = Cookies::parse(&header.join("; "));
            let mut model: Vec<(&str, &str)> = Vec::new();
            for (k, v) in &pairs {
                if !model.iter().any(|(x, _)| x == k) {
                    model.push((k, v));
                }
            }
            proptest::prop_assert_eq!(c.iter().collect::<Vec<_>>(), model.clone());
            for (k, v) in model {
                proptest::prop_assert_eq!(c.get(k), Some(v));
            }
        }
    }

    #[test]
    fn content_types() {
        let p = |s| parse_content_type(s);
        assert_eq!(
            p("application/json").unwrap().media_type,
            "application/json"
        );
        assert_eq!(
            p("Application/JSON; Charset=UTF-8")
                .unwrap()
                .charset
                .as_deref(),
            Some("UTF-8")
        );
        assert!(p("application/json;").is_none());
        assert!(p("application/json; charset=utf-8;").is_none());
        assert!(p("garbage").is_none());
        assert_eq!(
            p("text/plain; charset=\"lat\\\"in1\"")
                .unwrap()
                .charset
                .as_deref(),
            Some("lat\"in1")
        );
        assert_eq!(
            p("multipart/form-data; boundary=XX").unwrap().media_type,
            "multipart/form-data"
        );
    }
}
