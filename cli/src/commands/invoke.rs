//! `nextr invoke`: one invocation of a route's bundle through the emulator, printing the
//! Lambda response JSON as `aws lambda invoke` writes it.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};

use crate::cli::InvokeArgs;
use crate::commands::dev::{emulator_config, Served};
use nextr_cli::emulator::deployment::Resolved;
use nextr_cli::emulator::logs::{LambdaLines, LogWriter, Sink};
use nextr_cli::emulator::pool::Outcome;
use nextr_cli::emulator::{self, Emulator};
use nextr_infra::gateway::http_api::event::{ClientRequest, RequestMeta};
use nextr_infra::gateway::http_api::Routed;

/// Runs `nextr invoke`: exit 0 with the response payload, or 1 with Lambda's error document
/// when the invocation failed.
pub fn run(args: &InvokeArgs) -> anyhow::Result<ExitCode> {
    let served = Served::resolve(&args.dir, args.release, args.no_build);
    served.ensure_built()?;
    let manifest = emulator::read_manifest(&served.out)?;
    let (writer, logger) = LogWriter::start(Sink::Stderr, LambdaLines::Shown);
    let emulator = Emulator::new(&served.out, &manifest, emulator_config(1), logger)?;
    let deployment = emulator.deployment();
    let target = deployment
        .find(&args.route)
        .ok_or_else(|| emulator::EmulatorError::UnknownRoute(args.route.clone()))?;
    let event = match &args.event {
        Some(path) if path.as_os_str() == "-" => {
            let mut s = Vec::new();
            std::io::stdin()
                .read_to_end(&mut s)
                .context("cannot read the event from standard input")?;
            s
        }
        Some(path) => std::fs::read(path)
            .with_context(|| format!("cannot read the event file {}", path.display()))?,
        None => request_event(args, &deployment, &target.page)?,
    };
    if serde_json::from_slice::<serde_json::Value>(&event).is_err() {
        bail!("the event is not valid JSON");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let page = target.page.clone();
    let outcome = runtime.block_on(async {
        let outcome = match emulator.invoke(&page, Bytes::from(event)).await {
            // Read a streamed response to its end before the instances stop.
            Ok(Outcome::Streamed(s)) => Ok(s.into_payload().await),
            other => other,
        };
        emulator.shutdown();
        emulator.stopped(Duration::from_secs(2)).await;
        outcome
    })?;
    drop(deployment);
    drop(emulator);
    runtime.shutdown_timeout(Duration::from_secs(2));
    drop(writer);
    let (payload, code) = match outcome {
        Outcome::Response(payload) => (payload, ExitCode::SUCCESS),
        Outcome::Failed(error) => (error.payload, ExitCode::FAILURE),
        // `into_payload` turned it into one of the above.
        Outcome::Streamed(_) => (Bytes::new(), ExitCode::FAILURE),
    };
    let mut out = std::io::stdout().lock();
    out.write_all(&payload)?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(code)
}

/// The API Gateway event for `--path`/`--method`/`--body`/`--header`, checked to reach `page`.
fn request_event(
    args: &InvokeArgs,
    deployment: &emulator::deployment::Deployment,
    page: &str,
) -> anyhow::Result<Vec<u8>> {
    let target = args.path.clone().unwrap_or_else(|| page.to_owned());
    if !target.starts_with('/') {
        bail!("--path must start with '/': {target}");
    }
    let mut headers = HeaderMap::new();
    headers.insert(http::header::HOST, HeaderValue::from_static("localhost"));
    headers.insert(
        http::header::USER_AGENT,
        HeaderValue::from_static("nextr-invoke"),
    );
    let body = args.body.clone().unwrap_or_default();
    if !body.is_empty() {
        let guess = if serde_json::from_str::<serde_json::Value>(&body).is_ok() {
            "application/json"
        } else {
            "text/plain"
        };
        headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static(guess));
    }
    for h in &args.header {
        let (name, value) = h
            .split_once(':')
            .with_context(|| format!("--header must be `NAME: VALUE`: {h}"))?;
        let name = HeaderName::from_bytes(name.trim().to_ascii_lowercase().as_bytes())
            .with_context(|| format!("invalid header name in `{h}`"))?;
        let value = HeaderValue::from_str(value.trim())
            .with_context(|| format!("invalid header value in `{h}`"))?;
        headers.append(name, value);
    }
    let routed = match deployment.resolve(&target) {
        Resolved::Function(t, routed) if t.page == page => routed,
        Resolved::Function(_, Routed::Default { .. }) => {
            bail!("no route serves {target}: API Gateway sends it to the $default function")
        }
        Resolved::Function(t, _) => bail!("{target} is served by {}, not {page}", t.page),
        Resolved::BadRequest => bail!("{target} does not percent-decode: API Gateway answers 400"),
    };
    let method = args.method.to_ascii_uppercase();
    let client = ClientRequest {
        method: &method,
        target: &target,
        protocol: "HTTP/1.1",
        headers: &headers,
        body: body.as_bytes(),
        source_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        local_port: 0,
    };
    deployment
        .gateway()
        .event(&client, &routed, &RequestMeta::now())
        .context("API Gateway answers this request itself")
}
