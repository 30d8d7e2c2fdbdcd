//! The log groups: each function's and the gateway's access log group, created with the
//! manifest's retention (before the functions can write, and before the stage points its
//! access logs at one), their retention brought back to the manifest's, and the groups of
//! functions deploy deletes deleted with them. Also what the stages' access log settings
//! should be.

use super::Action;
use crate::deploy::desired::Desired;
use crate::deploy::logs::{access_log_format, access_log_group, log_group_arn};
use crate::deploy::state::Observed;

/// Creates the missing groups and sets the retention of those that differ.
pub(super) fn plan(desired: &Desired, observed: &Observed, actions: &mut Vec<Action>) {
    for (name, days) in desired.log_groups() {
        match observed.log_groups.get(&name) {
            None => actions.push(Action::CreateLogGroup {
                name,
                retention_days: days,
            }),
            Some(current) if *current != i32::try_from(days).ok() => {
                actions.push(Action::SetLogRetention {
                    name,
                    from: *current,
                    to: days,
                })
            }
            Some(_) => {}
        }
    }
}

/// Deletes the groups of functions that are going away (before the functions: a group
/// outliving its function would never be found again).
pub(super) fn cleanup(desired: &Desired, observed: &Observed, actions: &mut Vec<Action>) {
    let wanted = desired.log_groups();
    for name in observed.log_groups.keys() {
        if !wanted.contains_key(name) {
            actions.push(Action::DeleteLogGroup { name: name.clone() });
        }
    }
}

/// The access log settings the stage should have (destination ARN, format), when the
/// account is known (from the role or a function); `None` before anything exists, when the
/// stage is created with them anyway.
pub(super) fn wanted_access_logs(
    desired: &Desired,
    observed: &Observed,
    region: &str,
) -> Option<(String, String)> {
    let (partition, account) = observed.partition_and_account()?;
    let group = access_log_group(&desired.target);
    Some((
        log_group_arn(partition, region, account, &group),
        access_log_format(desired.gateway).to_owned(),
    ))
}
