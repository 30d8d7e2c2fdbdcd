//! `proxy.rs` through `nextr build`: the real command on a tiny app with a Pages route, an App
//! route and a proxy, checking the manifest's `proxy`, the `proxy.json` every zip carries, that
//! adding a route changes only `proxy.json` (not the binaries), `middleware.rs` with Next's
//! warning, and the errors that stop a build before cargo.
//!
//! The app links a stand-in for the `nextr` runtime ([`STUB_LIB`]) that has only the items the
//! generated `main`s name, with the signatures the codegen snapshots show: what this test
//! checks is the build (discovery, analysis, codegen, cargo, zips, manifest), not the proxy's
//! execution, and the stand-in compiles in a second where the real runtime's dependencies
//! would take minutes and gigabytes. The proxy's execution is the runtime's tests' (the
//! `_proxied` entry points and `proxy_handler!` come with issue 14's runtime part).

#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

mod support;

use std::fs;
use std::io::Read;
use std::path::Path;

use nextr::manifest::{Manifest, ManifestProxy, ProxyBundle, ProxyRoute, PROXY_FILE};
use nextr::proxy::matcher::{Condition, MatcherSpec};
use nextr::routing::Router;
use support::apps::TestApp;

/// The stand-in runtime's `Cargo.toml`: the features the bundle crate enables.
const STUB_CARGO: &str = r#"[package]
name = "nextr"
version = "0.1.0"
edition = "2021"
publish = false

[features]
default = ["lambda"]
lambda = []
proxy = []

[workspace]
"#;

/// The stand-in runtime: every entry point prints what it was given and exits.
const STUB_LIB: &str = r#"//! A stand-in for the `nextr` runtime: the items generated `main`s name, nothing more.
#![allow(dead_code)]

use std::process::ExitCode;

pub type Result<T> = std::result::Result<T, ()>;
pub struct NextApiRequest;
pub struct NextApiResponse;

pub mod config {
    #[derive(Default)]
    pub struct RouteConfig;
}

pub struct RouteSpec {
    pub page: &'static str,
    pub file: &'static str,
    pub config: config::RouteConfig,
}

pub mod app {
    pub struct NextRequest;
    pub struct Response;

    #[derive(Default)]
    pub struct AppHandlers {
        pub get: Option<&'static str>,
        pub head: Option<&'static str>,
        pub post: Option<&'static str>,
        pub put: Option<&'static str>,
        pub delete: Option<&'static str>,
        pub patch: Option<&'static str>,
        pub options: Option<&'static str>,
    }

    pub struct AppRoute {
        pub handlers: AppHandlers,
        pub pages_router: bool,
    }
}

#[macro_export]
macro_rules! config {
    ($($t:tt)*) => {};
}

#[macro_export]
macro_rules! handler {
    ($f:path) => {{
        let _ = $f;
        stringify!($f)
    }};
}

#[macro_export]
macro_rules! app_handler {
    ($f:path $(, $form:ident)?) => {{
        let _ = $f;
        stringify!($f)
    }};
}

#[macro_export]
macro_rules! proxy_handler {
    ($f:path) => {{
        let _ = $f;
        stringify!($f)
    }};
}

pub mod lambda {
    use super::*;

    pub fn start_proxied(spec: RouteSpec, handler: &str, proxy: &str) -> ExitCode {
        println!("{} {handler} {proxy}", spec.page);
        ExitCode::SUCCESS
    }

    pub fn start_app_proxied(spec: RouteSpec, route: app::AppRoute, proxy: &str) -> ExitCode {
        println!("{} {:?} {proxy}", spec.page, route.handlers.get);
        ExitCode::SUCCESS
    }

    pub fn start_fallback_proxied(proxy: &str) -> ExitCode {
        println!("$default {proxy}");
        ExitCode::SUCCESS
    }
}
"#;

/// A Pages route, written against the stand-in.
const HELLO: &str = "use nextr::*;\n\npub async fn handler(_req: &mut NextApiRequest, _res: &mut NextApiResponse) -> nextr::Result<()> {\n    Ok(())\n}\n";

/// An App route with two methods (not prerendered), written against the stand-in.
const ITEMS: &str = "use nextr::app::*;\n\npub async fn get(_req: NextRequest) -> Response {\n    Response\n}\n\npub async fn post(_req: NextRequest) -> Response {\n    Response\n}\n";

