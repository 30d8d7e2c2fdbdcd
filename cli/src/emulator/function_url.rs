//! Lambda function URLs in `nextr dev`: a route whose function has `function_url` in the
//! manifest is also served at `http://<function-name>.lambda-url.localhost:<port>/<any path>`,
//! as its function URL serves it once deployed (`https://<url-id>.lambda-url.<region>.on.aws`):
//!
//! - every path and method goes to that one function, with a function URL event: payload 2.0
//!   as an HTTP API builds it (the same builder), but `routeKey` `$default`,
//!   `requestContext.apiId` and `domainPrefix` the function's name, `domainName` the `Host`
//!   without its port, and no `pathParameters`;
//! - function URLs are `InvokeMode: RESPONSE_STREAM`: a streamed response reaches the client
//!   chunk by chunk (no idle timeout; the function's timeout bounds it), and a buffered answer
//!   is mapped as the payload 2.0 response format says, as a function URL maps it;
//! - `auth = "iam"`: 403 `{"Message":"Forbidden"}` unless an `Authorization` header starting
//!   with `AWS4-HMAC-SHA256` is present. **dev does not verify the signature** (there are no
//!   real credentials locally); it only checks that the caller signs, and passes the access
//!   key it names as `requestContext.authorizer.iam.accessKey`;
//! - a name no function URL has: 404 `{"Message":"Not Found"}` (a deployed function URL
//!   domain that does not exist does not resolve at all; dev has one host for all);
//! - a function error (a reported error, a crash, a timeout, a malformed response): 502
//!   `Internal Server Error`; a body over Lambda's 6 MB invocation limit: 413.
//!
//! Responses carry `x-amzn-RequestId` rather than API Gateway's `apigw-requestid`.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use serde_json::Value;

use nextr::limits::{FUNCTION_URL_TIMEOUT_S, LAMBDA_PAYLOAD_BYTES};
use nextr::manifest::FunctionUrlAuth;
use nextr_infra::gateway::http_api::event::{self, ClientRequest, RequestMeta};
use nextr_infra::gateway::http_api::response;

use super::gateway::{
    answered_by, buffered, protocol, read_body, streamed, whole, BodyFailure, FrontBody,
};
use super::logs::Answerer;
use super::pool::Outcome;
use super::Emulator;

/// The host suffix of function URLs in dev: `<name>.lambda-url.localhost`.
pub const HOST_SUFFIX: &str = ".lambda-url.localhost";

/// The function URL of a function, as dev serves it.
pub fn url(name: &str, port: u16) -> String {
    format!("http://{name}{HOST_SUFFIX}:{port}/")
}

/// The function name a request's `Host` names, when it is a function URL host.
pub fn name_of<B>(req: &Request<B>) -> Option<String> {
    let host = req
        .headers()
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().host())?;
    name_of_host(host)
}

/// Every API request passes here: nothing is allocated unless the host is a function URL's.
fn name_of_host(host: &str) -> Option<String> {
    let without_port = match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    };
    // A fully qualified name may end with a dot.
    let without_dot = without_port.strip_suffix('.').unwrap_or(without_port);
    let split = without_dot.len().checked_sub(HOST_SUFFIX.len())?;
    let (name, suffix) = (without_dot.get(..split)?, without_dot.get(split..)?);
    // Host names compare ignoring case.
    (suffix.eq_ignore_ascii_case(HOST_SUFFIX) && !name.is_empty() && !name.contains('.'))
        .then(|| name.to_ascii_lowercase())
}

fn answer(
    status: StatusCode,
    content_type: &'static str,
    body: &'static str,
) -> Response<FrontBody> {
    let mut r = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(content_type),
    );
    whole(r)
}

fn message(status: StatusCode, body: &'static str) -> Response<FrontBody> {
    answer(status, "application/json", body)
}

fn function_failed() -> Response<FrontBody> {
    answer(
        StatusCode::BAD_GATEWAY,
        "text/plain; charset=utf-8",
        "Internal Server Error",
    )
}

