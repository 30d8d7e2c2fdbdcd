//! A function's integration: `AWS_PROXY` to its `live` alias, payload format 2.0.

use aws_sdk_apigatewayv2::types::IntegrationType;

use super::{gone_ok, need_api, AwsClients, Ctx, DeployError};
use crate::deploy::desired::{ALIAS, INTEGRATION_TIMEOUT_MS};
use crate::deploy::failure::AwsFailure;

/// Creates the integration of function `name` (ARN `arn`); returns its id.
pub(super) async fn create(
    clients: &AwsClients,
    ctx: &Ctx,
    name: &str,
    arn: Option<&str>,
) -> Result<String, DeployError> {
    let (api, uri) = alias_target(ctx, name, arn)?;
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
                AwsFailure::of(&e),
            )
        })?;
    let id = out.integration_id().ok_or_else(|| {
        DeployError::incomplete(
            "creating",
            format!("the integration of function {name}"),
            "IntegrationId",
        )
    })?;
    Ok(id.to_string())
}

/// Gives integration `id` of function `name` nextr's settings again.
pub(super) async fn update(
    clients: &AwsClients,
    ctx: &Ctx,
    id: &str,
    name: &str,
    arn: Option<&str>,
) -> Result<(), DeployError> {
    let (api, uri) = alias_target(ctx, name, arn)?;
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
                AwsFailure::of(&e),
            )
        })?;
    Ok(())
}

/// Deletes an integration; already gone is done.
pub(super) async fn delete(clients: &AwsClients, ctx: &Ctx, id: &str) -> Result<(), DeployError> {
    let api = need_api(ctx)?;
    let result = clients
        .apigw
        .delete_integration()
        .api_id(api)
        .integration_id(id)
        .send()
        .await;
    gone_ok(result, "deleting", format!("integration {id}"))
}

/// The kept API's id, and the URI of the function's alias.
fn alias_target<'a>(
    ctx: &'a Ctx,
    name: &str,
    arn: Option<&str>,
) -> Result<(&'a str, String), DeployError> {
    let api = need_api(ctx)?;
    let fn_arn = arn.ok_or_else(|| {
        DeployError::incomplete("integrating", format!("function {name}"), "FunctionArn")
    })?;
    Ok((api, format!("{fn_arn}:{ALIAS}")))
}
