//! A function's payload 2.0 response turned back into HTTP, as API Gateway HTTP API does it
//! (AWS: "Lambda function response for format 2.0"):
//!
//! - a JSON object with `statusCode`: that status, `headers` (one value each), every `cookies`
//!   entry as its own `set-cookie`, and `body`, base64-decoded when `isBase64Encoded` is true;
//! - any other valid JSON (no `statusCode`): 200, `content-type: application/json`, and the
//!   payload itself as the body (a JSON string gives its value);
//! - anything else is a malformed response, which API Gateway answers with
//!   500 `{"message":"Internal Server Error"}`.
//!
//! `multiValueHeaders` is not part of the 2.0 response format and is ignored (lambda_http sends
//! it empty; honouring it when it repeats `headers` would duplicate every header).

use base64::Engine;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, StatusCode};
use serde::Deserialize;
use serde_json::Value;

/// An HTTP response ready to send (before the gateway's own headers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapped {
    /// The status.
    pub status: StatusCode,
    /// Headers in order, `set-cookie` repeated.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// The body bytes.
    pub body: Bytes,
}

/// Why a function's response cannot be turned into HTTP.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MalformedResponse {
    /// Not JSON at all.
    #[error("the function's response is not valid JSON")]
    NotJson,
    /// A field has the wrong type.
    #[error("the function's response has an invalid `{0}`")]
    Field(&'static str),
    /// `statusCode` outside 100–599.
    #[error("the function's response has an invalid statusCode {0}")]
    Status(i64),
    /// A header name or value HTTP cannot carry.
    #[error("the function's response has an invalid header `{0}`")]
    Header(String),
    /// `isBase64Encoded` with a body that is not base64.
    #[error("the function's response body is not valid base64")]
    Base64,
}

#[derive(Deserialize)]
struct Structured<'a> {
    #[serde(rename = "statusCode")]
    status_code: Option<Value>,
    #[serde(default)]
    headers: Option<serde_json::Map<String, Value>>,
    #[serde(default)]
    cookies: Option<Vec<Value>>,
    #[serde(default, borrow)]
    body: Option<std::borrow::Cow<'a, str>>,
    #[serde(rename = "isBase64Encoded", default)]
    is_base64_encoded: Option<Value>,
}

