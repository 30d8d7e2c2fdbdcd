//! `nextr dev`: build, then serve the app as the deployed API Gateway + Lambda would, and keep
//! serving across rebuilds.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use nextr::manifest::{layout, Architecture, Manifest, Profile};
use nextr_cli::fingerprint;
use nextr_cli::project::ProxyConvention;
use nextr_cli::report::{ReportStyle, ShownLines};
use nextr_cli::table::{Column, Table};
use tokio::sync::mpsc;

use crate::cli::DevArgs;
use nextr_cli::emulator::logs::{LambdaLines, LogWriter, Logger, RequestLog, Sink};
use nextr_cli::emulator::secrets::AwsSecrets;
use nextr_cli::emulator::watch::{self, Change};
use nextr_cli::emulator::{self, Bound, Emulator, EmulatorConfig, Server};

/// What `nextr dev` and `nextr invoke` serve: a build folder, and the app it is rebuilt from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    /// The build folder (holding the route manifest and the bundles).
    pub out: PathBuf,
    /// The app to rebuild from on changes; `None` serves `out` as it is.
    pub app: Option<PathBuf>,
    /// The profile builds use.
    pub profile: Profile,
}

impl Served {
    /// What `DIR` names: a build folder (holding `routes-manifest.json`, as `nextr build
    /// --out DIR` writes it) is served as it is; an app is built into its own
    /// `.nextr/dev/`, which deploy never takes (`no_build`: served as last built).
    pub fn resolve(dir: &Path, release: bool, no_build: bool) -> Self {
        let profile = if release {
            Profile::Release
        } else {
            Profile::Debug
        };
        if layout::is_build_folder(dir) {
            return Served {
                out: dir.to_path_buf(),
                app: None,
                profile,
            };
        }
        Served {
            out: dir.join(layout::DEV_DIR),
            app: (!no_build).then(|| dir.to_path_buf()),
            profile,
        }
    }

    /// Builds the app unless its last build is provably current: the manifest was made with
    /// this profile from inputs whose digest is unchanged (no `cargo metadata`, no cargo).
    pub fn ensure_built(&self) -> anyhow::Result<()> {
        match &self.app {
            Some(app) if !self.is_fresh() => build_app(app, &self.out, self.profile),
            _ => Ok(()),
        }
    }

    fn is_fresh(&self) -> bool {
        let Ok(manifest) = emulator::read_manifest(&self.out) else {
            return false;
        };
        let inputs: Vec<PathBuf> = manifest
            .source
            .inputs
            .iter()
            .map(|i| self.out.join(i))
            .collect();
        manifest.profile == self.profile
            && !inputs.is_empty()
            && fingerprint::digest(&inputs, self.profile, dev_arch(&manifest))
                == manifest.source.fingerprint
    }
}

/// The architecture a dev build is for: this machine's (see [`build_app`]); the manifest's
/// on a machine Lambda has no architecture for, where nothing runs anyway.
fn dev_arch(manifest: &Manifest) -> Architecture {
    Architecture::host().unwrap_or(manifest.fallback.architecture)
}

/// Builds the app's bundles and route manifest into `out`. This is the single call site for
/// `nextr build` in dev and invoke. Cargo recompiles only the route binaries whose sources
/// changed and only changed zips are rewritten.
pub fn build_app(app: &Path, out: &Path, profile: Profile) -> anyhow::Result<()> {
    let options = nextr_cli::build::BuildOptions {
        out: Some(out.to_path_buf()),
        // A dev build runs here, so it is for this machine whatever `nextr.toml`'s
        // `architecture` says (`nextr build --arch` makes the bundles deploy ships; `nextr dev
        // .nextr` serves those, under qemu when they are for another machine).
        arch: Architecture::host(),
        // Dev and invoke read `.env.development*`, as `next dev` does.
        env_mode: nextr_cli::project::EnvMode::Development,
        // One broken route file must not stop the others from building and reloading.
        isolate_route_errors: true,
        ..super::build::options(app, profile)
    };
    super::build::build_reported(&options)?;
    Ok(())
}

