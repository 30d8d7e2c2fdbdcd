//! The resource policy statement that lets the API invoke each function's `live` alias, scoped
//! to this API so that no other API can.

use super::Action;
use crate::deploy::desired::DesiredFunction;
use crate::deploy::state::{ObservedApi, ObservedFunction};

/// The invoke permission's `SourceArn`: any route and stage of this API.
pub fn api_source_arn(partition: &str, region: &str, account: &str, api_id: &str) -> String {
    format!("arn:{partition}:execute-api:{region}:{account}:{api_id}/*")
}

/// Adds the statement, or replaces one scoped to another API; nothing when it is right.
pub(super) fn plan(
    api: Option<&ObservedApi>,
    f: &DesiredFunction,
    existing: Option<&ObservedFunction>,
    alias_exists: bool,
    region: &str,
    actions: &mut Vec<Action>,
) {
    let wanted_source = match (api, existing) {
        (Some(api), Some(o)) => o
            .partition_and_account()
            .map(|(p, acct)| api_source_arn(p, region, acct, &api.id)),
        _ => None,
    };
    let current = existing.and_then(|o| o.permission_source.as_ref());
    match (alias_exists, current) {
        (true, Some(source)) if wanted_source.as_ref() == Some(source) => {}
        (true, Some(_)) => actions.push(Action::AddPermission {
            function: f.name.clone(),
            replace: true,
        }),
        _ => actions.push(Action::AddPermission {
            function: f.name.clone(),
            replace: false,
        }),
    }
}
