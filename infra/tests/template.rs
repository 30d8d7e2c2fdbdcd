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
        lint(&app, &manifest);
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

/// The REST demo: a static, a streaming dynamic and a greedy route, the fallback on the root,
/// `/{proxy+}` and the intermediate resources, and a public function URL.
fn rest_app() -> TestApp {
    use nextr::manifest::{FunctionUrlAuth, ResponseMode};
    let mut app = TestApp::rest(
        "demo",
        &[
            ("/api/hello", &["ANY /api/hello"]),
            ("/api/post/[pid]", &["ANY /api/post/{pid}"]),
            ("/api/files/[...path]", &["ANY /api/files/{path+}"]),
        ],
        &[
            "ANY /",
            "ANY /{proxy+}",
            "ANY /api",
            "ANY /api/post",
            "ANY /api/files",
        ],
    );
    app.set_response_mode("/api/post/[pid]", ResponseMode::Stream);
    app.set_function_url("/api/hello", Some(FunctionUrlAuth::None));
    app.set_function_url("/api/files/[...path]", Some(FunctionUrlAuth::Iam));
    app
}

#[test]
fn a_rest_template_passes_cfn_lint() {
    let app = rest_app();
    let path = template::write(&app.out_dir(), &app.manifest).unwrap();
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

#[test]
fn a_rest_template_has_the_tree_methods_deployment_stage_and_urls() {
    let app = rest_app();
    let t = template::render(&app.manifest);
    let resources = t["Resources"].as_object().unwrap();
    let of = |ty: &str| -> Vec<(&String, &serde_json::Value)> {
        resources.iter().filter(|(_, r)| r["Type"] == ty).collect()
    };
    assert!(of("AWS::ApiGatewayV2::Api").is_empty());
    assert_eq!(of("AWS::ApiGateway::RestApi").len(), 1);
    // Every path but the root, which comes with the API.
    let parts: Vec<&str> = of("AWS::ApiGateway::Resource")
        .iter()
        .map(|(_, r)| r["Properties"]["PathPart"].as_str().unwrap())
        .collect();
    let mut sorted = parts.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        ["api", "files", "hello", "post", "{path+}", "{pid}", "{proxy+}"]
    );
    // A child names its parent's logical id; a top-level resource the root.
    let pid = &resources["ResApiPostPid"]["Properties"];
    assert_eq!(pid["ParentId"]["Ref"], "ResApiPost");
    assert_eq!(
        resources["ResApi"]["Properties"]["ParentId"]["Fn::GetAtt"],
        serde_json::json!(["RestApi", "RootResourceId"])
    );
    let methods = of("AWS::ApiGateway::Method");
    assert_eq!(methods.len(), 8, "one per key");
    let stream = &resources["ResApiPostPidMethod"]["Properties"];
    assert_eq!(stream["HttpMethod"], "ANY");
    assert_eq!(stream["AuthorizationType"], "NONE");
    assert_eq!(stream["Integration"]["Type"], "AWS_PROXY");
    assert_eq!(stream["Integration"]["IntegrationHttpMethod"], "POST");
    assert_eq!(stream["Integration"]["ResponseTransferMode"], "STREAM");
    assert_eq!(
        stream["Integration"]["Uri"]["Fn::Sub"],
        "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2021-11-15/functions/${FnApiPostPidAlias}/response-streaming-invocations"
    );
    assert_eq!(stream["Integration"]["TimeoutInMillis"], 10_000);
    let root = &resources["RootMethod"]["Properties"];
    assert_eq!(root["Integration"]["ResponseTransferMode"], "BUFFERED");
    assert_eq!(
        root["Integration"]["Uri"]["Fn::Sub"],
        "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${FallbackAlias}/invocations"
    );
    // The deployment comes after every method; the stage serves it.
    let deployments = of("AWS::ApiGateway::Deployment");
    assert_eq!(deployments.len(), 1);
    let (deployment, d) = deployments[0];
    assert_eq!(d["DependsOn"].as_array().unwrap().len(), 8);
    let stage = &resources["RestApiStage"]["Properties"];
    assert_eq!(stage["DeploymentId"]["Ref"], deployment.as_str());
    assert_eq!(stage["StageName"]["Ref"], "Stage");
    // Each alias is invocable by this API only.
    let permission = &resources["FnApiHelloPermission"]["Properties"];
    assert_eq!(
        permission["SourceArn"]["Fn::Sub"],
        "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${RestApi}/*/*/*"
    );
    // Function URLs: streaming, on the alias; the public one with both statements.
    let url = &resources["FnApiHelloUrl"]["Properties"];
    assert_eq!(url["InvokeMode"], "RESPONSE_STREAM");
    assert_eq!(url["Qualifier"], "live");
    assert_eq!(url["AuthType"], "NONE");
    assert_eq!(
        resources["FnApiHelloUrlPermission"]["Properties"]["FunctionUrlAuthType"],
        "NONE"
    );
    assert_eq!(
        resources["FnApiHelloUrlInvokePermission"]["Properties"]["InvokedViaFunctionUrl"],
        true
    );
    assert_eq!(
        resources["FnApiFilesPathUrl"]["Properties"]["AuthType"],
        "AWS_IAM"
    );
    assert!(!resources.contains_key("FnApiFilesPathUrlPermission"));
    assert!(t["Outputs"]["Url"]["Value"]["Fn::Sub"]
        .as_str()
        .unwrap()
        .ends_with("/${RestApiStage}"));
    assert!(t["Outputs"].get("FnApiHelloUrl").is_some());

    // A changed tree is a new deployment (CloudFormation deploys only a new one).
    let mut changed = rest_app();
    changed.set_response_mode("/api/hello", nextr::manifest::ResponseMode::Stream);
    let t2 = template::render(&changed.manifest);
    let d2: Vec<&String> = t2["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::ApiGateway::Deployment")
        .map(|(id, _)| id)
        .collect();
    assert_ne!(d2, [deployment]);
}

