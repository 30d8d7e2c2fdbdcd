//! `nextr dev`: build, then serve the app as the deployed API Gateway + Lambda would, and keep
//! serving across rebuilds.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use nextr::manifest::Manifest;
use nextr::routing::RouteTable;
use nextr_cli::project::AppConfig;
use nextr_infra::conflicts::{self, Status};
use tokio::sync::mpsc;

use crate::cli::DevArgs;
use nextr_cli::emulator::deployment::FunctionEnv;
use nextr_cli::emulator::logs::{LogWriter, Logger, Sink};
use nextr_cli::emulator::watch::{self, Change};
use nextr_cli::emulator::{self, Emulator, EmulatorConfig, Server};

/// The folder `nextr build` writes bundles and the route manifest to.
pub fn output_dir(app: &Path) -> PathBuf {
    app.join(".nextr")
}

/// What [`build_app`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildOutcome {
    /// Bundles and manifest are up to date.
    Built,
}

/// Builds the app's bundles and route manifest (debug, or `release`). This is the single call
/// site for `nextr build` in dev and invoke. Cargo recompiles only the route binaries whose
/// sources changed and only changed zips are rewritten, so `_changed` needs no special case.
pub fn build_app(
    app: &Path,
    release: bool,
    _changed: Option<&[PathBuf]>,
) -> anyhow::Result<BuildOutcome> {
    match super::build::build_reported(&super::build::options(app, release))? {
        Some(_) => Ok(BuildOutcome::Built),
        None => anyhow::bail!("the build failed (see above)"),
    }
}

/// Item 6 of the dev issue: a warning for every path class where the deployed API Gateway
/// would send a request to a different function than Next does — risks the app accepted in
/// `nextr.toml`, or disagreements deploy would refuse. (Those the build resolves with extra
/// route keys are not listed: the deployed gateway agrees with Next there.)
fn gateway_conflicts(manifest_dir: &Path, manifest: &Manifest) -> Vec<String> {
    let app = manifest_dir.parent().unwrap_or(manifest_dir);
    let config = AppConfig::load(app).unwrap_or_default();
    let Ok(table) = RouteTable::from_files(manifest.routes.iter().map(|r| r.file.as_str())) else {
        return Vec::new();
    };
    conflicts::disagreements(&table, &config.accepted_conflicts, config.conflict_keys)
        .into_iter()
        .filter(|d| d.status != Status::KnownDeviation)
        .map(|d| d.to_string())
        .collect()
}

/// The emulator settings from the app's `nextr.toml` and the developer's environment.
pub fn emulator_config(app: &Path, max_instances: usize) -> EmulatorConfig {
    let region = std::env::var("AWS_REGION")
        .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
        .unwrap_or_else(|_| "us-east-1".into());
    let passthrough_env = ["RUST_LOG", "RUST_BACKTRACE", "RUST_LIB_BACKTRACE"]
        .into_iter()
        .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_owned(), v)))
        .collect();
    // The build has already validated nextr.toml.
    let config = AppConfig::load(app).unwrap_or_default();
    EmulatorConfig {
        max_instances,
        region,
        passthrough_env,
        function_env: function_env(&config, |name| std::env::var(name).ok()),
        ..EmulatorConfig::default()
    }
}

/// The functions' variables: what deploy sets from `nextr.toml` (`[env]`, then the route's own
/// `[routes."<page>".env]`), except that a variable also set in the developer's environment
/// takes that value locally (`NOTES_DATA_DIR=/tmp/x nextr dev`), as dotenv-style tools do.
pub fn function_env(config: &AppConfig, developer: impl Fn(&str) -> Option<String>) -> FunctionEnv {
    let local = |env: &BTreeMap<String, String>| -> BTreeMap<String, String> {
        env.iter()
            .map(|(k, v)| (k.clone(), developer(k).unwrap_or_else(|| v.clone())))
            .collect()
    };
    FunctionEnv {
        all: local(&config.env),
        by_page: config
            .routes
            .iter()
            .map(|(page, route)| (page.clone(), local(&route.env)))
            .collect(),
    }
}

