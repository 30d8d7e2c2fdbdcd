//! The statements on a function's `live` alias: the API's permission to invoke it (scoped to
//! this API, replaced rather than trusted when one already exists), a public function URL's
//! two statements, and removing a statement nothing needs any more.

use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::{gone_ok, need_api, AwsClients, Ctx, DeployError};
use crate::deploy::aws::partition;
use crate::deploy::failure::AwsFailure;
use aws_sdk_lambda::operation::add_permission::builders::AddPermissionFluentBuilder;
use aws_sdk_lambda::types::FunctionUrlAuthType;

use crate::deploy::desired::{ALIAS, PERMISSION_SID};
use crate::deploy::plan::api_source_arn;
use crate::deploy::rest::{
    self, REST_PERMISSION_SID, URL_INVOKE_PERMISSION_SID, URL_PERMISSION_SID,
};

/// Lets the kept API invoke function `name` (ARN `arn`); `replace` removes a stale statement
/// first.
pub(super) async fn grant(
    clients: &AwsClients,
    ctx: &Ctx,
    name: &str,
    arn: Option<&str>,
    replace: bool,
) -> Result<(), DeployError> {
    let api = need_api(ctx)?;
    let (part, account) = partition_and_account(clients, name, arn)?;
    let source = api_source_arn(part, clients.region(), account, api);
    let add = || invoke_by_api(clients, name, PERMISSION_SID, &source);
    add_permission(clients, name, PERMISSION_SID, replace, add).await
}

/// Lets the kept REST API invoke function `name` (ARN `arn`), scoped to that API.
pub(super) async fn grant_rest(
    clients: &AwsClients,
    ctx: &Ctx,
    name: &str,
    arn: Option<&str>,
    replace: bool,
) -> Result<(), DeployError> {
    let api = ctx
        .rest_api_id
        .as_deref()
        .ok_or_else(|| DeployError::incomplete("applying", "the plan", "REST API id"))?;
    let (part, account) = partition_and_account(clients, name, arn)?;
    let source = rest::source_arn(part, clients.region(), account, api);
    let add = || invoke_by_api(clients, name, REST_PERMISSION_SID, &source);
    add_permission(clients, name, REST_PERMISSION_SID, replace, add).await
}

/// The two statements of a public function URL: `lambda:InvokeFunctionUrl` for anyone when
/// the URL's auth is `NONE`, and (required since October 2025) `lambda:InvokeFunction` for
/// anyone, only through the function URL.
pub(super) async fn grant_url(clients: &AwsClients, name: &str) -> Result<(), DeployError> {
    let url = || {
        clients
            .lambda
            .add_permission()
            .function_name(name)
            .qualifier(ALIAS)
            .statement_id(URL_PERMISSION_SID)
            .action("lambda:InvokeFunctionUrl")
            .principal("*")
            .function_url_auth_type(FunctionUrlAuthType::None)
    };
    add_permission(clients, name, URL_PERMISSION_SID, false, url).await?;
    let invoke = || {
        clients
            .lambda
            .add_permission()
            .function_name(name)
            .qualifier(ALIAS)
            .statement_id(URL_INVOKE_PERMISSION_SID)
            .action("lambda:InvokeFunction")
            .principal("*")
            .invoked_via_function_url(true)
    };
    add_permission(clients, name, URL_INVOKE_PERMISSION_SID, false, invoke).await
}

/// Removes statement `sid` from the alias policy; already gone is done.
pub(super) async fn revoke(clients: &AwsClients, name: &str, sid: &str) -> Result<(), DeployError> {
    let result = clients
        .lambda
        .remove_permission()
        .function_name(name)
        .qualifier(ALIAS)
        .statement_id(sid)
        .send()
        .await;
    gone_ok(
        result,
        "removing",
        format!("statement {sid} of {name}:{ALIAS}"),
    )
}

/// The partition and account of a function ARN.
fn partition_and_account<'a>(
    clients: &AwsClients,
    name: &str,
    arn: Option<&'a str>,
) -> Result<(&'a str, &'a str), DeployError> {
    let fn_arn = arn.ok_or_else(|| {
        DeployError::incomplete("permitting", format!("function {name}"), "FunctionArn")
    })?;
    let mut parts = fn_arn.split(':');
    let part = parts.nth(1).unwrap_or_else(|| partition(clients.region()));
    let account = parts.nth(2).unwrap_or_default();
    Ok((part, account))
}

/// An API Gateway invoke statement scoped to `source`.
fn invoke_by_api(
    clients: &AwsClients,
    name: &str,
    sid: &str,
    source: &str,
) -> AddPermissionFluentBuilder {
    clients
        .lambda
        .add_permission()
        .function_name(name)
        .qualifier(ALIAS)
        .statement_id(sid)
        .action("lambda:InvokeFunction")
        .principal("apigateway.amazonaws.com")
        .source_arn(source)
}

/// Adds the statement `add` builds (id `sid`), removing a stale one first when `replace`.
async fn add_permission(
    clients: &AwsClients,
    name: &str,
    sid: &str,
    replace: bool,
    add: impl Fn() -> AddPermissionFluentBuilder,
) -> Result<(), DeployError> {
    let resource = || format!("statement {sid} of {name}:{ALIAS}");
    let remove = || revoke(clients, name, sid);
    if replace {
        remove().await?;
    }
    match add().send().await {
        Ok(_) => Ok(()),
        // The statement appeared since the observation (a concurrent or interrupted run):
        // replace it, so it is certainly scoped to this API.
        Err(e) if e.code() == Some("ResourceConflictException") => {
            remove().await?;
            add()
                .send()
                .await
                .map(|_| ())
                .map_err(|e| DeployError::aws("adding", resource(), AwsFailure::of(&e)))
        }
        Err(e) => Err(DeployError::aws("adding", resource(), AwsFailure::of(&e))),
    }
}
