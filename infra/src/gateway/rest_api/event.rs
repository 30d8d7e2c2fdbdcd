//! The API Gateway REST API event, payload format 1.0 (Lambda proxy integration), as the
//! deployed API builds it (AWS: "Input format of a Lambda function for proxy integration",
//! and a live capture, hotsock/voker `vokerhttp/testdata/apigwv1-request.json`):
//!
//! - `path` is the request path **as received** (still percent-encoded: the capture has
//!   `/capture/space%20value`), without the stage; `requestContext.path` has `/{stage}` in
//!   front. `resource` and `requestContext.resourcePath` are the matched resource's path.
//! - `pathParameters` are cut from that still-encoded path (the capture's greedy `proxy` is
//!   `capture/space%20value`); `null` when the resource has none.
//! - `headers` hold the last value of each header, `multiValueHeaders` all of them; the
//!   gateway adds `X-Amzn-Trace-Id`, `X-Forwarded-For` (the client's address appended),
//!   `X-Forwarded-Port` and `X-Forwarded-Proto`, and drops `Content-Length` and hop-by-hop
//!   headers. Names are lower-case (the emulator's HTTP server folds them), the added ones
//!   spelled as AWS spells them.
//! - `queryStringParameters` hold decoded values, the last one of a repeated key;
//!   `multiValueQueryStringParameters` all of them, keys in first-appearance order (the
//!   runtime rebuilds the query string from them); both `null` without a query.
//! - `stageVariables` is `null`; `requestContext.stage` is the manifest's deploy stage (the
//!   emulator serves at the root, the deployed API under `/{stage}`).
//! - `body`: with the binary media types nextr deploys ([`super::BINARY_MEDIA_TYPES`]: every
//!   type), a non-empty body is base64 with `isBase64Encoded: true`; `null` when empty.

use std::borrow::Cow;
use std::collections::HashMap;

use base64::Engine;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::super::http_api::event::{ClientRequest, RequestMeta, ACCOUNT_ID, API_ID, HOP_BY_HOP};
use super::super::http_api::route_keys::RouteKey;
use crate::ids::{self, Utc};

/// The resource id in `requestContext.resourceId` (six characters, as API Gateway's).
pub const RESOURCE_ID: &str = "nextr0";

/// What the event needs besides the request.
#[derive(Debug, Clone, Copy)]
pub struct EventContext<'a> {
    /// The matched resource.
    pub resource: &'a RouteKey,
    /// The path as received (no query), which the resource matched.
    pub path: &'a str,
    /// The stage the deployed API serves.
    pub stage: &'a str,
    /// The request id (a UUID on REST APIs).
    pub request_id: &'a str,
}

/// A string map in insertion order.
struct Pairs<'a, V>(Vec<(Cow<'a, str>, V)>);

