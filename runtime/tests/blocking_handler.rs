//! A handler that blocks its thread past `max_duration` still gets the documented 504: the
//! runtime's watchdog posts it to the Runtime API and exits the process (the blocked thread
//! cannot be stopped). The function runs in a child process (this test binary again, running
//! `child_function`), since it exits; the parent is its Runtime API.

mod support;

use std::io::{BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::mpsc::channel;
use std::time::{Duration, Instant};

use nextr::prelude::*;
use serde_json::Value as Json;

mod route {
    use super::*;

    nextr::config! { max_duration: 1 }

    pub async fn handler(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
        // Blocks the runtime's only thread, and with it tokio's timer.
        std::thread::sleep(Duration::from_secs(4));
        res.send("too late")
    }
}

const CHILD: &str = "NEXTR_TEST_BLOCKING_CHILD";

/// The function itself, when the parent runs this binary as its child.
#[test]
fn child_function() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    nextr::lambda::start(
        nextr::RouteSpec {
            page: "/api/loop/[[...slug]]",
            file: "api/loop/[[...slug]].rs",
            config: route::config(),
        },
        nextr::handler!(route::handler),
    );
}

#[test]
fn a_handler_blocking_its_thread_gets_504_and_the_process_exits() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let event = std::fs::read_to_string(format!(
        "{}/tests/fixtures/events/v2-named-stage.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture");
    let (posted_tx, posted_rx) = channel::<(String, Json)>();
    std::thread::spawn(move || {
        let mut sent = false;
        for stream in listener.incoming().flatten() {
            let Ok(mut writer) = stream.try_clone() else {
                continue;
            };
            let mut reader = BufReader::new(stream);
            let event = event.clone();
            let posted = posted_tx.clone();
            let first = !sent;
            sent = true;
            std::thread::spawn(move || {
                while let Some((method, path, body)) = support::read_request(&mut reader) {
                    if method == "GET" && path.ends_with("/invocation/next") {
                        if !first {
                            // One event only: later polls wait, as Lambda's do.
                            std::thread::sleep(Duration::from_secs(60));
                            return;
                        }
                        let _ = writer
                            .write_all(support::next_event_response("req-1", &event).as_bytes());
                    } else {
                        let _ =
                            write!(writer, "HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n");
                        let body = serde_json::from_slice(&body).unwrap_or(Json::Null);
                        let _ = posted.send((path, body));
                    }
                }
            });
        }
    });

    let start = Instant::now();
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "child_function",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "loop")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the function");

    let (path, res) = posted_rx
        .recv_timeout(Duration::from_secs(20))
        .expect("the function answered");
    let took = start.elapsed();
    assert_eq!(path, "/2018-06-01/runtime/invocation/req-1/response");
    assert_eq!(res["statusCode"], 504, "{res}");
    assert!(took < Duration::from_secs(3), "answered after {took:?}");
    let body: Json = serde_json::from_str(res["body"].as_str().expect("body")).expect("json");
    assert_eq!(body["maxDuration"], 1);
    assert_eq!(
        body["message"],
        "The route /api/loop/[[...slug]] did not respond within its time limit of 1 s."
    );

    // The process exits rather than serve with a thread it cannot get back.
    let exit = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the function did not exit"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!exit.success());
    let mut stderr = String::new();
    if let Some(mut err) = child.stderr.take() {
        let _ = err.read_to_string(&mut stderr);
    }
    assert!(stderr.contains("blocks its thread"), "{stderr}");
}
