//! The real deploy engine against moto's AWS server on 127.0.0.1.
//!
//! What moto cannot show (running `provided.al2023` code, API Gateway's route-key validation
//! and its routing) is listed in infra/MANUAL-CHECKS.md; these tests check resources, their
//! links and the calls made.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use nextr_infra::deploy::desired::code_sha256;
use nextr_infra::deploy::{self, Action, AwsClients, CallLog, DeployError, Interrupt, Target};
use nextr_infra::testing::{MotoServer, TestApp, TestRoute, REGION};
use support::moto::{clients, owned};

const ACCOUNT: &str = "123456789012";

const ROUTES: &[TestRoute<'static>] = &[
    ("/api/hello", &["ANY /api/hello"]),
    ("/api/post/create", &["ANY /api/post/create"]),
    ("/api/post/[pid]", &["ANY /api/post/{pid}"]),
    ("/api/post/[...slug]", &["ANY /api/post/{slug+}"]),
    (
        "/api/note/[[...slug]]",
        &["ANY /api/note", "ANY /api/note/{slug+}"],
    ),
];

/// Everything tagged with an app and stage, read with plain SDK calls (not the engine's own
/// observation), so the tests do not trust what they test.
#[derive(Debug, Default)]
struct Snapshot {
    /// name → (config, tags)
    functions: BTreeMap<String, FunctionSnap>,
    apis: Vec<ApiSnap>,
    role: Option<(String, Vec<String>)>,
    /// The role's inline policy `nextr-logs`.
    logs_policy: Option<serde_json::Value>,
    /// Log groups under `/aws/` named for the app, with their retention.
    log_groups: BTreeMap<String, Option<i32>>,
}

#[derive(Debug)]
struct FunctionSnap {
    arn: String,
    runtime: String,
    handler: String,
    architecture: String,
    timeout: i32,
    memory: i32,
    role: String,
    code_sha256: String,
    versions: Vec<String>,
    alias_version: Option<String>,
    /// Statements of the alias policy: (principal service, source ARN).
    permissions: Vec<(String, String)>,
}

#[derive(Debug)]
struct ApiSnap {
    id: String,
    name: String,
    /// id → (type, uri, payload version)
    integrations: BTreeMap<String, (String, String, String)>,
    /// (key, target)
    routes: Vec<(String, String)>,
    /// (name, auto deploy)
    stages: Vec<(String, bool)>,
}

