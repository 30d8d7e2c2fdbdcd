//! Routes: each points at the integration of its function.

use super::{gone_ok, need_api, AwsClients, Ctx, DeployError};
use crate::deploy::failure::AwsFailure;

/// Creates the route of `key` to `function`'s integration.
pub(super) async fn create(
    clients: &AwsClients,
    ctx: &Ctx,
    key: &str,
    function: &str,
) -> Result<(), DeployError> {
    let api = need_api(ctx)?;
    let target = integration_target(ctx, function)?;
    clients
        .apigw
        .create_route()
        .api_id(api)
        .route_key(key)
        .target(target)
        .send()
        .await
        .map_err(|e| DeployError::aws("creating", format!("route `{key}`"), AwsFailure::of(&e)))?;
    Ok(())
}

/// Points an existing route at `function`'s integration.
pub(super) async fn update(
    clients: &AwsClients,
    ctx: &Ctx,
    id: &str,
    key: &str,
    function: &str,
) -> Result<(), DeployError> {
    let api = need_api(ctx)?;
    let target = integration_target(ctx, function)?;
    clients
        .apigw
        .update_route()
        .api_id(api)
        .route_id(id)
        .target(target)
        .send()
        .await
        .map_err(|e| DeployError::aws("updating", format!("route `{key}`"), AwsFailure::of(&e)))?;
    Ok(())
}

/// Deletes a route; already gone is done.
pub(super) async fn delete(
    clients: &AwsClients,
    ctx: &Ctx,
    id: &str,
    key: &str,
) -> Result<(), DeployError> {
    let api = need_api(ctx)?;
    let result = clients
        .apigw
        .delete_route()
        .api_id(api)
        .route_id(id)
        .send()
        .await;
    gone_ok(result, "deleting", format!("route `{key}`"))
}

fn integration_target(ctx: &Ctx, function: &str) -> Result<String, DeployError> {
    ctx.integrations
        .get(function)
        .map(|id| format!("integrations/{id}"))
        .ok_or_else(|| {
            DeployError::incomplete("routing to", format!("function {function}"), "integration")
        })
}
