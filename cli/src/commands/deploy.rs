//! `nextr deploy`: plan against AWS, confirm, apply, record.

use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use nextr_cli::report::ShownLines;
use nextr_infra::deploy::domain::DnsRecord;
use nextr_infra::deploy::rollback;
use nextr_infra::deploy::{self, AwsClients, DeployRecord, Desired};

use crate::cli::DeployArgs;
use crate::commands::stage;

/// Runs `nextr deploy`.
pub fn run(args: &DeployArgs) -> anyhow::Result<ExitCode> {
    let resolved = stage::resolve(&args.target)?;
    let settings = resolved.settings(args.role.clone());
    let desired = Desired::load(&resolved.out, &settings)?;
    // Before any AWS call: never upload something other than what was built.
    desired.verify_bundles()?;
    let app = desired.target.app().to_string();
    let stage_name = desired.target.stage().to_string();
    let record_path = resolved.record_path();
    let previous = DeployRecord::read(&record_path)?;

    let started = Instant::now();
    let rt = stage::runtime()?;
    let clients = rt.block_on(AwsClients::connect(&resolved.connect, stage::call_log()))?;
    let mut out = std::io::stdout().lock();
    for warning in &desired.warnings {
        eprintln!("warning: {}", ShownLines(warning));
    }
    writeln!(
        out,
        "{} {app} (stage {stage_name}) in {}",
        if args.dry_run {
            "Planning"
        } else {
            "Deploying"
        },
        clients.region()
    )?;
    let (observed, plan) = rt.block_on(deploy::plan_for_deploy(&clients, &desired))?;

    let routes: usize = desired.functions.iter().map(|f| f.route_keys.len()).sum();
    if plan.is_empty() {
        writeln!(
            out,
            "No changes: {} functions and {routes} routes are up to date; {}.",
            desired.functions.len(),
            stage::calls_summary(&clients.calls().stats())
        )?;
        if let Some(url) = observed.url(clients.region(), &stage_name) {
            writeln!(out, "URL: {url}")?;
        }
        for f in &desired.functions {
            if let Some(u) = observed.functions.get(&f.name).and_then(|o| o.url.as_ref()) {
                writeln!(out, "Function URL ({}): {}", f.label(), u.url)?;
            }
        }
        let dns = desired
            .domain
            .as_ref()
            .and_then(|d| observed.domains.iter().find(|o| o.name == d.name))
            .and_then(DnsRecord::of);
        write_domain(&mut out, &desired, dns.as_ref())?;
        if !args.dry_run {
            let applied = rt.block_on(deploy::apply(&clients, Some(&desired), &observed, &plan))?;
            DeployRecord::new(
                &desired,
                &applied,
                &observed,
                clients.region(),
                previous.as_ref(),
            )
            .write(&record_path)?;
        }
        return Ok(ExitCode::SUCCESS);
    }

    let undone = previous
        .as_ref()
        .map(rollback::undone_by_deploy)
        .unwrap_or_default();
    if !undone.is_empty() {
        writeln!(
            out,
            "\nAfter `nextr rollback`: this deploy publishes the build again and moves live forward:"
        )?;
        for line in &undone {
            writeln!(out, "  {}", ShownLines(line))?;
        }
    }
    writeln!(out, "\nPlan ({} changes):", plan.actions.len())?;
    write!(out, "{}", stage::plan_table(&plan))?;
    if args.dry_run {
        writeln!(out, "\nDry run: nothing was changed.")?;
        return Ok(ExitCode::SUCCESS);
    }
    out.flush()?;
    let question = format!(
        "Apply {} changes to {app} ({stage_name}) in {}?",
        plan.actions.len(),
        clients.region()
    );
    if !stage::go_ahead("this deploy", &plan, args.yes, &question)? {
        writeln!(out, "Cancelled: nothing was changed.")?;
        return Ok(ExitCode::FAILURE);
    }

    let applied = rt
        .block_on(deploy::apply(&clients, Some(&desired), &observed, &plan))
        .with_context(|| {
            format!(
                "the deploy of {app} ({stage_name}) stopped; run `nextr deploy` again to \
                 finish it (it resumes from what exists)"
            )
        })?;
    DeployRecord::new(
        &desired,
        &applied,
        &observed,
        clients.region(),
        previous.as_ref(),
    )
    .write(&record_path)?;
    writeln!(out, "\nChanged ({}):", applied.changes.len())?;
    write!(out, "{}", stage::changes_table(&applied.changes))?;
    writeln!(
        out,
        "\nDeployed {app} ({stage_name}): {} functions, {routes} routes, in {:.1} s, {}.",
        desired.functions.len(),
        started.elapsed().as_secs_f64(),
        stage::calls_summary(&clients.calls().stats())
    )?;
    if let Some(url) = &applied.url {
        writeln!(out, "URL: {url}")?;
    }
    for f in &desired.functions {
        if let Some(u) = applied.function_urls.get(&f.name) {
            writeln!(out, "Function URL ({}): {u}", f.label())?;
        }
    }
    write_domain(&mut out, &desired, applied.dns.as_ref())?;
    Ok(ExitCode::SUCCESS)
}

/// The custom domain's URL and the DNS record its owner creates.
fn write_domain(
    out: &mut impl Write,
    desired: &Desired,
    dns: Option<&DnsRecord>,
) -> std::io::Result<()> {
    let Some(domain) = &desired.domain else {
        return Ok(());
    };
    writeln!(out, "Custom domain: https://{}/", domain.name)?;
    match dns {
        Some(record) => writeln!(out, "DNS: create the record {record}"),
        None => writeln!(
            out,
            "DNS: API Gateway did not report the domain's target; `aws apigatewayv2 get-domain-name --domain-name {}` shows it (ApiGatewayDomainName), and the record to create is a CNAME to it",
            domain.name
        ),
    }
}
