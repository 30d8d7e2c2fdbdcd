//! `nextr remove`: delete everything deploy created for one app and stage.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use nextr_infra::deploy::{self, AwsClients, DeployRecord, Target};

use crate::cli::RemoveArgs;
use crate::commands::stage;

/// Runs `nextr remove`.
pub fn run(args: &RemoveArgs) -> anyhow::Result<ExitCode> {
    let mut resolved = stage::resolve(&args.target)?;
    let record_path = resolved.record_path();
    let record = DeployRecord::read(&record_path)?;
    // The app is the build's, else the one the stage's record says was deployed (so an app
    // whose bundles are gone can still be removed).
    let app = resolved
        .app
        .clone()
        .or_else(|| record.as_ref().map(|r| r.app.clone()))
        .with_context(|| {
            format!(
                "no route manifest and no deploy record of stage {} in {}: nothing says which app to remove",
                resolved.stage,
                resolved.out.display()
            )
        })?;
    let target = Target::new(&app, &resolved.stage)?;
    if resolved.connect.region.is_none() {
        resolved.connect.region = record.as_ref().map(|r| r.region.clone());
    }

    let rt = stage::runtime()?;
    let clients = rt.block_on(AwsClients::connect(&resolved.connect, stage::call_log()))?;
    let (observed, plan) = rt.block_on(deploy::plan_for_removal(&clients, &target))?;
    let mut out = std::io::stdout().lock();
    if plan.is_empty() {
        writeln!(
            out,
            "Nothing to remove: no resource of {app} (stage {}) exists in {}.",
            target.stage(),
            clients.region()
        )?;
        if !args.dry_run {
            DeployRecord::delete(&record_path)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(
        out,
        "Removing {app} (stage {}) from {}:",
        target.stage(),
        clients.region()
    )?;
    write!(out, "{}", stage::plan_table(&plan))?;
    if args.dry_run {
        writeln!(out, "\nDry run: nothing was deleted.")?;
        return Ok(ExitCode::SUCCESS);
    }
    out.flush()?;
    let question = format!(
        "Delete these {} resources of {app} ({})?",
        plan.actions.len(),
        target.stage()
    );
    if !stage::go_ahead("nextr remove", &plan, args.yes, &question)? {
        writeln!(out, "Cancelled: nothing was deleted.")?;
        return Ok(ExitCode::FAILURE);
    }
    rt.block_on(deploy::apply(&clients, None, &observed, &plan))
        .with_context(|| {
            format!(
                "removing {app} ({}) stopped; run `nextr remove` again to finish",
                target.stage()
            )
        })?;
    DeployRecord::delete(&record_path)?;
    writeln!(
        out,
        "\nRemoved {app} (stage {}): {} deletions, {}.",
        target.stage(),
        plan.actions.len(),
        stage::calls_summary(&clients.calls().stats())
    )?;
    Ok(ExitCode::SUCCESS)
}
