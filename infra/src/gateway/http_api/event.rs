//! The API Gateway HTTP API event, payload format 2.0, built exactly as the deployed API builds
//! it (AWS: "Create AWS Lambda proxy integrations for HTTP APIs", and live captures of real
//! events where the documentation is silent):
//!
//! - `rawPath` and `requestContext.http.path` are **percent-decoded** (twice: `%252F` arrives as
//!   `/`; a `?` from the first decoding cuts the path); a path that does not decode is rejected
//!   with 400 before any function runs.
//! - `rawQueryString` is the query exactly as received; `queryStringParameters` holds decoded
//!   values (`+` is a space), repeated keys joined with commas.
//! - `cookies` holds every `name=value` of the `Cookie` headers, which leave `headers`.
//! - `headers` are lower-cased, repeated headers joined with commas (no space), plus
//!   `x-amzn-trace-id`, `x-forwarded-for`, `x-forwarded-port` and `x-forwarded-proto`.
//! - `body` is text only for `text/*`, `application/json`, `application/xml` and
//!   `application/javascript`; every other body (also without a content type, and
//!   `application/x-www-form-urlencoded`) is base64 with `isBase64Encoded: true`.
//! - `pathParameters` are taken from the decoded path by the matched route key (`{id}` one
//!   segment, `{path+}` the rest); absent when the key has none.
//! - `requestContext.domainName` is the host the client called (without the port), as the
//!   deployed API's is the host of its URL, so functions that build absolute URLs from it work
//!   locally; `stage` is `$default`, so `rawPath` has no stage prefix.

use std::borrow::Cow;
use std::collections::HashMap;
use std::net::IpAddr;
use std::time::SystemTime;

use base64::Engine;
use http::HeaderMap;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::route_keys::RouteKey;
use super::{DEFAULT_ROUTE, STAGE};
use crate::ids::{self, Utc};

/// The account id in events and ARNs (AWS's documentation example account).
pub const ACCOUNT_ID: &str = "123456789012";
/// The API id of the local API (ten characters, as API Gateway's).
pub const API_ID: &str = "nextrlocal";

/// Headers that describe one hop of the connection, not the request; API Gateway terminates
/// the client's connection, so the function never sees the client's.
pub(crate) const HOP_BY_HOP: [&str; 7] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// The request path cannot be decoded; API Gateway answers 400 without invoking anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the request path has a malformed percent-escape")]
pub struct BadPath;

/// `rawPath` as API Gateway HTTP API delivers it: decoded, cut at a `?` that decoding
/// produced, and decoded again.
///
/// Observed on a live HTTP API: `/a%20b` → `/a b`, `/a%2Fb` → `/a/b`, `/a%3Fb` → `/a`,
/// `/a%252Fb` → `/a/b`, `/a%253Fb` → `/a?b`, `/a%2525b` → `/a%b`, `/a%23b` → `/a#b`, and
/// `/a%25done` is rejected.
pub fn gateway_path(raw_path: &str) -> Result<String, BadPath> {
    let mut once = percent_decode(raw_path.as_bytes())?;
    if let Some(i) = once.iter().position(|&b| b == b'?') {
        once.truncate(i);
    }
    let twice = percent_decode(&once)?;
    String::from_utf8(twice).map_err(|_| BadPath)
}

fn percent_decode(input: &[u8]) -> Result<Vec<u8>, BadPath> {
    fn hex(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            b'A'..=b'F' => Some(b - b'A' + 10),
            _ => None,
        }
    }
    if !input.contains(&b'%') {
        return Ok(input.to_vec());
    }
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        if input[i] == b'%' {
            let hi = input.get(i + 1).copied().and_then(hex).ok_or(BadPath)?;
            let lo = input.get(i + 2).copied().and_then(hex).ok_or(BadPath)?;
            out.push(hi << 4 | lo);
            i += 3;
        } else {
            out.push(input[i]);
            i += 1;
        }
    }
    Ok(out)
}

/// The parts of a client request the event is made of.
#[derive(Debug, Clone, Copy)]
pub struct ClientRequest<'a> {
    /// The method as sent.
    pub method: &'a str,
    /// The request target as received (path and optional `?query`).
    pub target: &'a str,
    /// `HTTP/1.1` or `HTTP/1.0`.
    pub protocol: &'a str,
    /// The request headers.
    pub headers: &'a HeaderMap,
    /// The whole body.
    pub body: &'a [u8],
    /// The client's address.
    pub source_ip: IpAddr,
    /// The port the client connected to.
    pub local_port: u16,
}