async fn snapshot(clients: &AwsClients, app: &str, stage: &str) -> Snapshot {
    let mut snap = Snapshot::default();
    let mut marker = None;
    loop {
        let out = clients
            .lambda
            .list_functions()
            .set_marker(marker)
            .send()
            .await
            .unwrap();
        for f in out.functions() {
            let name = f.function_name().unwrap().to_string();
            let got = clients
                .lambda
                .get_function()
                .function_name(&name)
                .send()
                .await
                .unwrap();
            if !owned(got.tags(), app, stage) {
                continue;
            }
            let c = got.configuration().unwrap();
            let versions = clients
                .lambda
                .list_versions_by_function()
                .function_name(&name)
                .send()
                .await
                .unwrap()
                .versions()
                .iter()
                .filter_map(|v| v.version().map(str::to_string))
                .collect();
            let alias_version = clients
                .lambda
                .get_alias()
                .function_name(&name)
                .name("live")
                .send()
                .await
                .ok()
                .and_then(|a| a.function_version().map(str::to_string));
            let permissions = match clients
                .lambda
                .get_policy()
                .function_name(&name)
                .qualifier("live")
                .send()
                .await
            {
                Ok(p) => {
                    let doc: serde_json::Value = serde_json::from_str(p.policy().unwrap()).unwrap();
                    doc["Statement"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|s| {
                            (
                                s["Principal"]["Service"].as_str().unwrap_or("").to_string(),
                                s["Condition"]["ArnLike"]["AWS:SourceArn"]
                                    .as_str()
                                    .unwrap_or("")
                                    .to_string(),
                            )
                        })
                        .collect()
                }
                Err(_) => Vec::new(),
            };
            snap.functions.insert(
                name,
                FunctionSnap {
                    arn: c.function_arn().unwrap().to_string(),
                    runtime: c.runtime().unwrap().as_str().to_string(),
                    handler: c.handler().unwrap().to_string(),
                    architecture: c.architectures()[0].as_str().to_string(),
                    timeout: c.timeout().unwrap(),
                    memory: c.memory_size().unwrap(),
                    role: c.role().unwrap().to_string(),
                    code_sha256: c.code_sha256().unwrap().to_string(),
                    versions,
                    alias_version,
                    permissions,
                },
            );
        }
        marker = out.next_marker().map(str::to_string);
        if marker.is_none() {
            break;
        }
    }
    let apis = clients.apigw.get_apis().send().await.unwrap();
    for api in apis.items() {
        if !owned(api.tags(), app, stage) {
            continue;
        }
        let id = api.api_id().unwrap().to_string();
        let integrations = clients
            .apigw
            .get_integrations()
            .api_id(&id)
            .send()
            .await
            .unwrap()
            .items()
            .iter()
            .map(|i| {
                (
                    i.integration_id().unwrap().to_string(),
                    (
                        i.integration_type().unwrap().as_str().to_string(),
                        i.integration_uri().unwrap().to_string(),
                        i.payload_format_version().unwrap().to_string(),
                    ),
                )
            })
            .collect();
        let routes = clients
            .apigw
            .get_routes()
            .api_id(&id)
            .send()
            .await
            .unwrap()
            .items()
            .iter()
            .map(|r| {
                (
                    r.route_key().unwrap().to_string(),
                    r.target().unwrap_or_default().to_string(),
                )
            })
            .collect();
        let stages = clients
            .apigw
            .get_stages()
            .api_id(&id)
            .send()
            .await
            .unwrap()
            .items()
            .iter()
            .map(|s| {
                (
                    s.stage_name().unwrap().to_string(),
                    s.auto_deploy().unwrap_or(false),
                )
            })
            .collect();
        snap.apis.push(ApiSnap {
            id,
            name: api.name().unwrap().to_string(),
            integrations,
            routes,
            stages,
        });
    }
    let role_name = format!("{app}-{stage}-nextr");
    if let Ok(role) = clients.iam.get_role().role_name(&role_name).send().await {
        let arn = role.role().unwrap().arn().to_string();
        let attached = clients
            .iam
            .list_attached_role_policies()
            .role_name(&role_name)
            .send()
            .await
            .unwrap()
            .attached_policies()
            .iter()
            .map(|p| p.policy_arn().unwrap().to_string())
            .collect();
        snap.role = Some((arn, attached));
        snap.logs_policy = clients
            .iam
            .get_role_policy()
            .role_name(&role_name)
            .policy_name("nextr-logs")
            .send()
            .await
            .ok()
            .and_then(|p| deploy::rewrite::parse_document(p.policy_document()));
    }
    for prefix in [
        format!("/aws/lambda/{app}-"),
        format!("/aws/apigateway/{app}-"),
    ] {
        let out = clients
            .logs
            .describe_log_groups()
            .log_group_name_prefix(&prefix)
            .send()
            .await
            .unwrap();
        for g in out.log_groups() {
            let name = g.log_group_name().unwrap().to_string();
            if name.ends_with(&format!("-{stage}")) {
                snap.log_groups.insert(name, g.retention_in_days());
            }
        }
    }
    snap
}

