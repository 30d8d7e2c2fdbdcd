//! Executes a plan with the AWS SDK.
//!
//! Phases: role, API, then each function's chain (create or update, wait for Lambda to
//! settle, publish, alias, integration, permission; four functions at a time), then routes,
//! the stage, and deletions. Every step is safe to repeat: deletes treat "not found" as
//! done, and anything an interruption leaves half-made is found again by the next
//! observation.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::future::Future;
use std::time::{Duration, Instant};

use aws_sdk_apigatewayv2::types::{IntegrationType, ProtocolType};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Architecture as LambdaArch, Environment, FunctionCode, Runtime};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use futures_util::stream::{self, StreamExt, TryStreamExt};
use nextr::manifest::Architecture;

use super::aws::{error_message, partition};
use super::desired::{
    read_bundle, Desired, DesiredFunction, RoleChoice, ALIAS, API_STAGE, INTEGRATION_TIMEOUT_MS,
    PERMISSION_SID,
};
use super::plan::{api_source_arn, kept_integration, Action, Plan};
use super::state::{function_config, FunctionConfig, Observed};
use super::{AwsClients, DeployError};

/// How many function chains run at once.
const FUNCTION_CONCURRENCY: usize = 4;
/// How long a function may stay `Pending` or `InProgress`.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(600);
/// How long a new role may take to become assumable by Lambda (IAM is eventually
/// consistent).
const ROLE_PROPAGATION: Duration = Duration::from_secs(90);

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
    /// The kept API's id.
    pub api_id: Option<String>,
    /// Its invoke URL.
    pub url: Option<String>,
    /// The execution role's ARN.
    pub role_arn: Option<String>,
    /// The version each function's `live` alias points to.
    pub live_versions: BTreeMap<String, String>,
}

/// What apply knows about resources, from observation and from what it created.
#[derive(Debug, Default)]
struct Ctx {
    api_id: Option<String>,
    url: Option<String>,
    role_arn: Option<String>,
    arns: BTreeMap<String, String>,
    versions: BTreeMap<String, String>,
    integrations: BTreeMap<String, String>,
    /// Functions an earlier, interrupted deploy left mid-update.
    busy: BTreeSet<String>,
}

