//! What `deploy`, `remove` and `status` share: the build folder they read, the stage and
//! AWS connection resolved once, the confirmation prompt and the tables.
//!
//! Settings resolve in one place, [`resolve`]: flags (and their environment variables,
//! `NEXTR_STAGE`, `AWS_REGION`, `AWS_ENDPOINT_URL`), then what the build recorded from
//! `nextr.toml` in the manifest (`deploy.stage`, `deploy.region`), then the defaults (stage
//! `dev`; the region from the AWS profile). These commands never read `nextr.toml`: the
//! manifest is the whole contract.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use nextr::manifest::{layout, Manifest, MANIFEST_FILE};
use nextr_cli::table::{Column, Table};
use nextr_infra::deploy::{
    Action, ActionSummary, CallLog, CallStats, Change, ConnectOptions, DeployRecord,
    DeploySettings, Interrupt, Plan,
};
use nextr_infra::names::{self, NameError};

use crate::cli::StageArgs;

/// Test hook: abort the process (as `kill -9` would) once this many mutating AWS calls have
/// been sent, so tests can interrupt a real `nextr deploy` at an exact point.
const ABORT_HOOK: &str = "NEXTR_TEST_ABORT_AFTER_MUTATIONS";

/// Why the shared parts failed.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    /// A bad `--stage` (or `NEXTR_STAGE`).
    #[error(transparent)]
    Name(#[from] NameError),
    /// A destructive change needs `--yes` when nobody can be asked.
    #[error("{what} deletes {count} resource(s) and stdin is not a terminal, so nextr cannot ask: re-run with --yes to confirm")]
    NeedsYes {
        /// The command.
        what: &'static str,
        /// How many deletions.
        count: usize,
    },
    /// A rollback changes what serves requests and nobody can be asked.
    #[error("nextr rollback moves {count} live alias(es) and stdin is not a terminal, so nextr cannot ask: re-run with --yes to confirm (or --dry-run to only see the plan)")]
    RollbackNeedsYes {
        /// How many aliases move.
        count: usize,
    },
    /// The async runtime could not start.
    #[error("cannot start the async runtime")]
    Runtime(#[source] std::io::Error),
}

/// Everything `deploy`, `remove` and `status` need to know about where the app goes.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The build folder: the one holding `routes-manifest.json` (and the deploy records).
    pub out: PathBuf,
    /// The stage.
    pub stage: String,
    /// Region and endpoint.
    pub connect: ConnectOptions,
    /// The app, when the build folder has a readable manifest.
    pub app: Option<String>,
}

impl Resolved {
    /// Deploy settings for this stage.
    pub fn settings(&self, role_arn: Option<String>) -> DeploySettings {
        DeploySettings {
            stage: self.stage.clone(),
            role_arn,
        }
    }

    /// The deploy record of the stage.
    pub fn record_path(&self) -> PathBuf {
        DeployRecord::path(&self.out, &self.stage)
    }
}

/// The build folder `dir` names: `dir` itself when it holds a route manifest (the output of
/// `nextr build --out DIR`), else the app's `dir/.nextr`.
pub fn build_folder(dir: &Path) -> PathBuf {
    if layout::is_build_folder(dir) {
        dir.to_path_buf()
    } else {
        dir.join(layout::OUT_DIR)
    }
}

/// Resolves the build folder, stage and AWS connection once (see the module docs).
pub fn resolve(args: &StageArgs) -> Result<Resolved, StageError> {
    let out = build_folder(&args.dir);
    let manifest = std::fs::read_to_string(out.join(MANIFEST_FILE))
        .ok()
        .and_then(|text| Manifest::from_json(&text).ok());
    let recorded = manifest.as_ref().map(|m| &m.deploy);
    let stage = args
        .stage
        .clone()
        .or_else(|| recorded.map(|d| d.stage.clone()).filter(|s| !s.is_empty()))
        .unwrap_or_else(|| names::DEFAULT_STAGE.to_string());
    names::check_stage(&stage)?;
    Ok(Resolved {
        out,
        stage,
        connect: ConnectOptions {
            region: args
                .region
                .clone()
                .or_else(|| recorded.and_then(|d| d.region.clone())),
            endpoint_url: args.endpoint_url.clone(),
        },
        app: manifest.map(|m| m.app),
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
    let mut table = Table::new([
        Column::left(" "),
        Column::left("Resource").gap(1),
        Column::left("Name"),
        Column::left("Change"),
    ])
    .indent(2);
    for (action, detail) in rows {
        let ActionSummary {
            effect,
            kind,
            name,
            what,
        } = action.summary();
        let what = match detail {
            Some(d) => format!("{what} ({d})"),
            None => what,
        };
        table.row([effect.sign().to_string(), kind.to_string(), name, what]);
    }
    table.to_string()
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
