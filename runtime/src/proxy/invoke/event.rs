//! The two payloads of a rewrite's invocation: the payload 2.0 event made from the rewritten
//! request, as an API Gateway HTTP API would deliver it, and the target's payload 2.0
//! response made back into an [`Outgoing`].

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, CONTENT_LENGTH, CONTENT_TYPE, COOKIE, SET_COOKIE};
use http::HeaderMap;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::Forward;
use crate::dispatch::Outgoing;

/// Headers that describe the caller's own connection, not the request: an HTTP API leaves
/// them out of the event, and they mean nothing on the next hop.
const HOP_BY_HOP: [&str; 6] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "transfer-encoding",
    "upgrade",
];

/// The event JSON, as an HTTP API builds it (see `nextr_infra::gateway::http_api::event`):
/// headers lower-cased with repeated ones joined by commas, the `Cookie` headers split into
/// `cookies`, `queryStringParameters` decoded with repeated keys joined by commas, the body
/// base64-encoded, the `$default` stage (no stage prefix in `rawPath`). The path stays as the
/// rewrite gave it (percent-encoded, as a function URL delivers it: the runtime reads both).
/// `requestContext.domainName` is the `Host` without its port, except a function URL's host,
/// which would make a streaming target stream its answer into a buffered invocation.
pub(super) fn encode(request: &Forward, now: SystemTime) -> Vec<u8> {
    let (path, query) = match request.target.split_once('?') {
        Some((path, query)) => (path, query),
        None => (request.target.as_str(), ""),
    };
    let path = if path.is_empty() { "/" } else { path };
    let text = |v: &HeaderValue| String::from_utf8_lossy(v.as_bytes()).into_owned();

    let mut headers = Map::new();
    for name in request.headers.keys() {
        let key = name.as_str();
        if name == COOKIE || name == CONTENT_LENGTH || HOP_BY_HOP.contains(&key) {
            continue;
        }
        let joined: Vec<String> = request.headers.get_all(name).iter().map(text).collect();
        headers.insert(key.to_owned(), Value::String(joined.join(",")));
    }
    // The body may not be the one the client sent its length for.
    if !request.body.is_empty() {
        headers.insert(
            CONTENT_LENGTH.as_str().to_owned(),
            Value::String(request.body.len().to_string()),
        );
    }
    let cookies: Vec<String> = request
        .headers
        .get_all(COOKIE)
        .iter()
        .map(text)
        .flat_map(|v| {
            v.split(';')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    let mut parameters = Map::new();
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        match parameters.get_mut(k.as_ref()) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&v);
            }
            _ => {
                parameters.insert(k.into_owned(), Value::String(v.into_owned()));
            }
        }
    }

    let host = request
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(without_port)
        .filter(|h| !h.contains(".lambda-url."));
    let millis = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let mut context = json!({
        "routeKey": "$default",
        "stage": "$default",
        "requestId": request.request_id,
        "http": {
            "method": request.method.as_str(),
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": request.source_ip.as_deref().unwrap_or("127.0.0.1"),
            "userAgent": request
                .headers
                .get(http::header::USER_AGENT)
                .map(text)
                .unwrap_or_default(),
        },
        "time": clf(millis),
        "timeEpoch": millis,
    });
    if let Some(host) = host {
        context["domainName"] = json!(host);
        context["domainPrefix"] = json!(host.split('.').next().unwrap_or(host));
    }
    let mut event = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": context,
        "isBase64Encoded": !request.body.is_empty(),
    });
    if !cookies.is_empty() {
        event["cookies"] = json!(cookies);
    }
    if !parameters.is_empty() {
        event["queryStringParameters"] = Value::Object(parameters);
    }
    if !request.body.is_empty() {
        event["body"] = json!(base64::engine::general_purpose::STANDARD.encode(&request.body));
    }
    event.to_string().into_bytes()
}

/// A `Host` value without its port (`[::1]:3000` → `[::1]`).
fn without_port(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((name, port))
            if !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit())
                && (!name.contains(':') || name.ends_with(']')) =>
        {
            name
        }
        _ => host,
    }
}

/// `requestContext.time`: `04/Mar/2020:19:03:58 +0000`.
fn clf(epoch_ms: u64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = epoch_ms / 1000;
    let (h, m, s) = (secs / 3600 % 24, secs / 60 % 60, secs % 60);
    // Days since 1970-01-01 to a civil date (Howard Hinnant's `civil_from_days`).
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let month = MONTHS.get((month - 1) as usize).copied().unwrap_or("Jan");
    format!("{day:02}/{month}/{year}:{h:02}:{m:02}:{s:02} +0000")
}

