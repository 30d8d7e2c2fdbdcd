//! What one function knows of the app's proxy, read once at start: the user's function, its
//! matcher compiled, the app's routes (to resolve a rewrite's target to a function), and how
//! another function is reached.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Weak};

use super::invoke::Forward;
use super::matcher::{Matcher, MatcherSpecError};
use super::ProxyHandler;
use crate::dispatch::Outgoing;
use crate::manifest::{ProxyBundle, PROXY_FILE};
use crate::routing::{file_for_page, route_for_file, RouteTable, Router, TreeError};

/// Why a function with a proxy cannot start (it exits, naming the file).
#[derive(Debug, thiserror::Error)]
pub enum ProxyStartError {
    /// `proxy.json` is missing beside the executable, or unreadable.
    #[error("cannot read {}: {source} (`nextr build` puts it beside `bootstrap` in every bundle of an app with a proxy)", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// `proxy.json` is not the description `nextr build` writes.
    #[error("{} is not a valid proxy description: {source}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Why.
        source: serde_json::Error,
    },
    /// The matcher does not compile (the build checks it with the same compiler).
    #[error("the matcher of {file} does not compile: {source}")]
    Matcher {
        /// The proxy's file (`proxy.rs`).
        file: String,
        /// Why.
        source: MatcherSpecError,
    },
    /// A route of the description is not a page its router can have.
    #[error("{PROXY_FILE}: {page} is not a page of the {router} router")]
    Page {
        /// The page.
        page: String,
        /// Its router.
        router: Router,
    },
    /// The routes of the description do not form Next's route tree.
    #[error("{PROXY_FILE}: {0}")]
    Routes(TreeError),
}

/// What [`LocalFunctions::invoke`] returns: the function's answer and its log lines, or
/// `None` when there is no such function.
pub(crate) type Invoked<'a> =
    Pin<Box<dyn Future<Output = Option<(Outgoing, Vec<String>)>> + Send + 'a>>;

/// Functions of the app served in this process (a test's), answering rewrites to them.
pub(crate) trait LocalFunctions: Send + Sync {
    /// Serves `request` with the function named `function`.
    fn invoke<'a>(&'a self, function: &'a str, request: Forward) -> Invoked<'a>;
}

/// How a rewrite reaches another function of the app.
#[derive(Clone)]
pub(crate) enum Forwarder {
    /// Lambda's `Invoke` ([`super::invoke::forward`]).
    Lambda,
    /// In process, through a test's functions (weak: they hold this proxy themselves).
    Local(Weak<dyn LocalFunctions>),
}

impl fmt::Debug for Forwarder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Forwarder::Lambda => f.write_str("Lambda"),
            Forwarder::Local(_) => f.write_str("Local"),
        }
    }
}

/// The app's proxy as every function of the app holds it.
#[derive(Debug)]
pub(crate) struct ProxyApp {
    /// `proxy.rs`'s `proxy` function.
    pub(crate) handler: ProxyHandler,
    /// The proxy's file, for messages.
    pub(crate) file: String,
    /// `config.matcher`, compiled.
    pub(crate) matcher: Matcher,
    /// Every route of the app, to resolve a rewrite's target.
    pub(crate) table: RouteTable,
    /// Each page's function (its manifest name; `None` for a route that did not build).
    pub(crate) functions: HashMap<String, Option<String>>,
    /// The `$default` function's manifest name.
    pub(crate) fallback: String,
}

impl ProxyApp {
    /// Compiles a bundle's description.
    pub(crate) fn new(
        handler: ProxyHandler,
        bundle: &ProxyBundle,
    ) -> Result<Self, ProxyStartError> {
        let matcher = Matcher::from_config(bundle.matcher.as_deref()).map_err(|source| {
            ProxyStartError::Matcher {
                file: bundle.file.clone(),
                source,
            }
        })?;
        let mut files = Vec::with_capacity(bundle.routes.len());
        for route in &bundle.routes {
            let file = file_for_page(route.router, &route.page);
            if route_for_file(&file) != Some((route.router, route.page.clone())) {
                return Err(ProxyStartError::Page {
                    page: route.page.clone(),
                    router: route.router,
                });
            }
            files.push(file);
        }
        let table = RouteTable::from_files(files).map_err(ProxyStartError::Routes)?;
        let functions = bundle
            .routes
            .iter()
            .map(|r| (r.page.clone(), r.function.clone()))
            .collect();
        Ok(ProxyApp {
            handler,
            file: bundle.file.clone(),
            matcher,
            table,
            functions,
            fallback: bundle.fallback.clone(),
        })
    }

