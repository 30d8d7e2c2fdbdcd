//! `nextr invoke`: one invocation of a route's bundle through the emulator, printing the
//! Lambda response JSON as `aws lambda invoke` writes it.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};

use crate::cli::InvokeArgs;
use crate::commands::dev::{emulator_config, Served};
use nextr_cli::emulator::deployment::{Deployment, Resolved, Target};
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
    let emulator = Arc::new(Emulator::new(
        &served.out,
        &manifest,
        emulator_config(1, args.aws_secrets),
        logger,
    )?);
    let deployment = emulator.deployment();
    let (target, path) = choose(args, &deployment)?;
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
        None => request_event(args, path.as_deref(), &deployment, &target.page)?,
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
        // A proxy's rewrite to another function invokes it through the Invoke API.
        let invoke_api = emulator.serve_invoke_api();
        let outcome = match emulator.invoke(&page, Bytes::from(event)).await {
            // Read a streamed response to its end before the instances stop.
            Ok(Outcome::Streamed(s)) => Ok(s.into_payload().await),
            other => other,
        };
        if let Some(task) = invoke_api {
            task.abort();
        }
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

/// The function ROUTE names, and the request path to send it when ROUTE is a URL path.
///
/// ROUTE is a page (`/api/users/[id]`, or without its leading `/`), a file
/// (`api/users/[id].rs`), `$default`, or a request path with its query
/// (`/api/users/42?tab=1`), which goes where API Gateway would send it.
fn choose<'d>(
    args: &InvokeArgs,
    deployment: &'d Deployment,
) -> anyhow::Result<(&'d Target, Option<String>)> {
    let route = args.route.as_str();
    let page = deployment
        .find(route)
        .or_else(|| deployment.find(&format!("/{route}")));
    if let Some(target) = page {
        return Ok((target, args.path.clone()));
    }
    // A page pattern nobody has (a typo in `[id]`) is not a URL path to resolve.
    if !route.starts_with('/') || route.contains(['[', ']']) {
        return Err(emulator::EmulatorError::UnknownRoute(route.to_owned()).into());
    }
    if args.path.is_some() {
        bail!(
            "`{route}` is a request path, and --path gives another: give the path once \
             (as ROUTE, or with the route's page as ROUTE and --path)"
        );
    }
    match deployment.resolve(route) {
        Resolved::Function(_, Routed::Default { .. }) => bail!(
            "no route serves `{route}`: API Gateway sends it to the $default function \
             (`nextr invoke '$default' --path '{route}'` invokes that)"
        ),
        Resolved::Function(target, _) => Ok((target, Some(route.to_owned()))),
        Resolved::BadRequest => {
            bail!("`{route}` does not percent-decode: API Gateway answers 400 without invoking")
        }
    }
}

/// The API Gateway event for the request path (ROUTE's or `--path`, default the page) and
/// `--method`/`--body`/`--header`, checked to reach `page`.
fn request_event(
    args: &InvokeArgs,
    path: Option<&str>,
    deployment: &Deployment,
    page: &str,
) -> anyhow::Result<Vec<u8>> {
    let target = path.unwrap_or(page).to_owned();
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