/// Result of one function's chain.
struct FunctionDone {
    name: String,
    arn: String,
    version: Option<String>,
    integration: Option<String>,
    changes: Vec<(usize, Change)>,
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
                let arn = create_role(clients, name, target).await?;
                ctx.role_arn = Some(arn);
                None
            }
            Action::AttachRolePolicy { role, policy_arn } => {
                clients
                    .iam
                    .attach_role_policy()
                    .role_name(role)
                    .policy_arn(policy_arn)
                    .send()
                    .await
                    .map_err(|e| {
                        DeployError::aws(
                            "attaching a policy to",
                            format!("IAM role {role}"),
                            error_message(&e),
                        )
                    })?;
                None
            }
            Action::CreateApi { name } => {
                let tags = desired.map(|d| d.target.tags()).unwrap_or_default();
                let out = clients
                    .apigw
                    .create_api()
                    .name(name)
                    .protocol_type(ProtocolType::Http)
                    .set_tags(Some(tags))
                    .send()
                    .await
                    .map_err(|e| {
                        DeployError::aws("creating", format!("HTTP API {name}"), error_message(&e))
                    })?;
                let id = out
                    .api_id()
                    .ok_or_else(|| DeployError::incomplete("creating", name.clone(), "ApiId"))?;
                ctx.api_id = Some(id.to_string());
                ctx.url = out.api_endpoint().map(str::to_string);
                ctx.url.clone()
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
        let mut groups: Vec<(String, Vec<(usize, &Action)>)> = Vec::new();
        for (i, action) in &indexed {
            if let Some(f) = action.function_group() {
                match groups.iter_mut().find(|(name, _)| name == f) {
                    Some((_, list)) => list.push((*i, *action)),
                    None => groups.push((f.to_string(), vec![(*i, *action)])),
                }
            }
        }
        let ctx_ref = &ctx;
        let done: Vec<FunctionDone> = stream::iter(groups)
            .map(|(name, actions)| async move {
                let f = desired.function(&name).ok_or_else(|| {
                    DeployError::incomplete(
                        "planning",
                        format!("function {name}"),
                        "manifest entry",
                    )
                })?;
                run_function(clients, desired, f, ctx_ref, actions).await
            })
            .buffer_unordered(FUNCTION_CONCURRENCY)
            .try_collect()
            .await?;
        for d in done {
            ctx.arns.insert(d.name.clone(), d.arn);
            if let Some(v) = d.version {
                ctx.versions.insert(d.name.clone(), v);
            }
            if let Some(i) = d.integration {
                ctx.integrations.insert(d.name.clone(), i);
            }
            changes.extend(d.changes);
        }
    }

    // Routes, stage and deletions, in plan order.
    for (i, action) in &indexed {
        let detail = match action {
            Action::CreateRoute { key, function } => {
                let api = need_api(&ctx)?;
                let target = integration_target(&ctx, function)?;
                clients
                    .apigw
                    .create_route()
                    .api_id(api)
                    .route_key(key)
                    .target(target)
                    .send()
                    .await
                    .map_err(|e| {
                        DeployError::aws("creating", format!("route `{key}`"), error_message(&e))
                    })?;
                None
            }
            Action::UpdateRoute { id, key, function } => {
                let api = need_api(&ctx)?;
                let target = integration_target(&ctx, function)?;
                clients
                    .apigw
                    .update_route()
                    .api_id(api)
                    .route_id(id)
                    .target(target)
                    .send()
                    .await
                    .map_err(|e| {
                        DeployError::aws("updating", format!("route `{key}`"), error_message(&e))
                    })?;
                None
            }
            Action::CreateStage => {
                let api = need_api(&ctx)?;
                let tags = desired.map(|d| d.target.tags()).unwrap_or_default();
                clients
                    .apigw
                    .create_stage()
                    .api_id(api)
                    .stage_name(API_STAGE)
                    .auto_deploy(true)
                    .set_tags(Some(tags))
                    .send()
                    .await
                    .map_err(|e| {
                        DeployError::aws(
                            "creating",
                            format!("stage {API_STAGE}"),
                            error_message(&e),
                        )
                    })?;
                None
            }
            Action::UpdateStage => {
                let api = need_api(&ctx)?;
                clients
                    .apigw
                    .update_stage()
                    .api_id(api)
                    .stage_name(API_STAGE)
                    .auto_deploy(true)
                    .send()
                    .await
                    .map_err(|e| {
                        DeployError::aws(
                            "updating",
                            format!("stage {API_STAGE}"),
                            error_message(&e),
                        )
                    })?;
                None
            }
            Action::DeleteRoute { id, key } => {
                let api = need_api(&ctx)?;
                let result = clients
                    .apigw
                    .delete_route()
                    .api_id(api)
                    .route_id(id)
                    .send()
                    .await;
                gone_ok(result, "deleting", format!("route `{key}`"))?;
                None
            }
            Action::DeleteIntegration { id, .. } => {
                let api = need_api(&ctx)?;
                let result = clients
                    .apigw
                    .delete_integration()
                    .api_id(api)
                    .integration_id(id)
                    .send()
                    .await;
                gone_ok(result, "deleting", format!("integration {id}"))?;
                None
            }
            Action::DeleteFunction { function } => {
                let result = clients
                    .lambda
                    .delete_function()
                    .function_name(function)
                    .send()
                    .await;
                gone_ok(result, "deleting", format!("function {function}"))?;
                None
            }
            Action::DeleteApi { id, name } => {
                let result = clients.apigw.delete_api().api_id(id).send().await;
                gone_ok(result, "deleting", format!("HTTP API {name} ({id})"))?;
                None
            }
            Action::DetachRolePolicy { role, policy_arn } => {
                let result = clients
                    .iam
                    .detach_role_policy()
                    .role_name(role)
                    .policy_arn(policy_arn)
                    .send()
                    .await;
                gone_ok(
                    result,
                    "detaching a policy from",
                    format!("IAM role {role}"),
                )?;
                None
            }
            Action::DeleteRole { name } => {
                let result = clients.iam.delete_role().role_name(name).send().await;
                gone_ok(result, "deleting", format!("IAM role {name}"))?;
                None
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

    changes.sort_by_key(|(i, _)| *i);
    Ok(Applied {
        changes: changes.into_iter().map(|(_, c)| c).collect(),
        api_id: ctx.api_id,
        url: ctx.url,
        role_arn: ctx.role_arn,
        live_versions: ctx.versions,
    })
}

fn need_api(ctx: &Ctx) -> Result<&str, DeployError> {
    ctx.api_id
        .as_deref()
        .ok_or_else(|| DeployError::incomplete("applying", "the plan", "HTTP API id"))
}

fn integration_target(ctx: &Ctx, function: &str) -> Result<String, DeployError> {
    ctx.integrations
        .get(function)
        .map(|id| format!("integrations/{id}"))
        .ok_or_else(|| {
            DeployError::incomplete("routing to", format!("function {function}"), "integration")
        })
}

/// Treats "not found" as success: the thing to delete is already gone.
fn gone_ok<T, E, R>(
    result: Result<T, SdkError<E, R>>,
    action: &'static str,
    resource: String,
) -> Result<(), DeployError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug,
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
        Err(e) => Err(DeployError::aws(action, resource, error_message(&e))),
    }
}