/// Worker threads of the emulator: one per four cores, at least one. The emulator's own work
/// per request is small (parse, a JSON event, two Runtime API calls); the function processes
/// and the client need the cores. Measured on 2 cores (hello route, wrk, keep-alive): one
/// worker served 13.1k requests/s at c=32 and 4.7k at c=1, two workers 11.0k and 4.2k, as
/// waking a second worker for every hand-over between tasks cost more than it gave.
fn emulator_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get() / 4)
        .unwrap_or(1)
        .max(1)
}

/// Runs `nextr dev`.
pub fn run(args: &DevArgs) -> anyhow::Result<ExitCode> {
    if !args.no_build {
        build_app(&args.dir, args.release, None)?;
    }
    let manifest_dir = output_dir(&args.dir);
    let manifest = emulator::read_manifest(&manifest_dir)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(emulator_threads())
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let (writer, logger) = LogWriter::start(Sink::Stdout);
    let result = runtime.block_on(serve(args, &manifest_dir, &manifest, logger));
    // Dropping the runtime drops every instance task, whose processes are killed on drop.
    runtime.shutdown_timeout(Duration::from_secs(2));
    drop(writer);
    result
}

async fn serve(
    args: &DevArgs,
    manifest_dir: &Path,
    manifest: &Manifest,
    logger: Logger,
) -> anyhow::Result<ExitCode> {
    let config = EmulatorConfig {
        integration_timeout: Duration::from_millis(args.integration_timeout_ms),
        busy_poll: Duration::from_micros(args.busy_poll_us),
        ..emulator_config(&args.dir, usize::from(args.max_instances))
    };
    let emulator = Arc::new(Emulator::new(
        manifest_dir,
        manifest,
        config,
        logger.clone(),
    )?);
    let server = Server::start(emulator.clone(), args.host, args.port).await?;
    logger.line(format!("ready on http://{}", server.addr()));
    if !args.host.is_loopback() {
        logger.line(format!(
            "warning: listening on {}: other machines can reach the app",
            args.host
        ));
    }
    print_routes(&logger, manifest, server.addr());
    for warning in gateway_conflicts(&output_dir(&args.dir), manifest) {
        logger.line(format!("warning: {warning}"));
    }

    let (changes_tx, changes) = mpsc::unbounded_channel();
    let watcher = watch::watch(
        &args.dir,
        &emulator::manifest_path(manifest_dir),
        Duration::from_millis(150),
        move |change| {
            let _ = changes_tx.send(change);
        },
    );
    let _watcher = match watcher {
        Ok(w) => Some(w),
        Err(e) => {
            logger.line(format!(
                "warning: {e}: {}; changes will not be picked up",
                e.source
            ));
            None
        }
    };
    let reloads = tokio::spawn(reload_loop(
        changes,
        emulator.clone(),
        args.dir.clone(),
        (!args.no_build).then_some(args.release),
        logger.clone(),
    ));

    wait_for_stop_signal().await;
    reloads.abort();
    server.stop().await;
    emulator.shutdown();
    emulator.stopped(Duration::from_secs(2)).await;
    Ok(ExitCode::SUCCESS)
}

async fn wait_for_stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

fn print_routes(logger: &Logger, manifest: &Manifest, addr: SocketAddr) {
    let rows: Vec<[String; 5]> = manifest
        .routes
        .iter()
        .map(|r| {
            let (function, timeout, memory) = match &r.function {
                Some(f) => (
                    f.name.clone(),
                    format!("{} s", f.timeout_s),
                    format!("{} MB", f.memory_mb),
                ),
                None => ("(not built)".into(), "-".into(), "-".into()),
            };
            [
                r.page.clone(),
                r.kind.to_string(),
                function,
                timeout,
                memory,
            ]
        })
        .collect();
    let header = ["Route", "Kind", "Function", "Timeout", "Memory"].map(String::from);
    let mut widths = [0usize; 5];
    for row in std::iter::once(&header).chain(&rows) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<w$}  "));
            }
        }
        logger.line(line.trim_end().to_owned());
    }
    let n = rows.len();
    logger.line(format!(
        "\n{n} route{} at http://{addr}",
        if n == 1 { "" } else { "s" }
    ));
}

