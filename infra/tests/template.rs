//! The CloudFormation template: snapshot, cfn-lint, and the manifest's route keys.

use std::collections::BTreeMap;

use nextr::manifest::Manifest;
use nextr_infra::template;
use nextr_infra::testing::{cfn_lint_command, TestApp, TestRoute};

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

/// The manifest of an app whose nextr.toml sets `stage = "prod"`, `[env] LOG_LEVEL = "info"`
/// and `[routes."/api/hello".env] GREETING = "hi"`, as the build merges them.
fn configured(app: &TestApp) -> Manifest {
    let mut m = app.manifest.clone();
    m.deploy.stage = "prod".to_string();
    let all = BTreeMap::from([("LOG_LEVEL".to_string(), "info".to_string())]);
    m.fallback.env = all.clone();
    for r in &mut m.routes {
        if let Some(f) = r.function.as_mut() {
            f.env = all.clone();
            if r.page == "/api/hello" {
                f.env.insert("GREETING".to_string(), "hi".to_string());
            }
        }
    }
    m
}

#[test]
fn snapshot() {
    let app = TestApp::new("demo", ROUTES);
    insta::assert_snapshot!(template::to_json(&configured(&app)));
}

#[test]
fn passes_cfn_lint() {
    let app = TestApp::new("demo", ROUTES);
    for manifest in [configured(&app), app.manifest.clone()] {
        let path = template::write(&app.out_dir(), &manifest).unwrap();
        let mut lint = cfn_lint_command().unwrap_or_else(|e| panic!("{e}"));
        let out = lint.arg("--").arg(&path).output().unwrap();
        assert!(
            out.status.success(),
            "cfn-lint failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn holds_the_manifest_route_keys_and_nothing_else() {
    let app = TestApp::new("demo", ROUTES);
    let t = template::render(&configured(&app));
    assert_eq!(template::route_keys(&t), app.route_keys());
    let count = |ty: &str| {
        t["Resources"]
            .as_object()
            .unwrap()
            .values()
            .filter(|r| r["Type"] == ty)
            .count()
    };
    // Five routes plus the fallback.
    for ty in [
        "AWS::Lambda::Function",
        "AWS::Lambda::Version",
        "AWS::Lambda::Alias",
        "AWS::ApiGatewayV2::Integration",
        "AWS::Lambda::Permission",
    ] {
        assert_eq!(count(ty), 6, "{ty}");
    }
    assert_eq!(count("AWS::ApiGatewayV2::Route"), 7);
    assert_eq!(count("AWS::ApiGatewayV2::Api"), 1);
    assert_eq!(count("AWS::ApiGatewayV2::Stage"), 1);
    assert_eq!(count("AWS::IAM::Role"), 1);
}

#[test]
fn new_code_means_a_new_version_of_that_function_only() {
    let mut app = TestApp::new("demo", ROUTES);
    let ids = |t: &serde_json::Value| -> Vec<String> {
        t["Resources"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, r)| r["Type"] == "AWS::Lambda::Version")
            .map(|(id, _)| id.clone())
            .collect()
    };
    let before = ids(&template::render(&configured(&app)));
    app.change_code("/api/hello", "v2");
    let after = template::render(&configured(&app));
    let changed: Vec<_> = ids(&after)
        .into_iter()
        .filter(|id| !before.contains(id))
        .collect();
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert!(changed[0].starts_with("FnApiHelloVersion"), "{changed:?}");
    // The alias follows the new version, and the S3 key is the new code's.
    let version = &changed[0];
    assert_eq!(
        after["Resources"]["FnApiHelloAlias"]["Properties"]["FunctionVersion"]["Fn::GetAtt"][0],
        version.as_str()
    );
    let sha = &app.manifest.routes[0].function.as_ref().unwrap().sha256;
    assert!(
        after["Resources"]["FnApiHello"]["Properties"]["Code"]["S3Key"]["Fn::Sub"]
            .as_str()
            .unwrap()
            .contains(sha.as_str())
    );
}

#[test]
fn writing_is_idempotent() {
    let app = TestApp::new("demo", ROUTES);
    let path = template::write(&app.out_dir(), &configured(&app)).unwrap();
    let first = std::fs::read_to_string(&path).unwrap();
    let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    template::write(&app.out_dir(), &configured(&app)).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), first);
    assert_eq!(
        std::fs::metadata(&path).unwrap().modified().unwrap(),
        modified
    );
}