async fn create_role(
    clients: &AwsClients,
    name: &str,
    target: Option<&super::Target>,
) -> Result<String, DeployError> {
    let trust = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Service": "lambda.amazonaws.com" },
            "Action": "sts:AssumeRole"
        }]
    });
    let mut tags = Vec::new();
    if let Some(t) = target {
        let mut pairs: Vec<_> = t.tags().into_iter().collect();
        pairs.sort();
        for (k, v) in pairs {
            let tag = aws_sdk_iam::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| {
                    DeployError::aws("tagging", format!("IAM role {name}"), e.to_string())
                })?;
            tags.push(tag);
        }
    }
    let out = clients
        .iam
        .create_role()
        .role_name(name)
        .assume_role_policy_document(trust.to_string())
        .description("nextr execution role: basic logging only")
        .set_tags(Some(tags))
        .send()
        .await
        .map_err(|e| DeployError::aws("creating", format!("IAM role {name}"), error_message(&e)))?;
    out.role()
        .map(|r| r.arn().to_string())
        .ok_or_else(|| DeployError::incomplete("creating", format!("IAM role {name}"), "Arn"))
}

fn lambda_arch(a: Architecture) -> LambdaArch {
    match a {
        Architecture::X86_64 => LambdaArch::X8664,
        Architecture::Arm64 => LambdaArch::Arm64,
    }
}

