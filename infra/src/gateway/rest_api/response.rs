//! A function's answer turned into HTTP by a REST API (Lambda proxy integration):
//!
//! - **Buffered** (payload 1.0, AWS: "Output format of a Lambda function for proxy
//!   integration"): a JSON object with a numeric `statusCode`, `headers` (one value each),
//!   `multiValueHeaders` (lists), `body` (a string) and `isBase64Encoded`. The two header
//!   maps are merged, a pair present in both appearing once. With the binary media types
//!   nextr deploys ([`super::BINARY_MEDIA_TYPES`]), a base64 body is decoded. Anything else
//!   (not JSON, not an object, no `statusCode`, a field of the wrong type) is a malformed
//!   response, which the REST API answers 502 `{"message": "Internal server error"}`.
//! - **Streamed** (`responseTransferMode: STREAM`): the function writes a JSON [`Prelude`]
//!   (`statusCode`, `headers`, `multiValueHeaders`, `cookies`), then
//!   [`PRELUDE_DELIMITER`] (eight NUL bytes), then the body bytes as they come.

use base64::Engine;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, StatusCode};
use serde::Deserialize;
use serde_json::{Map, Value};

pub use super::super::http_api::response::{MalformedResponse, Mapped};

/// What separates a streamed response's prelude from its body.
pub const PRELUDE_DELIMITER: [u8; 8] = [0; 8];

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Buffered {
    status_code: Option<Value>,
    #[serde(default)]
    headers: Option<Map<String, Value>>,
    #[serde(default)]
    multi_value_headers: Option<Map<String, Value>>,
    #[serde(default)]
    body: Option<Value>,
    #[serde(default)]
    is_base64_encoded: Option<Value>,
}

fn text(v: &Value, field: &'static str) -> Result<String, MalformedResponse> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(MalformedResponse::Field(field)),
    }
}

fn status(v: Option<&Value>, default: Option<StatusCode>) -> Result<StatusCode, MalformedResponse> {
    let n = match v {
        None | Some(Value::Null) => {
            return default.ok_or(MalformedResponse::Field("statusCode"));
        }
        Some(Value::Number(n)) => n.as_i64().ok_or(MalformedResponse::Field("statusCode"))?,
        Some(_) => return Err(MalformedResponse::Field("statusCode")),
    };
    u16::try_from(n)
        .ok()
        .filter(|s| (100..=599).contains(s))
        .and_then(|s| StatusCode::from_u16(s).ok())
        .ok_or(MalformedResponse::Status(n))
}

fn header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), MalformedResponse> {
    let n = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| MalformedResponse::Header(name.to_owned()))?;
    let v = HeaderValue::from_str(value).map_err(|_| MalformedResponse::Header(name.to_owned()))?;
    Ok((n, v))
}

/// `headers` and `multiValueHeaders` merged: each name's list, then its single value unless
/// the list already has it.
fn merged(
    single: Option<&Map<String, Value>>,
    multi: Option<&Map<String, Value>>,
) -> Result<Vec<(HeaderName, HeaderValue)>, MalformedResponse> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (name, values) in multi.into_iter().flatten() {
        match values {
            Value::Null => {}
            Value::Array(vs) => {
                for v in vs {
                    out.push((name.clone(), text(v, "multiValueHeaders")?));
                }
            }
            _ => return Err(MalformedResponse::Field("multiValueHeaders")),
        }
    }
    for (name, value) in single.into_iter().flatten() {
        if value.is_null() {
            continue;
        }
        let value = text(value, "headers")?;
        if !out
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case(name) && *v == value)
        {
            out.push((name.clone(), value));
        }
    }
    out.iter().map(|(n, v)| header(n, v)).collect()
}

/// Maps a buffered payload 1.0 response to the HTTP response the REST API sends.
pub fn map(payload: Bytes) -> Result<Mapped, MalformedResponse> {
    let first = payload.iter().find(|b| !b.is_ascii_whitespace()).copied();
    if first != Some(b'{') {
        // Valid JSON that is not an object is as malformed as invalid JSON for REST.
        return Err(match serde_json::from_slice::<Value>(&payload) {
            Ok(_) => MalformedResponse::Field("statusCode"),
            Err(_) => MalformedResponse::NotJson,
        });
    }
    let parsed: Buffered =
        serde_json::from_slice(&payload).map_err(|_| MalformedResponse::NotJson)?;
    let status = status(parsed.status_code.as_ref(), None)?;
    let base64 = match parsed.is_base64_encoded {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => b,
        Some(_) => return Err(MalformedResponse::Field("isBase64Encoded")),
    };
    let headers = merged(parsed.headers.as_ref(), parsed.multi_value_headers.as_ref())?;
    let body = match parsed.body {
        None | Some(Value::Null) => Bytes::new(),
        Some(Value::String(text)) if base64 => Bytes::from(
            base64::engine::general_purpose::STANDARD
                .decode(text.as_bytes())
                .map_err(|_| MalformedResponse::Base64)?,
        ),
        Some(Value::String(text)) => Bytes::from(text),
        Some(_) => return Err(MalformedResponse::Field("body")),
    };
    Ok(Mapped {
        status,
        headers,
        body,
    })
}