/// `manifest` with CORS, a stage throttle and a throttle on its first route.
fn protected(mut manifest: Manifest) -> Manifest {
    use nextr::manifest::{Cors, Throttle};
    manifest.gateway.cors = Some(Cors {
        allow_origins: vec!["https://app.example".into()],
        allow_methods: vec!["GET".into()],
        allow_credentials: true,
        max_age_s: Some(600),
        ..Cors::default()
    });
    manifest.gateway.throttle = Some(Throttle {
        rate: 100,
        burst: 50,
    });
    manifest.routes[0].throttle = Some(Throttle { rate: 1, burst: 2 });
    manifest
}

/// Writes `manifest`'s template and asserts cfn-lint passes it.
fn lint(app: &TestApp, manifest: &Manifest) {
    let path = template::write(&app.out_dir(), manifest).unwrap();
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

#[test]
fn cors_and_throttles_are_in_the_http_template() {
    let app = TestApp::new("demo", ROUTES);
    let manifest = protected(app.manifest.clone());
    let t: serde_json::Value = serde_json::from_str(&template::to_json(&manifest)).unwrap();
    let cors = &t["Resources"]["HttpApi"]["Properties"]["CorsConfiguration"];
    assert_eq!(
        cors["AllowOrigins"],
        serde_json::json!(["https://app.example"])
    );
    assert_eq!(cors["AllowCredentials"], true);
    assert_eq!(cors["MaxAge"], 600);
    let stage = &t["Resources"]["HttpApiStage"];
    assert_eq!(
        stage["Properties"]["DefaultRouteSettings"],
        serde_json::json!({"ThrottlingRateLimit": 100, "ThrottlingBurstLimit": 50})
    );
    assert_eq!(
        stage["Properties"]["RouteSettings"]["ANY /api/hello"]["ThrottlingBurstLimit"],
        2
    );
    // Route settings name routes that must exist first.
    let depends = stage["DependsOn"].as_array().unwrap();
    assert_eq!(depends.len(), 1);
    let route = &t["Resources"][depends[0].as_str().unwrap()];
    assert_eq!(route["Properties"]["RouteKey"], "ANY /api/hello");
    lint(&app, &manifest);
}

#[test]
fn throttles_are_method_settings_in_the_rest_template() {
    let app = rest_app();
    let mut manifest = protected(app.manifest.clone());
    manifest.gateway.cors = None;
    let t: serde_json::Value = serde_json::from_str(&template::to_json(&manifest)).unwrap();
    let stage = t["Resources"]
        .as_object()
        .unwrap()
        .values()
        .find(|v| v["Type"] == "AWS::ApiGateway::Stage")
        .unwrap();
    assert_eq!(
        stage["Properties"]["MethodSettings"],
        serde_json::json!([
            {"ResourcePath": "/*", "HttpMethod": "*", "ThrottlingRateLimit": 100, "ThrottlingBurstLimit": 50},
            {"ResourcePath": "/~1api~1hello", "HttpMethod": "*", "ThrottlingRateLimit": 1, "ThrottlingBurstLimit": 2}
        ])
    );
    lint(&app, &manifest);
}

#[test]
fn rest_cors_is_a_mock_options_method_per_keyed_resource_in_the_deployment() {
    let app = rest_app();
    let manifest = protected(app.manifest.clone());
    let t: serde_json::Value = serde_json::from_str(&template::to_json(&manifest)).unwrap();
    let resources = t["Resources"].as_object().unwrap();
    let preflights: Vec<(&String, &serde_json::Value)> = resources
        .iter()
        .filter(|(_, v)| {
            v["Type"] == "AWS::ApiGateway::Method" && v["Properties"]["HttpMethod"] == "OPTIONS"
        })
        .collect();
    // One per keyed resource: the three routes' and the fallback's five.
    assert_eq!(preflights.len(), 8, "{preflights:#?}");
    let (_, hello) = preflights
        .iter()
        .find(|(id, _)| id.as_str() == "ResApiHelloPreflight")
        .expect("the preflight of /api/hello");
    let p = &hello["Properties"];
    assert_eq!(p["AuthorizationType"], "NONE");
    assert_eq!(p["Integration"]["Type"], "MOCK");
    assert_eq!(
        p["Integration"]["RequestTemplates"]["application/json"],
        "{\"statusCode\": 200}"
    );
    let values = &p["Integration"]["IntegrationResponses"][0]["ResponseParameters"];
    assert_eq!(
        values["method.response.header.Access-Control-Allow-Origin"],
        "'https://app.example'"
    );
    assert_eq!(
        values["method.response.header.Access-Control-Allow-Methods"],
        "'GET'"
    );
    assert_eq!(
        p["MethodResponses"][0]["ResponseParameters"]
            ["method.response.header.Access-Control-Allow-Origin"],
        false
    );
    // The deployment snapshots them, and its id changes with them.
    let (deployment_id, deployment) = resources
        .iter()
        .find(|(_, v)| v["Type"] == "AWS::ApiGateway::Deployment")
        .unwrap();
    let depends = deployment["DependsOn"].as_array().unwrap();
    for (id, _) in &preflights {
        assert!(depends.contains(&serde_json::json!(id)), "{id}");
    }
    let mut plain = manifest.clone();
    plain.gateway.cors = None;
    let t2: serde_json::Value = serde_json::from_str(&template::to_json(&plain)).unwrap();
    assert!(!t2["Resources"]
        .as_object()
        .unwrap()
        .contains_key(deployment_id.as_str()));
    lint(&app, &manifest);
}

/// The manifest with a `proxy.rs`.
fn proxied(mut manifest: Manifest) -> Manifest {
    manifest.proxy = Some(nextr::manifest::ManifestProxy {
        file: "proxy.rs".into(),
        matcher: None,
    });
    manifest
}

#[test]
fn a_proxy_names_the_functions_by_stage_and_lets_the_role_invoke_their_aliases() {
    let app = TestApp::new("demo", ROUTES);
    let manifest = proxied(configured(&app));
    let t = template::render(&manifest);
    let resources = t["Resources"].as_object().unwrap();
    let functions: Vec<(&String, &serde_json::Value)> = resources
        .iter()
        .filter(|(_, v)| v["Type"] == "AWS::Lambda::Function")
        .collect();
    assert_eq!(functions.len(), ROUTES.len() + 1);
    for (id, f) in &functions {
        let props = &f["Properties"];
        assert_eq!(
            props["Environment"]["Variables"]["NEXTR_STAGE"],
            serde_json::json!({"Ref": "Stage"}),
            "{id}"
        );
        // The rule the functions find each other by: `<manifest name>-<stage>`.
        let name = props["FunctionName"]["Fn::Sub"].as_str().unwrap();
        assert!(
            name.starts_with("demo-") && name.ends_with("-${Stage}"),
            "{id}: {name}"
        );
    }
    let policy = &resources["InvokePolicy"];
    assert_eq!(policy["Type"], "AWS::IAM::Policy");
    assert_eq!(policy["Properties"]["PolicyName"], "nextr-invoke");
    assert_eq!(
        policy["Properties"]["Roles"],
        serde_json::json!([{"Ref": "ExecutionRole"}])
    );
    let statement = &policy["Properties"]["PolicyDocument"]["Statement"][0];
    assert_eq!(statement["Action"], "lambda:InvokeFunction");
    let mut aliases: Vec<String> = statement["Resource"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["Ref"].as_str().unwrap().to_owned())
        .collect();
    aliases.sort();
    let mut expected: Vec<String> = functions
        .iter()
        .map(|(id, _)| format!("{id}Alias"))
        .collect();
    expected.sort();
    assert_eq!(aliases, expected);
    assert!(t.get("Rules").is_none());
    lint(&app, &manifest);

    // Without the proxy, none of it.
    let plain = template::render(&configured(&app));
    assert!(plain["Resources"].get("InvokePolicy").is_none());
    assert!(!plain.to_string().contains("NEXTR_STAGE"));
    assert!(plain["Resources"]
        .as_object()
        .unwrap()
        .values()
        .filter(|v| v["Type"] == "AWS::Lambda::Function")
        .all(|v| v["Properties"].get("FunctionName").is_none()));
}

#[test]
fn a_name_too_long_for_every_stage_pins_the_templates_stage() {
    let mut app = TestApp::new("demo", ROUTES);
    let long = format!("demo-{}-1a2b3c4d", "l".repeat(45));
    if let Some(f) = app.manifest.routes[0].function.as_mut() {
        f.name = long.clone();
    }
    app.write_manifest();
    let manifest = proxied(configured(&app));
    let t = template::render(&manifest);
    let pinned = nextr::manifest::deployed_function_name(&long, Some("prod"));
    assert_eq!(pinned.len(), 64);
    let named: Vec<&serde_json::Value> = t["Resources"]
        .as_object()
        .unwrap()
        .values()
        .filter(|v| v["Type"] == "AWS::Lambda::Function")
        .map(|v| &v["Properties"]["FunctionName"])
        .collect();
    assert!(named.contains(&&serde_json::json!(pinned)), "{named:?}");
    assert_eq!(
        t["Rules"]["StageOfShortenedFunctionNames"]["Assertions"][0]["Assert"],
        serde_json::json!({"Fn::Equals": [{"Ref": "Stage"}, "prod"]})
    );
    lint(&app, &manifest);
}

/// Asserts that cfn-lint with the serverless rules (`-a cfn_lint_serverless.rules`, PyPI
/// `cfn-lint-serverless`) reports nothing on the template at `path`.
fn lint_serverless(path: &std::path::Path) {
    let mut lint = cfn_lint_command().unwrap_or_else(|e| panic!("{e}"));
    let out = lint
        .args(["-a", "cfn_lint_serverless.rules", "--"])
        .arg(path)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !text.contains("No module named") && !text.contains("cfn_lint_serverless"),
        "cfn-lint cannot load the serverless rules: run ./scripts/test.sh, which installs cfn-lint-serverless into .venv (.venv/bin/pip install cfn-lint cfn-lint-serverless)\n{text}"
    );
    assert!(
        out.status.success() && text.trim().is_empty(),
        "the serverless rules report ({}):\n{text}",
        out.status
    );
}

