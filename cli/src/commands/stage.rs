//! What `deploy`, `remove` and `status` share: nextr.toml's deploy keys, the AWS
//! connection, the confirmation prompt and the tables.

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use nextr_cli::project::{AppConfig, AppConfigError};
use nextr_infra::deploy::{
    Action, CallLog, CallStats, Change, ConnectOptions, DeploySettings, Interrupt, Plan,
};

use crate::cli::StageArgs;

/// The stage when neither `--stage` nor nextr.toml names one.
pub const DEFAULT_STAGE: &str = "dev";

/// Test hook: abort the process (as `kill -9` would) once this many mutating AWS calls have
/// been sent, so tests can interrupt a real `nextr deploy` at an exact point.
const ABORT_HOOK: &str = "NEXTR_TEST_ABORT_AFTER_MUTATIONS";

/// Why the shared parts failed.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    /// nextr.toml could not be read.
    #[error(transparent)]
    Config(#[from] AppConfigError),
    /// A destructive change needs `--yes` when nobody can be asked.
    #[error("{what} deletes {count} resource(s) and stdin is not a terminal, so nextr cannot ask: re-run with --yes to confirm")]
    NeedsYes {
        /// The command.
        what: &'static str,
        /// How many deletions.
        count: usize,
    },
    /// The async runtime could not start.
    #[error("cannot start the async runtime")]
    Runtime(#[source] std::io::Error),
}

/// Everything `deploy`, `remove` and `status` need to know about where the app goes.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The app's root.
    pub dir: PathBuf,
    /// The stage.
    pub stage: String,
    /// Region and endpoint.
    pub connect: ConnectOptions,
    /// Environment variables of every function, and per route page.
    pub env: BTreeMap<String, String>,
    /// Per route page, variables over `env`.
    pub route_env: BTreeMap<String, BTreeMap<String, String>>,
}

impl Resolved {
    /// Deploy settings for this stage.
    pub fn settings(&self, role_arn: Option<String>) -> DeploySettings {
        DeploySettings {
            stage: self.stage.clone(),
            role_arn,
            env: self.env.clone(),
            route_env: self.route_env.clone(),
        }
    }
}

/// Reads nextr.toml (when there is one) under the command-line flags.
pub fn resolve(args: &StageArgs) -> Result<Resolved, StageError> {
    let config = AppConfig::load(&args.dir)?;
    Ok(Resolved {
        dir: args.dir.clone(),
        stage: args
            .stage
            .clone()
            .or(config.stage)
            .unwrap_or_else(|| DEFAULT_STAGE.to_string()),
        connect: ConnectOptions {
            region: args.region.clone().or(config.region),
            endpoint_url: args.endpoint_url.clone(),
        },
        env: config.env,
        route_env: config
            .routes
            .into_iter()
            .map(|(page, settings)| (page, settings.env))
            .collect(),
    })
}

/// A single-threaded runtime: deploy's concurrency is I/O, not CPU.
pub fn runtime() -> Result<tokio::runtime::Runtime, StageError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(StageError::Runtime)
}

/// A fresh call log (with the test hook armed when its variable is set).
pub fn call_log() -> CallLog {
    let log = CallLog::new();
    if let Some(n) = std::env::var(ABORT_HOOK)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        log.interrupt_after(n, Interrupt::Abort);
    }
    log
}

/// Asks a yes/no question on the terminal; `None` when stdin is not a terminal.
pub fn confirm(question: &str) -> std::io::Result<Option<bool>> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Ok(None);
    }
    let mut err = std::io::stderr().lock();
    write!(err, "{question} [y/N] ")?;
    err.flush()?;
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    let answer = line.trim().to_ascii_lowercase();
    Ok(Some(answer == "y" || answer == "yes"))
}

/// Decides whether to go ahead: `--yes`, an answer on the terminal, or (without a
/// terminal) only when nothing is deleted.
pub fn go_ahead(
    what: &'static str,
    plan: &Plan,
    yes: bool,
    question: &str,
) -> anyhow::Result<bool> {
    if yes {
        return Ok(true);
    }
    match confirm(question)? {
        Some(answer) => Ok(answer),
        None if plan.destructive() == 0 => Ok(true),
        None => Err(StageError::NeedsYes {
            what,
            count: plan.destructive(),
        }
        .into()),
    }
}

/// A table of actions: sign, resource, name, change.
pub fn action_table<'a>(rows: impl IntoIterator<Item = (&'a Action, Option<&'a str>)>) -> String {
    let rows: Vec<[String; 4]> = rows
        .into_iter()
        .map(|(action, detail)| {
            let (sign, kind, name, what) = action.row();
            let what = match detail {
                Some(d) => format!("{what} ({d})"),
                None => what,
            };
            [sign.to_string(), kind.to_string(), name, what]
        })
        .collect();
    let header = [
        " ".to_string(),
        "Resource".to_string(),
        "Name".to_string(),
        "Change".to_string(),
    ];
    let mut widths = [0usize; 4];
    for row in std::iter::once(&header).chain(&rows) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let line = format!(
            "  {} {:<w1$}  {:<w2$}  {}",
            row[0],
            row[1],
            row[2],
            row[3],
            w1 = widths[1],
            w2 = widths[2]
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The plan as a table.
pub fn plan_table(plan: &Plan) -> String {
    action_table(plan.actions.iter().map(|a| (a, None)))
}

/// What was changed, as a table.
pub fn changes_table(changes: &[Change]) -> String {
    action_table(changes.iter().map(|c| (&c.action, c.detail.as_deref())))
}

/// "73 AWS calls, 70 mutating".
pub fn calls_summary(stats: &CallStats) -> String {
    let total = stats.total();
    format!(
        "{total} AWS call{}, {} mutating",
        if total == 1 { "" } else { "s" },
        stats.mutating()
    )
}

/// The deploy record of `stage` in the app at `dir`.
pub fn record_path(dir: &Path, stage: &str) -> PathBuf {
    nextr_infra::deploy::DeployRecord::path(dir, stage)
}

/// The app's name: from the manifest when there is one, else from the stage's deploy
/// record (so an app whose build output is gone can still be removed).
pub fn app_name(dir: &Path, record: Option<&nextr_infra::deploy::DeployRecord>) -> Option<String> {
    let manifest = dir
        .join(nextr_infra::deploy::desired::OUT_DIR)
        .join(nextr::manifest::MANIFEST_FILE);
    fs::read_to_string(manifest)
        .ok()
        .and_then(|text| nextr::manifest::Manifest::from_json(&text).ok())
        .map(|m| m.app)
        .or_else(|| record.map(|r| r.app.clone()))
}
