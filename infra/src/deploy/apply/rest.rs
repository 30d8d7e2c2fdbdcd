//! The REST API: created tagged as the app's; its resources, `ANY` methods and Lambda proxy
//! integrations; deployments and the stage; deleted with everything in it.

use std::collections::HashMap;

use aws_sdk_apigateway::types::{
    EndpointConfiguration, EndpointType, IntegrationType, Op, PatchOperation, ResponseTransferMode,
};
use nextr::manifest::ResponseMode;

use super::{gone_ok, AwsClients, Ctx, DeployError};
use crate::deploy::aws::partition;
use crate::deploy::desired::{DesiredFunction, ALIAS};
use crate::deploy::failure::AwsFailure;
use crate::deploy::rest::{self, Preflight, METHOD, PREFLIGHT_METHOD, PREFLIGHT_STATUS};

/// Creates the REST API; returns its id and its root resource's id.
pub(super) async fn create_api(
    clients: &AwsClients,
    name: &str,
    tags: HashMap<String, String>,
) -> Result<(String, Option<String>), DeployError> {
    let resource = || format!("REST API {name}");
    let out = clients
        .rest
        .create_rest_api()
        .name(name)
        .description("nextr app (managed by nextr deploy)")
        // Regional: streaming and the 15-minute timeout need no CloudFront in front.
        .endpoint_configuration(
            EndpointConfiguration::builder()
                .types(EndpointType::Regional)
                .build(),
        )
        .set_tags(Some(tags))
        // Every body travels as bytes (base64 in the event and the response), as the runtime
        // and `gateway::rest_api` expect; see `BINARY_MEDIA_TYPES`.
        .set_binary_media_types(Some(
            crate::gateway::rest_api::BINARY_MEDIA_TYPES
                .iter()
                .map(|t| t.to_string())
                .collect(),
        ))
        .send()
        .await
        .map_err(|e| DeployError::aws("creating", resource(), AwsFailure::of(&e)))?;
    let id = out
        .id()
        .ok_or_else(|| DeployError::incomplete("creating", resource(), "id"))?;
    Ok((id.to_string(), out.root_resource_id().map(str::to_string)))
}

/// The root resource's id, read when the create answer lacked it.
pub(super) async fn root_id(clients: &AwsClients, api: &str) -> Result<String, DeployError> {
    let resource = || format!("resources of REST API {api}");
    let out = clients
        .rest
        .get_resources()
        .rest_api_id(api)
        .limit(500)
        .send()
        .await
        .map_err(|e| DeployError::aws("listing", resource(), AwsFailure::of(&e)))?;
    out.items()
        .iter()
        .find(|r| r.path() == Some("/"))
        .and_then(|r| r.id())
        .map(str::to_string)
        .ok_or_else(|| DeployError::incomplete("listing", resource(), "the root resource"))
}

/// The kept REST API's id.
fn need_api(ctx: &Ctx) -> Result<&str, DeployError> {
    ctx.rest_api_id
        .as_deref()
        .ok_or_else(|| DeployError::incomplete("applying", "the plan", "REST API id"))
}

/// The id of the resource at `path`, created or observed before.
fn resource_id<'a>(ctx: &'a Ctx, path: &str) -> Result<&'a str, DeployError> {
    ctx.rest_resources
        .get(path)
        .map(String::as_str)
        .ok_or_else(|| DeployError::incomplete("applying", format!("resource {path}"), "id"))
}

/// Creates the resource at `path` under its parent; returns its id.
pub(super) async fn create_resource(
    clients: &AwsClients,
    ctx: &Ctx,
    path: &str,
) -> Result<String, DeployError> {
    let api = need_api(ctx)?;
    let (parent, part) = rest::split_parent(path)
        .ok_or_else(|| DeployError::incomplete("creating", format!("resource {path}"), "parent"))?;
    let parent_id = resource_id(ctx, parent)?;
    let out = clients
        .rest
        .create_resource()
        .rest_api_id(api)
        .parent_id(parent_id)
        .path_part(part)
        .send()
        .await
        .map_err(|e| {
            DeployError::aws("creating", format!("resource {path}"), AwsFailure::of(&e))
        })?;
    out.id()
        .map(str::to_string)
        .ok_or_else(|| DeployError::incomplete("creating", format!("resource {path}"), "id"))
}

