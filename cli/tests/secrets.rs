//! `nextr.toml`'s `[secrets]` end to end, on one small app (one build for dev, one for
//! deploy): `nextr dev` gives a function the `.env.local` value, names a missing secret at
//! start and answers its route 500 with it while the other routes serve, and with
//! `--aws-secrets` the functions read SSM and Secrets Manager (moto) at start; and a deploy to
//! moto leaves the secrets' values nowhere — not in the build folder (manifest, template,
//! bundles), the deploy record, any command's output, any function's configuration or code
//! location, any role or role policy, the log groups or the API — while every function's
//! `NEXTR_SECRETS` names its references.

mod support;

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;

use nextr::manifest::access::SECRETS_ENV;
use nextr_infra::deploy::CallLog;
use nextr_infra::testing::MotoServer;
use serde_json::{json, Value};
use support::apps::TestApp;
use support::dev::Dev;
use support::moto::nextr;

/// The values moto holds: none may appear anywhere nextr writes.
const DB_VALUE: &str = "s3cr3t-VALUE-7f3a-db";
const PAY_VALUE: &str = "s3cr3t-VALUE-7f3a-pay";

/// Every route reports what it sees of its secrets, through `std::env` and `nextr::secrets`.
const ROUTE: &str = r#"use nextr::prelude::*;

pub async fn handler(_req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.status(200).json(&json!({
        "DB_URL": std::env::var("DB_URL").ok(),
        "PAY_TOKEN": std::env::var("PAY_TOKEN").ok(),
        "get": nextr::secrets::get("PAY_TOKEN").or(nextr::secrets::get("DB_URL")),
    }))
}
"#;

fn app(name: &str) -> TestApp {
    let app = TestApp::new(name);
    app.write("api/env.rs", ROUTE).write("api/pay.rs", ROUTE).write(
        "nextr.toml",
        &format!(
            "app = {:?}\nmemory = 256\n\n[secrets]\nDB_URL = \"ssm:/shop/{{stage}}/db-url\"\n\n[routes.\"/api/pay\".secrets]\nPAY_TOKEN = \"secretsmanager:shop/pay-token\"\n",
            app.name()
        ),
    );
    app
}

/// One unsigned AWS JSON 1.1 call to moto (which checks no signature), as the AWS CLI would
/// make it.
fn moto_call(moto: &MotoServer, target: &str, body: &Value) {
    let endpoint = moto.endpoint();
    let host = endpoint.trim_start_matches("http://");
    let body = body.to_string();
    // moto routes by the credential scope's service.
    let service = if target.starts_with("AmazonSSM") {
        "ssm"
    } else {
        "secretsmanager"
    };
    let mut stream = TcpStream::connect(host).unwrap();
    write!(
        stream,
        "POST / HTTP/1.0\r\nHost: {host}\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: {target}\r\nAuthorization: AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(
        answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200"),
        "{target}: {answer}"
    );
}

/// moto holding both secrets for stage `dev` (nextr.toml's default).
fn moto_with_secrets() -> MotoServer {
    let moto = MotoServer::start();
    moto_call(
        &moto,
        "AmazonSSM.PutParameter",
        &json!({"Name": "/shop/dev/db-url", "Value": DB_VALUE, "Type": "SecureString"}),
    );
    moto_call(
        &moto,
        "secretsmanager.CreateSecret",
        &json!({"Name": "shop/pay-token", "SecretString": PAY_VALUE}),
    );
    moto
}

