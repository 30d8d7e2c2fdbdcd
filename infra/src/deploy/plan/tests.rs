//! plan_deploy as a whole: what it plans from matching, empty and drifted AWS states.

use std::path::Path;

use nextr::config::RouteConfig;
use nextr::manifest::{Function, Manifest, ManifestRoute};
use nextr::routing::RouteKind;

use super::*;
use crate::deploy::desired::{DeploySettings, DesiredFunction};
use crate::deploy::state::{
    FunctionConfig, ObservedApi, ObservedFunction, ObservedIntegration, ObservedRole,
    ObservedRoute, ObservedStage,
};

const REGION: &str = "us-east-1";

/// A built function as the manifest names it (buffered, no function URL).
pub(super) fn function(name: &str) -> Function {
    Function {
        name: name.into(),
        bundle: format!("functions/{name}.zip"),
        sha256: "ab".repeat(32),
        bytes: 22,
        runtime: "provided.al2023".into(),
        handler: "bootstrap".into(),
        architecture: nextr::manifest::Architecture::X86_64,
        timeout_s: 10,
        memory_mb: 256,
        env: Default::default(),
        response_mode: Default::default(),
        function_url: None,
    }
}

fn desired() -> Desired {
    desired_of(&demo_manifest())
}

/// Two Pages routes and the fallback.
fn demo_manifest() -> Manifest {
    let route = |page: &str, keys: &[&str], name: &str| ManifestRoute {
        page: page.into(),
        file: format!("{page}.rs"),
        router: nextr::routing::Router::Pages,
        kind: RouteKind::Static,
        segments: vec![],
        params: vec![],
        route_keys: keys.iter().map(|k| k.to_string()).collect(),
        config: RouteConfig::default(),
        function: Some(function(name)),
        build_error: None,
        throttle: None,
        log_retention_days: None,
    };
    Manifest {
        nextr_version: "0.1.0".into(),
        routes: vec![
            route("/api/a", &["ANY /api/a"], "demo-a"),
            route("/api/b", &["ANY /api/b", "ANY /api/b/{x+}"], "demo-b"),
        ],
        ..Manifest::new("demo", function("demo-fallback"))
    }
}

/// The desired state of a manifest deployed to stage `dev`.
pub(super) fn desired_of(manifest: &Manifest) -> Desired {
    let settings = DeploySettings {
        stage: "dev".into(),
        ..DeploySettings::default()
    };
    Desired::from_manifest(manifest, Path::new("/nowhere"), "00", &settings).unwrap()
}

/// The managed role as deploy leaves it.
pub(super) fn role() -> ObservedRole {
    ObservedRole {
        name: "demo-dev-nextr".into(),
        arn: "arn:aws:iam::1:role/demo-dev-nextr".into(),
        attached: Vec::new(),
        invoke_policy: None,
        logs_policy: None,
        access_policy: None,
    }
}

/// Logs as deploy leaves them for `d`: the role's `nextr-logs`, every log group with its
/// retention, and the account's CloudWatch role.
pub(super) fn with_logs(d: &Desired, o: &mut Observed) {
    if let Some(role) = o.role.as_mut() {
        role.logs_policy = Some(crate::deploy::logs::policy(
            "aws",
            REGION,
            "1",
            &d.log_writers,
        ));
    }
    o.log_groups = d
        .log_groups()
        .into_iter()
        .map(|(name, days)| (name, i32::try_from(days).ok()))
        .collect();
    o.gateway_logs_role = Some("arn:aws:iam::1:role/nextr-apigateway-logs".into());
}

/// The access log settings deploy gives `d`'s stage.
pub(super) fn access_logs(d: &Desired) -> Option<(String, String)> {
    Some((
        crate::deploy::logs::log_group_arn(
            "aws",
            REGION,
            "1",
            &crate::deploy::logs::access_log_group(&d.target),
        ),
        crate::deploy::logs::access_log_format(d.gateway).to_owned(),
    ))
}

