//! The CloudFormation template of the app (`.nextr/template.json`): the same resources
//! `nextr deploy` creates, for users who deploy with their own tooling.
//!
//! Code comes from S3, not from local paths: `aws cloudformation package` would rewrite
//! local paths, but a template with a string where `Code` expects an object does not pass
//! `cfn-lint`, and S3 keys that contain the sha256 make CloudFormation update exactly the
//! functions whose code changed. Upload each `.nextr/<bundle>` to
//! `s3://<CodeBucket>/<CodeKeyPrefix><key>` with the keys listed under
//! `Metadata.nextr.bundles`, then deploy with `CodeBucket` (and `Stage`) as parameters.

mod access;
mod domain;
mod function_url;
mod logs;
mod rest;
mod rewrite;

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use nextr::manifest::access::SECRETS_ENV;
use nextr::manifest::{Function, GatewayKind, Manifest};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::deploy::desired::{
    ALIAS, API_STAGE, DEFAULT_ROUTE, INTEGRATION_TIMEOUT_MS, TAG_APP, TAG_STAGE,
};

pub use nextr::manifest::layout::TEMPLATE_FILE;

/// One function of the template, with its logical id prefix.
pub(crate) struct Entry<'a> {
    id: String,
    page: Option<&'a str>,
    keys: Vec<String>,
    function: &'a Function,
    /// The route's own log retention (`None`: the app's).
    retention_days: Option<u32>,
}

/// The S3 key (under `CodeKeyPrefix`) of a function's bundle: name and sha256, so new code
/// is a new key.
pub fn code_key(function: &Function) -> String {
    format!("{}/{}.zip", function.name, function.sha256)
}

/// `/api/post/[pid]` → `ApiPostPid`: letters and digits only, as logical ids require.
pub(crate) fn pascal(text: &str) -> String {
    let mut out = String::new();
    for word in text.split(|c: char| !c.is_ascii_alphanumeric()) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars);
        }
    }
    out
}

fn entries(manifest: &Manifest) -> Vec<Entry<'_>> {
    let mut used = BTreeSet::new();
    let mut unique = |base: String| {
        let base = if base.is_empty() {
            "Root".to_string()
        } else {
            base
        };
        let mut id = base.clone();
        let mut n = 2;
        while !used.insert(id.clone()) {
            id = format!("{base}{n}");
            n += 1;
        }
        id
    };
    let mut list = Vec::new();
    for route in &manifest.routes {
        if let Some(function) = &route.function {
            list.push(Entry {
                id: unique(format!("Fn{}", pascal(&route.page))),
                page: Some(&route.page),
                keys: route.route_keys.clone(),
                function,
                retention_days: route.log_retention_days,
            });
        }
    }
    let fallback_keys = match manifest.gateway.kind {
        GatewayKind::Http => vec![DEFAULT_ROUTE.to_string()],
        GatewayKind::Rest => manifest.gateway.fallback_keys.clone(),
    };
    list.push(Entry {
        id: unique("Fallback".to_string()),
        page: None,
        keys: fallback_keys,
        function: &manifest.fallback,
        retention_days: None,
    });
    list
}

