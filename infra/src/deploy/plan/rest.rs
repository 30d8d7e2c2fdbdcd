//! A deploy behind a REST API: the role and functions as for an HTTP API, then the REST API,
//! its resource tree (parents first), an `ANY` method with a Lambda proxy integration per
//! keyed resource, a deployment and the stage on it, and deletions last.
//!
//! Resource and method deletions come before the deployment, so the new snapshot has them
//! too; the stage keeps serving the old deployment until it moves, so no prefix of the plan
//! breaks the live API. An app that switches from an HTTP API loses it only after the REST
//! stage is live.

use std::collections::BTreeMap;

use super::{function, function_url, role, Action};
use crate::deploy::desired::{Desired, DesiredFunction, ALIAS, PERMISSION_SID};
use crate::deploy::rest::{
    self, deployment_description, fingerprint, Preflight, RestResource, METHOD, PREFLIGHT_METHOD,
};
use crate::deploy::state::{
    Observed, ObservedFunction, ObservedMethod, ObservedResource, ObservedRestApi,
    ObservedRestIntegration,
};

/// The authorization of every method: the functions decide who may do what.
const AUTHORIZATION: &str = "NONE";

use crate::gateway::rest_api::BINARY_MEDIA_TYPES;

/// Plans a deploy of `desired` (a REST app) over `observed` in `region`.
pub(super) fn plan(
    desired: &Desired,
    observed: &Observed,
    region: &str,
    actions: &mut Vec<Action>,
) {
    role::plan(desired, observed, region, actions);
    super::logs::plan(desired, observed, actions);
    if observed.gateway_logs_role.is_none() {
        actions.push(Action::SetGatewayLogsRole {
            role: crate::deploy::logs::GATEWAY_LOGS_ROLE.to_owned(),
        });
    }
    let api = observed.rest_api();
    // Binary media types take effect on a stage only through a new deployment.
    let mut api_changed = false;
    match api {
        None => actions.push(Action::CreateRestApi {
            name: desired.target.api_name(),
        }),
        Some(api) => {
            let missing: Vec<String> = BINARY_MEDIA_TYPES
                .iter()
                .filter(|t| !api.binary_media_types.iter().any(|o| o == *t))
                .map(|t| t.to_string())
                .collect();
            if !missing.is_empty() {
                api_changed = true;
                actions.push(Action::AddBinaryMediaTypes {
                    id: api.id.clone(),
                    types: missing,
                });
            }
        }
    }
    super::domain::plan(desired, observed, actions);
    for f in &desired.functions {
        let existing = observed.functions.get(&f.name);
        let alias_exists = function::plan(desired, f, existing, actions);
        permission(api, f, existing, alias_exists, region, actions);
        function_url::plan(f, existing, actions);
    }
    resources(desired, observed, api, api_changed, region, actions);
    super::domain::plan_mapping(desired, observed, actions);
    super::domain::cleanup(desired, observed, actions);
    super::logs::cleanup(desired, observed, actions);
    function::delete_strays(desired, observed, actions);
    // The HTTP API of an app that switched, duplicates, and statements nothing needs, after
    // the REST stage is live.
    for http in &observed.apis {
        actions.push(Action::DeleteApi {
            id: http.id.clone(),
            name: http.name.clone(),
        });
    }
    for extra in observed.rest_apis.iter().skip(1) {
        actions.push(Action::DeleteRestApi {
            id: extra.id.clone(),
            name: extra.name.clone(),
        });
    }
    for f in &desired.functions {
        let existing = observed.functions.get(&f.name);
        if existing.is_some_and(|o| o.permission_source.is_some()) {
            actions.push(Action::RemovePermission {
                function: f.name.clone(),
                sid: PERMISSION_SID.to_string(),
            });
        }
        function_url::cleanup(f, existing, actions);
    }
    role::cleanup(desired, observed, region, actions);
}

