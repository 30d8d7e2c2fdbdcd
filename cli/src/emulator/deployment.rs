//! One deployed version of the app, as the emulator serves it: the routes in the manifest's
//! (Next's) order, each route's API Gateway route keys,
//! and the function pool behind each route — all taken from the manifest, nothing re-derived.
//!
//! A new manifest gives a new deployment; functions whose bundle and settings did not change
//! keep their pool (and warm instances), the others get a new one. Requests hold the
//! deployment they started with, so a swap never cuts one short.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use nextr::manifest::{Function, Manifest};
use nextr::routing::{normalize, Normalized, RouteTable, TreeError};

use nextr::routing::escape_decoded_path;

use super::bundle::{self, BundleError};
use super::event::{gateway_path, RouteKey};
use super::logs::Logger;
use super::pool::{FunctionPool, FunctionSpec};

/// Why a manifest cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum DeploymentError {
    /// The manifest's route files do not form a valid tree.
    #[error("the route manifest's routes are invalid: {0}")]
    Tree(#[from] TreeError),
    /// A route key is not `METHOD /path`.
    #[error("route {page}: `{key}` is not an API Gateway route key")]
    RouteKey {
        /// The route.
        page: String,
        /// The key.
        key: String,
    },
    /// A bundle cannot be unpacked.
    #[error("route {page}: {source}")]
    Bundle {
        /// The route.
        page: String,
        /// Why.
        #[source]
        source: BundleError,
    },
}

/// Settings that apply to every function.
#[derive(Debug, Clone)]
pub struct FunctionDefaults {
    /// Where bundles are unpacked (one folder per sha256).
    pub cache_dir: PathBuf,
    /// `AWS_REGION` for the functions.
    pub region: String,
    /// Instances per function at most.
    pub max_instances: usize,
    /// Variables passed through to every function.
    pub passthrough_env: Vec<(String, String)>,
    /// The functions' own variables (`nextr.toml`'s `[env]` and `[routes."<page>".env]`).
    pub function_env: FunctionEnv,
}

/// The environment `nextr.toml` gives the functions, as deploy configures it: `[env]` for every
/// function, with a route's own `[routes."<page>".env]` over it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FunctionEnv {
    /// `[env]`.
    pub all: BTreeMap<String, String>,
    /// `[routes."<page>".env]`, by page.
    pub by_page: BTreeMap<String, BTreeMap<String, String>>,
}

impl FunctionEnv {
    /// The variables of the function serving `page`.
    pub fn for_page(&self, page: &str) -> Vec<(String, String)> {
        let mut env = self.all.clone();
        if let Some(own) = self.by_page.get(page) {
            env.extend(own.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        env.into_iter().collect()
    }
}

/// What identifies a function's pool: a change to any of these needs new instances.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PoolKey {
    name: String,
    sha256: String,
    timeout_s: u32,
    memory_mb: u32,
    handler: String,
    max_instances: usize,
}

impl PoolKey {
    fn of(f: &Function, max_instances: usize) -> Self {
        PoolKey {
            name: f.name.clone(),
            sha256: f.sha256.to_ascii_lowercase(),
            timeout_s: f.timeout_s,
            memory_mb: f.memory_mb,
            handler: f.handler.clone(),
            max_instances,
        }
    }
}

/// One route as served.
pub struct Target {
    /// The page pattern.
    pub page: String,
    /// The route file.
    pub file: String,
    /// The route's API Gateway route keys, in manifest order. None for a route Next can never
    /// serve (a static segment no normalised path holds, such as `hello world`): the deployed
    /// API has no route to it, so neither does dev.
    pub keys: Vec<RouteKey>,
    /// The function, or `None` when the manifest has no built function for the route.
    pub function: Option<Arc<FunctionPool>>,
    pool_key: Option<PoolKey>,
}

/// Where the deployed HTTP API sends a request target.
pub enum Resolved<'a> {
    /// A route answers, through this key.
    Route(&'a Target, &'a RouteKey),
    /// 308 to this location.
    Redirect(String),
    /// No route matches.
    NotFound,
    /// The path does not percent-decode (API Gateway's 400, before routing).
    BadRequest,
}

/// One servable version of the app.
pub struct Deployment {
    targets: Vec<Target>,
}

