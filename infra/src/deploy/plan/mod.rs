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
//! | `role` | the execution roles (the app's, the functions' own) and their inline policies (logs, invoke, access) |
//! | `logs` | the log groups of the functions and the access log group |
//! | `api` | the HTTP API, and deleting duplicates |
//! | `function` | each function's code, configuration, version and alias |
//! | `integration` | each function's integration |
//! | `permission` | the API's permission to invoke each alias |
//! | `route` | one route per route key |
//! | `stage` | the `$default` stage |
//! | `domain` | the custom domain and its mapping to the stage |
//! | `rest` | everything of a REST API: the API, resources, methods, integrations, permissions, deployment, stage |
//! | `function_url` | each function's URL and its public statements |
//!
//! Both kinds plan the other kind's API (and its statements on the aliases) away at the end,
//! once their own API is live: switching `gateway` in `nextr.toml` is one deploy.

mod action;
mod api;
mod domain;
mod function;
mod function_url;
mod integration;
mod logs;
mod permission;
mod rest;
#[cfg(test)]
mod rest_tests;
mod role;
mod route;
mod stage;
mod summary;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;
use std::fmt;

use nextr::manifest::GatewayKind;

use super::desired::Desired;
use super::rest::REST_PERMISSION_SID;
use super::state::Observed;

pub use action::Action;
pub use function::{config_diff, version_matches};
pub use function_url::RESPONSE_STREAM;
pub use integration::kept_integration;
pub use permission::api_source_arn;
pub use role::basic_execution_policy;
pub(crate) use role::placeholders;
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
    match desired.gateway {
        GatewayKind::Http => plan_http(desired, observed, region, &mut actions),
        GatewayKind::Rest => rest::plan(desired, observed, region, &mut actions),
    }
    Plan { actions }
}

/// A deploy behind an HTTP API.
fn plan_http(desired: &Desired, observed: &Observed, region: &str, actions: &mut Vec<Action>) {
    let api = observed.api();

    role::plan(desired, observed, region, actions);
    logs::plan(desired, observed, actions);
    api::plan(desired, api, actions);
    domain::plan(desired, observed, actions);

    let mut kept_integrations = BTreeSet::new();
    for f in &desired.functions {
        let existing = observed.functions.get(&f.name);
        let alias_exists = function::plan(desired, f, existing, actions);
        integration::plan(api, f, &mut kept_integrations, actions);
        permission::plan(api, f, existing, alias_exists, region, actions);
        function_url::plan(f, existing, actions);
    }

    let kept_routes = route::plan(desired, api, actions);
    let access_logs = logs::wanted_access_logs(desired, observed, region);
    stage::plan(desired, api, access_logs.as_ref(), actions);
    domain::plan_mapping(desired, observed, actions);

    // Deletions, children first: routes, then integrations no route uses any more, then
    // functions, then any duplicate API, then the REST API of an app that switched and the
    // statements nothing needs any more.
    if let Some(api) = api {
        route::delete_unused(api, &kept_routes, actions);
        integration::delete_unused(api, &kept_integrations, actions);
    }
    domain::cleanup(desired, observed, actions);
    logs::cleanup(desired, observed, actions);
    function::delete_strays(desired, observed, actions);
    api::delete_duplicates(observed, actions);
    for rest_api in &observed.rest_apis {
        actions.push(Action::DeleteRestApi {
            id: rest_api.id.clone(),
            name: rest_api.name.clone(),
        });
    }
    for f in &desired.functions {
        let existing = observed.functions.get(&f.name);
        if existing.is_some_and(|o| o.rest_permission_source.is_some()) {
            actions.push(Action::RemovePermission {
                function: f.name.clone(),
                sid: REST_PERMISSION_SID.to_string(),
            });
        }
        function_url::cleanup(f, existing, actions);
    }
    role::cleanup(desired, observed, region, actions);
}

/// Plans the removal of everything observed: the stage's custom domains, APIs of both kinds (with everything in them),
/// log groups (before their functions, so an interrupted removal finds them again), functions
/// (with versions, aliases, permissions and URLs), then the managed role.
pub fn plan_remove(observed: &Observed) -> Plan {
    let mut actions = Vec::new();
    for d in observed.domains.iter().filter(|d| d.owned) {
        domain::delete(d, &mut actions);
    }
    for api in &observed.rest_apis {
        actions.push(Action::DeleteRestApi {
            id: api.id.clone(),
            name: api.name.clone(),
        });
    }
    for api in &observed.apis {
        actions.push(Action::DeleteApi {
            id: api.id.clone(),
            name: api.name.clone(),
        });
    }
    for name in observed.log_groups.keys() {
        actions.push(Action::DeleteLogGroup { name: name.clone() });
    }
    for name in observed.functions.keys() {
        actions.push(Action::DeleteFunction {
            function: name.clone(),
        });
    }
    // The functions' own roles, then the app's.
    for role in observed.own_roles.values().chain(&observed.role) {
        role::delete(role, &mut actions);
    }
    Plan { actions }
}
