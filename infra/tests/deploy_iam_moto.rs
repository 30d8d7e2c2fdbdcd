//! Per-route IAM against moto: `nextr.toml`'s app-wide and per-route permissions and
//! secrets become the app's role and a role of its own for each route that has any; every
//! function runs as the right one; the documents are the statements with their placeholders
//! filled; each role writes only its own functions' logs; a change plans exactly its diff;
//! a route losing its own access moves back to the app's role, whose own is deleted; and
//! `nextr remove` deletes every role.

mod support;

use nextr::manifest::{Access, Effect, PolicyStatement, RouteAccess, SecretRef, SecretStore};
use nextr_infra::deploy::{self, Action, AwsClients, Target};
use nextr_infra::testing::{MotoServer, TestApp, TestRoute};
use serde_json::{json, Value};
use support::moto::clients;

const ROUTES: &[TestRoute<'static>] = &[
    ("/api/hello", &["ANY /api/hello"]),
    ("/api/upload", &["ANY /api/upload"]),
];

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";
const APP_ROLE: &str = "demo-dev-nextr";
const UPLOAD_ROLE: &str = "demo-api-upload-dev-nextr";

fn statement(effect: Effect, actions: &[&str], resources: &[&str]) -> PolicyStatement {
    PolicyStatement {
        effect,
        actions: actions.iter().map(|s| s.to_string()).collect(),
        resources: resources.iter().map(|s| s.to_string()).collect(),
    }
}

/// An app-wide table and parameter, and `/api/upload`'s bucket and secret.
fn access(upload_bucket: &str) -> Access {
    let mut access = Access {
        permissions: vec![statement(
            Effect::Allow,
            &["dynamodb:GetItem", "dynamodb:PutItem"],
            &["arn:{partition}:dynamodb:{region}:{account}:table/{app}-{stage}-orders"],
        )],
        secrets: vec![SecretRef {
            env: "DB_URL".into(),
            store: SecretStore::Ssm,
            name: "/demo/{stage}/db-url".into(),
        }],
        ..Access::default()
    };
    access.routes.insert(
        "/api/upload".into(),
        RouteAccess {
            secrets: vec![SecretRef {
                env: "STRIPE".into(),
                store: SecretStore::SecretsManager,
                name: "demo/stripe".into(),
            }],
            permissions: vec![statement(
                Effect::Allow,
                &["s3:PutObject"],
                &[upload_bucket],
            )],
        },
    );
    access
}

async fn inline_policy(c: &AwsClients, role: &str, policy: &str) -> Option<Value> {
    let out = c
        .iam
        .get_role_policy()
        .role_name(role)
        .policy_name(policy)
        .send()
        .await
        .ok()?;
    nextr_infra::deploy::rewrite::parse_document(out.policy_document())
}

async fn function_role(c: &AwsClients, function: &str) -> String {
    c.lambda
        .get_function_configuration()
        .function_name(function)
        .send()
        .await
        .unwrap()
        .role()
        .unwrap()
        .to_owned()
}

async fn role_exists(c: &AwsClients, role: &str) -> bool {
    c.iam.get_role().role_name(role).send().await.is_ok()
}

fn log_arn(function: &str) -> String {
    format!("arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{function}:*")
}

/// Deploys `app` to `dev` with fresh clients; returned with them, for reading after. Boxed:
/// several deploys inline make one future too large for a test thread's stack.
async fn deploy_dev(moto: &MotoServer, app: &TestApp) -> (AwsClients, deploy::Plan) {
    let c = clients(moto).await;
    let (plan, _) = Box::pin(deploy::deploy(&c, &app.desired("dev")))
        .await
        .unwrap();
    (c, plan)
}

fn lines(plan: &deploy::Plan) -> Vec<String> {
    plan.actions.iter().map(ToString::to_string).collect()
}

