//! The `$default` stage, auto-deployed so that route changes go live without a deployment.

use std::collections::HashMap;

use super::{need_api, AwsClients, Ctx, DeployError};
use crate::deploy::desired::API_STAGE;
use crate::deploy::failure::AwsFailure;

/// Creates the stage with auto-deploy on.
pub(super) async fn create(
    clients: &AwsClients,
    ctx: &Ctx,
    tags: HashMap<String, String>,
) -> Result<(), DeployError> {
    let api = need_api(ctx)?;
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
            DeployError::aws("creating", format!("stage {API_STAGE}"), AwsFailure::of(&e))
        })?;
    Ok(())
}

/// Turns the stage's auto-deploy back on.
pub(super) async fn update(clients: &AwsClients, ctx: &Ctx) -> Result<(), DeployError> {
    let api = need_api(ctx)?;
    clients
        .apigw
        .update_stage()
        .api_id(api)
        .stage_name(API_STAGE)
        .auto_deploy(true)
        .send()
        .await
        .map_err(|e| {
            DeployError::aws("updating", format!("stage {API_STAGE}"), AwsFailure::of(&e))
        })?;
    Ok(())
}
