//! The build pipeline end to end, with a stand-in runtime crate that implements the generated
//! `main`'s side of the contract (`nextr::lambda::start`, `RouteSpec`, `handler!`, `config!`):
//! discover → scan → analyse → generate → one `cargo build` → ELF check → zip.
//!
//! It proves that the generated crate compiles, that route files can use the app's own lib,
//! that the `lambda` feature is switched on, and that each binary runs with its own route
//! baked in. It costs one small offline cargo build (no dependencies).

use std::fs;
use std::path::Path;
use std::process::Command;

use nextr::manifest::Architecture;
use nextr_cli::analysis::analyze_routes;
use nextr_cli::bundle::codegen::{self, BundleRoute, BundleSpec, Profiles};
use nextr_cli::bundle::{elf, function_names, zip};
use nextr_cli::project::{route_table, Project};

const RUNTIME_TOML: &str = r#"[package]
name = "nextr"
version = "0.1.0"
edition = "2021"

[features]
default = ["lambda"]
lambda = []
"#;

const RUNTIME_LIB: &str = r#"
pub mod config {
    #[derive(Debug, Default)]
    pub struct RouteConfig { pub max_duration: Option<u32> }
}
pub struct NextApiRequest;
pub struct NextApiResponse;
#[derive(Debug)]
pub struct Error;
pub type Result<T = (), E = Error> = std::result::Result<T, E>;
pub mod prelude { pub use crate::{NextApiRequest, NextApiResponse, Result}; }
pub struct RouteSpec {
    pub page: &'static str,
    pub file: &'static str,
    pub config: config::RouteConfig,
}
#[macro_export]
macro_rules! config {
    (max_duration: $v:literal $(,)?) => {
        pub fn config() -> $crate::config::RouteConfig {
            $crate::config::RouteConfig { max_duration: Some($v) }
        }
    };
}
#[macro_export]
macro_rules! handler {
    ($f:path) => {{
        // Type-checks the handler's signature the way the real runtime must.
        fn _check<'a>(
            req: &'a mut $crate::NextApiRequest,
            res: &'a mut $crate::NextApiResponse,
        ) -> impl std::future::Future<Output = $crate::Result> + 'a {
            $f(req, res)
        }
        let _ = _check;
        $crate::lambda::Handler(stringify!($f))
    }};
}
#[cfg(feature = "lambda")]
pub mod lambda {
    pub struct Handler(pub &'static str);
    pub fn start(spec: crate::RouteSpec, handler: Handler) -> std::process::ExitCode {
        println!("{} | {} | {:?} | {}", spec.page, spec.file, spec.config.max_duration, handler.0);
        std::process::ExitCode::SUCCESS
    }
}
"#;

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

/// A temp folder with the stand-in runtime and an app `shop` with two routes.
fn shop() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let runtime = tmp.path().join("nextr");
    write(&runtime.join("Cargo.toml"), RUNTIME_TOML);
    write(&runtime.join("src/lib.rs"), RUNTIME_LIB);

    let app = tmp.path().join("shop");
    write(
        &app.join("Cargo.toml"),
        &format!(
            "[package]\nname = \"shop\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
             [dependencies]\nnextr = {{ path = {:?}, default-features = false }}\n",
            runtime.display().to_string()
        ),
    );
    write(
        &app.join("src/lib.rs"),
        "pub fn greeting() -> &'static str { \"hi\" }\n",
    );
    write(&app.join("api/hello.rs"), HELLO);
    write(
        &app.join("api/post/[pid].rs"),
        "use nextr::prelude::*;\n\nnextr::config! { max_duration: 10 }\n\npub async fn handler(_: &mut NextApiRequest, _: &mut NextApiResponse) -> Result<()> {\n    Ok(())\n}\n",
    );
    write(&app.join("nextr.toml"), "app = \"shop\"\n");
    (tmp, app)
}

const HELLO: &str = "use nextr::prelude::*;\n\npub async fn handler(_req: &mut NextApiRequest, _res: &mut NextApiResponse) -> nextr::Result<()> {\n    let _ = shop::greeting();\n    Ok(())\n}\n";