impl Deployment {
    /// Builds a deployment, reusing `previous`'s pools for unchanged functions.
    pub fn build(
        manifest_dir: &Path,
        manifest: &Manifest,
        defaults: &FunctionDefaults,
        previous: Option<&Deployment>,
        logger: &Logger,
    ) -> Result<Self, DeploymentError> {
        // Precedence is the manifest's order; this only refuses a hand-edited manifest whose
        // files no longer form a valid tree.
        RouteTable::from_files(manifest.routes.iter().map(|r| r.file.as_str()))?;
        let mut reusable: HashMap<String, (&PoolKey, &Arc<FunctionPool>)> = HashMap::new();
        for t in previous.map(|p| p.targets.as_slice()).unwrap_or_default() {
            if let (Some(key), Some(pool)) = (&t.pool_key, &t.function) {
                reusable.insert(key.name.clone(), (key, pool));
            }
        }
        let mut made: HashMap<String, Arc<FunctionPool>> = HashMap::new();
        let mut targets = Vec::with_capacity(manifest.routes.len());
        for route in &manifest.routes {
            let mut keys = Vec::with_capacity(route.route_keys.len());
            for key in &route.route_keys {
                keys.push(
                    RouteKey::parse(key).ok_or_else(|| DeploymentError::RouteKey {
                        page: route.page.clone(),
                        key: key.clone(),
                    })?,
                );
            }
            let (function, pool_key) = match &route.function {
                None => (None, None),
                Some(f) => {
                    let key = PoolKey::of(f, defaults.max_instances);
                    let pool =
                        match (made.get(&f.name), reusable.get(&f.name)) {
                            (Some(p), _) => p.clone(),
                            (None, Some((old, p))) if **old == key => (*p).clone(),
                            _ => {
                                let task_root = bundle::unpack(
                                    &manifest_dir.join(&f.bundle),
                                    &f.sha256,
                                    &defaults.cache_dir,
                                )
                                .map_err(|source| DeploymentError::Bundle {
                                    page: route.page.clone(),
                                    source,
                                })?;
                                Arc::new(FunctionPool::new(
                                    FunctionSpec {
                                        name: f.name.clone(),
                                        route: route.page.clone(),
                                        task_root,
                                        handler: f.handler.clone(),
                                        timeout: Duration::from_secs(u64::from(f.timeout_s.max(1))),
                                        memory_mb: f.memory_mb,
                                        region: defaults.region.clone(),
                                        max_instances: defaults.max_instances,
                                        passthrough_env: defaults
                                            .function_env
                                            .for_page(&route.page)
                                            .into_iter()
                                            .chain(defaults.passthrough_env.iter().cloned())
                                            .collect(),
                                    },
                                    logger.clone(),
                                ))
                            }
                        };
                    made.insert(f.name.clone(), pool.clone());
                    (Some(pool), Some(key))
                }
            };
            targets.push(Target {
                page: route.page.clone(),
                file: route.file.clone(),
                keys,
                function,
                pool_key,
            });
        }
        Ok(Deployment { targets })
    }

