//! A function's architecture against moto's AWS server: created with the manifest's, and a
//! changed one sent with the code (`UpdateFunctionCode` with `Architectures`, the only call
//! of Lambda that changes it), never as a configuration change.
//!
//! moto records every request when asked to (`MOTO_ENABLE_RECORDING`), which is how these
//! tests read what was sent. moto itself keeps a function's first architecture whatever
//! `UpdateFunctionCode` says, so that Lambda then reports the new one, and the arm64 code
//! starting on Graviton, are checks on real AWS (infra/MANUAL-CHECKS.md).

mod support;

use std::path::Path;

use base64::Engine as _;
use nextr::manifest::Architecture;
use nextr_infra::deploy::{self, Action};
use nextr_infra::testing::{MotoServer, TestApp};
use serde_json::Value;
use support::moto::clients;

/// One recorded request to Lambda: method, path, JSON body.
#[derive(Debug)]
struct Sent {
    method: String,
    path: String,
    body: Value,
}

/// The Lambda requests in moto's recording file.
fn lambda_requests(recording: &Path) -> Vec<Sent> {
    let text = std::fs::read_to_string(recording).unwrap_or_default();
    text.lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter_map(|entry| {
            let url = entry["url"].as_str()?;
            let path = url
                .split_once("://")
                .map_or(url, |(_, rest)| rest.find('/').map_or("/", |i| &rest[i..]));
            if !path.starts_with("/2015-03-31/functions") {
                return None;
            }
            let raw = entry["body"].as_str().unwrap_or_default();
            let bytes = if entry["body_encoded"] == true {
                base64::engine::general_purpose::STANDARD
                    .decode(raw)
                    .unwrap_or_default()
            } else {
                raw.as_bytes().to_vec()
            };
            Some(Sent {
                method: entry["method"].as_str().unwrap_or_default().to_owned(),
                path: path.split('?').next().unwrap_or(path).to_owned(),
                body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            })
        })
        .collect()
}

#[tokio::test]
async fn the_architecture_goes_to_lambda_with_the_code() {
    let recording = tempfile::NamedTempFile::new().unwrap();
    let path = recording.path().display().to_string();
    let moto = MotoServer::start_with_env(&[
        ("MOTO_ENABLE_RECORDING", "true"),
        ("MOTO_RECORDER_FILEPATH", &path),
    ]);
    // A test app's functions are arm64.
    let mut app = TestApp::new("archy", &[("/api/hello", &["ANY /api/hello"])]);
    let names: Vec<String> = app
        .desired("dev")
        .functions
        .iter()
        .map(|f| f.name.clone())
        .collect();
    assert_eq!(names.len(), 2, "a route's function and the fallback");
    deploy::deploy(&clients(&moto).await, &app.desired("dev"))
        .await
        .unwrap();
    let created: Vec<Sent> = lambda_requests(recording.path())
        .into_iter()
        .filter(|s| s.method == "POST" && s.path == "/2015-03-31/functions")
        .collect();
    assert_eq!(created.len(), 2, "{created:?}");
    for s in &created {
        assert_eq!(
            s.body["Architectures"],
            serde_json::json!(["arm64"]),
            "{s:?}"
        );
    }
    let c = clients(&moto).await;
    for name in &names {
        let got = c
            .lambda
            .get_function_configuration()
            .function_name(name)
            .send()
            .await
            .unwrap();
        assert_eq!(got.architectures()[0].as_str(), "arm64", "{name}");
    }

    // Built again for x86_64: the code goes up again with the architecture, then a version
    // is published and `live` moves to it; the configuration is not touched.
    app.set_architecture(Architecture::X86_64);
    std::fs::write(recording.path(), "").unwrap();
    let c = clients(&moto).await;
    let (plan, _) = deploy::deploy(&c, &app.desired("dev")).await.unwrap();
    for name in &names {
        let sha = app
            .desired("dev")
            .function(name)
            .unwrap()
            .code_sha256
            .clone();
        let own: Vec<&Action> = plan
            .actions
            .iter()
            .filter(|a| a.to_string().contains(name.as_str()))
            .collect();
        assert_eq!(
            own,
            [
                &Action::UpdateFunctionCode {
                    function: name.clone(),
                    from: Some(sha.clone()),
                    to: sha,
                    architecture: Some(("arm64".into(), "x86_64".into())),
                },
                &Action::PublishVersion {
                    function: name.clone()
                },
                &Action::UpdateAlias {
                    function: name.clone(),
                    from: Some("1".into())
                },
            ],
            "{plan}"
        );
    }
    assert!(
        plan.to_string().contains("architecture arm64 → x86_64"),
        "{plan}"
    );
    assert_eq!(
        c.calls()
            .stats()
            .count("Lambda.UpdateFunctionConfiguration"),
        0
    );
    let uploads: Vec<Sent> = lambda_requests(recording.path())
        .into_iter()
        .filter(|s| s.method == "PUT" && s.path.ends_with("/code"))
        .collect();
    assert_eq!(uploads.len(), 2, "{uploads:?}");
    for s in &uploads {
        assert_eq!(
            s.body["Architectures"],
            serde_json::json!(["x86_64"]),
            "{}",
            s.path
        );
        assert!(
            s.body["ZipFile"].is_string(),
            "the code goes with it: {}",
            s.path
        );
    }
}
