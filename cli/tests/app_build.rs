//! App Router route files (`app/**/route.rs`) through the whole pipeline: `nextr build
//! --debug` of an app with Pages and App routes (a static App route at `/`, a dynamic one
//! outside `/api`, a `force-static` GET-only route prerendered at build, a file with `get`
//! and `post`), its manifest (routers, functions, config, `prerendered.json` in the one zip
//! that prerenders), then `nextr dev` serving the build folder over real HTTP.

#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

mod support;

use std::fs;
use std::io::Read;

use nextr::config::Dynamic;
use nextr::manifest::{Manifest, PRERENDERED_FILE};
use nextr::routing::Router;
use serde_json::{json, Value};
use support::apps::{TestApp, HELLO};
use support::dev::Dev;

/// The App routes, each a file of the test app.
const APP_ROUTES: &[(&str, &str)] = &[
    (
        "app/route.rs",
        r#"use nextr::app::prelude::*;

pub async fn get() -> Response {
    Response::text("root")
}
"#,
    ),
    (
        "app/hooks/deliver/[id]/route.rs",
        r#"use nextr::app::prelude::*;

pub async fn get(req: NextRequest, ctx: RouteContext) -> Response {
    Response::json(&json!({
        "id": ctx.param("id"),
        "q": req.next_url().search(),
    }))
}
"#,
    ),
    (
        "app/about/route.rs",
        r#"//! Prerendered at build: every request gets the body of that one call.
use std::sync::atomic::{AtomicU32, Ordering};

use nextr::app::prelude::*;

nextr::config! {
    dynamic: "force-static",
}

static CALLS: AtomicU32 = AtomicU32::new(0);

pub async fn get(req: NextRequest) -> Response {
    let n = CALLS.fetch_add(1, Ordering::SeqCst) + 1;
    Response::text(format!("call {n}, query {:?}, env {}", req.next_url().search(), std::env::var("GREETING").unwrap_or_default()))
}
"#,
    ),
    (
        "app/items/route.rs",
        r#"use nextr::app::prelude::*;

pub async fn get(_req: NextRequest) -> Response {
    Response::json(&json!(["a", "b"]))
}

pub async fn post(mut req: NextRequest) -> Result<Response> {
    let body: serde_json::Value = req.json().await?;
    Ok(Response::json(&json!({ "made": body })).status(201))
}
"#,
    ),
];

/// The app: one Pages route beside the App routes, and an `[env]` the prerender reads.
fn app() -> TestApp {
    let app = TestApp::new("mixed");
    app.write("api/hello.rs", HELLO);
    for (file, text) in APP_ROUTES {
        app.write(file, text);
    }
    let toml = fs::read_to_string(app.path().join("nextr.toml")).unwrap();
    app.write(
        "nextr.toml",
        &format!("{toml}[env]\nGREETING = \"hello\"\n"),
    );
    app
}

/// The names of a zip's entries, and the content of `prerendered.json` if it has one.
fn zip_entries(path: &std::path::Path) -> (Vec<String>, Option<Value>) {
    let mut archive = zip::ZipArchive::new(fs::File::open(path).unwrap()).unwrap();
    let names = archive.file_names().map(str::to_owned).collect();
    let prerendered = archive.by_name(PRERENDERED_FILE).ok().map(|mut f| {
        let mut text = String::new();
        f.read_to_string(&mut text).unwrap();
        serde_json::from_str(&text).unwrap()
    });
    (names, prerendered)
}

fn route<'m>(manifest: &'m Manifest, page: &str) -> &'m nextr::manifest::ManifestRoute {
    manifest
        .routes
        .iter()
        .find(|r| r.page == page)
        .unwrap_or_else(|| panic!("no route {page}"))
}

