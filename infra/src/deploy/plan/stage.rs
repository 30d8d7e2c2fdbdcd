//! The `$default` stage, with auto-deploy so that route changes go live without a deployment,
//! the throttling the manifest sets (its default route settings and per-route settings), and
//! access logs to the app's access log group.

use std::collections::BTreeMap;

use super::Action;
use crate::deploy::desired::{Desired, API_STAGE};
use crate::deploy::state::ObservedApi;

/// Creates the stage (with the throttling and access logs wanted), or turns its auto-deploy
/// back on and brings its throttling to the manifest's (changed settings set, removed ones
/// deleted) and its access logs to `access_logs` (when known: see
/// `logs::wanted_access_logs`).
pub(super) fn plan(
    desired: &Desired,
    api: Option<&ObservedApi>,
    access_logs: Option<&(String, String)>,
    actions: &mut Vec<Action>,
) {
    let wanted = &desired.protections;
    let Some(stage) = api.and_then(|a| a.stages.iter().find(|s| s.name == API_STAGE)) else {
        actions.push(Action::CreateStage);
        return;
    };
    if !stage.auto_deploy {
        actions.push(Action::UpdateStage);
    }
    if access_logs.is_some_and(|wanted| stage.access_logs.as_ref() != Some(wanted)) {
        actions.push(Action::SetStageAccessLogs);
    }
    let routes: BTreeMap<String, _> = wanted
        .route_throttles
        .iter()
        .filter(|(k, t)| stage.route_throttles.get(*k) != Some(t))
        .map(|(k, t)| (k.clone(), *t))
        .collect();
    if stage.throttle != wanted.throttle || !routes.is_empty() {
        actions.push(Action::SetStageThrottle {
            default: wanted.throttle,
            routes,
        });
    }
    for key in stage.route_throttles.keys() {
        if !wanted.route_throttles.contains_key(key) {
            actions.push(Action::DeleteRouteSettings { key: key.clone() });
        }
    }
}
