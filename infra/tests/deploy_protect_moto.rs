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

fn protected(app: &mut TestApp) {
    app.manifest.gateway.cors = Some(Cors {
        allow_origins: vec!["https://app.example".into()],
        allow_methods: vec!["GET".into(), "POST".into()],
        allow_headers: vec!["content-type".into()],
        expose_headers: vec!["x-request-id".into()],
        allow_credentials: true,
        max_age_s: Some(600),
    });
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
    let c2 = clients(&moto).await;
    let (plan2, _) = deploy::deploy(&c2, &app.desired("dev")).await.unwrap();
    assert!(plan2.is_empty(), "{plan2}");
    assert_eq!(c2.calls().stats().mutating(), 0);
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
    let mut app = TestApp::rest(
        "demo",
        &[
            ("/api/hello", &["ANY /api/hello"]),
            ("/api/login", &["ANY /api/login"]),
        ],
        &["ANY /", "ANY /{proxy+}", "ANY /api"],
    );
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
    let c = clients(&moto).await;
    let (plan, _) = deploy::deploy(&c, &app.desired("dev")).await.unwrap();
    assert!(plan.is_empty(), "{plan}");
    assert_eq!(c.calls().stats().mutating(), 0);

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