/// A function's configuration as deploy leaves it (version 1 published and live).
pub(super) fn deployed(f: &DesiredFunction) -> FunctionConfig {
    FunctionConfig {
        runtime: Some(f.spec.runtime.clone()),
        handler: Some(f.spec.handler.clone()),
        timeout_s: Some(10),
        memory_mb: Some(256),
        architecture: "x86_64".into(),
        role: Some("arn:aws:iam::1:role/demo-dev-nextr".into()),
        env: f.spec.env.clone(),
        description: f.spec.description.clone(),
        code_sha256: Some(f.code_sha256.clone()),
        version: Some("1".into()),
        state: Some("Active".into()),
        last_update_status: Some("Successful".into()),
    }
}

/// AWS exactly as the desired state asks.
fn matching(d: &Desired) -> Observed {
    let mut o = Observed {
        role: Some(role()),
        ..Observed::default()
    };
    let mut api = ObservedApi {
        id: "api1".into(),
        name: "demo-dev".into(),
        stages: vec![ObservedStage {
            name: "$default".into(),
            auto_deploy: true,
            throttle: d.protections.throttle,
            route_throttles: d.protections.route_throttles.clone(),
            access_logs: access_logs(d),
        }],
        cors: d.protections.cors.clone(),
        ..ObservedApi::default()
    };
    for (n, f) in d.functions.iter().enumerate() {
        let config = deployed(f);
        let arn = format!("arn:aws:lambda:{REGION}:1:function:{}", f.name);
        o.functions.insert(
            f.name.clone(),
            ObservedFunction {
                name: f.name.clone(),
                arn: arn.clone(),
                latest: config.clone(),
                live: Some(config),
                permission_source: Some(api_source_arn("aws", REGION, "1", "api1")),
                versions: Vec::new(),
                ..ObservedFunction::default()
            },
        );
        api.integrations.push(ObservedIntegration {
            id: format!("i{n}"),
            uri: Some(format!("{arn}:live")),
            integration_type: Some("AWS_PROXY".into()),
            payload_format_version: Some("2.0".into()),
            timeout_ms: Some(30_000),
        });
        for (k, key) in f.route_keys.iter().enumerate() {
            api.routes.push(ObservedRoute {
                id: format!("r{n}{k}"),
                key: key.clone(),
                target: Some(format!("integrations/i{n}")),
            });
        }
    }
    o.apis.push(api);
    with_logs(d, &mut o);
    o
}

#[test]
fn nothing_to_do_when_aws_matches() {
    let d = desired();
    assert_eq!(plan_deploy(&d, &matching(&d), REGION), Plan::default());
}

#[test]
fn everything_to_create_from_nothing_in_dependency_order() {
    let d = desired();
    let plan = plan_deploy(&d, &Observed::default(), REGION);
    let pos = |a: &Action| plan.actions.iter().position(|x| x == a).unwrap();
    let create = |f: &str| Action::CreateFunction { function: f.into() };
    // Role, its logs policy and the API, four log groups (three functions' and the access
    // logs'), then per function create, publish, alias, integration, permission; routes; the
    // stage.
    assert_eq!(plan.actions.len(), 3 + 4 + 3 * 5 + 4 + 1);
    for group in d.log_groups().keys() {
        let at = plan
            .actions
            .iter()
            .position(|a| matches!(a, Action::CreateLogGroup { name, retention_days: 30 } if name == group))
            .unwrap_or_else(|| panic!("{group} is not created: {plan}"));
        assert!(
            at < pos(&create("demo-a-dev")),
            "{group} after the functions"
        );
    }
    assert!(
        pos(&Action::CreateRole {
            name: "demo-dev-nextr".into()
        }) < pos(&create("demo-a-dev"))
    );
    assert!(
        pos(&create("demo-a-dev"))
            < pos(&Action::CreateRoute {
                key: "ANY /api/a".into(),
                function: "demo-a-dev".into()
            })
    );
    assert_eq!(plan.actions.last(), Some(&Action::CreateStage));
    assert_eq!(plan.destructive(), 0);
}

