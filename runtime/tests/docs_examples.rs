//! The route files of `examples/docs` (the Next.js "API Routes" docs, in Rust) compile against
//! the runtime and answer as the docs say; the generated-main shape builds and runs.

use nextr::testing::TestRoute;
use serde_json::json;

#[path = "../examples/routes/configured.rs"]
mod configured;
#[path = "../../examples/docs/api/hello.rs"]
mod hello;
#[path = "../../examples/docs/api/note/[[...slug]].rs"]
mod note;
#[path = "../../examples/docs/api/post/[...slug].rs"]
mod post_catch_all;
#[path = "../../examples/docs/api/post/create.rs"]
mod post_create;
#[path = "../../examples/docs/api/post/[pid].rs"]
mod post_pid;

#[tokio::test]
async fn hello() {
    let route = TestRoute::new("/api/hello", nextr::handler!(hello::handler));
    let res = route.get("/api/hello").send().await.unwrap();
    assert_eq!(res.status, 200);
    assert_eq!(res.text(), r#"{"message":"Hello from Next.js!"}"#);
    assert_eq!(
        res.header("content-type"),
        Some("application/json; charset=utf-8")
    );
}

#[tokio::test]
async fn post_pid() {
    let route = TestRoute::new("/api/post/[pid]", nextr::handler!(post_pid::handler));
    let res = route.get("/api/post/abc").send().await.unwrap();
    assert_eq!(res.text(), "Post: abc");
    let res = route.get("/api/post/a%20b?pid=zzz").send().await.unwrap();
    assert_eq!(res.text(), "Post: a b");
}

#[tokio::test]
async fn post_catch_all() {
    let route = TestRoute::new(
        "/api/post/[...slug]",
        nextr::handler!(post_catch_all::handler),
    );
    let res = route.get("/api/post/a/b/c").send().await.unwrap();
    assert_eq!(res.text(), "Post: a, b, c");
}

#[tokio::test]
async fn post_create() {
    let route = TestRoute::new("/api/post/create", nextr::handler!(post_create::handler));
    let res = route.post("/api/post/create").send().await.unwrap();
    assert_eq!(
        res.json::<serde_json::Value>().unwrap(),
        json!({ "created": true })
    );
}

#[tokio::test]
async fn optional_catch_all() {
    let route = TestRoute::new("/api/note/[[...slug]]", nextr::handler!(note::handler));
    let res = route.get("/api/note").send().await.unwrap();
    assert_eq!(res.json::<serde_json::Value>().unwrap(), json!({}));
    let res = route.get("/api/note/a/b").send().await.unwrap();
    assert_eq!(
        res.json::<serde_json::Value>().unwrap(),
        json!({ "slug": ["a", "b"] })
    );
}

#[tokio::test]
async fn configured_route_uses_its_config() {
    let config = configured::config();
    assert_eq!(config.max_duration, Some(10));
    let route = TestRoute::new("/api/configured/[id]", nextr::handler!(configured::handler))
        .with_config(config);
    let big = "x".repeat(512_001);
    let res = route
        .post("/api/configured/7")
        .header("content-type", "text/plain")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status, 413);
    assert_eq!(res.text(), "Body exceeded 500kb limit");
    let res = route
        .post("/api/configured/7")
        .json(&json!({ "a": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.json::<serde_json::Value>().unwrap(),
        json!({ "query": { "id": "7" }, "body": { "a": 1 } })
    );
}

/// The generated main, built by cargo as an example, refuses to run outside Lambda with a
/// clear message and a failure code instead of panicking.
#[test]
fn generated_main_outside_lambda_exits_cleanly() {
    let exe = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/debug/examples/generated_main");
    if !exe.exists() {
        eprintln!("skipped: {} not built", exe.display());
        return;
    }
    let out = std::process::Command::new(exe)
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not running inside AWS Lambda"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// The same, in process: `start` without a Runtime API returns a failure code.
#[test]
fn start_outside_lambda_returns_failure() {
    std::env::remove_var("AWS_LAMBDA_RUNTIME_API");
    let code = nextr::lambda::start(
        nextr::RouteSpec {
            page: "/api/post/[pid]",
            file: "api/post/[pid].rs",
            config: nextr::config::RouteConfig::default(),
        },
        nextr::handler!(post_pid::handler),
    );
    assert_eq!(code, std::process::ExitCode::FAILURE);
}