fn with_request_id(mut r: Response<FrontBody>, meta: &RequestMeta) -> Response<FrontBody> {
    if let Ok(v) = HeaderValue::from_str(&meta.request_id) {
        r.headers_mut().insert("x-amzn-requestid", v);
    }
    r
}

/// Whether the request claims a SigV4 signature (dev does not verify it).
fn is_signed(headers: &HeaderMap) -> bool {
    headers
        .get(http::header::AUTHORIZATION)
        .is_some_and(|v| v.as_bytes().starts_with(b"AWS4-HMAC-SHA256"))
}

/// The access key of a SigV4 `Authorization` header (`Credential=AKID/date/…`).
fn access_key(headers: &HeaderMap) -> Option<String> {
    let auth = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let credential = auth.split_once("Credential=")?.1;
    credential.split('/').next().map(str::to_owned)
}

/// The function URL event: the HTTP API builder's payload 2.0 event, with what differs.
pub fn event(
    client: &ClientRequest<'_>,
    path: &str,
    name: &str,
    auth: FunctionUrlAuth,
    meta: &RequestMeta,
) -> Option<Vec<u8>> {
    let built = event::build(client, None, path, meta);
    let mut doc: Value = serde_json::from_slice(&built).ok()?;
    let context = doc.get_mut("requestContext")?.as_object_mut()?;
    context.insert("apiId".into(), Value::from(name));
    context.insert("domainPrefix".into(), Value::from(name));
    if auth == FunctionUrlAuth::Iam {
        let key = access_key(client.headers);
        context.insert(
            "authorizer".into(),
            serde_json::json!({"iam": {
                "accessKey": key,
                "accountId": event::ACCOUNT_ID,
                "callerId": key,
                "cognitoIdentity": null,
                "principalOrgId": null,
                "userArn": format!("arn:aws:iam::{}:user/nextr-dev", event::ACCOUNT_ID),
                "userId": key,
            }}),
        );
    }
    serde_json::to_vec(&doc).ok()
}