#[test]
fn an_app_is_built_into_checked_reproducible_bundles() {
    let (tmp, app) = shop();
    let project = Project::discover(&app).unwrap();
    let table = route_table(&project.root).unwrap();
    let analyses = analyze_routes(&project.root, &table).unwrap();
    let names = function_names(&project.app, table.routes().iter().map(|r| r.page())).unwrap();
    let routes: Vec<BundleRoute> = table
        .routes()
        .iter()
        .zip(&analyses)
        .zip(&names)
        .map(|((route, analysis), name)| BundleRoute {
            page: route.page().to_owned(),
            file: route.file.clone(),
            function: name.clone(),
            declares_config: analysis.declares_config,
        })
        .collect();
    let profiles = Profiles::default();
    let krate = codegen::generate(&BundleSpec {
        app: &project.app,
        app_root: &project.root,
        package: &project.package,
        routes: &routes,
        profiles: &profiles,
    })
    .unwrap();
    let dir = codegen::bundle_dir(&project.package, &project.app);
    krate.write(&dir).unwrap();

    let target = tmp.path().join("target");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--offline", "--quiet", "--bins"])
        .arg("--manifest-path")
        .arg(dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        .status()
        .unwrap();
    assert!(status.success(), "cargo build of the bundle failed");

    let out = tmp.path().join(".nextr");
    for (route, name) in routes.iter().zip(&names) {
        let binary = target.join("debug").join(name);
        let run = Command::new(&binary).output().unwrap();
        let stdout = String::from_utf8_lossy(&run.stdout);
        let expected_config = if route.declares_config {
            "Some(10)"
        } else {
            "None"
        };
        assert_eq!(
            stdout.trim(),
            format!(
                "{} | {} | {expected_config} | route::handler",
                route.page, route.file
            )
        );

        // Built natively here: x86_64 on x86_64 hosts; the glibc verdict depends on the host.
        if cfg!(all(
            target_arch = "x86_64",
            target_os = "linux",
            target_env = "gnu"
        )) {
            let arch = match elf::check(&binary, &route.page, Architecture::X86_64) {
                Ok(info) => info.architecture,
                Err(elf::ElfError::GlibcTooNew { architecture, .. }) => architecture,
                Err(e) => panic!("{e}"),
            };
            assert_eq!(arch, Architecture::X86_64);
        }

        let first = zip::write_bundle(&out, name, &binary).unwrap();
        let second = zip::write_bundle(&out, name, &binary).unwrap();
        assert!(first.written && !second.written);
        assert_eq!(first.sha256, second.sha256);
    }

    // A second generation changes nothing on disk, so cargo's fingerprints stay warm.
    let again = krate.write(&dir).unwrap();
    assert!(again.written.is_empty() && again.removed.is_empty());
}

fn nextr(args: &[&std::ffi::OsStr]) -> std::process::Output {
    assert_cmd::Command::cargo_bin("nextr")
        .unwrap()
        .args(args)
        .env("CI", "true")
        .output()
        .unwrap()
}

fn mtime(path: &Path) -> std::time::SystemTime {
    fs::metadata(path).unwrap().modified().unwrap()
}

fn backdate(path: &Path) {
    let past = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
    fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(past)
        .unwrap();
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[test]
fn nextr_build_writes_bundles_and_manifest_and_keeps_them_on_failure() {
    use nextr::manifest::Manifest;
    use sha2::{Digest, Sha256};

    let (_tmp, app) = shop();
    let dir = app.as_os_str();
    let out = nextr(&[dir_arg("build"), dir, dir_arg("--debug")]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("Building 2 routes of shop for x86_64"),
        "{stderr}"
    );
    assert!(stdout.starts_with("Route            Kind     "), "{stdout}");
    assert!(stdout.contains("/api/post/[pid]  dynamic"), "{stdout}");
    assert!(stdout.contains("2 functions"), "{stdout}");

    let manifest_path = app.join(".nextr/routes-manifest.json");
    let manifest = Manifest::from_json(&fs::read_to_string(&manifest_path).unwrap()).unwrap();
    assert_eq!(manifest.app, "shop");
    let pages: Vec<&str> = manifest.routes.iter().map(|r| r.page.as_str()).collect();
    assert_eq!(pages, ["/api/hello", "/api/post/[pid]"]);
    for route in &manifest.routes {
        let f = route.function.as_ref().unwrap();
        let zip = fs::read(app.join(".nextr").join(&f.bundle)).unwrap();
        assert_eq!(f.sha256, nextr_cli::bundle::hex(&Sha256::digest(&zip)));
        assert_eq!(f.bytes, zip.len() as u64);
    }
    assert_eq!(manifest.routes[1].function.as_ref().unwrap().timeout_s, 10);
    // The CloudFormation template of the same build, with the manifest's route keys.
    let template_path = app.join(".nextr/template.json");
    let template: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&template_path).unwrap()).unwrap();
    let mut keys: Vec<String> = manifest
        .routes
        .iter()
        .flat_map(|r| r.route_keys.clone())
        .collect();
    keys.sort();
    assert_eq!(nextr_infra::template::route_keys(&template), keys);

    // Unchanged sources: nothing under .nextr is rewritten.
    let zips: Vec<_> = manifest
        .routes
        .iter()
        .map(|r| {
            app.join(".nextr")
                .join(&r.function.as_ref().unwrap().bundle)
        })
        .collect();
    for p in zips.iter().chain([&manifest_path, &template_path]) {
        backdate(p);
    }
    let stamps: Vec<_> = zips
        .iter()
        .chain([&manifest_path, &template_path])
        .map(|p| mtime(p))
        .collect();
    let again = nextr(&[dir_arg("build"), dir, dir_arg("--debug")]);
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stdout).contains("0 updated"));
    let after: Vec<_> = zips
        .iter()
        .chain([&manifest_path, &template_path])
        .map(|p| mtime(p))
        .collect();
    assert_eq!(stamps, after);

    // A route-file problem: every problem reported with a frame, nothing under .nextr touched.
    let manifest_before = fs::read(&manifest_path).unwrap();
    write(&app.join("api/bad.rs"), "fn handler() {}\n");
    let bad = nextr(&[dir_arg("build"), dir, dir_arg("--debug")]);
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr.contains("╭─[api/bad.rs:1:1]"), "{stderr}");
    assert!(
        stderr.contains("`handler` must be an `async fn`"),
        "{stderr}"
    );
    fs::remove_file(app.join("api/bad.rs")).unwrap();

    // A compile error inside a handler: rustc's error points at the route file itself.
    write(
        &app.join("api/hello.rs"),
        &HELLO.replace("let _ = shop::greeting();", "let x: u8 = \"no\";"),
    );
    let broken = nextr(&[dir_arg("build"), dir, dir_arg("--debug")]);
    let stderr = String::from_utf8_lossy(&broken.stderr);
    assert_eq!(broken.status.code(), Some(1));
    assert!(stderr.contains("mismatched types"), "{stderr}");
    assert!(
        stderr.contains(&format!("{}:4:", app.join("api/hello.rs").display())),
        "{stderr}"
    );
    assert!(!stderr.contains("src/bin/"), "{stderr}");
    assert_eq!(fs::read(&manifest_path).unwrap(), manifest_before);
    for (p, stamp) in zips.iter().zip(&stamps) {
        assert_eq!(mtime(p), *stamp);
    }

    // A deleted route: its zip goes, the manifest follows.
    write(&app.join("api/hello.rs"), HELLO);
    fs::remove_file(app.join("api/post/[pid].rs")).unwrap();
    let fewer = nextr(&[dir_arg("build"), dir, dir_arg("--debug")]);
    assert!(fewer.status.success());
    assert!(String::from_utf8_lossy(&fewer.stdout).contains("1 removed"));
    assert!(!zips[1].exists() && zips[0].exists());

    // arm64 without a cross toolchain fails up front and says what to install.
    let arm_std = Path::new(
        &String::from_utf8_lossy(
            &Command::new("rustc")
                .args(["--print", "sysroot"])
                .output()
                .unwrap()
                .stdout,
        )
        .trim()
        .to_owned(),
    )
    .join("lib/rustlib/aarch64-unknown-linux-gnu")
    .exists();
    if !arm_std {
        let arm = nextr(&[dir_arg("build"), dir, dir_arg("--arch"), dir_arg("arm64")]);
        let stderr = String::from_utf8_lossy(&arm.stderr);
        assert!(!arm.status.success());
        assert!(
            stderr.contains("rustup target add aarch64-unknown-linux-gnu"),
            "{stderr}"
        );
    }
}

fn dir_arg(s: &str) -> &std::ffi::OsStr {
    std::ffi::OsStr::new(s)
}