impl ClientRequest<'_> {
    /// The raw query string (after `?`, still encoded; empty without one).
    pub fn raw_query(&self) -> &str {
        self.target.split_once('?').map(|(_, q)| q).unwrap_or("")
    }

    /// The event's `domainName` (the `Host` without its port) and `domainPrefix` (its first
    /// label), as both API Gateway kinds fill them.
    pub fn domain(&self) -> (&str, &str) {
        let host = self
            .headers
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost");
        let name = host_without_port(host);
        (name, name.split('.').next().unwrap_or(name))
    }

    /// The `User-Agent`, for the event's `identity`/`http` section.
    pub fn user_agent(&self) -> Cow<'_, str> {
        self.headers
            .get(http::header::USER_AGENT)
            .map(|v| String::from_utf8_lossy(v.as_bytes()))
            .unwrap_or_default()
    }
}

/// Per-request values that the gateway generates.
#[derive(Debug, Clone)]
pub struct RequestMeta {
    /// API Gateway's request id (`requestContext.requestId`, `apigw-requestid`).
    pub request_id: String,
    /// When the request arrived.
    pub time: SystemTime,
}

impl RequestMeta {
    /// A fresh id, now.
    pub fn now() -> Self {
        RequestMeta {
            request_id: ids::apigw_request_id(),
            time: SystemTime::now(),
        }
    }
}

/// A string map serialised in insertion order.
struct Pairs<'a>(Vec<(Cow<'a, str>, Cow<'a, str>)>);

impl Serialize for Pairs<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

#[derive(Serialize)]
struct Http<'a> {
    method: &'a str,
    path: &'a str,
    protocol: &'a str,
    #[serde(rename = "sourceIp")]
    source_ip: String,
    #[serde(rename = "userAgent")]
    user_agent: Cow<'a, str>,
}

#[derive(Serialize)]
struct Context<'a> {
    #[serde(rename = "accountId")]
    account_id: &'a str,
    #[serde(rename = "apiId")]
    api_id: &'a str,
    #[serde(rename = "domainName")]
    domain_name: &'a str,
    #[serde(rename = "domainPrefix")]
    domain_prefix: &'a str,
    http: Http<'a>,
    #[serde(rename = "requestId")]
    request_id: &'a str,
    #[serde(rename = "routeKey")]
    route_key: &'a str,
    stage: &'a str,
    time: String,
    #[serde(rename = "timeEpoch")]
    time_epoch: u64,
}

#[derive(Serialize)]
struct Event<'a> {
    version: &'a str,
    #[serde(rename = "routeKey")]
    route_key: &'a str,
    #[serde(rename = "rawPath")]
    raw_path: &'a str,
    #[serde(rename = "rawQueryString")]
    raw_query_string: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    cookies: Vec<&'a str>,
    headers: Pairs<'a>,
    #[serde(
        rename = "queryStringParameters",
        skip_serializing_if = "Option::is_none"
    )]
    query_string_parameters: Option<Pairs<'a>>,
    #[serde(rename = "requestContext")]
    request_context: Context<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<Cow<'a, str>>,
    #[serde(rename = "pathParameters", skip_serializing_if = "Option::is_none")]
    path_parameters: Option<Pairs<'a>>,
    #[serde(rename = "isBase64Encoded")]
    is_base64_encoded: bool,
}

/// Whether API Gateway passes a body of this content type as text (observed on HTTP APIs:
/// only `text/*`, JSON, XML and JavaScript; everything else, even form posts, is base64).
pub fn is_text_content_type(content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else {
        return false;
    };
    let media = ct.split(';').next().unwrap_or_default().trim();
    let is = |m: &str| media.eq_ignore_ascii_case(m);
    media
        .get(..5)
        .is_some_and(|p| p.eq_ignore_ascii_case("text/"))
        || is("application/json")
        || is("application/xml")
        || is("application/javascript")
}

/// Splits the `Cookie` headers into the event's `cookies` entries.
fn cookies(headers: &HeaderMap) -> Vec<&str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect()
}

/// `queryStringParameters`: decoded, repeated keys joined with commas, `None` when empty.
///
/// Linear in the query's length: an index finds a repeated key, and a value grows in place
/// (a lookup through the list and a copy per repeat made many keys quadratic).
fn query_parameters(raw: &str) -> Option<Pairs<'_>> {
    let mut pairs: Vec<(Cow<'_, str>, Cow<'_, str>)> = Vec::new();
    let mut index: HashMap<Cow<'_, str>, usize> = HashMap::new();
    for (k, v) in form_urlencoded::parse(raw.as_bytes()) {
        match index.get(&k) {
            Some(&i) => {
                let existing = pairs[i].1.to_mut();
                existing.push(',');
                existing.push_str(&v);
            }
            None => {
                index.insert(k.clone(), pairs.len());
                pairs.push((k, v));
            }
        }
    }
    (!pairs.is_empty()).then_some(Pairs(pairs))
}