/// Checks that AWS holds exactly what the app's manifest asks for, and nothing more.
fn assert_deployed(snap: &Snapshot, app: &TestApp, stage: &str) {
    let m = &app.manifest;
    let (role_arn, attached) = snap.role.as_ref().expect("the execution role exists");
    assert!(
        attached.is_empty(),
        "the role has no managed policy: {attached:?}"
    );
    // It may write its own functions' log groups, and nothing else.
    let account = role_arn.split(':').nth(4).unwrap();
    let mut groups: Vec<String> = m
        .functions()
        .map(|f| {
            format!(
                "arn:aws:logs:{REGION}:{account}:log-group:/aws/lambda/{}-{stage}:*",
                f.name
            )
        })
        .collect();
    groups.sort();
    let policy = snap.logs_policy.as_ref().expect("the role has nextr-logs");
    assert_eq!(
        policy["Statement"][0]["Action"],
        serde_json::json!(["logs:CreateLogStream", "logs:PutLogEvents"])
    );
    assert_eq!(
        policy["Statement"][0]["Resource"],
        serde_json::json!(groups),
        "{policy}"
    );
    // Every function's log group and the access log group, with the manifest's retention.
    let mut wanted: BTreeMap<String, Option<i32>> = m
        .functions()
        .map(|f| {
            (
                format!("/aws/lambda/{}-{stage}", f.name),
                i32::try_from(m.deploy.log_retention_days).ok(),
            )
        })
        .collect();
    wanted.insert(
        format!("/aws/apigateway/{}-{stage}", m.app),
        i32::try_from(m.deploy.log_retention_days).ok(),
    );
    assert_eq!(snap.log_groups, wanted, "log groups");

    // Functions: exactly one per route plus the fallback.
    let mut expected: BTreeMap<String, (&nextr::manifest::Function, Vec<String>)> = m
        .routes
        .iter()
        .map(|r| {
            let f = r.function.as_ref().unwrap();
            (format!("{}-{stage}", f.name), (f, r.route_keys.clone()))
        })
        .collect();
    let fallback = &m.fallback;
    expected.insert(
        format!("{}-{stage}", fallback.name),
        (fallback, vec!["$default".to_string()]),
    );
    assert_eq!(
        snap.functions.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "functions"
    );

    assert_eq!(snap.apis.len(), 1, "exactly one HTTP API: {:?}", snap.apis);
    let api = &snap.apis[0];
    assert_eq!(api.name, format!("{}-{stage}", m.app));
    assert_eq!(api.stages, vec![("$default".to_string(), true)], "stages");
    assert_eq!(
        api.integrations.len(),
        expected.len(),
        "one integration per function: {:?}",
        api.integrations
    );
    let source = format!("arn:aws:execute-api:{REGION}:{ACCOUNT}:{}/*", api.id);

    for (name, (f, keys)) in &expected {
        let got = &snap.functions[name];
        assert_eq!(got.runtime, "provided.al2023", "{name}");
        assert_eq!(got.handler, "bootstrap", "{name}");
        assert_eq!(got.architecture, "arm64", "{name}");
        assert_eq!(got.timeout, f.timeout_s as i32, "{name}");
        assert_eq!(got.memory, f.memory_mb as i32, "{name}");
        assert_eq!(&got.role, role_arn, "{name}");
        assert_eq!(
            Some(got.code_sha256.clone()),
            code_sha256(&f.sha256),
            "{name}: deployed code is the manifest's"
        );
        // The live alias points at the newest version, which runs the manifest's code.
        let newest = got
            .versions
            .iter()
            .filter_map(|v| v.parse::<u32>().ok())
            .max()
            .map(|v| v.to_string());
        assert!(newest.is_some(), "{name}: a published version");
        assert_eq!(got.alias_version, newest, "{name}: live alias");
        assert_eq!(
            got.permissions,
            vec![("apigateway.amazonaws.com".to_string(), source.clone())],
            "{name}: one invoke permission, scoped to the API"
        );
        // Its integration, and each of its route keys, one by one.
        let alias_arn = format!("{}:live", got.arn);
        let integrations: Vec<_> = api
            .integrations
            .iter()
            .filter(|(_, (_, uri, _))| uri == &alias_arn)
            .collect();
        assert_eq!(
            integrations.len(),
            1,
            "{name}: one integration on its alias"
        );
        let (integration_id, (kind, _, payload)) = integrations[0];
        assert_eq!(kind, "AWS_PROXY");
        assert_eq!(payload, "2.0");
        for key in keys {
            let routes: Vec<_> = api.routes.iter().filter(|(k, _)| k == key).collect();
            assert_eq!(routes.len(), 1, "route `{key}` exists exactly once");
            assert_eq!(
                routes[0].1,
                format!("integrations/{integration_id}"),
                "route `{key}` targets {name}"
            );
        }
    }
    let mut keys: Vec<String> = api.routes.iter().map(|(k, _)| k.clone()).collect();
    keys.sort();
    assert_eq!(keys, app.route_keys(), "no route other than the manifest's");
}

#[tokio::test]
async fn first_deploy_creates_exactly_the_manifest_and_a_second_changes_nothing() {
    let moto = MotoServer::start();
    let app = TestApp::new("demo", ROUTES);
    let c = clients(&moto).await;
    let desired = app.desired("dev");
    let (plan, applied) = deploy::deploy(&c, &desired).await.unwrap();

    // Every planned action is one mutating call, but a log group's two (`CreateLogGroup`
    // takes no retention: `PutRetentionPolicy` follows).
    let stats = c.calls().stats();
    let groups = plan
        .actions
        .iter()
        .filter(|a| matches!(a, Action::CreateLogGroup { .. }))
        .count();
    assert_eq!(groups, 7, "six functions' and the access log group");
    assert_eq!(
        stats.mutating(),
        (plan.actions.len() + groups) as u64,
        "{stats:?}"
    );
    assert_eq!(stats.count("Lambda.CreateFunction"), 6);
    assert_eq!(stats.count("Lambda.PublishVersion"), 6);
    assert_eq!(stats.count("Lambda.CreateAlias"), 6);
    assert_eq!(stats.count("ApiGatewayV2.CreateIntegration"), 6);
    assert_eq!(stats.count("ApiGatewayV2.CreateRoute"), 7);
    assert_eq!(stats.count("ApiGatewayV2.CreateApi"), 1);
    assert_eq!(stats.count("ApiGatewayV2.CreateStage"), 1);
    assert_eq!(stats.count("Lambda.AddPermission"), 6);
    assert_eq!(applied.changes.len(), plan.actions.len());
    let url = applied.url.clone().unwrap();
    assert!(
        url.starts_with("https://") && url.contains(".execute-api."),
        "{url}"
    );

    assert_deployed(&snapshot(&c, "demo", "dev").await, &app, "dev");

    // Second deploy: reads only.
    let c2 = clients(&moto).await;
    let (plan2, applied2) = deploy::deploy(&c2, &desired).await.unwrap();
    assert!(plan2.is_empty(), "{plan2}");
    assert!(applied2.changes.is_empty());
    let stats2 = c2.calls().stats();
    assert_eq!(stats2.mutating(), 0, "{:?}", stats2.mutating_operations());
    assert!(stats2.reads() > 0);
    assert_eq!(applied2.url, applied.url);
    assert_eq!(applied2.live_versions, applied.live_versions);
}