/// The status and headers a streamed response starts with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prelude {
    /// `statusCode`, 200 when absent.
    pub status: StatusCode,
    /// `headers` and `multiValueHeaders` merged, then one `set-cookie` per `cookies` entry.
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPrelude {
    status_code: Option<Value>,
    #[serde(default)]
    headers: Option<Map<String, Value>>,
    #[serde(default)]
    multi_value_headers: Option<Map<String, Value>>,
    #[serde(default)]
    cookies: Option<Vec<Value>>,
}

impl Prelude {
    /// Parses the prelude's JSON (the bytes before [`PRELUDE_DELIMITER`]).
    pub fn parse(json: &[u8]) -> Result<Self, MalformedResponse> {
        let raw: RawPrelude =
            serde_json::from_slice(json).map_err(|_| MalformedResponse::NotJson)?;
        let status = status(raw.status_code.as_ref(), Some(StatusCode::OK))?;
        let mut headers = merged(raw.headers.as_ref(), raw.multi_value_headers.as_ref())?;
        for cookie in raw.cookies.iter().flatten() {
            let text = cookie.as_str().ok_or(MalformedResponse::Field("cookies"))?;
            headers.push(header("set-cookie", text)?);
        }
        Ok(Prelude { status, headers })
    }
}

/// Splits a streamed response's first bytes at the delimiter: the prelude's JSON and the
/// body bytes after it; `None` while the delimiter has not arrived.
pub fn split_prelude(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let at = bytes
        .windows(PRELUDE_DELIMITER.len())
        .position(|w| w == PRELUDE_DELIMITER)?;
    Some((&bytes[..at], &bytes[at + PRELUDE_DELIMITER.len()..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Result<Mapped, MalformedResponse> {
        map(Bytes::from(s.to_owned()))
    }

    fn shown(headers: &[(HeaderName, HeaderValue)]) -> Vec<(String, String)> {
        headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
            .collect()
    }

    #[test]
    fn buffered_responses_merge_both_header_maps() {
        let r = m(
            r#"{"statusCode":201,"headers":{"content-type":"text/plain","x-one":"1"},
            "multiValueHeaders":{"set-cookie":["a=1","b=2"],"content-type":["text/plain"]},
            "body":"hi","isBase64Encoded":false}"#,
        )
        .unwrap();
        assert_eq!(r.status, StatusCode::CREATED);
        assert_eq!(
            shown(&r.headers),
            [
                ("set-cookie", "a=1"),
                ("set-cookie", "b=2"),
                ("content-type", "text/plain"),
                ("x-one", "1"),
            ]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
        );
        assert_eq!(r.body, "hi");
        let r = m(r#"{"statusCode":200,"body":"AP8=","isBase64Encoded":true}"#).unwrap();
        assert_eq!(&r.body[..], &[0x00, 0xff]);
        let r = m(r#"{"statusCode":204,"body":null}"#).unwrap();
        assert!(r.body.is_empty() && r.headers.is_empty());
    }

    #[test]
    fn rest_is_strict_about_the_format() {
        assert_eq!(m("not json"), Err(MalformedResponse::NotJson));
        // An HTTP API would answer 200 with these; a REST API refuses them.
        assert_eq!(m(r#""hello""#), Err(MalformedResponse::Field("statusCode")));
        assert_eq!(
            m(r#"{"message":"hi"}"#),
            Err(MalformedResponse::Field("statusCode"))
        );
        assert_eq!(
            m(r#"{"statusCode":200,"body":{"a":1}}"#),
            Err(MalformedResponse::Field("body"))
        );
        assert_eq!(
            m(r#"{"statusCode":99}"#),
            Err(MalformedResponse::Status(99))
        );
        assert_eq!(
            m(r#"{"statusCode":200,"multiValueHeaders":{"x":"a"}}"#),
            Err(MalformedResponse::Field("multiValueHeaders"))
        );
        assert_eq!(
            m(r#"{"statusCode":200,"body":"!!","isBase64Encoded":true}"#),
            Err(MalformedResponse::Base64)
        );
    }

    #[test]
    fn streamed_preludes() {
        let mut stream = br#"{"statusCode":202,"headers":{"content-type":"text/event-stream"},"cookies":["s=1; Path=/"]}"#.to_vec();
        assert_eq!(split_prelude(&stream), None);
        stream.extend_from_slice(&PRELUDE_DELIMITER);
        stream.extend_from_slice(b"data: 1\n\n");
        let (json, body) = split_prelude(&stream).unwrap();
        assert_eq!(body, b"data: 1\n\n");
        let p = Prelude::parse(json).unwrap();
        assert_eq!(p.status, StatusCode::ACCEPTED);
        assert_eq!(
            shown(&p.headers),
            [
                ("content-type", "text/event-stream"),
                ("set-cookie", "s=1; Path=/")
            ]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
        );
        assert_eq!(Prelude::parse(b"{}").unwrap().status, StatusCode::OK);
        assert_eq!(Prelude::parse(b"nope"), Err(MalformedResponse::NotJson));
    }
}
