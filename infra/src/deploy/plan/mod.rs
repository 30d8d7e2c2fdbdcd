//! Desired (from the manifest) against observed (from AWS) → an ordered list of actions.
//!
//! The plan is a pure function of the two states, so a no-change deploy plans nothing and a
//! re-run after an interruption plans exactly what is still missing. The order is the order
//! of application: role, API, then per function (code, version, alias, integration,
//! permission), then routes and stage, and deletions last, children before parents, so every
//! prefix of the plan leaves a working API.
//!
//! | module | what it plans |
//! |---|---|
//! | [`Action`] | the vocabulary: one change to one resource |
//! | [`ActionSummary`] | an action as facts for people: effect, resource, name, change |
//! | `role` | the execution role and its policy |
//! | `api` | the HTTP API, and deleting duplicates |
//! | `function` | each function's code, configuration, version and alias |
//! | `integration` | each function's integration |
//! | `permission` | the API's permission to invoke each alias |
//! | `route` | one route per route key |
//! | `stage` | the `$default` stage |

mod action;
mod api;
mod function;
mod integration;
mod permission;
mod role;
mod route;
mod stage;
mod summary;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;
use std::fmt;

use super::desired::Desired;
use super::state::Observed;

pub use action::Action;
pub use function::{config_diff, version_matches};
pub use integration::kept_integration;
pub use permission::api_source_arn;
pub use role::basic_execution_policy;
pub use summary::{ActionSummary, Effect, ResourceKind};

/// An ordered list of actions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// In the order they are applied.
    pub actions: Vec<Action>,
}

impl Plan {
    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    /// How many actions delete something.
    pub fn destructive(&self) -> usize {
        self.actions.iter().filter(|a| a.is_destructive()).count()
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for a in &self.actions {
            writeln!(f, "{a}")?;
        }
        Ok(())
    }
}

/// Plans a deploy of `desired` over `observed` in `region`.
pub fn plan_deploy(desired: &Desired, observed: &Observed, region: &str) -> Plan {
    let mut actions = Vec::new();
    let api = observed.api();

    role::plan(desired, observed, region, &mut actions);
    api::plan(desired, api, &mut actions);

    let mut kept_integrations = BTreeSet::new();
    for f in &desired.functions {
        let existing = observed.functions.get(&f.name);
        let alias_exists = function::plan(desired, f, existing, &mut actions);
        integration::plan(api, f, &mut kept_integrations, &mut actions);
        permission::plan(api, f, existing, alias_exists, region, &mut actions);
    }

    let kept_routes = route::plan(desired, api, &mut actions);
    stage::plan(api, &mut actions);

    // Deletions, children first: routes, then integrations no route uses any more, then
    // functions, then any duplicate API.
    if let Some(api) = api {
        route::delete_unused(api, &kept_routes, &mut actions);
        integration::delete_unused(api, &kept_integrations, &mut actions);
    }
    function::delete_strays(desired, observed, &mut actions);
    api::delete_duplicates(observed, &mut actions);
    Plan { actions }
}

/// Plans the removal of everything observed: APIs (with their routes, integrations and
/// stages), functions (with versions, aliases and permissions), then the managed role.
pub fn plan_remove(observed: &Observed) -> Plan {
    let mut actions = Vec::new();
    for api in &observed.apis {
        actions.push(Action::DeleteApi {
            id: api.id.clone(),
            name: api.name.clone(),
        });
    }
    for name in observed.functions.keys() {
        actions.push(Action::DeleteFunction {
            function: name.clone(),
        });
    }
    if let Some(role) = &observed.role {
        for policy_arn in &role.attached {
            actions.push(Action::DetachRolePolicy {
                role: role.name.clone(),
                policy_arn: policy_arn.clone(),
            });
        }
        actions.push(Action::DeleteRole {
            name: role.name.clone(),
        });
    }
    Plan { actions }
}