#[tokio::test]
async fn changing_one_route_updates_one_function_and_deleting_one_removes_it() {
    let moto = MotoServer::start();
    let mut app = TestApp::new("demo", ROUTES);
    deploy::deploy(&clients(&moto).await, &app.desired("dev"))
        .await
        .unwrap();
    let before = snapshot(&clients(&moto).await, "demo", "dev").await;

    app.change_code("/api/hello", "v2");
    let c = clients(&moto).await;
    let (plan, _) = deploy::deploy(&c, &app.desired("dev")).await.unwrap();
    let hello = "demo-api-hello-dev".to_string();
    assert_eq!(
        plan.actions,
        vec![
            Action::UpdateFunctionCode {
                function: hello.clone(),
                from: Some(before.functions[&hello].code_sha256.clone()),
                to: app
                    .desired("dev")
                    .function(&hello)
                    .unwrap()
                    .code_sha256
                    .clone(),
                architecture: None,
            },
            Action::PublishVersion {
                function: hello.clone()
            },
            Action::UpdateAlias {
                function: hello.clone(),
                from: Some("1".into())
            },
        ]
    );
    assert_eq!(
        c.calls().stats().mutating_operations(),
        BTreeMap::from([
            ("Lambda.PublishVersion".to_string(), 1),
            ("Lambda.UpdateAlias".to_string(), 1),
            ("Lambda.UpdateFunctionCode".to_string(), 1),
        ])
    );
    let after = snapshot(&clients(&moto).await, "demo", "dev").await;
    assert_deployed(&after, &app, "dev");
    assert_eq!(after.functions[&hello].alias_version.as_deref(), Some("2"));
    for (name, f) in &after.functions {
        if name != &hello {
            assert_eq!(f.code_sha256, before.functions[name].code_sha256, "{name}");
            assert_eq!(f.alias_version.as_deref(), Some("1"), "{name}");
        }
    }

    // Delete a route file: its routes, integration and function go; nothing else changes.
    app.remove_route("/api/note/[[...slug]]");
    let c = clients(&moto).await;
    let (plan, _) = deploy::deploy(&c, &app.desired("dev")).await.unwrap();
    let removed = "demo-api-note-slug-dev";
    // The role's logs policy no longer names its log group; the routes, integration, log
    // group and function are deleted.
    assert_eq!(plan.actions.len(), 6, "{plan}");
    assert!(
        matches!(&plan.actions[0], Action::PutLogsPolicy { targets, .. } if !targets.names().iter().any(|n| n == removed)),
        "{plan}"
    );
    assert!(
        plan.actions[1..].iter().all(Action::is_destructive),
        "{plan}"
    );
    assert!(plan.actions.contains(&Action::DeleteLogGroup {
        name: format!("/aws/lambda/{removed}")
    }));
    let snap = snapshot(&clients(&moto).await, "demo", "dev").await;
    assert!(!snap.functions.contains_key(removed));
    assert!(snap.apis[0]
        .routes
        .iter()
        .all(|(k, _)| !k.starts_with("ANY /api/note")));
    assert!(snap.apis[0]
        .integrations
        .values()
        .all(|(_, uri, _)| !uri.contains(removed)));
    assert_deployed(&snap, &app, "dev");

    // And a route file added back later is created again.
    app.add_route(
        "/api/note/[[...slug]]",
        &["ANY /api/note", "ANY /api/note/{slug+}"],
    );
    deploy::deploy(&clients(&moto).await, &app.desired("dev"))
        .await
        .unwrap();
    assert_deployed(
        &snapshot(&clients(&moto).await, "demo", "dev").await,
        &app,
        "dev",
    );
}

