//! One deployed version of the app, as the emulator serves it: the route table (built from
//! the manifest's route files, so precedence is Next's), each route's API Gateway route keys,
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
use nextr::routing::{Resolution, RouteTable, TreeError};

use super::bundle::{self, BundleError};
use super::event::RouteKey;
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
    /// A route has no route key at all.
    #[error("route {0} has no API Gateway route key in the manifest")]
    NoRouteKey(String),
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
    /// The route's API Gateway route keys, in manifest order.
    pub keys: Vec<RouteKey>,
    /// The function, or `None` when the manifest has no built function for the route.
    pub function: Option<Arc<FunctionPool>>,
    pool_key: Option<PoolKey>,
}

impl Target {
    /// The route key API Gateway would match for a decoded path, with its path parameters
    /// (the first key that fits; the first key when none does, e.g. for an encoded `/`).
    pub fn route_key_for(&self, gateway_path: &str) -> &RouteKey {
        self.keys
            .iter()
            .find(|k| k.match_path(gateway_path).is_some())
            .unwrap_or(&self.keys[0])
    }
}

/// What the route table says about a request target.
pub enum Resolved<'a> {
    /// A route answers.
    Route(&'a Target),
    /// 308 to this location.
    Redirect(String),
    /// No route matches.
    NotFound,
    /// A matched dynamic segment has a malformed escape.
    BadRequest,
}

/// One servable version of the app.
pub struct Deployment {
    table: RouteTable,
    targets: Vec<Target>,
    by_file: HashMap<String, usize>,
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
        let table = RouteTable::from_files(manifest.routes.iter().map(|r| r.file.as_str()))?;
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
            if keys.is_empty() {
                return Err(DeploymentError::NoRouteKey(route.page.clone()));
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
        let by_file = targets
            .iter()
            .enumerate()
            .map(|(i, t)| (t.file.clone(), i))
            .collect();
        Ok(Deployment {
            table,
            targets,
            by_file,
        })
    }

    /// Resolves a raw request target with Next's rules.
    pub fn resolve(&self, target: &str) -> Resolved<'_> {
        match self.table.resolve(target) {
            Resolution::Route(m) => match self.by_file.get(&m.route.file) {
                Some(&i) => Resolved::Route(&self.targets[i]),
                None => Resolved::NotFound,
            },
            Resolution::Redirect(location) => Resolved::Redirect(location),
            Resolution::NotFound => Resolved::NotFound,
            Resolution::BadRequest => Resolved::BadRequest,
        }
    }

    /// A route by page pattern (`/api/hello`) or file (`api/hello.rs`).
    pub fn find(&self, route: &str) -> Option<&Target> {
        self.targets
            .iter()
            .find(|t| t.page == route || t.file == route)
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