#[test]
fn single_differences_give_single_fixes() {
    let d = desired();

    // A role made by an older nextr: logs anywhere, through the managed policy.
    let mut o = matching(&d);
    if let Some(r) = o.role.as_mut() {
        r.attached.push(basic_execution_policy("aws"));
        r.logs_policy = None;
    }
    let plan = plan_deploy(&d, &o, REGION);
    assert_eq!(
        plan.actions,
        vec![
            Action::PutLogsPolicy {
                role: "demo-dev-nextr".into(),
                targets: d.log_writers.clone()
            },
            Action::DetachRolePolicy {
                role: "demo-dev-nextr".into(),
                policy_arn: basic_execution_policy("aws")
            }
        ]
    );
    assert_eq!(
        plan.actions[0].to_string(),
        "~ role demo-dev-nextr: allow writing the log groups of 3 functions (inline policy nextr-logs)"
    );

    // A log group Lambda made (no retention), one with another retention, one missing.
    let mut o = matching(&d);
    o.log_groups.insert("/aws/lambda/demo-a-dev".into(), None);
    o.log_groups
        .insert("/aws/lambda/demo-b-dev".into(), Some(7));
    o.log_groups.remove("/aws/apigateway/demo-dev");
    let plan = plan_deploy(&d, &o, REGION);
    assert_eq!(
        plan.actions
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        [
            "+ log group /aws/apigateway/demo-dev: create (retention 30 days)",
            "~ log group /aws/lambda/demo-a-dev: retention never expire → 30 days",
            "~ log group /aws/lambda/demo-b-dev: retention 7 days → 30 days",
        ]
    );

    // Access logs turned off by hand.
    let mut o = matching(&d);
    o.apis[0].stages[0].access_logs = None;
    assert_eq!(
        plan_deploy(&d, &o, REGION).actions,
        vec![Action::SetStageAccessLogs]
    );

    let mut o = matching(&d);
    o.apis[0].integrations[1].payload_format_version = Some("1.0".into());
    assert_eq!(
        plan_deploy(&d, &o, REGION).actions,
        vec![Action::UpdateIntegration {
            id: "i1".into(),
            function: "demo-b-dev".into()
        }]
    );

    let mut o = matching(&d);
    o.apis[0].routes[1].target = Some("integrations/i0".into());
    assert_eq!(
        plan_deploy(&d, &o, REGION).actions,
        vec![Action::UpdateRoute {
            id: "r10".into(),
            key: "ANY /api/b".into(),
            function: "demo-b-dev".into()
        }]
    );

    let mut o = matching(&d);
    o.apis[0].stages[0].auto_deploy = false;
    assert_eq!(
        plan_deploy(&d, &o, REGION).actions,
        vec![Action::UpdateStage]
    );

    let mut o = matching(&d);
    if let Some(f) = o.functions.get_mut("demo-a-dev") {
        f.permission_source = Some("arn:aws:execute-api:us-east-1:1:other/*".into());
    }
    assert_eq!(
        plan_deploy(&d, &o, REGION).actions,
        vec![Action::AddPermission {
            function: "demo-a-dev".into(),
            replace: true
        }]
    );

    // The state an interruption between upload and publish leaves.
    let mut o = matching(&d);
    if let Some(live) = o
        .functions
        .get_mut("demo-a-dev")
        .and_then(|f| f.live.as_mut())
    {
        live.code_sha256 = Some("old".into());
    }
    assert_eq!(
        plan_deploy(&d, &o, REGION).actions,
        vec![
            Action::PublishVersion {
                function: "demo-a-dev".into()
            },
            Action::UpdateAlias {
                function: "demo-a-dev".into(),
                from: Some("1".into())
            }
        ]
    );

    // Another architecture deployed, the same code: Lambda takes an architecture only with
    // code, so the code is uploaded again with it (never as a configuration change).
    let mut o = matching(&d);
    if let Some(f) = o.functions.get_mut("demo-a-dev") {
        f.latest.architecture = "arm64".into();
        if let Some(live) = f.live.as_mut() {
            live.architecture = "arm64".into();
        }
    }
    let sha = d.function("demo-a-dev").unwrap().code_sha256.clone();
    assert_eq!(
        plan_deploy(&d, &o, REGION).actions,
        vec![
            Action::UpdateFunctionCode {
                function: "demo-a-dev".into(),
                from: Some(sha.clone()),
                to: sha,
                architecture: Some(("arm64".into(), "x86_64".into())),
            },
            Action::PublishVersion {
                function: "demo-a-dev".into()
            },
            Action::UpdateAlias {
                function: "demo-a-dev".into(),
                from: Some("1".into())
            }
        ]
    );
}