/// The serverless rules (`cfn-lint -a cfn_lint_serverless.rules`, PyPI
/// `cfn-lint-serverless`) report nothing on the template of an HTTP and a REST app as
/// `nextr build` writes them: log groups with retention for every function (WS1004), access
/// logs (ES2000, in JSON: WS2001), default throttling (ES2003); tracing is off on purpose,
/// ignored per resource (WS1000, WS2002; see `template::logs`).
#[test]
fn passes_the_serverless_rules() {
    use nextr::manifest::Throttle;
    let http = TestApp::new("demo", ROUTES);
    let rest = rest_app();
    for app in [&http, &rest] {
        let mut manifest = configured(app);
        // As the build writes it: the default stage throttle, one route's own retention.
        manifest.gateway.throttle = Some(Throttle::DEFAULT);
        manifest.routes[0].log_retention_days = Some(7);
        let path = template::write(&app.out_dir(), &manifest).unwrap();
        lint_serverless(&path);
        let t: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let resources = t["Resources"].as_object().unwrap();
        let retention = |id: &str| resources[id]["Properties"]["RetentionInDays"].clone();
        assert_eq!(retention("FnApiHelloLogGroup"), 7);
        assert_eq!(retention("FallbackLogGroup"), 30);
        assert_eq!(retention("AccessLogGroup"), 30);
        assert!(resources.values().all(|r| r["Type"] != "AWS::IAM::Role"
            || r["Properties"].get("ManagedPolicyArns").is_none()
            || r["Properties"]["Description"]
                .as_str()
                .unwrap_or_default()
                .contains("API Gateway")));
    }
}

