//! `nextr new NAME`: a new app that builds and serves with no edits.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use nextr_cli::project::check_app_name;

use crate::cli::NewArgs;

/// Where this `nextr` binary was built from: when it is still a checkout of the nextr
/// repository, new apps depend on its runtime by path (the crate is not on crates.io yet).
const CLI_MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

/// The crates.io requirement new apps get outside a checkout.
const CRATES_IO_REQUIREMENT: &str = "0.1";

/// Names a package cannot take: Rust keywords, the standard crates, and the crates every app
/// depends on (a package cannot depend on a crate of its own name).
const RESERVED: &[&str] = &[
    "abstract",
    "alloc",
    "as",
    "async",
    "await",
    "become",
    "box",
    "break",
    "const",
    "continue",
    "core",
    "crate",
    "do",
    "dyn",
    "else",
    "enum",
    "extern",
    "false",
    "final",
    "fn",
    "for",
    "gen",
    "if",
    "impl",
    "in",
    "let",
    "loop",
    "macro",
    "match",
    "mod",
    "move",
    "mut",
    "nextr",
    "override",
    "priv",
    "proc_macro",
    "pub",
    "ref",
    "return",
    "self",
    "serde",
    "serde_json",
    "static",
    "std",
    "struct",
    "super",
    "test",
    "trait",
    "true",
    "try",
    "type",
    "typeof",
    "unsafe",
    "unsized",
    "use",
    "virtual",
    "where",
    "while",
    "yield",
];

/// Runs `nextr new`.
pub fn run(args: &NewArgs) -> anyhow::Result<ExitCode> {
    let dir = &args.path;
    let name = package_name(dir)?;
    if dir.exists() && fs::read_dir(dir).map_or(true, |mut d| d.next().is_some()) {
        bail!(
            "{} already exists and is not empty; choose another name or remove it",
            dir.display()
        );
    }
    let dependency = runtime_dependency(args.nextr_path.as_deref())?;
    for (path, contents) in files(&name, &dependency.spec) {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        fs::write(&path, contents).with_context(|| format!("cannot write {}", path.display()))?;
    }
    println!(
        "Created the nextr app `{name}` in {} ({})",
        dir.display(),
        dependency.description
    );
    println!();
    println!("Next:");
    println!("  cd {}", dir.display());
    println!("  nextr dev      # builds every route and serves http://127.0.0.1:3000/api/hello");
    Ok(ExitCode::SUCCESS)
}

/// The package name: the folder's last component, checked against cargo's rules and turned
/// into a valid app name (`_` → `-`).
fn package_name(dir: &Path) -> anyhow::Result<String> {
    let Some(name) = dir.file_name().and_then(|n| n.to_str()) else {
        bail!(
            "{} does not end in a folder name that can name a package",
            dir.display()
        );
    };
    if !name.starts_with(|c: char| c.is_ascii_alphabetic())
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        bail!("`{name}` cannot name a package: use a letter, then letters, digits, `-` or `_`");
    }
    if RESERVED.contains(&name.replace('-', "_").to_ascii_lowercase().as_str()) {
        bail!(
            "`{name}` is a Rust keyword or the name of a crate every app uses; choose another name"
        );
    }
    let app = name.replace('_', "-");
    if let Err(reason) = check_app_name(&app) {
        bail!("`{name}` does not make a valid app name: {reason}");
    }
    Ok(name.to_owned())
}

/// The `nextr` dependency of the new app.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RuntimeDependency {
    /// The TOML value after `nextr = `.
    spec: String,
    /// For the summary line.
    description: String,
}

/// `--nextr-path`, else the runtime of the checkout this binary was built from (when it still
/// exists), else the crates.io release.
fn runtime_dependency(explicit: Option<&Path>) -> anyhow::Result<RuntimeDependency> {
    let local = match explicit {
        Some(path) => {
            if !path.join("Cargo.toml").is_file() {
                bail!(
                    "--nextr-path {}: no Cargo.toml there; give the folder of the nextr runtime crate (`runtime/` in a checkout)",
                    path.display()
                );
            }
            Some(path.to_path_buf())
        }
        None => checkout_runtime(Path::new(CLI_MANIFEST_DIR)),
    };
    Ok(match local {
        Some(path) => {
            let path = fs::canonicalize(&path)
                .with_context(|| format!("cannot resolve {}", path.display()))?;
            let text = path
                .to_str()
                .with_context(|| format!("{} is not valid UTF-8", path.display()))?;
            RuntimeDependency {
                spec: format!("{{ path = {} }}", toml::Value::from(text)),
                description: format!("nextr from {}", path.display()),
            }
        }
        None => RuntimeDependency {
            spec: toml::Value::from(CRATES_IO_REQUIREMENT).to_string(),
            description: format!("nextr {CRATES_IO_REQUIREMENT} from crates.io"),
        },
    })
}

/// `<checkout>/runtime` when `cli_dir` (the CLI crate's folder at build time) is still a
/// checkout of the nextr repository.
fn checkout_runtime(cli_dir: &Path) -> Option<PathBuf> {
    let runtime = cli_dir.parent()?.join("runtime");
    runtime.join("Cargo.toml").is_file().then_some(runtime)
}

