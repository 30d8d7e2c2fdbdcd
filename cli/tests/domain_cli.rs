//! The custom domain through the `nextr` binary against moto: deploy prints the domain's URL
//! and the DNS record to create, status repeats it, and a domain deploy did not make is
//! refused with the fix.

mod support;

use std::process::Output;

use nextr::manifest::Domain;
use nextr_infra::deploy::CallLog;
use nextr_infra::testing::{create_foreign_domain, MotoServer, TestApp, TestRoute};
use support::moto::nextr;

const ROUTES: &[TestRoute<'static>] = &[("/api/hello", &["ANY /api/hello"])];
const CERT: &str = "arn:aws:acm:us-east-1:123456789012:certificate/abc";

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn app(kind_rest: bool, name: &str) -> TestApp {
    let mut app = if kind_rest {
        TestApp::rest("demo", ROUTES, &["ANY /", "ANY /{proxy+}", "ANY /api"])
    } else {
        TestApp::new("demo", ROUTES)
    };
    app.manifest.gateway.domain = Some(Domain {
        name: name.into(),
        certificate_arn: CERT.into(),
    });
    app.write_manifest();
    app
}

#[test]
fn deploy_prints_the_dns_record_and_status_repeats_it() {
    let moto = MotoServer::start();
    let app = app(true, "api.example.com");
    let dir = app.dir().to_str().unwrap().to_owned();
    let o = nextr(&moto, &["deploy", &dir, "--yes"]);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(
        out.lines().any(|l| l.trim_start().starts_with("+ domain ")
            && l.contains("api.example.com")
            && l.contains("create (regional, TLS 1.2")),
        "{out}"
    );
    assert!(
        out.contains("Custom domain: https://api.example.com/\n"),
        "{out}"
    );
    let dns = out
        .lines()
        .find(|l| l.starts_with("DNS: create the record api.example.com CNAME d-"))
        .unwrap_or_else(|| panic!("no DNS line:\n{out}"));
    assert!(
        dns.contains(".execute-api.us-east-1.amazonaws.com"),
        "{dns}"
    );

    let o = nextr(&moto, &["status", &dir]);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    let line = out
        .lines()
        .find(|l| l.starts_with("Domain: https://api.example.com/ → API "))
        .unwrap_or_else(|| panic!("no Domain line:\n{out}"));
    assert!(
        line.contains(" stage dev; DNS: api.example.com CNAME d-"),
        "{line}"
    );

    // Deployed again, nothing changes, and the record is printed again.
    let o = nextr(&moto, &["deploy", &dir, "--yes"]);
    let out = text(&o);
    assert!(out.contains("No changes"), "{out}");
    assert!(
        out.contains("DNS: create the record api.example.com CNAME d-"),
        "{out}"
    );
}

#[test]
fn a_domain_made_by_hand_is_refused_with_the_way_out() {
    let moto = MotoServer::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let c = rt.block_on(moto.clients(CallLog::new()));
    rt.block_on(create_foreign_domain(&c, "api.example.com", CERT));
    let app = app(false, "api.example.com");
    let dir = app.dir().to_str().unwrap().to_owned();
    let o = nextr(&moto, &["deploy", &dir, "--yes"]);
    let out = text(&o);
    assert!(!o.status.success(), "{out}");
    assert!(
        out.contains("the custom domain api.example.com already exists in this account and region"),
        "{out}"
    );
    assert!(
        out.contains("delete-domain-name --domain-name api.example.com"),
        "{out}"
    );
    assert!(out.contains("remove `[domain]` from nextr.toml"), "{out}");
}