/// Creates the `ANY` method of the resource at `path`, open to all (the function decides).
pub(super) async fn put_method(
    clients: &AwsClients,
    ctx: &Ctx,
    path: &str,
) -> Result<(), DeployError> {
    let api = need_api(ctx)?;
    clients
        .rest
        .put_method()
        .rest_api_id(api)
        .resource_id(resource_id(ctx, path)?)
        .http_method(METHOD)
        .authorization_type("NONE")
        .send()
        .await
        .map_err(|e| {
            DeployError::aws("creating", format!("method ANY {path}"), AwsFailure::of(&e))
        })?;
    Ok(())
}

/// Creates or replaces the Lambda proxy integration of `ANY path` to `f`'s alias: streamed
/// (`STREAM` and the response-streaming URI) or buffered, per the function's mode.
pub(super) async fn put_integration(
    clients: &AwsClients,
    ctx: &Ctx,
    path: &str,
    f: &DesiredFunction,
    mode: ResponseMode,
) -> Result<(), DeployError> {
    let api = need_api(ctx)?;
    let resource = || format!("the integration of ANY {path}");
    let fn_arn = ctx
        .arns
        .get(&f.name)
        .ok_or_else(|| DeployError::incomplete("integrating", resource(), "FunctionArn"))?;
    let part = fn_arn
        .split(':')
        .nth(1)
        .unwrap_or_else(|| partition(clients.region()));
    let uri = rest::integration_uri(part, clients.region(), &format!("{fn_arn}:{ALIAS}"), mode);
    let transfer = match mode {
        ResponseMode::Buffered => ResponseTransferMode::Buffered,
        ResponseMode::Stream => ResponseTransferMode::Stream,
    };
    clients
        .rest
        .put_integration()
        .rest_api_id(api)
        .resource_id(resource_id(ctx, path)?)
        .http_method(METHOD)
        .r#type(IntegrationType::AwsProxy)
        // Lambda's Invoke API is a POST, whatever the client's method.
        .integration_http_method("POST")
        .uri(uri)
        .response_transfer_mode(transfer)
        .timeout_in_millis(rest::timeout_ms(f.spec.timeout_s, mode))
        .send()
        .await
        .map_err(|e| DeployError::aws("putting", resource(), AwsFailure::of(&e)))?;
    Ok(())
}

/// Creates the `OPTIONS` method answering CORS preflights at `path`: authorization `NONE`
/// (browsers send preflights without credentials), a `200` method response declaring the
/// headers, a `MOCK` integration selecting `200`, and its integration response setting the
/// headers' fixed values. `replace` deletes the method there first.
pub(super) async fn put_preflight(
    clients: &AwsClients,
    ctx: &Ctx,
    path: &str,
    preflight: &Preflight,
    replace: bool,
) -> Result<(), DeployError> {
    if replace {
        delete_method(clients, ctx, path, PREFLIGHT_METHOD).await?;
    }
    let api = need_api(ctx)?;
    let id = resource_id(ctx, path)?;
    let what = || format!("CORS preflight {PREFLIGHT_METHOD} {path}");
    clients
        .rest
        .put_method()
        .rest_api_id(api)
        .resource_id(id)
        .http_method(PREFLIGHT_METHOD)
        .authorization_type("NONE")
        .send()
        .await
        .map_err(|e| DeployError::aws("creating", what(), AwsFailure::of(&e)))?;
    clients
        .rest
        .put_method_response()
        .rest_api_id(api)
        .resource_id(id)
        .http_method(PREFLIGHT_METHOD)
        .status_code(PREFLIGHT_STATUS)
        .set_response_parameters(Some(
            preflight.method_response_parameters().into_iter().collect(),
        ))
        .send()
        .await
        .map_err(|e| DeployError::aws("creating", what(), AwsFailure::of(&e)))?;
    let (content_type, template) = rest::MOCK_REQUEST_TEMPLATE;
    clients
        .rest
        .put_integration()
        .rest_api_id(api)
        .resource_id(id)
        .http_method(PREFLIGHT_METHOD)
        .r#type(IntegrationType::Mock)
        .request_templates(content_type, template)
        .send()
        .await
        .map_err(|e| DeployError::aws("integrating", what(), AwsFailure::of(&e)))?;
    clients
        .rest
        .put_integration_response()
        .rest_api_id(api)
        .resource_id(id)
        .http_method(PREFLIGHT_METHOD)
        .status_code(PREFLIGHT_STATUS)
        .set_response_parameters(Some(
            preflight
                .integration_response_parameters()
                .into_iter()
                .collect(),
        ))
        .send()
        .await
        .map_err(|e| DeployError::aws("integrating", what(), AwsFailure::of(&e)))?;
    Ok(())
}

