//! The execution role: created with Lambda as its only trusted principal, with basic logging
//! attached and, for an app with a `proxy.rs`, the inline policy letting its functions invoke
//! each other; detached and deleted on removal.

use super::{gone_ok, AwsClients, Ctx, DeployError};
use crate::deploy::failure::AwsFailure;
use crate::deploy::rewrite::{self, InvokeTargets, POLICY_NAME};
use crate::deploy::Target;

/// Creates the role Lambda assumes, tagged as the app's; returns its ARN.
pub(super) async fn create(
    clients: &AwsClients,
    name: &str,
    target: Option<&Target>,
) -> Result<String, DeployError> {
    let trust = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Service": "lambda.amazonaws.com" },
            "Action": "sts:AssumeRole"
        }]
    });
    let mut tags = Vec::new();
    if let Some(t) = target {
        let mut pairs: Vec<_> = t.tags().into_iter().collect();
        pairs.sort();
        for (k, v) in pairs {
            let tag = aws_sdk_iam::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| {
                    DeployError::aws("tagging", format!("IAM role {name}"), e.to_string())
                })?;
            tags.push(tag);
        }
    }
    let out = clients
        .iam
        .create_role()
        .role_name(name)
        .assume_role_policy_document(trust.to_string())
        .description("nextr execution role: basic logging only")
        .set_tags(Some(tags))
        .send()
        .await
        .map_err(|e| {
            DeployError::aws("creating", format!("IAM role {name}"), AwsFailure::of(&e))
        })?;
    out.role()
        .map(|r| r.arn().to_string())
        .ok_or_else(|| DeployError::incomplete("creating", format!("IAM role {name}"), "Arn"))
}

/// Attaches a managed policy to the role.
pub(super) async fn attach_policy(
    clients: &AwsClients,
    role: &str,
    policy_arn: &str,
) -> Result<(), DeployError> {
    clients
        .iam
        .attach_role_policy()
        .role_name(role)
        .policy_arn(policy_arn)
        .send()
        .await
        .map_err(|e| {
            DeployError::aws(
                "attaching a policy to",
                format!("IAM role {role}"),
                AwsFailure::of(&e),
            )
        })?;
    Ok(())
}

/// Detaches a managed policy from the role; already detached is done.
pub(super) async fn detach_policy(
    clients: &AwsClients,
    role: &str,
    policy_arn: &str,
) -> Result<(), DeployError> {
    let result = clients
        .iam
        .detach_role_policy()
        .role_name(role)
        .policy_arn(policy_arn)
        .send()
        .await;
    gone_ok(
        result,
        "detaching a policy from",
        format!("IAM role {role}"),
    )
}

/// Puts the inline policy letting the app's functions invoke `targets`' `live` aliases, in the
/// role's account and partition and the clients' region.
pub(super) async fn put_invoke_policy(
    clients: &AwsClients,
    ctx: &Ctx,
    role: &str,
    targets: &InvokeTargets,
) -> Result<(), DeployError> {
    let resource = || format!("IAM role {role}");
    let (partition, account) = ctx
        .role_arn
        .as_deref()
        .and_then(rewrite::partition_and_account)
        .ok_or_else(|| DeployError::incomplete("applying", resource(), "Arn"))?;
    let document = rewrite::policy(partition, clients.region(), account, targets);
    clients
        .iam
        .put_role_policy()
        .role_name(role)
        .policy_name(POLICY_NAME)
        .policy_document(document.to_string())
        .send()
        .await
        .map_err(|e| {
            DeployError::aws(
                "putting the inline policy nextr-invoke on",
                resource(),
                AwsFailure::of(&e),
            )
        })?;
    Ok(())
}

/// Deletes the inline policy `nextr-invoke`; already gone is done.
pub(super) async fn delete_invoke_policy(
    clients: &AwsClients,
    role: &str,
) -> Result<(), DeployError> {
    let result = clients
        .iam
        .delete_role_policy()
        .role_name(role)
        .policy_name(POLICY_NAME)
        .send()
        .await;
    gone_ok(
        result,
        "deleting the inline policy nextr-invoke of",
        format!("IAM role {role}"),
    )
}

/// Deletes the role; already gone is done.
pub(super) async fn delete(clients: &AwsClients, name: &str) -> Result<(), DeployError> {
    let result = clients.iam.delete_role().role_name(name).send().await;
    gone_ok(result, "deleting", format!("IAM role {name}"))
}