    /// Resolves a raw request target (path and query, as received) as the deployed HTTP API
    /// does:
    ///
    /// 1. The path is percent-decoded as API Gateway decodes it ([`gateway_path`]); one that
    ///    does not decode is a 400.
    /// 2. Dot segments are resolved (RFC 3986; Next resolves them too. Whether API Gateway
    ///    does is not observed, and clients such as browsers and curl never send them).
    /// 3. API Gateway's selection over the manifest's route keys, which are deploy's keys
    ///    including those the conflict analysis added: a full match beats a greedy one; among
    ///    several, the most specific (the key every other matching key includes); where none
    ///    is (an undocumented tie, possible only for conflicts the app accepted), the route
    ///    first in Next's order. A path with an empty segment (`//`, a trailing `/`) matches no
    ///    key.
    /// 4. No key matches: what deploy's `$default` function answers, seeing the decoded path:
    ///    308 for `//`, `\` and trailing slashes, otherwise 404 (it cannot run a route's code).
    pub fn resolve(&self, target: &str) -> Resolved<'_> {
        let (raw_path, query) = match target.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (target, None),
        };
        let Ok(decoded) = gateway_path(raw_path) else {
            return Resolved::BadRequest;
        };
        if let Some((target, key)) = self.select(&remove_dot_segments(&decoded)) {
            return Resolved::Route(target, key);
        }
        let mut seen = escape_decoded_path(&decoded);
        if let Some(q) = query {
            seen.push('?');
            seen.push_str(q);
        }
        // Exactly what the deployed `$default` function answers (`nextr::dispatch::fallback`).
        match normalize(&seen) {
            Ok(Normalized::Redirect(location)) => Resolved::Redirect(location),
            Ok(Normalized::Path { .. }) | Err(_) => Resolved::NotFound,
        }
    }

    /// API Gateway's route selection for a decoded path (step 3 of [`Deployment::resolve`]).
    fn select(&self, path: &str) -> Option<(&Target, &RouteKey)> {
        let body = path.strip_prefix('/').unwrap_or(path);
        if !body.is_empty() && body.split('/').any(str::is_empty) {
            return None;
        }
        let matching: Vec<(&Target, &RouteKey)> = self
            .targets
            .iter()
            .flat_map(|t| t.keys.iter().map(move |k| (t, k)))
            .filter(|(_, k)| k.match_path(path).is_some())
            .collect();
        for greedy in [false, true] {
            let tier: Vec<(&Target, &RouteKey)> = matching
                .iter()
                .copied()
                .filter(|(_, k)| k.is_greedy() == greedy)
                .collect();
            let most_specific = tier
                .iter()
                .find(|(_, k)| tier.iter().all(|(_, other)| other.includes(k)));
            // Targets are in Next's order, so `first` is Next's pick within a tie.
            if let Some(&pick) = most_specific.or(tier.first()) {
                return Some(pick);
            }
        }
        None
    }

    /// A route by page pattern (`/api/hello`) or file (`api/hello.rs`).
    pub fn find(&self, route: &str) -> Option<&Target> {
        self.targets
            .iter()
            .find(|t| t.page == route || t.file == route)
    }

    /// The unpacked bundle folders this deployment runs.
    pub fn task_roots(&self) -> std::collections::HashSet<PathBuf> {
        self.pools().map(|p| p.spec().task_root.clone()).collect()
    }

    /// Every pool of this deployment.
    pub fn pools(&self) -> impl Iterator<Item = &Arc<FunctionPool>> {
        self.targets.iter().filter_map(|t| t.function.as_ref())
    }

    /// Whether this deployment runs `pool` (by identity).
    pub fn uses(&self, pool: &Arc<FunctionPool>) -> bool {
        self.pools().any(|p| Arc::ptr_eq(p, pool))
    }
}

