//! The execution role: nextr's own, with basic logging, and for an app with a `proxy.rs` the
//! inline policy letting its functions invoke each other (`deploy::rewrite`), unless the app
//! names a role.

use super::Action;
use crate::deploy::aws::partition;
use crate::deploy::desired::{Desired, RoleChoice, BASIC_EXECUTION_POLICY};
use crate::deploy::rewrite;
use crate::deploy::state::Observed;

/// The managed policy ARN of basic logging in a partition.
pub fn basic_execution_policy(partition: &str) -> String {
    format!("arn:{partition}:iam::aws:policy/{BASIC_EXECUTION_POLICY}")
}

/// Creates the managed role, or attaches the policy it lacks.
pub(super) fn plan(
    desired: &Desired,
    observed: &Observed,
    region: &str,
    actions: &mut Vec<Action>,
) {
    if let RoleChoice::Managed { name } = &desired.role {
        let part = observed
            .role
            .as_ref()
            .and_then(|r| r.arn.split(':').nth(1))
            .unwrap_or_else(|| partition(region));
        let policy_arn = basic_execution_policy(part);
        match &observed.role {
            None => {
                actions.push(Action::CreateRole { name: name.clone() });
                actions.push(Action::AttachRolePolicy {
                    role: name.clone(),
                    policy_arn,
                });
            }
            Some(role) if !role.attached.contains(&policy_arn) => {
                actions.push(Action::AttachRolePolicy {
                    role: name.clone(),
                    policy_arn,
                });
            }
            Some(_) => {}
        }
        invoke_policy(desired, observed, name, region, actions);
    }
}

/// The inline policy of an app with a `proxy.rs`: put when missing or when its document is
/// not the one wanted (in the role's account and partition, this region).
fn invoke_policy(
    desired: &Desired,
    observed: &Observed,
    role: &str,
    region: &str,
    actions: &mut Vec<Action>,
) {
    let Some(targets) = &desired.invoke else {
        return;
    };
    let current = observed
        .role
        .as_ref()
        .and_then(|r| r.invoke_policy.as_ref());
    let wanted = observed
        .role
        .as_ref()
        .and_then(|r| rewrite::partition_and_account(&r.arn))
        .map(|(partition, account)| rewrite::policy(partition, region, account, targets));
    if current.is_none() || current != wanted.as_ref() {
        actions.push(Action::PutInvokePolicy {
            role: role.to_owned(),
            targets: targets.clone(),
        });
    }
}

/// The inline policy of an app that no longer has a `proxy.rs`: deleted, last (the versions
/// being replaced may still rewrite until the aliases move).
pub(super) fn cleanup(desired: &Desired, observed: &Observed, actions: &mut Vec<Action>) {
    if desired.invoke.is_some() {
        return;
    }
    if let (RoleChoice::Managed { name }, Some(role)) = (&desired.role, &observed.role) {
        if role.invoke_policy.is_some() {
            actions.push(Action::DeleteInvokePolicy { role: name.clone() });
        }
    }
}
