//! The deploy engine behind a REST API (`gateway = "rest"`), and function URLs, against
//! moto's AWS server on 127.0.0.1.
//!
//! What moto does not keep or cannot show (`responseTransferMode`, the function URL's
//! qualifier, streaming itself) is in infra/MANUAL-CHECKS.md; these tests check resources,
//! their links and the calls made, read back with plain SDK calls.

mod support;

use std::collections::{BTreeMap, BTreeSet};

use nextr::manifest::{FunctionUrlAuth, GatewayKind, ResponseMode};
use nextr_infra::deploy::{self, Action, AwsClients, CallLog, DeployError, Interrupt, Target};
use nextr_infra::testing::{MotoServer, TestApp, TestRoute, REGION};
use support::moto::{clients, owned};

const ACCOUNT: &str = "123456789012";

/// A static, a dynamic and a greedy route; the fallback serves the root, everything no route
/// takes (`/{proxy+}`) and the intermediate resources, as the build lists them.
const ROUTES: &[TestRoute<'static>] = &[
    ("/api/hello", &["ANY /api/hello"]),
    ("/api/post/[pid]", &["ANY /api/post/{pid}"]),
    ("/api/files/[...path]", &["ANY /api/files/{path+}"]),
];
const FALLBACK_KEYS: &[&str] = &[
    "ANY /",
    "ANY /{proxy+}",
    "ANY /api",
    "ANY /api/post",
    "ANY /api/files",
];

/// The demo app: `/api/post/[pid]` streams, `/api/hello` is buffered with a public function
/// URL, the rest buffered.
fn demo() -> TestApp {
    let mut app = TestApp::rest("demo", ROUTES, FALLBACK_KEYS);
    app.set_response_mode("/api/post/[pid]", ResponseMode::Stream);
    app.set_function_url("/api/hello", Some(FunctionUrlAuth::None));
    app
}

/// One method's integration, as the server keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct IntegrationSnap {
    kind: String,
    http_method: String,
    uri: String,
    transfer_mode: Option<String>,
    timeout_ms: i32,
}

/// A resource's methods, and its `ANY` method's authorization and integration.
type ResourceSnap = (Vec<String>, Option<(String, Option<IntegrationSnap>)>);

/// A REST API of the app, read with plain SDK calls.
#[derive(Debug)]
struct RestSnap {
    id: String,
    name: String,
    binary_media_types: Vec<String>,
    /// path → (methods, the `ANY` method's authorization and integration)
    resources: BTreeMap<String, ResourceSnap>,
    /// stage → the description of its deployment
    stages: BTreeMap<String, String>,
}

async fn rest_apis(c: &AwsClients, app: &str, stage: &str) -> Vec<RestSnap> {
    let mut snaps = Vec::new();
    let apis = c.rest.get_rest_apis().send().await.unwrap();
    for api in apis.items() {
        if !owned(api.tags(), app, stage) {
            continue;
        }
        let id = api.id().unwrap().to_string();
        let mut resources = BTreeMap::new();
        let listed = c
            .rest
            .get_resources()
            .rest_api_id(&id)
            .send()
            .await
            .unwrap();
        for r in listed.items() {
            let rid = r.id().unwrap();
            let methods: Vec<String> = r
                .resource_methods()
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default();
            let any = match c
                .rest
                .get_method()
                .rest_api_id(&id)
                .resource_id(rid)
                .http_method("ANY")
                .send()
                .await
            {
                Ok(m) => {
                    let integration = m.method_integration().map(|i| IntegrationSnap {
                        kind: i.r#type().unwrap().as_str().to_string(),
                        http_method: i.http_method().unwrap_or_default().to_string(),
                        uri: i.uri().unwrap_or_default().to_string(),
                        transfer_mode: i.response_transfer_mode().map(|m| m.as_str().to_string()),
                        timeout_ms: i.timeout_in_millis(),
                    });
                    Some((
                        m.authorization_type().unwrap_or_default().to_string(),
                        integration,
                    ))
                }
                Err(_) => None,
            };
            resources.insert(r.path().unwrap().to_string(), (methods, any));
        }
        let deployments: BTreeMap<String, String> = c
            .rest
            .get_deployments()
            .rest_api_id(&id)
            .send()
            .await
            .unwrap()
            .items()
            .iter()
            .map(|d| {
                (
                    d.id().unwrap().to_string(),
                    d.description().unwrap_or_default().to_string(),
                )
            })
            .collect();
        let stages = c
            .rest
            .get_stages()
            .rest_api_id(&id)
            .send()
            .await
            .unwrap()
            .item()
            .iter()
            .map(|s| {
                let deployment = s.deployment_id().unwrap_or_default();
                (
                    s.stage_name().unwrap().to_string(),
                    deployments.get(deployment).cloned().unwrap_or_default(),
                )
            })
            .collect();
        snaps.push(RestSnap {
            id,
            name: api.name().unwrap().to_string(),
            binary_media_types: api.binary_media_types().to_vec(),
            resources,
            stages,
        });
    }
    snaps
}

