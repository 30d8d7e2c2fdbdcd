//! The custom domain against moto: created (tagged as the stage's) and mapped to the stage of
//! either kind of API, kept by a second deploy, moved to the REST API when the app switches,
//! deleted when `[domain]` goes or the stage is removed; a domain deploy did not make is
//! refused, untouched.

mod support;

use std::collections::HashMap;

use nextr::manifest::Domain;
use nextr_infra::deploy::{self, Action, AwsClients, DeployError};
use nextr_infra::testing::{create_foreign_domain, MotoServer, TestApp, TestRoute};
use support::moto::clients;

const ROUTES: &[TestRoute<'static>] = &[("/api/hello", &["ANY /api/hello"])];
const NAME: &str = "api.example.com";
const CERT: &str =
    "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555";
const REST_KEYS: &[&str] = &["ANY /", "ANY /{proxy+}", "ANY /api"];

fn domain(name: &str) -> Option<Domain> {
    Some(Domain {
        name: name.into(),
        certificate_arn: CERT.into(),
    })
}

fn with_domain(mut app: TestApp, name: Option<&str>) -> TestApp {
    app.manifest.gateway.domain = name.and_then(domain);
    app.write_manifest();
    app
}

/// The HTTP API mappings of the domain: (api id, stage, key).
async fn v2_mappings(c: &AwsClients, name: &str) -> Vec<(String, String, String)> {
    let out = c
        .apigw
        .get_api_mappings()
        .domain_name(name)
        .send()
        .await
        .unwrap();
    out.items()
        .iter()
        .map(|m| {
            (
                m.api_id().unwrap().to_owned(),
                m.stage().unwrap().to_owned(),
                m.api_mapping_key().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

async fn v2_domains(c: &AwsClients) -> Vec<(String, HashMap<String, String>)> {
    let out = c.apigw.get_domain_names().send().await.unwrap();
    out.items()
        .iter()
        .map(|d| {
            (
                d.domain_name().unwrap().to_owned(),
                d.tags().cloned().unwrap_or_default(),
            )
        })
        .collect()
}

async fn v1_domains(c: &AwsClients) -> Vec<String> {
    let out = c.rest.get_domain_names().send().await.unwrap();
    out.items()
        .iter()
        .map(|d| d.domain_name().unwrap().to_owned())
        .collect()
}

fn domain_actions(plan: &deploy::Plan) -> Vec<String> {
    plan.actions
        .iter()
        .filter(|a| {
            matches!(
                a,
                Action::CreateDomainName { .. }
                    | Action::SetDomainCertificate { .. }
                    | Action::CreateDomainMapping { .. }
                    | Action::DeleteDomainMapping { .. }
                    | Action::DeleteDomainName { .. }
            )
        })
        .map(|a| a.to_string())
        .collect()
}

#[tokio::test]
async fn the_domain_follows_the_stage_through_a_kind_switch_and_goes_with_it() {
    let moto = MotoServer::start();
    let app = with_domain(TestApp::new("demo", ROUTES), Some(NAME));
    let (plan, applied) = deploy::deploy(&clients(&moto).await, &app.desired("dev"))
        .await
        .unwrap();
    assert_eq!(
        domain_actions(&plan),
        [
            format!("+ domain {NAME}: create (regional, TLS 1.2, certificate {CERT})"),
            format!("+ domain mapping {NAME}/: map to the HTTP API's stage $default"),
        ]
    );
    let c = clients(&moto).await;
    let api = applied.api_id.clone().unwrap();
    assert_eq!(
        v2_mappings(&c, NAME).await,
        [(api.clone(), "$default".to_owned(), String::new())]
    );
    let domains = v2_domains(&c).await;
    assert_eq!(domains.len(), 1);
    assert_eq!(
        domains[0].1.get("nextr:app").map(String::as_str),
        Some("demo")
    );
    assert_eq!(
        domains[0].1.get("nextr:stage").map(String::as_str),
        Some("dev")
    );

    // A second deploy changes nothing.
    let c = clients(&moto).await;
    let (plan, _) = deploy::deploy(&c, &app.desired("dev")).await.unwrap();
    assert!(plan.is_empty(), "{plan}");
    assert_eq!(c.calls().stats().mutating(), 0);

    // `gateway = "rest"`: the root mapping moves to the REST API's stage (deleted first: one
    // mapping per path), through v1, which reports the DNS target.
    let rest = with_domain(TestApp::rest("demo", ROUTES, REST_KEYS), Some(NAME));
    let (plan, applied) = deploy::deploy(&clients(&moto).await, &rest.desired("dev"))
        .await
        .unwrap();
    let actions = domain_actions(&plan);
    assert_eq!(
        actions[0],
        format!("+ domain {NAME}: create (regional, TLS 1.2, certificate {CERT})"),
        "moto keeps v1's domains apart from v2's: {actions:?}"
    );
    assert_eq!(
        actions[1..],
        [
            format!("- domain mapping {NAME}/: delete (mapped to API {api})"),
            format!("+ domain mapping {NAME}/: map to the REST API's stage dev"),
        ]
    );
    let dns = applied.dns.expect("v1 reports the regional domain name");
    assert_eq!(dns.name, NAME);
    assert!(
        dns.target.starts_with("d-")
            && dns.target.ends_with(".execute-api.us-east-1.amazonaws.com"),
        "{dns}"
    );
    let c = clients(&moto).await;
    assert!(v2_mappings(&c, NAME).await.is_empty());
    let rest_id = applied.api_id.unwrap();
    let mappings = c
        .rest
        .get_base_path_mappings()
        .domain_name(NAME)
        .send()
        .await
        .unwrap();
    let m = &mappings.items()[0];
    assert_eq!(
        (m.rest_api_id(), m.stage()),
        (Some(rest_id.as_str()), Some("dev"))
    );
    let (plan, _) = deploy::deploy(&c, &rest.desired("dev")).await.unwrap();
    assert!(plan.is_empty(), "{plan}");

    // `[domain]` renamed: the new one is made and mapped, the old one deleted after.
    let renamed = with_domain(
        TestApp::rest("demo", ROUTES, REST_KEYS),
        Some("api2.example.com"),
    );
    let (plan, _) = deploy::deploy(&clients(&moto).await, &renamed.desired("dev"))
        .await
        .unwrap();
    let actions = domain_actions(&plan);
    assert!(
        actions[0].starts_with("+ domain api2.example.com: create"),
        "{actions:?}"
    );
    assert!(
        actions
            .last()
            .unwrap()
            .starts_with(&format!("- domain {NAME}: delete")),
        "{actions:?}"
    );
    let c = clients(&moto).await;
    assert_eq!(v1_domains(&c).await, ["api2.example.com"]);
    assert!(v2_domains(&c).await.is_empty());

    // `nextr remove` deletes the stage's domain, mappings first.
    let (plan, _) = deploy::remove(&clients(&moto).await, &renamed.desired("dev").target)
        .await
        .unwrap();
    assert!(
        plan.actions[0]
            .to_string()
            .starts_with("- domain mapping api2.example.com/"),
        "{plan}"
    );
    assert!(v1_domains(&clients(&moto).await).await.is_empty());
}

#[tokio::test]
async fn a_domain_deploy_did_not_make_is_refused_and_left_alone() {
    let moto = MotoServer::start();
    create_foreign_domain(&clients(&moto).await, NAME, CERT).await;
    let app = with_domain(TestApp::new("demo", ROUTES), Some(NAME));
    let c = clients(&moto).await;
    let err = deploy::deploy(&c, &app.desired("dev")).await.unwrap_err();
    assert!(matches!(err, DeployError::DomainTaken { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains(&format!("the custom domain {NAME} already exists")),
        "{text}"
    );
    assert!(text.contains("it maps to no API"), "{text}");
    assert!(
        text.contains("delete-domain-name --domain-name api.example.com"),
        "{text}"
    );
    assert_eq!(c.calls().stats().mutating(), 0, "refused before any change");

    // Another stage's domain is not this stage's either, and removing this stage keeps it.
    let (plan, _) = deploy::remove(&clients(&moto).await, &app.desired("dev").target)
        .await
        .unwrap();
    assert!(domain_actions(&plan).is_empty(), "{plan}");
    assert_eq!(v2_domains(&clients(&moto).await).await.len(), 1);
}
