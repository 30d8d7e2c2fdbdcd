//! The user's app on disk: its Cargo package, its `nextr.toml` and its route files.

use std::path::{Path, PathBuf};

use nextr::routing::TreeError;

use crate::report::{Shown, ShownLines};

mod app_config;
pub mod dotenv;
mod package;
mod proxy;
mod routes;

pub use app_config::{
    check_app_name, env_name_problem, AppConfig, AppConfigError, ConfigDiagnostic, ConfigReport,
    RouteSettings, APP_CONFIG_FILE, MAX_APP_NAME, RESERVED_ENV,
};
pub use dotenv::{DotEnv, DotEnvError, EnvMode, DOTENV_FILES};
pub use package::{
    discover as discover_package, Dependency, DependencyKind, DependencySource, GitReference,
    Package, PackageError,
};
pub use proxy::{
    find_proxy, proxy_summary, ProxyConvention, ProxyFile, MIDDLEWARE_TO_PROXY, PROXY_FILES,
};
pub use routes::{inside_app, route_table, scan_routes, ROUTE_DIRS};

/// Why an app could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    /// DIR has neither an `api/` nor an `app/` folder.
    #[error("no `api/` or `app/` folder in {}: nextr looks for Pages Router routes in <DIR>/api (`api/**.rs`) and App Router route handlers in <DIR>/app (`app/**/route.rs`); create one of them", Shown(.0.display()))]
    NoRouteDir(PathBuf),
    /// A folder could not be read.
    #[error("cannot read {}", Shown(.path.display()))]
    Io {
        /// The path at fault.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A symlink in the app leads out of the app's folder.
    #[error("{}: a symlink to {}, outside the app's folder; nextr reads route files only inside the app (copy the file in, or link to a place inside the app)", Shown(.link.display()), Shown(.target.display()))]
    OutsideApp {
        /// The link (or the path through it).
        link: PathBuf,
        /// Where it leads.
        target: PathBuf,
    },
    /// Both `proxy.rs` and `middleware.rs` at the app root: Next's build error, its words.
    #[error("Both middleware file \"./middleware.rs\" and proxy file \"./proxy.rs\" are detected. Please use \"./proxy.rs\" only. Learn more: {MIDDLEWARE_TO_PROXY}")]
    ProxyAndMiddleware,
    /// A file or folder name is not UTF-8, so it cannot be part of a URL.
    #[error("{}: the name is not valid UTF-8, so it cannot be part of a route; rename it", Shown(.0.display()))]
    NotUtf8(PathBuf),
    /// The route tree breaks Next's rules.
    #[error("{}: {}", Shown(.root.display()), ShownLines(.error))]
    Tree {
        /// The app folder (the problems name files relative to it).
        root: PathBuf,
        /// Every problem.
        error: TreeError,
    },
    /// The Cargo package could not be read.
    #[error(transparent)]
    Package(#[from] PackageError),
    /// `nextr.toml` is invalid.
    #[error(transparent)]
    AppConfig(#[from] AppConfigError),
    /// No valid app name: the package name does not make one and `nextr.toml` sets none.
    #[error("the package name {package:?} does not make a valid app name ({reason}); set `app = \"…\"` in {APP_CONFIG_FILE}")]
    AppName {
        /// The package name.
        package: String,
        /// Why it does not fit.
        reason: String,
    },
}

/// An app: the package, its settings, and the name its AWS resources carry.
#[derive(Debug, Clone)]
pub struct Project {
    /// The app folder (absolute): the folder holding `Cargo.toml`, `nextr.toml` and `api/`.
    pub root: PathBuf,
    /// The Cargo package.
    pub package: Package,
    /// `nextr.toml` (defaults when absent).
    pub config: AppConfig,
    /// The app name: `nextr.toml`'s `app`, or the package name with `_` turned into `-`.
    pub app: String,
}

impl Project {
    /// Reads the app in `dir`: `cargo metadata` for its package, then its `nextr.toml`.
    pub fn discover(dir: &Path) -> Result<Self, ProjectError> {
        let package = package::discover(dir)?;
        let root = package.root().to_path_buf();
        let config = AppConfig::load(&root)?;
        let app = match &config.app {
            Some(app) => app.clone(),
            None => {
                let derived = package.name.replace('_', "-");
                check_app_name(&derived).map_err(|reason| ProjectError::AppName {
                    package: package.name.clone(),
                    reason,
                })?;
                derived
            }
        };
        Ok(Project {
            root,
            package,
            config,
            app,
        })
    }
}

/// The target dir cargo reports for a workspace at `root` in a test: `root/target`, unless the
/// developer running the tests redirects every target dir through the environment.
#[cfg(test)]
pub(crate) fn expected_target_dir(root: &Path) -> PathBuf {
    ["CARGO_TARGET_DIR", "CARGO_BUILD_TARGET_DIR"]
        .iter()
        .find_map(|k| std::env::var_os(k).filter(|v| !v.is_empty()))
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn app(dir: &Path, name: &str, nextr_toml: Option<&str>) {
        fs::create_dir_all(dir.join("src")).unwrap();
        fs::write(
            dir.join("Cargo.toml"),
            format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n"),
        )
        .unwrap();
        fs::write(dir.join("src/lib.rs"), "").unwrap();
        if let Some(text) = nextr_toml {
            fs::write(dir.join("nextr.toml"), text).unwrap();
        }
    }

    #[test]
    fn app_name_comes_from_nextr_toml_or_the_package() {
        let tmp = tempfile::tempdir().unwrap();
        app(tmp.path(), "my_shop", None);
        let p = Project::discover(tmp.path()).unwrap();
        assert_eq!(p.app, "my-shop");
        assert_eq!(p.root, fs::canonicalize(tmp.path()).unwrap());
        assert_eq!(p.package.lib.as_deref(), Some("my_shop"));

        let tmp = tempfile::tempdir().unwrap();
        app(
            tmp.path(),
            "my_shop",
            Some("app = \"shop\"\nmemory = 256\n"),
        );
        let p = Project::discover(tmp.path()).unwrap();
        assert_eq!(p.app, "shop");
        assert_eq!(p.config.default_memory_mb(), 256);
    }

    #[test]
    fn an_unusable_package_name_asks_for_an_app_name() {
        let tmp = tempfile::tempdir().unwrap();
        app(tmp.path(), &"a".repeat(50), None);
        let err = Project::discover(tmp.path()).unwrap_err();
        assert!(matches!(err, ProjectError::AppName { .. }));
        assert!(err.to_string().contains("set `app = \"…\"` in nextr.toml"));
    }

    #[test]
    fn nextr_toml_errors_surface() {
        let tmp = tempfile::tempdir().unwrap();
        app(tmp.path(), "x", Some("stage = 3\n"));
        let err = Project::discover(tmp.path()).unwrap_err();
        let ProjectError::AppConfig(err) = err else {
            panic!("expected nextr.toml's error, got {err}")
        };
        assert_eq!(
            err.lines(),
            ["nextr.toml:1:9: `stage`: expected a string such as \"prod\", found the number 3"]
        );
    }
}
