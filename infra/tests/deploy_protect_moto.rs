//! The gateway's protections deployed against moto's AWS server on 127.0.0.1: an HTTP API's
//! `CorsConfiguration` and its `$default` stage's throttling (default route settings and
//! per-route settings), read back with plain SDK calls, then changed and removed.
//!
//! moto implements `CreateApi`/`UpdateApi` with `CorsConfiguration`,
//! `DeleteCorsConfiguration` and `CreateStage` with route settings, but not `UpdateStage` or
//! `DeleteRouteSettings` (a 500): changing or removing a throttle on an existing stage is
//! checked here up to the plan, and on AWS by infra/MANUAL-CHECKS.md.

mod support;

use nextr::manifest::{Cors, Throttle};
use nextr_infra::deploy::{self, Action, AwsClients};
use nextr_infra::testing::{MotoServer, TestApp, TestRoute};
use support::moto::{clients, owned};

const ROUTES: &[TestRoute<'static>] = &[
    ("/api/hello", &["ANY /api/hello"]),
    ("/api/login", &["ANY /api/login"]),
];

/// The CORS configuration of the app's API, read with plain SDK calls.
async fn api_cors(c: &AwsClients) -> Option<aws_sdk_apigatewayv2::types::Cors> {
    let apis = c.apigw.get_apis().send().await.unwrap();
    let api = apis
        .items()
        .iter()
        .find(|a| owned(a.tags(), "demo", "dev"))
        .expect("the app's API");
    let got = c
        .apigw
        .get_api()
        .api_id(api.api_id().unwrap())
        .send()
        .await
        .unwrap();
    got.cors_configuration().cloned()
}

/// The `$default` stage's settings.
async fn stage(c: &AwsClients) -> aws_sdk_apigatewayv2::operation::get_stage::GetStageOutput {
    let apis = c.apigw.get_apis().send().await.unwrap();
    let api = apis
        .items()
        .iter()
        .find(|a| owned(a.tags(), "demo", "dev"))
        .expect("the app's API");
    c.apigw
        .get_stage()
        .api_id(api.api_id().unwrap())
        .stage_name("$default")
        .send()
        .await
        .unwrap()
}

/// The CORS settings every test deploys first.
fn app_cors() -> Cors {
    Cors {
        allow_origins: vec!["https://app.example".into()],
        allow_methods: vec!["GET".into(), "POST".into()],
        allow_headers: vec!["content-type".into()],
        expose_headers: vec!["x-request-id".into()],
        allow_credentials: true,
        max_age_s: Some(600),
    }
}

/// A REST app with two routes, `/api/hello` and `/api/login`.
fn rest_app() -> TestApp {
    TestApp::rest(
        "demo",
        &[
            ("/api/hello", &["ANY /api/hello"]),
            ("/api/login", &["ANY /api/login"]),
        ],
        &["ANY /", "ANY /{proxy+}", "ANY /api"],
    )
}

/// Deploys `app` again and asserts there was nothing to do: an empty plan, no mutating call.
async fn assert_redeploy_changes_nothing(moto: &MotoServer, app: &TestApp) {
    let c = clients(moto).await;
    let (plan, _) = deploy::deploy(&c, &app.desired("dev")).await.unwrap();
    assert!(plan.is_empty(), "{plan}");
    assert_eq!(c.calls().stats().mutating(), 0);
}

fn protected(app: &mut TestApp) {
    app.manifest.gateway.cors = Some(app_cors());
    app.manifest.gateway.throttle = Some(Throttle {
        rate: 100,
        burst: 50,
    });
    app.manifest.routes[1].throttle = Some(Throttle { rate: 1, burst: 2 });
    app.write_manifest();
}