fn environment(f: &DesiredFunction) -> Environment {
    Environment::builder()
        .set_variables(Some(
            f.spec
                .env
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ))
        .build()
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
    let mut changes = Vec::new();
    let role_arn = || {
        ctx.role_arn.clone().ok_or_else(|| {
            DeployError::incomplete("configuring", format!("function {name}"), "role ARN")
        })
    };
    // An earlier, interrupted deploy may have left an update running.
    if ctx.busy.contains(name) {
        settle(clients, name, None, "a previous update").await?;
    }
    for (i, action) in actions {
        let mut detail = None;
        match action {
            Action::CreateFunction { .. } => {
                let zip = read_bundle(f)?;
                let role = role_arn()?;
                let out = lambda_retry(
                    clients,
                    name,
                    "creating",
                    format!("function {name}"),
                    || {
                        clients
                            .lambda
                            .create_function()
                            .function_name(name)
                            .runtime(Runtime::from(f.spec.runtime.as_str()))
                            .handler(&f.spec.handler)
                            .role(&role)
                            .code(
                                FunctionCode::builder()
                                    .zip_file(Blob::new(zip.clone()))
                                    .build(),
                            )
                            .description(&f.spec.description)
                            .timeout(i32::try_from(f.spec.timeout_s).unwrap_or(i32::MAX))
                            .memory_size(i32::try_from(f.spec.memory_mb).unwrap_or(i32::MAX))
                            .architectures(lambda_arch(f.spec.architecture))
                            .environment(environment(f))
                            .set_tags(Some(desired.target.tags()))
                            .send()
                    },
                )
                .await?;
                arn = Some(
                    out.function_arn()
                        .ok_or_else(|| {
                            DeployError::incomplete(
                                "creating",
                                format!("function {name}"),
                                "FunctionArn",
                            )
                        })?
                        .to_string(),
                );
                check(clients, name, None, "creation", function_config!(&out)).await?;
            }
            Action::UpdateFunctionConfiguration { .. } => {
                let role = role_arn()?;
                let out = lambda_retry(
                    clients,
                    name,
                    "updating the configuration of",
                    format!("function {name}"),
                    || {
                        clients
                            .lambda
                            .update_function_configuration()
                            .function_name(name)
                            .runtime(Runtime::from(f.spec.runtime.as_str()))
                            .handler(&f.spec.handler)
                            .role(&role)
                            .description(&f.spec.description)
                            .timeout(i32::try_from(f.spec.timeout_s).unwrap_or(i32::MAX))
                            .memory_size(i32::try_from(f.spec.memory_mb).unwrap_or(i32::MAX))
                            .environment(environment(f))
                            .send()
                    },
                )
                .await?;
                check(
                    clients,
                    name,
                    None,
                    "the configuration update",
                    function_config!(&out),
                )
                .await?;
            }
            Action::UpdateFunctionCode { .. } => {
                let zip = read_bundle(f)?;
                let out = lambda_retry(
                    clients,
                    name,
                    "updating the code of",
                    format!("function {name}"),
                    || {
                        clients
                            .lambda
                            .update_function_code()
                            .function_name(name)
                            .zip_file(Blob::new(zip.clone()))
                            .architectures(lambda_arch(f.spec.architecture))
                            .send()
                    },
                )
                .await?;
                check(
                    clients,
                    name,
                    None,
                    "the code update",
                    function_config!(&out),
                )
                .await?;
            }
            Action::PublishVersion { .. } => {
                let out = lambda_retry(
                    clients,
                    name,
                    "publishing a version of",
                    format!("function {name}"),
                    || {
                        clients
                            .lambda
                            .publish_version()
                            .function_name(name)
                            // Refuses to publish anything but the manifest's code.
                            .code_sha256(&f.code_sha256)
                            .send()
                    },
                )
                .await?;
                let v = out
                    .version()
                    .ok_or_else(|| {
                        DeployError::incomplete("publishing", format!("function {name}"), "Version")
                    })?
                    .to_string();
                check(
                    clients,
                    name,
                    Some(&v),
                    "publishing",
                    function_config!(&out),
                )
                .await?;
                detail = Some(format!("version {v}"));
                version = Some(v);
            }
            Action::CreateAlias { .. } | Action::UpdateAlias { .. } => {
                let v = version.clone().ok_or_else(|| {
                    DeployError::incomplete(
                        "aliasing",
                        format!("function {name}"),
                        "published version",
                    )
                })?;
                if matches!(action, Action::CreateAlias { .. }) {
                    lambda_retry(
                        clients,
                        name,
                        "creating",
                        format!("alias {name}:{ALIAS}"),
                        || {
                            clients
                                .lambda
                                .create_alias()
                                .function_name(name)
                                .name(ALIAS)
                                .function_version(&v)
                                .send()
                        },
                    )
                    .await?;
                } else {
                    lambda_retry(
                        clients,
                        name,
                        "updating",
                        format!("alias {name}:{ALIAS}"),
                        || {
                            clients
                                .lambda
                                .update_alias()
                                .function_name(name)
                                .name(ALIAS)
                                .function_version(&v)
                                .send()
                        },
                    )
                    .await?;
                }
                detail = Some(format!("→ version {v}"));
            }
            Action::CreateIntegration { .. } | Action::UpdateIntegration { .. } => {
                let api = need_api(ctx)?;
                let fn_arn = arn.clone().ok_or_else(|| {
                    DeployError::incomplete(
                        "integrating",
                        format!("function {name}"),
                        "FunctionArn",
                    )
                })?;
                let uri = format!("{fn_arn}:{ALIAS}");
                if let Action::UpdateIntegration { id, .. } = action {
                    clients
                        .apigw
                        .update_integration()
                        .api_id(api)
                        .integration_id(id)
                        .integration_type(IntegrationType::AwsProxy)
                        .integration_uri(&uri)
                        .payload_format_version("2.0")
                        .timeout_in_millis(INTEGRATION_TIMEOUT_MS)
                        .send()
                        .await
                        .map_err(|e| {
                            DeployError::aws(
                                "updating",
                                format!("integration {id} of function {name}"),
                                error_message(&e),
                            )
                        })?;
                } else {
                    let out = clients
                        .apigw
                        .create_integration()
                        .api_id(api)
                        .integration_type(IntegrationType::AwsProxy)
                        .integration_uri(&uri)
                        .payload_format_version("2.0")
                        .timeout_in_millis(INTEGRATION_TIMEOUT_MS)
                        .send()
                        .await
                        .map_err(|e| {
                            DeployError::aws(
                                "creating",
                                format!("the integration of function {name}"),
                                error_message(&e),
                            )
                        })?;
                    let id = out.integration_id().ok_or_else(|| {
                        DeployError::incomplete(
                            "creating",
                            format!("the integration of function {name}"),
                            "IntegrationId",
                        )
                    })?;
                    detail = Some(id.to_string());
                    integration = Some(id.to_string());
                }
            }
            Action::AddPermission { replace, .. } => {
                let api = need_api(ctx)?;
                let fn_arn = arn.clone().ok_or_else(|| {
                    DeployError::incomplete("permitting", format!("function {name}"), "FunctionArn")
                })?;
                let mut parts = fn_arn.split(':');
                let part = parts.nth(1).unwrap_or_else(|| partition(clients.region()));
                let account = parts.nth(2).unwrap_or_default();
                let source = api_source_arn(part, clients.region(), account, api);
                add_permission(clients, name, &source, *replace).await?;
            }
            _ => continue,
        }
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
        changes,
    })
}

