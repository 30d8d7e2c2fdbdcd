//! The app's log groups: each function's (`/aws/lambda/<function>`) and the gateway's access
//! log group, with their retention. Read by name prefix (`DescribeLogGroups`), one listing
//! for every function named after the app: a log group is the app's when it is named for one
//! of the app's functions (Lambda creates untagged ones itself) or is its access log group.

use std::collections::{BTreeMap, BTreeSet};

use super::all_pages;
use crate::deploy::failure::AwsFailure;
use crate::deploy::logs::{access_log_group, function_log_group};
use crate::deploy::{AwsClients, DeployError, Target};

/// The retention of each existing log group of `names` (full log group names); `None`:
/// events never expire.
pub(super) async fn observe_log_groups(
    clients: &AwsClients,
    target: &Target,
    functions: &BTreeSet<String>,
) -> Result<BTreeMap<String, Option<i32>>, DeployError> {
    let mut names: BTreeSet<String> = functions.iter().map(|f| function_log_group(f)).collect();
    names.insert(access_log_group(target));
    // One listing covers every function named after the app (what `nextr build` names); a
    // function of a hand-made manifest gets its own.
    let app_prefix = function_log_group(target.app());
    let mut prefixes: BTreeSet<String> = names
        .iter()
        .filter(|n| !n.starts_with(&app_prefix))
        .cloned()
        .collect();
    if names.iter().any(|n| n.starts_with(&app_prefix)) {
        prefixes.insert(app_prefix);
    }
    let mut found = BTreeMap::new();
    for prefix in &prefixes {
        let groups = all_pages(|token| async move {
            let out = clients
                .logs
                .describe_log_groups()
                .log_group_name_prefix(prefix)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| {
                    DeployError::aws(
                        "listing",
                        format!("log groups {prefix}*"),
                        AwsFailure::of(&e),
                    )
                })?;
            let items: Vec<(String, Option<i32>)> = out
                .log_groups()
                .iter()
                .filter_map(|g| Some((g.log_group_name()?.to_owned(), g.retention_in_days())))
                .collect();
            Ok((items, out.next_token().map(str::to_owned)))
        })
        .await?;
        found.extend(groups.into_iter().filter(|(n, _)| names.contains(n)));
    }
    Ok(found)
}
