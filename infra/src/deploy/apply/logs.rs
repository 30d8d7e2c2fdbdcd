//! Logs: the log groups (created tagged, with their retention; retention changed; deleted),
//! the role's `nextr-logs` policy, the access logs of both kinds of stage, and the account's
//! API Gateway CloudWatch role a REST API's access logs need.

use std::time::{Duration, Instant};

use aws_sdk_apigateway::types::{Op, PatchOperation};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::{gone_ok, AwsClients, Ctx, DeployError};
use crate::deploy::aws::partition;
use crate::deploy::failure::AwsFailure;
use crate::deploy::logs::{
    self, access_log_format, access_log_group, log_group_arn, GATEWAY_LOGS_POLICY, POLICY_NAME,
};
use crate::deploy::rewrite::{self, InvokeTargets};
use crate::deploy::Target;
use nextr::manifest::GatewayKind;

/// How long IAM may take before API Gateway accepts a new CloudWatch role.
const GATEWAY_ROLE_PROPAGATION: Duration = Duration::from_secs(90);

/// Creates a log group tagged as the app's, then sets its retention (`CreateLogGroup` takes
/// none). A group Lambda created meanwhile (an invocation between observing and now) is
/// adopted.
pub(super) async fn create_group(
    clients: &AwsClients,
    target: Option<&Target>,
    name: &str,
    days: u32,
) -> Result<(), DeployError> {
    let result = clients
        .logs
        .create_log_group()
        .log_group_name(name)
        .set_tags(target.map(Target::tags))
        .send()
        .await;
    match result {
        Ok(_) => {}
        Err(e) if e.code() == Some("ResourceAlreadyExistsException") => {}
        Err(e) => {
            return Err(DeployError::aws(
                "creating",
                format!("log group {name}"),
                AwsFailure::of(&e),
            ))
        }
    }
    set_retention(clients, name, days).await
}

/// Sets how long a log group keeps events.
pub(super) async fn set_retention(
    clients: &AwsClients,
    name: &str,
    days: u32,
) -> Result<(), DeployError> {
    clients
        .logs
        .put_retention_policy()
        .log_group_name(name)
        .retention_in_days(i32::try_from(days).unwrap_or(i32::MAX))
        .send()
        .await
        .map_err(|e| {
            DeployError::aws(
                "setting the retention of",
                format!("log group {name}"),
                AwsFailure::of(&e),
            )
        })?;
    Ok(())
}

/// Deletes a log group; already gone is done.
pub(super) async fn delete_group(clients: &AwsClients, name: &str) -> Result<(), DeployError> {
    let result = clients
        .logs
        .delete_log_group()
        .log_group_name(name)
        .send()
        .await;
    gone_ok(result, "deleting", format!("log group {name}"))
}

/// `(partition, account)` of the app: its role's, else any of its functions'.
fn partition_and_account(ctx: &Ctx) -> Option<(String, String)> {
    let of_role = ctx
        .role_arn
        .as_deref()
        .and_then(rewrite::partition_and_account);
    let of_function = || {
        ctx.arns.values().find_map(|arn| {
            let mut parts = arn.split(':');
            let (_arn, partition, _service, _region, account) = (
                parts.next()?,
                parts.next()?,
                parts.next()?,
                parts.next()?,
                parts.next()?,
            );
            Some((partition, account))
        })
    };
    of_role
        .or_else(of_function)
        .map(|(p, a)| (p.to_owned(), a.to_owned()))
}

/// The access log group's ARN, as a stage's `DestinationArn`.
pub(super) fn access_log_destination(
    clients: &AwsClients,
    ctx: &Ctx,
    target: &Target,
) -> Result<String, DeployError> {
    let (partition, account) = partition_and_account(ctx).ok_or_else(|| {
        DeployError::incomplete("applying", "the access logs", "account of the role")
    })?;
    Ok(log_group_arn(
        &partition,
        clients.region(),
        &account,
        &access_log_group(target),
    ))
}

/// The access log settings of an HTTP API stage.
pub(super) fn http_access_logs(
    clients: &AwsClients,
    ctx: &Ctx,
    target: &Target,
) -> Result<aws_sdk_apigatewayv2::types::AccessLogSettings, DeployError> {
    Ok(aws_sdk_apigatewayv2::types::AccessLogSettings::builder()
        .destination_arn(access_log_destination(clients, ctx, target)?)
        .format(access_log_format(GatewayKind::Http))
        .build())
}

