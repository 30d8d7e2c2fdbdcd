//! Function URLs in the template: an `AWS::Lambda::Url` on the alias (streaming), and for
//! `AuthType: NONE` the two public permissions (`lambda:InvokeFunctionUrl` with
//! `FunctionUrlAuthType: NONE`, and since October 2025 `lambda:InvokeFunction` with
//! `InvokedViaFunctionUrl: true`).

use nextr::manifest::FunctionUrlAuth;
use serde_json::{json, Map, Value};

use super::Entry;
use crate::deploy::desired::ALIAS;

/// The URL resources of one function, when it has a URL; returns the output for it.
pub(super) fn resources(
    resources: &mut Map<String, Value>,
    e: &Entry<'_>,
) -> Option<(String, Value)> {
    let url = e.function.function_url.as_ref()?;
    let alias = format!("{}Alias", e.id);
    let id = format!("{}Url", e.id);
    resources.insert(
        id.clone(),
        json!({
            "Type": "AWS::Lambda::Url",
            // The qualifier names the alias, which must exist first.
            "DependsOn": [alias],
            "Properties": {
                "TargetFunctionArn": { "Ref": e.id },
                "Qualifier": ALIAS,
                "AuthType": url.auth.aws_name(),
                "InvokeMode": "RESPONSE_STREAM"
            }
        }),
    );
    if url.auth == FunctionUrlAuth::None {
        resources.insert(
            format!("{}UrlPermission", e.id),
            json!({
                "Type": "AWS::Lambda::Permission",
                "Properties": {
                    "Action": "lambda:InvokeFunctionUrl",
                    "FunctionName": { "Ref": alias },
                    "Principal": "*",
                    "FunctionUrlAuthType": "NONE"
                }
            }),
        );
        resources.insert(
            format!("{}UrlInvokePermission", e.id),
            json!({
                "Type": "AWS::Lambda::Permission",
                "Properties": {
                    "Action": "lambda:InvokeFunction",
                    "FunctionName": { "Ref": alias },
                    "Principal": "*",
                    "InvokedViaFunctionUrl": true
                }
            }),
        );
    }
    let what = e.page.unwrap_or("$default fallback");
    Some((
        format!("{}Url", e.id),
        json!({
            "Description": format!("The function URL of {what} (streaming)"),
            "Value": { "Fn::GetAtt": [id, "FunctionUrl"] }
        }),
    ))
}