/// `[domain]`: a regional domain name (TLS 1.2, the certificate) with its root mapped to the
/// stage, and outputs naming the DNS record, in both kinds of template; cfn-lint with the
/// serverless rules reports nothing.
#[test]
fn a_custom_domain_is_mapped_to_the_stage() {
    use nextr::manifest::Domain;
    let http = TestApp::new("demo", ROUTES);
    let rest = rest_app();
    for (app, domain_type, mapping_type) in [
        (
            &http,
            "AWS::ApiGatewayV2::DomainName",
            "AWS::ApiGatewayV2::ApiMapping",
        ),
        (
            &rest,
            "AWS::ApiGateway::DomainName",
            "AWS::ApiGateway::BasePathMapping",
        ),
    ] {
        let mut manifest = configured(app);
        manifest.gateway.throttle = Some(nextr::manifest::Throttle::DEFAULT);
        manifest.gateway.domain = Some(Domain {
            name: "api.example.com".into(),
            certificate_arn: "arn:aws:acm:us-east-1:123456789012:certificate/abc".into(),
        });
        let path = template::write(&app.out_dir(), &manifest).unwrap();
        let t: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let domain = &t["Resources"]["CustomDomain"];
        assert_eq!(domain["Type"], domain_type);
        assert_eq!(domain["Properties"]["DomainName"], "api.example.com");
        let mapping = &t["Resources"]["CustomDomainMapping"];
        assert_eq!(mapping["Type"], mapping_type);
        assert_eq!(mapping["Properties"]["DomainName"]["Ref"], "CustomDomain");
        assert_eq!(
            t["Outputs"]["DomainUrl"]["Value"],
            "https://api.example.com/"
        );
        assert_eq!(
            t["Outputs"]["DnsTarget"]["Value"]["Fn::GetAtt"],
            serde_json::json!(["CustomDomain", "RegionalDomainName"])
        );
        lint_serverless(&path);
    }
}