#[tokio::test]
async fn remove_deletes_the_stage_and_nothing_else() {
    let moto = MotoServer::start();
    let app = TestApp::new("demo", ROUTES);
    let other = TestApp::new("other", &ROUTES[..2]);
    deploy::deploy(&clients(&moto).await, &app.desired("dev"))
        .await
        .unwrap();
    deploy::deploy(&clients(&moto).await, &app.desired("prod"))
        .await
        .unwrap();
    deploy::deploy(&clients(&moto).await, &other.desired("dev"))
        .await
        .unwrap();

    let c = clients(&moto).await;
    let (plan, _) = deploy::remove(&c, &Target::new("demo", "dev").unwrap())
        .await
        .unwrap();
    assert!(plan.actions.iter().all(Action::is_destructive), "{plan}");
    let gone = snapshot(&c, "demo", "dev").await;
    assert!(gone.functions.is_empty(), "{:?}", gone.functions.keys());
    assert!(gone.apis.is_empty());
    assert!(gone.role.is_none());
    // Nothing of the app's dev stage is left under any tag-less name either.
    let names: Vec<String> = c
        .lambda
        .list_functions()
        .send()
        .await
        .unwrap()
        .functions()
        .iter()
        .filter_map(|f| f.function_name().map(str::to_string))
        .collect();
    assert!(
        names
            .iter()
            .all(|n| !n.ends_with("-dev") || n.starts_with("other-")),
        "{names:?}"
    );

    // The other stage and the other app are untouched.
    assert_deployed(&snapshot(&c, "demo", "prod").await, &app, "prod");
    assert_deployed(&snapshot(&c, "other", "dev").await, &other, "dev");

    // Removing again finds nothing to do.
    let c = clients(&moto).await;
    let (plan, _) = deploy::remove(&c, &Target::new("demo", "dev").unwrap())
        .await
        .unwrap();
    assert!(plan.is_empty(), "{plan}");
    assert_eq!(c.calls().stats().mutating(), 0);
}

/// Interrupts a first deploy before each of its mutating calls in turn; a re-run must
/// converge to exactly the manifest, and a third run must change nothing.
#[tokio::test]
async fn a_deploy_interrupted_at_any_point_converges_when_re_run() {
    let moto = MotoServer::start();
    let routes = &ROUTES[..2];
    let total = {
        let app = TestApp::new("count", routes);
        let c = clients(&moto).await;
        deploy::deploy(&c, &app.desired("dev")).await.unwrap();
        c.calls().stats().mutating()
    };
    assert!(total > 10, "{total}");
    for cut in 0..total {
        let name = format!("cut{cut}");
        let app = TestApp::new(&name, routes);
        let log = CallLog::new();
        log.interrupt_after(cut, Interrupt::Fail);
        let c = moto.clients(log).await;
        let err = deploy::deploy(&c, &app.desired("dev"))
            .await
            .expect_err("an interrupted deploy fails");
        let message = err.to_string();
        assert!(
            matches!(err, DeployError::Aws { .. }) && message.contains("interrupted before"),
            "cut {cut}: {message}"
        );
        let c = clients(&moto).await;
        deploy::deploy(&c, &app.desired("dev"))
            .await
            .unwrap_or_else(|e| panic!("cut {cut}: re-run failed: {e}"));
        assert_deployed(&snapshot(&c, &name, "dev").await, &app, "dev");
        let c = clients(&moto).await;
        let (plan, _) = deploy::deploy(&c, &app.desired("dev")).await.unwrap();
        assert!(plan.is_empty(), "cut {cut}: third run plans {plan}");
        assert_eq!(c.calls().stats().mutating(), 0, "cut {cut}");
    }
}