#[test]
fn dev_gives_local_values_names_missing_ones_and_reads_aws_with_the_flag() {
    let app = app("dev");
    app.write(".env.local", "DB_URL=local-db\n");
    let no_aws: [(&str, &OsStr); 0] = [];
    let mut dev = Dev::start_in(app.path(), &[], &no_aws);
    let missing = "secret PAY_TOKEN of /api/pay (secretsmanager:shop/pay-token) has no local value: add PAY_TOKEN=… to .env.local, or run nextr dev --aws-secrets";
    let said = dev.wait_for(|l| l.contains(missing), std::time::Duration::from_secs(10));
    assert!(said.is_some(), "{}", dev.output());
    // Said once, at start.
    assert_eq!(dev.output().matches(missing).count(), 1, "{}", dev.output());
    let env = dev.get("/api/env");
    assert_eq!(env.status, 200, "{}", String::from_utf8_lossy(&env.body));
    let seen: Value = serde_json::from_slice(&env.body).unwrap();
    assert_eq!(seen["DB_URL"], "local-db");
    // A local value is a plain variable: nothing was read from AWS.
    assert_eq!(seen["get"], Value::Null);
    let pay = dev.get("/api/pay");
    assert_eq!(pay.status, 500);
    assert!(String::from_utf8_lossy(&pay.body).contains(missing));
    dev.stop();

    // With --aws-secrets and no local value, the functions read moto at start.
    let moto = moto_with_secrets();
    app.remove(".env.local");
    let env: Vec<(&str, String)> = moto.env();
    let env: Vec<(&str, &OsStr)> = env
        .iter()
        .map(|(k, v)| (*k, OsStr::new(v.as_str())))
        .collect();
    let mut dev = Dev::start_in(app.path(), &["--aws-secrets"], &env);
    let pay = dev.get("/api/pay");
    assert_eq!(
        pay.status,
        200,
        "{}\n{}",
        String::from_utf8_lossy(&pay.body),
        dev.output()
    );
    let seen: Value = serde_json::from_slice(&pay.body).unwrap();
    assert_eq!(seen["DB_URL"], DB_VALUE);
    assert_eq!(seen["PAY_TOKEN"], PAY_VALUE);
    assert_eq!(seen["get"], PAY_VALUE);
    assert!(
        !dev.output().contains("has no local value"),
        "{}",
        dev.output()
    );
    dev.stop();

    // A secret AWS does not have: the function fails at start, and dev shows why.
    app.write(
        "nextr.toml",
        &std::fs::read_to_string(app.path().join("nextr.toml"))
            .unwrap()
            .replace("/shop/{stage}/db-url", "/shop/{stage}/gone"),
    );
    let mut dev = Dev::start_in(app.path(), &["--aws-secrets"], &env);
    let reply = dev.get("/api/env");
    assert!(reply.status >= 500, "{}", reply.status);
    let shown = dev
        .wait_for(
            |l| l.contains("ParameterNotFound"),
            std::time::Duration::from_secs(20),
        )
        .unwrap_or_else(|| dev.output());
    assert!(
        shown.contains("secret DB_URL (ssm:/shop/dev/gone")
            && shown.contains("aws ssm put-parameter"),
        "{}",
        dev.output()
    );
    dev.stop();
    assert!(!dev.output().contains("s3cr3t-VALUE"), "{}", dev.output());
}

/// Every file under `dir`, by path.
fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}

fn assert_clean(what: &str, text: &str) {
    for value in [DB_VALUE, PAY_VALUE, "s3cr3t-VALUE"] {
        assert!(
            !text.contains(value),
            "{what} holds a secret's value:\n{text}"
        );
    }
}