fn default_json(body: Bytes) -> Mapped {
    Mapped {
        status: StatusCode::OK,
        headers: vec![(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    }
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Maps the payload a function returned to the HTTP response API Gateway sends.
pub fn map(payload: Bytes) -> Result<Mapped, MalformedResponse> {
    let first = payload.iter().find(|b| !b.is_ascii_whitespace()).copied();
    if first != Some(b'{') {
        return match serde_json::from_slice::<Value>(&payload) {
            Ok(Value::String(s)) => Ok(default_json(Bytes::from(s))),
            Ok(_) => Ok(default_json(payload)),
            Err(_) => Err(MalformedResponse::NotJson),
        };
    }
    let parsed: Structured<'_> =
        serde_json::from_slice(&payload).map_err(|_| MalformedResponse::NotJson)?;
    let Some(status) = parsed.status_code else {
        return Ok(default_json(payload.clone()));
    };
    let status = match status {
        Value::Number(n) => n.as_i64().ok_or(MalformedResponse::Field("statusCode"))?,
        _ => return Err(MalformedResponse::Field("statusCode")),
    };
    let status = u16::try_from(status)
        .ok()
        .filter(|s| (100..=599).contains(s))
        .and_then(|s| StatusCode::from_u16(s).ok())
        .ok_or(MalformedResponse::Status(status))?;
    let base64 = match parsed.is_base64_encoded {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => b,
        Some(_) => return Err(MalformedResponse::Field("isBase64Encoded")),
    };
    let mut headers = Vec::new();
    for (name, value) in parsed.headers.iter().flatten() {
        if value.is_null() {
            continue;
        }
        let text = scalar_text(value).ok_or(MalformedResponse::Field("headers"))?;
        let header_name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| MalformedResponse::Header(name.clone()))?;
        let header_value =
            HeaderValue::from_str(&text).map_err(|_| MalformedResponse::Header(name.clone()))?;
        headers.push((header_name, header_value));
    }
    for cookie in parsed.cookies.iter().flatten() {
        let text = cookie.as_str().ok_or(MalformedResponse::Field("cookies"))?;
        let value = HeaderValue::from_str(text)
            .map_err(|_| MalformedResponse::Header("set-cookie".into()))?;
        headers.push((http::header::SET_COOKIE, value));
    }
    let body = match parsed.body {
        None => Bytes::new(),
        Some(text) if base64 => Bytes::from(
            base64::engine::general_purpose::STANDARD
                .decode(text.as_bytes())
                .map_err(|_| MalformedResponse::Base64)?,
        ),
        Some(text) => Bytes::from(text.into_owned()),
    };
    Ok(Mapped {
        status,
        headers,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Result<Mapped, MalformedResponse> {
        map(Bytes::from(s.to_owned()))
    }

    #[test]
    fn structured() {
        let r = m(
            r#"{"statusCode":201,"headers":{"content-type":"text/plain","x-n":5},
            "multiValueHeaders":{"content-type":["text/plain"]},
            "cookies":["a=1; Path=/","b=2"],"body":"hi","isBase64Encoded":false}"#,
        )
        .unwrap();
        assert_eq!(r.status, StatusCode::CREATED);
        let hs: Vec<(String, String)> = r
            .headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
            .collect();
        assert_eq!(
            hs,
            [
                ("content-type", "text/plain"),
                ("x-n", "5"),
                ("set-cookie", "a=1; Path=/"),
                ("set-cookie", "b=2")
            ]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
        );
        assert_eq!(r.body, "hi");
    }

    #[test]
    fn base64_bodies() {
        let r = m(r#"{"statusCode":200,"body":"AP8=","isBase64Encoded":true}"#).unwrap();
        assert_eq!(&r.body[..], &[0x00, 0xff]);
        assert_eq!(
            m(r#"{"statusCode":200,"body":"!!","isBase64Encoded":true}"#),
            Err(MalformedResponse::Base64)
        );
        let r = m(r#"{"statusCode":204}"#).unwrap();
        assert!(r.body.is_empty() && r.headers.is_empty());
    }

    #[test]
    fn inferred_when_no_status_code() {
        let r = m(r#"{ "message": "Hello from Lambda!" }"#).unwrap();
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body, r#"{ "message": "Hello from Lambda!" }"#);
        assert_eq!(r.headers[0].1, "application/json");
        assert_eq!(
            m(r#""Hello from Lambda!""#).unwrap().body,
            "Hello from Lambda!"
        );
        assert_eq!(m("[1,2]").unwrap().body, "[1,2]");
        assert_eq!(m("null").unwrap().body, "null");
    }

    #[test]
    fn malformed() {
        assert_eq!(m("not json"), Err(MalformedResponse::NotJson));
        assert_eq!(m(""), Err(MalformedResponse::NotJson));
        assert_eq!(
            m(r#"{"statusCode":"200"}"#),
            Err(MalformedResponse::Field("statusCode"))
        );
        assert_eq!(
            m(r#"{"statusCode":700}"#),
            Err(MalformedResponse::Status(700))
        );
        assert_eq!(
            m(r#"{"statusCode":200,"headers":{"bad name":"x"}}"#),
            Err(MalformedResponse::Header("bad name".into()))
        );
        assert_eq!(
            m(r#"{"statusCode":200,"headers":{"x":["a"]}}"#),
            Err(MalformedResponse::Field("headers"))
        );
        assert_eq!(
            m(r#"{"statusCode":200,"cookies":[1]}"#),
            Err(MalformedResponse::Field("cookies"))
        );
    }
}
