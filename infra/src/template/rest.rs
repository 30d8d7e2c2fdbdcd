//! The REST API of the template (`gateway = "rest"`): the API, one `AWS::ApiGateway::Resource`
//! per path (parents by reference), an `ANY` method per keyed resource with its Lambda proxy
//! integration (`ResponseTransferMode` and the URI per the function's response mode), a
//! deployment whose logical id carries the tree's fingerprint (CloudFormation deploys again
//! only when a new deployment resource appears), the stage, and each alias's permission.

use std::collections::{BTreeMap, BTreeSet};

use nextr::manifest::ResponseMode;
use serde_json::{json, Map, Value};

use super::{pascal, Entry};
use crate::deploy::rest::{
    self, Preflight, RestResource, METHOD, PREFLIGHT_METHOD, PREFLIGHT_STATUS,
};

/// The REST API's logical id.
pub const API_ID: &str = "RestApi";
/// The stage's logical id.
pub const STAGE_ID: &str = "RestApiStage";

/// The API itself (before the functions, as the HTTP API is).
pub(super) fn api(resources: &mut Map<String, Value>, app: &str, tag_list: &Value) {
    resources.insert(
        API_ID.into(),
        json!({
            "Type": "AWS::ApiGateway::RestApi",
            "Properties": {
                "Name": { "Fn::Sub": format!("{app}-${{Stage}}") },
                "EndpointConfiguration": { "Types": ["REGIONAL"] },
                "BinaryMediaTypes": crate::gateway::rest_api::BINARY_MEDIA_TYPES,
                "Tags": tag_list
            }
        }),
    );
}

/// The permission of one function's alias: invoked by this REST API only.
pub(super) fn permission(resources: &mut Map<String, Value>, e: &Entry<'_>) {
    resources.insert(
        format!("{}Permission", e.id),
        json!({
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "Action": "lambda:InvokeFunction",
                "FunctionName": { "Ref": format!("{}Alias", e.id) },
                "Principal": "apigateway.amazonaws.com",
                "SourceArn": {
                    "Fn::Sub": format!("arn:${{AWS::Partition}}:execute-api:${{AWS::Region}}:${{AWS::AccountId}}:${{{API_ID}}}/*/*/*")
                }
            }
        }),
    );
}

/// The logical id of a path's resource, or `None` for the root (the API's
/// `RootResourceId`).
fn resource_ref(ids: &BTreeMap<String, String>, path: &str) -> Value {
    match ids.get(path) {
        Some(id) => json!({ "Ref": id }),
        None => json!({ "Fn::GetAtt": [API_ID, "RootResourceId"] }),
    }
}