/// The proxy: a matcher with a condition, and its function.
const PROXY: &str = r#"//! The test app's proxy.
nextr::config! {
    matcher: ["/api/:path*", { source: "/items", has: [{ type: "header", key: "x-go" }] }],
}

pub async fn proxy(_req: nextr::app::NextRequest) {}
"#;

/// The app, its package depending on the stand-in at `stub`.
fn app(stub: &Path) -> TestApp {
    fs::create_dir_all(stub.join("src")).unwrap();
    fs::write(stub.join("Cargo.toml"), STUB_CARGO).unwrap();
    fs::write(stub.join("src/lib.rs"), STUB_LIB).unwrap();
    let app = TestApp::new("px");
    app.write(
        "Cargo.toml",
        &format!(
            "[package]\nname = \"test-app\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n[dependencies]\nnextr = {{ path = {:?} }}\n\n[workspace]\n",
            stub.display().to_string()
        ),
    );
    // The workspace's lock file names the real runtime's dependencies: none are used here.
    app.remove("Cargo.lock");
    app.write("api/hello.rs", HELLO);
    app.write("app/items/route.rs", ITEMS);
    app.write("proxy.rs", PROXY);
    app
}

/// The entries of a zip, and its `bootstrap` and `proxy.json`.
fn open(path: &Path) -> (Vec<String>, Vec<u8>, Option<ProxyBundle>) {
    let mut archive = zip::ZipArchive::new(fs::File::open(path).unwrap()).unwrap();
    let names = archive.file_names().map(str::to_owned).collect();
    let mut bootstrap = Vec::new();
    archive
        .by_name("bootstrap")
        .unwrap()
        .read_to_end(&mut bootstrap)
        .unwrap();
    let proxy = archive.by_name(PROXY_FILE).ok().map(|mut f| {
        let mut text = String::new();
        f.read_to_string(&mut text).unwrap();
        ProxyBundle::from_json(&text).unwrap()
    });
    (names, bootstrap, proxy)
}

/// What `proxy.json` should say for this manifest: its routes and function names.
fn expected_bundle(manifest: &Manifest) -> ProxyBundle {
    let proxy = manifest.proxy.as_ref().expect("the manifest has a proxy");
    ProxyBundle {
        file: proxy.file.clone(),
        matcher: proxy.matcher.clone(),
        pages_router: true,
        routes: manifest
            .routes
            .iter()
            .map(|r| ProxyRoute {
                page: r.page.clone(),
                router: r.router,
                function: r.function.as_ref().map(|f| f.name.clone()),
            })
            .collect(),
        fallback: manifest.fallback.name.clone(),
    }
}

/// The zip of the route `page`.
fn zip_of(app: &TestApp, manifest: &Manifest, page: &str) -> std::path::PathBuf {
    let route = manifest.routes.iter().find(|r| r.page == page).unwrap();
    app.out()
        .join(&route.function.as_ref().expect("built").bundle)
}

/// What a bootstrap prints when run: the stand-in runtime says which entry point its `main`
/// called, with what.
fn run(bootstrap: &[u8]) -> String {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bootstrap");
    fs::write(&path, bootstrap).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    let out = std::process::Command::new(&path).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
}