impl<V: Serialize> Serialize for Pairs<'_, V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Identity<'a> {
    source_ip: String,
    user_agent: Cow<'a, str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Context<'a> {
    account_id: &'a str,
    api_id: &'a str,
    domain_name: &'a str,
    domain_prefix: &'a str,
    extended_request_id: &'a str,
    http_method: &'a str,
    identity: Identity<'a>,
    path: String,
    protocol: &'a str,
    request_id: &'a str,
    request_time: String,
    request_time_epoch: u64,
    resource_id: &'a str,
    resource_path: &'a str,
    stage: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Event<'a> {
    resource: &'a str,
    path: &'a str,
    http_method: &'a str,
    headers: Pairs<'a, Cow<'a, str>>,
    multi_value_headers: Pairs<'a, Vec<Cow<'a, str>>>,
    query_string_parameters: Option<Pairs<'a, Cow<'a, str>>>,
    multi_value_query_string_parameters: Option<Pairs<'a, Vec<Cow<'a, str>>>>,
    path_parameters: Option<Pairs<'a, String>>,
    stage_variables: Option<()>,
    request_context: Context<'a>,
    body: Option<String>,
    is_base64_encoded: bool,
}

/// Header names as the gateway spells the ones it adds.
const TRACE: &str = "X-Amzn-Trace-Id";
const FORWARDED_FOR: &str = "X-Forwarded-For";
const FORWARDED_PORT: &str = "X-Forwarded-Port";
const FORWARDED_PROTO: &str = "X-Forwarded-Proto";

type Values<'a> = Vec<Cow<'a, str>>;

/// Every header's values, in order, with the gateway's changes.
fn headers<'a>(req: &ClientRequest<'a>, meta: &RequestMeta) -> Vec<(Cow<'a, str>, Values<'a>)> {
    let mut out: Vec<(Cow<'a, str>, Values<'a>)> = Vec::with_capacity(req.headers.keys_len() + 4);
    let mut forwarded_for: Option<String> = None;
    let mut trace: Option<Values<'a>> = None;
    for name in req.headers.keys() {
        let key = name.as_str();
        if key == "content-length" || HOP_BY_HOP.contains(&key) {
            continue;
        }
        let values: Values<'a> = req
            .headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()))
            .collect();
        match key {
            "x-forwarded-for" => forwarded_for = Some(values.join(", ")),
            "x-forwarded-port" | "x-forwarded-proto" => {}
            "x-amzn-trace-id" => trace = Some(values),
            _ => out.push((Cow::Borrowed(key), values)),
        }
    }
    let trace = trace.unwrap_or_else(|| vec![ids::trace_root(meta.time).into()]);
    out.push((TRACE.into(), trace));
    let peer = req.source_ip.to_string();
    let forwarded = match forwarded_for {
        Some(previous) => format!("{previous}, {peer}"),
        None => peer,
    };
    out.push((FORWARDED_FOR.into(), vec![forwarded.into()]));
    out.push((
        FORWARDED_PORT.into(),
        vec![req.local_port.to_string().into()],
    ));
    out.push((FORWARDED_PROTO.into(), vec!["http".into()]));
    out
}

/// The query's decoded values per key, keys in first-appearance order; `None` when empty.
fn query(raw: &str) -> Option<Vec<(Cow<'_, str>, Values<'_>)>> {
    let mut pairs: Vec<(Cow<'_, str>, Values<'_>)> = Vec::new();
    let mut index: HashMap<Cow<'_, str>, usize> = HashMap::new();
    for (k, v) in form_urlencoded::parse(raw.as_bytes()) {
        match index.get(&k) {
            Some(&i) => pairs[i].1.push(v),
            None => {
                index.insert(k.clone(), pairs.len());
                pairs.push((k, vec![v]));
            }
        }
    }
    (!pairs.is_empty()).then_some(pairs)
}

/// The last of each key's values: the single-value maps.
fn last<'a>(multi: &[(Cow<'a, str>, Values<'a>)]) -> Pairs<'a, Cow<'a, str>> {
    Pairs(
        multi
            .iter()
            .map(|(k, vs)| (k.clone(), vs.last().cloned().unwrap_or_default()))
            .collect(),
    )
}

/// The path parameters of `resource` for `path` (still encoded): `{x}` one segment, `{x+}`
/// the rest.
fn path_parameters(resource: &RouteKey, path: &str) -> Option<Pairs<'static, String>> {
    let params = resource.path_parameters(path)?;
    (!params.is_empty()).then(|| Pairs(params.into_iter().map(|(k, v)| (k.into(), v)).collect()))
}