/// The template as JSON.
pub fn render(manifest: &Manifest) -> Value {
    let app = manifest.app.as_str();
    // A manifest made without nextr.toml's stage (`Manifest::new`) has none: the default's.
    let stage_default = match manifest.deploy.stage.as_str() {
        "" => crate::names::DEFAULT_STAGE,
        stage => stage,
    };
    let tag_list = json!([
        { "Key": TAG_APP, "Value": app },
        { "Key": TAG_STAGE, "Value": { "Ref": "Stage" } }
    ]);
    let tag_map = json!({ TAG_APP: app, TAG_STAGE: { "Ref": "Stage" } });

    let mut resources = Map::new();
    resources.insert(
        "ExecutionRole".into(),
        json!({
            "Type": "AWS::IAM::Role",
            "Properties": {
                "Description": "nextr execution role: writes its functions' own log groups (policy nextr-logs)",
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
        }),
    );
    access::add_policies(
        &mut resources["ExecutionRole"]["Properties"],
        manifest,
        app,
        None,
    );
    let kind = manifest.gateway.kind;
    match kind {
        GatewayKind::Http => {
            resources.insert(
                "HttpApi".into(),
                json!({
                    "Type": "AWS::ApiGatewayV2::Api",
                    "Properties": {
                        "Name": { "Fn::Sub": format!("{app}-${{Stage}}") },
                        "ProtocolType": "HTTP",
                        "Tags": tag_map
                    }
                }),
            );
            resources.insert(
                "HttpApiStage".into(),
                json!({
                    "Type": "AWS::ApiGatewayV2::Stage",
                    "Properties": {
                        "ApiId": { "Ref": "HttpApi" },
                        "StageName": API_STAGE,
                        "AutoDeploy": true,
                        "AccessLogSettings": {
                            "DestinationArn": { "Fn::GetAtt": [logs::ACCESS_LOG_GROUP_ID, "Arn"] },
                            "Format": crate::deploy::logs::HTTP_ACCESS_LOG_FORMAT
                        },
                        "Tags": tag_map
                    }
                }),
            );
        }
        GatewayKind::Rest => rest::api(&mut resources, app, &tag_list),
    }

    let mut bundles = Vec::new();
    let mut url_outputs = Vec::new();
    let entries = entries(manifest);
    for e in &entries {
        let f = e.function;
        let what = e.page.unwrap_or("$default fallback");
        let mut props = json!({
            "Description": format!("nextr {app} (CloudFormation) {what}"),
            "Code": {
                "S3Bucket": { "Ref": "CodeBucket" },
                "S3Key": { "Fn::Sub": format!("${{CodeKeyPrefix}}{}", code_key(f)) }
            },
            "Runtime": f.runtime,
            "Handler": f.handler,
            "Architectures": [f.architecture.as_str()],
            "Timeout": f.timeout_s,
            "MemorySize": f.memory_mb,
            "Role": { "Fn::GetAtt": [access::role_id(manifest, e), "Arn"] },
            "Tags": tag_list
        });
        if let Some(id) = access::own_role_id(manifest, e) {
            resources.insert(id, access::own_role(manifest, app, e, &tag_list));
        }
        // The secrets' references with the stage parameter for `{stage}`, substituted by
        // CloudFormation; never values.
        let secrets = manifest.access.secrets_for_stage(e.page, "${Stage}");
        let env = f.runtime_env_reading(&secrets);
        if !env.is_empty() {
            props["Environment"] = json!({ "Variables": env });
            if let Some(list) = env.get(SECRETS_ENV).filter(|l| l.contains("${Stage}")) {
                props["Environment"]["Variables"][SECRETS_ENV] = json!({ "Fn::Sub": list });
            }
        }
        if manifest.proxy.is_some() {
            rewrite::function(&mut props, f, stage_default);
        }
        // A Lambda version is immutable, so its logical id carries a digest of what it
        // runs: new code or configuration means a new version, and the alias moves to it.
        let mut fingerprint = format!(
            "{}|{}|{}|{}|{}|{:?}",
            f.sha256,
            f.runtime,
            f.architecture.as_str(),
            f.timeout_s,
            f.memory_mb,
            env
        );
        if manifest.proxy.is_some() {
            fingerprint.push_str("|stage");
        }
        let digest = Sha256::digest(fingerprint.as_bytes());
        let version_id = format!(
            "{}Version{}",
            e.id,
            digest[..4]
                .iter()
                .map(|b| format!("{b:02X}"))
                .collect::<String>()
        );
        resources.insert(
            e.id.clone(),
            json!({
                "Type": "AWS::Lambda::Function",
                "Properties": props,
                "Metadata": logs::tracing_off("WS1000")
            }),
        );
        let retention = e
            .retention_days
            .unwrap_or(manifest.deploy.log_retention_days);
        logs::function_group(&mut resources, &e.id, retention, &tag_list);
        resources.insert(
            version_id.clone(),
            json!({
                "Type": "AWS::Lambda::Version",
                "Properties": {
                    "FunctionName": { "Ref": e.id },
                    "Description": format!("sha256 {}", f.sha256)
                }
            }),
        );
        resources.insert(
            format!("{}Alias", e.id),
            json!({
                "Type": "AWS::Lambda::Alias",
                "Properties": {
                    "FunctionName": { "Ref": e.id },
                    "FunctionVersion": { "Fn::GetAtt": [version_id, "Version"] },
                    "Name": ALIAS
                }
            }),
        );
        // A public function URL is a second front by design: the alias is invoked by the
        // gateway and by anyone through the URL, which the serverless rules' WS1002
        // (permissions with different principals) flags on purpose.
        if f.function_url
            .as_ref()
            .is_some_and(|u| u.auth == nextr::manifest::FunctionUrlAuth::None)
        {
            resources.insert(
                format!("{}Alias", e.id),
                json!({
                    "Type": "AWS::Lambda::Alias",
                    "Properties": resources[&format!("{}Alias", e.id)]["Properties"].clone(),
                    "Metadata": { "cfn-lint": { "config": { "ignore_checks": ["WS1002"] } } }
                }),
            );
        }
        if kind == GatewayKind::Rest {
            rest::permission(&mut resources, e);
            url_outputs.extend(function_url::resources(&mut resources, e));
            bundles.push(json!({ "file": f.bundle, "key": code_key(f) }));
            continue;
        }
        resources.insert(
            format!("{}Integration", e.id),
            json!({
                "Type": "AWS::ApiGatewayV2::Integration",
                "Properties": {
                    "ApiId": { "Ref": "HttpApi" },
                    "IntegrationType": "AWS_PROXY",
                    "IntegrationUri": { "Ref": format!("{}Alias", e.id) },
                    "PayloadFormatVersion": "2.0",
                    "TimeoutInMillis": INTEGRATION_TIMEOUT_MS
                }
            }),
        );
        resources.insert(
            format!("{}Permission", e.id),
            json!({
                "Type": "AWS::Lambda::Permission",
                "Properties": {
                    "Action": "lambda:InvokeFunction",
                    "FunctionName": { "Ref": format!("{}Alias", e.id) },
                    "Principal": "apigateway.amazonaws.com",
                    "SourceArn": {
                        "Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${HttpApi}/*"
                    }
                }
            }),
        );
        for (i, key) in e.keys.iter().enumerate() {
            let suffix = if e.keys.len() == 1 {
                String::new()
            } else {
                (i + 1).to_string()
            };
            resources.insert(
                format!("{}Route{suffix}", e.id),
                json!({
                    "Type": "AWS::ApiGatewayV2::Route",
                    "Properties": {
                        "ApiId": { "Ref": "HttpApi" },
                        "RouteKey": key,
                        "Target": {
                            "Fn::Join": ["/", ["integrations", { "Ref": format!("{}Integration", e.id) }]]
                        }
                    }
                }),
            );
        }
        url_outputs.extend(function_url::resources(&mut resources, e));
        bundles.push(json!({ "file": f.bundle, "key": code_key(f) }));
    }
    if kind == GatewayKind::Rest {
        // `[cors]`: the MOCK preflight methods (a policy one cannot answer never gets here:
        // nextr.toml and deploy refuse it).
        let preflight = crate::deploy::desired::Protections::of(manifest).rest_preflight();
        rest::tree(&mut resources, &entries, &tag_list, preflight.as_ref());
    }
    let mut outputs = match kind {
        GatewayKind::Http => json!({
            "Url": {
                "Description": "The API's invoke URL",
                "Value": { "Fn::GetAtt": ["HttpApi", "ApiEndpoint"] }
            },
            "ApiId": {
                "Description": "The HTTP API id",
                "Value": { "Ref": "HttpApi" }
            }
        }),
        GatewayKind::Rest => rest::outputs(),
    };
    for (id, output) in url_outputs {
        outputs[id] = output;
    }
    protections(&mut resources, manifest);
    domain::resources(&mut resources, &mut outputs, manifest, &tag_list, &tag_map);
    logs::shared(&mut resources, app, &entries, manifest, &tag_list);
    let rules = manifest
        .proxy
        .as_ref()
        .and_then(|_| rewrite::policy(&mut resources, manifest, app, &entries, stage_default));

    let mut template = json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": format!(
            "nextr app {app}: {} route(s) as AWS Lambda functions behind one {} (written by nextr build; do not edit)",
            manifest.routes.len(),
            match kind {
                GatewayKind::Http => "API Gateway HTTP API",
                GatewayKind::Rest => "API Gateway REST API",
            }
        ),
        "Metadata": {
            "nextr": {
                "app": app,
                "nextrVersion": manifest.nextr_version,
                "upload": "upload each .nextr/<file> to s3://<CodeBucket>/<CodeKeyPrefix><key> before deploying",
                "bundles": bundles
            }
        },
        "Parameters": {
            "Stage": {
                "Type": "String",
                "Default": stage_default,
                "AllowedPattern": crate::names::STAGE_PATTERN,
                "Description": "Deployment stage (dev, prod, …): part of the API name and the tags"
            },
            "CodeBucket": {
                "Type": "String",
                "Description": "S3 bucket holding the function bundles (see Metadata.nextr.bundles)"
            },
            "CodeKeyPrefix": {
                "Type": "String",
                "Default": "",
                "Description": "Prefix of the bundle keys in CodeBucket"
            }
        },
        "Resources": resources,
        "Outputs": outputs
    });
    if let Some(rules) = rules {
        template["Rules"] = rules;
    }
    template
}