/// The statements of a function's alias policy: sid → the statement as moto keeps it.
async fn statements(c: &AwsClients, function: &str) -> BTreeMap<String, serde_json::Value> {
    match c
        .lambda
        .get_policy()
        .function_name(function)
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
                .map(|s| (s["Sid"].as_str().unwrap().to_string(), s.clone()))
                .collect()
        }
        Err(_) => BTreeMap::new(),
    }
}

async fn function_arn(c: &AwsClients, function: &str) -> String {
    c.lambda
        .get_function()
        .function_name(function)
        .send()
        .await
        .unwrap()
        .configuration()
        .unwrap()
        .function_arn()
        .unwrap()
        .to_string()
}

/// The app's HTTP APIs (there should be none behind a REST app).
async fn http_api_count(c: &AwsClients, app: &str, stage: &str) -> usize {
    c.apigw
        .get_apis()
        .send()
        .await
        .unwrap()
        .items()
        .iter()
        .filter(|a| owned(a.tags(), app, stage))
        .count()
}

/// Checks that the REST API holds exactly the manifest's tree, each keyed resource with one
/// `ANY` method integrated with its function's alias in its mode, the stage on a nextr
/// deployment, and each alias invocable by this API only.
async fn assert_rest_deployed(c: &AwsClients, app: &TestApp, stage: &str) -> RestSnap {
    let m = &app.manifest;
    let mut apis = rest_apis(c, &m.app, stage).await;
    assert_eq!(apis.len(), 1, "exactly one REST API: {apis:?}");
    assert_eq!(http_api_count(c, &m.app, stage).await, 0, "no HTTP API");
    let api = apis.remove(0);
    assert_eq!(api.name, format!("{}-{stage}", m.app));
    // Bodies travel as bytes both ways (the runtime base64-decodes and encodes them).
    assert_eq!(api.binary_media_types, ["*/*"]);

    // path → the function serving it
    let mut keyed = BTreeMap::new();
    for r in &m.routes {
        let f = r.function.as_ref().unwrap();
        for k in &r.route_keys {
            keyed.insert(k.trim_start_matches("ANY ").to_string(), f);
        }
    }
    for k in &m.gateway.fallback_keys {
        keyed.insert(k.trim_start_matches("ANY ").to_string(), &m.fallback);
    }
    let mut paths: BTreeSet<String> = keyed.keys().cloned().collect();
    for p in keyed.keys() {
        let mut cur = p.as_str();
        while let Some((parent, _)) = cur.rsplit_once('/') {
            let parent = if parent.is_empty() { "/" } else { parent };
            paths.insert(parent.to_string());
            if parent == "/" {
                break;
            }
            cur = parent;
        }
    }
    assert_eq!(
        api.resources.keys().cloned().collect::<BTreeSet<_>>(),
        paths,
        "the resource tree"
    );

    let source = format!("arn:aws:execute-api:{REGION}:{ACCOUNT}:{}/*/*/*", api.id);
    for (path, (methods, any)) in &api.resources {
        let Some(f) = keyed.get(path) else {
            assert!(
                methods.is_empty(),
                "{path}: an intermediate resource has no method"
            );
            continue;
        };
        assert_eq!(methods, &vec!["ANY".to_string()], "{path}: one ANY method");
        let (auth, integration) = any.clone().expect("the ANY method");
        assert_eq!(auth, "NONE", "{path}");
        let i = integration.expect("an integration");
        let name = format!("{}-{stage}", f.name);
        let alias = format!("{}:live", function_arn(c, &name).await);
        let (uri, timeout) = match f.response_mode {
            ResponseMode::Stream => (
                format!("arn:aws:apigateway:{REGION}:lambda:path/2021-11-15/functions/{alias}/response-streaming-invocations"),
                (f.timeout_s * 1000).min(900_000),
            ),
            ResponseMode::Buffered => (
                format!("arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{alias}/invocations"),
                (f.timeout_s * 1000).min(29_000),
            ),
        };
        assert_eq!(i.kind, "AWS_PROXY", "{path}");
        assert_eq!(i.http_method, "POST", "{path}");
        assert_eq!(i.uri, uri, "{path}: the {} URI", f.response_mode);
        assert_eq!(i.timeout_ms, timeout as i32, "{path}");
        // moto 5 drops `responseTransferMode` (its Integration has no such field): the mode
        // is checked through the URI here, and on AWS by MANUAL-CHECKS.md ("REST streaming
        // integration"). When moto keeps it, this fails: assert STREAM/BUFFERED instead.
        assert_eq!(
            i.transfer_mode, None,
            "{path}: moto keeps responseTransferMode now"
        );
        // Only this API may invoke the alias.
        let st = statements(c, &name).await;
        let rest = st
            .get("nextr-apigw-rest")
            .expect("the REST API's statement");
        assert_eq!(
            rest["Condition"]["ArnLike"]["AWS:SourceArn"],
            source.as_str()
        );
        assert_eq!(rest["Principal"]["Service"], "apigateway.amazonaws.com");
        assert!(
            !st.contains_key("nextr-apigw"),
            "{name}: no HTTP API statement"
        );
    }

    let description = api.stages.get(stage).expect("the stage exists");
    assert!(description.starts_with("nextr "), "{description}");
    assert_eq!(api.stages.len(), 1, "{:?}", api.stages);
    api
}

