//! Lambda's `Invoke` API on 127.0.0.1, for the functions `nextr dev` runs: a `proxy.rs`
//! rewrite to another route's function invokes that function here, as a deployed function
//! invokes another through Lambda. Every function gets its address as
//! `NEXTR_LAMBDA_ENDPOINT=http://127.0.0.1:PORT` (`nextr::manifest::LAMBDA_ENDPOINT_ENV`,
//! set where the emulator builds a function's environment, `FunctionDefaults::env_of`).
//!
//! | call | answer |
//! |---|---|
//! | `POST /2015-03-31/functions/{name}/invocations` (`?Qualifier=` ignored) | the event runs through the function's pool, as the gateway's requests do; 200 with the payload, `X-Amz-Executed-Version: $LATEST` |
//! | … that fails (an error the runtime posted, a crash, a timeout, an init error) | 200 with the error document and `X-Amz-Function-Error: Unhandled` |
//! | … with `X-Amz-Client-Context` | its base64 decoded, handed to the runtime as `Lambda-Runtime-Client-Context` (`lambda_runtime`'s `Context::client_context`) |
//! | a name no function of the manifest has | 404, `X-Amzn-ErrorType: ResourceNotFoundException` |
//! | an invalid client context / an invocation type other than `RequestResponse` | 400 `InvalidRequestContentException` / `InvalidParameterValueException` |
//! | an event over 6 MB | 413 `RequestTooLargeException` |
//!
//! `{name}` is the manifest's function name (the deployed name without its stage: dev sets
//! no `NEXTR_STAGE`), optionally with a `:qualifier`. A streamed response is read to its end
//! and answered whole, as `Invoke` (not `InvokeWithResponseStream`) answers it. Signatures
//! are not checked: dev's functions carry fake credentials.
//!
//! It has its own port rather than the gateway's, which `--host` may open beyond this
//! machine, or a Runtime API's, each of which serves one instance's process only. The port
//! is bound when the emulator is made, so that environments can name it before any function
//! starts. With a request log, each invocation gets a line of its own, marked `↳ invoke`,
//! beside the client request's line.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;

use base64::Engine as _;
use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use super::gateway::{read_body, BodyFailure};
use super::logs::{self, RequestLog};
use super::pool::Outcome;
use super::Emulator;

/// The path every call starts with.
const PREFIX: &str = "/2015-03-31/functions/";

/// Lambda's limit on a client context: 3,583 bytes of base64.
const MAX_CLIENT_CONTEXT: usize = 3583;

/// Serves the Invoke API on `listener` until the task is aborted.
pub(super) async fn serve(listener: TcpListener, emulator: Arc<Emulator>) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let Ok((stream, _peer)) = listener.accept().await else {
            // Out of file descriptors, typically: do not spin.
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let emulator = emulator.clone();
        // The JoinSet aborts the connections when the server task is aborted.
        connections.spawn(async move {
            let service = service_fn(move |req| {
                let emulator = emulator.clone();
                async move { Ok::<_, Infallible>(handle(req, &emulator).await) }
            });
            let _ = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
        while connections.try_join_next().is_some() {}
    }
}

/// One of Lambda's error answers: the status, `X-Amzn-ErrorType`, `{"Type", "Message"}`.
fn refuse(status: StatusCode, error_type: &str, message: &str) -> Response<Full<Bytes>> {
    let body = serde_json::json!({ "Type": "User", "Message": message }).to_string();
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    let headers = r.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = HeaderValue::from_str(error_type) {
        headers.insert("x-amzn-errortype", v);
    }
    r
}

/// The function name of `/2015-03-31/functions/{name}/invocations` (a `:qualifier` dropped).
fn function_name(path: &str) -> Option<&str> {
    let name = path.strip_prefix(PREFIX)?.strip_suffix("/invocations")?;
    let name = name.split(':').next().unwrap_or(name);
    (!name.is_empty() && !name.contains('/')).then_some(name)
}

/// `X-Amz-Client-Context` decoded: a JSON object, or why it is refused.
fn client_context(req: &Request<Incoming>) -> Result<Option<String>, &'static str> {
    let Some(value) = req.headers().get("x-amz-client-context") else {
        return Ok(None);
    };
    const INVALID: &str = "Client context must be a valid Base64-encoded JSON object.";
    if value.len() > MAX_CLIENT_CONTEXT {
        return Err("Client context must be at most 3583 bytes of base64.");
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(value.as_bytes())
        .map_err(|_| INVALID)?;
    let text = String::from_utf8(decoded).map_err(|_| INVALID)?;
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(serde_json::Value::Object(_)) => Ok(Some(text)),
        _ => Err(INVALID),
    }
}