#[test]
fn strays_are_deleted_children_first() {
    let d = desired();
    let mut o = matching(&d);
    let stray = o.functions["demo-a-dev"].clone();
    o.functions.insert(
        "demo-gone-dev".into(),
        ObservedFunction {
            name: "demo-gone-dev".into(),
            ..stray
        },
    );
    o.apis[0].integrations.push(ObservedIntegration {
        id: "igone".into(),
        uri: Some("arn:aws:lambda:us-east-1:1:function:demo-gone-dev:live".into()),
        ..ObservedIntegration::default()
    });
    o.apis[0].routes.push(ObservedRoute {
        id: "rgone".into(),
        key: "ANY /api/gone".into(),
        target: Some("integrations/igone".into()),
    });
    // A duplicate of a kept route.
    o.apis[0].routes.push(ObservedRoute {
        id: "rdup".into(),
        key: "ANY /api/a".into(),
        target: Some("integrations/i0".into()),
    });
    o.apis.push(ObservedApi {
        id: "api2".into(),
        name: "demo-dev".into(),
        ..ObservedApi::default()
    });
    assert_eq!(
        plan_deploy(&d, &o, REGION).actions,
        vec![
            Action::DeleteRoute {
                id: "rgone".into(),
                key: "ANY /api/gone".into()
            },
            Action::DeleteRoute {
                id: "rdup".into(),
                key: "ANY /api/a".into()
            },
            Action::DeleteIntegration {
                id: "igone".into(),
                uri: "arn:aws:lambda:us-east-1:1:function:demo-gone-dev:live".into()
            },
            Action::DeleteFunction {
                function: "demo-gone-dev".into()
            },
            Action::DeleteApi {
                id: "api2".into(),
                name: "demo-dev".into()
            },
        ]
    );
}

/// A manifest with App Router routes at `/` and outside `/api`, beside a Pages route.
pub(super) fn app_router_manifest() -> Manifest {
    let route = |page: &str, file: &str, router, keys: &[&str], name: &str| ManifestRoute {
        page: page.into(),
        file: file.into(),
        router,
        kind: RouteKind::Static,
        segments: vec![],
        params: vec![],
        route_keys: keys.iter().map(|k| k.to_string()).collect(),
        config: RouteConfig::default(),
        function: Some(function(name)),
        build_error: None,
        throttle: None,
        log_retention_days: None,
    };
    use nextr::routing::Router::{App, Pages};
    Manifest {
        nextr_version: "0.1.0".into(),
        routes: vec![
            route("/", "app/route.rs", App, &["ANY /"], "demo-index-1"),
            route(
                "/api/hello",
                "api/hello.rs",
                Pages,
                &["ANY /api/hello"],
                "demo-hello",
            ),
            route(
                "/hooks/deliver/[id]",
                "app/hooks/deliver/[id]/route.rs",
                App,
                &["ANY /hooks/deliver/{id}"],
                "demo-hooks-deliver-id",
            ),
        ],
        ..Manifest::new("demo", function("demo-fallback"))
    }
}

