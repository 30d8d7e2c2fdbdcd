//! Executes a plan with the AWS SDK.
//!
//! Phases: role, API, then each function's chain (create or update, wait for Lambda to
//! settle, publish, alias, integration, permission; four functions at a time), then routes,
//! the stage, and deletions. Every step is safe to repeat: deletes treat "not found" as
//! done, and anything an interruption leaves half-made is found again by the next
//! observation.
//!
//! | module | what it carries out |
//! |---|---|
//! | `role` | the execution roles, their managed policies and inline policies (one helper for the three) |
//! | `logs` | log groups, a role's logs policy, stages' access logs, the account's CloudWatch role |
//! | `api` | the HTTP API |
//! | `chain` | each function's actions in order, four functions at a time |
//! | `function` | a function's code, configuration, versions and alias |
//! | `settle` | waiting for Lambda to finish an update, and retrying what needs time |
//! | `integration` | a function's integration |
//! | `permission` | the API's permission to invoke an alias |
//! | `route` | routes |
//! | `stage` | the `$default` stage |
//! | `rest` | the REST API, its resources, methods, integrations, deployments and stage |
//! | `function_url` | function URLs |
//! | `domain` | the custom domain and its mappings |

mod api;
mod chain;
mod domain;
mod function;
mod function_url;
mod integration;
mod logs;
mod permission;
mod rest;
mod role;
mod route;
mod settle;
mod stage;

pub(crate) use function::update_alias;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use nextr::manifest::GatewayKind;

use super::desired::{Desired, RoleChoice};
use super::failure::AwsFailure;
use super::plan::{kept_integration, Action, Plan};
use super::state::Observed;
use super::{AwsClients, DeployError, Target};

/// One action that was carried out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The action.
    pub action: Action,
    /// What came of it, when there is something to say ("version 3").
    pub detail: Option<String>,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.action)?;
        if let Some(d) = &self.detail {
            write!(f, " ({d})")?;
        }
        Ok(())
    }
}

/// The outcome of an apply.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// What was done, in plan order.
    pub changes: Vec<Change>,
    /// The kept API's id (the REST API's for a REST app).
    pub api_id: Option<String>,
    /// Its invoke URL (for a REST API, the stage's).
    pub url: Option<String>,
    /// Each function's URL, for the functions that have one.
    pub function_urls: BTreeMap<String, String>,
    /// The execution role's ARN.
    pub role_arn: Option<String>,
    /// The version each function's `live` alias points to.
    pub live_versions: BTreeMap<String, String>,
    /// The custom domain's DNS record, when the manifest has a domain and API Gateway
    /// reports its target.
    pub dns: Option<crate::deploy::domain::DnsRecord>,
}

/// What apply knows about resources, from observation and from what it created.
#[derive(Debug, Default)]
struct Ctx {
    api_id: Option<String>,
    url: Option<String>,
    role_arn: Option<String>,
    /// The managed roles' ARNs by name (the app's and the functions' own).
    role_arns: BTreeMap<String, String>,
    arns: BTreeMap<String, String>,
    versions: BTreeMap<String, String>,
    integrations: BTreeMap<String, String>,
    /// The kept REST API's id.
    rest_api_id: Option<String>,
    /// Its resources' ids by path.
    rest_resources: BTreeMap<String, String>,
    /// The deployment this apply created.
    deployment_id: Option<String>,
    /// Function URLs by function name.
    function_urls: BTreeMap<String, String>,
    /// Functions an earlier, interrupted deploy left mid-update.
    busy: BTreeSet<String>,
    /// The custom domain's DNS record (observed, or from its creation).
    dns: Option<crate::deploy::domain::DnsRecord>,
}

