//! `nextr status`: what is deployed, whether AWS still matches the last deploy (drift), and
//! what `nextr deploy` would change now. Reads only.

use std::collections::BTreeSet;
use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use nextr_cli::table::{Column, Table};
use nextr_infra::deploy::rollback;
use nextr_infra::deploy::{
    observe, observe_domains, plan_deploy, AwsClients, DeployRecord, Desired, RoleChoice, Target,
};

use crate::cli::StatusArgs;
use crate::commands::stage;

/// Runs `nextr status`.
pub fn run(args: &StatusArgs) -> anyhow::Result<ExitCode> {
    let mut resolved = stage::resolve(&args.target)?;
    let record_path = resolved.record_path();
    let record = DeployRecord::read(&record_path)?;
    let settings = resolved.settings(None);
    // A missing or unbuilt manifest still leaves the record and AWS to compare.
    let desired = Desired::load(&resolved.out, &settings);
    let app = match (&desired, &record) {
        (Ok(d), _) => d.target.app().to_string(),
        (Err(_), Some(r)) => r.app.clone(),
        (Err(e), None) => {
            return Err(anyhow::anyhow!("{e}")).with_context(|| {
                format!(
                    "no deploy record of stage {} either, so there is nothing to show",
                    resolved.stage
                )
            })
        }
    };
    let mut desired = desired.ok();
    // Status compares against the role the last deploy used.
    if let (Some(d), Some(r)) = (desired.as_mut(), &record) {
        if let Some(arn) = &r.role_arn {
            if !arn.ends_with(&format!("/{}", d.target.role_name())) {
                d.role = RoleChoice::External { arn: arn.clone() };
            }
        }
    }
    let target = Target::new(&app, &resolved.stage)?;
    if resolved.connect.region.is_none() {
        resolved.connect.region = record.as_ref().map(|r| r.region.clone());
    }

    let rt = stage::runtime()?;
    let clients = rt.block_on(AwsClients::connect(&resolved.connect, stage::call_log()))?;
    let wanted: BTreeSet<String> = match (&desired, &record) {
        (Some(d), _) => d.functions.iter().map(|f| f.name.clone()).collect(),
        (None, Some(r)) => r.functions.iter().map(|f| f.name.clone()).collect(),
        (None, None) => BTreeSet::new(),
    };
    let role_name = match desired.as_ref().map(|d| &d.role) {
        Some(RoleChoice::External { .. }) => None,
        _ => Some(target.role_name()),
    };
    let mut observed = rt.block_on(observe(
        &clients,
        &target,
        role_name.as_deref(),
        &wanted,
        true,
    ))?;
    let domain = desired
        .as_ref()
        .and_then(|d| d.domain.as_ref())
        .map(|d| d.name.as_str());
    observed.domains = rt.block_on(observe_domains(&clients, &target, domain))?;

    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{app} (stage {}) in {}",
        target.stage(),
        clients.region()
    )?;
    match observed.url(clients.region(), target.stage()) {
        Some(url) => writeln!(out, "URL: {url}")?,
        None => writeln!(out, "URL: none (no API exists)")?,
    }
    for d in observed.domains.iter().filter(|d| d.owned) {
        let mapped = d
            .mappings
            .iter()
            .filter(|m| m.root)
            .map(|m| format!("API {} stage {}", m.api_id, m.stage))
            .collect::<Vec<_>>();
        let dns = nextr_infra::deploy::domain::DnsRecord::of(d)
            .map_or_else(|| "target not reported".to_owned(), |r| r.to_string());
        writeln!(
            out,
            "Domain: https://{}/ → {}; DNS: {dns}",
            d.name,
            if mapped.is_empty() {
                "not mapped".to_owned()
            } else {
                mapped.join(", ")
            }
        )?;
    }
    if let Some(api) = observed.rest_api() {
        let methods = api
            .resources
            .iter()
            .filter(|r| !r.methods.is_empty())
            .count();
        writeln!(
            out,
            "REST API: {} ({}), {} resources, {methods} with a method, stage {}",
            api.name,
            api.id,
            api.resources.len(),
            match api.stage_deployment(target.stage()) {
                Some(d) => format!(
                    "{} on deployment {} ({})",
                    target.stage(),
                    d.id,
                    d.description.as_deref().unwrap_or("no description")
                ),
                None => format!("{} missing", target.stage()),
            }
        )?;
    }
    for (name, f) in &observed.functions {
        if let Some(u) = &f.url {
            writeln!(
                out,
                "Function URL ({name}): {} (auth {}, {})",
                u.url,
                u.auth_type,
                u.invoke_mode.as_deref().unwrap_or("invoke mode unknown")
            )?;
        }
    }
    match &record {
        Some(r) => writeln!(
            out,
            "Last deploy: {} from manifest {} (nextr {}); last checked {}",
            r.deployed_at,
            short(&r.manifest_sha256),
            r.nextr_version,
            r.checked_at
        )?,
        None => writeln!(
            out,
            "Last deploy: none recorded in {}",
            record_path.display()
        )?,
    }
    match (&desired, &record) {
        (Some(d), Some(r)) if d.manifest_sha256 == r.manifest_sha256 => {
            writeln!(out, "Local build: the manifest that was deployed")?
        }
        (Some(d), Some(_)) => writeln!(
            out,
            "Local build: changed since the last deploy (manifest {})",
            short(&d.manifest_sha256)
        )?,
        (Some(_), None) => writeln!(out, "Local build: present, never deployed from here")?,
        (None, _) => writeln!(out, "Local build: no usable route manifest")?,
    }

    if let Some(r) = &record {
        let drift = r.drift(&observed);
        if drift.is_empty() {
            writeln!(out, "Drift: none, AWS matches the last deploy")?;
        } else {
            writeln!(out, "Drift (AWS differs from the last deploy):")?;
            for d in drift {
                writeln!(out, "  - {d}")?;
            }
        }
    }

    if let Some(d) = &desired {
        writeln!(out, "\nFunctions:")?;
        let rows: Vec<[String; 5]> = d
            .functions
            .iter()
            .map(|f| {
                let o = observed.functions.get(&f.name);
                let code = match o.and_then(|o| o.latest.code_sha256.as_deref()) {
                    None => "missing".to_string(),
                    Some(sha) if sha == f.code_sha256 => "current".to_string(),
                    Some(_) => "differs from the build".to_string(),
                };
                let rolled_back_from = record
                    .as_ref()
                    .and_then(|r| r.functions.iter().find(|rf| rf.name == f.name))
                    .and_then(|rf| rf.rolled_back_from.as_deref());
                let live = rollback::versions_line(
                    o.and_then(|o| o.live.as_ref())
                        .and_then(|l| l.version.as_deref()?.parse().ok()),
                    o.map_or(&[][..], |o| &o.versions),
                    rolled_back_from,
                );
                [
                    f.label().to_string(),
                    f.name.clone(),
                    code,
                    live,
                    role_cell(d, f, o),
                ]
            })
            .collect();
        let mut table =
            Table::new(["Route", "Function", "Code", "Versions", "Role"].map(Column::left))
                .indent(2);
        for row in rows {
            table.row(row);
        }
        write!(out, "{table}")?;
        let plan = plan_deploy(d, &observed, clients.region());
        if plan.is_empty() {
            writeln!(out, "\nPending: none, `nextr deploy` would change nothing")?;
        } else {
            writeln!(
                out,
                "\nPending: `nextr deploy` would make {} changes:",
                plan.actions.len()
            )?;
            write!(out, "{}", stage::plan_table(&plan))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The role a function runs as (its name: the app's, its own, or `--role`'s), and the one
/// the next deploy moves it to when they differ.
fn role_cell(
    desired: &Desired,
    f: &nextr_infra::deploy::DesiredFunction,
    observed: Option<&nextr_infra::deploy::state::ObservedFunction>,
) -> String {
    let name = |arn: &str| arn.rsplit('/').next().unwrap_or(arn).to_owned();
    let wanted = match desired.role_of(f) {
        RoleChoice::Managed { name } => name,
        RoleChoice::External { arn } => name(&arn),
    };
    match observed.and_then(|o| o.latest.role.as_deref()).map(name) {
        None => "none".to_owned(),
        Some(now) if now == wanted => now,
        Some(now) => format!("{now} (deploy moves it to {wanted})"),
    }
}

/// The first 12 characters of a digest (the record is a user-editable file: no byte slicing).
fn short(digest: &str) -> String {
    digest.chars().take(12).collect()
}
