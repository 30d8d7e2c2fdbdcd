//! Each function's integration: `AWS_PROXY` to its `live` alias, payload format 2.0, API
//! Gateway's maximum timeout. Integrations no kept route needs are deleted.

use std::collections::BTreeSet;

use super::Action;
use crate::deploy::desired::{DesiredFunction, INTEGRATION_TIMEOUT_MS};
use crate::deploy::state::{ObservedApi, ObservedIntegration};

/// Whether an integration has nextr's settings.
fn integration_ok(i: &ObservedIntegration) -> bool {
    i.integration_type.as_deref() == Some("AWS_PROXY")
        && i.payload_format_version.as_deref() == Some("2.0")
        && i.timeout_ms.is_none_or(|t| t == INTEGRATION_TIMEOUT_MS)
}

/// The integration deploy keeps for a function: one targeting its alias, preferably one a
/// route of the function already uses, so nothing has to be re-pointed.
pub fn kept_integration<'a>(
    api: &'a ObservedApi,
    f: &DesiredFunction,
) -> Option<&'a ObservedIntegration> {
    let candidates: Vec<&ObservedIntegration> = api
        .integrations
        .iter()
        .filter(|i| i.function_name() == Some(f.name.as_str()))
        .collect();
    candidates
        .iter()
        .find(|i| {
            api.routes
                .iter()
                .any(|r| r.integration_id() == Some(i.id.as_str()) && f.route_keys.contains(&r.key))
        })
        .or_else(|| candidates.first())
        .copied()
}

/// Creates the function's integration, or fixes the kept one's settings; records which one
/// is kept in `kept`.
pub(super) fn plan(
    api: Option<&ObservedApi>,
    f: &DesiredFunction,
    kept: &mut BTreeSet<String>,
    actions: &mut Vec<Action>,
) {
    match api.and_then(|a| kept_integration(a, f)) {
        None => actions.push(Action::CreateIntegration {
            function: f.name.clone(),
        }),
        Some(i) => {
            kept.insert(i.id.clone());
            if !integration_ok(i) {
                actions.push(Action::UpdateIntegration {
                    id: i.id.clone(),
                    function: f.name.clone(),
                });
            }
        }
    }
}

/// Deletes the integrations of `api` that no function keeps.
pub(super) fn delete_unused(api: &ObservedApi, kept: &BTreeSet<String>, actions: &mut Vec<Action>) {
    for i in &api.integrations {
        if !kept.contains(&i.id) {
            actions.push(Action::DeleteIntegration {
                id: i.id.clone(),
                uri: i.uri.clone().unwrap_or_default(),
            });
        }
    }
}
