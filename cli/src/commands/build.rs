//! `nextr build`: the pipeline of [`nextr_cli::build`] with progress on stderr and a route
//! table on stdout, like `next build`.

use std::collections::{HashMap, HashSet};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{mpsc, Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use nextr::manifest::{Function, Manifest, Profile};
use nextr_cli::build::{build, BuildError, BuildOptions, BuildOutcome, Progress, FALLBACK_PAGE};
use nextr_cli::bundle::cargo::BuildEvent;
use nextr_cli::bundle::toolchain::{zigbuild_asked, Toolchain, ZIGBUILD_ENV};
use nextr_cli::report::{ReportStyle, Shown, ShownLines};
use nextr_cli::table::{Column, Table};

use crate::cli::BuildArgs;

/// Runs `nextr build`.
pub fn run(args: &BuildArgs) -> anyhow::Result<ExitCode> {
    let profile = if args.debug {
        Profile::Debug
    } else {
        Profile::Release
    };
    let options = BuildOptions {
        arch: args.arch,
        out: args.out.clone(),
        ..options(&args.dir, profile)
    };
    let outcome = build_reported(&options)?;
    let mut out = std::io::stdout().lock();
    write!(out, "{}", summary(&outcome))?;
    Ok(ExitCode::SUCCESS)
}

/// Build options with the defaults of `nextr.toml` and the environment (the cargo that runs
/// us, colours when stderr is a terminal, `NEXTR_ZIGBUILD`).
pub fn options(dir: &Path, profile: Profile) -> BuildOptions {
    BuildOptions {
        dir: dir.to_path_buf(),
        profile,
        env_mode: nextr_cli::project::EnvMode::Production,
        arch: None,
        zigbuild: zigbuild_asked(std::env::var(ZIGBUILD_ENV).ok().as_deref()),
        out: None,
        cargo: std::env::var_os("CARGO")
            .map(PathBuf::from)
            .unwrap_or_else(|| "cargo".into()),
        color: ReportStyle::detect(std::io::stderr().is_terminal()) == ReportStyle::Color,
        isolate_route_errors: false,
    }
}

/// Runs the build pipeline with progress (and compiler diagnostics, as they come) on
/// stderr; its error, if any, is reported by [`super::render_error`] like every other.
pub fn build_reported(options: &BuildOptions) -> Result<BuildOutcome, BuildError> {
    let style = ReportStyle::detect(std::io::stderr().is_terminal());
    let mut display = Display::new(style);
    let result = build(options, |p| display.update(p));
    display.finish();
    result
}

/// How often a piped build says it is still compiling when nothing else was printed.
const STILL_EVERY: Duration = Duration::from_secs(10);

/// Test hook: that interval in milliseconds, so a short build shows the line too.
const STILL_EVERY_HOOK: &str = "NEXTR_TEST_PROGRESS_EVERY_MS";

/// Progress: a bar on a terminal, plain lines in logs and CI (one per route binary, and a
/// "still compiling" line when cargo has been quiet for a while, so a piped build of a minute
/// is never a minute of silence).
struct Display {
    bar: Option<ProgressBar>,
    pages: HashMap<String, String>,
    /// Shared with the ticker thread of a plain display.
    tally: Arc<Mutex<Tally>>,
    ticker: Option<Ticker>,
}

/// What cargo has done so far.
struct Tally {
    /// Crates compiled (dependencies, the app's lib, anything that is not a route binary).
    crates: usize,
    /// Route binaries ready (each counted once, even if cargo reports it again).
    built: HashSet<String>,
    /// Route binaries expected: every route's and the `$default` function's.
    total: usize,
    started: Instant,
    last_line: Instant,
}

impl Tally {
    /// Prints a line of a plain display and notes when.
    fn line(&mut self, text: &str) {
        eprintln!("{text}");
        self.last_line = Instant::now();
    }
}

/// The thread printing "still compiling" lines of a plain display.
struct Ticker {
    stop: mpsc::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Ticker {
    fn start(tally: Arc<Mutex<Tally>>, every: Duration) -> Self {
        let (stop, stopped) = mpsc::channel::<()>();
        let tick = (every / 4).max(Duration::from_millis(20));
        let thread = std::thread::spawn(move || {
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(tick) {
                let mut t = tally.lock().unwrap_or_else(PoisonError::into_inner);
                if t.last_line.elapsed() < every || t.built.len() >= t.total {
                    continue;
                }
                let secs = t.started.elapsed().as_secs();
                let text = if t.built.is_empty() {
                    format!(
                        "  still compiling dependencies ({} crate{} compiled, {secs} s)",
                        t.crates,
                        if t.crates == 1 { "" } else { "s" }
                    )
                } else {
                    format!(
                        "  still compiling routes ({}/{} done, {secs} s)",
                        t.built.len(),
                        t.total
                    )
                };
                t.line(&text);
            }
        });
        Ticker { stop, thread }
    }

    fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}

impl Display {
    fn new(style: ReportStyle) -> Self {
        let bar = (style == ReportStyle::Color).then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{spinner} [{pos}/{len}] {wide_msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        let now = Instant::now();
        Display {
            bar,
            pages: HashMap::new(),
            tally: Arc::new(Mutex::new(Tally {
                crates: 0,
                built: HashSet::new(),
                total: 0,
                started: now,
                last_line: now,
            })),
            ticker: None,
        }
    }

    fn tally(&self) -> MutexGuard<'_, Tally> {
        self.tally.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn line(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => self.tally().line(text),
        }
    }

    fn update(&mut self, progress: Progress) {
        match progress {
            Progress::Planned {
                app,
                routes,
                arch,
                toolchain,
            } => {
                let n = routes.len();
                // Every route's binary, and the `$default` function's.
                let total = n + 1;
                self.tally().total = total;
                self.pages = routes.into_iter().map(|(p, f)| (f, p)).collect();
                let how = match toolchain {
                    Toolchain::Native => "native toolchain".to_owned(),
                    Toolchain::Zigbuild { target } => format!("cargo zigbuild --target {target}"),
                };
                self.line(&format!(
                    "Building {n} route{} of {app} for {arch} ({how})",
                    if n == 1 { "" } else { "s" }
                ));
                match &self.bar {
                    Some(bar) => {
                        bar.set_length(total as u64);
                        bar.set_message("compiling dependencies");
                    }
                    None if self.ticker.is_none() => {
                        let every = std::env::var(STILL_EVERY_HOOK)
                            .ok()
                            .and_then(|v| v.parse().ok())
                            .map_or(STILL_EVERY, Duration::from_millis);
                        self.ticker = Some(Ticker::start(self.tally.clone(), every));
                    }
                    None => {}
                }
            }
            Progress::Cargo(BuildEvent::Compiled { name }) => {
                let first = {
                    let mut t = self.tally();
                    t.crates += 1;
                    t.built.is_empty()
                };
                if let Some(bar) = self.bar.as_ref().filter(|_| first) {
                    bar.set_message(format!("compiled {name}"));
                }
            }
            Progress::Cargo(BuildEvent::Binary { name, .. }) => {
                let page = self
                    .pages
                    .get(&name)
                    .map_or(FALLBACK_PAGE, String::as_str)
                    .to_owned();
                let mut t = self.tally();
                // A binary cargo reports again (a second cargo run) is not a new one.
                if !t.built.insert(name.clone()) {
                    return;
                }
                t.total = t.total.max(t.built.len());
                let (done, total) = (t.built.len(), t.total);
                match &self.bar {
                    Some(bar) => {
                        bar.set_length(total as u64);
                        bar.set_position(done as u64);
                        bar.set_message("linking routes");
                        bar.println(format!("  ✓ {}", Shown(&page)));
                    }
                    None => t.line(&format!(
                        "  [{done}/{total}] compiled {} ({})",
                        Shown(&page),
                        Shown(&name)
                    )),
                }
            }
            Progress::Cargo(BuildEvent::Diagnostic { rendered, .. }) => {
                self.line(rendered.trim_end());
            }
            Progress::Warning(message) => {
                self.line(&format!("warning: {}", ShownLines(message)));
            }
            Progress::LeftOut { page, file, shown } => {
                if let Some(shown) = shown {
                    self.line(shown.trim_end());
                }
                self.line(&format!(
                    "  ✗ {} ({} does not build: left out, answers 500 until fixed)",
                    Shown(&page),
                    Shown(&file)
                ));
            }
            Progress::Prerendered { page, bytes } => {
                self.line(&format!(
                    "  ○ {} prerendered ({})",
                    Shown(&page),
                    size(bytes as u64)
                ));
            }
        }
    }

    fn finish(&mut self) {
        if let Some(ticker) = self.ticker.take() {
            ticker.stop();
        }
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        let _ = std::io::stderr().flush();
    }
}

/// The route table printed after a build: route, kind, size, timeout, memory.
fn summary(outcome: &BuildOutcome) -> String {
    let manifest: &Manifest = &outcome.manifest;
    let mut table = Table::new([
        Column::left("Route"),
        Column::left("Kind"),
        Column::left("Router"),
        Column::right("Size"),
        Column::right("Timeout"),
        Column::right("Memory"),
    ]);
    let row = |page: &str, kind: &str, router: &str, f: Option<&Function>| {
        [
            page.to_owned(),
            kind.to_owned(),
            router.to_owned(),
            f.map(|f| size(f.bytes)).unwrap_or_default(),
            f.map(|f| format!("{} s", f.timeout_s)).unwrap_or_default(),
            f.map(|f| format!("{} MB", f.memory_mb)).unwrap_or_default(),
        ]
    };
    let rows: Vec<[String; 6]> = manifest
        .routes
        .iter()
        .map(|r| {
            row(
                &r.page,
                r.kind.as_str(),
                r.router.as_str(),
                r.function.as_ref(),
            )
        })
        .chain(std::iter::once(row(
            "$default",
            "fallback: 308 / 404",
            "",
            Some(&manifest.fallback),
        )))
        .collect();
    for row in rows {
        table.row(row);
    }
    let mut s = table.to_string();
    if let Some(p) = &manifest.proxy {
        s.push_str(&format!(
            "\n{}\n",
            nextr_cli::project::proxy_summary(&p.file, p.matcher.as_deref())
        ));
    }
    let functions: Vec<&Function> = manifest.functions().collect();
    let total: u64 = functions.iter().map(|f| f.bytes).sum();
    let n = functions.len();
    s.push_str(&format!(
        "\n{n} function{} ({} zipped, {} updated{}) in {}\n",
        if n == 1 { "" } else { "s" },
        size(total),
        outcome.zips_written,
        if outcome.zips_removed > 0 {
            format!(", {} removed", outcome.zips_removed)
        } else {
            String::new()
        },
        outcome.out.display()
    ));
    s
}

fn size(bytes: u64) -> String {
    if bytes >= 1_000_000 {
        format!("{:.1} MB", bytes as f64 / 1_000_000.0)
    } else {
        format!("{:.1} kB", bytes as f64 / 1000.0)
    }
}