/// The event's `headers`.
fn event_headers<'a>(
    req: &ClientRequest<'a>,
    meta: &RequestMeta,
) -> Vec<(Cow<'a, str>, Cow<'a, str>)> {
    let mut out: Vec<(Cow<'a, str>, Cow<'a, str>)> = Vec::with_capacity(req.headers.keys_len() + 4);
    let mut forwarded_for = None;
    let mut has_trace = false;
    let mut has_length = false;
    for name in req.headers.keys() {
        let key = name.as_str();
        if key == "cookie" || HOP_BY_HOP.contains(&key) {
            continue;
        }
        let mut values = req.headers.get_all(name).iter();
        let Some(first) = values.next() else {
            continue;
        };
        let mut value = String::from_utf8_lossy(first.as_bytes());
        for next in values {
            let v = value.to_mut();
            v.push(',');
            v.push_str(&String::from_utf8_lossy(next.as_bytes()));
        }
        match key {
            "x-forwarded-for" => {
                forwarded_for = Some(value);
                continue;
            }
            "x-forwarded-port" | "x-forwarded-proto" => continue,
            "x-amzn-trace-id" => has_trace = true,
            "content-length" => has_length = true,
            _ => {}
        }
        out.push((Cow::Borrowed(key), value));
    }
    if !has_length && !req.body.is_empty() {
        out.push(("content-length".into(), req.body.len().to_string().into()));
    }
    if !has_trace {
        out.push(("x-amzn-trace-id".into(), ids::trace_root(meta.time).into()));
    }
    let peer = req.source_ip.to_string();
    let forwarded = match forwarded_for {
        Some(previous) => format!("{previous}, {peer}"),
        None => peer,
    };
    out.push(("x-forwarded-for".into(), forwarded.into()));
    out.push(("x-forwarded-port".into(), req.local_port.to_string().into()));
    out.push(("x-forwarded-proto".into(), "http".into()));
    out
}

/// Builds the payload 2.0 event JSON for a request routed to `route_key` (`None`: the
/// `$default` route).
pub fn build(
    req: &ClientRequest<'_>,
    route_key: Option<&RouteKey>,
    gateway_path: &str,
    meta: &RequestMeta,
) -> Vec<u8> {
    let route_key_text = route_key.map_or_else(|| DEFAULT_ROUTE.to_owned(), RouteKey::to_string);
    let raw_query = req.raw_query();
    let (domain_name, domain_prefix) = req.domain();
    let user_agent = req.user_agent();
    let content_type = req
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let (body, is_base64_encoded) = if req.body.is_empty() {
        (None, false)
    } else {
        match std::str::from_utf8(req.body) {
            Ok(text) if is_text_content_type(content_type) => (Some(Cow::Borrowed(text)), false),
            _ => (
                Some(Cow::Owned(
                    base64::engine::general_purpose::STANDARD.encode(req.body),
                )),
                true,
            ),
        }
    };
    let path_parameters = route_key
        .and_then(|k| k.path_parameters(gateway_path))
        .and_then(|params| {
            (!params.is_empty()).then(|| {
                Pairs(
                    params
                        .into_iter()
                        .map(|(k, v)| (Cow::Owned(k), Cow::Owned(v)))
                        .collect(),
                )
            })
        });
    let event = Event {
        version: "2.0",
        route_key: &route_key_text,
        raw_path: gateway_path,
        raw_query_string: raw_query,
        cookies: cookies(req.headers),
        headers: Pairs(event_headers(req, meta)),
        query_string_parameters: query_parameters(raw_query),
        request_context: Context {
            account_id: ACCOUNT_ID,
            api_id: API_ID,
            domain_name,
            domain_prefix,
            http: Http {
                method: req.method,
                path: gateway_path,
                protocol: req.protocol,
                source_ip: req.source_ip.to_string(),
                user_agent,
            },
            request_id: &meta.request_id,
            route_key: &route_key_text,
            stage: STAGE,
            time: Utc::from_system(meta.time).clf(),
            time_epoch: ids::epoch_ms(meta.time),
        },
        body,
        path_parameters,
        is_base64_encoded,
    };
    // Serialising plain strings and numbers into a Vec cannot fail.
    serde_json::to_vec(&event).unwrap_or_default()
}