/// Serves one request to the function URL named `name`.
pub async fn handle(
    req: Request<Incoming>,
    name: &str,
    peer: SocketAddr,
    local_port: u16,
    emulator: &Emulator,
) -> Response<FrontBody> {
    let meta = RequestMeta::now();
    let deployment = emulator.deployment();
    let Some((target, auth)) = deployment.function_url(name) else {
        return with_request_id(
            message(StatusCode::NOT_FOUND, r#"{"Message":"Not Found"}"#),
            &meta,
        );
    };
    if auth == FunctionUrlAuth::Iam && !is_signed(req.headers()) {
        return with_request_id(
            message(StatusCode::FORBIDDEN, r#"{"Message":"Forbidden"}"#),
            &meta,
        );
    }
    let Some(pool) = target.function.clone() else {
        return with_request_id(function_failed(), &meta);
    };
    let target_text = req
        .uri()
        .path_and_query()
        .map(|pq| pq.as_str().to_owned())
        .unwrap_or_else(|| "/".to_owned());
    let (parts, body) = req.into_parts();
    let too_large = || {
        message(
            StatusCode::PAYLOAD_TOO_LARGE,
            r#"{"Message":"Request Entity Too Large"}"#,
        )
    };
    let body = match read_body(body, LAMBDA_PAYLOAD_BYTES, emulator).await {
        Ok(b) => b,
        Err(BodyFailure::TooLarge) => return with_request_id(too_large(), &meta),
        Err(BodyFailure::Broken) => {
            let mut r = message(StatusCode::BAD_REQUEST, r#"{"Message":"Bad Request"}"#);
            r.headers_mut()
                .insert(http::header::CONNECTION, HeaderValue::from_static("close"));
            return r;
        }
    };
    let raw_path = target_text.split('?').next().unwrap_or("/");
    let Ok(path) = event::gateway_path(raw_path) else {
        return with_request_id(
            message(StatusCode::BAD_REQUEST, r#"{"Message":"Bad Request"}"#),
            &meta,
        );
    };
    let client = ClientRequest {
        method: parts.method.as_str(),
        target: &target_text,
        protocol: protocol(parts.version),
        headers: &parts.headers,
        body: &body,
        source_ip: peer.ip(),
        local_port,
    };
    let Some(payload) = event(&client, &path, name, auth, &meta) else {
        return with_request_id(function_failed(), &meta);
    };
    if payload.len() > LAMBDA_PAYLOAD_BYTES {
        return with_request_id(too_large(), &meta);
    }
    // A function URL waits as long as the function may run; this only bounds a wait in
    // the queue for a free instance.
    let limit = Duration::from_secs(u64::from(FUNCTION_URL_TIMEOUT_S));
    let invoked = tokio::time::timeout(limit, pool.invoke_noting_start(Bytes::from(payload))).await;
    let answerer = Answerer::Function {
        route: target.page.clone(),
        function_url: true,
        cold_start: invoked.as_ref().ok().and_then(|i| i.cold_start),
    };
    let r = match invoked.map(|i| i.outcome) {
        Ok(Outcome::Streamed(s)) => streamed(s, None),
        Ok(Outcome::Response(payload)) => match response::map(payload) {
            Ok(mapped) => whole(buffered(mapped)),
            Err(e) => {
                emulator.logger().route(
                    &target.page,
                    &format!("nextr: {e}; the function URL answers 502"),
                );
                function_failed()
            }
        },
        Ok(Outcome::Failed(_)) => function_failed(),
        Err(_elapsed) => {
            emulator.logger().route(
                &target.page,
                "nextr: no instance took the request within the function URL's 900 s",
            );
            function_failed()
        }
    };
    answered_by(with_request_id(r, &meta), answerer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_url_hosts() {
        let name = |h: &str| name_of_host(h);
        assert_eq!(
            name("app-feed.lambda-url.localhost:3000").as_deref(),
            Some("app-feed")
        );
        assert_eq!(
            name("App-Feed.Lambda-Url.Localhost").as_deref(),
            Some("app-feed")
        );
        assert_eq!(
            name("app-feed.lambda-url.localhost.:80").as_deref(),
            Some("app-feed")
        );
        assert_eq!(name("localhost:3000"), None);
        assert_eq!(name(".lambda-url.localhost"), None);
        assert_eq!(name("a.b.lambda-url.localhost"), None);
        assert_eq!(name("127.0.0.1:3000"), None);
    }

    #[test]
    fn the_event_is_the_http_api_event_with_the_function_urls_context() {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::HOST,
            HeaderValue::from_static("app-feed.lambda-url.localhost:3000"),
        );
        headers.insert(
            http::header::AUTHORIZATION,
            HeaderValue::from_static(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=x",
            ),
        );
        let client = ClientRequest {
            method: "GET",
            target: "/any/path?x=1",
            protocol: "HTTP/1.1",
            headers: &headers,
            body: b"",
            source_ip: "127.0.0.1".parse().unwrap(),
            local_port: 3000,
        };
        let meta = RequestMeta::now();
        let e = event(
            &client,
            "/any/path",
            "app-feed",
            FunctionUrlAuth::Iam,
            &meta,
        )
        .unwrap();
        let e: Value = serde_json::from_slice(&e).unwrap();
        assert_eq!(e["version"], "2.0");
        assert_eq!(e["routeKey"], "$default");
        assert_eq!(e["rawPath"], "/any/path");
        assert_eq!(e["rawQueryString"], "x=1");
        let c = &e["requestContext"];
        assert_eq!(c["apiId"], "app-feed");
        assert_eq!(c["domainPrefix"], "app-feed");
        assert_eq!(c["domainName"], "app-feed.lambda-url.localhost");
        assert_eq!(c["routeKey"], "$default");
        assert_eq!(c["authorizer"]["iam"]["accessKey"], "AKIDEXAMPLE");
        assert!(e.get("pathParameters").is_none());
        assert!(is_signed(&headers));
        assert!(!is_signed(&HeaderMap::new()));
    }
}