/// The files of a new app, relative to its folder.
fn files(name: &str, nextr: &str) -> Vec<(&'static str, String)> {
    let app = name.replace('_', "-");
    let krate = name.replace('-', "_");
    vec![
        (
            "Cargo.toml",
            format!(
                r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2021"
publish = false

# Every file under api/ is a route, built into its own AWS Lambda function by `nextr build`.
# Route files can use these dependencies and this package's library (src/lib.rs).
[dependencies]
nextr = {nextr}
serde = {{ version = "1", features = ["derive"] }}
serde_json = "1"

# The app is its own workspace (delete this table to make it a member of an enclosing one).
[workspace]
"#
            ),
        ),
        (
            "api/hello.rs",
            r#"//! `GET /api/hello` → `{"message":"Hello from nextr!"}`
use nextr::prelude::*;

pub async fn handler(_req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.status(200).json(&json!({ "message": "Hello from nextr!" }))
}
"#
            .to_owned(),
        ),
        (
            "src/lib.rs",
            format!(
                r#"//! Code shared by the routes of `{name}`.
//!
//! Route files under `api/` are compiled as separate binaries, one Lambda function each; put
//! what several of them need (types, validation, database access) here and `use {krate}::…`
//! from the route files.
"#
            ),
        ),
        (
            "nextr.toml",
            format!(
                r#"# nextr settings; every key is optional (`nextr build` rejects unknown ones).
# The app name prefixes every AWS resource nextr deploy creates.
app = "{app}"

# region = "eu-west-1"      # default: AWS_REGION, then the AWS profile's region
# stage = "prod"            # deploy's default stage (lowercase, digits, `-`; default "dev")
# memory = 1024             # MB, for routes whose config! sets no `memory`
# architecture = "arm64"    # or "x86_64" (the default)

# Environment variables of every function: deploy sets them on Lambda, `nextr dev` gives them
# to the local functions (a variable also set in your shell takes the shell's value locally).
# [env]
# GREETING = "hello"
"#
            ),
        ),
        (".gitignore", "/target\n/.nextr\n".to_owned()),
        (
            "README.md",
            format!(
                r#"# {name}

A nextr app: Next.js-style API routes in Rust, one AWS Lambda function per route file.

```sh
nextr dev                  # build every route and serve http://127.0.0.1:3000 (API Gateway + Lambda, locally)
curl http://127.0.0.1:3000/api/hello
nextr routes               # the route table, in Next.js precedence order
nextr build                # release bundles + .nextr/routes-manifest.json
nextr deploy               # those bundles to AWS (credentials from the usual AWS chain)
```

| path | what it is |
|---|---|
| `api/hello.rs` | the route `/api/hello`; add `api/users/[id].rs` for `/api/users/:id`, and so on |
| `src/lib.rs` | code shared by the routes (`use {krate}::…`) |
| `nextr.toml` | app name, region, memory, environment variables |
| `.nextr/` | build output: one zip per route and the route manifest (not committed); `nextr dev` builds into `.nextr/dev/`, which deploy never ships |
"#
            ),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(package_name(Path::new("demo")).unwrap(), "demo");
        assert_eq!(package_name(Path::new("a/b/my_app-2")).unwrap(), "my_app-2");
        for bad in [
            "2fast",
            "-x",
            "a b",
            "é",
            "nextr",
            "serde-json",
            "fn",
            "Test",
            "",
        ] {
            assert!(package_name(Path::new(bad)).is_err(), "{bad:?}");
        }
        let long = "a".repeat(41);
        assert!(package_name(Path::new(&long)).is_err());
    }

    #[test]
    fn runtime_dependency_from_a_checkout_or_crates_io() {
        let checkout = tempfile::tempdir().unwrap();
        fs::create_dir_all(checkout.path().join("cli")).unwrap();
        assert_eq!(checkout_runtime(&checkout.path().join("cli")), None);
        fs::create_dir_all(checkout.path().join("runtime")).unwrap();
        fs::write(checkout.path().join("runtime/Cargo.toml"), "").unwrap();
        assert_eq!(
            checkout_runtime(&checkout.path().join("cli")),
            Some(checkout.path().join("runtime"))
        );

        let explicit = runtime_dependency(Some(&checkout.path().join("runtime"))).unwrap();
        let path = fs::canonicalize(checkout.path().join("runtime")).unwrap();
        assert_eq!(
            explicit.spec,
            format!("{{ path = {:?} }}", path.to_str().unwrap())
        );
        assert!(runtime_dependency(Some(checkout.path())).is_err());
    }

    #[test]
    fn generated_manifest_is_valid_toml() {
        for spec in ["\"0.1\"", "{ path = \"/x/it's \\\"quoted\\\"\" }"] {
            let files = files("my_app", spec);
            let cargo: toml::Table = files[0].1.parse().unwrap();
            assert_eq!(cargo["package"]["name"].as_str(), Some("my_app"));
            assert!(cargo["dependencies"].get("nextr").is_some());
            let settings = &files.iter().find(|(p, _)| *p == "nextr.toml").unwrap().1;
            let config =
                nextr_cli::project::AppConfig::parse(Path::new("nextr.toml"), settings).unwrap();
            assert_eq!(config.app.as_deref(), Some("my-app"));
        }
    }
}
