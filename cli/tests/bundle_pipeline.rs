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

#[test]
fn an_app_is_built_into_checked_reproducible_bundles() {
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
    write(
        &app.join("api/hello.rs"),
        "use nextr::prelude::*;\n\npub async fn handler(_req: &mut NextApiRequest, _res: &mut NextApiResponse) -> nextr::Result<()> {\n    let _ = shop::greeting();\n    Ok(())\n}\n",
    );
    write(
        &app.join("api/post/[pid].rs"),
        "use nextr::prelude::*;\n\nnextr::config! { max_duration: 10 }\n\npub async fn handler(_: &mut NextApiRequest, _: &mut NextApiResponse) -> Result<()> {\n    Ok(())\n}\n",
    );
    write(&app.join("nextr.toml"), "app = \"shop\"\n");

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