    /// Reads [`PROXY_FILE`] beside the executable, as the Lambda entry points do at start.
    pub(crate) fn load(handler: ProxyHandler) -> Result<Self, ProxyStartError> {
        let path = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(|dir| dir.join(PROXY_FILE)))
            .unwrap_or_else(|| PathBuf::from(PROXY_FILE));
        Self::load_from(handler, path)
    }

    /// [`load`](Self::load) from a given file.
    pub(crate) fn load_from(handler: ProxyHandler, path: PathBuf) -> Result<Self, ProxyStartError> {
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(source) => return Err(ProxyStartError::Read { path, source }),
        };
        let bundle = match ProxyBundle::from_json(&text) {
            Ok(bundle) => bundle,
            Err(source) => return Err(ProxyStartError::Invalid { path, source }),
        };
        Self::new(handler, &bundle)
    }
}

/// `proxy.rs` inside one function: the app's proxy and the way to the other functions.
#[derive(Debug)]
pub(crate) struct Proxy {
    pub(crate) app: Arc<ProxyApp>,
    pub(crate) forwarder: Forwarder,
}

impl Proxy {
    /// The proxy of a deployed function: rewrites to other functions go through Lambda.
    pub(crate) fn lambda(app: ProxyApp) -> Self {
        Proxy {
            app: Arc::new(app),
            forwarder: Forwarder::Lambda,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::NextRequest;
    use crate::manifest::ProxyRoute;
    use crate::proxy::matcher::MatcherSpec;

    async fn pass(_: NextRequest) {}

    fn bundle(routes: &[(&str, Router)]) -> ProxyBundle {
        ProxyBundle {
            file: "proxy.rs".into(),
            matcher: Some(vec![MatcherSpec::source("/api/:path*")]),
            pages_router: true,
            routes: routes
                .iter()
                .map(|(page, router)| ProxyRoute {
                    page: (*page).into(),
                    router: *router,
                    function: Some(page.trim_start_matches('/').replace('/', "-")),
                })
                .collect(),
            fallback: "default".into(),
        }
    }

    #[test]
    fn the_routes_become_a_table_in_nexts_order() {
        let app = ProxyApp::new(
            crate::proxy_handler!(pass),
            &bundle(&[
                ("/api/px/target/[id]", Router::App),
                ("/api/pxpages/echo", Router::Pages),
                ("/api", Router::Pages),
                ("/_x/[...all]", Router::App),
                ("/", Router::App),
            ]),
        )
        .unwrap();
        let page = |target: &str| app.table.route_for(target).map(|r| r.page().to_owned());
        assert_eq!(
            page("/api/px/target/7").as_deref(),
            Some("/api/px/target/[id]")
        );
        assert_eq!(
            page("/api/pxpages/echo?x=1").as_deref(),
            Some("/api/pxpages/echo")
        );
        assert_eq!(page("/api").as_deref(), Some("/api"));
        assert_eq!(page("/_x/a/b").as_deref(), Some("/_x/[...all]"));
        assert_eq!(page("/").as_deref(), Some("/"));
        assert_eq!(page("/api/nope"), None);
        assert_eq!(page("/api/pxpages/echo/"), None);
        assert_eq!(app.functions["/api"].as_deref(), Some("api"));
    }

    #[test]
    fn a_page_its_router_cannot_have_is_refused() {
        let e = ProxyApp::new(
            crate::proxy_handler!(pass),
            &bundle(&[("/x", Router::Pages)]),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "proxy.json: /x is not a page of the pages router"
        );
        let e = ProxyApp::new(
            crate::proxy_handler!(pass),
            &bundle(&[("/api/[a]", Router::App), ("/api/[b]/x", Router::App)]),
        )
        .unwrap_err();
        assert!(e.to_string().contains("different slug names"), "{e}");
    }

    #[test]
    fn a_missing_or_invalid_file_names_itself() {
        let dir = std::env::temp_dir().join(format!("nextr-proxy-setup-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(PROXY_FILE);
        let _ = std::fs::remove_file(&path);
        let e = ProxyApp::load_from(crate::proxy_handler!(pass), path.clone()).unwrap_err();
        assert!(
            e.to_string()
                .starts_with(&format!("cannot read {}", path.display())),
            "{e}"
        );
        std::fs::write(&path, "{\"file\": \"proxy.rs\"}").unwrap();
        let e = ProxyApp::load_from(crate::proxy_handler!(pass), path.clone()).unwrap_err();
        assert!(
            e.to_string().starts_with(&format!(
                "{} is not a valid proxy description",
                path.display()
            )),
            "{e}"
        );
        std::fs::write(&path, bundle(&[("/api/x", Router::App)]).to_json()).unwrap();
        let app = ProxyApp::load_from(crate::proxy_handler!(pass), path.clone()).unwrap();
        assert_eq!(app.fallback, "default");
        let mut bad = bundle(&[]);
        bad.matcher = Some(vec![MatcherSpec::source("api")]);
        std::fs::write(&path, bad.to_json()).unwrap();
        let e = ProxyApp::load_from(crate::proxy_handler!(pass), path).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the matcher of proxy.rs does not compile: source must start with / at \"matcher[0]\""
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
