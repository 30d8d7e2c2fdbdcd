//! The HTTP API: created tagged as the app's; deleted with everything in it.

use std::collections::HashMap;

use aws_sdk_apigatewayv2::types::ProtocolType;

use nextr::manifest::Cors;

use super::{gone_ok, need_api, AwsClients, Ctx, DeployError};
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

/// Sets the API's `CorsConfiguration` (`UpdateApi`), or removes it
/// (`DeleteCorsConfiguration`; already gone is done).
pub(super) async fn set_cors(
    clients: &AwsClients,
    ctx: &Ctx,
    cors: Option<&Cors>,
) -> Result<(), DeployError> {
    let api = need_api(ctx)?;
    let Some(c) = cors else {
        let result = clients
            .apigw
            .delete_cors_configuration()
            .api_id(api)
            .send()
            .await;
        return gone_ok(
            result,
            "deleting",
            format!("the CORS configuration of API {api}"),
        );
    };
    let config = aws_sdk_apigatewayv2::types::Cors::builder()
        .set_allow_origins(Some(c.allow_origins.clone()))
        .set_allow_methods(Some(c.allow_methods.clone()))
        .set_allow_headers(Some(c.allow_headers.clone()))
        .set_expose_headers(Some(c.expose_headers.clone()))
        .allow_credentials(c.allow_credentials)
        .set_max_age(c.max_age_s.and_then(|a| i32::try_from(a).ok()))
        .build();
    clients
        .apigw
        .update_api()
        .api_id(api)
        .cors_configuration(config)
        .send()
        .await
        .map_err(|e| {
            DeployError::aws(
                "updating",
                format!("the CORS configuration of API {api}"),
                AwsFailure::of(&e),
            )
        })?;
    Ok(())
}