/// Builds the payload 1.0 event JSON of a request the REST API routed to `ctx.resource`.
pub fn build(req: &ClientRequest<'_>, ctx: &EventContext<'_>, meta: &RequestMeta) -> Vec<u8> {
    let raw_query = req.raw_query();
    let (domain_name, domain_prefix) = req.domain();
    let user_agent = req.user_agent();
    let multi_headers = headers(req, meta);
    let multi_query = query(raw_query);
    let resource = ctx.resource.path();
    let (body, is_base64_encoded) = if req.body.is_empty() {
        (None, false)
    } else {
        (
            Some(base64::engine::general_purpose::STANDARD.encode(req.body)),
            true,
        )
    };
    let event = Event {
        resource: &resource,
        path: ctx.path,
        http_method: req.method,
        headers: last(&multi_headers),
        query_string_parameters: multi_query.as_deref().map(last),
        multi_value_query_string_parameters: multi_query.clone().map(Pairs),
        multi_value_headers: Pairs(multi_headers.clone()),
        path_parameters: path_parameters(ctx.resource, ctx.path),
        stage_variables: None,
        request_context: Context {
            account_id: ACCOUNT_ID,
            api_id: API_ID,
            domain_name,
            domain_prefix,
            extended_request_id: &meta.request_id,
            http_method: req.method,
            identity: Identity {
                source_ip: req.source_ip.to_string(),
                user_agent,
            },
            path: format!("/{}{}", ctx.stage, ctx.path),
            protocol: req.protocol,
            request_id: ctx.request_id,
            request_time: Utc::from_system(meta.time).clf(),
            request_time_epoch: ids::epoch_ms(meta.time),
            resource_id: RESOURCE_ID,
            resource_path: &resource,
            stage: ctx.stage,
        },
        body,
        is_base64_encoded,
    };
    // Serialising plain strings and numbers into a Vec cannot fail.
    serde_json::to_vec(&event).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderMap, HeaderValue};
    use serde_json::{json, Value};

    fn request<'a>(target: &'a str, headers: &'a HeaderMap, body: &'a [u8]) -> ClientRequest<'a> {
        ClientRequest {
            method: "POST",
            target,
            protocol: "HTTP/1.1",
            headers,
            body,
            source_ip: "127.0.0.1".parse().unwrap(),
            local_port: 3000,
        }
    }

    fn meta() -> RequestMeta {
        RequestMeta {
            request_id: "ATfSdF7nPHcErRA=".into(),
            time: std::time::UNIX_EPOCH + std::time::Duration::from_millis(1_783_711_144_836),
        }
    }

    #[test]
    fn event_matches_the_captured_shape() {
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("127.0.0.1:3000"));
        headers.insert("user-agent", HeaderValue::from_static("curl/8.7.1"));
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        headers.insert("content-length", HeaderValue::from_static("7"));
        headers.append("x-probe", HeaderValue::from_static("first"));
        headers.append("x-probe", HeaderValue::from_static("second"));
        headers.insert("cookie", HeaderValue::from_static("session=abc123"));
        headers.insert("connection", HeaderValue::from_static("keep-alive"));
        headers.insert("x-amzn-trace-id", HeaderValue::from_static("Root=1-x"));
        let target = "/api/post/space%20value?repeat=one&repeat=two&literalPlus=a+b&empty=";
        let req = request(target, &headers, br#"{"a":1}"#);
        let resource = RouteKey::parse("ANY /api/post/{pid}").unwrap();
        let ctx = EventContext {
            resource: &resource,
            path: "/api/post/space%20value",
            stage: "dev",
            request_id: "7c2af7db-31f3-42b5-8a6d-9ffc74e3b9e0",
        };
        let event: Value = serde_json::from_slice(&build(&req, &ctx, &meta())).unwrap();
        assert_eq!(
            event,
            json!({
                "resource": "/api/post/{pid}",
                "path": "/api/post/space%20value",
                "httpMethod": "POST",
                "headers": {
                    "host": "127.0.0.1:3000",
                    "user-agent": "curl/8.7.1",
                    "content-type": "application/json",
                    "x-probe": "second",
                    "cookie": "session=abc123",
                    "X-Amzn-Trace-Id": "Root=1-x",
                    "X-Forwarded-For": "127.0.0.1",
                    "X-Forwarded-Port": "3000",
                    "X-Forwarded-Proto": "http"
                },
                "multiValueHeaders": {
                    "host": ["127.0.0.1:3000"],
                    "user-agent": ["curl/8.7.1"],
                    "content-type": ["application/json"],
                    "x-probe": ["first", "second"],
                    "cookie": ["session=abc123"],
                    "X-Amzn-Trace-Id": ["Root=1-x"],
                    "X-Forwarded-For": ["127.0.0.1"],
                    "X-Forwarded-Port": ["3000"],
                    "X-Forwarded-Proto": ["http"]
                },
                "queryStringParameters": {"repeat": "two", "literalPlus": "a b", "empty": ""},
                "multiValueQueryStringParameters": {
                    "repeat": ["one", "two"], "literalPlus": ["a b"], "empty": [""]
                },
                "pathParameters": {"pid": "space%20value"},
                "stageVariables": null,
                "requestContext": {
                    "accountId": "123456789012",
                    "apiId": "nextrlocal",
                    "domainName": "127.0.0.1",
                    "domainPrefix": "127",
                    "extendedRequestId": "ATfSdF7nPHcErRA=",
                    "httpMethod": "POST",
                    "identity": {"sourceIp": "127.0.0.1", "userAgent": "curl/8.7.1"},
                    "path": "/dev/api/post/space%20value",
                    "protocol": "HTTP/1.1",
                    "requestId": "7c2af7db-31f3-42b5-8a6d-9ffc74e3b9e0",
                    "requestTime": "10/Jul/2026:19:19:04 +0000",
                    "requestTimeEpoch": 1_783_711_144_836u64,
                    "resourceId": RESOURCE_ID,
                    "resourcePath": "/api/post/{pid}",
                    "stage": "dev"
                },
                "body": "eyJhIjoxfQ==",
                "isBase64Encoded": true
            })
        );
    }

    #[test]
    fn the_runtime_reads_it_as_a_rest_event() {
        use lambda_http::request::LambdaRequest;
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_static("10.0.0.1"));
        let req = request("/api/x/a/b?q=1", &headers, b"");
        let resource = RouteKey::parse("ANY /api/x/{rest+}").unwrap();
        let ctx = EventContext {
            resource: &resource,
            path: "/api/x/a/b",
            stage: "dev",
            request_id: "r",
        };
        let bytes = build(&req, &ctx, &meta());
        let value: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(value["pathParameters"], json!({"rest": "a/b"}));
        assert_eq!(value["headers"]["X-Forwarded-For"], "10.0.0.1, 127.0.0.1");
        assert_eq!(value["body"], Value::Null);
        assert_eq!(value["isBase64Encoded"], false);
        let parsed: LambdaRequest = serde_json::from_slice(&bytes).unwrap();
        let LambdaRequest::ApiGatewayV1(ag) = parsed else {
            panic!("not a REST event: {parsed:?}");
        };
        assert_eq!(ag.path.as_deref(), Some("/api/x/a/b"));
        assert_eq!(ag.http_method, http::Method::POST);
        assert_eq!(ag.request_context.stage.as_deref(), Some("dev"));
        assert_eq!(
            ag.request_context.identity.source_ip.as_deref(),
            Some("127.0.0.1")
        );
        assert_eq!(ag.query_string_parameters.first("q"), Some("1"));
        // No query, no parameters: `null`, as the deployed API sends.
        let root = RouteKey::parse("ANY /").unwrap();
        let bare = request("/", &headers, b"");
        let event: Value = serde_json::from_slice(&build(
            &bare,
            &EventContext {
                resource: &root,
                path: "/",
                stage: "dev",
                request_id: "r",
            },
            &meta(),
        ))
        .unwrap();
        assert_eq!(event["resource"], "/");
        assert_eq!(event["queryStringParameters"], Value::Null);
        assert_eq!(event["multiValueQueryStringParameters"], Value::Null);
        assert_eq!(event["pathParameters"], Value::Null);
        assert!(matches!(
            serde_json::from_value::<LambdaRequest>(event).unwrap(),
            LambdaRequest::ApiGatewayV1(_)
        ));
    }
}
