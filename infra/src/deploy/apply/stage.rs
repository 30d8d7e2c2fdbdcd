//! The `$default` stage, auto-deployed so that route changes go live without a deployment,
//! with the manifest's throttling: its default route settings (the whole stage) and route
//! settings per route key.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_apigatewayv2::types::{AccessLogSettings, RouteSettings};
use nextr::manifest::Throttle;

use super::{gone_ok, need_api, AwsClients, Ctx, DeployError};
use crate::deploy::desired::{Desired, API_STAGE};
use crate::deploy::failure::AwsFailure;

/// Route settings carrying a throttle; `None`: settings without one (a stage's default
/// route settings cannot be deleted, only emptied).
fn settings(throttle: Option<Throttle>) -> RouteSettings {
    RouteSettings::builder()
        .set_throttling_rate_limit(throttle.map(|t| f64::from(t.rate)))
        .set_throttling_burst_limit(throttle.and_then(|t| i32::try_from(t.burst).ok()))
        .build()
}

fn route_settings(routes: &BTreeMap<String, Throttle>) -> HashMap<String, RouteSettings> {
    routes
        .iter()
        .map(|(k, t)| (k.clone(), settings(Some(*t))))
        .collect()
}

/// Creates the stage with auto-deploy on, the manifest's throttling and access logs.
pub(super) async fn create(
    clients: &AwsClients,
    ctx: &Ctx,
    desired: &Desired,
    access_logs: AccessLogSettings,
) -> Result<(), DeployError> {
    let api = need_api(ctx)?;
    let protections = &desired.protections;
    let mut request = clients
        .apigw
        .create_stage()
        .api_id(api)
        .stage_name(API_STAGE)
        .auto_deploy(true)
        .access_log_settings(access_logs)
        .set_tags(Some(desired.target.tags()));
    if protections.throttle.is_some() {
        request = request.default_route_settings(settings(protections.throttle));
    }
    if !protections.route_throttles.is_empty() {
        request = request.set_route_settings(Some(route_settings(&protections.route_throttles)));
    }
    request.send().await.map_err(|e| {
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

/// Sets the stage's default throttling (`None`: default route settings without limits) and
/// these routes'.
pub(super) async fn set_throttle(
    clients: &AwsClients,
    ctx: &Ctx,
    default: Option<Throttle>,
    routes: &BTreeMap<String, Throttle>,
) -> Result<(), DeployError> {
    let api = need_api(ctx)?;
    let mut request = clients
        .apigw
        .update_stage()
        .api_id(api)
        .stage_name(API_STAGE)
        .default_route_settings(settings(default));
    if !routes.is_empty() {
        request = request.set_route_settings(Some(route_settings(routes)));
    }
    request.send().await.map_err(|e| {
        DeployError::aws(
            "updating",
            format!("the throttling of stage {API_STAGE}"),
            AwsFailure::of(&e),
        )
    })?;
    Ok(())
}

/// Deletes one route's settings from the stage; already gone is done.
pub(super) async fn delete_route_settings(
    clients: &AwsClients,
    ctx: &Ctx,
    key: &str,
) -> Result<(), DeployError> {
    let api = need_api(ctx)?;
    let result = clients
        .apigw
        .delete_route_settings()
        .api_id(api)
        .stage_name(API_STAGE)
        .route_key(key)
        .send()
        .await;
    gone_ok(
        result,
        "deleting",
        format!("the route settings of {key} in stage {API_STAGE}"),
    )
}
