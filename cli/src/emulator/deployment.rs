//! One deployed version of the app, as the emulator serves it: the gateway model of the
//! manifest (which route a request goes to, the event, the response mapping; see
//! `nextr_infra::gateway`) and the function pool behind each route and behind `$default`,
//! all taken from the manifest, nothing re-derived.
//!
//! A new manifest gives a new deployment; functions whose bundle and settings did not change
//! keep their pool (and warm instances), the others get a new one. Requests hold the
//! deployment they started with, so a swap never cuts one short.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use nextr::manifest::{Architecture, Function, FunctionUrlAuth, Manifest, ResponseMode, SecretRef};
use nextr_infra::gateway::http_api::{Routed, RouterError};
use nextr_infra::gateway::{Gateway, ModelError};

use super::bundle::{self, BundleError};
use super::logs::Logger;
use super::pool::{FunctionPool, FunctionSpec};
use super::protect::Protections;
use super::qemu::{Emulation, QemuError};
use super::secrets::{self, AwsSecrets, SecretValues};
use crate::report::Shown;

/// The label of the `$default` route's function in logs and `nextr invoke`.
pub const DEFAULT_LABEL: &str = "$default";

/// Why a manifest cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum DeploymentError {
    /// A route key the gateway would refuse.
    #[error("route {page}: {source}")]
    RouteKey {
        /// The route.
        page: String,
        /// Why.
        #[source]
        source: nextr_infra::gateway::http_api::route_keys::KeySyntaxError,
    },
    /// The REST API's resources in the manifest are not a tree AWS accepts without dead ends.
    #[error("the manifest's REST API resources: {0}")]
    Resources(#[source] nextr_infra::gateway::rest_api::RouterError),
    /// A bundle is for another architecture, and this machine cannot run it.
    #[error("route {page}: {problem}")]
    Foreign {
        /// The route.
        page: String,
        /// What is missing (in the message: it is the whole explanation).
        problem: QemuError,
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
    /// Variables passed through to every function (`RUST_LOG`, …).
    pub passthrough_env: Vec<(String, String)>,
    /// The developer's environment: a variable a function declares (in the manifest, from
    /// `nextr.toml`) that is also set here takes this value locally, as dotenv-style tools
    /// do (`NOTES_DATA_DIR=/tmp/x nextr dev`).
    pub developer_env: BTreeMap<String, String>,
    /// The emulator's Invoke API (`http://127.0.0.1:PORT`), given to every function as
    /// `NEXTR_LAMBDA_ENDPOINT`: where a proxy's rewrite invokes another function.
    pub lambda_endpoint: Option<String>,
    /// How bundles for another architecture run here (qemu-user).
    pub emulation: Emulation,
    /// How secrets without a local value reach the functions (`nextr dev --aws-secrets`).
    pub aws_secrets: AwsSecrets,
}

impl FunctionDefaults {
    /// The variables of a function: its own from the manifest (each overridden by the
    /// developer's value when set) with the secrets it reads from AWS (`NEXTR_SECRETS`),
    /// then the passed-through ones, the secrets' local values, the developer's AWS
    /// variables when it reads secrets from AWS, then the emulator's Invoke API as
    /// `NEXTR_LAMBDA_ENDPOINT`. The one place a function's environment is made.
    pub fn env_of(&self, function: &Function, secrets: &SecretValues) -> Vec<(String, String)> {
        use nextr::manifest::LAMBDA_ENDPOINT_ENV;
        let endpoint = self
            .lambda_endpoint
            .iter()
            .map(|e| (LAMBDA_ENDPOINT_ENV.to_owned(), e.clone()));
        let aws = match (&self.aws_secrets, secrets.read.is_empty()) {
            (AwsSecrets::Read(vars), false) => vars.clone(),
            _ => Vec::new(),
        };
        function
            .runtime_env_reading(&secrets.read)
            .into_iter()
            .map(|(k, v)| {
                let developer = self
                    .developer_env
                    .get(&k)
                    .filter(|_| k != nextr::manifest::RESPONSE_MODE_ENV);
                let v = developer.cloned().unwrap_or(v);
                (k, v)
            })
            .chain(self.passthrough_env.iter().cloned())
            .chain(secrets.local.iter().cloned())
            .chain(aws)
            // The emulator's own endpoint, whatever `[env]` says: a rewrite must reach it.
            .filter(|(k, _)| self.lambda_endpoint.is_none() || k != LAMBDA_ENDPOINT_ENV)
            .chain(endpoint)
            .collect()
    }
}

/// The values of the app's dev `.env` files (`.env.development.local`, `.env.local`,
/// `.env.development`, `.env`), read from the manifest's app folder at every deployment, for
/// the secrets they give a local value. Only for an app with secrets; a file that cannot be
/// read gives none (the build, which reads the same files, has said why).
fn dev_dotenv(manifest_dir: &Path, manifest: &Manifest) -> BTreeMap<String, String> {
    if manifest.access.secrets.is_empty()
        && manifest
            .access
            .routes
            .values()
            .all(|r| r.secrets.is_empty())
    {
        return BTreeMap::new();
    }
    let root = manifest_dir.join(&manifest.source.app_root);
    crate::project::DotEnv::load(&root, crate::project::EnvMode::Development)
        .map(|d| d.values)
        .unwrap_or_default()
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
    env: Vec<(String, String)>,
    architecture: Architecture,
}

/// One function as served: a route's, or the `$default` route's.
pub struct Target {
    /// The page pattern (`$default` for the fallback).
    pub page: String,
    /// The route file (empty for the fallback).
    pub file: String,
    /// The function, or `None` when the manifest has no built function for the route.
    pub function: Option<Arc<FunctionPool>>,
    /// The function's URL, when it has one: its name (the URL's host) and auth type.
    pub function_url: Option<(String, FunctionUrlAuth)>,
    /// Whether the function streams where its front can stream.
    pub response_mode: ResponseMode,
    /// Why the route's file does not build (the manifest's `build_error`): `nextr dev`
    /// answers its requests 500 with it.
    pub build_error: Option<String>,
    /// The secrets the function reads that have no value here (one line each): `nextr dev`
    /// answers its requests 500 with them, and says them once at start.
    pub missing_secrets: Vec<String>,
    pool_key: Option<PoolKey>,
}

impl Target {
    /// What `nextr dev` answers for a route whose file does not build: a first line saying
    /// so (dev only: a deployed app never has such a route), then the diagnostic.
    pub fn does_not_build(&self) -> Option<String> {
        let error = self.build_error.as_deref()?;
        Some(format!(
            "nextr dev: {} does not build\n\n{}\n",
            Shown(&self.file),
            error.trim_end()
        ))
    }

    /// What `nextr dev` answers for a function missing secrets: every missing one.
    pub fn misses_secrets(&self) -> Option<String> {
        if self.missing_secrets.is_empty() {
            return None;
        }
        Some(format!(
            "nextr dev: {}
",
            self.missing_secrets.join("\n")
        ))
    }
}

/// Where a request goes.
pub enum Resolved<'a> {
    /// To this function, with the gateway's routing of it (for the event).
    Function(&'a Target, Routed<'a>),
    /// Nowhere: the gateway answers 400 itself.
    BadRequest,
}