#[test]
fn a_deploy_leaves_the_values_nowhere_and_the_functions_their_references() {
    let moto = moto_with_secrets();
    let app = app("scan");
    // A local stand-in in .env.local must not reach a production build.
    app.write(".env.local", &format!("PAY_TOKEN={PAY_VALUE}\n"));
    let d = app.path().to_str().unwrap().to_owned();
    let mut outputs = Vec::new();
    let build = nextr(&moto, &["build", "--debug", &d]);
    assert!(
        build.status.success(),
        "{}",
        String::from_utf8_lossy(&build.stderr)
    );
    outputs.push(("build", build));
    // Deploy ships release builds only; a release build of the app costs minutes of CI for
    // nothing this test checks (the secrets' flow is the same), so the debug build's manifest
    // is marked release, as `deploy_cli.rs`'s hand-made manifests are.
    let manifest_path = app.path().join(".nextr/routes-manifest.json");
    let manifest = std::fs::read_to_string(&manifest_path).unwrap();
    assert!(manifest.contains("\"profile\": \"debug\""), "{manifest}");
    std::fs::write(
        &manifest_path,
        manifest.replace("\"profile\": \"debug\"", "\"profile\": \"release\""),
    )
    .unwrap();
    for args in [
        vec!["deploy", d.as_str()],
        vec!["status", d.as_str()],
        vec!["deploy", d.as_str(), "--dry-run"],
    ] {
        let out = nextr(&moto, &args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        outputs.push(("command", out));
    }
    for (what, out) in &outputs {
        assert_clean(what, &String::from_utf8_lossy(&out.stdout));
        assert_clean(what, &String::from_utf8_lossy(&out.stderr));
    }
    // The build folder: manifest, template, bundles, deploy records.
    let out_dir = app.path().join(".nextr");
    let mut scanned = 0;
    for file in files(&out_dir) {
        let bytes = std::fs::read(&file).unwrap();
        assert_clean(
            &file.display().to_string(),
            &String::from_utf8_lossy(&bytes),
        );
        scanned += 1;
    }
    assert!(scanned >= 4, "{scanned} files in {}", out_dir.display());
    let record = files(&out_dir).into_iter().any(|f| {
        f.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("deploy-"))
    });
    assert!(record, "no deploy record under {}", out_dir.display());
    let template = std::fs::read_to_string(out_dir.join("template.json")).unwrap();
    assert!(
        template.contains(r#"\"name\":\"/shop/${Stage}/db-url\""#),
        "the template's references: {template}"
    );

    // What AWS (moto) holds: every function's configuration and code location, every role's
    // policies, and the whole of moto's state but the two stores themselves.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = moto.clients(CallLog::new()).await;
        let functions = c.lambda.list_functions().send().await.unwrap();
        let names: Vec<String> = functions
            .functions()
            .iter()
            .filter_map(|f| f.function_name().map(str::to_owned))
            .collect();
        assert_eq!(names.len(), 3, "{names:?}");
        for name in &names {
            let config = c
                .lambda
                .get_function_configuration()
                .function_name(name)
                .send()
                .await
                .unwrap();
            let text = format!("{config:?}");
            assert_clean(name, &text);
            let list = config
                .environment()
                .and_then(|e| e.variables())
                .and_then(|v| v.get(SECRETS_ENV))
                .unwrap_or_else(|| panic!("{name} has no {SECRETS_ENV}: {text}"));
            let refs: Value = serde_json::from_str(list).unwrap();
            let names_db = refs.as_array().is_some_and(|all| {
                all.iter().any(|r| {
                    r["env"] == "DB_URL" && r["store"] == "ssm" && r["name"] == "/shop/dev/db-url"
                })
            });
            assert!(names_db, "{name}: {refs}");
            assert_eq!(
                refs.to_string().contains("shop/pay-token"),
                name.contains("pay"),
                "{name}: {refs}"
            );
            assert!(
                !config
                    .environment()
                    .and_then(|e| e.variables())
                    .is_some_and(|v| v.contains_key("PAY_TOKEN")),
                "{name}: {text}"
            );
            let function = c
                .lambda
                .get_function()
                .function_name(name)
                .send()
                .await
                .unwrap();
            assert_clean(name, &format!("{function:?}"));
        }
        // moto's `/moto-api/data.json` fails (500) on a deployed app's state, so the rest is
        // read service by service: the log groups, and the API.
        let groups = c.logs.describe_log_groups().send().await.unwrap();
        assert_clean("log groups", &format!("{groups:?}"));
        let apis = c.apigw.get_apis().send().await.unwrap();
        assert_clean("APIs", &format!("{apis:?}"));
        let roles = c.iam.list_roles().send().await.unwrap();
        for role in roles.roles() {
            let name = role.role_name();
            assert_clean(name, &format!("{role:?}"));
            let policies = c
                .iam
                .list_role_policies()
                .role_name(name)
                .send()
                .await
                .unwrap();
            for policy in policies.policy_names() {
                let doc = c
                    .iam
                    .get_role_policy()
                    .role_name(name)
                    .policy_name(policy)
                    .send()
                    .await
                    .unwrap();
                assert_clean(policy, &format!("{doc:?}"));
            }
        }
    });
}