#[tokio::test]
async fn routes_with_their_own_access_get_their_own_role() {
    let moto = MotoServer::start();
    let mut app = TestApp::new("demo", ROUTES);
    app.manifest.access = access("arn:aws:s3:::demo-uploads/*");
    app.write_manifest();
    let (c, plan) = deploy_dev(&moto, &app).await;
    let shown = lines(&plan);
    assert!(
        shown.contains(&format!("+ role {UPLOAD_ROLE}: create")),
        "{shown:#?}"
    );

    // Each function runs as its role: the upload route its own (under the stage's path), the
    // others the app's.
    assert_eq!(
        function_role(&c, "demo-api-upload-dev").await,
        format!("arn:aws:iam::{ACCOUNT}:role/nextr/demo/dev/{UPLOAD_ROLE}")
    );
    for f in ["demo-api-hello-dev", "demo-_default-dev"] {
        assert_eq!(
            function_role(&c, f).await,
            format!("arn:aws:iam::{ACCOUNT}:role/{APP_ROLE}"),
            "{f}"
        );
    }

    let orders = json!({
        "Effect": "Allow",
        "Action": ["dynamodb:GetItem", "dynamodb:PutItem"],
        "Resource": [format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/demo-dev-orders")]
    });
    let db_url = json!({
        "Effect": "Allow",
        "Action": ["ssm:GetParameter"],
        "Resource": [format!("arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/demo/dev/db-url")]
    });
    assert_eq!(
        inline_policy(&c, APP_ROLE, "nextr-access").await,
        Some(json!({ "Version": "2012-10-17", "Statement": [orders, db_url] }))
    );
    assert_eq!(
        inline_policy(&c, UPLOAD_ROLE, "nextr-access").await,
        Some(json!({ "Version": "2012-10-17", "Statement": [
            orders,
            { "Effect": "Allow", "Action": ["s3:PutObject"], "Resource": ["arn:aws:s3:::demo-uploads/*"] },
            db_url,
            {
                "Effect": "Allow",
                "Action": ["secretsmanager:GetSecretValue"],
                "Resource": [format!("arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:demo/stripe-??????")]
            }
        ]}))
    );
    // Logs: each role its own functions' groups, nothing more.
    let logs = |role_doc: Option<Value>| role_doc.unwrap()["Statement"][0]["Resource"].clone();
    assert_eq!(
        logs(inline_policy(&c, UPLOAD_ROLE, "nextr-logs").await),
        json!([log_arn("demo-api-upload-dev")])
    );
    assert_eq!(
        logs(inline_policy(&c, APP_ROLE, "nextr-logs").await),
        json!([log_arn("demo-_default-dev"), log_arn("demo-api-hello-dev")])
    );
    // Tagged as the app's, as the app's role is.
    let tags = c
        .iam
        .list_role_tags()
        .role_name(UPLOAD_ROLE)
        .send()
        .await
        .unwrap();
    assert!(support::moto::owned(
        Some(
            &tags
                .tags()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().to_owned()))
                .collect()
        ),
        "demo",
        "dev"
    ));

    // Nothing changed: nothing planned, nothing called that changes anything.
    let (c, plan) = deploy_dev(&moto, &app).await;
    assert!(plan.is_empty(), "{plan}");
    assert_eq!(c.calls().stats().mutating(), 0);

    // One statement of the route changed: exactly that diff, on its role only.
    app.manifest.access = access("arn:aws:s3:::demo-uploads-2/*");
    app.write_manifest();
    let (c, plan) = deploy_dev(&moto, &app).await;
    assert_eq!(
        lines(&plan),
        [format!(
            "~ role {UPLOAD_ROLE}: inline policy nextr-access (4 statements): + Allow s3:PutObject on arn:aws:s3:::demo-uploads-2/*; - Allow s3:PutObject on arn:aws:s3:::demo-uploads/*"
        )]
    );
    assert_eq!(
        inline_policy(&c, UPLOAD_ROLE, "nextr-access")
            .await
            .unwrap()["Statement"][1]["Resource"],
        json!(["arn:aws:s3:::demo-uploads-2/*"])
    );

    // The route's own access removed: it moves back to the app's role, whose logs now
    // include its group, and its own role goes, after the move.
    let mut without = access("arn:aws:s3:::demo-uploads-2/*");
    without.routes.clear();
    app.manifest.access = without;
    app.write_manifest();
    let (c, plan) = deploy_dev(&moto, &app).await;
    let shown = lines(&plan);
    let at = |line: &str| {
        shown
            .iter()
            .position(|l| l.starts_with(line))
            .unwrap_or_else(|| panic!("{line} in {shown:#?}"))
    };
    let put_logs = at(&format!(
        "~ role {APP_ROLE}: allow writing the log groups of 3 functions"
    ));
    let moved = at(&format!(
        "~ function demo-api-upload-dev: update configuration (role, environment), role {UPLOAD_ROLE} → {APP_ROLE}"
    ));
    // The environment changes too: the route's own secret leaves its `NEXTR_SECRETS`.
    let deleted = at(&format!("- role {UPLOAD_ROLE}: delete"));
    assert!(put_logs < moved && moved < deleted, "{shown:#?}");
    assert_eq!(
        function_role(&c, "demo-api-upload-dev").await,
        format!("arn:aws:iam::{ACCOUNT}:role/{APP_ROLE}")
    );
    assert!(!role_exists(&c, UPLOAD_ROLE).await);
    let (_, plan) = deploy_dev(&moto, &app).await;
    assert!(plan.is_empty(), "{plan}");

    // No access at all: the app role's nextr-access goes too.
    app.manifest.access = Access::default();
    app.write_manifest();
    let (c, plan) = deploy_dev(&moto, &app).await;
    // Every function also loses the app-wide secret from its `NEXTR_SECRETS` (a new
    // configuration and version each); the policy goes last, once they run without it.
    assert_eq!(
        plan.actions.last(),
        Some(&Action::DeleteAccessPolicy {
            role: APP_ROLE.into()
        })
    );
    assert!(
        plan.actions[..plan.actions.len() - 1].iter().all(|a| matches!(
            a,
            Action::UpdateFunctionConfiguration { fields, role: None, .. } if fields == &["environment"]
        ) || matches!(a, Action::PublishVersion { .. } | Action::UpdateAlias { .. })),
        "{plan}"
    );
    assert_eq!(inline_policy(&c, APP_ROLE, "nextr-access").await, None);
}

