//! plan_deploy for a REST app, without a server: what moto cannot show (a reported
//! `responseTransferMode`), and the order of a first deploy.

use std::collections::BTreeMap;

use nextr::config::RouteConfig;
use nextr::manifest::{
    Function, FunctionUrl, FunctionUrlAuth, GatewayKind, Manifest, ManifestRoute, ResponseMode,
};
use nextr::routing::RouteKind;

use super::tests;
use super::*;
use crate::deploy::rest::{self, deployment_description, fingerprint};
use crate::deploy::state::{
    ObservedDeployment, ObservedFunction, ObservedMethod, ObservedResource, ObservedRestApi,
    ObservedRestIntegration, ObservedRestStage, ObservedUrl,
};

const REGION: &str = "us-east-1";

fn function(name: &str, mode: ResponseMode) -> Function {
    Function {
        response_mode: mode,
        ..tests::function(name)
    }
}

/// `/api/live/[id]` streams and has a public URL; the fallback serves the rest.
fn desired() -> Desired {
    tests::desired_of(&manifest())
}

fn with_origins(origins: &[&str]) -> Manifest {
    let mut m = manifest();
    m.gateway.cors = Some(nextr::manifest::Cors {
        allow_origins: origins.iter().map(|o| o.to_string()).collect(),
        allow_methods: vec!["GET".into()],
        ..Default::default()
    });
    m
}

#[test]
fn several_origins_on_a_rest_api_are_refused_not_ignored() {
    let settings = crate::deploy::desired::DeploySettings {
        stage: "dev".into(),
        ..Default::default()
    };
    let m = with_origins(&["https://a.example", "https://b.example"]);
    let e =
        Desired::from_manifest(&m, std::path::Path::new("/nowhere"), "00", &settings).unwrap_err();
    assert!(e.to_string().contains("names 2 origins"), "{e}");
}

#[test]
fn rest_cors_is_an_options_preflight_per_keyed_resource_and_a_new_deployment() {
    let plain = desired();
    let wanted = tests::desired_of(&with_origins(&["https://app.example"]));
    let plan = plan_deploy(&wanted, &matching(&plain), REGION);
    let keyed = plain
        .rest_resources()
        .values()
        .filter(|r| r.is_some())
        .count();
    let puts: Vec<&String> = plan
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::PutPreflight {
                path,
                replace: false,
                ..
            } => Some(path),
            _ => None,
        })
        .collect();
    assert_eq!(puts.len(), keyed, "{plan}");
    assert!(
        plan.actions
            .iter()
            .any(|a| matches!(a, Action::CreateDeployment { .. })),
        "{plan}"
    );
    // As wanted: nothing. Another origin: replaced. Removed: deleted, never destructive.
    assert!(plan_deploy(&wanted, &matching(&wanted), REGION).is_empty());
    let other = tests::desired_of(&with_origins(&["*"]));
    let plan = plan_deploy(&other, &matching(&wanted), REGION);
    assert!(
        plan.actions
            .iter()
            .any(|a| a.to_string()
                == "~ method OPTIONS /api/live/{id}: CORS preflight (MOCK, origin *)"),
        "{plan}"
    );
    let plan = plan_deploy(&plain, &matching(&wanted), REGION);
    let deletes = plan
        .actions
        .iter()
        .filter(|a| matches!(a, Action::DeletePreflight { .. }))
        .count();
    assert_eq!(deletes, keyed, "{plan}");
    assert!(plan.actions.iter().all(|a| !a.is_destructive()), "{plan}");
}

#[test]
fn rest_throttles_are_stage_method_settings() {
    use nextr::manifest::Throttle;
    let mut m = manifest();
    m.gateway.throttle = Some(Throttle { rate: 10, burst: 5 });
    m.routes[0].throttle = Some(Throttle { rate: 1, burst: 2 });
    let wanted = tests::desired_of(&m);
    let plain = desired();
    // Deployed without: one UpdateStage setting both, after the stage.
    let plan = plan_deploy(&wanted, &matching(&plain), REGION);
    let lines: Vec<String> = plan.actions.iter().map(|a| a.to_string()).collect();
    assert_eq!(
        lines,
        ["~ stage dev: throttle */* 10/s burst 5; ~1api~1live~1{id}/* 1/s burst 2"]
    );
    // As wanted: nothing; removed: removed.
    assert!(plan_deploy(&wanted, &matching(&wanted), REGION).is_empty());
    let plan = plan_deploy(&plain, &matching(&wanted), REGION);
    let lines: Vec<String> = plan.actions.iter().map(|a| a.to_string()).collect();
    assert_eq!(
        lines,
        ["~ stage dev: throttle */* removed; ~1api~1live~1{id}/* removed"]
    );
}