#[tokio::test]
async fn an_update_interrupted_after_the_code_upload_is_published_on_re_run() {
    let moto = MotoServer::start();
    let mut app = TestApp::new("demo", &ROUTES[..1]);
    deploy::deploy(&clients(&moto).await, &app.desired("dev"))
        .await
        .unwrap();
    app.change_code("/api/hello", "v2");
    let log = CallLog::new();
    log.interrupt_after(1, Interrupt::Fail);
    let err = deploy::deploy(&moto.clients(log).await, &app.desired("dev"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("demo-api-hello-dev"), "{err}");
    // $LATEST already has the new code; the alias does not: the re-run publishes.
    let c = clients(&moto).await;
    let (plan, _) = deploy::deploy(&c, &app.desired("dev")).await.unwrap();
    let hello = "demo-api-hello-dev".to_string();
    assert_eq!(
        plan.actions,
        vec![
            Action::PublishVersion {
                function: hello.clone()
            },
            Action::UpdateAlias {
                function: hello,
                from: Some("1".into())
            },
        ]
    );
    assert_deployed(&snapshot(&c, "demo", "dev").await, &app, "dev");
}

#[tokio::test]
async fn duplicates_and_strays_converge_to_one_of_each() {
    let moto = MotoServer::start();
    let app = TestApp::new("demo", &ROUTES[..2]);
    let c = clients(&moto).await;
    deploy::deploy(&c, &app.desired("dev")).await.unwrap();
    let snap = snapshot(&c, "demo", "dev").await;
    let api = &snap.apis[0];
    let target = api.routes[0].1.clone();
    // A second API with the app's tags, a duplicate route, a stray integration, a stray
    // route, a missing stage: what a crashed or hand-edited deploy could leave.
    let tags = Target::new("demo", "dev").unwrap().tags();
    c.apigw
        .create_api()
        .name("demo-dev")
        .protocol_type(aws_sdk_apigatewayv2::types::ProtocolType::Http)
        .set_tags(Some(tags))
        .send()
        .await
        .unwrap();
    c.apigw
        .create_route()
        .api_id(&api.id)
        .route_key(&api.routes[0].0)
        .target(&target)
        .send()
        .await
        .unwrap();
    c.apigw
        .create_route()
        .api_id(&api.id)
        .route_key("GET /stray")
        .target(&target)
        .send()
        .await
        .unwrap();
    c.apigw
        .create_integration()
        .api_id(&api.id)
        .integration_type(aws_sdk_apigatewayv2::types::IntegrationType::AwsProxy)
        .integration_uri("arn:aws:lambda:us-east-1:123456789012:function:elsewhere:live")
        .payload_format_version("2.0")
        .send()
        .await
        .unwrap();
    // (moto does not implement UpdateStage, so the stage is deleted rather than switched
    // to manual deploys; the UpdateStage path is in MANUAL-CHECKS.md.)
    c.apigw
        .delete_stage()
        .api_id(&api.id)
        .stage_name("$default")
        .send()
        .await
        .unwrap();

    let c = clients(&moto).await;
    let (plan, _) = deploy::deploy(&c, &app.desired("dev")).await.unwrap();
    let kinds: BTreeSet<&str> = plan
        .actions
        .iter()
        .map(|a| a.summary().kind.as_str())
        .collect();
    // The two APIs may share a CreatedDate (moto's has whole seconds): the one the
    // permissions point at is kept, so they are not re-scoped.
    assert_eq!(
        kinds,
        BTreeSet::from(["http api", "integration", "route", "stage"]),
        "{plan}"
    );
    let after = snapshot(&c, "demo", "dev").await;
    assert_deployed(&after, &app, "dev");
    assert_eq!(after.apis[0].id, api.id, "the API serving traffic is kept");
    let c = clients(&moto).await;
    let (plan, _) = deploy::deploy(&c, &app.desired("dev")).await.unwrap();
    assert!(plan.is_empty(), "{plan}");
}

#[tokio::test]
async fn a_function_of_the_same_name_that_is_not_ours_is_left_alone() {
    let moto = MotoServer::start();
    let app = TestApp::new("demo", &ROUTES[..1]);
    let c = clients(&moto).await;
    // Someone else's function, with the name deploy would use.
    let role = c
        .iam
        .create_role()
        .role_name("someone-else")
        .assume_role_policy_document("{}")
        .send()
        .await
        .unwrap();
    c.lambda
        .create_function()
        .function_name("demo-api-hello-dev")
        .runtime(aws_sdk_lambda::types::Runtime::from("provided.al2023"))
        .handler("bootstrap")
        .role(role.role().unwrap().arn())
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(aws_sdk_lambda::primitives::Blob::new(
                    nextr_infra::testing::dummy_zip("theirs"),
                ))
                .build(),
        )
        .send()
        .await
        .unwrap();
    let c = clients(&moto).await;
    let err = deploy::deploy(&c, &app.desired("dev")).await.unwrap_err();
    assert!(matches!(err, DeployError::NotOwned { .. }), "{err}");
    assert!(err.to_string().contains("demo-api-hello-dev"), "{err}");
    assert_eq!(c.calls().stats().mutating(), 0, "nothing was changed");
}

#[tokio::test]
async fn a_changed_bundle_is_refused_before_any_call() {
    let moto = MotoServer::start();
    let app = TestApp::new("demo", &ROUTES[..1]);
    let hello = app
        .manifest
        .functions()
        .find(|f| f.name == "demo-api-hello");
    let zip = app.out_dir().join(&hello.unwrap().bundle);
    std::fs::write(&zip, nextr_infra::testing::dummy_zip("tampered")).unwrap();
    let c = clients(&moto).await;
    let err = deploy::deploy(&c, &app.desired("dev")).await.unwrap_err();
    assert!(matches!(err, DeployError::Bundle { .. }), "{err}");
    assert_eq!(c.calls().stats().total(), 0);
}