/// The REST API's statement on the alias: added, or replaced when scoped elsewhere.
fn permission(
    api: Option<&ObservedRestApi>,
    f: &DesiredFunction,
    existing: Option<&ObservedFunction>,
    alias_exists: bool,
    region: &str,
    actions: &mut Vec<Action>,
) {
    let wanted = match (api, existing) {
        (Some(api), Some(o)) => o
            .partition_and_account()
            .map(|(p, acct)| rest::source_arn(p, region, acct, &api.id)),
        _ => None,
    };
    let current = existing.and_then(|o| o.rest_permission_source.as_ref());
    match (alias_exists, current) {
        (true, Some(source)) if wanted.as_ref() == Some(source) => {}
        (true, Some(_)) => actions.push(Action::AddRestPermission {
            function: f.name.clone(),
            replace: true,
        }),
        _ => actions.push(Action::AddRestPermission {
            function: f.name.clone(),
            replace: false,
        }),
    }
}

/// The URI a function's integration must have, when the function exists already.
fn wanted_uri(observed: &Observed, r: &RestResource, region: &str) -> Option<String> {
    let o = observed.functions.get(&r.function)?;
    let (partition, _) = o.partition_and_account()?;
    Some(rest::integration_uri(
        partition,
        region,
        &format!("{}:{ALIAS}", o.arn),
        r.mode,
    ))
}

/// Whether an integration is the Lambda proxy integration nextr wants.
fn integration_ok(
    i: Option<&ObservedRestIntegration>,
    uri: Option<&str>,
    r: &RestResource,
) -> bool {
    let (Some(i), Some(uri)) = (i, uri) else {
        return false;
    };
    i.integration_type.as_deref() == Some("AWS_PROXY")
        && i.http_method.as_deref() == Some("POST")
        && i.uri.as_deref() == Some(uri)
        // A server that does not report the transfer mode (moto) is judged by the URI, which
        // differs between the two modes.
        && i
            .transfer_mode
            .as_deref()
            .is_none_or(|m| m == rest::transfer_mode(r.mode))
        && i.timeout_ms.is_none_or(|t| t == r.timeout_ms)
}

/// Whether an `OPTIONS` method is the `MOCK` preflight nextr wants.
fn preflight_ok(m: &ObservedMethod, p: &Preflight) -> bool {
    let Some(i) = &m.integration else {
        return false;
    };
    let (content_type, template) = rest::MOCK_REQUEST_TEMPLATE;
    m.authorization_type.as_deref() == Some(AUTHORIZATION)
        && m.response_parameters == p.method_response_parameters()
        && i.integration_type.as_deref() == Some("MOCK")
        && i.request_templates.get(content_type).map(String::as_str) == Some(template)
        && i.response_parameters == p.integration_response_parameters()
}

