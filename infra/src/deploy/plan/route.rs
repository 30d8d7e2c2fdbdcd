//! Routes: one per route key of the manifest, pointing at the kept integration of its
//! function. A duplicate of a kept route, or a route of a key no longer wanted, is deleted.

use std::collections::BTreeSet;

use super::integration::kept_integration;
use super::Action;
use crate::deploy::desired::Desired;
use crate::deploy::state::ObservedApi;

/// Creates or re-points each wanted route; returns the ids of the routes kept.
pub(super) fn plan(
    desired: &Desired,
    api: Option<&ObservedApi>,
    actions: &mut Vec<Action>,
) -> BTreeSet<String> {
    let mut kept = BTreeSet::new();
    for f in &desired.functions {
        let integration = api
            .and_then(|a| kept_integration(a, f))
            .map(|i| i.id.as_str());
        for key in &f.route_keys {
            let existing: Vec<_> = api
                .map(|a| a.routes.iter().filter(|r| &r.key == key).collect())
                .unwrap_or_default();
            let keep = existing
                .iter()
                .find(|r| integration.is_some() && r.integration_id() == integration)
                .or_else(|| existing.first());
            match keep {
                None => actions.push(Action::CreateRoute {
                    key: key.clone(),
                    function: f.name.clone(),
                }),
                Some(r) => {
                    kept.insert(r.id.clone());
                    if integration.is_none() || r.integration_id() != integration {
                        actions.push(Action::UpdateRoute {
                            id: r.id.clone(),
                            key: key.clone(),
                            function: f.name.clone(),
                        });
                    }
                }
            }
        }
    }
    kept
}

/// Deletes the routes of `api` that were not kept.
pub(super) fn delete_unused(api: &ObservedApi, kept: &BTreeSet<String>, actions: &mut Vec<Action>) {
    for r in &api.routes {
        if !kept.contains(&r.id) {
            actions.push(Action::DeleteRoute {
                id: r.id.clone(),
                key: r.key.clone(),
            });
        }
    }
}