/// The manifest with app-wide and `/api/hello`'s own permissions and secrets, and a proxy.
fn with_access(mut manifest: Manifest) -> Manifest {
    use nextr::manifest::{Access, Effect, PolicyStatement, RouteAccess, SecretRef, SecretStore};
    let statement = |actions: &[&str], resources: &[&str]| PolicyStatement {
        effect: Effect::Allow,
        actions: actions.iter().map(|s| s.to_string()).collect(),
        resources: resources.iter().map(|s| s.to_string()).collect(),
    };
    let mut access = Access {
        permissions: vec![statement(
            &["dynamodb:GetItem"],
            &["arn:{partition}:dynamodb:{region}:{account}:table/{app}-{stage}-orders"],
        )],
        secrets: vec![SecretRef {
            env: "DB_URL".into(),
            store: SecretStore::Ssm,
            name: "/demo/{stage}/db".into(),
        }],
        ..Access::default()
    };
    access.routes.insert(
        "/api/hello".into(),
        RouteAccess {
            secrets: vec![SecretRef {
                env: "KEY".into(),
                store: SecretStore::SecretsManager,
                name: "demo/key".into(),
            }],
            permissions: vec![statement(
                &["s3:GetObject"],
                &["arn:{partition}:s3:::demo-{stage}-files/${aws:username}/*"],
            )],
        },
    );
    manifest.access = access;
    manifest
}

