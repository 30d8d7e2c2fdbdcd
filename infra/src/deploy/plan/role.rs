//! The execution role: nextr's own, with only basic logging, unless the app names a role.

use super::Action;
use crate::deploy::aws::partition;
use crate::deploy::desired::{Desired, RoleChoice, BASIC_EXECUTION_POLICY};
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
    }
}