/// Deletes a method; already gone is done.
pub(super) async fn delete_method(
    clients: &AwsClients,
    ctx: &Ctx,
    path: &str,
    method: &str,
) -> Result<(), DeployError> {
    let api = need_api(ctx)?;
    let Ok(id) = resource_id(ctx, path) else {
        return Ok(());
    };
    let result = clients
        .rest
        .delete_method()
        .rest_api_id(api)
        .resource_id(id)
        .http_method(method)
        .send()
        .await;
    gone_ok(result, "deleting", format!("method {method} {path}"))
}

/// Deletes a resource (its children are deleted before); already gone is done.
pub(super) async fn delete_resource(
    clients: &AwsClients,
    ctx: &Ctx,
    id: &str,
    path: &str,
) -> Result<(), DeployError> {
    let api = need_api(ctx)?;
    let result = clients
        .rest
        .delete_resource()
        .rest_api_id(api)
        .resource_id(id)
        .send()
        .await;
    gone_ok(result, "deleting", format!("resource {path}"))
}

/// Snapshots the API in a deployment described by `description`; returns its id.
pub(super) async fn create_deployment(
    clients: &AwsClients,
    ctx: &Ctx,
    description: &str,
) -> Result<String, DeployError> {
    let api = need_api(ctx)?;
    let resource = || format!("a deployment of REST API {api}");
    let out = clients
        .rest
        .create_deployment()
        .rest_api_id(api)
        .description(description)
        .send()
        .await
        .map_err(|e| DeployError::aws("creating", resource(), AwsFailure::of(&e)))?;
    out.id()
        .map(str::to_string)
        .ok_or_else(|| DeployError::incomplete("creating", resource(), "id"))
}

/// The deployment this apply created.
fn need_deployment(ctx: &Ctx) -> Result<&str, DeployError> {
    ctx.deployment_id
        .as_deref()
        .ok_or_else(|| DeployError::incomplete("staging", "the REST API", "deployment id"))
}

/// Creates the stage on the new deployment.
pub(super) async fn create_stage(
    clients: &AwsClients,
    ctx: &Ctx,
    stage: &str,
    tags: HashMap<String, String>,
) -> Result<(), DeployError> {
    let api = need_api(ctx)?;
    clients
        .rest
        .create_stage()
        .rest_api_id(api)
        .stage_name(stage)
        .deployment_id(need_deployment(ctx)?)
        .set_tags(Some(tags))
        .send()
        .await
        .map_err(|e| DeployError::aws("creating", format!("stage {stage}"), AwsFailure::of(&e)))?;
    Ok(())
}

/// Points the stage at the new deployment.
pub(super) async fn update_stage(
    clients: &AwsClients,
    ctx: &Ctx,
    stage: &str,
) -> Result<(), DeployError> {
    let api = need_api(ctx)?;
    clients
        .rest
        .update_stage()
        .rest_api_id(api)
        .stage_name(stage)
        .patch_operations(
            PatchOperation::builder()
                .op(Op::Replace)
                .path("/deploymentId")
                .value(need_deployment(ctx)?)
                .build(),
        )
        .send()
        .await
        .map_err(|e| DeployError::aws("updating", format!("stage {stage}"), AwsFailure::of(&e)))?;
    Ok(())
}