#[tokio::test]
async fn cors_and_throttling_are_deployed_read_back_and_a_second_deploy_changes_nothing() {
    let moto = MotoServer::start();
    let mut app = TestApp::new("demo", ROUTES);
    protected(&mut app);
    let c = clients(&moto).await;
    let (plan, _) = deploy::deploy(&c, &app.desired("dev")).await.unwrap();
    let lines: Vec<String> = plan.actions.iter().map(|a| a.to_string()).collect();
    assert!(
        lines.contains(
            &"~ http api CORS: set (origins https://app.example; methods GET, POST; credentials)"
                .to_owned()
        ),
        "{lines:#?}"
    );
    let stats = c.calls().stats();
    assert_eq!(stats.count("ApiGatewayV2.UpdateApi"), 1);

    let cors = api_cors(&c).await.expect("a CORS configuration");
    assert_eq!(cors.allow_origins(), ["https://app.example"]);
    assert_eq!(cors.allow_methods(), ["GET", "POST"]);
    assert_eq!(cors.allow_headers(), ["content-type"]);
    assert_eq!(cors.expose_headers(), ["x-request-id"]);
    assert_eq!(cors.allow_credentials(), Some(true));
    assert_eq!(cors.max_age(), Some(600));

    let s = stage(&c).await;
    let default = s.default_route_settings().expect("default route settings");
    assert_eq!(default.throttling_rate_limit(), Some(100.0));
    assert_eq!(default.throttling_burst_limit(), Some(50));
    let login = &s.route_settings().expect("route settings")["ANY /api/login"];
    assert_eq!(login.throttling_rate_limit(), Some(1.0));
    assert_eq!(login.throttling_burst_limit(), Some(2));
    assert!(!s.route_settings().unwrap().contains_key("ANY /api/hello"));

    // Nothing changed: nothing to do, not one mutating call.
    assert_redeploy_changes_nothing(&moto, &app).await;
}

#[tokio::test]
async fn cors_is_changed_and_removed_and_throttle_changes_are_planned() {
    let moto = MotoServer::start();
    let mut app = TestApp::new("demo", ROUTES);
    protected(&mut app);
    deploy::deploy(&clients(&moto).await, &app.desired("dev"))
        .await
        .unwrap();

    // Another origin: one UpdateApi.
    if let Some(cors) = app.manifest.gateway.cors.as_mut() {
        cors.allow_origins = vec!["https://other.example".into()];
    }
    app.write_manifest();
    let c = clients(&moto).await;
    let (plan, _) = deploy::deploy(&c, &app.desired("dev")).await.unwrap();
    assert!(
        matches!(
            plan.actions.as_slice(),
            [Action::SetApiCors { cors: Some(_) }]
        ),
        "{plan}"
    );
    assert_eq!(
        api_cors(&c).await.unwrap().allow_origins(),
        ["https://other.example"]
    );

    // No [cors] any more: the configuration is deleted.
    app.manifest.gateway.cors = None;
    app.write_manifest();
    let c = clients(&moto).await;
    let (plan, _) = deploy::deploy(&c, &app.desired("dev")).await.unwrap();
    assert_eq!(plan.actions, [Action::SetApiCors { cors: None }], "{plan}");
    assert_eq!(
        c.calls()
            .stats()
            .count("ApiGatewayV2.DeleteCorsConfiguration"),
        1
    );
    assert!(api_cors(&c).await.is_none());

    // Throttles changed and removed: planned against what moto reports (applying needs
    // UpdateStage and DeleteRouteSettings, which moto lacks).
    app.manifest.gateway.throttle = Some(Throttle { rate: 10, burst: 5 });
    app.manifest.routes[1].throttle = None;
    app.write_manifest();
    let (_, plan) = deploy::plan_for_deploy(&clients(&moto).await, &app.desired("dev"))
        .await
        .unwrap();
    let lines: Vec<String> = plan.actions.iter().map(|a| a.to_string()).collect();
    assert_eq!(
        lines,
        [
            "~ stage $default: throttle stage 10/s burst 5",
            "- stage $default: remove the throttle of ANY /api/login",
        ]
    );
}