/// Points the HTTP API's stage access logs at the access log group.
pub(super) async fn set_http_access_logs(
    clients: &AwsClients,
    ctx: &Ctx,
    target: &Target,
) -> Result<(), DeployError> {
    let api = super::need_api(ctx)?;
    let stage = crate::deploy::desired::API_STAGE;
    clients
        .apigw
        .update_stage()
        .api_id(api)
        .stage_name(stage)
        .access_log_settings(http_access_logs(clients, ctx, target)?)
        .send()
        .await
        .map_err(|e| {
            DeployError::aws(
                "updating",
                format!("the access logs of stage {stage}"),
                AwsFailure::of(&e),
            )
        })?;
    Ok(())
}

/// Points the REST stage's access logs at the access log group.
pub(super) async fn set_rest_access_logs(
    clients: &AwsClients,
    ctx: &Ctx,
    target: &Target,
    stage: &str,
) -> Result<(), DeployError> {
    let api = ctx
        .rest_api_id
        .as_deref()
        .ok_or_else(|| DeployError::incomplete("applying", "the plan", "REST API id"))?;
    let op = |path: &str, value: String| {
        PatchOperation::builder()
            .op(Op::Replace)
            .path(path)
            .value(value)
            .build()
    };
    clients
        .rest
        .update_stage()
        .rest_api_id(api)
        .stage_name(stage)
        .patch_operations(op(
            "/accessLogSettings/destinationArn",
            access_log_destination(clients, ctx, target)?,
        ))
        .patch_operations(op(
            "/accessLogSettings/format",
            access_log_format(GatewayKind::Rest).to_owned(),
        ))
        .send()
        .await
        .map_err(|e| {
            DeployError::aws(
                "updating",
                format!("the access logs of stage {stage}"),
                AwsFailure::of(&e),
            )
        })?;
    Ok(())
}

/// Puts `nextr-logs` on the role: the functions of `targets` may write their log groups.
pub(super) async fn put_policy(
    clients: &AwsClients,
    ctx: &Ctx,
    role: &str,
    targets: &InvokeTargets,
) -> Result<(), DeployError> {
    let (partition, account) = super::role::partition_and_account(ctx, role)?;
    let document = logs::policy(partition, clients.region(), account, targets);
    super::role::put_inline_policy(clients, role, POLICY_NAME, &document).await
}

/// Gives the account's API Gateway settings the CloudWatch role `role`: found or created
/// (trusting API Gateway, with AWS's managed push policy), then set, retrying while IAM
/// propagates the new role. Returns the role's ARN.
pub(super) async fn set_gateway_role(
    clients: &AwsClients,
    role: &str,
) -> Result<String, DeployError> {
    let resource = || format!("IAM role {role}");
    let arn = match clients.iam.get_role().role_name(role).send().await {
        Ok(out) => out.role().map(|r| r.arn().to_owned()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_no_such_entity_exception()) =>
        {
            None
        }
        Err(e) => return Err(DeployError::aws("reading", resource(), AwsFailure::of(&e))),
    };
    let arn = match arn {
        Some(arn) => arn,
        None => {
            let trust = serde_json::json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": { "Service": "apigateway.amazonaws.com" },
                    "Action": "sts:AssumeRole"
                }]
            });
            let out = clients
                .iam
                .create_role()
                .role_name(role)
                .assume_role_policy_document(trust.to_string())
                .description("API Gateway's CloudWatch role for this account's REST API logs (set by nextr deploy; shared, never removed by nextr)")
                .send()
                .await
                .map_err(|e| DeployError::aws("creating", resource(), AwsFailure::of(&e)))?;
            out.role()
                .map(|r| r.arn().to_owned())
                .ok_or_else(|| DeployError::incomplete("creating", resource(), "Arn"))?
        }
    };
    let part = arn
        .split(':')
        .nth(1)
        .unwrap_or_else(|| partition(clients.region()));
    super::role::attach_policy(
        clients,
        role,
        &format!("arn:{part}:iam::aws:policy/{GATEWAY_LOGS_POLICY}"),
    )
    .await?;
    let started = Instant::now();
    loop {
        let result = clients
            .rest
            .update_account()
            .patch_operations(
                PatchOperation::builder()
                    .op(Op::Replace)
                    .path("/cloudwatchRoleArn")
                    .value(&arn)
                    .build(),
            )
            .send()
            .await;
        match result {
            Ok(_) => return Ok(arn),
            // "The role ARN does not have required permissions set to API Gateway": IAM has
            // not propagated the new role (or its policy) yet.
            Err(e)
                if e.code() == Some("BadRequestException")
                    && started.elapsed() < GATEWAY_ROLE_PROPAGATION =>
            {
                tokio::time::sleep(Duration::from_secs(3)).await;
            }
            Err(e) => {
                return Err(DeployError::aws(
                    "setting the CloudWatch role of",
                    "the API Gateway account settings",
                    AwsFailure::of(&e),
                ))
            }
        }
    }
}
