//! The deploy engine: the route manifest → AWS Lambda functions behind one API Gateway HTTP
//! API or REST API (the manifest's gateway kind), with function URLs where routes ask for
//! them, by plan and apply. [`rest`] holds what deploy knows about a REST API, pure.
//!
//! [`state`] reads what exists (by tags and names, reads only), [`plan`] compares it with
//! what the manifest asks for ([`desired`]) and orders the actions, [`apply`](mod@apply) carries them
//! out with the AWS SDK, [`record`] keeps `.nextr/deploy-<stage>.json` for `nextr status`.
//! Because the plan is recomputed from AWS every time, deploy is idempotent and a re-run
//! after an interruption finishes the job.

pub mod access;
pub mod apply;
pub mod aws;
pub mod desired;
pub mod domain;
mod error;
pub mod events;
pub mod failure;
pub mod logs;
pub mod plan;
pub mod record;
pub mod rest;
pub mod rewrite;
pub mod rollback;
pub mod state;

use std::collections::BTreeSet;

pub use apply::{apply, Applied, Change};
pub use aws::{AwsClients, CallLog, CallStats, ConnectOptions, Interrupt};
pub use desired::{
    DeploySettings, Desired, DesiredFunction, ManagedRole, OwnRole, RoleChoice, Target,
};
pub use error::DeployError;
pub use failure::AwsFailure;
pub use plan::{plan_deploy, plan_remove, Action, ActionSummary, Effect, Plan, ResourceKind};
pub use record::DeployRecord;
pub use state::{observe, observe_domains, Observed};

/// Reads what exists for a deploy of `desired` and plans it.
pub async fn plan_for_deploy(
    clients: &AwsClients,
    desired: &Desired,
) -> Result<(Observed, Plan), DeployError> {
    desired.check_region(clients.region())?;
    let wanted: BTreeSet<String> = desired.functions.iter().map(|f| f.name.clone()).collect();
    let role = match &desired.role {
        RoleChoice::Managed { name } => Some(name.as_str()),
        RoleChoice::External { .. } => None,
    };
    // Boxed, here and below: the futures of observing and applying are large, and callers'
    // (tests' threads among them) stacks are not.
    let mut observed = Box::pin(observe(clients, &desired.target, role, &wanted, true)).await?;
    let domain = desired.domain.as_ref().map(|d| d.name.as_str());
    observed.domains = state::observe_domains(clients, &desired.target, domain).await?;
    desired.check_domain(&observed)?;
    desired.check_policy_sizes(clients.region(), &observed)?;
    let plan = plan_deploy(desired, &observed, clients.region());
    Ok((observed, plan))
}

/// Reads everything of `target` and plans its removal.
pub async fn plan_for_removal(
    clients: &AwsClients,
    target: &Target,
) -> Result<(Observed, Plan), DeployError> {
    let mut observed = Box::pin(observe(
        clients,
        target,
        Some(&target.role_name()),
        &BTreeSet::new(),
        false,
    ))
    .await?;
    observed.domains = state::observe_domains(clients, target, None).await?;
    let plan = plan_remove(&observed);
    Ok((observed, plan))
}

/// Plans and applies a deploy in one go (no confirmation): what tests and embedders call.
pub async fn deploy(
    clients: &AwsClients,
    desired: &Desired,
) -> Result<(Plan, Applied), DeployError> {
    desired.verify_bundles()?;
    let (observed, plan) = Box::pin(plan_for_deploy(clients, desired)).await?;
    let applied = Box::pin(apply(clients, Some(desired), &observed, &plan)).await?;
    Ok((plan, applied))
}

/// Plans and applies a removal in one go (no confirmation).
pub async fn remove(clients: &AwsClients, target: &Target) -> Result<(Plan, Applied), DeployError> {
    let (observed, plan) = Box::pin(plan_for_removal(clients, target)).await?;
    let applied = Box::pin(apply(clients, None, &observed, &plan)).await?;
    Ok((plan, applied))
}