#[test]
fn a_route_with_its_own_access_gets_its_own_role_with_the_placeholders_as_references() {
    use serde_json::json;
    let app = TestApp::new("demo", ROUTES);
    let manifest = proxied(with_access(configured(&app)));
    let t = template::render(&manifest);
    let r = t["Resources"].as_object().unwrap();

    assert_eq!(
        r["FnApiHello"]["Properties"]["Role"],
        json!({"Fn::GetAtt": ["FnApiHelloRole", "Arn"]})
    );
    assert_eq!(
        r["FnApiPostCreate"]["Properties"]["Role"],
        json!({"Fn::GetAtt": ["ExecutionRole", "Arn"]})
    );
    let orders = json!({
        "Effect": "Allow",
        "Action": ["dynamodb:GetItem"],
        "Resource": [{"Fn::Sub": "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/demo-${Stage}-orders"}]
    });
    let db = json!({
        "Effect": "Allow",
        "Action": ["ssm:GetParameter"],
        "Resource": [{"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/demo/${Stage}/db"}]
    });
    let access = |role: &str| r[role]["Properties"]["Policies"][0].clone();
    assert_eq!(
        access("ExecutionRole"),
        json!({"PolicyName": "nextr-access", "PolicyDocument": {"Version": "2012-10-17", "Statement": [orders, db]}})
    );
    let own = access("FnApiHelloRole")["PolicyDocument"]["Statement"].clone();
    assert_eq!(own[0], orders);
    // IAM's own variable stays IAM's: escaped for Fn::Sub.
    assert_eq!(
        own[1]["Resource"],
        json!([{"Fn::Sub": "arn:${AWS::Partition}:s3:::demo-${Stage}-files/${!aws:username}/*"}])
    );
    assert_eq!(own[2], db);
    assert_eq!(
        own[3]["Resource"],
        json!([{"Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:demo/key-??????"}])
    );
    // Logs: the route's role writes its group only; the app's, the others'.
    assert_eq!(
        r["FnApiHelloLogsPolicy"]["Properties"]["Roles"],
        json!([{"Ref": "FnApiHelloRole"}])
    );
    assert_eq!(
        r["FnApiHelloLogsPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]["Resource"],
        json!([{"Fn::GetAtt": ["FnApiHelloLogGroup", "Arn"]}])
    );
    let app_groups = r["LogsPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]["Resource"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(app_groups.len(), ROUTES.len());
    assert!(!app_groups.contains(&json!({"Fn::GetAtt": ["FnApiHelloLogGroup", "Arn"]})));
    // The proxy's invoke grant is on every role.
    assert_eq!(
        r["InvokePolicy"]["Properties"]["Roles"],
        json!([{"Ref": "ExecutionRole"}, {"Ref": "FnApiHelloRole"}])
    );
    lint(&app, &manifest);
    // The serverless rules too, on the manifest as the build writes it (a stage throttle).
    let mut manifest = manifest;
    manifest.gateway.throttle = Some(nextr::manifest::Throttle::DEFAULT);
    let path = template::write(&app.out_dir(), &manifest).unwrap();
    lint_serverless(&path);

    // Without access, no Policies on the app's role and no role of its own.
    let plain = template::render(&configured(&app));
    assert!(plain["Resources"]["ExecutionRole"]["Properties"]
        .get("Policies")
        .is_none());
    assert!(plain["Resources"].get("FnApiHelloRole").is_none());
}
