//! Logs in the template, as deploy makes them: each function's log group
//! (`/aws/lambda/<function>`, named by reference so the serverless rules' WS1004 sees it)
//! with its retention, the access log group and the stage's access log settings, and the
//! role's `nextr-logs` policy on exactly those groups (an `AWS::IAM::Policy`: in the role, it
//! would make a cycle through the functions). A REST stack also sets the account's API
//! Gateway CloudWatch role (kept when the stack goes: other REST APIs log through it).
//!
//! Tracing stays off (the serverless rules WS1000 for functions and WS2002 for a REST stage,
//! ignored on those resources with a `cfn-lint` metadata entry): X-Ray costs per trace, needs
//! `xray:PutTraceSegments` on the role, and nextr's runtime sends no segments of its own, so
//! turning it on would bill for empty traces. The README says so.

use nextr::manifest::{GatewayKind, Manifest};
use serde_json::{json, Map, Value};

use super::Entry;
use crate::deploy::logs::{
    GATEWAY_LOGS_POLICY, POLICY_NAME, REST_ACCESS_LOG_FORMAT, STATEMENT_SID,
};

/// The access log group's logical id.
pub(super) const ACCESS_LOG_GROUP_ID: &str = "AccessLogGroup";

/// A resource's metadata asking cfn-lint to skip a tracing rule (see the module docs).
pub(super) fn tracing_off(rule: &str) -> Value {
    json!({ "cfn-lint": { "config": { "ignore_checks": [rule] } } })
}

/// The log group of the function `id`, with its retention.
pub(super) fn function_group(
    resources: &mut Map<String, Value>,
    id: &str,
    days: u32,
    tag_list: &Value,
) {
    resources.insert(
        format!("{id}LogGroup"),
        json!({
            "Type": "AWS::Logs::LogGroup",
            "Properties": {
                "LogGroupName": { "Fn::Sub": format!("/aws/lambda/${{{id}}}") },
                "RetentionInDays": days,
                "Tags": tag_list
            }
        }),
    );
}

/// The access log group, each role's logs policy and, for a REST API, the stage's access logs
/// and the account's CloudWatch role.
pub(super) fn shared(
    resources: &mut Map<String, Value>,
    app: &str,
    entries: &[Entry<'_>],
    manifest: &Manifest,
    tag_list: &Value,
) {
    resources.insert(
        ACCESS_LOG_GROUP_ID.into(),
        json!({
            "Type": "AWS::Logs::LogGroup",
            "Properties": {
                "LogGroupName": { "Fn::Sub": format!("/aws/apigateway/{app}-${{Stage}}") },
                "RetentionInDays": manifest.deploy.log_retention_days,
                "Tags": tag_list
            }
        }),
    );
    // One policy per role, on exactly the groups of the functions running as it.
    let mut by_role: Vec<(String, Vec<Value>)> = Vec::new();
    for e in entries {
        let role = super::access::role_id(manifest, e);
        let group = json!({ "Fn::GetAtt": [format!("{}LogGroup", e.id), "Arn"] });
        match by_role.iter_mut().find(|(r, _)| *r == role) {
            Some((_, groups)) => groups.push(group),
            None => by_role.push((role, vec![group])),
        }
    }
    for (role, groups) in by_role {
        let id = match role.strip_suffix("Role") {
            Some(entry) if role != "ExecutionRole" => format!("{entry}LogsPolicy"),
            _ => "LogsPolicy".to_owned(),
        };
        resources.insert(
            id,
            json!({
                "Type": "AWS::IAM::Policy",
                "Properties": {
                    "PolicyName": POLICY_NAME,
                    "Roles": [{ "Ref": role }],
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [{
                            "Sid": STATEMENT_SID,
                            "Effect": "Allow",
                            "Action": crate::deploy::logs::ACTIONS,
                            "Resource": groups
                        }]
                    }
                }
            }),
        );
    }
    if manifest.gateway.kind != GatewayKind::Rest {
        return;
    }
    // API Gateway writes a REST API's access logs through the account's CloudWatch role.
    // Retained: the setting is the account's, and other REST APIs may log through it.
    resources.insert(
        "ApiGatewayLogsRole".into(),
        json!({
            "Type": "AWS::IAM::Role",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "Description": "API Gateway's CloudWatch role for this account's REST API logs",
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Effect": "Allow",
                        "Principal": { "Service": "apigateway.amazonaws.com" },
                        "Action": "sts:AssumeRole"
                    }]
                },
                "ManagedPolicyArns": [
                    { "Fn::Sub": format!("arn:${{AWS::Partition}}:iam::aws:policy/{GATEWAY_LOGS_POLICY}") }
                ]
            }
        }),
    );
    resources.insert(
        "ApiGatewayAccount".into(),
        json!({
            "Type": "AWS::ApiGateway::Account",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "CloudWatchRoleArn": { "Fn::GetAtt": ["ApiGatewayLogsRole", "Arn"] }
            }
        }),
    );
    if let Some(stage) = resources.get_mut(super::rest::STAGE_ID) {
        stage["Properties"]["AccessLogSetting"] = json!({
            "DestinationArn": { "Fn::GetAtt": [ACCESS_LOG_GROUP_ID, "Arn"] },
            "Format": REST_ACCESS_LOG_FORMAT
        });
        stage["DependsOn"] = json!(["ApiGatewayAccount"]);
        stage["Metadata"] = tracing_off("WS2002");
    }
}
