//! Logs and gateway protections against moto: each function's log group and the access log
//! group with their retention (created, changed, kept, deleted by remove), the access logs
//! of both kinds of stage, and the default stage throttle the build writes.

mod support;

use nextr::manifest::{GatewayKind, Throttle};
use nextr_infra::deploy::{self, Action, AwsClients, Target};
use nextr_infra::testing::{MotoServer, TestApp, TestRoute};
use support::moto::clients;

const ROUTES: &[TestRoute<'static>] = &[
    ("/api/hello", &["ANY /api/hello"]),
    ("/api/login", &["ANY /api/login"]),
];

/// Every log group of the app in stage `dev` with its retention.
async fn groups(c: &AwsClients, app: &str) -> Vec<(String, Option<i32>)> {
    let mut out = Vec::new();
    for prefix in [
        format!("/aws/lambda/{app}-"),
        format!("/aws/apigateway/{app}-"),
    ] {
        let page = c
            .logs
            .describe_log_groups()
            .log_group_name_prefix(prefix)
            .send()
            .await
            .unwrap();
        out.extend(page.log_groups().iter().map(|g| {
            (
                g.log_group_name().unwrap().to_owned(),
                g.retention_in_days(),
            )
        }));
    }
    out.sort();
    out
}

/// A built app as `nextr build` writes it: the default stage throttle set.
fn app(kind: GatewayKind) -> TestApp {
    let mut app = match kind {
        GatewayKind::Http => TestApp::new("demo", ROUTES),
        GatewayKind::Rest => TestApp::rest("demo", ROUTES, &["ANY /", "ANY /{proxy+}", "ANY /api"]),
    };
    app.manifest.gateway.throttle = Some(Throttle::DEFAULT);
    app.write_manifest();
    app
}

#[tokio::test]
async fn log_groups_get_the_retention_keep_it_and_go_with_remove() {
    let moto = MotoServer::start();
    let mut app = app(GatewayKind::Http);
    deploy::deploy(&clients(&moto).await, &app.desired("dev"))
        .await
        .unwrap();
    let c = clients(&moto).await;
    assert_eq!(
        groups(&c, "demo").await,
        [
            ("/aws/apigateway/demo-dev".to_owned(), Some(30)),
            ("/aws/lambda/demo-_default-dev".to_owned(), Some(30)),
            ("/aws/lambda/demo-api-hello-dev".to_owned(), Some(30)),
            ("/aws/lambda/demo-api-login-dev".to_owned(), Some(30)),
        ]
    );

    // A second deploy changes nothing.
    let c = clients(&moto).await;
    let (plan, _) = deploy::deploy(&c, &app.desired("dev")).await.unwrap();
    assert!(plan.is_empty(), "{plan}");
    assert_eq!(c.calls().stats().mutating(), 0);

    // `[logs] retention_days = 90` and `[routes."/api/login"] log_retention_days = 7`.
    app.manifest.deploy.log_retention_days = 90;
    app.manifest.routes[1].log_retention_days = Some(7);
    app.write_manifest();
    let c = clients(&moto).await;
    let (plan, _) = deploy::deploy(&c, &app.desired("dev")).await.unwrap();
    let lines: Vec<String> = plan.actions.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "~ log group /aws/apigateway/demo-dev: retention 30 days → 90 days",
            "~ log group /aws/lambda/demo-_default-dev: retention 30 days → 90 days",
            "~ log group /aws/lambda/demo-api-hello-dev: retention 30 days → 90 days",
            "~ log group /aws/lambda/demo-api-login-dev: retention 30 days → 7 days",
        ]
    );
    assert_eq!(
        c.calls()
            .stats()
            .count("CloudWatch Logs.PutRetentionPolicy"),
        4
    );
    let c = clients(&moto).await;
    let retention: Vec<Option<i32>> = groups(&c, "demo").await.into_iter().map(|g| g.1).collect();
    assert_eq!(retention, [Some(90), Some(90), Some(90), Some(7)]);

    // A group whose retention was taken away (as Lambda makes them) gets it back.
    c.logs
        .delete_retention_policy()
        .log_group_name("/aws/lambda/demo-api-hello-dev")
        .send()
        .await
        .unwrap();
    let (plan, _) = deploy::deploy(&clients(&moto).await, &app.desired("dev"))
        .await
        .unwrap();
    assert_eq!(
        plan.actions,
        [Action::SetLogRetention {
            name: "/aws/lambda/demo-api-hello-dev".into(),
            from: None,
            to: 90
        }]
    );
    let (plan, _) = deploy::deploy(&clients(&moto).await, &app.desired("dev"))
        .await
        .unwrap();
    assert!(plan.is_empty(), "{plan}");

    // Remove deletes every one of them, and the role's policy with the role.
    let c = clients(&moto).await;
    let (plan, _) = deploy::remove(&c, &Target::new("demo", "dev").unwrap())
        .await
        .unwrap();
    assert_eq!(
        plan.actions
            .iter()
            .filter(|a| matches!(a, Action::DeleteLogGroup { .. }))
            .count(),
        4,
        "{plan}"
    );
    assert!(plan.actions.contains(&Action::DeleteLogsPolicy {
        role: "demo-dev-nextr".into()
    }));
    assert!(groups(&c, "demo").await.is_empty());
    assert!(c
        .iam
        .get_role()
        .role_name("demo-dev-nextr")
        .send()
        .await
        .is_err());
}