#[tokio::test]
async fn remove_deletes_every_role_of_the_stage() {
    let moto = MotoServer::start();
    let mut app = TestApp::new("demo", ROUTES);
    app.manifest.access = access("arn:aws:s3:::demo-uploads/*");
    app.write_manifest();
    deploy::deploy(&clients(&moto).await, &app.desired("dev"))
        .await
        .unwrap();
    // Another stage's roles are not this stage's.
    deploy::deploy(&clients(&moto).await, &app.desired("prod"))
        .await
        .unwrap();
    let c = clients(&moto).await;
    let (plan, _) = deploy::remove(&c, &Target::new("demo", "dev").unwrap())
        .await
        .unwrap();
    for role in [APP_ROLE, UPLOAD_ROLE] {
        assert!(
            plan.actions
                .contains(&Action::DeleteRole { name: role.into() }),
            "{plan}"
        );
        assert!(!role_exists(&c, role).await, "{role}");
    }
    assert!(plan.actions.contains(&Action::DeleteAccessPolicy {
        role: UPLOAD_ROLE.into()
    }));
    assert!(role_exists(&c, "demo-api-upload-prod-nextr").await);
    assert!(role_exists(&c, "demo-prod-nextr").await);
}

#[tokio::test]
async fn a_users_role_is_never_changed_and_the_deploy_says_what_it_needs() {
    let moto = MotoServer::start();
    let mut app = TestApp::new("demo", ROUTES);
    app.manifest.access = access("arn:aws:s3:::demo-uploads/*");
    app.write_manifest();
    let c = clients(&moto).await;
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    let arn = c
        .iam
        .create_role()
        .role_name("mine")
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .unwrap()
        .role()
        .unwrap()
        .arn()
        .to_owned();
    let desired = app.desired_with_role("dev", &arn);
    let warning = desired
        .warnings
        .iter()
        .find(|w| w.contains("--role"))
        .expect("a warning about the user's role");
    assert!(
        warning.contains("Allow s3:PutObject on arn:aws:s3:::demo-uploads/*"),
        "{warning}"
    );
    assert!(
        warning.contains("Allow ssm:GetParameter on arn:{partition}:ssm:{region}:{account}:parameter/demo/dev/db-url"),
        "{warning}"
    );
    let (plan, _) = deploy::deploy(&c, &desired).await.unwrap();
    assert!(
        !plan.actions.iter().any(|a| matches!(
            a,
            Action::CreateRole { .. } | Action::PutAccessPolicy { .. }
        )),
        "{plan}"
    );
    assert_eq!(function_role(&c, "demo-api-upload-dev").await, arn);
    assert_eq!(inline_policy(&c, "mine", "nextr-access").await, None);
}
