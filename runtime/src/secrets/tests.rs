//! The reads against a real moto server (`python3 -m moto.server`, or `NEXTR_MOTO_SERVER`,
//! or the workspace's `.venv/bin/moto_server`, as the infra tests find it): a missing moto
//! fails the test, it is never skipped.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use super::fetch::{call, fetch_all, Setup};
use super::SecretsError;
use crate::aws::Credentials;
use crate::manifest::{SecretRef, SecretStore};

/// moto on a free port, killed when dropped.
struct Moto {
    child: Child,
    endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn moto() -> Moto {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/moto_server");
    let mut command = match std::env::var_os("NEXTR_MOTO_SERVER") {
        Some(path) => Command::new(path),
        None if venv.is_file() => Command::new(venv),
        None => {
            let mut c = Command::new("python3");
            c.args(["-m", "moto.server"]);
            c
        }
    };
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port: {e}"));
    let child = command
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start moto ({command:?}): {e}; install moto[server] (./scripts/test.sh does) or set NEXTR_MOTO_SERVER"));
    let mut moto = Moto {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        if let Ok(Some(status)) = moto.child.try_wait() {
            panic!("moto exited with {status}: is moto[server] installed for python3?");
        }
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.write_all(b"GET /moto-api/data.json HTTP/1.0\r\nHost: x\r\n\r\n");
            let mut head = [0u8; 8];
            if s.read_exact(&mut head).is_ok() {
                return moto;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("moto did not answer within 60 s")
}

fn setup(endpoint: &str) -> Setup {
    Setup {
        region: Some("eu-west-1".into()),
        endpoint: Some(endpoint.to_owned()),
        credentials: Credentials {
            access_key: Some("testing".into()),
            secret_key: Some("testing".into()),
            session_token: None,
        },
        ..Setup::default()
    }
}

fn secret(env: &str, store: SecretStore, name: &str) -> SecretRef {
    SecretRef {
        env: env.into(),
        store,
        name: name.into(),
    }
}

async fn put(setup: &Setup, store: SecretStore, target: &str, body: serde_json::Value) {
    let base = setup.endpoint.clone().unwrap_or_default();
    if let Err(e) = call(setup, store, &base, "eu-west-1", target, &body).await {
        panic!("{target}: {e:?}");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn reads_a_secure_string_and_a_secret_string_at_once_and_names_each_missing_one() {
    let moto = moto();
    let setup = setup(&moto.endpoint);
    put(
        &setup,
        SecretStore::Ssm,
        "AmazonSSM.PutParameter",
        json!({"Name": "/shop/prod/db-url", "Value": "postgres://s3cr3t", "Type": "SecureString"}),
    )
    .await;
    put(
        &setup,
        SecretStore::SecretsManager,
        "secretsmanager.CreateSecret",
        json!({"Name": "shop/stripe", "SecretString": "sk_live_s3cr3t"}),
    )
    .await;
    put(
        &setup,
        SecretStore::SecretsManager,
        "secretsmanager.CreateSecret",
        json!({"Name": "shop/binary", "SecretBinary": "AAEC"}),
    )
    .await;

    // `{stage}` replaced as deploy replaces it.
    let wanted = [
        secret("DB_URL", SecretStore::Ssm, "/shop/{stage}/db-url").for_stage("prod"),
        secret("STRIPE_KEY", SecretStore::SecretsManager, "shop/stripe"),
    ];
    let mut values = fetch_all(&setup, &wanted)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    values.sort();
    assert_eq!(
        values,
        vec![
            ("DB_URL".to_owned(), "postgres://s3cr3t".to_owned()),
            ("STRIPE_KEY".to_owned(), "sk_live_s3cr3t".to_owned()),
        ]
    );

    // A service-specific endpoint wins over AWS_ENDPOINT_URL.
    let specific = Setup {
        endpoint: Some("http://127.0.0.1:9".into()),
        ssm_endpoint: Some(moto.endpoint.clone()),
        ..setup.clone()
    };
    let db = fetch_all(&specific, &wanted[..1]).await;
    assert!(db.is_ok(), "{db:?}");

    let broken = [
        secret("DB_URL", SecretStore::Ssm, "/shop/{stage}/db-url").for_stage("staging"),
        secret("STRIPE_KEY", SecretStore::SecretsManager, "shop/stripe"),
        secret("OTHER", SecretStore::SecretsManager, "shop/nope"),
        secret("BLOB", SecretStore::SecretsManager, "shop/binary"),
    ];
    let Err(SecretsError::Failed(failures)) = fetch_all(&setup, &broken).await else {
        panic!("missing secrets were read");
    };
    let text = SecretsError::Failed(failures.clone()).to_string();
    assert_eq!(failures.len(), 3, "{text}");
    assert!(
        text.starts_with("cannot read 3 of this function's secrets at start:"),
        "{text}"
    );
    assert!(
        text.contains("secret DB_URL (ssm:/shop/staging/db-url")
            && text.contains("ParameterNotFound")
            && text
                .contains("aws ssm put-parameter --type SecureString --name /shop/staging/db-url")
            && text.contains("{stage}"),
        "{text}"
    );
    assert!(
        text.contains("secret OTHER (secretsmanager:shop/nope")
            && text.contains("ResourceNotFoundException")
            && text.contains("aws secretsmanager create-secret --name shop/nope"),
        "{text}"
    );
    assert!(
        text.contains("secret BLOB (secretsmanager:shop/binary") && text.contains("SecretBinary"),
        "{text}"
    );
    assert!(!text.contains("s3cr3t"), "a value in an error: {text}");
}

#[tokio::test(flavor = "current_thread")]
async fn no_endpoint_no_credentials_and_no_server_are_named() {
    let wanted = [secret("KEY", SecretStore::Ssm, "/k")];
    let nowhere = Setup::default();
    let e = fetch_all(&nowhere, &wanted).await.unwrap_err().to_string();
    assert!(e.contains("AWS_REGION is not set"), "{e}");

    let anonymous = Setup {
        credentials: Credentials::default(),
        ..setup("http://127.0.0.1:9")
    };
    let e = fetch_all(&anonymous, &wanted)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("AWS_ACCESS_KEY_ID is not set"), "{e}");

    let bad = Setup {
        ssm_endpoint: Some("127.0.0.1:9".into()),
        ..setup("http://127.0.0.1:9")
    };
    let e = fetch_all(&bad, &wanted).await.unwrap_err().to_string();
    assert!(e.contains("AWS_ENDPOINT_URL_SSM=\"127.0.0.1:9\""), "{e}");

    // Port 9 (discard) is closed on 127.0.0.1: the connection is refused.
    let e = fetch_all(&setup("http://127.0.0.1:9"), &wanted)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("cannot reach http://127.0.0.1:9"), "{e}");

    // An ARN names its own region: the regional endpoint of that region.
    let arn = [secret(
        "KEY",
        SecretStore::SecretsManager,
        "arn:aws:secretsmanager:ap-south-1:123456789012:secret:k-AbCdEf",
    )];
    let regional = Setup {
        region: Some("eu-west-1".into()),
        credentials: Credentials::default(),
        ..Setup::default()
    };
    let e = fetch_all(&regional, &arn).await.unwrap_err().to_string();
    assert!(e.contains("ap-south-1"), "{e}");
}