async fn add_permission(
    clients: &AwsClients,
    name: &str,
    source: &str,
    replace: bool,
) -> Result<(), DeployError> {
    let resource = || format!("the invoke permission of {name}:{ALIAS}");
    let remove = || async {
        let result = clients
            .lambda
            .remove_permission()
            .function_name(name)
            .qualifier(ALIAS)
            .statement_id(PERMISSION_SID)
            .send()
            .await;
        gone_ok(result, "removing", resource())
    };
    if replace {
        remove().await?;
    }
    let add = || {
        clients
            .lambda
            .add_permission()
            .function_name(name)
            .qualifier(ALIAS)
            .statement_id(PERMISSION_SID)
            .action("lambda:InvokeFunction")
            .principal("apigateway.amazonaws.com")
            .source_arn(source)
            .send()
    };
    match add().await {
        Ok(_) => Ok(()),
        // The statement appeared since the observation (a concurrent or interrupted run):
        // replace it, so it is certainly scoped to this API.
        Err(e) if e.code() == Some("ResourceConflictException") => {
            remove().await?;
            add()
                .await
                .map(|_| ())
                .map_err(|e| DeployError::aws("adding", resource(), error_message(&e)))
        }
        Err(e) => Err(DeployError::aws("adding", resource(), error_message(&e))),
    }
}