/// The resource tree, methods, integrations, deletions, then deployment and stage.
fn resources(
    desired: &Desired,
    observed: &Observed,
    api: Option<&ObservedRestApi>,
    api_changed: bool,
    region: &str,
    actions: &mut Vec<Action>,
) {
    let observed_all = observed;
    let tree = desired.rest_resources();
    let preflight = desired.protections.rest_preflight();
    let existing: BTreeMap<&str, &ObservedResource> = api
        .map(|a| a.resources.iter().map(|r| (r.path.as_str(), r)).collect())
        .unwrap_or_default();
    let before = actions.len();

    // Parents first (the root comes with the API).
    let mut missing: Vec<&String> = tree
        .keys()
        .filter(|p| p.as_str() != "/" && !existing.contains_key(p.as_str()))
        .collect();
    missing.sort_by_key(|p| (rest::depth(p), p.as_str()));
    for path in missing {
        actions.push(Action::CreateResource { path: path.clone() });
    }

    for (path, wanted) in &tree {
        let methods = existing.get(path.as_str()).map(|r| &r.methods);
        let Some(r) = wanted else {
            // An intermediate resource serves nothing itself.
            for verb in methods.into_iter().flat_map(|m| m.keys()) {
                actions.push(Action::DeleteMethod {
                    path: path.clone(),
                    method: verb.clone(),
                });
            }
            continue;
        };
        let put_method = Action::PutMethod {
            path: path.clone(),
            function: r.function.clone(),
        };
        let put_integration = Action::PutIntegration {
            path: path.clone(),
            function: r.function.clone(),
            mode: r.mode,
        };
        match methods.and_then(|m| m.get(METHOD)) {
            None => actions.extend([put_method, put_integration]),
            Some(m) if m.authorization_type.as_deref() != Some(AUTHORIZATION) => {
                // A method's authorization cannot be put over: delete it first.
                actions.push(Action::DeleteMethod {
                    path: path.clone(),
                    method: METHOD.to_string(),
                });
                actions.extend([put_method, put_integration]);
            }
            Some(m) => {
                let uri = wanted_uri(observed, r, region);
                if !integration_ok(m.integration.as_ref(), uri.as_deref(), r) {
                    actions.push(put_integration);
                }
            }
        }
        // `[cors]`: the MOCK preflight beside `ANY` (API Gateway picks the explicit method).
        // An `OPTIONS` here is nextr's: routes are served through `ANY` only.
        let options = methods.and_then(|m| m.get(PREFLIGHT_METHOD));
        match (&preflight, options) {
            (Some(p), None) => actions.push(Action::PutPreflight {
                path: path.clone(),
                preflight: p.clone(),
                replace: false,
            }),
            (Some(p), Some(m)) if !preflight_ok(m, p) => actions.push(Action::PutPreflight {
                path: path.clone(),
                preflight: p.clone(),
                replace: true,
            }),
            (Some(_), Some(_)) | (None, None) => {}
            (None, Some(_)) => actions.push(Action::DeletePreflight { path: path.clone() }),
        }
        for verb in methods.into_iter().flat_map(|m| m.keys()) {
            if verb != METHOD && verb != PREFLIGHT_METHOD {
                actions.push(Action::DeleteMethod {
                    path: path.clone(),
                    method: verb.clone(),
                });
            }
        }
    }

    // Children first.
    let mut stray: Vec<&ObservedResource> = existing
        .values()
        .filter(|r| r.path != "/" && !tree.contains_key(&r.path))
        .copied()
        .collect();
    stray.sort_by_key(|r| (std::cmp::Reverse(rest::depth(&r.path)), r.path.as_str()));
    for r in stray {
        actions.push(Action::DeleteResource {
            id: r.id.clone(),
            path: r.path.clone(),
        });
    }

    // A new deployment when anything changed (the API's settings included), or when the
    // stage does not serve this tree (a deploy interrupted before the stage moved).
    let stage = desired.target.stage();
    let description = deployment_description(&fingerprint(&tree, preflight.as_ref()));
    let serving = api
        .and_then(|a| a.stage_deployment(stage))
        .and_then(|d| d.description.as_deref());
    if api_changed || actions.len() > before || serving != Some(description.as_str()) {
        actions.push(Action::CreateDeployment { description });
        let stage = stage.to_string();
        if api.and_then(|a| a.stage(&stage)).is_some() {
            actions.push(Action::UpdateRestStage { stage });
        } else {
            actions.push(Action::CreateRestStage { stage });
        }
        // Once the stage moved, no stage serves the old deployments (nor any an interrupted
        // run left behind). Only with a new deployment: a no-change deploy changes nothing.
        if let Some(api) = api {
            let ids: Vec<String> = api
                .deployments
                .iter()
                .filter(|d| {
                    !api.stages.iter().any(|s| {
                        s.name != desired.target.stage()
                            && s.deployment_id.as_deref() == Some(d.id.as_str())
                    })
                })
                .map(|d| d.id.clone())
                .collect();
            if !ids.is_empty() {
                actions.push(Action::DeleteDeployments { ids });
            }
        }
    }

    // Throttling lives on the stage, not in the deployment: set apart, after the stage exists.
    let wanted = desired.protections.rest_method_throttles();
    let observed = api
        .and_then(|a| a.stage(stage))
        .map(|s| s.method_throttles.clone())
        .unwrap_or_default();
    let set: BTreeMap<String, _> = wanted
        .iter()
        .filter(|(k, t)| observed.get(*k) != Some(t))
        .map(|(k, t)| (k.clone(), *t))
        .collect();
    let remove: Vec<String> = observed
        .keys()
        .filter(|k| !wanted.contains_key(*k))
        .cloned()
        .collect();
    if !set.is_empty() || !remove.is_empty() {
        actions.push(Action::SetRestThrottle {
            stage: stage.to_string(),
            set,
            remove,
        });
    }
    // Access logs too: a stage is created without them (CreateStage takes none).
    let current = api
        .and_then(|a| a.stage(stage))
        .and_then(|s| s.access_logs.as_ref());
    let wanted = super::logs::wanted_access_logs(desired, observed_all, region);
    if current.is_none() || wanted.is_some_and(|w| current != Some(&w)) {
        actions.push(Action::SetRestAccessLogs {
            stage: stage.to_string(),
        });
    }
}