#[test]
fn app_router_routes_deploy_like_pages_routes() {
    let d = desired_of(&app_router_manifest());
    let pages: Vec<Option<&str>> = d.functions.iter().map(|f| f.page.as_deref()).collect();
    assert_eq!(
        pages,
        [
            Some("/"),
            Some("/api/hello"),
            Some("/hooks/deliver/[id]"),
            None
        ]
    );
    let plan = plan_deploy(&d, &Observed::default(), REGION);
    for (key, function) in [
        ("ANY /", "demo-index-1-dev"),
        ("ANY /hooks/deliver/{id}", "demo-hooks-deliver-id-dev"),
        ("ANY /api/hello", "demo-hello-dev"),
    ] {
        assert!(
            plan.actions.contains(&Action::CreateRoute {
                key: key.into(),
                function: function.into()
            }),
            "{key}: {:?}",
            plan.actions
        );
    }
    assert_eq!(plan_deploy(&d, &matching(&d), REGION), Plan::default());
}

#[test]
fn cors_and_throttles_are_set_changed_and_removed() {
    use nextr::manifest::{Cors, Throttle};
    let t = |rate, burst| Throttle { rate, burst };
    let mut manifest_d = desired();
    let plain = matching(&manifest_d);
    manifest_d.protections.cors = Some(Cors {
        allow_origins: vec!["https://app.example".into()],
        ..Cors::default()
    });
    manifest_d.protections.throttle = Some(t(100, 50));
    manifest_d
        .protections
        .route_throttles
        .insert("ANY /api/a".into(), t(1, 2));
    // Deployed without them: CORS and the throttles are set.
    let plan = plan_deploy(&manifest_d, &plain, REGION);
    let lines: Vec<String> = plan.actions.iter().map(|a| a.to_string()).collect();
    assert!(
        lines.contains(&"~ http api CORS: set (origins https://app.example)".to_owned()),
        "{lines:#?}"
    );
    assert!(
        lines.contains(
            &"~ stage $default: throttle stage 100/s burst 50; ANY /api/a 1/s burst 2".to_owned()
        ),
        "{lines:#?}"
    );
    // Deployed as wanted: nothing to do.
    let same = matching(&manifest_d);
    assert!(plan_deploy(&manifest_d, &same, REGION).actions.is_empty());
    // Removed from the manifest: removed from AWS.
    let plan = plan_deploy(&desired(), &same, REGION);
    let lines: Vec<String> = plan.actions.iter().map(|a| a.to_string()).collect();
    assert_eq!(
        lines,
        [
            "- http api CORS: remove",
            "~ stage $default: throttle stage unthrottled",
            "- stage $default: remove the throttle of ANY /api/a",
        ],
        "{lines:#?}"
    );
    // A new API gets its CORS right after it is created.
    let plan = plan_deploy(&manifest_d, &Observed::default(), REGION);
    let create = plan
        .actions
        .iter()
        .position(|a| matches!(a, Action::CreateApi { .. }))
        .unwrap();
    assert!(matches!(
        plan.actions[create + 1],
        Action::SetApiCors { cors: Some(_) }
    ));
}

/// The demo app with a `proxy.rs`.
fn proxied() -> Desired {
    let manifest = Manifest {
        proxy: Some(nextr::manifest::ManifestProxy {
            file: "proxy.rs".into(),
            matcher: None,
        }),
        ..demo_manifest()
    };
    desired_of(&manifest)
}

/// The invoke policy deploy puts for `d` on the test role.
fn invoke_policy(d: &Desired) -> serde_json::Value {
    let targets = d.invoke.as_ref().expect("an app with a proxy");
    crate::deploy::rewrite::policy("aws", REGION, "1", targets)
}

