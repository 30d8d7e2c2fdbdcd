//! The execution role: nextr's own, allowed to write its functions' own log groups (inline
//! policy `nextr-logs`, see `deploy::logs`), and for an app with a `proxy.rs` the inline policy
//! letting its functions invoke each other (`deploy::rewrite`), unless the app names a role.
//! A role made by an older nextr has `AWSLambdaBasicExecutionRole` attached (logs anywhere in
//! the account): it is detached once `nextr-logs` is in place.

use super::Action;
use crate::deploy::aws::partition;
use crate::deploy::desired::{Desired, RoleChoice, BASIC_EXECUTION_POLICY};
use crate::deploy::rewrite;
use crate::deploy::state::Observed;

/// The managed policy ARN of basic logging in a partition (what roles of older nextr
/// versions have attached).
pub fn basic_execution_policy(partition: &str) -> String {
    format!("arn:{partition}:iam::aws:policy/{BASIC_EXECUTION_POLICY}")
}

/// Creates the managed role, or puts the logs policy it lacks.
pub(super) fn plan(
    desired: &Desired,
    observed: &Observed,
    region: &str,
    actions: &mut Vec<Action>,
) {
    if let RoleChoice::Managed { name } = &desired.role {
        if observed.role.is_none() {
            actions.push(Action::CreateRole { name: name.clone() });
        }
        if super::logs::policy_differs(desired, observed, region) {
            actions.push(Action::PutLogsPolicy {
                role: name.clone(),
                targets: desired.log_writers.clone(),
            });
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
/// being replaced may still rewrite until the aliases move); and the basic execution policy
/// of a role made by an older nextr, detached once `nextr-logs` is there.
pub(super) fn cleanup(
    desired: &Desired,
    observed: &Observed,
    region: &str,
    actions: &mut Vec<Action>,
) {
    let (RoleChoice::Managed { name }, Some(role)) = (&desired.role, &observed.role) else {
        return;
    };
    if desired.invoke.is_none() && role.invoke_policy.is_some() {
        actions.push(Action::DeleteInvokePolicy { role: name.clone() });
    }
    let part = role
        .arn
        .split(':')
        .nth(1)
        .unwrap_or_else(|| partition(region));
    let basic = basic_execution_policy(part);
    if role.attached.contains(&basic) {
        actions.push(Action::DetachRolePolicy {
            role: name.clone(),
            policy_arn: basic,
        });
    }
}