/// The REST app's `dev` stage's method settings: key → (rate, burst).
async fn rest_method_settings(c: &AwsClients) -> std::collections::BTreeMap<String, (f64, i32)> {
    let apis = c.rest.get_rest_apis().send().await.unwrap();
    let api = apis
        .items()
        .iter()
        .find(|a| owned(a.tags(), "demo", "dev"))
        .expect("the app's REST API");
    let stage = c
        .rest
        .get_stage()
        .rest_api_id(api.id().unwrap())
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    stage
        .method_settings()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        (v.throttling_rate_limit(), v.throttling_burst_limit()),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn rest_throttles_are_stage_method_settings_set_changed_and_read_back() {
    let moto = MotoServer::start();
    let mut app = rest_app();
    app.manifest.gateway.throttle = Some(Throttle {
        rate: 100,
        burst: 50,
    });
    app.manifest.routes[1].throttle = Some(Throttle { rate: 1, burst: 2 });
    app.write_manifest();
    let c = clients(&moto).await;
    let (plan, _) = deploy::deploy(&c, &app.desired("dev")).await.unwrap();
    assert!(
        plan.actions.iter().any(|a| a.to_string()
            == "~ stage dev: throttle */* 100/s burst 50; ~1api~1login/* 1/s burst 2"),
        "{plan}"
    );
    let got = rest_method_settings(&c).await;
    assert_eq!(got.get("*/*"), Some(&(100.0, 50)), "{got:?}");
    assert_eq!(got.get("~1api~1login/*"), Some(&(1.0, 2)), "{got:?}");

    // Nothing changed: not one mutating call.
    assert_redeploy_changes_nothing(&moto, &app).await;

    // A changed rate: one UpdateStage, no new deployment.
    app.manifest.routes[1].throttle = Some(Throttle { rate: 3, burst: 4 });
    app.write_manifest();
    let c = clients(&moto).await;
    let (plan, _) = deploy::deploy(&c, &app.desired("dev")).await.unwrap();
    assert!(
        matches!(plan.actions.as_slice(), [Action::SetRestThrottle { .. }]),
        "{plan}"
    );
    assert_eq!(
        rest_method_settings(&c).await.get("~1api~1login/*"),
        Some(&(3.0, 4))
    );

    // A removed throttle is planned as a `remove` patch; moto ignores `remove` on method
    // settings (it only removes `accessLogSettings`), so the result is checked on AWS
    // (infra/MANUAL-CHECKS.md § 21).
    app.manifest.routes[1].throttle = None;
    app.write_manifest();
    let (_, plan) = deploy::plan_for_deploy(&clients(&moto).await, &app.desired("dev"))
        .await
        .unwrap();
    assert_eq!(
        plan.actions
            .iter()
            .map(|a| a.to_string())
            .collect::<Vec<_>>(),
        ["~ stage dev: throttle ~1api~1login/* removed"]
    );
}

/// The `dev` REST API's id and the id of the resource at `path`.
async fn rest_resource(c: &AwsClients, path: &str) -> (String, String) {
    let apis = c.rest.get_rest_apis().send().await.unwrap();
    let api = apis
        .items()
        .iter()
        .find(|a| owned(a.tags(), "demo", "dev"))
        .expect("the app's REST API");
    let api = api.id().unwrap().to_owned();
    let resources = c
        .rest
        .get_resources()
        .rest_api_id(&api)
        .limit(500)
        .send()
        .await
        .unwrap();
    let id = resources
        .items()
        .iter()
        .find(|r| r.path() == Some(path))
        .and_then(|r| r.id())
        .expect("the resource")
        .to_owned();
    (api, id)
}

/// The `OPTIONS` method of the resource at `path`, read with plain SDK calls.
async fn options_method(
    c: &AwsClients,
    path: &str,
) -> Option<aws_sdk_apigateway::operation::get_method::GetMethodOutput> {
    let (api, id) = rest_resource(c, path).await;
    c.rest
        .get_method()
        .rest_api_id(api)
        .resource_id(id)
        .http_method("OPTIONS")
        .send()
        .await
        .ok()
}

/// The header values the `200` integration response of `OPTIONS path` maps.
async fn preflight_values(
    c: &AwsClients,
    path: &str,
) -> std::collections::BTreeMap<String, String> {
    let m = options_method(c, path).await.expect("an OPTIONS method");
    let i = m.method_integration().expect("an integration");
    assert_eq!(i.r#type().map(|t| t.as_str()), Some("MOCK"));
    assert_eq!(
        i.request_templates()
            .and_then(|t| t.get("application/json"))
            .map(String::as_str),
        Some("{\"statusCode\": 200}")
    );
    assert_eq!(m.authorization_type(), Some("NONE"));
    let declared: std::collections::BTreeSet<&String> = m.method_responses().unwrap()["200"]
        .response_parameters()
        .unwrap()
        .keys()
        .collect();
    let values: std::collections::BTreeMap<String, String> = i.integration_responses().unwrap()
        ["200"]
        .response_parameters()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    // Every mapped header is declared by the method response, as API Gateway requires.
    assert_eq!(declared, values.keys().collect());
    values
}

#[tokio::test]
async fn rest_cors_is_mock_options_methods_changed_and_removed_with_new_deployments() {
    let moto = MotoServer::start();
    let mut app = rest_app();
    app.manifest.gateway.cors = Some(app_cors());
    app.write_manifest();
    let keyed = ["/", "/{proxy+}", "/api", "/api/hello", "/api/login"];
    let c = clients(&moto).await;
    let (plan, _) = deploy::deploy(&c, &app.desired("dev")).await.unwrap();
    let lines: Vec<String> = plan.actions.iter().map(|a| a.to_string()).collect();
    assert!(
        lines.contains(
            &"+ method OPTIONS /api/hello: CORS preflight (MOCK, origin https://app.example)"
                .to_owned()
        ),
        "{lines:#?}"
    );
    for path in keyed {
        let got = preflight_values(&c, path).await;
        let h = |name: &str| got.get(&format!("method.response.header.{name}")).cloned();
        assert_eq!(
            h("Access-Control-Allow-Origin").as_deref(),
            Some("'https://app.example'")
        );
        assert_eq!(
            h("Access-Control-Allow-Methods").as_deref(),
            Some("'GET,POST'")
        );
        assert_eq!(
            h("Access-Control-Allow-Headers").as_deref(),
            Some("'content-type'")
        );
        assert_eq!(
            h("Access-Control-Allow-Credentials").as_deref(),
            Some("'true'")
        );
        assert_eq!(h("Access-Control-Max-Age").as_deref(), Some("'600'"));
        assert_eq!(got.len(), 5, "{got:?}");
    }
    // The routes' own methods are untouched beside it.
    let (api, id) = rest_resource(&c, "/api/hello").await;
    let any = c
        .rest
        .get_method()
        .rest_api_id(&api)
        .resource_id(&id)
        .http_method("ANY")
        .send()
        .await
        .unwrap();
    assert_eq!(
        any.method_integration()
            .and_then(|i| i.r#type())
            .map(|t| t.as_str()),
        Some("AWS_PROXY")
    );
    // One deployment snapshots the routes and their preflights together.
    let deployments = plan
        .actions
        .iter()
        .filter(|a| matches!(a, Action::CreateDeployment { .. }))
        .count();
    assert_eq!(deployments, 1, "{plan}");

    // Nothing changed: not one mutating call.
    assert_redeploy_changes_nothing(&moto, &app).await;

    // Another origin: each preflight replaced, and a new deployment so the stage serves it.
    if let Some(cors) = app.manifest.gateway.cors.as_mut() {
        cors.allow_origins = vec!["https://other.example".into()];
    }
    app.write_manifest();
    let c = clients(&moto).await;
    let (plan, _) = deploy::deploy(&c, &app.desired("dev")).await.unwrap();
    let replaced = plan
        .actions
        .iter()
        .filter(|a| matches!(a, Action::PutPreflight { replace: true, .. }))
        .count();
    assert_eq!(replaced, keyed.len(), "{plan}");
    assert!(
        plan.actions
            .iter()
            .any(|a| matches!(a, Action::CreateDeployment { .. })),
        "{plan}"
    );
    assert!(plan.actions.iter().all(|a| !a.is_destructive()), "{plan}");
    assert_eq!(
        preflight_values(&c, "/api/login").await
            ["method.response.header.Access-Control-Allow-Origin"],
        "'https://other.example'"
    );
    let c = clients(&moto).await;
    let (plan, _) = deploy::deploy(&c, &app.desired("dev")).await.unwrap();
    assert!(plan.is_empty(), "{plan}");

    // No [cors] any more: nextr's OPTIONS methods go, the routes' ANY stay.
    app.manifest.gateway.cors = None;
    app.write_manifest();
    let c = clients(&moto).await;
    let (plan, _) = deploy::deploy(&c, &app.desired("dev")).await.unwrap();
    let removed = plan
        .actions
        .iter()
        .filter(|a| matches!(a, Action::DeletePreflight { .. }))
        .count();
    assert_eq!(removed, keyed.len(), "{plan}");
    assert!(
        plan.actions
            .iter()
            .any(|a| matches!(a, Action::CreateDeployment { .. })),
        "{plan}"
    );
    for path in keyed {
        assert!(options_method(&c, path).await.is_none(), "{path}");
    }
    let (api, id) = rest_resource(&c, "/api/hello").await;
    assert!(c
        .rest
        .get_method()
        .rest_api_id(&api)
        .resource_id(&id)
        .http_method("ANY")
        .send()
        .await
        .is_ok());
    let c = clients(&moto).await;
    let (plan, _) = deploy::deploy(&c, &app.desired("dev")).await.unwrap();
    assert!(plan.is_empty(), "{plan}");
}
