//! The HTTP API: one per app and stage. Observation orders the APIs so that the first is the
//! one to keep; any other is a duplicate.

use super::Action;
use crate::deploy::desired::Desired;
use crate::deploy::state::{Observed, ObservedApi};

/// Creates the API when there is none.
pub(super) fn plan(desired: &Desired, api: Option<&ObservedApi>, actions: &mut Vec<Action>) {
    if api.is_none() {
        actions.push(Action::CreateApi {
            name: desired.target.api_name(),
        });
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