#[tokio::test]
async fn a_rest_app_deploys_tree_methods_integrations_stage_and_url_and_a_redeploy_changes_nothing()
{
    let moto = MotoServer::start();
    let app = demo();
    let c = clients(&moto).await;
    let desired = app.desired("dev");
    let (plan, applied) = deploy::deploy(&c, &desired).await.unwrap();
    let stats = c.calls().stats();
    // AddUrlPermissions is two statements; moto ignores CreateRestApi's binaryMediaTypes, so
    // deploy adds them right after (one UpdateRestApi; none on AWS, MANUAL-CHECKS); each log
    // group is created, then given its retention; the account's CloudWatch role is created
    // and given its policy before UpdateAccount.
    let groups = plan
        .actions
        .iter()
        .filter(|a| matches!(a, Action::CreateLogGroup { .. }))
        .count() as u64;
    assert_eq!(groups, 5, "four functions' and the access log group");
    assert!(plan
        .actions
        .iter()
        .any(|a| matches!(a, Action::SetGatewayLogsRole { .. })));
    assert_eq!(
        stats.mutating(),
        plan.actions.len() as u64 + 2 + groups + 2,
        "{:?}",
        stats.mutating_operations()
    );
    assert_eq!(stats.count("API Gateway.CreateRestApi"), 1);
    // 8 resources, the root came with the API.
    assert_eq!(stats.count("API Gateway.CreateResource"), 7);
    assert_eq!(stats.count("API Gateway.PutMethod"), 8);
    assert_eq!(stats.count("API Gateway.PutIntegration"), 8);
    assert_eq!(stats.count("API Gateway.CreateDeployment"), 1);
    assert_eq!(stats.count("API Gateway.CreateStage"), 1);
    assert_eq!(stats.count("Lambda.CreateFunctionUrlConfig"), 1);
    assert_eq!(stats.count("ApiGatewayV2.CreateApi"), 0);

    let api = assert_rest_deployed(&c, &app, "dev").await;
    assert_eq!(
        applied.url.as_deref(),
        Some(format!("https://{}.execute-api.{REGION}.amazonaws.com/dev", api.id).as_str())
    );
    assert_eq!(applied.api_id.as_deref(), Some(api.id.as_str()));

    // The function URL: on hello only, streaming, public with both statements.
    let hello = "demo-api-hello-dev";
    let url = c
        .lambda
        .get_function_url_config()
        .function_name(hello)
        .qualifier("live")
        .send()
        .await
        .unwrap();
    assert_eq!(url.auth_type().as_str(), "NONE");
    assert_eq!(
        url.invoke_mode().map(|m| m.as_str()),
        Some("RESPONSE_STREAM")
    );
    assert_eq!(
        applied.function_urls,
        BTreeMap::from([(hello.to_string(), url.function_url().to_string())])
    );
    let st = statements(&c, hello).await;
    let public = &st["nextr-url"];
    assert_eq!(public["Action"], "lambda:InvokeFunctionUrl");
    assert_eq!(public["Principal"], "*");
    // moto keeps the condition as the request's field, AWS as a Condition (MANUAL-CHECKS).
    assert_eq!(public["FunctionUrlAuthType"], "NONE");
    let invoke = &st["nextr-url-invoke"];
    assert_eq!(invoke["Action"], "lambda:InvokeFunction");
    assert_eq!(invoke["Principal"], "*");
    assert_eq!(invoke["InvokedViaFunctionUrl"], true);
    for other in ["demo-api-post-pid-dev", "demo-_default-dev"] {
        assert!(c
            .lambda
            .get_function_url_config()
            .function_name(other)
            .send()
            .await
            .is_err());
        let st = statements(&c, other).await;
        assert_eq!(
            st.keys().collect::<Vec<_>>(),
            ["nextr-apigw-rest"],
            "{other}"
        );
    }

    // The plan shows resources, methods and the URL as it shows HTTP routes.
    let text = plan.to_string();
    for line in [
        "+ rest api demo-dev: create",
        "+ resource /api/post/{pid}: create",
        "+ method ANY /api/post/{pid}: create → demo-api-post-pid-dev",
        "~ method ANY /api/post/{pid}: integrate → demo-api-post-pid-dev (stream)",
        "~ method ANY /api/hello: integrate → demo-api-hello-dev (buffered)",
        "+ function url demo-api-hello-dev:live: create (auth NONE, streaming)",
        "+ stage dev: create on the new deployment",
    ] {
        assert!(text.contains(line), "{line} in\n{text}");
    }

    // Second deploy: reads only.
    let c2 = clients(&moto).await;
    let (plan2, applied2) = deploy::deploy(&c2, &desired).await.unwrap();
    assert!(plan2.is_empty(), "{plan2}");
    assert_eq!(c2.calls().stats().mutating(), 0);
    assert_eq!(applied2.url, applied.url);
    assert_eq!(applied2.function_urls, applied.function_urls);

    // An API whose binary media types were removed (by hand, or made by an older nextr) gets
    // them back, and a new deployment carries them to the stage.
    c2.rest
        .update_rest_api()
        .rest_api_id(&api.id)
        .patch_operations(
            aws_sdk_apigateway::types::PatchOperation::builder()
                .op(aws_sdk_apigateway::types::Op::Remove)
                .path("/binaryMediaTypes/*~1*")
                // moto reads the value, API Gateway the path.
                .value("*/*")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let c3 = clients(&moto).await;
    let (plan3, _) = deploy::deploy(&c3, &desired).await.unwrap();
    assert!(
        plan3.to_string().contains("add binary media types */*"),
        "{plan3}"
    );
    assert_rest_deployed(&c3, &app, "dev").await;
}

#[tokio::test]
async fn changes_to_routes_modes_and_urls_update_only_what_changed() {
    let moto = MotoServer::start();
    let mut app = demo();
    deploy::deploy(&clients(&moto).await, &app.desired("dev"))
        .await
        .unwrap();
    let first = assert_rest_deployed(&clients(&moto).await, &app, "dev").await;

    // Delete a route file: its resource goes (children before parents), the fallback's
    // intermediate `/api/files` with it, the stage moves to a new deployment.
    app.remove_route("/api/files/[...path]");
    app.set_gateway(
        GatewayKind::Rest,
        &["ANY /", "ANY /{proxy+}", "ANY /api", "ANY /api/post"],
    );
    let c = clients(&moto).await;
    let (plan, _) = deploy::deploy(&c, &app.desired("dev")).await.unwrap();
    let deleted: Vec<&str> = plan
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::DeleteResource { path, .. } => Some(path.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(deleted, ["/api/files/{path+}", "/api/files"], "{plan}");
    let position = |f: &dyn Fn(&Action) -> bool| plan.actions.iter().position(f).unwrap();
    let deployment = position(&|a| matches!(a, Action::CreateDeployment { .. }));
    assert!(position(&|a| matches!(a, Action::DeleteResource { .. })) < deployment);
    assert!(deployment < position(&|a| matches!(a, Action::UpdateRestStage { .. })));
    assert!(plan.actions.contains(&Action::DeleteFunction {
        function: "demo-api-files-path-dev".into()
    }));
    let after = assert_rest_deployed(&c, &app, "dev").await;
    assert_eq!(after.id, first.id);
    assert_ne!(after.stages["dev"], first.stages["dev"], "a new deployment");
    // The old one is deleted once the stage moved.
    let deployments = c
        .rest
        .get_deployments()
        .rest_api_id(&after.id)
        .send()
        .await
        .unwrap();
    assert_eq!(deployments.items().len(), 1, "{deployments:?}");

    // Streaming hello: its integration is put again with the streaming URI (and the
    // function's NEXTR_RESPONSE_MODE changes, so a version is published).
    app.set_response_mode("/api/hello", ResponseMode::Stream);
    let c = clients(&moto).await;
    let (plan, _) = deploy::deploy(&c, &app.desired("dev")).await.unwrap();
    assert!(
        plan.actions.contains(&Action::PutIntegration {
            path: "/api/hello".into(),
            function: "demo-api-hello-dev".into(),
            mode: ResponseMode::Stream
        }),
        "{plan}"
    );
    assert_eq!(c.calls().stats().count("API Gateway.PutIntegration"), 1);
    assert_rest_deployed(&c, &app, "dev").await;

    // The URL turns to IAM auth: updated, the public statements go.
    app.set_function_url("/api/hello", Some(FunctionUrlAuth::Iam));
    let c = clients(&moto).await;
    let (plan, _) = deploy::deploy(&c, &app.desired("dev")).await.unwrap();
    let hello = "demo-api-hello-dev".to_string();
    assert_eq!(
        plan.actions,
        vec![
            Action::UpdateFunctionUrl {
                function: hello.clone(),
                auth: FunctionUrlAuth::Iam
            },
            Action::RemovePermission {
                function: hello.clone(),
                sid: "nextr-url".into()
            },
            Action::RemovePermission {
                function: hello.clone(),
                sid: "nextr-url-invoke".into()
            },
        ]
    );
    let url = c
        .lambda
        .get_function_url_config()
        .function_name(&hello)
        .send()
        .await
        .unwrap();
    assert_eq!(url.auth_type().as_str(), "AWS_IAM");
    assert_eq!(
        statements(&c, &hello).await.keys().collect::<Vec<_>>(),
        ["nextr-apigw-rest"]
    );

    // Dropped: the URL is deleted.
    app.set_function_url("/api/hello", None);
    let c = clients(&moto).await;
    let (plan, applied) = deploy::deploy(&c, &app.desired("dev")).await.unwrap();
    assert_eq!(
        plan.actions,
        vec![Action::DeleteFunctionUrl {
            function: hello.clone()
        }]
    );
    assert!(applied.function_urls.is_empty());
    assert!(c
        .lambda
        .get_function_url_config()
        .function_name(&hello)
        .send()
        .await
        .is_err());
    let c = clients(&moto).await;
    let (plan, _) = deploy::deploy(&c, &app.desired("dev")).await.unwrap();
    assert!(plan.is_empty(), "{plan}");
}

#[tokio::test]
async fn switching_http_to_rest_and_back_leaves_one_api_of_the_new_kind() {
    let moto = MotoServer::start();
    let http_routes: &[TestRoute<'static>] = &[
        ("/api/hello", &["ANY /api/hello"]),
        ("/api/post/[pid]", &["ANY /api/post/{pid}"]),
    ];
    let mut app = TestApp::new("demo", http_routes);
    app.set_function_url("/api/hello", Some(FunctionUrlAuth::None));
    let c = clients(&moto).await;
    let (_, http) = deploy::deploy(&c, &app.desired("dev")).await.unwrap();
    let hello = "demo-api-hello-dev";
    // Function URLs behind an HTTP API too.
    assert!(http.function_urls.contains_key(hello));
    assert!(statements(&c, hello).await.contains_key("nextr-apigw"));

    app.set_gateway(
        GatewayKind::Rest,
        &["ANY /", "ANY /{proxy+}", "ANY /api", "ANY /api/post"],
    );
    let c = clients(&moto).await;
    let (plan, rest) = deploy::deploy(&c, &app.desired("dev")).await.unwrap();
    // The HTTP API goes only after the REST stage is live, its statements last.
    let stage = plan
        .actions
        .iter()
        .position(|a| matches!(a, Action::CreateRestStage { .. }))
        .unwrap();
    let delete = plan
        .actions
        .iter()
        .position(|a| matches!(a, Action::DeleteApi { .. }))
        .unwrap();
    assert!(stage < delete, "{plan}");
    assert!(
        plan.actions.iter().skip(delete).all(Action::is_destructive),
        "{plan}"
    );
    assert_rest_deployed(&c, &app, "dev").await;
    assert_eq!(rest.function_urls, http.function_urls, "the URL is kept");
    let c = clients(&moto).await;
    let (plan, _) = deploy::deploy(&c, &app.desired("dev")).await.unwrap();
    assert!(plan.is_empty(), "{plan}");

    // And back: the REST API and its statements go.
    app.set_gateway(GatewayKind::Http, &["$default"]);
    let c = clients(&moto).await;
    let (plan, _) = deploy::deploy(&c, &app.desired("dev")).await.unwrap();
    assert!(plan
        .actions
        .iter()
        .any(|a| matches!(a, Action::DeleteRestApi { .. })));
    assert!(rest_apis(&c, "demo", "dev").await.is_empty());
    assert_eq!(http_api_count(&c, "demo", "dev").await, 1);
    for f in [
        "demo-api-hello-dev",
        "demo-api-post-pid-dev",
        "demo-_default-dev",
    ] {
        let st = statements(&c, f).await;
        assert!(st.contains_key("nextr-apigw"), "{f}");
        assert!(!st.contains_key("nextr-apigw-rest"), "{f}");
    }
    let c = clients(&moto).await;
    let (plan, _) = deploy::deploy(&c, &app.desired("dev")).await.unwrap();
    assert!(plan.is_empty(), "{plan}");
}

#[tokio::test]
async fn remove_deletes_the_rest_api_functions_and_urls() {
    let moto = MotoServer::start();
    let app = demo();
    let other = TestApp::rest(
        "other",
        &ROUTES[..1],
        &["ANY /", "ANY /{proxy+}", "ANY /api"],
    );
    deploy::deploy(&clients(&moto).await, &app.desired("dev"))
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
    assert!(plan
        .actions
        .iter()
        .any(|a| matches!(a, Action::DeleteRestApi { .. })));
    assert!(rest_apis(&c, "demo", "dev").await.is_empty());
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
    assert!(names.iter().all(|n| n.starts_with("other-")), "{names:?}");
    // The function URL went with its function.
    assert!(c
        .lambda
        .get_function_url_config()
        .function_name("demo-api-hello-dev")
        .send()
        .await
        .is_err());
    assert_rest_deployed(&c, &other, "dev").await;
    let c = clients(&moto).await;
    let (plan, _) = deploy::remove(&c, &Target::new("demo", "dev").unwrap())
        .await
        .unwrap();
    assert!(plan.is_empty(), "{plan}");
}

/// Interrupts a first REST deploy before each of its mutating calls in turn; a re-run must
/// converge to exactly the manifest (the stage on a deployment of the whole tree), and a
/// third run must change nothing.
#[tokio::test]
async fn an_interrupted_rest_deploy_converges_when_re_run() {
    let moto = MotoServer::start();
    let routes = &ROUTES[..2];
    let fallback = &["ANY /", "ANY /{proxy+}", "ANY /api", "ANY /api/post"];
    let make = |name: &str| {
        let mut app = TestApp::rest(name, routes, fallback);
        app.set_response_mode("/api/post/[pid]", ResponseMode::Stream);
        app.set_function_url("/api/hello", Some(FunctionUrlAuth::None));
        app
    };
    // The account's CloudWatch role is set once for every app: the first deploy sets it,
    // the counted one and the cut ones do not.
    deploy::deploy(&clients(&moto).await, &make("warm").desired("dev"))
        .await
        .unwrap();
    let total = {
        let app = make("count");
        let c = clients(&moto).await;
        deploy::deploy(&c, &app.desired("dev")).await.unwrap();
        c.calls().stats().mutating()
    };
    assert!(total > 20, "{total}");
    for cut in 0..total {
        let name = format!("cut{cut}");
        let app = make(&name);
        let log = CallLog::new();
        log.interrupt_after(cut, Interrupt::Fail);
        let c = moto.clients(log).await;
        let err = deploy::deploy(&c, &app.desired("dev"))
            .await
            .expect_err("an interrupted deploy fails");
        assert!(
            matches!(err, DeployError::Aws { .. })
                && err.to_string().contains("interrupted before"),
            "cut {cut}: {err}"
        );
        let c = clients(&moto).await;
        deploy::deploy(&c, &app.desired("dev"))
            .await
            .unwrap_or_else(|e| panic!("cut {cut}: re-run failed: {e}"));
        assert_rest_deployed(&c, &app, "dev").await;
        let c = clients(&moto).await;
        let (plan, _) = deploy::deploy(&c, &app.desired("dev")).await.unwrap();
        assert!(plan.is_empty(), "cut {cut}: third run plans {plan}");
        assert_eq!(c.calls().stats().mutating(), 0, "cut {cut}");
    }
}

#[test]
fn rest_keys_api_gateway_would_refuse_stop_the_deploy_before_any_call() {
    let app = TestApp::rest(
        "demo",
        &[
            ("/api/hello", &["ANY /api/hello/"]),
            ("/api/x", &["GET /api/x"]),
        ],
        &["ANY /", "ANY /api/hello/"],
    );
    let settings = deploy::DeploySettings {
        stage: "dev".into(),
        ..Default::default()
    };
    let err = deploy::Desired::load(&app.out_dir(), &settings).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, DeployError::RouteKeys(_)), "{text}");
    assert!(text.contains("empty path segment"), "{text}");
    assert!(text.contains("`GET /api/x`"), "{text}");
}
