//! The HTTP API: created tagged as the app's; deleted with everything in it.

use std::collections::HashMap;

use aws_sdk_apigatewayv2::types::ProtocolType;

use super::{gone_ok, AwsClients, DeployError};
use crate::deploy::failure::AwsFailure;

/// Creates the API; returns its id and its invoke URL.
pub(super) async fn create(
    clients: &AwsClients,
    name: &str,
    tags: HashMap<String, String>,
) -> Result<(String, Option<String>), DeployError> {
    let out = clients
        .apigw
        .create_api()
        .name(name)
        .protocol_type(ProtocolType::Http)
        .set_tags(Some(tags))
        .send()
        .await
        .map_err(|e| {
            DeployError::aws("creating", format!("HTTP API {name}"), AwsFailure::of(&e))
        })?;
    let id = out
        .api_id()
        .ok_or_else(|| DeployError::incomplete("creating", name.to_string(), "ApiId"))?;
    Ok((id.to_string(), out.api_endpoint().map(str::to_string)))
}

/// Deletes the API with its routes, integrations and stages; already gone is done.
pub(super) async fn delete(clients: &AwsClients, id: &str, name: &str) -> Result<(), DeployError> {
    let result = clients.apigw.delete_api().api_id(id).send().await;
    gone_ok(result, "deleting", format!("HTTP API {name} ({id})"))
}