/// The figures of the design: wall time and calls of a 10-route app, first deploy and a
/// no-change redeploy. Printed for the record (run with `--nocapture`).
#[tokio::test]
async fn figures_for_a_10_route_app() {
    let moto = MotoServer::start();
    let pages: Vec<(String, Vec<String>)> = (0..10)
        .map(|i| {
            if i % 2 == 0 {
                (format!("/api/r{i}"), vec![format!("ANY /api/r{i}")])
            } else {
                (
                    format!("/api/r{i}/[id]"),
                    vec![format!("ANY /api/r{i}/{{id}}")],
                )
            }
        })
        .collect();
    let keys: Vec<Vec<&str>> = pages
        .iter()
        .map(|(_, k)| k.iter().map(String::as_str).collect())
        .collect();
    let routes: Vec<TestRoute<'_>> = pages
        .iter()
        .zip(&keys)
        .map(|((p, _), k)| (p.as_str(), k.as_slice()))
        .collect();
    let app = TestApp::new("ten", &routes);
    let desired = app.desired("dev");

    let c = clients(&moto).await;
    let started = Instant::now();
    deploy::deploy(&c, &desired).await.unwrap();
    let first = started.elapsed();
    let first_stats = c.calls().stats();

    let c = clients(&moto).await;
    let started = Instant::now();
    let (plan, _) = deploy::deploy(&c, &desired).await.unwrap();
    let again = started.elapsed();
    let again_stats = c.calls().stats();

    assert!(plan.is_empty());
    assert_eq!(again_stats.mutating(), 0);
    assert_deployed(&snapshot(&c, "ten", "dev").await, &app, "dev");
    eprintln!(
        "FIGURES 10 routes + fallback against moto: first deploy {:.2} s, {} calls ({} mutating, {} reads); \
         no-change redeploy {:.2} s, {} calls ({} mutating, {} reads)",
        first.as_secs_f64(),
        first_stats.total(),
        first_stats.mutating(),
        first_stats.reads(),
        again.as_secs_f64(),
        again_stats.total(),
        again_stats.mutating(),
        again_stats.reads(),
    );
    eprintln!(
        "FIGURES first deploy by operation: {:?}",
        first_stats.by_operation
    );
    eprintln!(
        "FIGURES redeploy by operation: {:?}",
        again_stats.by_operation
    );
}

#[tokio::test]
async fn configuration_changes_update_configuration_only() {
    let moto = MotoServer::start();
    let mut app = TestApp::new("demo", &ROUTES[..2]);
    deploy::deploy(&clients(&moto).await, &app.desired("dev"))
        .await
        .unwrap();
    if let Some(f) = app.manifest.routes[1].function.as_mut() {
        f.memory_mb = 1024;
        f.timeout_s = 20;
    }
    app.write_manifest();
    let c = clients(&moto).await;
    let (plan, _) = deploy::deploy(&c, &app.desired("dev")).await.unwrap();
    let f = "demo-api-post-create-dev".to_string();
    assert_eq!(
        plan.actions,
        vec![
            Action::UpdateFunctionConfiguration {
                function: f.clone(),
                fields: vec!["timeout", "memory"],
                role: None,
            },
            Action::PublishVersion {
                function: f.clone()
            },
            Action::UpdateAlias {
                function: f.clone(),
                from: Some("1".into())
            },
        ]
    );
    assert_eq!(c.calls().stats().count("Lambda.UpdateFunctionCode"), 0);
    let snap = snapshot(&c, "demo", "dev").await;
    assert_deployed(&snap, &app, "dev");
    assert_eq!(snap.functions[&f].memory, 1024);

    // Environment from nextr.toml (merged into every function by the build) is
    // configuration too.
    app.set_env("GREETING", "hi");
    let desired = app.desired("dev");
    let c = clients(&moto).await;
    let (plan, _) = deploy::deploy(&c, &desired).await.unwrap();
    // Each of the three functions: configuration, publish, alias.
    assert_eq!(plan.actions.len(), 9, "{plan}");
    assert_eq!(
        c.calls()
            .stats()
            .count("Lambda.UpdateFunctionConfiguration"),
        3
    );
    let (plan, _) = deploy::deploy(&clients(&moto).await, &desired)
        .await
        .unwrap();
    assert!(plan.is_empty(), "{plan}");
}

#[tokio::test]
async fn an_api_deleted_behind_nextrs_back_is_recreated_and_permissions_rescoped() {
    let moto = MotoServer::start();
    let app = TestApp::new("demo", &ROUTES[..2]);
    let c = clients(&moto).await;
    deploy::deploy(&c, &app.desired("dev")).await.unwrap();
    let old = snapshot(&c, "demo", "dev").await.apis[0].id.clone();
    c.apigw.delete_api().api_id(&old).send().await.unwrap();

    let c = clients(&moto).await;
    let (plan, applied) = deploy::deploy(&c, &app.desired("dev")).await.unwrap();
    assert!(plan.actions.contains(&Action::AddPermission {
        function: "demo-api-hello-dev".into(),
        replace: true
    }));
    assert_eq!(c.calls().stats().count("Lambda.RemovePermission"), 3);
    assert_eq!(c.calls().stats().count("Lambda.CreateFunction"), 0);
    let snap = snapshot(&c, "demo", "dev").await;
    assert_ne!(snap.apis[0].id, old);
    assert_eq!(applied.api_id.as_deref(), Some(snap.apis[0].id.as_str()));
    assert_deployed(&snap, &app, "dev");
}