/// Rebuilds on source changes (with `build`: `Some(release)`; `None` for `--no-build`, which
/// only follows the manifest) and swaps the workers on manifest changes, one batch at a time.
/// A failed rebuild or an unservable manifest leaves the current workers serving.
async fn reload_loop(
    mut changes: mpsc::UnboundedReceiver<Change>,
    emulator: Arc<Emulator>,
    app: PathBuf,
    build: Option<bool>,
    logger: Logger,
) {
    while let Some(first) = changes.recv().await {
        let mut sources: Vec<PathBuf> = Vec::new();
        let mut manifest_changed = false;
        let mut absorb = |c: Change| match c {
            Change::Sources(p) => sources.extend(p),
            Change::Manifest => manifest_changed = true,
        };
        absorb(first);
        while let Ok(c) = changes.try_recv() {
            absorb(c);
        }
        sources.sort();
        sources.dedup();
        if let (false, Some(release)) = (sources.is_empty(), build) {
            let names: Vec<String> = sources.iter().map(|p| p.display().to_string()).collect();
            logger.line(format!("nextr: {} changed; rebuilding", names.join(", ")));
            let app = app.clone();
            let changed = sources.clone();
            let built =
                tokio::task::spawn_blocking(move || build_app(&app, release, Some(&changed))).await;
            match built {
                Ok(Ok(BuildOutcome::Built)) => manifest_changed = true,
                Ok(Err(e)) => {
                    logger.line(format!(
                        "nextr: rebuild failed; still serving the previous build\n{e:#}"
                    ));
                    continue;
                }
                Err(e) => {
                    logger.line(format!("nextr: rebuild failed: {e}"));
                    continue;
                }
            }
        }
        if manifest_changed {
            // Unpacking new bundles takes a while (tens of MB for debug builds): not on the
            // worker that serves requests.
            let (emulator, logger) = (emulator.clone(), logger.clone());
            let _ = tokio::task::spawn_blocking(move || reload(&emulator, &logger)).await;
        }
    }
}

fn reload(emulator: &Emulator, logger: &Logger) {
    let manifest = match emulator::read_manifest(emulator.manifest_dir()) {
        Ok(m) => m,
        Err(e) => {
            logger.line(format!(
                "nextr: cannot reload: {e}; still serving the previous build"
            ));
            return;
        }
    };
    match emulator.swap(&manifest) {
        Ok(summary) => {
            let what = if summary.replaced.is_empty() {
                "no function changed".to_owned()
            } else {
                format!("new workers for {}", summary.replaced.join(", "))
            };
            logger.line(format!(
                "nextr: reloaded the route manifest ({} routes; {what}; {} kept warm)",
                summary.routes, summary.kept
            ));
            for warning in gateway_conflicts(emulator.manifest_dir(), &manifest) {
                logger.line(format!("warning: {warning}"));
            }
        }
        Err(e) => logger.line(format!(
            "nextr: cannot serve the new route manifest: {e}; still serving the previous build"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn functions_get_nextr_toml_env_with_local_overrides() {
        let config = AppConfig::parse(
            Path::new("nextr.toml"),
            "[env]\nAA = \"file\"\nBB = \"file\"\n[routes.\"/api/x\".env]\nBB = \"route\"\nCC = \"route\"\n",
        )
        .unwrap();
        let env = function_env(&config, |_| None);
        let vars = |page| env.for_page(page);
        assert_eq!(
            vars("/api/x"),
            [("AA", "file"), ("BB", "route"), ("CC", "route")].map(|(k, v)| (k.into(), v.into()))
        );
        assert_eq!(
            vars("/api/y"),
            [("AA", "file"), ("BB", "file")].map(|(k, v)| (k.into(), v.into()))
        );
        // A variable the developer set wins locally; undeclared ones are not passed.
        let env = function_env(&config, |name| {
            (name == "BB" || name == "HOME").then(|| "mine".to_owned())
        });
        assert_eq!(
            env.for_page("/api/x"),
            [("AA", "file"), ("BB", "mine"), ("CC", "route")].map(|(k, v)| (k.into(), v.into()))
        );
        assert_eq!(
            env.for_page("/api/y"),
            [("AA", "file"), ("BB", "mine")].map(|(k, v)| (k.into(), v.into()))
        );
    }
}
