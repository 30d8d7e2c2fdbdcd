//! The statement on a function's `live` alias that lets the API invoke it, scoped to this
//! API; replaced rather than trusted when one already exists.

use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::{gone_ok, need_api, AwsClients, Ctx, DeployError};
use crate::deploy::aws::{error_message, partition};
use crate::deploy::desired::{ALIAS, PERMISSION_SID};
use crate::deploy::plan::api_source_arn;

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
    let fn_arn = arn.ok_or_else(|| {
        DeployError::incomplete("permitting", format!("function {name}"), "FunctionArn")
    })?;
    let mut parts = fn_arn.split(':');
    let part = parts.nth(1).unwrap_or_else(|| partition(clients.region()));
    let account = parts.nth(2).unwrap_or_default();
    let source = api_source_arn(part, clients.region(), account, api);
    add_permission(clients, name, &source, replace).await
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