/// One servable version of the app.
pub struct Deployment {
    /// The manifest served.
    manifest: Manifest,
    gateway: Gateway,
    targets: Vec<Target>,
    fallback: Target,
    protections: Protections,
}

/// The pools a deployment is being built from.
struct Pools<'a> {
    manifest_dir: &'a Path,
    defaults: &'a FunctionDefaults,
    logger: &'a Logger,
    /// The dev `.env` files' values: local values of secrets.
    dotenv: BTreeMap<String, String>,
    reusable: HashMap<String, (&'a PoolKey, &'a Arc<FunctionPool>)>,
    made: HashMap<String, Arc<FunctionPool>>,
}

impl Pools<'_> {
    /// The target of one function, reusing an unchanged pool.
    fn target(
        &mut self,
        page: &str,
        file: &str,
        function: Option<&Function>,
        secrets: &[SecretRef],
    ) -> Result<Target, DeploymentError> {
        let Some(f) = function else {
            return Ok(Target {
                page: page.to_owned(),
                file: file.to_owned(),
                function: None,
                function_url: None,
                response_mode: ResponseMode::Buffered,
                build_error: None,
                missing_secrets: Vec::new(),
                pool_key: None,
            });
        };
        let resolved = secrets::resolve(
            page,
            secrets,
            &self.defaults.developer_env,
            &self.dotenv,
            &self.defaults.aws_secrets,
        );
        let env = self.defaults.env_of(f, &resolved);
        let key = PoolKey {
            name: f.name.clone(),
            sha256: f.sha256.to_ascii_lowercase(),
            timeout_s: f.timeout_s,
            memory_mb: f.memory_mb,
            handler: f.handler.clone(),
            max_instances: self.defaults.max_instances,
            env: env.clone(),
            architecture: f.architecture,
        };
        let pool = match (self.made.get(&f.name), self.reusable.get(&f.name)) {
            (Some(p), _) => p.clone(),
            (None, Some((old, p))) if **old == key => (*p).clone(),
            _ => {
                let task_root = bundle::unpack(
                    &self.manifest_dir.join(&f.bundle),
                    &f.sha256,
                    &self.defaults.cache_dir,
                )
                .map_err(|source| DeploymentError::Bundle {
                    page: page.to_owned(),
                    source,
                })?;
                // Before any request: a bundle this machine cannot run fails the start.
                let launcher = self
                    .defaults
                    .emulation
                    .launcher(f.architecture, &task_root.join("bootstrap"))
                    .map_err(|problem| DeploymentError::Foreign {
                        page: page.to_owned(),
                        problem,
                    })?;
                Arc::new(FunctionPool::new(
                    FunctionSpec {
                        name: f.name.clone(),
                        route: page.to_owned(),
                        task_root,
                        handler: f.handler.clone(),
                        timeout: Duration::from_secs(u64::from(f.timeout_s.max(1))),
                        memory_mb: f.memory_mb,
                        region: self.defaults.region.clone(),
                        max_instances: self.defaults.max_instances,
                        passthrough_env: env,
                        launcher,
                    },
                    self.logger.clone(),
                ))
            }
        };
        self.made.insert(f.name.clone(), pool.clone());
        Ok(Target {
            page: page.to_owned(),
            file: file.to_owned(),
            function: Some(pool),
            function_url: f.function_url.as_ref().map(|u| (f.name.clone(), u.auth)),
            response_mode: f.response_mode,
            build_error: None,
            missing_secrets: resolved.missing,
            pool_key: Some(key),
        })
    }
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
        let gateway = Gateway::new(manifest).map_err(|e| match e {
            ModelError::Http(RouterError { owner, source }) => DeploymentError::RouteKey {
                page: manifest
                    .routes
                    .get(owner)
                    .map(|r| r.page.clone())
                    .unwrap_or_default(),
                source,
            },
            ModelError::Rest(e) => DeploymentError::Resources(e),
        })?;
        let mut pools = Pools {
            manifest_dir,
            defaults,
            logger,
            dotenv: dev_dotenv(manifest_dir, manifest),
            reusable: HashMap::new(),
            made: HashMap::new(),
        };
        for t in previous
            .map(|p| p.all().collect::<Vec<_>>())
            .unwrap_or_default()
        {
            if let (Some(key), Some(pool)) = (&t.pool_key, &t.function) {
                pools.reusable.insert(key.name.clone(), (key, pool));
            }
        }
        let mut targets = Vec::with_capacity(manifest.routes.len());
        for route in &manifest.routes {
            let secrets = manifest
                .access
                .secrets_for_stage(Some(&route.page), &manifest.deploy.stage);
            let mut target =
                pools.target(&route.page, &route.file, route.function.as_ref(), &secrets)?;
            target.build_error = route.build_error.clone();
            targets.push(target);
        }
        let secrets = manifest
            .access
            .secrets_for_stage(None, &manifest.deploy.stage);
        let fallback = pools.target(DEFAULT_LABEL, "", Some(&manifest.fallback), &secrets)?;
        Ok(Deployment {
            manifest: manifest.clone(),
            protections: Protections::new(manifest),
            gateway,
            targets,
            fallback,
        })
    }

    /// Every secret a function reads with no value here, one line each (a secret of
    /// several functions once per function).
    pub fn missing_secrets(&self) -> Vec<String> {
        self.all()
            .flat_map(|t| t.missing_secrets.iter().cloned())
            .collect()
    }

    /// The manifest this deployment serves.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The gateway in front of the functions.
    pub fn gateway(&self) -> &Gateway {
        &self.gateway
    }

    /// The gateway's CORS and throttling (its buckets live as long as the deployment).
    pub fn protections(&self) -> &Protections {
        &self.protections
    }

    /// Where the gateway sends a raw request target (path and query, as received): a route's
    /// function, the `$default` route's, or nowhere (400).
    pub fn resolve(&self, target: &str) -> Resolved<'_> {
        let routed = self.gateway.route(target);
        let function = match &routed {
            Routed::Route { owner, .. } => self.targets.get(*owner),
            Routed::Default { .. } => Some(&self.fallback),
            Routed::BadRequest => None,
        };
        match function {
            Some(t) => Resolved::Function(t, routed),
            None => Resolved::BadRequest,
        }
    }

    /// The function with this manifest name (a route's, or the `$default` route's), when it
    /// is built: what dev's Invoke API runs.
    pub fn function_named(&self, name: &str) -> Option<&Target> {
        self.all()
            .find(|t| t.function.as_ref().is_some_and(|p| p.spec().name == name))
    }

    /// A function by page pattern (`/api/hello`), file (`api/hello.rs`) or `$default`.
    pub fn find(&self, route: &str) -> Option<&Target> {
        self.all()
            .find(|t| t.page == route || (!t.file.is_empty() && t.file == route))
    }

    /// The function whose function URL has this name (the host's first label), with its
    /// auth type; names compare as DNS does, ignoring case.
    pub fn function_url(&self, name: &str) -> Option<(&Target, FunctionUrlAuth)> {
        self.all().find_map(|t| match &t.function_url {
            Some((n, auth)) if n.eq_ignore_ascii_case(name) => Some((t, *auth)),
            _ => None,
        })
    }

    /// Every function URL served: function name and auth type, in the manifest's order.
    pub fn function_urls(&self) -> Vec<(String, FunctionUrlAuth)> {
        self.all().filter_map(|t| t.function_url.clone()).collect()
    }

    /// Every target, the fallback last.
    fn all(&self) -> impl Iterator<Item = &Target> {
        self.targets.iter().chain(std::iter::once(&self.fallback))
    }

    /// The unpacked bundle folders this deployment runs.
    pub fn task_roots(&self) -> std::collections::HashSet<PathBuf> {
        self.pools().map(|p| p.spec().task_root.clone()).collect()
    }

    /// Every pool of this deployment.
    pub fn pools(&self) -> impl Iterator<Item = &Arc<FunctionPool>> {
        self.all().filter_map(|t| t.function.as_ref())
    }

    /// Whether this deployment runs `pool` (by identity).
    pub fn uses(&self, pool: &Arc<FunctionPool>) -> bool {
        self.pools().any(|p| Arc::ptr_eq(p, pool))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_declared_variable_takes_the_developers_value_and_undeclared_ones_stay_out() {
        let defaults = FunctionDefaults {
            cache_dir: PathBuf::new(),
            region: "us-east-1".into(),
            max_instances: 1,
            passthrough_env: vec![("RUST_LOG".into(), "debug".into())],
            developer_env: BTreeMap::from([
                ("BB".into(), "mine".into()),
                ("HOME".into(), "/home/me".into()),
                // The response mode is the manifest's, not the developer's.
                ("NEXTR_RESPONSE_MODE".into(), "stream".into()),
                // The emulator's Invoke API, not the developer's.
                ("NEXTR_LAMBDA_ENDPOINT".into(), "http://elsewhere".into()),
            ]),
            lambda_endpoint: Some("http://127.0.0.1:4321".into()),
            emulation: Emulation::default(),
            aws_secrets: AwsSecrets::Off,
        };
        let f: Function = serde_json::from_value(serde_json::json!({
            "name": "f", "bundle": "functions/f.zip", "sha256": "", "bytes": 0,
            "runtime": "provided.al2023", "handler": "bootstrap", "architecture": "x86_64",
            "timeout_s": 3, "memory_mb": 128,
            "env": {"AA": "file", "BB": "file", "NEXTR_LAMBDA_ENDPOINT": "http://file"}
        }))
        .unwrap();
        let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(
            defaults.env_of(&f, &SecretValues::default()),
            pairs(&[
                ("AA", "file"),
                ("BB", "mine"),
                ("NEXTR_RESPONSE_MODE", "buffered"),
                ("RUST_LOG", "debug"),
                ("NEXTR_LAMBDA_ENDPOINT", "http://127.0.0.1:4321"),
            ])
        );
    }
}