/// The emulator settings from the developer's environment; `aws_secrets`: `--aws-secrets`.
pub fn emulator_config(max_instances: usize, aws_secrets: bool) -> EmulatorConfig {
    let region = std::env::var("AWS_REGION")
        .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
        .unwrap_or_else(|_| "us-east-1".into());
    let passthrough_env = ["RUST_LOG", "RUST_BACKTRACE", "RUST_LIB_BACKTRACE"]
        .into_iter()
        .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_owned(), v)))
        .collect();
    let developer_env: BTreeMap<String, String> = std::env::vars().collect();
    EmulatorConfig {
        max_instances,
        region,
        passthrough_env,
        aws_secrets: AwsSecrets::from_env(aws_secrets, &developer_env),
        developer_env,
        ..EmulatorConfig::default()
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

/// The port asked for: `--port`, else `PORT` as `next dev` reads it (unset or empty: none).
fn port(args: &DevArgs) -> anyhow::Result<Option<u16>> {
    if args.port.is_some() {
        return Ok(args.port);
    }
    match std::env::var("PORT") {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .map(Some)
            .with_context(|| format!("PORT={v:?} in the environment is not a port number")),
        _ => Ok(None),
    }
}

/// Runs `nextr dev`.
pub fn run(args: &DevArgs) -> anyhow::Result<ExitCode> {
    let served = Served::resolve(&args.dir, args.release, args.no_build);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(emulator_threads())
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    // The port first: a taken one is reported before a build of minutes, and the socket is
    // kept, so nothing can take the port while the build runs.
    let bound = runtime.block_on(emulator::bind(args.host, port(args)?))?;
    if let Some(default) = bound.instead_of() {
        eprintln!(
            "warning: port {default} is in use, using {} instead",
            bound.addr().port()
        );
    }
    served.ensure_built()?;
    let manifest = emulator::read_manifest(&served.out)?;
    let lambda_lines = if args.lambda_logs {
        LambdaLines::Shown
    } else {
        LambdaLines::Hidden
    };
    let (writer, logger) = LogWriter::start(Sink::Stdout, lambda_lines);
    let result = runtime.block_on(serve(args, &served, &manifest, logger, bound));
    // Dropping the runtime drops every instance task, whose processes are killed on drop.
    runtime.shutdown_timeout(Duration::from_secs(2));
    drop(writer);
    result
}

async fn serve(
    args: &DevArgs,
    served: &Served,
    manifest: &Manifest,
    logger: Logger,
    bound: Bound,
) -> anyhow::Result<ExitCode> {
    let request_log = match ReportStyle::detect(std::io::stdout().is_terminal()) {
        ReportStyle::Color => RequestLog::Color,
        ReportStyle::Plain => RequestLog::Plain,
    };
    let mut config = EmulatorConfig {
        integration_timeout: args.integration_timeout_ms.map(Duration::from_millis),
        busy_poll: Duration::from_micros(args.busy_poll_us),
        request_log,
        ..emulator_config(usize::from(args.max_instances), args.aws_secrets)
    };
    if let Some(ms) = args.header_timeout_ms {
        config.front.header_timeout = Duration::from_millis(ms);
    }
    if let Some(ms) = args.body_timeout_ms {
        config.front.body_timeout = Duration::from_millis(ms);
    }
    if let Some(ms) = args.stream_idle_timeout_ms {
        config.stream_idle_timeout = Duration::from_millis(ms);
    }
    if let Some(n) = args.max_connections {
        config.front.max_connections = n as usize;
    }
    let emulator = Arc::new(Emulator::new(
        &served.out,
        manifest,
        config,
        logger.clone(),
    )?);
    let server = Server::start(emulator.clone(), bound);
    logger.line(format!("ready on http://{}", server.addr()));
    print_function_urls(&logger, manifest, server.addr().port());
    if !args.host.is_loopback() {
        logger.line(format!(
            "warning: listening on {}: other machines can reach the app",
            args.host
        ));
    }
    print_routes(&logger, manifest, server.addr());
    print_warnings(&logger, manifest);
    // Once, here: the routes missing one answer 500 naming it, the others serve.
    for line in emulator.deployment().missing_secrets() {
        logger.line(format!("warning: {line}"));
    }

    let (changes_tx, changes) = mpsc::unbounded_channel();
    let watcher = watch::watch(
        served.app.as_deref().unwrap_or(&args.dir),
        &emulator::manifest_path(&served.out),
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
        served.clone(),
        logger.clone(),
        server.addr().port(),
    ));

    wait_for_stop_signal().await;
    reloads.abort();
    server.stop().await;
    emulator.shutdown();
    emulator.stopped(Duration::from_secs(2)).await;
    logger.line("nextr: stopped");
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

/// Each route's function URL, beside the listening line: dev serves it at
/// `<function-name>.lambda-url.localhost`, which HTTP clients resolve to this machine.
fn print_function_urls(logger: &Logger, manifest: &Manifest, port: u16) {
    for route in &manifest.routes {
        let Some(f) = &route.function else { continue };
        let Some(url) = &f.function_url else { continue };
        logger.line(format!(
            "function URL of {} on {} (auth {}, {} responses)",
            route.page,
            emulator::function_url::url(&f.name, port),
            url.auth.as_str(),
            f.response_mode
        ));
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
                None if r.build_error.is_some() => {
                    ("(does not build)".into(), "-".into(), "-".into())
                }
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
    let mut table =
        Table::new(["Route", "Kind", "Function", "Timeout", "Memory"].map(Column::left));
    for row in &rows {
        table.row(row);
    }
    for line in table.lines() {
        logger.line(line);
    }
    if let Some(p) = &manifest.proxy {
        logger.line(format!(
            "\n{}",
            nextr_cli::project::proxy_summary(&p.file, p.matcher.as_deref())
        ));
    }
    let n = rows.len();
    logger.line(format!(
        "\n{n} route{} at http://{addr}",
        if n == 1 { "" } else { "s" }
    ));
}

/// What the manifest warns about, told at start and at each reload: the gateway's accepted
/// risks, and Next's deprecation of `middleware.rs` (a build printed them already, but dev
/// may start from a build folder, or reload one another process built).
fn print_warnings(logger: &Logger, manifest: &Manifest) {
    let deprecation = manifest
        .proxy
        .as_ref()
        .and_then(|p| ProxyConvention::of_file(&p.file))
        .and_then(ProxyConvention::deprecation);
    for warning in manifest.gateway.warnings.iter().chain(deprecation.as_ref()) {
        logger.line(format!("warning: {}", ShownLines(warning)));
    }
}

/// Rebuilds on source changes (unless `served` has no app to build, which only follows the
/// manifest) and swaps the workers on manifest changes, one batch at a time. A failed rebuild
/// or an unservable manifest leaves the current workers serving.
async fn reload_loop(
    mut changes: mpsc::UnboundedReceiver<Change>,
    emulator: Arc<Emulator>,
    served: Served,
    logger: Logger,
    port: u16,
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
        if let (false, Some(app)) = (sources.is_empty(), &served.app) {
            let names: Vec<String> = sources.iter().map(|p| p.display().to_string()).collect();
            logger.line(format!("nextr: {} changed; rebuilding", names.join(", ")));
            let (app, out, profile) = (app.clone(), served.out.clone(), served.profile);
            let built = tokio::task::spawn_blocking(move || build_app(&app, &out, profile)).await;
            match built {
                Ok(Ok(())) => manifest_changed = true,
                Ok(Err(e)) => {
                    logger.line(format!(
                        "nextr: rebuild failed; still serving the previous build\n{}",
                        super::render_error(&e).trim_end()
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
            let _ = tokio::task::spawn_blocking(move || reload(&emulator, &logger, port)).await;
        }
    }
}

fn reload(emulator: &Emulator, logger: &Logger, port: u16) {
    let manifest = match emulator::read_manifest(emulator.manifest_dir()) {
        Ok(m) => m,
        Err(e) => {
            logger.line(format!(
                "nextr: cannot reload: {e}; still serving the previous build"
            ));
            return;
        }
    };
    // A rebuild reloads the manifest it wrote at once; the watcher then reports that same
    // write, which must not reload (and print) a second time.
    if emulator.deployment().manifest() == &manifest {
        return;
    }
    let urls_before = emulator.deployment().function_urls();
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
            print_warnings(logger, &manifest);
            // A function URL added, removed or changed is shown again, as at start.
            if emulator.deployment().function_urls() != urls_before {
                print_function_urls(logger, &manifest, port);
            }
        }
        Err(e) => logger.line(format!(
            "nextr: cannot serve the new route manifest: {}; still serving the previous build",
            ShownLines(e)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dir_names_an_app_or_a_build_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let app = tmp.path();
        let s = Served::resolve(app, false, false);
        assert_eq!(s.out, app.join(".nextr/dev"));
        assert_eq!(s.app.as_deref(), Some(app));
        assert_eq!(s.profile, Profile::Debug);
        assert_eq!(Served::resolve(app, true, true).app, None);
        // A folder holding a manifest is served as it is, never rebuilt.
        let out = app.join("dist");
        std::fs::create_dir_all(&out).unwrap();
        std::fs::write(out.join(nextr::manifest::MANIFEST_FILE), "{}").unwrap();
        let s = Served::resolve(&out, false, false);
        assert_eq!((s.out.as_path(), s.app), (out.as_path(), None));
    }
}