/// `example.com:3000` → `example.com`; `[::1]:3000` → `[::1]`.
pub(crate) fn host_without_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.split_inclusive(']').next().unwrap_or(host);
    }
    match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use serde_json::{json, Value};

    #[test]
    fn raw_path_is_decoded_like_a_live_http_api() {
        // The pairs captured on a real HTTP API (hotsock/voker, vokerhttp/testdata).
        let cases = [
            ("/capture/plain", Ok("/capture/plain")),
            ("/capture/space%20value", Ok("/capture/space value")),
            ("/capture/question%3Fvalue", Ok("/capture/question")),
            ("/capture/percent%25done", Err(BadPath)),
            ("/capture/hash%23value", Ok("/capture/hash#value")),
            ("/capture/slash%2Fvalue", Ok("/capture/slash/value")),
            (
                "/capture/unicode-%CE%BB-%E4%B8%96%E7%95%8C",
                Ok("/capture/unicode-λ-世界"),
            ),
            ("/capture/literal%252Fvalue", Ok("/capture/literal/value")),
            ("/capture/literal%253Fvalue", Ok("/capture/literal?value")),
            ("/capture/literal%2525value", Ok("/capture/literal%value")),
        ];
        for (sent, expected) in cases {
            assert_eq!(gateway_path(sent), expected.map(str::to_owned), "{sent}");
        }
        assert_eq!(gateway_path("/a%zz"), Err(BadPath));
        assert_eq!(gateway_path("/a%FF"), Err(BadPath));
    }

    #[test]
    fn text_content_types() {
        for t in [
            "text/plain",
            "TEXT/html; charset=utf-8",
            "application/json",
            "application/json; charset=utf-8",
            "application/xml",
            "application/javascript",
        ] {
            assert!(is_text_content_type(Some(t)), "{t}");
        }
        for t in [
            "application/octet-stream",
            "application/x-www-form-urlencoded",
            "image/png",
            "multipart/form-data; boundary=x",
            "application/vnd.api+json",
        ] {
            assert!(!is_text_content_type(Some(t)), "{t}");
        }
        assert!(!is_text_content_type(None));
    }

    fn request<'a>(
        method: &'a str,
        target: &'a str,
        headers: &'a HeaderMap,
        body: &'a [u8],
    ) -> ClientRequest<'a> {
        ClientRequest {
            method,
            target,
            protocol: "HTTP/1.1",
            headers,
            body,
            source_ip: "127.0.0.1".parse().unwrap(),
            local_port: 3000,
        }
    }

    #[test]
    fn event_matches_the_documented_shape() {
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("127.0.0.1:3000"));
        headers.insert("user-agent", HeaderValue::from_static("curl/8.7.1"));
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        headers.append("x-probe", HeaderValue::from_static("first"));
        headers.append("x-probe", HeaderValue::from_static("second"));
        headers.append(
            "cookie",
            HeaderValue::from_static("session=abc123; theme=dark"),
        );
        headers.append("cookie", HeaderValue::from_static("late=1"));
        headers.insert("connection", HeaderValue::from_static("keep-alive"));
        let body = br#"{"a":1}"#;
        let target =
            "/api/post/a%20b?repeat=one&repeat=two&literalPlus=a+b&encodedPlus=a%2Bb&empty=";
        let req = request("POST", target, &headers, body);
        let meta = RequestMeta {
            request_id: "ATfSmjLgPHcESJw=".into(),
            time: std::time::UNIX_EPOCH + std::time::Duration::from_millis(1_583_348_638_390),
        };
        let key = RouteKey::parse("ANY /api/post/{pid}").unwrap();
        let path = gateway_path("/api/post/a%20b").unwrap();
        let event: Value = serde_json::from_slice(&build(&req, Some(&key), &path, &meta)).unwrap();
        let headers = &event["headers"];
        assert!(headers["x-amzn-trace-id"]
            .as_str()
            .unwrap()
            .starts_with("Root=1-"));
        let mut event = event.clone();
        event["headers"]["x-amzn-trace-id"] = json!("TRACE");
        assert_eq!(
            event,
            json!({
                "version": "2.0",
                "routeKey": "ANY /api/post/{pid}",
                "rawPath": "/api/post/a b",
                "rawQueryString": "repeat=one&repeat=two&literalPlus=a+b&encodedPlus=a%2Bb&empty=",
                "cookies": ["session=abc123", "theme=dark", "late=1"],
                "headers": {
                    "host": "127.0.0.1:3000",
                    "user-agent": "curl/8.7.1",
                    "content-type": "application/json",
                    "x-probe": "first,second",
                    "content-length": "7",
                    "x-amzn-trace-id": "TRACE",
                    "x-forwarded-for": "127.0.0.1",
                    "x-forwarded-port": "3000",
                    "x-forwarded-proto": "http"
                },
                "queryStringParameters": {
                    "repeat": "one,two",
                    "literalPlus": "a b",
                    "encodedPlus": "a+b",
                    "empty": ""
                },
                "requestContext": {
                    "accountId": "123456789012",
                    "apiId": "nextrlocal",
                    "domainName": "127.0.0.1",
                    "domainPrefix": "127",
                    "http": {
                        "method": "POST",
                        "path": "/api/post/a b",
                        "protocol": "HTTP/1.1",
                        "sourceIp": "127.0.0.1",
                        "userAgent": "curl/8.7.1"
                    },
                    "requestId": "ATfSmjLgPHcESJw=",
                    "routeKey": "ANY /api/post/{pid}",
                    "stage": "$default",
                    "time": "04/Mar/2020:19:03:58 +0000",
                    "timeEpoch": 1_583_348_638_390u64
                },
                "body": "{\"a\":1}",
                "pathParameters": {"pid": "a b"},
                "isBase64Encoded": false
            })
        );
    }

    #[test]
    fn bodies_queries_and_forwarding() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "content-type",
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        headers.insert("x-forwarded-for", HeaderValue::from_static("10.0.0.1"));
        headers.insert("x-forwarded-proto", HeaderValue::from_static("spoofed"));
        let req = request("GET", "/api/hello", &headers, b"a=1");
        let key = RouteKey::parse("ANY /api/hello").unwrap();
        let event: Value =
            serde_json::from_slice(&build(&req, Some(&key), "/api/hello", &RequestMeta::now()))
                .unwrap();
        assert_eq!(event["body"], "YT0x");
        assert_eq!(event["isBase64Encoded"], true);
        assert_eq!(event["rawQueryString"], "");
        assert!(event.get("queryStringParameters").is_none());
        assert!(event.get("cookies").is_none());
        assert!(event.get("pathParameters").is_none());
        assert_eq!(event["headers"]["x-forwarded-for"], "10.0.0.1, 127.0.0.1");
        assert_eq!(event["headers"]["x-forwarded-proto"], "http");
        assert_eq!(event["requestContext"]["domainName"], "localhost");
        assert_eq!(event["requestContext"]["http"]["userAgent"], "");

        let empty = HeaderMap::new();
        let req = request("GET", "/api/hello", &empty, b"");
        let event: Value =
            serde_json::from_slice(&build(&req, Some(&key), "/api/hello", &RequestMeta::now()))
                .unwrap();
        assert!(event.get("body").is_none());
        assert_eq!(event["isBase64Encoded"], false);

        let req = request("POST", "/api/hello", &empty, &[0xff, 0x00]);
        let event: Value =
            serde_json::from_slice(&build(&req, Some(&key), "/api/hello", &RequestMeta::now()))
                .unwrap();
        assert_eq!(event["body"], "/wA=");
        assert_eq!(event["isBase64Encoded"], true);
        assert_eq!(event["headers"]["content-length"], "2");
    }

    #[test]
    fn hosts() {
        assert_eq!(host_without_port("127.0.0.1:3000"), "127.0.0.1");
        assert_eq!(host_without_port("example.com"), "example.com");
        assert_eq!(host_without_port("[::1]:3000"), "[::1]");
    }

    #[test]
    fn many_query_keys_and_repeats() {
        // 30,000 keys once took a lookup through the list each, and a repeat a full copy.
        let distinct: Vec<String> = (0..30_000).map(|i| format!("k{i}=v")).collect();
        let distinct = distinct.join("&");
        let pairs = query_parameters(&distinct).unwrap();
        assert_eq!(pairs.0.len(), 30_000);
        assert_eq!(pairs.0[29_999].0, "k29999");
        let repeated = vec!["a=1"; 30_000].join("&") + "&b=2&a=3";
        let pairs = query_parameters(&repeated).unwrap();
        assert_eq!(pairs.0.len(), 2);
        assert_eq!(pairs.0[0].1, vec!["1"; 30_000].join(",") + ",3");
        assert_eq!(pairs.0[1].1, "2");
    }
}
