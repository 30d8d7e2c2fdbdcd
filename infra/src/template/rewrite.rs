//! The template of an app with a `proxy.rs` (see `deploy::rewrite`): its functions invoke
//! each other by their deployed names, so each function gets `NEXTR_STAGE` (the `Stage`
//! parameter) and an explicit `FunctionName`, [`nextr::manifest::deployed_function_name`] of
//! its manifest name and the stage, and the role gets `nextr-invoke`, an `AWS::IAM::Policy`
//! allowing `lambda:InvokeFunction` on the app's `live` aliases (a separate resource: inside
//! the role, the aliases it names would depend on the role their functions need).
//!
//! A name of 47 characters or fewer is `<name>-${Stage}` for every valid stage. A longer one
//! is shortened with a hash of the whole name, which CloudFormation cannot compute: it is
//! written for the template's default stage, and a rule refuses any other `Stage` (write the
//! template for another stage by setting `stage` in nextr.toml and building again).

use nextr::manifest::{deployed_function_name, Function, MAX_FUNCTION_NAME, STAGE_ENV};
use serde_json::{json, Map, Value};

use super::Entry;
use crate::deploy::rewrite::{self, InvokeTargets, POLICY_NAME};
use crate::names::MAX_STAGE;

/// The logical id of the invoke policy.
const POLICY_ID: &str = "InvokePolicy";

/// The logical id of the rule pinning the stage.
const RULE_ID: &str = "StageOfShortenedFunctionNames";

/// Whether a manifest name with any stage appended fits Lambda's limit as it is.
fn fits_every_stage(name: &str) -> bool {
    name.len() + 1 + MAX_STAGE <= MAX_FUNCTION_NAME
}

/// The function's `FunctionName`: `<name>-${Stage}`, or its shortened name in the default
/// stage.
pub(super) fn function_name(function: &Function, default_stage: &str) -> Value {
    if fits_every_stage(&function.name) {
        json!({ "Fn::Sub": format!("{}-${{Stage}}", function.name) })
    } else {
        json!(deployed_function_name(&function.name, Some(default_stage)))
    }
}

/// Adds the stage to a function's properties (its `Environment` is always there: the
/// response mode).
pub(super) fn function(props: &mut Value, function: &Function, default_stage: &str) {
    props["FunctionName"] = function_name(function, default_stage);
    props["Environment"]["Variables"][STAGE_ENV] = json!({ "Ref": "Stage" });
}

/// The invoke policy over every entry's alias, as deploy decides it
/// ([`InvokeTargets::of`], with `${Stage}` for the stage); and the rule pinning the stage when
/// a name had to be shortened (`None` otherwise).
pub(super) fn policy(
    resources: &mut Map<String, Value>,
    manifest: &nextr::manifest::Manifest,
    app: &str,
    entries: &[Entry<'_>],
    default_stage: &str,
) -> Option<Value> {
    let names: Vec<String> = entries
        .iter()
        .map(|e| match function_name(e.function, default_stage) {
            Value::String(pinned) => pinned,
            _ => format!("{}-${{Stage}}", e.function.name),
        })
        .collect();
    let arns = match InvokeTargets::of(app, "${Stage}", &names) {
        InvokeTargets::Each(_) => entries
            .iter()
            .map(|e| json!({ "Ref": format!("{}Alias", e.id) }))
            .collect(),
        InvokeTargets::Patterns(patterns) => patterns
            .iter()
            .map(|p| {
                json!({ "Fn::Sub": rewrite::alias_arn("${AWS::Partition}", "${AWS::Region}", "${AWS::AccountId}", p) })
            })
            .collect(),
    };
    // Every role the functions run as: each may rewrite to any route.
    let mut roles = vec![json!({ "Ref": "ExecutionRole" })];
    roles.extend(
        entries
            .iter()
            .filter_map(|e| super::access::own_role_id(manifest, e))
            .map(|id| json!({ "Ref": id })),
    );
    resources.insert(
        POLICY_ID.into(),
        json!({
            "Type": "AWS::IAM::Policy",
            "Properties": {
                "PolicyName": POLICY_NAME,
                "Roles": roles,
                "PolicyDocument": rewrite::document(arns)
            }
        }),
    );
    let pinned = entries.iter().any(|e| !fits_every_stage(&e.function.name));
    pinned.then(|| {
        json!({
            RULE_ID: {
                "Assertions": [{
                    "Assert": { "Fn::Equals": [{ "Ref": "Stage" }, default_stage] },
                    "AssertDescription": format!(
                        "Some function names of this app are too long to carry any stage, so the template names them for stage {default_stage}; for another stage, set stage in nextr.toml and run nextr build again"
                    )
                }]
            }
        })
    })
}