/// The resource tree, methods, deployment and stage.
pub(super) fn tree(
    resources: &mut Map<String, Value>,
    entries: &[Entry<'_>],
    tag_list: &Value,
    preflight: Option<&Preflight>,
) {
    // path → the entry serving it (with what the fingerprint needs).
    let mut keyed: BTreeMap<String, (&Entry<'_>, RestResource)> = BTreeMap::new();
    for e in entries {
        for key in &e.keys {
            // The build writes valid keys; deploy refuses others before any call.
            let Ok(path) = rest::key_path(key) else {
                continue;
            };
            let f = e.function;
            let resource = RestResource {
                function: e.id.clone(),
                mode: f.response_mode,
                timeout_ms: rest::timeout_ms(f.timeout_s, f.response_mode),
            };
            keyed.insert(path.to_string(), (e, resource));
        }
    }
    let mut all: BTreeMap<String, Option<RestResource>> = BTreeMap::new();
    for (path, (_, r)) in &keyed {
        for p in rest::with_ancestors(path) {
            all.entry(p).or_insert(None);
        }
        all.insert(path.clone(), Some(r.clone()));
    }

    // Logical ids: `Res` + the path in Pascal case, unique.
    let mut used: BTreeSet<String> = resources.keys().cloned().collect();
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    let mut paths: Vec<&String> = all.keys().filter(|p| p.as_str() != "/").collect();
    paths.sort_by_key(|p| (rest::depth(p), p.as_str()));
    for path in &paths {
        let base = format!("Res{}", pascal(path));
        let mut id = base.clone();
        let mut n = 2;
        while !used.insert(id.clone()) {
            id = format!("{base}{n}");
            n += 1;
        }
        ids.insert((*path).clone(), id);
    }
    for path in &paths {
        let Some((parent, part)) = rest::split_parent(path) else {
            continue;
        };
        resources.insert(
            ids[*path].clone(),
            json!({
                "Type": "AWS::ApiGateway::Resource",
                "Properties": {
                    "RestApiId": { "Ref": API_ID },
                    "ParentId": resource_ref(&ids, parent),
                    "PathPart": part
                }
            }),
        );
    }

    let mut methods = Vec::new();
    for (path, (e, r)) in &keyed {
        let id = match ids.get(path) {
            Some(res) => format!("{res}Method"),
            None => "RootMethod".to_string(),
        };
        let alias = format!("{}Alias", e.id);
        let uri = rest::integration_uri(
            "${AWS::Partition}",
            "${AWS::Region}",
            &format!("${{{alias}}}"),
            r.mode,
        );
        let transfer = match r.mode {
            ResponseMode::Buffered => "BUFFERED",
            ResponseMode::Stream => "STREAM",
        };
        resources.insert(
            id.clone(),
            json!({
                "Type": "AWS::ApiGateway::Method",
                "Properties": {
                    "RestApiId": { "Ref": API_ID },
                    "ResourceId": resource_ref(&ids, path),
                    "HttpMethod": METHOD,
                    "AuthorizationType": "NONE",
                    "Integration": {
                        "Type": "AWS_PROXY",
                        "IntegrationHttpMethod": "POST",
                        "Uri": { "Fn::Sub": uri },
                        "ResponseTransferMode": transfer,
                        "TimeoutInMillis": r.timeout_ms
                    }
                }
            }),
        );
        methods.push(id);
    }

    // `[cors]`: an `OPTIONS` method with a MOCK integration on every keyed resource, as deploy
    // makes them (API Gateway picks it over `ANY` for preflights).
    if let Some(p) = preflight {
        let (content_type, template) = rest::MOCK_REQUEST_TEMPLATE;
        for path in keyed.keys() {
            let base = match ids.get(path) {
                Some(res) => format!("{res}Preflight"),
                None => "RootPreflight".to_string(),
            };
            // Unique even if a path's Pascal case ends in `Preflight`.
            let mut id = base.clone();
            let mut n = 2;
            while resources.contains_key(&id) || !used.insert(id.clone()) {
                id = format!("{base}{n}");
                n += 1;
            }
            resources.insert(
                id.clone(),
                json!({
                    "Type": "AWS::ApiGateway::Method",
                    "Properties": {
                        "RestApiId": { "Ref": API_ID },
                        "ResourceId": resource_ref(&ids, path),
                        "HttpMethod": PREFLIGHT_METHOD,
                        "AuthorizationType": "NONE",
                        "MethodResponses": [{
                            "StatusCode": PREFLIGHT_STATUS,
                            "ResponseParameters": p.method_response_parameters()
                        }],
                        "Integration": {
                            "Type": "MOCK",
                            "RequestTemplates": { content_type: template },
                            "IntegrationResponses": [{
                                "StatusCode": PREFLIGHT_STATUS,
                                "ResponseParameters": p.integration_response_parameters()
                            }]
                        }
                    }
                }),
            );
            methods.push(id);
        }
    }

    let fingerprint = rest::fingerprint(&all, preflight);
    let deployment = format!("RestApiDeployment{}", fingerprint[..8].to_ascii_uppercase());
    resources.insert(
        deployment.clone(),
        json!({
            "Type": "AWS::ApiGateway::Deployment",
            // A deployment snapshots the methods: it must come after all of them.
            "DependsOn": methods,
            "Properties": {
                "RestApiId": { "Ref": API_ID },
                "Description": rest::deployment_description(&fingerprint)
            }
        }),
    );
    resources.insert(
        STAGE_ID.into(),
        json!({
            "Type": "AWS::ApiGateway::Stage",
            "Properties": {
                "RestApiId": { "Ref": API_ID },
                "StageName": { "Ref": "Stage" },
                "DeploymentId": { "Ref": deployment },
                "Tags": tag_list
            }
        }),
    );
}

/// The outputs of a REST API.
pub(super) fn outputs() -> Value {
    json!({
        "Url": {
            "Description": "The API's invoke URL (its stage)",
            "Value": {
                "Fn::Sub": format!("https://${{{API_ID}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/${{{STAGE_ID}}}")
            }
        },
        "ApiId": {
            "Description": "The REST API id",
            "Value": { "Ref": API_ID }
        }
    })
}