/// Calls Lambda, retrying what only needs time: an update still in progress (wait for the
/// function to settle) and a new role IAM has not propagated yet.
async fn lambda_retry<T, E, R, F, Fut>(
    clients: &AwsClients,
    function: &str,
    action: &'static str,
    resource: String,
    mut call: F,
) -> Result<T, DeployError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, R>>>,
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug,
{
    let started = Instant::now();
    let mut conflicts = 0;
    loop {
        match call().await {
            Ok(v) => return Ok(v),
            Err(e) => {
                let code = e.code().unwrap_or_default();
                let message = e.message().unwrap_or_default().to_ascii_lowercase();
                if code == "ResourceConflictException" && conflicts < 5 {
                    conflicts += 1;
                    settle(clients, function, None, "a concurrent update").await?;
                    continue;
                }
                if code == "InvalidParameterValueException"
                    && message.contains("role")
                    && started.elapsed() < ROLE_PROPAGATION
                {
                    tokio::time::sleep(Duration::from_secs(2)).await;
                    continue;
                }
                return Err(DeployError::aws(action, resource, error_message(&e)));
            }
        }
    }
}

/// Fails on a failed state, waits when Lambda is still busy.
async fn check(
    clients: &AwsClients,
    name: &str,
    qualifier: Option<&str>,
    step: &'static str,
    config: FunctionConfig,
) -> Result<(), DeployError> {
    failed(name, qualifier, step, &config, None)?;
    if config.is_busy() {
        settle(clients, name, qualifier, step).await?;
    }
    Ok(())
}

fn failed(
    name: &str,
    qualifier: Option<&str>,
    step: &'static str,
    c: &FunctionConfig,
    reason: Option<&str>,
) -> Result<(), DeployError> {
    if c.state.as_deref() == Some("Failed") || c.last_update_status.as_deref() == Some("Failed") {
        return Err(DeployError::FunctionFailed {
            name: qualified(name, qualifier),
            step,
            reason: reason
                .unwrap_or("see the function in the Lambda console")
                .to_string(),
        });
    }
    Ok(())
}

fn qualified(name: &str, qualifier: Option<&str>) -> String {
    match qualifier {
        Some(q) => format!("{name}:{q}"),
        None => name.to_string(),
    }
}

/// Polls until the function (or version) is neither `Pending` nor `InProgress`.
async fn settle(
    clients: &AwsClients,
    name: &str,
    qualifier: Option<&str>,
    step: &'static str,
) -> Result<(), DeployError> {
    let started = Instant::now();
    let mut delay = Duration::from_millis(250);
    loop {
        let out = clients
            .lambda
            .get_function_configuration()
            .function_name(name)
            .set_qualifier(qualifier.map(str::to_string))
            .send()
            .await
            .map_err(|e| {
                DeployError::aws(
                    "waiting for",
                    format!("function {}", qualified(name, qualifier)),
                    error_message(&e),
                )
            })?;
        let config = function_config!(&out);
        let reason = out.state_reason().or(out.last_update_status_reason());
        failed(name, qualifier, step, &config, reason)?;
        if !config.is_busy() {
            return Ok(());
        }
        if started.elapsed() > SETTLE_TIMEOUT {
            return Err(DeployError::NotSettled {
                name: qualified(name, qualifier),
                status: config
                    .last_update_status
                    .or(config.state)
                    .unwrap_or_default(),
                seconds: SETTLE_TIMEOUT.as_secs(),
            });
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}
