//! The `$default` stage, with auto-deploy so that route changes go live without a deployment.

use super::Action;
use crate::deploy::desired::API_STAGE;
use crate::deploy::state::ObservedApi;

/// Creates the stage, or turns its auto-deploy back on.
pub(super) fn plan(api: Option<&ObservedApi>, actions: &mut Vec<Action>) {
    match api.and_then(|a| a.stages.iter().find(|s| s.name == API_STAGE)) {
        None => actions.push(Action::CreateStage),
        Some(s) if !s.auto_deploy => actions.push(Action::UpdateStage),
        Some(_) => {}
    }
}
