//! `nextr rollback`: move `live` back for one route, or for every function the last deploy
//! moved, after showing the plan; records the move for `nextr status` and the next deploy.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use nextr::manifest::{Manifest, MANIFEST_FILE};
use nextr_cli::report::ShownLines;
use nextr_infra::deploy::rollback::{self, Goal, RollbackError};
use nextr_infra::deploy::{observe, AwsClients, DeployRecord, Target};

use crate::cli::RollbackArgs;
use crate::commands::{logs, stage};

/// Runs `nextr rollback`.
pub fn run(args: &RollbackArgs) -> anyhow::Result<ExitCode> {
    let (route, target_args) = logs::route_or_dir(args.route.as_ref(), &args.target);
    let mut resolved = stage::resolve(&target_args)?;
    let record_path = resolved.record_path();
    let Some(mut record) = DeployRecord::read(&record_path)? else {
        return Err(RollbackError::NeverDeployed {
            stage: resolved.stage.clone(),
            path: record_path.display().to_string(),
        }
        .into());
    };
    let goal = match (args.to, &route) {
        (Some(v), _) => Goal::To(v),
        (None, Some(_)) => Goal::Back,
        (None, None) => Goal::BeforeLastDeploy,
    };
    let selected = rollback::select(&record, route.as_deref(), &route_files(&resolved.out))?;
    let target = Target::new(&record.app, &resolved.stage)?;
    if resolved.connect.region.is_none() {
        resolved.connect.region = Some(record.region.clone());
    }

    let rt = stage::runtime()?;
    let clients = rt.block_on(AwsClients::connect(&resolved.connect, stage::call_log()))?;
    let wanted: BTreeSet<String> = selected.iter().map(|f| f.name.clone()).collect();
    let observed = rt.block_on(observe(&clients, &target, None, &wanted, true))?;
    let mut plan = rollback::plan(&selected, &observed, goal)?;
    let configs = rt.block_on(rollback::read_versions(&clients, &plan))?;
    rollback::check(&mut plan, &configs, goal)?;

    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "Rolling back {} (stage {}) in {}:",
        record.app,
        target.stage(),
        clients.region()
    )?;
    for step in &plan.steps {
        writeln!(out, "  {}", ShownLines(&step.line()))?;
    }
    for warning in &plan.warnings {
        eprintln!("warning: {}", ShownLines(warning));
    }
    let moving = plan.steps.iter().filter(|s| !s.is_done()).count();
    if args.dry_run {
        writeln!(out, "\nDry run: nothing was changed.")?;
        return Ok(ExitCode::SUCCESS);
    }
    if moving > 0 {
        out.flush()?;
        let question = format!("Move {moving} live alias(es) of {}?", record.app);
        let go = match (args.yes, stage::confirm(&question)?) {
            (true, _) => true,
            (false, Some(answer)) => answer,
            (false, None) => {
                return Err(stage::StageError::RollbackNeedsYes { count: moving }.into())
            }
        };
        if !go {
            writeln!(out, "Cancelled: nothing was changed.")?;
            return Ok(ExitCode::FAILURE);
        }
    }
    let moved = rt
        .block_on(rollback::apply(&clients, &plan))
        .context("the rollback stopped; run the same `nextr rollback` again to finish it")?;
    // Steps an interrupted run already made count too: the record catches up with them.
    let done = plan.steps.iter().filter(|s| s.is_done()).cloned();
    record.rolled_back(&moved.into_iter().chain(done).collect::<Vec<_>>());
    record.write(&record_path)?;
    writeln!(
        out,
        "\nRolled back: {moving} alias(es) moved, {}. `nextr deploy` moves live forward to the build again.",
        stage::calls_summary(&clients.calls().stats())
    )?;
    Ok(ExitCode::SUCCESS)
}

/// Route files → pages, from the build's manifest when there is one (so `api/x.rs` names a
/// route); an unreadable manifest just leaves files unnamed.
fn route_files(out: &std::path::Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(out.join(MANIFEST_FILE))
        .ok()
        .and_then(|text| Manifest::from_json(&text).ok())
        .map(|m| m.routes.into_iter().map(|r| (r.file, r.page)).collect())
        .unwrap_or_default()
}