/// The template as pretty JSON with a trailing newline.
pub fn to_json(manifest: &Manifest) -> String {
    let mut text = serde_json::to_string_pretty(&render(manifest)).unwrap_or_default();
    text.push('\n');
    text
}

/// Why the template was not written.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// Routes of the manifest do not build (a `nextr dev` build): no template describes it.
    #[error(transparent)]
    Incomplete(#[from] nextr::manifest::IncompleteBuild),
    /// The file could not be written.
    #[error(transparent)]
    Write(#[from] std::io::Error),
}

/// Writes `<out_dir>/template.json` (`out_dir` is build's output folder, `.nextr/` by
/// default) atomically; leaves an identical file untouched. Refuses a manifest with routes
/// that do not build, as deploy does.
pub fn write(out_dir: &Path, manifest: &Manifest) -> Result<PathBuf, TemplateError> {
    manifest.check_complete()?;
    Ok(write_file(out_dir, manifest)?)
}

fn write_file(out_dir: &Path, manifest: &Manifest) -> std::io::Result<PathBuf> {
    let dir = out_dir.to_path_buf();
    let path = dir.join(TEMPLATE_FILE);
    let text = to_json(manifest);
    if fs::read_to_string(&path).is_ok_and(|old| old == text) {
        return Ok(path);
    }
    fs::create_dir_all(&dir)?;
    let tmp = dir.join(format!(".{TEMPLATE_FILE}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        fs::rename(&tmp, &path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map(|()| path)
}

/// The manifest's CORS and throttling on the API and its stage, as `nextr deploy` sets them:
/// an HTTP API's `CorsConfiguration`, its stage's `DefaultRouteSettings` and `RouteSettings`
/// (which need their routes first); a REST stage's `MethodSettings` (`/*` `*` for the stage,
/// the resource's path with `/` as `~1` for a route).
fn protections(resources: &mut Map<String, Value>, manifest: &Manifest) {
    let p = crate::deploy::desired::Protections::of(manifest);
    let limits = |t: &nextr::manifest::Throttle| json!({ "ThrottlingRateLimit": t.rate, "ThrottlingBurstLimit": t.burst });
    match manifest.gateway.kind {
        GatewayKind::Http => {
            if let (Some(c), Some(api)) = (&p.cors, resources.get_mut("HttpApi")) {
                let mut cors = json!({
                    "AllowOrigins": c.allow_origins,
                    "AllowCredentials": c.allow_credentials,
                });
                for (field, list) in [
                    ("AllowMethods", &c.allow_methods),
                    ("AllowHeaders", &c.allow_headers),
                    ("ExposeHeaders", &c.expose_headers),
                ] {
                    if !list.is_empty() {
                        cors[field] = json!(list);
                    }
                }
                if let Some(age) = c.max_age_s {
                    cors["MaxAge"] = json!(age);
                }
                api["Properties"]["CorsConfiguration"] = cors;
            }
            let routes: Vec<String> = resources
                .iter()
                .filter(|(_, v)| {
                    v["Type"] == "AWS::ApiGatewayV2::Route"
                        && v["Properties"]["RouteKey"]
                            .as_str()
                            .is_some_and(|k| p.route_throttles.contains_key(k))
                })
                .map(|(id, _)| id.clone())
                .collect();
            let Some(stage) = resources.get_mut("HttpApiStage") else {
                return;
            };
            if let Some(t) = &p.throttle {
                stage["Properties"]["DefaultRouteSettings"] = limits(t);
            }
            if !p.route_throttles.is_empty() {
                let settings: Map<String, Value> = p
                    .route_throttles
                    .iter()
                    .map(|(k, t)| (k.clone(), limits(t)))
                    .collect();
                stage["Properties"]["RouteSettings"] = Value::Object(settings);
                stage["DependsOn"] = json!(routes);
            }
        }
        GatewayKind::Rest => {
            let mut settings = Vec::new();
            if let Some(t) = &p.throttle {
                let mut s = limits(t);
                s["ResourcePath"] = json!("/*");
                s["HttpMethod"] = json!("*");
                settings.push(s);
            }
            for (key, t) in &p.route_throttles {
                let mut s = limits(t);
                s["ResourcePath"] = json!(format!(
                    "/{}",
                    crate::deploy::rest::method_settings_path(key)
                ));
                s["HttpMethod"] = json!("*");
                settings.push(s);
            }
            let stage = resources
                .values_mut()
                .find(|v| v["Type"] == "AWS::ApiGateway::Stage");
            if let (false, Some(stage)) = (settings.is_empty(), stage) {
                stage["Properties"]["MethodSettings"] = json!(settings);
            }
        }
    }
}

/// Every `RouteKey` of a rendered template, sorted.
pub fn route_keys(template: &Value) -> Vec<String> {
    let mut keys: Vec<String> = template["Resources"]
        .as_object()
        .map(|r| {
            r.values()
                .filter(|v| v["Type"] == "AWS::ApiGatewayV2::Route")
                .filter_map(|v| v["Properties"]["RouteKey"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    keys.sort();
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_without_a_stage_defaults_to_deploys() {
        let fallback: Function = serde_json::from_value(json!({
            "name": "demo-default", "bundle": "functions/demo-default.zip", "sha256": "00",
            "bytes": 0, "runtime": "provided.al2023", "handler": "bootstrap",
            "architecture": "x86_64", "timeout_s": 3, "memory_mb": 128
        }))
        .unwrap();
        let t = render(&Manifest::new("demo", fallback));
        assert_eq!(
            t["Parameters"]["Stage"]["Default"],
            crate::names::DEFAULT_STAGE
        );
    }

    #[test]
    fn app_router_routes_are_functions_like_any_other() {
        let fallback: Function = serde_json::from_value(json!({
            "name": "demo-default", "bundle": "functions/demo-default.zip", "sha256": "00",
            "bytes": 0, "runtime": "provided.al2023", "handler": "bootstrap",
            "architecture": "x86_64", "timeout_s": 3, "memory_mb": 128
        }))
        .unwrap();
        let mut manifest = Manifest::new("demo", fallback.clone());
        for (page, file, router, key) in [
            ("/", "app/route.rs", "app", "ANY /"),
            ("/api/hello", "api/hello.rs", "pages", "ANY /api/hello"),
            (
                "/hooks/deliver/[id]",
                "app/hooks/deliver/[id]/route.rs",
                "app",
                "ANY /hooks/deliver/{id}",
            ),
        ] {
            let name = format!("demo-{}", pascal(page).to_ascii_lowercase());
            manifest.routes.push(
                serde_json::from_value(json!({
                    "page": page, "file": file, "router": router, "kind": "static",
                    "segments": [], "params": [], "route_keys": [key], "config": {},
                    "function": Function { name, ..fallback.clone() }
                }))
                .unwrap(),
            );
        }
        let t = render(&manifest);
        assert_eq!(
            route_keys(&t),
            [
                "$default",
                "ANY /",
                "ANY /api/hello",
                "ANY /hooks/deliver/{id}"
            ]
        );
        let functions: Vec<&String> = t["Resources"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, v)| v["Type"] == "AWS::Lambda::Function")
            .map(|(id, _)| id)
            .collect();
        assert_eq!(functions.len(), 4, "{functions:?}");
        assert!(functions
            .iter()
            .all(|id| id.chars().all(|c| c.is_ascii_alphanumeric())));
    }

    #[test]
    fn logical_ids_are_alphanumeric_and_unique() {
        assert_eq!(pascal("/api/post/[pid]"), "ApiPostPid");
        assert_eq!(pascal("/api/note/[[...slug]]"), "ApiNoteSlug");
        assert_eq!(pascal("/api/my-thing_2"), "ApiMyThing2");
    }
}