/// Output as text.
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_proxy_goes_into_every_bundle_and_only_its_json_follows_the_routes() {
    let stub = tempfile::tempdir().unwrap();
    let app = app(stub.path());
    let matcher = vec![
        MatcherSpec::source("/api/:path*"),
        MatcherSpec {
            source: "/items".into(),
            has: vec![Condition::Header {
                key: "x-go".into(),
                value: None,
            }],
            missing: Vec::new(),
        },
    ];
    let line = "ƒ Proxy (Middleware)  proxy.rs  matcher: /api/:path*, /items (has header x-go)";

    // `nextr routes` reads and shows it, without building.
    let routes = app.nextr().arg("routes").arg(app.path()).output().unwrap();
    assert!(routes.status.success(), "{}", text(&routes.stderr));
    assert!(
        text(&routes.stdout).contains(line),
        "{}",
        text(&routes.stdout)
    );

    // The build: the manifest records it, the summary shows it.
    let out = app.build_output();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(line), "{}", text(&out.stdout));
    assert!(
        !text(&out.stderr).contains("deprecated"),
        "{}",
        text(&out.stderr)
    );
    let manifest = app.manifest();
    assert_eq!(
        manifest.proxy,
        Some(ManifestProxy {
            file: "proxy.rs".into(),
            matcher: Some(matcher.clone()),
        })
    );
    let routers: Vec<(&str, Router)> = manifest
        .routes
        .iter()
        .map(|r| (r.page.as_str(), r.router))
        .collect();
    assert_eq!(
        routers,
        [("/api/hello", Router::Pages), ("/items", Router::App)]
    );

    // Every zip, each route's and `$default`'s, carries the same proxy.json.
    let expected = expected_bundle(&manifest);
    assert_eq!(expected.matcher, Some(matcher));
    assert_eq!(expected.routes.len(), 2);
    for f in manifest.functions() {
        let (names, _, proxy) = open(&app.out().join(&f.bundle));
        assert_eq!(names, ["bootstrap", PROXY_FILE], "{}", f.name);
        assert_eq!(proxy.as_ref(), Some(&expected), "{}", f.name);
    }
    let hello_zip = zip_of(&app, &manifest, "/api/hello");
    let (_, hello_bootstrap, _) = open(&hello_zip);
    // Each binary's `main` called its `_proxied` entry point with the proxy.
    assert_eq!(
        run(&hello_bootstrap),
        "/api/hello route::handler proxy::proxy\n"
    );
    let (_, items, _) = open(&zip_of(&app, &manifest, "/items"));
    assert_eq!(run(&items), "/items Some(\"route::get\") proxy::proxy\n");
    let (_, fallback, _) = open(&app.out().join(&manifest.fallback.bundle));
    assert_eq!(run(&fallback), "$default proxy::proxy\n");

    // A new route: the other functions' binaries stay as they were, their proxy.json lists it.
    app.write("api/extra.rs", HELLO);
    let out = app.build_output();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let grown = app.manifest();
    assert_eq!(grown.routes.len(), 3);
    let expected = expected_bundle(&grown);
    assert!(expected.routes.iter().any(|r| r.page == "/api/extra"));
    for f in grown.functions() {
        let (_, _, proxy) = open(&app.out().join(&f.bundle));
        assert_eq!(proxy.as_ref(), Some(&expected), "{}", f.name);
    }
    let grown_zip = zip_of(&app, &grown, "/api/hello");
    assert_ne!(grown_zip, hello_zip, "the zip changed with its proxy.json");
    let (_, bootstrap, _) = open(&grown_zip);
    assert!(bootstrap == hello_bootstrap, "the binary did not change");

    // `middleware.rs`, Next's deprecated name: built with Next's warning, its own function.
    app.remove("proxy.rs");
    app.write(
        "middleware.rs",
        &PROXY.replace("pub async fn proxy", "pub async fn middleware"),
    );
    let out = app.build_output();
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "warning: The \"middleware\" file convention is deprecated. Please use \"proxy\" instead."
        ),
        "{stderr}"
    );
    let manifest = app.manifest();
    assert_eq!(manifest.proxy.as_ref().unwrap().file, "middleware.rs");
    for f in manifest.functions() {
        let (_, bootstrap, proxy) = open(&app.out().join(&f.bundle));
        assert_eq!(proxy.unwrap().file, "middleware.rs", "{}", f.name);
        assert!(
            run(&bootstrap).ends_with(" proxy::middleware\n"),
            "{}",
            f.name
        );
    }

    // Both files: Next's error, before cargo; the build folder is left as it was.
    app.write("proxy.rs", PROXY);
    let out = app.build_output();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("Both middleware file \"./middleware.rs\" and proxy file \"./proxy.rs\" are detected. Please use \"./proxy.rs\" only."),
        "{stderr}"
    );
    assert_eq!(app.manifest(), manifest);

    // A proxy's problems come with the route files', all at once, before cargo.
    app.remove("middleware.rs");
    app.write(
        "proxy.rs",
        "nextr::config! { matcher: \"api\", max_duration: 10 }\npub fn proxy() {}\n",
    );
    app.write("api/extra.rs", "pub async fn handlr() {}\n");
    let out = app.build_output();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    for expected in [
        "4 problems in 1 route file and proxy.rs",
        "the route file has no `pub async fn handler`",
        "/proxy contains invalid middleware config: source must start with / at \"matcher[0]\"",
        "Route segment config is not allowed in Proxy file at \"./proxy.rs\": `max_duration`",
        "`proxy` must be an `async fn`",
    ] {
        assert!(stderr.contains(expected), "{expected}:\n{stderr}");
    }
    assert_eq!(app.manifest(), manifest);
}