/// A payload 2.0 response (`multiValueHeaders` too, which payload 1.0 uses and some
/// runtimes send anyway).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Reply {
    status_code: u16,
    #[serde(default)]
    headers: Option<Map<String, Value>>,
    #[serde(default)]
    multi_value_headers: Option<Map<String, Value>>,
    #[serde(default)]
    cookies: Option<Vec<String>>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    is_base64_encoded: bool,
}

/// The target's answer as this function's: status, headers (`multiValueHeaders` over
/// `headers` for a name in both), a `Set-Cookie` per entry of `cookies`, the body (decoded
/// when `isBase64Encoded`). A payload without `statusCode` is what an HTTP API makes of it:
/// 200, `application/json`, the payload as body. `Err` says what is not a response.
pub(super) fn outgoing(payload: &[u8]) -> Result<Outgoing, String> {
    let value: Value =
        serde_json::from_slice(payload).map_err(|e| format!("the payload is not JSON ({e})"))?;
    if value.get("statusCode").is_none() {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        return Ok(Outgoing {
            status: 200,
            headers,
            body: Bytes::copy_from_slice(payload),
        });
    }
    let reply: Reply = serde_json::from_value(value).map_err(|e| e.to_string())?;
    if http::StatusCode::from_u16(reply.status_code).is_err() {
        return Err(format!(
            "statusCode {} is not an HTTP status",
            reply.status_code
        ));
    }
    let mut headers = HeaderMap::new();
    for (name, value) in reply.headers.iter().flatten() {
        let name = header_name(name)?;
        headers.insert(name.clone(), header_value(&name, value)?);
    }
    for (name, values) in reply.multi_value_headers.iter().flatten() {
        let name = header_name(name)?;
        let Value::Array(values) = values else {
            return Err(format!("multiValueHeaders.{name} is not a list"));
        };
        headers.remove(&name);
        for value in values {
            headers.append(name.clone(), header_value(&name, value)?);
        }
    }
    for cookie in reply.cookies.iter().flatten() {
        let value = HeaderValue::from_str(cookie)
            .map_err(|_| format!("the cookie {cookie:?} is not a valid Set-Cookie value"))?;
        headers.append(SET_COOKIE, value);
    }
    let body = match reply.body {
        None => Bytes::new(),
        Some(body) if reply.is_base64_encoded => base64::engine::general_purpose::STANDARD
            .decode(body.as_bytes())
            .map(Bytes::from)
            .map_err(|e| format!("the body is marked base64 but is not ({e})"))?,
        Some(body) => Bytes::from(body),
    };
    Ok(Outgoing {
        status: reply.status_code,
        headers,
        body,
    })
}

fn header_name(name: &str) -> Result<HeaderName, String> {
    HeaderName::from_bytes(name.as_bytes()).map_err(|_| format!("{name:?} is not a header name"))
}

/// A header's value: a string, or a number or boolean written as JSON writes it.
fn header_value(name: &HeaderName, value: &Value) -> Result<HeaderValue, String> {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Number(_) | Value::Bool(_) => value.to_string(),
        _ => return Err(format!("the value of {name} is not a string")),
    };
    HeaderValue::from_str(&text)
        .map_err(|_| format!("the value of {name} is not a valid header value"))
}

/// `errorType` and `errorMessage` of a failed invocation's error document (the whole payload
/// as the message when it is not one).
pub(super) fn error_document(payload: &[u8]) -> (String, String) {
    let doc: Option<Map<String, Value>> = serde_json::from_slice(payload).ok();
    let field = |key: &str| {
        doc.as_ref()
            .and_then(|d| d.get(key))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    (
        field("errorType").unwrap_or_else(|| "Unknown".to_owned()),
        field("errorMessage").unwrap_or_else(|| String::from_utf8_lossy(payload).into_owned()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clf_dates() {
        assert_eq!(clf(1_583_348_638_390), "04/Mar/2020:19:03:58 +0000");
        assert_eq!(clf(0), "01/Jan/1970:00:00:00 +0000");
        assert_eq!(clf(951_782_400_000), "29/Feb/2000:00:00:00 +0000");
    }
}
