//! Each function's chain: its actions in plan order (code, version, alias, integration,
//! permission), one chain per function, several functions at a time.

use futures_util::stream::{self, StreamExt, TryStreamExt};

use super::{function, function_url, integration, permission, settle};
use super::{AwsClients, Change, Ctx, DeployError};
use crate::deploy::desired::{read_bundle, Desired, DesiredFunction, RoleChoice};
use crate::deploy::plan::Action;

/// How many function chains run at once.
const FUNCTION_CONCURRENCY: usize = 4;

/// Result of one function's chain.
pub(super) struct FunctionDone {
    pub(super) name: String,
    pub(super) arn: String,
    pub(super) version: Option<String>,
    pub(super) integration: Option<String>,
    /// The function URL, when this chain created or updated it.
    pub(super) url: Option<String>,
    pub(super) changes: Vec<(usize, Change)>,
}

/// Runs the chain of every function with actions in the plan (`indexed`: position, action).
pub(super) async fn run_all(
    clients: &AwsClients,
    desired: &Desired,
    ctx: &Ctx,
    indexed: &[(usize, &Action)],
) -> Result<Vec<FunctionDone>, DeployError> {
    let mut groups: Vec<(String, Vec<(usize, &Action)>)> = Vec::new();
    for (i, action) in indexed {
        if let Some(f) = action.function_group() {
            match groups.iter_mut().find(|(name, _)| name == f) {
                Some((_, list)) => list.push((*i, *action)),
                None => groups.push((f.to_string(), vec![(*i, *action)])),
            }
        }
    }
    stream::iter(groups)
        .map(|(name, actions)| async move {
            let f = desired.function(&name).ok_or_else(|| {
                DeployError::incomplete("planning", format!("function {name}"), "manifest entry")
            })?;
            run_function(clients, desired, f, ctx, actions).await
        })
        .buffer_unordered(FUNCTION_CONCURRENCY)
        .try_collect()
        .await
}

/// Runs one function's actions in order.
async fn run_function(
    clients: &AwsClients,
    desired: &Desired,
    f: &DesiredFunction,
    ctx: &Ctx,
    actions: Vec<(usize, &Action)>,
) -> Result<FunctionDone, DeployError> {
    let name = f.name.as_str();
    let mut arn = ctx.arns.get(name).cloned();
    let mut version: Option<String> = None;
    let mut integration = ctx.integrations.get(name).cloned();
    let mut url = None;
    let mut changes = Vec::new();
    // Its own role's, the app's, or the user's (created, if new, before any chain runs).
    let role_arn = || {
        let arn = match desired.role_of(f) {
            RoleChoice::External { arn } => Some(arn),
            RoleChoice::Managed { name } => ctx.role_arns.get(&name).cloned(),
        };
        arn.ok_or_else(|| {
            DeployError::incomplete("configuring", format!("function {name}"), "role ARN")
        })
    };
    // An earlier, interrupted deploy may have left an update running.
    if ctx.busy.contains(name) {
        settle::settle(clients, name, None, "a previous update").await?;
    }
    for (i, action) in actions {
        let detail = match action {
            Action::CreateFunction { .. } => {
                let zip = read_bundle(f)?;
                arn = Some(function::create(clients, desired, f, zip, &role_arn()?).await?);
                None
            }
            Action::UpdateFunctionConfiguration { .. } => {
                function::update_configuration(clients, f, &role_arn()?).await?;
                None
            }
            Action::UpdateFunctionCode { .. } => {
                function::update_code(clients, f).await?;
                None
            }
            Action::PublishVersion { .. } => {
                let v = function::publish(clients, f).await?;
                let detail = format!("version {v}");
                version = Some(v);
                Some(detail)
            }
            Action::CreateAlias { .. } | Action::UpdateAlias { .. } => {
                let v = version.as_deref().ok_or_else(|| {
                    DeployError::incomplete(
                        "aliasing",
                        format!("function {name}"),
                        "published version",
                    )
                })?;
                if matches!(action, Action::CreateAlias { .. }) {
                    function::create_alias(clients, name, v).await?;
                } else {
                    function::update_alias(clients, name, v).await?;
                }
                Some(format!("→ version {v}"))
            }
            Action::DeleteVersions { versions, .. } => {
                function::delete_versions(clients, name, versions).await?;
                None
            }
            Action::CreateIntegration { .. } => {
                let id = integration::create(clients, ctx, name, arn.as_deref()).await?;
                integration = Some(id.clone());
                Some(id)
            }
            Action::UpdateIntegration { id, .. } => {
                integration::update(clients, ctx, id, name, arn.as_deref()).await?;
                None
            }
            Action::AddPermission { replace, .. } => {
                permission::grant(clients, ctx, name, arn.as_deref(), *replace).await?;
                None
            }
            Action::AddRestPermission { replace, .. } => {
                permission::grant_rest(clients, ctx, name, arn.as_deref(), *replace).await?;
                None
            }
            Action::CreateFunctionUrl { auth, .. } => {
                let u = function_url::create(clients, name, *auth).await?;
                url = Some(u.clone());
                Some(u)
            }
            Action::UpdateFunctionUrl { auth, .. } => {
                let u = function_url::update(clients, name, *auth).await?;
                url = Some(u.clone());
                Some(u)
            }
            Action::AddUrlPermissions { .. } => {
                permission::grant_url(clients, name).await?;
                None
            }
            _ => continue,
        };
        changes.push((
            i,
            Change {
                action: action.clone(),
                detail,
            },
        ));
    }
    let arn = arn.ok_or_else(|| {
        DeployError::incomplete("deploying", format!("function {name}"), "FunctionArn")
    })?;
    Ok(FunctionDone {
        name: name.to_string(),
        arn,
        version,
        integration,
        url,
        changes,
    })
}