/// Sets and removes the stage's method settings throttles in one `UpdateStage`.
pub(super) async fn set_throttle(
    clients: &AwsClients,
    ctx: &Ctx,
    stage: &str,
    set: &std::collections::BTreeMap<String, nextr::manifest::Throttle>,
    remove: &[String],
) -> Result<(), DeployError> {
    let api = need_api(ctx)?;
    let op = |op: Op, path: String, value: Option<String>| {
        PatchOperation::builder()
            .op(op)
            .path(path)
            .set_value(value)
            .build()
    };
    let mut ops = Vec::new();
    for (key, t) in set {
        ops.push(op(
            Op::Replace,
            format!("/{key}/throttling/rateLimit"),
            Some(t.rate.to_string()),
        ));
        ops.push(op(
            Op::Replace,
            format!("/{key}/throttling/burstLimit"),
            Some(t.burst.to_string()),
        ));
    }
    for key in remove {
        ops.push(op(Op::Remove, format!("/{key}"), None));
    }
    clients
        .rest
        .update_stage()
        .rest_api_id(api)
        .stage_name(stage)
        .set_patch_operations(Some(ops))
        .send()
        .await
        .map_err(|e| {
            DeployError::aws(
                "updating",
                format!("the throttling of stage {stage}"),
                AwsFailure::of(&e),
            )
        })?;
    Ok(())
}

/// Deletes deployments no stage serves; one already gone is done.
pub(super) async fn delete_deployments(
    clients: &AwsClients,
    ctx: &Ctx,
    ids: &[String],
) -> Result<(), DeployError> {
    let api = need_api(ctx)?;
    for id in ids {
        let result = clients
            .rest
            .delete_deployment()
            .rest_api_id(api)
            .deployment_id(id)
            .send()
            .await;
        gone_ok(
            result,
            "deleting",
            format!("deployment {id} of REST API {api}"),
        )?;
    }
    Ok(())
}

/// Deletes a REST API with everything in it; already gone is done.
pub(super) async fn delete_api(
    clients: &AwsClients,
    id: &str,
    name: &str,
) -> Result<(), DeployError> {
    let result = clients.rest.delete_rest_api().rest_api_id(id).send().await;
    gone_ok(result, "deleting", format!("REST API {name} ({id})"))
}

/// Adds binary media types to an existing REST API. The path names the type (`/` escaped as
/// `~1`, as JSON Patch paths require), which is what API Gateway reads; the value repeats it
/// for servers that read the value instead (moto).
pub(super) async fn add_binary_media_types(
    clients: &AwsClients,
    id: &str,
    types: &[String],
) -> Result<(), DeployError> {
    let ops = types
        .iter()
        .map(|t| {
            PatchOperation::builder()
                .op(Op::Add)
                .path(format!(
                    "/binaryMediaTypes/{}",
                    t.replace('~', "~0").replace('/', "~1")
                ))
                .value(t)
                .build()
        })
        .collect();
    clients
        .rest
        .update_rest_api()
        .rest_api_id(id)
        .set_patch_operations(Some(ops))
        .send()
        .await
        .map_err(|e| DeployError::aws("updating", format!("REST API {id}"), AwsFailure::of(&e)))?;
    Ok(())
}

/// After creating the API: adds the binary media types the server did not keep from the
/// create call (API Gateway keeps them; moto ignores them), so one deploy converges.
pub(super) async fn ensure_binary_media_types(
    clients: &AwsClients,
    id: &str,
) -> Result<(), DeployError> {
    let api = clients
        .rest
        .get_rest_api()
        .rest_api_id(id)
        .send()
        .await
        .map_err(|e| DeployError::aws("reading", format!("REST API {id}"), AwsFailure::of(&e)))?;
    let missing: Vec<String> = crate::gateway::rest_api::BINARY_MEDIA_TYPES
        .iter()
        .filter(|t| !api.binary_media_types().iter().any(|o| o == *t))
        .map(|t| t.to_string())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    add_binary_media_types(clients, id, &missing).await
}
