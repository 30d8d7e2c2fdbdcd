//! The execution roles nextr manages, unless the app names one: the app's, and one per
//! function whose route has permissions or secrets of its own (`deploy::access`). Each has up
//! to three inline policies, each put when missing or different and deleted when no longer
//! wanted: `nextr-logs` (writing the log groups of the functions running as it, see
//! `deploy::logs`), `nextr-invoke` (an app with a `proxy.rs`, `deploy::rewrite`) and
//! `nextr-access` (`nextr.toml`'s permissions and secrets). A role made by an older nextr has
//! `AWSLambdaBasicExecutionRole` attached (logs anywhere in the account): it is detached once
//! `nextr-logs` is in place.
//!
//! Roles are created and their policies put first (before any function is created on, or
//! moved to, one); a role no function runs as any more is deleted last, after the functions
//! moved off it.

use serde_json::Value;

use super::Action;
use crate::deploy::access::{self, Placeholders};
use crate::deploy::aws::partition;
use crate::deploy::desired::{Desired, ManagedRole, RoleChoice, BASIC_EXECUTION_POLICY};
use crate::deploy::rewrite;
use crate::deploy::state::{Observed, ObservedRole};

/// The managed policy ARN of basic logging in a partition (what roles of older nextr
/// versions have attached).
pub fn basic_execution_policy(partition: &str) -> String {
    format!("arn:{partition}:iam::aws:policy/{BASIC_EXECUTION_POLICY}")
}

/// Whether an inline policy must be put: it is missing, or its document is not the one
/// wanted (`wanted` is `None` when the role's account is not known yet: a new role).
fn differs(current: Option<&Value>, wanted: Option<&Value>) -> bool {
    current.is_none() || current != wanted
}

/// What fills the statements' placeholders for a role: its partition and account (or, for a
/// role not made yet, the app's, else the placeholders as they are), the deploy's region.
pub(crate) fn placeholders(
    desired: &Desired,
    region: &str,
    partition_and_account: Option<(&str, &str)>,
) -> Placeholders {
    let (partition, account) = partition_and_account.unwrap_or(("{partition}", "{account}"));
    Placeholders {
        partition: partition.to_owned(),
        region: region.to_owned(),
        account: account.to_owned(),
        app: desired.target.app().to_owned(),
        stage: desired.target.stage().to_owned(),
    }
}

/// Creates the managed roles that are missing and puts the inline policies they lack.
pub(super) fn plan(
    desired: &Desired,
    observed: &Observed,
    region: &str,
    actions: &mut Vec<Action>,
) {
    for role in desired.managed_roles() {
        let current = observed.managed_role(&role.name);
        if current.is_none() {
            actions.push(Action::CreateRole {
                name: role.name.clone(),
            });
        }
        let known = current.and_then(|r| rewrite::partition_and_account(&r.arn));
        let wanted_logs =
            known.map(|(p, a)| crate::deploy::logs::policy(p, region, a, &role.log_writers));
        if differs(
            current.and_then(|r| r.logs_policy.as_ref()),
            wanted_logs.as_ref(),
        ) {
            actions.push(Action::PutLogsPolicy {
                role: role.name.clone(),
                targets: role.log_writers.clone(),
            });
        }
        if let Some(targets) = &desired.invoke {
            let wanted = known.map(|(p, a)| rewrite::policy(p, region, a, targets));
            if differs(
                current.and_then(|r| r.invoke_policy.as_ref()),
                wanted.as_ref(),
            ) {
                actions.push(Action::PutInvokePolicy {
                    role: role.name.clone(),
                    targets: targets.clone(),
                });
            }
        }
        access_policy(desired, observed, &role, current, region, actions);
    }
}

/// `nextr-access`, when the role has statements: put with the statements it adds and
/// removes, as the plan shows them.
fn access_policy(
    desired: &Desired,
    observed: &Observed,
    role: &ManagedRole,
    current: Option<&ObservedRole>,
    region: &str,
    actions: &mut Vec<Action>,
) {
    if role.access.is_empty() {
        return;
    }
    let own = current.and_then(|r| rewrite::partition_and_account(&r.arn));
    // A new role is in the app's account: its statements are shown filled from there.
    let places = placeholders(desired, region, own.or(observed.partition_and_account()));
    let wanted = access::document(&role.access, &places);
    let current_doc = current.and_then(|r| r.access_policy.as_ref());
    if own.is_none() || current_doc != Some(&wanted) {
        let (added, removed) = access::diff(current_doc, &wanted);
        actions.push(Action::PutAccessPolicy {
            role: role.name.clone(),
            statements: role.access.clone(),
            added,
            removed,
        });
    }
}

/// Deletes everything of a role, then the role: IAM refuses to delete a role that still has
/// inline or attached policies.
pub(super) fn delete(role: &ObservedRole, actions: &mut Vec<Action>) {
    if role.logs_policy.is_some() {
        actions.push(Action::DeleteLogsPolicy {
            role: role.name.clone(),
        });
    }
    if role.invoke_policy.is_some() {
        actions.push(Action::DeleteInvokePolicy {
            role: role.name.clone(),
        });
    }
    if role.access_policy.is_some() {
        actions.push(Action::DeleteAccessPolicy {
            role: role.name.clone(),
        });
    }
    for policy_arn in &role.attached {
        actions.push(Action::DetachRolePolicy {
            role: role.name.clone(),
            policy_arn: policy_arn.clone(),
        });
    }
    actions.push(Action::DeleteRole {
        name: role.name.clone(),
    });
}

/// Last (the versions being replaced may still need them until the aliases move): the inline
/// policies no longer wanted (`nextr-invoke` of an app without a `proxy.rs` any more,
/// `nextr-access` of a role left without statements), the basic execution policy of a role
/// made by an older nextr, and the own roles no function runs as any more.
pub(super) fn cleanup(
    desired: &Desired,
    observed: &Observed,
    region: &str,
    actions: &mut Vec<Action>,
) {
    if !matches!(desired.role, RoleChoice::Managed { .. }) {
        return;
    }
    let roles = desired.managed_roles();
    for role in &roles {
        let Some(current) = observed.managed_role(&role.name) else {
            continue;
        };
        if desired.invoke.is_none() && current.invoke_policy.is_some() {
            actions.push(Action::DeleteInvokePolicy {
                role: role.name.clone(),
            });
        }
        if role.access.is_empty() && current.access_policy.is_some() {
            actions.push(Action::DeleteAccessPolicy {
                role: role.name.clone(),
            });
        }
        let part = current
            .arn
            .split(':')
            .nth(1)
            .unwrap_or_else(|| partition(region));
        let basic = basic_execution_policy(part);
        if current.attached.contains(&basic) {
            actions.push(Action::DetachRolePolicy {
                role: role.name.clone(),
                policy_arn: basic,
            });
        }
    }
    for (name, current) in &observed.own_roles {
        if !roles.iter().any(|r| &r.name == name) {
            delete(current, actions);
        }
    }
}