/// The manifest of [`desired`].
fn manifest() -> Manifest {
    let mut live = function("demo-live", ResponseMode::Stream);
    live.function_url = Some(FunctionUrl {
        auth: FunctionUrlAuth::None,
    });
    let mut manifest = Manifest {
        nextr_version: "0.1.0".into(),
        routes: vec![ManifestRoute {
            page: "/api/live/[id]".into(),
            file: "api/live/[id].rs".into(),
            router: nextr::routing::Router::Pages,
            kind: RouteKind::Dynamic,
            segments: vec![],
            params: vec![],
            route_keys: vec!["ANY /api/live/{id}".into()],
            config: RouteConfig::default(),
            function: Some(live),
            build_error: None,
            throttle: None,
            log_retention_days: None,
        }],
        ..Manifest::new("demo", function("demo-fallback", ResponseMode::Buffered))
    };
    manifest.gateway.kind = GatewayKind::Rest;
    manifest.gateway.fallback_keys = vec![
        "ANY /".into(),
        "ANY /{proxy+}".into(),
        "ANY /api".into(),
        "ANY /api/live".into(),
    ];
    manifest
}

/// AWS exactly as the desired state asks, `responseTransferMode` reported as AWS does.
fn matching(d: &Desired) -> Observed {
    let preflight = d.protections.rest_preflight();
    let mut o = Observed {
        role: Some(tests::role()),
        ..Observed::default()
    };
    for f in &d.functions {
        let config = tests::deployed(f);
        o.functions.insert(
            f.name.clone(),
            ObservedFunction {
                name: f.name.clone(),
                arn: format!("arn:aws:lambda:{REGION}:1:function:{}", f.name),
                latest: config.clone(),
                live: Some(config),
                rest_permission_source: Some(rest::source_arn("aws", REGION, "1", "rest1")),
                url_statements: f
                    .function_url
                    .map(|_| rest::URL_PERMISSION_SIDS.map(str::to_string).into())
                    .unwrap_or_default(),
                url: f.function_url.map(|auth| ObservedUrl {
                    url: "https://x.lambda-url.us-east-1.on.aws/".into(),
                    auth_type: auth.aws_name().into(),
                    invoke_mode: Some(RESPONSE_STREAM.into()),
                }),
                ..ObservedFunction::default()
            },
        );
    }
    let tree = d.rest_resources();
    let mut api = ObservedRestApi {
        id: "rest1".into(),
        name: "demo-dev".into(),
        binary_media_types: vec!["*/*".into()],
        stages: vec![ObservedRestStage {
            name: "dev".into(),
            deployment_id: Some("d1".into()),
            method_throttles: d.protections.rest_method_throttles(),
            access_logs: tests::access_logs(d),
        }],
        deployments: vec![ObservedDeployment {
            id: "d1".into(),
            description: Some(deployment_description(&fingerprint(
                &tree,
                preflight.as_ref(),
            ))),
        }],
        ..ObservedRestApi::default()
    };
    for (n, (path, r)) in tree.iter().enumerate() {
        let mut methods = BTreeMap::new();
        if let Some(r) = r {
            let arn = &o.functions[&r.function].arn;
            methods.insert(
                "ANY".to_string(),
                ObservedMethod {
                    authorization_type: Some("NONE".into()),
                    integration: Some(ObservedRestIntegration {
                        integration_type: Some("AWS_PROXY".into()),
                        http_method: Some("POST".into()),
                        uri: Some(rest::integration_uri(
                            "aws",
                            REGION,
                            &format!("{arn}:live"),
                            r.mode,
                        )),
                        transfer_mode: Some(rest::transfer_mode(r.mode).into()),
                        timeout_ms: Some(r.timeout_ms),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
            );
            if let Some(p) = &preflight {
                methods.insert(
                    "OPTIONS".to_string(),
                    ObservedMethod {
                        authorization_type: Some("NONE".into()),
                        integration: Some(ObservedRestIntegration {
                            integration_type: Some("MOCK".into()),
                            request_templates: [(
                                "application/json".to_string(),
                                "{\"statusCode\": 200}".to_string(),
                            )]
                            .into(),
                            response_parameters: p.integration_response_parameters(),
                            ..Default::default()
                        }),
                        response_parameters: p.method_response_parameters(),
                    },
                );
            }
        }
        api.resources.push(ObservedResource {
            id: format!("r{n}"),
            path: path.clone(),
            methods,
        });
    }
    o.rest_apis.push(api);
    tests::with_logs(d, &mut o);
    o
}

fn integration_of<'a>(o: &'a mut Observed, path: &str) -> &'a mut ObservedRestIntegration {
    let api = &mut o.rest_apis[0];
    let r = api.resources.iter_mut().find(|r| r.path == path).unwrap();
    r.methods
        .get_mut("ANY")
        .unwrap()
        .integration
        .as_mut()
        .unwrap()
}

#[test]
fn nothing_to_do_when_aws_matches() {
    let d = desired();
    assert_eq!(plan_deploy(&d, &matching(&d), REGION), Plan::default());
}

#[test]
fn an_api_without_binary_media_types_gets_them_first() {
    let d = desired();
    let mut o = matching(&d);
    o.rest_apis[0].binary_media_types.clear();
    let plan = plan_deploy(&d, &o, REGION);
    assert_eq!(
        plan.actions[0],
        Action::AddBinaryMediaTypes {
            id: "rest1".into(),
            types: vec!["*/*".into()]
        }
    );
    // They reach the stage through a new deployment.
    assert!(matches!(plan.actions[1], Action::CreateDeployment { .. }));
    assert!(matches!(plan.actions[2], Action::UpdateRestStage { .. }));
}

#[test]
fn a_buffered_transfer_mode_on_a_streaming_route_is_put_again_and_redeployed() {
    let d = desired();
    let mut o = matching(&d);
    integration_of(&mut o, "/api/live/{id}").transfer_mode = Some("BUFFERED".into());
    let plan = plan_deploy(&d, &o, REGION);
    assert_eq!(
        plan.actions,
        [
            Action::PutIntegration {
                path: "/api/live/{id}".into(),
                function: "demo-live-dev".into(),
                mode: ResponseMode::Stream
            },
            Action::CreateDeployment {
                description: deployment_description(&fingerprint(&d.rest_resources(), None))
            },
            Action::UpdateRestStage {
                stage: "dev".into()
            },
            Action::DeleteDeployments {
                ids: vec!["d1".into()]
            },
        ]
    );
    // A server that reports no mode (moto) is judged by the URI, which is right.
    integration_of(&mut o, "/api/live/{id}").transfer_mode = None;
    assert_eq!(plan_deploy(&d, &o, REGION), Plan::default());
}

#[test]
fn a_stage_on_an_older_deployment_is_moved_and_strays_go_children_first() {
    let d = desired();
    let mut o = matching(&d);
    o.rest_apis[0].deployments[0].description = Some("nextr 0000000000000000".into());
    for (id, path) in [("s1", "/old"), ("s2", "/old/{x}")] {
        o.rest_apis[0].resources.push(ObservedResource {
            id: id.into(),
            path: path.into(),
            methods: BTreeMap::new(),
        });
    }
    let plan = plan_deploy(&d, &o, REGION);
    assert_eq!(
        plan.actions,
        [
            Action::DeleteResource {
                id: "s2".into(),
                path: "/old/{x}".into()
            },
            Action::DeleteResource {
                id: "s1".into(),
                path: "/old".into()
            },
            Action::CreateDeployment {
                description: deployment_description(&fingerprint(&d.rest_resources(), None))
            },
            Action::UpdateRestStage {
                stage: "dev".into()
            },
            Action::DeleteDeployments {
                ids: vec!["d1".into()]
            },
        ]
    );
}

#[test]
fn a_first_deploy_creates_parents_first_and_stages_last() {
    let d = desired();
    let plan = plan_deploy(&d, &Observed::default(), REGION);
    let created: Vec<&str> = plan
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::CreateResource { path } => Some(path.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        created,
        ["/api", "/{proxy+}", "/api/live", "/api/live/{id}"]
    );
    let pos = |f: &dyn Fn(&Action) -> bool| plan.actions.iter().position(f).unwrap();
    // After the role, its logs policy, the log groups and the account's CloudWatch role.
    assert_eq!(
        pos(&|a| matches!(a, Action::CreateRestApi { .. })),
        2 + d.log_groups().len() + 1
    );
    assert!(
        pos(&|a| matches!(a, Action::SetGatewayLogsRole { .. }))
            < pos(&|a| matches!(a, Action::SetRestAccessLogs { .. }))
    );
    assert!(
        pos(&|a| matches!(a, Action::AddUrlPermissions { .. }))
            > pos(&|a| matches!(a, Action::CreateAlias { .. }))
    );
    // The stage, then its access logs (which CreateStage does not take).
    let n = plan.actions.len();
    assert_eq!(
        plan.actions[n - 2..],
        [
            Action::CreateRestStage {
                stage: "dev".into()
            },
            Action::SetRestAccessLogs {
                stage: "dev".into()
            }
        ]
    );
    assert!(plan
        .actions
        .iter()
        .all(|a| !matches!(a, Action::RemovePermission { .. })));
}