async fn handle(req: Request<Incoming>, emulator: &Emulator) -> Response<Full<Bytes>> {
    let _in_flight = emulator.request_in_flight();
    let started = Instant::now();
    let Some(name) = function_name(req.uri().path()).map(str::to_owned) else {
        return refuse(
            StatusCode::NOT_FOUND,
            "UnknownOperationException",
            "nextr dev serves Lambda's Invoke API only: POST /2015-03-31/functions/{name}/invocations",
        );
    };
    if req.method() != Method::POST {
        return refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            "UnknownOperationException",
            "Invoke is POST /2015-03-31/functions/{name}/invocations",
        );
    }
    let invocation_type = req
        .headers()
        .get("x-amz-invocation-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("RequestResponse");
    if invocation_type != "RequestResponse" {
        return refuse(
            StatusCode::BAD_REQUEST,
            "InvalidParameterValueException",
            &format!(
                "nextr dev invokes synchronously only (RequestResponse), not {invocation_type}"
            ),
        );
    }
    let context = match client_context(&req) {
        Ok(c) => c,
        Err(message) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                "InvalidRequestContentException",
                message,
            )
        }
    };
    let deployment = emulator.deployment();
    let region = &emulator.config().region;
    let Some(target) = deployment.function_named(&name) else {
        return refuse(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            &format!(
                "Function not found: arn:aws:lambda:{region}:{}:function:{name}",
                nextr_infra::gateway::http_api::event::ACCOUNT_ID
            ),
        );
    };
    let Some(pool) = target.function.clone() else {
        // `function_named` finds only functions with a pool.
        return refuse(StatusCode::NOT_FOUND, "ResourceNotFoundException", &name);
    };
    let payload = match read_body(
        req.into_body(),
        nextr::limits::LAMBDA_PAYLOAD_BYTES,
        emulator,
    )
    .await
    {
        Ok(body) => body,
        Err(BodyFailure::TooLarge) => {
            return refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestTooLargeException",
                &format!(
                    "Request must be smaller than {} bytes for the InvokeFunction operation",
                    nextr::limits::LAMBDA_PAYLOAD_BYTES
                ),
            )
        }
        Err(BodyFailure::Broken) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                "InvalidRequestContentException",
                "The request body could not be read",
            )
        }
    };
    let invoked = pool.invoke_with_context(payload, context).await;
    let outcome = match invoked.outcome {
        Outcome::Streamed(s) => s.into_payload().await,
        other => other,
    };
    let (body, failed) = match outcome {
        Outcome::Response(payload) => (payload, None),
        Outcome::Failed(e) => {
            let kind = e.error_type();
            (e.payload, Some(kind.unwrap_or_else(|| "Unknown".into())))
        }
        // `into_payload` turned it into one of the above.
        Outcome::Streamed(_) => (Bytes::new(), Some("Unknown".into())),
    };
    let style = emulator.config().request_log;
    if style != RequestLog::Off {
        let status = match &failed {
            Some(kind) => logs::InvokeStatus::Failed(kind),
            None => logs::InvokeStatus::Answered(status_code(&body)),
        };
        emulator.logger().line(logs::invoke_line(
            &logs::InvokeLine {
                function: &name,
                route: &target.page,
                status,
                duration: started.elapsed(),
                cold_start: invoked.cold_start,
            },
            style,
        ));
    }
    let mut r = Response::new(Full::new(body));
    let headers = r.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(
        "x-amz-executed-version",
        HeaderValue::from_static("$LATEST"),
    );
    if failed.is_some() {
        headers.insert(
            "x-amz-function-error",
            HeaderValue::from_static("Unhandled"),
        );
    }
    r
}

/// The `statusCode` of a payload 2.0 response, for the log (200 without one, as an HTTP
/// API reads such a payload).
fn status_code(payload: &[u8]) -> u16 {
    serde_json::from_slice::<serde_json::Value>(payload)
        .ok()
        .and_then(|v| v.get("statusCode")?.as_u64())
        .and_then(|s| u16::try_from(s).ok())
        .unwrap_or(200)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_comes_from_the_path() {
        assert_eq!(
            function_name("/2015-03-31/functions/docs-hello-1a2b/invocations"),
            Some("docs-hello-1a2b")
        );
        assert_eq!(
            function_name("/2015-03-31/functions/docs-hello-1a2b:live/invocations"),
            Some("docs-hello-1a2b")
        );
        for bad in [
            "/2015-03-31/functions//invocations",
            "/2015-03-31/functions/a/b/invocations",
            "/2015-03-31/functions/a",
            "/2018-06-01/runtime/invocation/next",
        ] {
            assert_eq!(function_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_log_reads_the_status_of_the_payload() {
        assert_eq!(status_code(br#"{"statusCode":404,"body":""}"#), 404);
        assert_eq!(status_code(br#"{"hello":1}"#), 200);
        assert_eq!(status_code(b"not json"), 200);
    }
}
