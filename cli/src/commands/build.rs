//! `nextr build`: the pipeline of [`nextr_cli::build`] with progress on stderr and a route
//! table on stdout, like `next build`.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use nextr::manifest::{Function, Manifest, Profile};
use nextr_cli::build::{build, BuildError, BuildOptions, BuildOutcome, Progress, FALLBACK_PAGE};
use nextr_cli::bundle::cargo::{BuildEvent, Toolchain};
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
/// us, colours when stderr is a terminal).
pub fn options(dir: &Path, profile: Profile) -> BuildOptions {
    BuildOptions {
        dir: dir.to_path_buf(),
        profile,
        env_mode: nextr_cli::project::EnvMode::Production,
        arch: None,
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

/// Progress: a bar on a terminal, plain lines in logs and CI.
struct Display {
    bar: Option<ProgressBar>,
    pages: HashMap<String, String>,
    done: usize,
    total: usize,
}

impl Display {
    fn new(style: ReportStyle) -> Self {
        let bar = (style == ReportStyle::Color).then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{spinner} [{pos}/{len}] {wide_msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        });
        Display {
            bar,
            pages: HashMap::new(),
            done: 0,
            total: 0,
        }
    }

    fn line(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
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
                self.total = n + 1;
                self.pages = routes.into_iter().map(|(p, f)| (f, p)).collect();
                let how = match toolchain {
                    Toolchain::Native => "native toolchain".to_owned(),
                    Toolchain::Zigbuild { target } => format!("cargo zigbuild --target {target}"),
                };
                self.line(&format!(
                    "Building {n} route{} of {app} for {arch} ({how})",
                    if n == 1 { "" } else { "s" }
                ));
                if let Some(bar) = &self.bar {
                    bar.set_length(self.total as u64);
                    bar.set_message("compiling dependencies");
                }
            }
            Progress::Cargo(BuildEvent::Compiled { name }) => {
                if let Some(bar) = self.bar.as_ref().filter(|_| self.done == 0) {
                    bar.set_message(format!("compiled {name}"));
                }
            }
            Progress::Cargo(BuildEvent::Binary { name, .. }) => {
                self.done += 1;
                let page = self
                    .pages
                    .get(&name)
                    .map_or(FALLBACK_PAGE, String::as_str)
                    .to_owned();
                match &self.bar {
                    Some(bar) => {
                        bar.inc(1);
                        bar.set_message("linking routes");
                        bar.println(format!("  ✓ {}", Shown(&page)));
                    }
                    None => eprintln!(
                        "  [{}/{}] {} ({})",
                        self.done,
                        self.total,
                        Shown(&page),
                        Shown(&name)
                    ),
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

    fn finish(&self) {
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
