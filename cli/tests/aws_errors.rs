//! How `nextr status` and `nextr deploy` report a failed AWS call: one line saying which
//! call on which resource failed and why, one line saying what to change, and none of the
//! SDK's internals (`DispatchFailure { source: ConnectorError { … } }`).
//!
//! Every run starts from an empty environment (PATH, and HOME in a fresh temp dir so no
//! `~/.aws` is read), plus what the case sets.

use std::net::TcpListener;
use std::process::{Command, Output, Stdio};

use nextr_infra::testing::{MotoServer, TestApp, TestRoute};

const ROUTES: &[TestRoute<'static>] = &[("/api/hello", &["ANY /api/hello"])];

/// Runs `nextr ARGS` with only PATH, an empty HOME and `env`.
fn nextr(args: &[&str], env: &[(&str, &str)]) -> Output {
    let home = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nextr"));
    cmd.args(args)
        .stdin(Stdio::null())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .envs(env.iter().copied());
    cmd.output().unwrap()
}

/// Fake credentials and a region: what a configured machine has.
const CREDENTIALS: &[(&str, &str)] = &[
    ("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEEXAMPLE00"),
    ("AWS_SECRET_ACCESS_KEY", "testing"),
    ("AWS_REGION", "us-east-1"),
    // One attempt: a refused connection is retried with backoff otherwise (seconds).
    ("AWS_MAX_ATTEMPTS", "1"),
];

/// Asserts `nextr` failed with a short error: at most three lines, the first naming the
/// failed call (`reading IAM role …`, `listing HTTP APIs`), each of `wanted` present, and
/// nothing of the SDK's debug output.
fn short_error(o: &Output, wanted: &[&str]) -> String {
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    // Shown with `--nocapture`: what a user reads.
    eprintln!("{err}");
    assert_eq!(o.status.code(), Some(1), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert!(
        (1..=3).contains(&lines.len()),
        "{} lines:\n{err}",
        lines.len()
    );
    assert!(
        lines[0].starts_with("error: ") && lines[0].contains(" failed: "),
        "the first line names the failed call:\n{err}"
    );
    assert!(
        ["reading ", "listing "].iter().any(|op| err.contains(op)),
        "names the operation:\n{err}"
    );
    for bad in [
        "DispatchFailure",
        "ConnectorError",
        "ServiceError",
        "{",
        "}",
    ] {
        assert!(!err.contains(bad), "`{bad}` in:\n{err}");
    }
    for w in wanted {
        assert!(err.contains(w), "`{w}` missing from:\n{err}");
    }
    err
}

fn dir(app: &TestApp) -> String {
    app.dir().to_str().unwrap().to_string()
}

#[test]
fn no_credentials_at_all() {
    let app = TestApp::new("shop", ROUTES);
    let d = dir(&app);

    // No region anywhere: said before any call.
    let o = nextr(&["status", &d], &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("no AWS region") && err.contains("AWS_REGION"),
        "{err}"
    );

    for command in ["status", "deploy"] {
        // Not on EC2: an instance role found through the metadata endpoint would be credentials.
        let o = nextr(
            &[command, &d, "--region", "eu-west-1"],
            &[("AWS_EC2_METADATA_DISABLED", "true")],
        );
        let err = short_error(
            &o,
            &[
                "no AWS credentials found",
                "help: ",
                "AWS_PROFILE",
                "aws configure",
                "AWS_ACCESS_KEY_ID",
            ],
        );
        assert_eq!(err.lines().count(), 2, "{err}");
    }
}

#[test]
fn an_endpoint_nobody_listens_on() {
    let app = TestApp::new("shop", ROUTES);
    let d = dir(&app);
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let mut env = CREDENTIALS.to_vec();
    env.push(("AWS_ENDPOINT_URL", &endpoint));
    for command in ["status", "deploy"] {
        let o = nextr(&[command, &d], &env);
        short_error(
            &o,
            &[
                "cannot connect to AWS: ",
                "Connection refused",
                "help: ",
                "AWS_ENDPOINT_URL",
                "AWS_REGION",
            ],
        );
    }
}

#[test]
fn moto_refusing_the_credentials() {
    // moto checks every request's keys against its IAM users (none exist) when told to.
    let moto = MotoServer::start_with_env(&[("INITIAL_NO_AUTH_ACTION_COUNT", "0")]);
    let app = TestApp::new("shop", ROUTES);
    let d = dir(&app);
    let endpoint = moto.endpoint();
    let mut env = CREDENTIALS.to_vec();
    env.push(("AWS_ENDPOINT_URL", &endpoint));
    for command in ["status", "deploy"] {
        let o = nextr(&[command, &d], &env);
        short_error(
            &o,
            &[
                "security token included in the request is invalid",
                "help: AWS does not accept these credentials",
                "AWS_PROFILE",
            ],
        );
    }
}

#[test]
fn moto_answering_an_unknown_region_with_a_page() {
    // moto answers a region it does not know with an HTML 500 page.
    let moto = MotoServer::start();
    let app = TestApp::new("shop", ROUTES);
    let d = dir(&app);
    let endpoint = moto.endpoint();
    let mut env = CREDENTIALS.to_vec();
    env.push(("AWS_ENDPOINT_URL", &endpoint));
    for command in ["status", "deploy"] {
        let o = nextr(&[command, &d, "--region", "xx-nowhere-9"], &env);
        short_error(
            &o,
            &[
                "answered HTTP 500, not an AWS API answer",
                "help: check the region",
            ],
        );
    }
}
