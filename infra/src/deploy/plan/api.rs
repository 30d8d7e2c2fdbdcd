//! The HTTP API: one per app and stage. Observation orders the APIs so that the first is the
//! one to keep; any other is a duplicate.

use super::Action;
use crate::deploy::desired::Desired;
use crate::deploy::state::{Observed, ObservedApi};

/// Creates the API when there is none, and sets its CORS configuration when it differs
/// from the manifest's (removes it when the manifest has none).
pub(super) fn plan(desired: &Desired, api: Option<&ObservedApi>, actions: &mut Vec<Action>) {
    let wanted = desired.protections.cors.clone();
    match api {
        None => {
            actions.push(Action::CreateApi {
                name: desired.target.api_name(),
            });
            if wanted.is_some() {
                actions.push(Action::SetApiCors { cors: wanted });
            }
        }
        Some(api) if api.cors != wanted => actions.push(Action::SetApiCors { cors: wanted }),
        Some(_) => {}
    }
}

/// Deletes every API but the kept one.
pub(super) fn delete_duplicates(observed: &Observed, actions: &mut Vec<Action>) {
    for extra in observed.apis.iter().skip(1) {
        actions.push(Action::DeleteApi {
            id: extra.id.clone(),
            name: extra.name.clone(),
        });
    }
}