/// Applies `plan`. `desired` is `None` for a removal (whose plan only deletes).
pub async fn apply(
    clients: &AwsClients,
    desired: Option<&Desired>,
    observed: &Observed,
    plan: &Plan,
) -> Result<Applied, DeployError> {
    let mut ctx = Ctx {
        api_id: observed.api().map(|a| a.id.clone()),
        url: observed.api().and_then(|a| a.endpoint.clone()),
        role_arn: match desired.map(|d| &d.role) {
            Some(RoleChoice::External { arn }) => Some(arn.clone()),
            _ => observed.role.as_ref().map(|r| r.arn.clone()),
        },
        role_arns: observed
            .role
            .iter()
            .chain(observed.own_roles.values())
            .map(|r| (r.name.clone(), r.arn.clone()))
            .collect(),
        rest_api_id: observed.rest_api().map(|a| a.id.clone()),
        rest_resources: observed
            .rest_api()
            .map(|a| {
                a.resources
                    .iter()
                    .map(|r| (r.path.clone(), r.id.clone()))
                    .collect()
            })
            .unwrap_or_default(),
        dns: desired
            .and_then(|d| d.domain.as_ref())
            .and_then(|d| observed.domains.iter().find(|o| o.name == d.name))
            .and_then(crate::deploy::domain::DnsRecord::of),
        ..Ctx::default()
    };
    for (name, f) in &observed.functions {
        ctx.arns.insert(name.clone(), f.arn.clone());
        if f.latest.is_busy() {
            ctx.busy.insert(name.clone());
        }
        if let Some(v) = f.live.as_ref().and_then(|l| l.version.clone()) {
            ctx.versions.insert(name.clone(), v);
        }
        if let Some(u) = &f.url {
            ctx.function_urls.insert(name.clone(), u.url.clone());
        }
    }
    if let (Some(desired), Some(api)) = (desired, observed.api()) {
        for f in &desired.functions {
            if let Some(i) = kept_integration(api, f) {
                ctx.integrations.insert(f.name.clone(), i.id.clone());
            }
        }
    }

    let mut changes: Vec<(usize, Change)> = Vec::new();
    let indexed: Vec<(usize, &Action)> = plan.actions.iter().enumerate().collect();

    // Role and API first: every function chain needs them.
    for (i, action) in &indexed {
        let detail = match action {
            Action::CreateRole { name } => {
                let target = desired.map(|d| &d.target);
                let own = desired.is_some_and(|d| d.own_roles.iter().any(|r| &r.name == name));
                let path = own.then(|| target.map(Target::own_role_path)).flatten();
                let arn = role::create(clients, name, path.as_deref(), target).await?;
                if !own {
                    ctx.role_arn = Some(arn.clone());
                }
                ctx.role_arns.insert(name.clone(), arn);
                None
            }
            Action::PutAccessPolicy {
                role, statements, ..
            } => {
                let desired = desired.ok_or_else(|| {
                    DeployError::incomplete("applying", "the plan", "desired state")
                })?;
                role::put_access_policy(clients, &ctx, desired, role, statements).await?;
                None
            }
            Action::AttachRolePolicy { role, policy_arn } => {
                role::attach_policy(clients, role, policy_arn).await?;
                None
            }
            Action::PutInvokePolicy { role, targets } => {
                role::put_invoke_policy(clients, &ctx, role, targets).await?;
                None
            }
            Action::PutLogsPolicy { role, targets } => {
                logs::put_policy(clients, &ctx, role, targets).await?;
                None
            }
            Action::CreateLogGroup {
                name,
                retention_days,
            } => {
                let target = desired.map(|d| &d.target);
                logs::create_group(clients, target, name, *retention_days).await?;
                None
            }
            Action::SetLogRetention { name, to, .. } => {
                logs::set_retention(clients, name, *to).await?;
                None
            }
            Action::CreateDomainName {
                name,
                certificate_arn,
                via,
            } => {
                let target = desired.map(|d| &d.target);
                let dns = domain::create(clients, target, name, certificate_arn, *via).await?;
                let detail = dns.as_ref().map(|d| d.target.clone());
                ctx.dns = dns.or(ctx.dns.take());
                detail
            }
            Action::SetDomainCertificate { name, via, to, .. } => {
                domain::set_certificate(clients, name, *via, to).await?;
                None
            }
            Action::SetGatewayLogsRole { role } => {
                Some(logs::set_gateway_role(clients, role).await?)
            }
            Action::CreateApi { name } => {
                let tags = desired.map(|d| d.target.tags()).unwrap_or_default();
                let (id, url) = api::create(clients, name, tags).await?;
                ctx.api_id = Some(id);
                ctx.url = url;
                ctx.url.clone()
            }
            Action::CreateRestApi { name } => {
                let tags = desired.map(|d| d.target.tags()).unwrap_or_default();
                let (id, root) = rest::create_api(clients, name, tags).await?;
                rest::ensure_binary_media_types(clients, &id).await?;
                let root = match root {
                    Some(root) => root,
                    None => rest::root_id(clients, &id).await?,
                };
                ctx.rest_resources = BTreeMap::from([("/".to_string(), root)]);
                ctx.rest_api_id = Some(id.clone());
                Some(id)
            }
            _ => continue,
        };
        changes.push((
            *i,
            Change {
                action: (*action).clone(),
                detail,
            },
        ));
    }

    // Function chains, in parallel.
    if let Some(desired) = desired {
        for d in chain::run_all(clients, desired, &ctx, &indexed).await? {
            ctx.arns.insert(d.name.clone(), d.arn);
            if let Some(v) = d.version {
                ctx.versions.insert(d.name.clone(), v);
            }
            if let Some(i) = d.integration {
                ctx.integrations.insert(d.name.clone(), i);
            }
            if let Some(u) = d.url {
                ctx.function_urls.insert(d.name.clone(), u);
            }
            changes.extend(d.changes);
        }
    }

    // Routes, stage, the REST API's tree and deployment, and deletions, in plan order.
    for (i, action) in &indexed {
        let mut detail = None;
        match action {
            Action::CreateRoute { key, function } => {
                route::create(clients, &ctx, key, function).await?
            }
            Action::UpdateRoute { id, key, function } => {
                route::update(clients, &ctx, id, key, function).await?
            }
            Action::CreateStage => {
                let desired = desired.ok_or_else(|| {
                    DeployError::incomplete("applying", "the plan", "desired state")
                })?;
                let access_logs = logs::http_access_logs(clients, &ctx, &desired.target)?;
                stage::create(clients, &ctx, desired, access_logs).await?
            }
            Action::SetStageAccessLogs => {
                if let Some(d) = desired {
                    logs::set_http_access_logs(clients, &ctx, &d.target).await?
                }
            }
            Action::SetRestAccessLogs { stage } => {
                if let Some(d) = desired {
                    logs::set_rest_access_logs(clients, &ctx, &d.target, stage).await?
                }
            }
            Action::DeleteLogGroup { name } => logs::delete_group(clients, name).await?,
            Action::DeleteLogsPolicy { role } => {
                role::delete_inline_policy(clients, role, crate::deploy::logs::POLICY_NAME).await?
            }
            Action::DeleteAccessPolicy { role } => {
                role::delete_inline_policy(clients, role, crate::deploy::access::POLICY_NAME)
                    .await?
            }
            Action::UpdateStage => stage::update(clients, &ctx).await?,
            Action::SetApiCors { cors } => api::set_cors(clients, &ctx, cors.as_ref()).await?,
            Action::SetStageThrottle { default, routes } => {
                stage::set_throttle(clients, &ctx, *default, routes).await?
            }
            Action::DeleteRouteSettings { key } => {
                stage::delete_route_settings(clients, &ctx, key).await?
            }
            Action::DeleteRoute { id, key } => route::delete(clients, &ctx, id, key).await?,
            Action::DeleteIntegration { id, .. } => integration::delete(clients, &ctx, id).await?,
            Action::DeleteFunction { function } => function::delete(clients, function).await?,
            Action::DeleteApi { id, name } => api::delete(clients, id, name).await?,
            Action::DetachRolePolicy { role, policy_arn } => {
                role::detach_policy(clients, role, policy_arn).await?
            }
            Action::DeleteInvokePolicy { role } => {
                role::delete_inline_policy(clients, role, crate::deploy::rewrite::POLICY_NAME)
                    .await?
            }
            Action::DeleteRole { name } => role::delete(clients, name).await?,
            Action::CreateDomainMapping { domain, via, stage } => {
                domain::map(clients, &ctx, domain, *via, stage).await?
            }
            Action::DeleteDomainMapping {
                domain, via, id, ..
            } => domain::unmap(clients, domain, *via, id).await?,
            Action::DeleteDomainName { name, via } => domain::delete(clients, name, via).await?,
            Action::CreateResource { path } => {
                let id = rest::create_resource(clients, &ctx, path).await?;
                ctx.rest_resources.insert(path.clone(), id);
            }
            Action::PutMethod { path, .. } => rest::put_method(clients, &ctx, path).await?,
            Action::PutIntegration {
                path,
                function,
                mode,
            } => {
                let f = desired.and_then(|d| d.function(function)).ok_or_else(|| {
                    DeployError::incomplete(
                        "planning",
                        format!("function {function}"),
                        "manifest entry",
                    )
                })?;
                rest::put_integration(clients, &ctx, path, f, *mode).await?
            }
            Action::PutPreflight {
                path,
                preflight,
                replace,
            } => rest::put_preflight(clients, &ctx, path, preflight, *replace).await?,
            Action::DeletePreflight { path } => {
                rest::delete_method(clients, &ctx, path, crate::deploy::rest::PREFLIGHT_METHOD)
                    .await?
            }
            Action::DeleteMethod { path, method } => {
                rest::delete_method(clients, &ctx, path, method).await?
            }
            Action::DeleteResource { id, path } => {
                rest::delete_resource(clients, &ctx, id, path).await?
            }
            Action::CreateDeployment { description } => {
                let id = rest::create_deployment(clients, &ctx, description).await?;
                detail = Some(id.clone());
                ctx.deployment_id = Some(id);
            }
            Action::CreateRestStage { stage } => {
                let tags = desired.map(|d| d.target.tags()).unwrap_or_default();
                rest::create_stage(clients, &ctx, stage, tags).await?
            }
            Action::UpdateRestStage { stage } => rest::update_stage(clients, &ctx, stage).await?,
            Action::SetRestThrottle { stage, set, remove } => {
                rest::set_throttle(clients, &ctx, stage, set, remove).await?
            }
            Action::DeleteDeployments { ids } => {
                rest::delete_deployments(clients, &ctx, ids).await?
            }
            Action::DeleteFunctionUrl { function } => {
                function_url::delete(clients, function).await?;
                ctx.function_urls.remove(function);
            }
            Action::RemovePermission { function, sid } => {
                permission::revoke(clients, function, sid).await?
            }
            Action::DeleteRestApi { id, name } => rest::delete_api(clients, id, name).await?,
            Action::AddBinaryMediaTypes { id, types } => {
                rest::add_binary_media_types(clients, id, types).await?
            }
            _ => continue,
        }
        changes.push((
            *i,
            Change {
                action: (*action).clone(),
                detail,
            },
        ));
    }

    changes.sort_by_key(|(i, _)| *i);
    let (api_id, url) = match desired {
        Some(d) if d.gateway == GatewayKind::Rest => {
            let url = ctx
                .rest_api_id
                .as_deref()
                .map(|id| crate::deploy::rest::invoke_url(id, clients.region(), d.target.stage()));
            (ctx.rest_api_id, url)
        }
        _ => (ctx.api_id, ctx.url),
    };
    let function_urls = match desired {
        Some(d) => d
            .functions
            .iter()
            .filter(|f| f.function_url.is_some())
            .filter_map(|f| Some((f.name.clone(), ctx.function_urls.get(&f.name)?.clone())))
            .collect(),
        None => BTreeMap::new(),
    };
    Ok(Applied {
        changes: changes.into_iter().map(|(_, c)| c).collect(),
        api_id,
        url,
        function_urls,
        role_arn: ctx.role_arn,
        live_versions: ctx.versions,
        dns: ctx.dns,
    })
}

/// The kept API's id, which every API Gateway call needs.
fn need_api(ctx: &Ctx) -> Result<&str, DeployError> {
    ctx.api_id
        .as_deref()
        .ok_or_else(|| DeployError::incomplete("applying", "the plan", "HTTP API id"))
}

/// Treats "not found" as success: the thing to delete is already gone.
fn gone_ok<T, E, R>(
    result: Result<T, SdkError<E, R>>,
    action: &'static str,
    resource: String,
) -> Result<(), DeployError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug + 'static,
{
    match result {
        Ok(_) => Ok(()),
        Err(e)
            if matches!(
                e.code(),
                Some("ResourceNotFoundException" | "NotFoundException" | "NoSuchEntity")
            ) =>
        {
            Ok(())
        }
        Err(e) => Err(DeployError::aws(action, resource, AwsFailure::of(&e))),
    }
}
