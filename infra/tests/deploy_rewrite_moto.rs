//! An app with a `proxy.rs` deployed against moto's AWS server on 127.0.0.1: its functions
//! invoke each other (a rewrite to another route), so the execution role gets the inline
//! policy `nextr-invoke` (`lambda:InvokeFunction` on exactly the app's `live` aliases) and
//! every function `NEXTR_STAGE`; a second deploy changes nothing; removing the proxy removes
//! both, and removing the app deletes the policy with the role.

mod support;

use std::collections::BTreeMap;

use nextr::manifest::ManifestProxy;
use nextr_infra::deploy::{self, Action, AwsClients};
use nextr_infra::testing::{MotoServer, TestApp, TestRoute};
use serde_json::{json, Value};
use support::moto::clients;

const ROUTES: &[TestRoute<'static>] = &[
    ("/api/hello", &["ANY /api/hello"]),
    ("/api/post/[pid]", &["ANY /api/post/{pid}"]),
];

const ROLE: &str = "demo-dev-nextr";

/// The deployed functions of the app in stage `dev`.
const FUNCTIONS: [&str; 3] = [
    "demo-_default-dev",
    "demo-api-hello-dev",
    "demo-api-post-pid-dev",
];

fn with_proxy(app: &mut TestApp) {
    app.manifest.proxy = Some(ManifestProxy {
        file: "proxy.rs".into(),
        matcher: None,
    });
    app.write_manifest();
}

/// The role's inline policy `nextr-invoke`, when it has one (IAM returns the document
/// percent-encoded, moto as it was put: both are read).
async fn invoke_policy(c: &AwsClients) -> Option<Value> {
    match c
        .iam
        .get_role_policy()
        .role_name(ROLE)
        .policy_name("nextr-invoke")
        .send()
        .await
    {
        Ok(out) => Some(
            nextr_infra::deploy::rewrite::parse_document(out.policy_document())
                .expect("a JSON document"),
        ),
        Err(e) => {
            assert!(
                e.as_service_error()
                    .is_some_and(|e| e.is_no_such_entity_exception()),
                "{e:?}"
            );
            None
        }
    }
}

/// `NEXTR_STAGE` of each function (`None` when unset).
async fn stage_env(c: &AwsClients) -> BTreeMap<String, Option<String>> {
    let mut out = BTreeMap::new();
    for name in FUNCTIONS {
        let config = c
            .lambda
            .get_function_configuration()
            .function_name(name)
            .send()
            .await
            .unwrap();
        let stage = config
            .environment()
            .and_then(|e| e.variables())
            .and_then(|v| v.get("NEXTR_STAGE"))
            .cloned();
        out.insert(name.to_owned(), stage);
    }
    out
}

/// The ARN of each function's `live` alias, as Lambda reports it.
async fn alias_arns(c: &AwsClients) -> Vec<String> {
    let mut arns = Vec::new();
    for name in FUNCTIONS {
        let alias = c
            .lambda
            .get_alias()
            .function_name(name)
            .name("live")
            .send()
            .await
            .unwrap();
        arns.push(alias.alias_arn().unwrap().to_owned());
    }
    arns.sort();
    arns
}

#[tokio::test]
async fn the_role_may_invoke_exactly_the_apps_aliases_and_every_function_knows_its_stage() {
    let moto = MotoServer::start();
    let mut app = TestApp::new("demo", ROUTES);
    with_proxy(&mut app);
    let c = clients(&moto).await;
    let (plan, _) = deploy::deploy(&c, &app.desired("dev")).await.unwrap();
    let lines: Vec<String> = plan.actions.iter().map(|a| a.to_string()).collect();
    assert!(
        lines.contains(
            &"~ role demo-dev-nextr: allow invoking the app's 3 live aliases (inline policy nextr-invoke, for proxy.rs rewrites)"
                .to_owned()
        ),
        "{lines:#?}"
    );
    // nextr-invoke, and nextr-logs (the functions' own log groups).
    assert_eq!(c.calls().stats().count("IAM.PutRolePolicy"), 2);

    let arns = alias_arns(&c).await;
    assert!(arns.iter().all(|a| a.ends_with(":live")), "{arns:?}");
    assert_eq!(
        invoke_policy(&c).await,
        Some(json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "NextrProxyRewrites",
                "Effect": "Allow",
                "Action": "lambda:InvokeFunction",
                "Resource": arns
            }]
        }))
    );
    assert!(stage_env(&c)
        .await
        .values()
        .all(|v| v.as_deref() == Some("dev")));

    // Nothing changed: nothing to do, not one mutating call.
    let c = clients(&moto).await;
    let (plan, _) = deploy::deploy(&c, &app.desired("dev")).await.unwrap();
    assert!(plan.is_empty(), "{plan}");
    assert_eq!(c.calls().stats().mutating(), 0);

    // A new route: the policy names it too.
    app.add_route("/api/new", &["ANY /api/new"]);
    let c = clients(&moto).await;
    let (plan, _) = deploy::deploy(&c, &app.desired("dev")).await.unwrap();
    assert!(
        plan.actions
            .iter()
            .any(|a| matches!(a, Action::PutInvokePolicy { .. })),
        "{plan}"
    );
    let policy = invoke_policy(&c).await.unwrap();
    let resources = policy["Statement"][0]["Resource"].as_array().unwrap();
    assert_eq!(resources.len(), 4);
    assert!(
        resources.iter().any(|r| r
            .as_str()
            .unwrap()
            .ends_with(":function:demo-api-new-dev:live")),
        "{policy}"
    );
}

#[tokio::test]
async fn removing_the_proxy_removes_the_policy_and_the_stage_and_removal_deletes_the_role() {
    let moto = MotoServer::start();
    let mut app = TestApp::new("demo", ROUTES);
    with_proxy(&mut app);
    deploy::deploy(&clients(&moto).await, &app.desired("dev"))
        .await
        .unwrap();

    app.manifest.proxy = None;
    app.write_manifest();
    let c = clients(&moto).await;
    let (plan, _) = deploy::deploy(&c, &app.desired("dev")).await.unwrap();
    assert_eq!(
        plan.actions.last(),
        Some(&Action::DeleteInvokePolicy { role: ROLE.into() }),
        "{plan}"
    );
    assert_eq!(
        plan.actions
            .iter()
            .filter(|a| matches!(a, Action::UpdateFunctionConfiguration { fields, .. } if fields.contains(&"environment")))
            .count(),
        3,
        "{plan}"
    );
    assert_eq!(invoke_policy(&c).await, None);
    assert!(stage_env(&c).await.values().all(Option::is_none));
    let c = clients(&moto).await;
    let (plan, _) = deploy::deploy(&c, &app.desired("dev")).await.unwrap();
    assert!(plan.is_empty(), "{plan}");

    // Back with a proxy, then the whole app removed: the inline policy goes before the role.
    with_proxy(&mut app);
    deploy::deploy(&clients(&moto).await, &app.desired("dev"))
        .await
        .unwrap();
    assert!(invoke_policy(&clients(&moto).await).await.is_some());
    let target = deploy::Target::new("demo", "dev").unwrap();
    let c = clients(&moto).await;
    let (plan, _) = deploy::remove(&c, &target).await.unwrap();
    let pos = |a: &Action| plan.actions.iter().position(|x| x == a);
    assert!(
        pos(&Action::DeleteInvokePolicy { role: ROLE.into() })
            < pos(&Action::DeleteRole { name: ROLE.into() }),
        "{plan}"
    );
    assert!(c.iam.get_role().role_name(ROLE).send().await.is_err());
}