#[test]
fn a_proxy_lets_the_role_invoke_exactly_the_apps_aliases_and_tells_functions_the_stage() {
    let d = proxied();
    let targets = d.invoke.clone().unwrap();
    assert_eq!(
        targets,
        crate::deploy::rewrite::InvokeTargets::Each(vec![
            "demo-a-dev".into(),
            "demo-b-dev".into(),
            "demo-fallback-dev".into()
        ])
    );
    for f in &d.functions {
        assert_eq!(
            f.spec.env.get("NEXTR_STAGE").map(String::as_str),
            Some("dev")
        );
    }
    assert!(!desired().functions[0].spec.env.contains_key("NEXTR_STAGE"));

    // Created with the role, right after it.
    let plan = plan_deploy(&d, &Observed::default(), REGION);
    assert_eq!(
        plan.actions[..3],
        [
            Action::CreateRole {
                name: "demo-dev-nextr".into()
            },
            Action::PutLogsPolicy {
                role: "demo-dev-nextr".into(),
                targets: d.log_writers.clone()
            },
            Action::PutInvokePolicy {
                role: "demo-dev-nextr".into(),
                targets: targets.clone()
            },
        ]
    );
    assert_eq!(
        plan.actions[2].to_string(),
        "~ role demo-dev-nextr: allow invoking the app's 3 live aliases (inline policy nextr-invoke, for proxy.rs rewrites)"
    );

    // In place: nothing to do; another document (a function more or less): put again.
    let mut o = matching(&d);
    if let Some(r) = o.role.as_mut() {
        r.invoke_policy = Some(invoke_policy(&d));
    }
    assert_eq!(plan_deploy(&d, &o, REGION), Plan::default());
    if let Some(r) = o.role.as_mut() {
        r.invoke_policy = Some(crate::deploy::rewrite::policy(
            "aws",
            REGION,
            "1",
            &crate::deploy::rewrite::InvokeTargets::Each(vec!["demo-a-dev".into()]),
        ));
    }
    assert_eq!(
        plan_deploy(&d, &o, REGION).actions,
        [Action::PutInvokePolicy {
            role: "demo-dev-nextr".into(),
            targets
        }]
    );
}

#[test]
fn without_the_proxy_the_policy_goes_last_and_removal_deletes_it_before_the_role() {
    let with = proxied();
    let d = desired();
    let mut o = matching(&d);
    if let Some(r) = o.role.as_mut() {
        r.invoke_policy = Some(invoke_policy(&with));
    }
    let plan = plan_deploy(&d, &o, REGION);
    assert_eq!(
        plan.actions,
        [Action::DeleteInvokePolicy {
            role: "demo-dev-nextr".into()
        }]
    );
    assert_eq!(plan.destructive(), 0);
    assert_eq!(
        plan.actions[0].to_string(),
        "- role demo-dev-nextr: remove the inline policy nextr-invoke"
    );

    let removal = plan_remove(&o);
    let pos = |a: &Action| removal.actions.iter().position(|x| x == a).unwrap();
    assert!(
        pos(&Action::DeleteInvokePolicy {
            role: "demo-dev-nextr".into()
        }) < pos(&Action::DeleteRole {
            name: "demo-dev-nextr".into()
        })
    );

    // A role deploy does not own is left alone, and the deploy says what it needs.
    let external = Desired::from_manifest(
        &Manifest {
            proxy: Some(nextr::manifest::ManifestProxy {
                file: "proxy.rs".into(),
                matcher: None,
            }),
            ..demo_manifest()
        },
        Path::new("/nowhere"),
        "00",
        &DeploySettings {
            stage: "dev".into(),
            role_arn: Some("arn:aws:iam::1:role/mine".into()),
        },
    )
    .unwrap();
    let plan = plan_deploy(&external, &Observed::default(), REGION);
    assert!(!plan
        .actions
        .iter()
        .any(|a| matches!(a, Action::PutInvokePolicy { .. })));
    assert!(
        external
            .warnings
            .iter()
            .any(|w| w.contains("arn:aws:iam::1:role/mine needs lambda:InvokeFunction")),
        "{:?}",
        external.warnings
    );
}