/// Resolves `.` and `..` segments (RFC 3986 §5.2.4); a path ending in one keeps a trailing
/// slash.
fn remove_dot_segments(path: &str) -> String {
    if !path.split('/').any(|s| s == "." || s == "..") {
        return path.to_owned();
    }
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.strip_prefix('/').unwrap_or(path).split('/').collect();
    for (i, segment) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        match *segment {
            "." => {
                if last {
                    out.push("");
                }
            }
            ".." => {
                out.pop();
                if last {
                    out.push("");
                }
            }
            s => out.push(s),
        }
    }
    format!("/{}", out.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_segments_resolve_like_rfc_3986() {
        for (path, expect) in [
            ("/api/x", "/api/x"),
            ("/api/./x", "/api/x"),
            ("/api/y/../x", "/api/x"),
            ("/api/c/a/../b", "/api/c/b"),
            ("/api/t12/.", "/api/t12/"),
            ("/api/t12/x/..", "/api/t12/"),
            ("/..", "/"),
            ("/a/../../b", "/b"),
            ("/a/.../b", "/a/.../b"),
        ] {
            assert_eq!(remove_dot_segments(path), expect, "{path}");
        }
    }

    /// A deployment of routes without built functions (no bundle to unpack).
    fn deployment(routes: &[(&str, &str, &[&str])]) -> Deployment {
        let routes: Vec<serde_json::Value> = routes
            .iter()
            .map(|(page, file, keys)| {
                serde_json::json!({
                    "page": page, "file": file, "kind": "static", "segments": [], "params": [],
                    "route_keys": keys, "config": {}
                })
            })
            .collect();
        let manifest = Manifest::from_json(
            &serde_json::json!({"version": 1, "app": "t", "nextr_version": "0", "routes": routes})
                .to_string(),
        )
        .unwrap();
        let defaults = FunctionDefaults {
            cache_dir: PathBuf::from("/nonexistent"),
            region: "us-east-1".into(),
            max_instances: 1,
            passthrough_env: Vec::new(),
            function_env: FunctionEnv::default(),
        };
        let (_writer, logger) =
            super::super::logs::LogWriter::start(super::super::logs::Sink::Stderr);
        Deployment::build(
            Path::new("/nonexistent"),
            &manifest,
            &defaults,
            None,
            &logger,
        )
        .unwrap()
    }

    fn pick(d: &Deployment, target: &str) -> String {
        match d.resolve(target) {
            Resolved::Route(t, key) => format!("{} via {}", t.file, key.as_str()),
            Resolved::Redirect(l) => format!("308 {l}"),
            Resolved::NotFound => "404".into(),
            Resolved::BadRequest => "400".into(),
        }
    }

    #[test]
    fn requests_go_where_the_deployed_api_sends_them() {
        // In Next's order, as the manifest lists them. The catch-all owns an extra key from
        // the conflict analysis (`/api/users/{path}` beats `/api/{resource}/{id}`).
        let d = deployment(&[
            ("/api/t01", "api/t01/index.rs", &["ANY /api/t01"]),
            (
                "/api/t01/about",
                "api/t01/about.rs",
                &["ANY /api/t01/about"],
            ),
            (
                "/api/users/[...path]",
                "api/users/[...path].rs",
                &["ANY /api/users/{path+}", "ANY /api/users/{path}"],
            ),
            ("/api/t01/[id]", "api/t01/[id].rs", &["ANY /api/t01/{id}"]),
            (
                "/api/[resource]/[id]",
                "api/[resource]/[id].rs",
                &["ANY /api/{resource}/{id}"],
            ),
            (
                "/api/t01/[...slug]",
                "api/t01/[...slug].rs",
                &["ANY /api/t01/{slug+}"],
            ),
            ("/api/hello world", "api/hello world.rs", &[]),
        ]);
        for (target, expect) in [
            ("/api/t01", "api/t01/index.rs via ANY /api/t01"),
            ("/api/t01?x=1", "api/t01/index.rs via ANY /api/t01"),
            ("/api/t01/about", "api/t01/about.rs via ANY /api/t01/about"),
            // API Gateway routes the decoded path: Next would pick [id] for the raw spelling.
            (
                "/api/t01/%61bout",
                "api/t01/about.rs via ANY /api/t01/about",
            ),
            ("/api/t01/x", "api/t01/[id].rs via ANY /api/t01/{id}"),
            (
                "/api/t01/x/y",
                "api/t01/[...slug].rs via ANY /api/t01/{slug+}",
            ),
            (
                "/api/t01/a%2Fb",
                "api/t01/[...slug].rs via ANY /api/t01/{slug+}",
            ),
            ("/api/t01/./x", "api/t01/[id].rs via ANY /api/t01/{id}"),
            (
                "/api/t01/y/../about",
                "api/t01/about.rs via ANY /api/t01/about",
            ),
            (
                "/api/users/42",
                "api/users/[...path].rs via ANY /api/users/{path}",
            ),
            (
                "/api/users/42/x",
                "api/users/[...path].rs via ANY /api/users/{path+}",
            ),
            (
                "/api/posts/42",
                "api/[resource]/[id].rs via ANY /api/{resource}/{id}",
            ),
            // $default: Next's 308 for non-normalised paths, else 404.
            ("/api/t01/", "308 /api/t01"),
            ("/api/t01/x/?a=1", "308 /api/t01/x?a=1"),
            ("/api//t01", "308 /api/t01"),
            ("/api\\t01", "308 /api/t01"),
            ("/api/t01/x%2F", "308 /api/t01/x"),
            ("/api", "404"),
            ("/api/hello%20world", "404"),
            ("/api/hello world", "404"),
            ("/other/x", "404"),
            // Undecodable: API Gateway's 400 before routing.
            ("/api/t01/%ZZ", "400"),
            ("/api/t01/100%25", "400"),
        ] {
            assert_eq!(pick(&d, target), expect, "{target}");
        }
    }

    #[test]
    fn key_inclusion_is_api_gateways_specificity() {
        let k = |t: &str| RouteKey::parse(t).unwrap();
        // Full keys: a literal is more specific than a variable at the same place.
        assert!(k("ANY /a/{x}").includes(&k("ANY /a/b")));
        assert!(!k("ANY /a/b").includes(&k("ANY /a/{x}")));
        assert!(k("ANY /a/{x}").includes(&k("ANY /a/{y}")));
        assert!(!k("ANY /a/{x}").includes(&k("ANY /a/{x}/c")));
        // Crossing keys include neither.
        assert!(!k("ANY /{a}/x").includes(&k("ANY /x/{b}")));
        assert!(!k("ANY /x/{b}").includes(&k("ANY /{a}/x")));
        // Greedy keys: a shorter, more general prefix includes a longer one.
        assert!(k("ANY /{p+}").includes(&k("ANY /pets/{p+}")));
        assert!(k("ANY /a/{x}/{p+}").includes(&k("ANY /a/b/c/{p+}")));
        assert!(!k("ANY /pets/{p+}").includes(&k("ANY /{p+}")));
        // Tiers are not compared.
        assert!(!k("ANY /a/{p+}").includes(&k("ANY /a/b")));
    }
}
