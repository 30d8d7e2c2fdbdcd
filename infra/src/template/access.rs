//! `nextr.toml`'s permissions and secrets in the template, as deploy makes them
//! (`deploy::access`): a function whose route has its own gets an `AWS::IAM::Role` of its own
//! (`<Id>Role`), holding the app-wide statements and its own; every role's `nextr-access`
//! (an inline policy of the role: it names no function, so it makes no cycle) has its
//! placeholders as `Fn::Sub` references (`${AWS::Partition}`, `${AWS::Region}`,
//! `${AWS::AccountId}`, the `Stage` parameter).

use nextr::manifest::access::STAGE_PLACEHOLDER;
use nextr::manifest::{Manifest, PolicyStatement};
use serde_json::{json, Value};

use super::Entry;
use crate::deploy::access::{self, Placeholders, POLICY_NAME};

/// The logical id of an entry's own role, when its route has access of its own.
pub(super) fn own_role_id(manifest: &Manifest, e: &Entry<'_>) -> Option<String> {
    manifest
        .access
        .route(e.page)
        .map(|_| format!("{}Role", e.id))
}

/// The logical id of the role an entry's function runs as.
pub(super) fn role_id(manifest: &Manifest, e: &Entry<'_>) -> String {
    own_role_id(manifest, e).unwrap_or_else(|| "ExecutionRole".to_owned())
}

/// Gives a role (`AWS::IAM::Role` properties) its `Policies`: `nextr-access` with the
/// statements of `page` (`None`: the app's role); nothing when it has no statement.
pub(super) fn add_policies(props: &mut Value, manifest: &Manifest, app: &str, page: Option<&str>) {
    // `{stage}` stays a placeholder here, filled with the `Stage` parameter below.
    let statements = access::statements(&manifest.access, page, STAGE_PLACEHOLDER);
    if statements.is_empty() {
        return;
    }
    props["Policies"] = json!([{
        "PolicyName": POLICY_NAME,
        "PolicyDocument": {
            "Version": "2012-10-17",
            "Statement": statements.iter().map(|s| statement(s, app)).collect::<Vec<_>>()
        }
    }]);
}

/// One statement with its resources as `Fn::Sub` where they hold a placeholder.
fn statement(s: &PolicyStatement, app: &str) -> Value {
    let places = Placeholders {
        partition: "${AWS::Partition}".into(),
        region: "${AWS::Region}".into(),
        account: "${AWS::AccountId}".into(),
        app: app.to_owned(),
        stage: "${Stage}".into(),
    };
    let mut out = access::statement_json(s, &places);
    out["Resource"] = s
        .resources
        .iter()
        .map(|r| {
            if places.fill(r) == *r {
                return json!(r);
            }
            // An IAM policy variable (`${aws:username}`) is literal to `Fn::Sub`: `${!…}`.
            json!({ "Fn::Sub": places.fill(&r.replace("${", "${!")) })
        })
        .collect();
    out
}

/// The role of one entry whose route has access of its own, tagged as the app's.
pub(super) fn own_role(manifest: &Manifest, app: &str, e: &Entry<'_>, tag_list: &Value) -> Value {
    let mut role = json!({
        "Type": "AWS::IAM::Role",
        "Properties": {
            "Description": format!("nextr execution role of {}: its own logs, its route's permissions and secrets", e.page.unwrap_or("$default")),
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": { "Service": "lambda.amazonaws.com" },
                    "Action": "sts:AssumeRole"
                }]
            },
            "Tags": tag_list
        }
    });
    add_policies(&mut role["Properties"], manifest, app, e.page);
    role
}