#[test]
fn app_routes_build_prerender_and_serve() {
    let app = app();
    let out = app.build_output();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("○ /about prerendered"), "{stderr}");
    assert_eq!(stderr.matches("prerendered").count(), 1, "{stderr}");
    // Five routes and the `$default` function, each counted once.
    assert!(stderr.contains("Building 5 routes of"), "{stderr}");
    assert!(stderr.contains("[6/6] "), "{stderr}");
    assert!(stderr.contains("/6] compiled $default ("), "{stderr}");
    let manifest = app.manifest();

    // The manifest: every route with its router, each its own function.
    let routers: Vec<(&str, Router)> = manifest
        .routes
        .iter()
        .map(|r| (r.page.as_str(), r.router))
        .collect();
    for (page, router) in [
        ("/", Router::App),
        ("/about", Router::App),
        ("/api/hello", Router::Pages),
        ("/hooks/deliver/[id]", Router::App),
        ("/items", Router::App),
    ] {
        assert!(routers.contains(&(page, router)), "{page}: {routers:?}");
    }
    assert_eq!(manifest.routes.len(), 5, "{routers:?}");
    let names: std::collections::HashSet<&str> =
        manifest.functions().map(|f| f.name.as_str()).collect();
    assert_eq!(names.len(), 6, "one function per route plus $default");
    assert_eq!(
        route(&manifest, "/about").config.dynamic,
        Some(Dynamic::ForceStatic)
    );
    assert_eq!(route(&manifest, "/").route_keys, ["ANY /"]);

    // Only the prerendered route's zip carries the build-time response, made by its own
    // binary with the function's environment and Next's query-less synthetic request.
    for r in &manifest.routes {
        let f = r.function.as_ref().unwrap();
        let (entries, prerendered) = zip_entries(&app.out().join(&f.bundle));
        assert_eq!(entries[0], "bootstrap", "{}", r.page);
        if r.page == "/about" {
            assert_eq!(entries, ["bootstrap", PRERENDERED_FILE]);
            let p = prerendered.unwrap();
            assert_eq!(p["status"], 200, "{p}");
            let body = base64_decode(p["body_base64"].as_str().unwrap());
            assert_eq!(body, "call 1, query \"\", env hello");
        } else {
            assert_eq!(entries, ["bootstrap"], "{}", r.page);
        }
    }

    // Served: the build folder as it is, no rebuild.
    let dev = Dev::start(&app.out(), &[]);
    let hello = dev.get("/api/hello");
    assert_eq!(hello.status, 200);
    assert_eq!(hello.json(), json!({ "message": "Hello from Next.js!" }));

    let root = dev.get("/?q=1");
    assert_eq!((root.status, root.text()), (200, "root".to_owned()));

    let hook = dev.get("/hooks/deliver/42?x=1");
    assert_eq!(hook.status, 200, "{}", hook.text());
    assert_eq!(hook.json(), json!({ "id": "42", "q": "?x=1" }));

    for target in ["/about", "/about?x=1", "/about?y=2"] {
        let about = dev.get(target);
        assert_eq!(about.status, 200, "{target}: {}", about.text());
        assert_eq!(about.text(), "call 1, query \"\", env hello", "{target}");
    }

    let items = dev.get("/items");
    assert_eq!(items.json(), json!(["a", "b"]));
    let made = dev.request(
        "POST",
        "/items",
        &[("content-type", "application/json")],
        br#"{"name":"c"}"#,
    );
    assert_eq!(made.status, 201, "{}", made.text());
    assert_eq!(made.json(), json!({ "made": { "name": "c" } }));
    let deleted = dev.request("DELETE", "/items", &[], b"");
    assert_eq!(deleted.status, 405);
    let options = dev.request("OPTIONS", "/items", &[], b"");
    assert_eq!(options.status, 204);
    assert_eq!(options.header("allow"), Some("GET, HEAD, OPTIONS, POST"));
}

#[test]
fn a_failing_prerender_fails_the_build_naming_the_route() {
    let app = TestApp::new("badstatic");
    app.write(
        "app/broken/route.rs",
        r#"use nextr::app::prelude::*;

nextr::config! { revalidate: 60 }

pub async fn get() -> Result<Response> {
    Err(nextr::Error::msg("the database is not there at build time"))
}
"#,
    );
    let out = app.build_output();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("app/broken/route.rs"), "{stderr}");
    assert!(
        stderr.contains("prerendering app/broken/route.rs failed"),
        "{stderr}"
    );
    assert!(!app.out().join("routes-manifest.json").exists());
}

#[test]
fn app_route_mistakes_are_reported_before_compiling() {
    let app = TestApp::new("badapp");
    app.write(
        "app/upper/route.rs",
        "use nextr::app::prelude::*;\npub async fn GET() -> Response { Response::text(\"x\") }\n",
    );
    app.write(
        "app/pages/route.rs",
        "use nextr::prelude::*;\nnextr::config! { dynamic: \"sometimes\" }\npub async fn handler(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> { Ok(()) }\n",
    );
    let out = app.build_output();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    for expected in [
        "rename `GET` to `get`",
        "can't recognize the exported `dynamic` field",
        "`sometimes`",
        "App Router route file",
        "app/upper/route.rs",
        "app/pages/route.rs",
    ] {
        assert!(stderr.contains(expected), "{expected}:\n{stderr}");
    }
    // Nothing was compiled: no bundle crate binaries for this app.
    assert!(!app.out().exists());
}

/// Standard base64 (what `body_base64` holds), decoded to text.
fn base64_decode(text: &str) -> String {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap_or_else(|e| panic!("{text:?} is not base64: {e}"));
    String::from_utf8(bytes).unwrap()
}

#[test]
fn nextr_dev_builds_app_routes_and_rebuilds_when_one_is_edited() {
    let app = TestApp::new("devedit");
    let v1 = "use nextr::app::prelude::*;\n\npub async fn get() -> Response {\n    Response::text(\"v1\")\n}\n";
    app.write("app/hooks/[id]/route.rs", v1);
    let dev = Dev::start(app.path(), &[]);
    let first = dev.get("/hooks/7");
    assert_eq!((first.status, first.text()), (200, "v1".to_owned()));

    app.write("app/hooks/[id]/route.rs", &v1.replace("v1", "v2"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(600);
    loop {
        let r = dev.get("/hooks/7");
        if r.status == 200 && r.text() == "v2" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the edit under app/ was not picked up:\n{}",
            dev.output()
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

#[test]
fn an_app_folder_added_while_serving_is_built_and_watched() {
    let app = TestApp::new("grow");
    app.write("api/hello.rs", HELLO);
    let dev = Dev::start(app.path(), &[]);
    assert_eq!(dev.get("/api/hello").status, 200);
    assert_eq!(dev.get("/").status, 404);

    let wait_for = |target: &str, body: &str| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(600);
        loop {
            let r = dev.get(target);
            if r.status == 200 && r.text() == body {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{target} never answered {body:?}:\n{}",
                dev.output()
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    };
    let root = "use nextr::app::prelude::*;\n\npub async fn get() -> Response {\n    Response::text(\"v1\")\n}\n";
    app.write("app/route.rs", root);
    wait_for("/", "v1");
    // The new folder is watched from then on.
    app.write("app/route.rs", &root.replace("v1", "v2"));
    wait_for("/", "v2");
}
