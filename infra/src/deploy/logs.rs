//! What deploy knows about logs, pure: the log groups it creates (each function's
//! `/aws/lambda/<function>`, where Lambda writes, and the gateway's access log group), the
//! access log format, and the execution role's permission to write them.
//!
//! Lambda creates a function's log group at its first invocation, with no retention (events
//! kept forever) and nothing removes it; deploy creates it first with the manifest's
//! retention, and `nextr remove` deletes it. The role may write to exactly those groups
//! ([`POLICY_NAME`]: `logs:CreateLogStream` and `logs:PutLogEvents`, no `logs:CreateLogGroup`,
//! since deploy makes the groups); an app whose list of groups would not fit its share of
//! IAM's inline policy size gets name patterns, as the invoke grant does
//! ([`InvokeTargets::of`]).

use serde_json::{json, Value};

use super::rewrite::InvokeTargets;
use super::Target;
use nextr::manifest::GatewayKind;

/// The execution role's inline policy letting the functions write their logs.
pub const POLICY_NAME: &str = "nextr-logs";

/// The role the account's API Gateway settings name for CloudWatch (`cloudWatchRoleArn`)
/// when deploy sets one: REST APIs write access logs through it. One per account, shared.
pub const GATEWAY_LOGS_ROLE: &str = "nextr-apigateway-logs";

/// The managed policy that role carries, after `arn:<partition>:iam::aws:policy/`.
pub const GATEWAY_LOGS_POLICY: &str = "service-role/AmazonAPIGatewayPushToCloudWatchLogs";

/// Its one statement's id.
pub const STATEMENT_SID: &str = "NextrFunctionLogs";

/// What the functions may do in their log groups.
pub const ACTIONS: [&str; 2] = ["logs:CreateLogStream", "logs:PutLogEvents"];

/// The log group Lambda writes a function's output to.
pub fn function_log_group(function: &str) -> String {
    format!("/aws/lambda/{function}")
}

/// The gateway's access log group of an app and stage: `/aws/apigateway/<app>-<stage>`, the
/// API's name.
pub fn access_log_group(target: &Target) -> String {
    format!("/aws/apigateway/{}", target.api_name())
}

/// The function a log group belongs to, for a function's log group.
pub fn function_of_group(group: &str) -> Option<&str> {
    group.strip_prefix("/aws/lambda/")
}

/// The access log line of an HTTP API: one JSON object per request. Every value is a string
/// (API Gateway substitutes `-` for a missing one, which would not be valid JSON unquoted).
pub const HTTP_ACCESS_LOG_FORMAT: &str = r#"{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","requestTime":"$context.requestTime","httpMethod":"$context.httpMethod","routeKey":"$context.routeKey","status":"$context.status","protocol":"$context.protocol","responseLength":"$context.responseLength","integrationLatency":"$context.integrationLatency"}"#;

/// The access log line of a REST API: as an HTTP API's, with the matched resource's path
/// (`resourcePath`) where an HTTP API has its route key.
pub const REST_ACCESS_LOG_FORMAT: &str = r#"{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","requestTime":"$context.requestTime","httpMethod":"$context.httpMethod","resourcePath":"$context.resourcePath","status":"$context.status","protocol":"$context.protocol","responseLength":"$context.responseLength","integrationLatency":"$context.integrationLatency"}"#;

/// The access log format of a gateway kind.
pub fn access_log_format(kind: GatewayKind) -> &'static str {
    match kind {
        GatewayKind::Http => HTTP_ACCESS_LOG_FORMAT,
        GatewayKind::Rest => REST_ACCESS_LOG_FORMAT,
    }
}

/// A log group's ARN as API Gateway's `DestinationArn` takes it (without the `:*` suffix).
pub fn log_group_arn(partition: &str, region: &str, account: &str, group: &str) -> String {
    format!("arn:{partition}:logs:{region}:{account}:log-group:{group}")
}

/// The policy document: one statement allowing [`ACTIONS`] on `resources`.
pub fn document(resources: Vec<Value>) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": STATEMENT_SID,
            "Effect": "Allow",
            "Action": ACTIONS,
            "Resource": resources
        }]
    })
}

/// The document deploy puts on the role: the log groups of `targets`' functions (names or
/// patterns), in one account, partition and region.
pub fn policy(partition: &str, region: &str, account: &str, targets: &InvokeTargets) -> Value {
    document(
        targets
            .names()
            .iter()
            .map(|n| {
                Value::String(format!(
                    "{}:*",
                    log_group_arn(partition, region, account, &function_log_group(n))
                ))
            })
            .collect(),
    )
}

/// How the plan describes the grant: "the log groups of 3 functions", or "the log groups
/// matching /aws/lambda/shop-*-prod".
pub fn describe(targets: &InvokeTargets) -> String {
    match targets {
        InvokeTargets::Each(names) => format!(
            "the log groups of {} function{}",
            names.len(),
            if names.len() == 1 { "" } else { "s" }
        ),
        InvokeTargets::Patterns(patterns) => format!(
            "the log groups matching {}",
            patterns
                .iter()
                .map(|p| function_log_group(p))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_statement_names_each_functions_log_group_and_nothing_more() {
        let targets = InvokeTargets::of("shop", "prod", &["shop-a-prod".into()]);
        assert_eq!(
            policy("aws", "eu-west-1", "123456789012", &targets),
            json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Sid": "NextrFunctionLogs",
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": ["arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/shop-a-prod:*"]
                }]
            })
        );
        assert_eq!(describe(&targets), "the log groups of 1 function");
    }

    #[test]
    fn access_log_formats_are_json_with_the_documented_fields() {
        for kind in GatewayKind::ALL {
            let format = access_log_format(kind);
            // What CloudWatch would hold once every variable is substituted.
            let line = format.replace("$context.", "ctx-");
            let value: Value = serde_json::from_str(&line).unwrap();
            for field in [
                "requestId",
                "ip",
                "requestTime",
                "httpMethod",
                "status",
                "protocol",
                "responseLength",
                "integrationLatency",
            ] {
                assert!(value.get(field).is_some(), "{kind}: {field}");
            }
        }
        assert!(HTTP_ACCESS_LOG_FORMAT.contains("$context.routeKey"));
        assert!(REST_ACCESS_LOG_FORMAT.contains("$context.resourcePath"));
        let t = Target::new("shop", "prod").unwrap();
        assert_eq!(access_log_group(&t), "/aws/apigateway/shop-prod");
        assert_eq!(
            function_of_group("/aws/lambda/shop-a-prod"),
            Some("shop-a-prod")
        );
    }
}
