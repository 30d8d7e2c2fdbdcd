//! The execution roles: created with Lambda as their only trusted principal; their inline
//! policies (`nextr-logs`, `nextr-invoke`, `nextr-access`) put and deleted through one pair
//! of helpers; detached and deleted on removal.

use super::{gone_ok, AwsClients, Ctx, DeployError};
use crate::deploy::access;
use crate::deploy::failure::AwsFailure;
use crate::deploy::rewrite::{self, InvokeTargets, POLICY_NAME};
use crate::deploy::{Desired, Target};
use nextr::manifest::PolicyStatement;

/// Creates a role Lambda assumes, tagged as the app's (a function's own under `path`);
/// returns its ARN.
pub(super) async fn create(
    clients: &AwsClients,
    name: &str,
    path: Option<&str>,
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
        .set_path(path.map(str::to_owned))
        .assume_role_policy_document(trust.to_string())
        .description(if path.is_some() {
            "nextr execution role of one function: its own logs, its route's permissions and secrets"
        } else {
            "nextr execution role: its functions' own logs"
        })
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

/// `(partition, account)` of a managed role, from its ARN (observed, or just created).
pub(super) fn partition_and_account<'c>(
    ctx: &'c Ctx,
    role: &str,
) -> Result<(&'c str, &'c str), DeployError> {
    ctx.role_arns
        .get(role)
        .and_then(|arn| rewrite::partition_and_account(arn))
        .ok_or_else(|| DeployError::incomplete("applying", format!("IAM role {role}"), "Arn"))
}

/// Puts an inline policy on a role (replacing the one of that name): the one way nextr's
/// three (`nextr-logs`, `nextr-invoke`, `nextr-access`) are put.
pub(super) async fn put_inline_policy(
    clients: &AwsClients,
    role: &str,
    policy: &str,
    document: &serde_json::Value,
) -> Result<(), DeployError> {
    clients
        .iam
        .put_role_policy()
        .role_name(role)
        .policy_name(policy)
        .policy_document(document.to_string())
        .send()
        .await
        .map_err(|e| {
            DeployError::aws(
                "putting an inline policy on",
                format!("IAM role {role} ({policy})"),
                AwsFailure::of(&e),
            )
        })?;
    Ok(())
}

/// Deletes an inline policy of a role; already gone is done.
pub(super) async fn delete_inline_policy(
    clients: &AwsClients,
    role: &str,
    policy: &str,
) -> Result<(), DeployError> {
    let result = clients
        .iam
        .delete_role_policy()
        .role_name(role)
        .policy_name(policy)
        .send()
        .await;
    gone_ok(
        result,
        "deleting an inline policy of",
        format!("IAM role {role} ({policy})"),
    )
}

/// Puts the inline policy letting the functions invoke `targets`' `live` aliases, in the
/// role's account and partition and the clients' region.
pub(super) async fn put_invoke_policy(
    clients: &AwsClients,
    ctx: &Ctx,
    role: &str,
    targets: &InvokeTargets,
) -> Result<(), DeployError> {
    let (partition, account) = partition_and_account(ctx, role)?;
    let document = rewrite::policy(partition, clients.region(), account, targets);
    put_inline_policy(clients, role, POLICY_NAME, &document).await
}

/// Puts `nextr-access`: `statements` with their placeholders filled for the role's account
/// and partition, the clients' region, and the app and stage.
pub(super) async fn put_access_policy(
    clients: &AwsClients,
    ctx: &Ctx,
    desired: &Desired,
    role: &str,
    statements: &[PolicyStatement],
) -> Result<(), DeployError> {
    let known = partition_and_account(ctx, role)?;
    let places = crate::deploy::plan::placeholders(desired, clients.region(), Some(known));
    let document = access::document(statements, &places);
    put_inline_policy(clients, role, access::POLICY_NAME, &document).await
}

/// Deletes the role; already gone is done.
pub(super) async fn delete(clients: &AwsClients, name: &str) -> Result<(), DeployError> {
    let result = clients.iam.delete_role().role_name(name).send().await;
    gone_ok(result, "deleting", format!("IAM role {name}"))
}