#[tokio::test]
async fn an_http_stage_gets_access_logs_and_the_default_throttle() {
    let moto = MotoServer::start();
    let app = app(GatewayKind::Http);
    let (_, applied) = deploy::deploy(&clients(&moto).await, &app.desired("dev"))
        .await
        .unwrap();
    let c = clients(&moto).await;
    let stage = c
        .apigw
        .get_stage()
        .api_id(applied.api_id.unwrap())
        .stage_name("$default")
        .send()
        .await
        .unwrap();
    let logs = stage.access_log_settings().expect("access logs");
    assert_eq!(
        logs.destination_arn(),
        Some("arn:aws:logs:us-east-1:123456789012:log-group:/aws/apigateway/demo-dev")
    );
    let format: serde_json::Value =
        serde_json::from_str(&logs.format().unwrap().replace("$context.", "")).unwrap();
    assert_eq!(format["routeKey"], "routeKey");
    assert_eq!(format["ip"], "identity.sourceIp");
    let settings = stage.default_route_settings().unwrap();
    assert_eq!(settings.throttling_rate_limit(), Some(1000.0));
    assert_eq!(settings.throttling_burst_limit(), Some(500));
    let (plan, _) = deploy::deploy(&c, &app.desired("dev")).await.unwrap();
    assert!(plan.is_empty(), "{plan}");

    // A configured throttle replaces the default; moto cannot apply UpdateStage (see
    // MANUAL-CHECKS), so the change is planned only.
    let mut changed = app;
    changed.manifest.gateway.throttle = Some(Throttle { rate: 5, burst: 2 });
    changed.write_manifest();
    let plan = deploy::plan_for_deploy(&c, &changed.desired("dev"))
        .await
        .unwrap()
        .1;
    assert_eq!(
        plan.actions
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["~ stage $default: throttle stage 5/s burst 2"]
    );
}

#[tokio::test]
async fn a_rest_stage_gets_access_logs_through_the_accounts_cloudwatch_role_and_the_default_throttle(
) {
    let moto = MotoServer::start();
    let app = app(GatewayKind::Rest);
    let c = clients(&moto).await;
    let (plan, applied) = deploy::deploy(&c, &app.desired("dev")).await.unwrap();
    assert!(plan.actions.contains(&Action::SetGatewayLogsRole {
        role: "nextr-apigateway-logs".into()
    }));
    let account = c.rest.get_account().send().await.unwrap();
    assert_eq!(
        account.cloudwatch_role_arn(),
        Some("arn:aws:iam::123456789012:role/nextr-apigateway-logs")
    );
    let stage = c
        .rest
        .get_stage()
        .rest_api_id(applied.api_id.unwrap())
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    let logs = stage.access_log_settings().expect("access logs");
    assert_eq!(
        logs.destination_arn(),
        Some("arn:aws:logs:us-east-1:123456789012:log-group:/aws/apigateway/demo-dev")
    );
    let format: serde_json::Value =
        serde_json::from_str(&logs.format().unwrap().replace("$context.", "")).unwrap();
    assert_eq!(format["resourcePath"], "resourcePath");
    let all = &stage.method_settings().unwrap()["*/*"];
    assert_eq!(
        (all.throttling_rate_limit(), all.throttling_burst_limit()),
        (1000.0, 500)
    );
    // Nothing to do again, and the account's role is set once for every app.
    let c = clients(&moto).await;
    let (plan, _) = deploy::deploy(&c, &app.desired("dev")).await.unwrap();
    assert!(plan.is_empty(), "{plan}");
    assert_eq!(c.calls().stats().mutating(), 0);
    // Remove keeps the account's role: other REST APIs log through it.
    deploy::remove(&c, &Target::new("demo", "dev").unwrap())
        .await
        .unwrap();
    assert!(c
        .iam
        .get_role()
        .role_name("nextr-apigateway-logs")
        .send()
        .await
        .is_ok());
}