#[tokio::test]
async fn a_given_role_is_used_and_no_role_is_created() {
    let moto = MotoServer::start();
    let app = TestApp::new("demo", &ROUTES[..1]);
    let c = clients(&moto).await;
    let arn = c
        .iam
        .create_role()
        .role_name("my-own-role")
        .assume_role_policy_document("{}")
        .send()
        .await
        .unwrap()
        .role()
        .unwrap()
        .arn()
        .to_string();
    let settings = deploy::DeploySettings {
        stage: "dev".into(),
        role_arn: Some(arn.clone()),
    };
    let desired = deploy::Desired::load(&app.out_dir(), &settings).unwrap();
    let c = clients(&moto).await;
    deploy::deploy(&c, &desired).await.unwrap();
    assert_eq!(c.calls().stats().count("IAM.CreateRole"), 0);
    assert_eq!(c.calls().stats().count("IAM.GetRole"), 0);
    let snap = snapshot(&c, "demo", "dev").await;
    assert!(snap.role.is_none());
    assert!(snap.functions.values().all(|f| f.role == arn));
    let (plan, _) = deploy::deploy(&clients(&moto).await, &desired)
        .await
        .unwrap();
    assert!(plan.is_empty(), "{plan}");
    // remove leaves the user's role alone.
    deploy::remove(&clients(&moto).await, &Target::new("demo", "dev").unwrap())
        .await
        .unwrap();
    assert!(c
        .iam
        .get_role()
        .role_name("my-own-role")
        .send()
        .await
        .is_ok());
}

#[test]
fn a_debug_build_is_refused_naming_the_command_to_run() {
    let mut app = TestApp::new("demo", &ROUTES[..2]);
    app.manifest.profile = nextr::manifest::Profile::Debug;
    app.write_manifest();
    let settings = deploy::DeploySettings {
        stage: "dev".into(),
        ..Default::default()
    };
    let err = deploy::Desired::load(&app.out_dir(), &settings).unwrap_err();
    assert!(matches!(err, DeployError::DebugBuild { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("debug build"), "{text}");
    assert!(text.contains("run `nextr build`"), "{text}");
}

#[test]
fn keys_and_limits_aws_would_refuse_stop_the_deploy_before_any_call() {
    let mut app = TestApp::new("demo", &ROUTES[..2]);
    app.manifest.routes[1].route_keys = vec!["ANY /api/{a}x".into()];
    app.write_manifest();
    let settings = deploy::DeploySettings {
        stage: "dev".into(),
        ..Default::default()
    };
    let err = deploy::Desired::load(&app.out_dir(), &settings).unwrap_err();
    assert!(matches!(err, DeployError::RouteKeys(_)), "{err}");
    assert!(err.to_string().contains("ANY /api/{a}x"), "{err}");

    let mut app = TestApp::new("demo", &ROUTES[..2]);
    app.manifest.routes[0].config.max_duration = Some(60);
    app.write_manifest();
    let err = deploy::Desired::load(&app.out_dir(), &settings).unwrap_err();
    assert!(matches!(err, DeployError::Limits(_)), "{err}");
    assert!(err.to_string().contains("/api/hello"), "{err}");
}

#[tokio::test]
async fn old_versions_are_pruned_to_the_live_one_and_the_previous_ones_kept() {
    let moto = MotoServer::start();
    let mut app = TestApp::new("demo", &ROUTES[..1]);
    app.manifest.deploy.keep_versions = 100;
    app.write_manifest();
    let f = format!(
        "{}-dev",
        app.manifest.routes[0].function.as_ref().unwrap().name
    );
    let versions = |c: AwsClients| {
        let f = f.clone();
        async move {
            let out = c
                .lambda
                .list_versions_by_function()
                .function_name(&f)
                .send()
                .await
                .unwrap();
            let mut v: Vec<u64> = out
                .versions()
                .iter()
                .filter_map(|v| v.version()?.parse().ok())
                .collect();
            v.sort_unstable();
            v
        }
    };
    deploy::deploy(&clients(&moto).await, &app.desired("dev"))
        .await
        .unwrap();
    for n in 2..=3 {
        app.change_code("/api/hello", &format!("v{n}"));
        deploy::deploy(&clients(&moto).await, &app.desired("dev"))
            .await
            .unwrap();
    }
    assert_eq!(versions(clients(&moto).await).await, [1, 2, 3]);

    // Keep one version besides the live one: version 1 goes, and only it.
    app.manifest.deploy.keep_versions = 1;
    app.write_manifest();
    let c = clients(&moto).await;
    let (plan, _) = deploy::deploy(&c, &app.desired("dev")).await.unwrap();
    assert_eq!(
        plan.actions,
        [Action::DeleteVersions {
            function: f.clone(),
            versions: vec![1]
        }]
    );
    assert!(!plan.actions[0].is_destructive(), "no confirmation needed");
    assert_eq!(versions(clients(&moto).await).await, [2, 3]);
    let snap = snapshot(&clients(&moto).await, "demo", "dev").await;
    assert_deployed(&snap, &app, "dev");
    // Nothing left to prune: a redeploy changes nothing.
    let c = clients(&moto).await;
    let (plan, _) = deploy::deploy(&c, &app.desired("dev")).await.unwrap();
    assert!(plan.is_empty(), "{plan}");
    assert_eq!(c.calls().stats().mutating(), 0);
}
