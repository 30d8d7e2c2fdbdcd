//! The local emulator behind `nextr dev` and `nextr invoke`: API Gateway HTTP API in front,
//! the Lambda Runtime API behind, and the app's real bundles in between.
//!
//! | module | what it owns |
//! |---|---|
//! | [`gateway`] | the HTTP server, over the gateway model of `nextr_infra::gateway` (routing, events, responses, API Gateway's own answers) |
//! | [`function_url`] | the functions' URLs (`<name>.lambda-url.localhost`): event, auth, answers |
//! | [`runtime_api`] | the Runtime API endpoint each instance polls |
//! | [`invoke_api`] | Lambda's Invoke API on 127.0.0.1: a proxy's rewrite to another function |
//! | [`stream`] | streamed responses, from the runtime's chunked POST to the client |
//! | [`pool`] | instances per function: start, scale out, timeouts, crashes |
//! | [`logs`] | `START` / `END` / `REPORT`, the functions' output, the request log |
//! | [`bundle`] | unpacking bundles once per sha256 |
//! | [`qemu`] | bundles for another architecture, under qemu-user |
//! | [`busy_poll`] | staying awake for a lone request's round trip |
//! | [`deployment`] | one servable version of the manifest |
//! | [`protect`] | the gateway's CORS and throttling, from the manifest |
//! | [`watch`] | source and manifest changes |

pub(crate) mod bundle;
pub mod busy_poll;
pub mod deployment;
pub mod function_url;
pub(crate) mod gateway;
pub(crate) mod invoke_api;
pub mod logs;
pub mod pool;
pub mod protect;
pub mod qemu;
pub(crate) mod runtime_api;
pub mod secrets;
pub mod stream;
pub mod watch;

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use bytes::Bytes;
use nextr::manifest::{Manifest, ManifestError, MANIFEST_FILE};
use tokio::net::TcpListener;
use tokio::sync::watch as signal;
use tokio::task::JoinHandle;

use busy_poll::{BusyPoll, InFlight};
use deployment::{Deployment, DeploymentError, FunctionDefaults};
use logs::Logger;
use pool::{Outcome, PoolRef};

/// HTTP API's integration timeout: its maximum, and the default for Lambda integrations.
pub const INTEGRATION_TIMEOUT: Duration =
    Duration::from_secs(nextr::limits::HTTP_API_TIMEOUT_S as u64);

/// How long a REST API waits for the next chunk of a streamed response.
pub const STREAM_IDLE_TIMEOUT: Duration =
    Duration::from_secs(nextr::limits::REST_API_STREAM_IDLE_S as u64);

/// Instances per function by default: measured on 2 cores, 8 instances of a small function
/// gave the most requests per second (see the peers benchmark).
pub const DEFAULT_MAX_INSTANCES: usize = 8;

/// Why the emulator cannot serve.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// No manifest (or it cannot be read).
    #[error("cannot read the route manifest {}; run `nextr build` first", .path.display())]
    ReadManifest {
        /// The manifest path.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The manifest is not valid.
    #[error("{}: {source}", .path.display())]
    Manifest {
        /// The manifest path.
        path: PathBuf,
        /// Why.
        #[source]
        source: ManifestError,
    },
    /// The manifest cannot be served.
    #[error(transparent)]
    Deployment(#[from] DeploymentError),
    /// A port asked for (`--port`, `PORT`) is taken.
    #[error("port {} on {} is in use (another `nextr dev`?): stop what listens there, or pass another --port", .addr.port(), .addr.ip())]
    PortInUse {
        /// The address.
        addr: SocketAddr,
    },
    /// The Invoke API's port cannot be opened.
    #[error("cannot open the Lambda Invoke API on 127.0.0.1 (where a proxy's rewrites invoke other functions)")]
    InvokeApi(#[source] std::io::Error),
    /// The HTTP port cannot be opened.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// `nextr invoke` named no route of the app.
    #[error("no route `{0}` in the route manifest (give a page such as /api/hello or a file such as api/hello.rs)")]
    UnknownRoute(String),
    /// The route exists but has no built function.
    #[error("route {0} has no built function in the route manifest; run `nextr build`")]
    NotBuilt(String),
    /// The route's file does not build (a `nextr dev` build left it out).
    #[error("{file} does not build:\n{diagnostic}")]
    DoesNotBuild {
        /// The route file.
        file: String,
        /// Its diagnostic.
        diagnostic: String,
    },
    /// The function reads secrets that have no value here (one line each).
    #[error("{0}")]
    MissingSecrets(String),
}

/// Emulator settings.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Instances per function at most.
    pub max_instances: usize,
    /// How long the gateway waits for a function, for every route; `None`: each route's
    /// gateway's own integration timeout (`GatewayKind::timeout_s` of its response mode).
    pub integration_timeout: Option<Duration>,
    /// `AWS_REGION` for the functions.
    pub region: String,
    /// Variables of the developer's environment passed to every function.
    pub passthrough_env: Vec<(String, String)>,
    /// The developer's environment: a variable a function declares takes its value here.
    pub developer_env: BTreeMap<String, String>,
    /// How long the gateway keeps polling around a lone request (zero: never).
    pub busy_poll: Duration,
    /// What a client may hold of the HTTP front.
    pub front: FrontLimits,
    /// A REST API closes a streamed response that sends nothing for this long
    /// (`nextr::limits::REST_API_STREAM_IDLE_S`).
    pub stream_idle_timeout: Duration,
    /// Whether the front logs each request (`nextr dev`), and in colour or not.
    pub request_log: logs::RequestLog,
    /// How secrets without a local value reach the functions (`--aws-secrets`).
    pub aws_secrets: secrets::AwsSecrets,
}

/// The HTTP front's bounds on clients (see `gateway::serve`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrontLimits {
    /// A request's headers must arrive within this, also after an idle keep-alive pause.
    pub header_timeout: Duration,
    /// A request's body must arrive within this.
    pub body_timeout: Duration,
    /// Connections open at once; one more is answered 503 and closed.
    pub max_connections: usize,
}

/// How long a request's headers may take to arrive (also the idle keep-alive timeout).
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a request's body may take to arrive: the gateway's integration timeout.
pub const BODY_TIMEOUT: Duration = INTEGRATION_TIMEOUT;

impl FrontLimits {
    /// The default bounds: connections up to half the process's open-file limit (the rest
    /// is for the functions' pipes and Runtime API sockets), between 64 and 4,096.
    pub fn for_this_process() -> Self {
        let files = rustix::process::getrlimit(rustix::process::Resource::Nofile)
            .current
            .unwrap_or(4096 * 2);
        FrontLimits {
            header_timeout: HEADER_TIMEOUT,
            body_timeout: BODY_TIMEOUT,
            max_connections: usize::try_from(files / 2).unwrap_or(4096).clamp(64, 4096),
        }
    }
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            max_instances: DEFAULT_MAX_INSTANCES,
            integration_timeout: None,
            region: "us-east-1".into(),
            passthrough_env: Vec::new(),
            developer_env: BTreeMap::new(),
            busy_poll: busy_poll::DEFAULT_WINDOW,
            front: FrontLimits::for_this_process(),
            stream_idle_timeout: STREAM_IDLE_TIMEOUT,
            request_log: logs::RequestLog::Off,
            aws_secrets: secrets::AwsSecrets::Off,
        }
    }
}

/// What a swap changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SwapSummary {
    /// Functions that got new instances (new, or changed bundle or settings).
    pub replaced: Vec<String>,
    /// Functions whose warm instances were kept.
    pub kept: usize,
    /// Routes served after the swap.
    pub routes: usize,
}

/// The route manifest's path under an app's output folder.
pub fn manifest_path(manifest_dir: &Path) -> PathBuf {
    manifest_dir.join(MANIFEST_FILE)
}

/// Reads and checks the manifest in `manifest_dir` (`<app>/.nextr`).
pub fn read_manifest(manifest_dir: &Path) -> Result<Manifest, EmulatorError> {
    let path = manifest_path(manifest_dir);
    let text = std::fs::read_to_string(&path).map_err(|source| EmulatorError::ReadManifest {
        path: path.clone(),
        source,
    })?;
    Manifest::from_json(&text).map_err(|source| EmulatorError::Manifest { path, source })
}

/// The emulator: the current deployment and every pool it ever started.
pub struct Emulator {
    manifest_dir: PathBuf,
    config: EmulatorConfig,
    defaults: FunctionDefaults,
    logger: Logger,
    current: RwLock<Arc<Deployment>>,
    /// Every pool started, to stop even replaced ones at exit.
    pools: Mutex<Vec<PoolRef>>,
    /// Swaps run one at a time.
    swapping: Mutex<()>,
    busy_poll: Arc<BusyPoll>,
    /// The Invoke API's socket, bound at once so every function's environment names it, until
    /// [`Emulator::serve_invoke_api`] serves it.
    invoke_api: Mutex<Option<std::net::TcpListener>>,
    invoke_api_addr: SocketAddr,
}

impl Emulator {
    /// Prepares the manifest's functions (bundles unpacked; no process starts until a request
    /// needs one).
    pub fn new(
        manifest_dir: &Path,
        manifest: &Manifest,
        config: EmulatorConfig,
        logger: Logger,
    ) -> Result<Self, EmulatorError> {
        // Absolute, because each process runs with its unpacked bundle as working directory.
        let manifest_dir =
            &std::path::absolute(manifest_dir).unwrap_or_else(|_| manifest_dir.to_path_buf());
        // Loopback only, whatever `--host` says: only the functions call it.
        let invoke_api = std::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0))
            .and_then(|l| l.set_nonblocking(true).map(|()| l))
            .map_err(EmulatorError::InvokeApi)?;
        let invoke_api_addr = invoke_api.local_addr().map_err(EmulatorError::InvokeApi)?;
        let defaults = FunctionDefaults {
            cache_dir: manifest_dir.join(nextr::manifest::layout::UNPACKED_DIR),
            region: config.region.clone(),
            max_instances: config.max_instances,
            passthrough_env: config.passthrough_env.clone(),
            developer_env: config.developer_env.clone(),
            lambda_endpoint: Some(format!("http://{invoke_api_addr}")),
            emulation: qemu::Emulation::from_env(&config.developer_env),
            aws_secrets: config.aws_secrets.clone(),
        };
        let deployment = Deployment::build(manifest_dir, manifest, &defaults, None, &logger)?;
        bundle::prune(&defaults.cache_dir, &deployment.task_roots());
        let pools = deployment.pools().map(|p| p.weak()).collect();
        Ok(Emulator {
            manifest_dir: manifest_dir.to_path_buf(),
            defaults,
            logger,
            current: RwLock::new(Arc::new(deployment)),
            pools: Mutex::new(pools),
            swapping: Mutex::new(()),
            busy_poll: BusyPoll::new(config.busy_poll),
            config,
            invoke_api: Mutex::new(Some(invoke_api)),
            invoke_api_addr,
        })
    }

    /// The address of the Lambda Invoke API the functions call (`NEXTR_LAMBDA_ENDPOINT`).
    pub fn invoke_api_addr(&self) -> SocketAddr {
        self.invoke_api_addr
    }

    /// Starts serving the Invoke API (within a tokio runtime; calls made since the emulator
    /// was made waited in the socket's backlog). `None` when it is served already.
    pub fn serve_invoke_api(self: &Arc<Self>) -> Option<JoinHandle<()>> {
        let listener = self
            .invoke_api
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()?;
        match TcpListener::from_std(listener) {
            Ok(listener) => Some(tokio::spawn(invoke_api::serve(listener, self.clone()))),
            Err(e) => {
                self.logger.line(format!(
                    "warning: cannot serve the Lambda Invoke API on {}: {e}; a proxy's rewrites to other functions will fail",
                    self.invoke_api_addr
                ));
                None
            }
        }
    }

    /// The deployment new requests go to.
    pub fn deployment(&self) -> Arc<Deployment> {
        match self.current.read() {
            Ok(d) => d.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &EmulatorConfig {
        &self.config
    }

    /// Counts a gateway request in flight until the guard is dropped.
    pub fn request_in_flight(&self) -> InFlight {
        self.busy_poll.enter()
    }

    /// The log writer.
    pub fn logger(&self) -> &Logger {
        &self.logger
    }

    /// The folder holding the manifest (`<app>/.nextr`).
    pub fn manifest_dir(&self) -> &Path {
        &self.manifest_dir
    }

    /// Serves a new manifest: new requests go to the new deployment at once; requests in
    /// flight finish on the old one, whose replaced functions stop once they are idle. On
    /// error nothing changes.
    pub fn swap(&self, manifest: &Manifest) -> Result<SwapSummary, EmulatorError> {
        let _one_at_a_time = self.swapping.lock().unwrap_or_else(|p| p.into_inner());
        let old = self.deployment();
        let new = Deployment::build(
            &self.manifest_dir,
            manifest,
            &self.defaults,
            Some(&old),
            &self.logger,
        )?;
        let mut summary = SwapSummary {
            routes: manifest.routes.len(),
            ..SwapSummary::default()
        };
        let mut fresh = Vec::new();
        for pool in new.pools() {
            if old.uses(pool) {
                summary.kept += 1;
            } else {
                summary.replaced.push(pool.spec().name.clone());
                fresh.push(pool.weak());
            }
        }
        summary.replaced.sort();
        summary.replaced.dedup();
        // Bundles of both versions stay: the old one serves the requests in flight.
        let mut keep = new.task_roots();
        keep.extend(old.task_roots());
        bundle::prune(&self.defaults.cache_dir, &keep);
        if let Ok(mut pools) = self.pools.lock() {
            pools.retain(|p| !p.is_gone());
            pools.extend(fresh);
        }
        match self.current.write() {
            Ok(mut current) => *current = Arc::new(new),
            Err(p) => *p.into_inner() = Arc::new(new),
        }
        // `old` is dropped here; its replaced pools drain once no request holds them.
        Ok(summary)
    }

    /// Runs one invocation of a route's function with a ready-made event.
    pub async fn invoke(&self, route: &str, event: Bytes) -> Result<Outcome, EmulatorError> {
        let deployment = self.deployment();
        let target = deployment
            .find(route)
            .ok_or_else(|| EmulatorError::UnknownRoute(route.to_owned()))?;
        if let Some(diagnostic) = &target.build_error {
            return Err(EmulatorError::DoesNotBuild {
                file: target.file.clone(),
                diagnostic: diagnostic.trim_end().to_owned(),
            });
        }
        if !target.missing_secrets.is_empty() {
            return Err(EmulatorError::MissingSecrets(
                target.missing_secrets.join("\n"),
            ));
        }
        let pool = target
            .function
            .clone()
            .ok_or_else(|| EmulatorError::NotBuilt(target.page.clone()))?;
        Ok(pool.invoke(event).await)
    }

    /// Instances alive or starting, across every pool.
    pub fn live_instances(&self) -> usize {
        self.pools
            .lock()
            .map(|pools| pools.iter().map(PoolRef::live).sum())
            .unwrap_or(0)
    }

    /// Kills every instance of every pool, current or replaced.
    pub fn shutdown(&self) {
        if let Ok(pools) = self.pools.lock() {
            for p in pools.iter() {
                p.shutdown();
            }
        }
        for p in self.deployment().pools() {
            p.shutdown();
        }
    }

    /// Waits (at most `limit`) until every instance has stopped after [`Emulator::shutdown`].
    pub async fn stopped(&self, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        while self.live_instances() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// `nextr dev`'s port when none is asked for, as `next dev`'s.
pub const DEFAULT_PORT: u16 = 3000;

/// How many ports after [`DEFAULT_PORT`] are tried before any free port is taken.
const DEFAULT_PORT_TRIES: u16 = 10;

/// The front's socket, bound before anything is built so that a taken port is known at once,
/// and kept (no check-then-bind race) until [`Server::start`] serves on it.
pub struct Bound {
    listener: TcpListener,
    addr: SocketAddr,
    /// The default port, when it was taken and this is another.
    instead_of: Option<u16>,
}

impl Bound {
    /// The address bound.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The default port this one replaces, when the default was taken.
    pub fn instead_of(&self) -> Option<u16> {
        self.instead_of
    }
}

/// Binds the front's socket (within a tokio runtime). A port asked for (`Some`; 0: any free
/// port) is that port or an error; without one, [`DEFAULT_PORT`] or, when it is taken, the
/// next free port after it (then any free port), as `next dev` does.
pub async fn bind(host: IpAddr, port: Option<u16>) -> Result<Bound, EmulatorError> {
    let bind_one = |port: u16| async move {
        let addr = SocketAddr::new(host, port);
        match TcpListener::bind(addr).await {
            Ok(listener) => {
                let addr = listener
                    .local_addr()
                    .map_err(|source| EmulatorError::Bind { addr, source })?;
                Ok(Bound {
                    listener,
                    addr,
                    instead_of: None,
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
                Err(EmulatorError::PortInUse { addr })
            }
            Err(source) => Err(EmulatorError::Bind { addr, source }),
        }
    };
    if let Some(port) = port {
        return bind_one(port).await;
    }
    let fallbacks = (1..=DEFAULT_PORT_TRIES)
        .filter_map(|n| DEFAULT_PORT.checked_add(n))
        .chain([0]);
    match bind_one(DEFAULT_PORT).await {
        Err(EmulatorError::PortInUse { .. }) => {}
        other => return other,
    }
    for port in fallbacks {
        match bind_one(port).await {
            Err(EmulatorError::PortInUse { .. }) => continue,
            Ok(bound) => {
                return Ok(Bound {
                    instead_of: Some(DEFAULT_PORT),
                    ..bound
                })
            }
            Err(e) => return Err(e),
        }
    }
    // Port 0 is never "in use"; this is only reached if the OS says otherwise.
    Err(EmulatorError::PortInUse {
        addr: SocketAddr::new(host, 0),
    })
}

/// The HTTP server of a running emulator.
pub struct Server {
    addr: SocketAddr,
    stop: signal::Sender<bool>,
    task: JoinHandle<()>,
    poller: JoinHandle<()>,
    invoke_api: Option<JoinHandle<()>>,
}

impl Server {
    /// Starts serving on a bound socket (connections made since it was bound waited in its
    /// backlog and are served now).
    pub fn start(emulator: Arc<Emulator>, bound: Bound) -> Self {
        let (stop, stopped) = signal::channel(false);
        let poller = tokio::spawn(emulator.busy_poll.clone().run());
        let invoke_api = emulator.serve_invoke_api();
        let task = tokio::spawn(gateway::serve(bound.listener, emulator, stopped));
        Server {
            addr: bound.addr,
            stop,
            task,
            poller,
            invoke_api,
        }
    }

    /// The address actually bound.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting connections.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
        self.poller.abort();
        if let Some(invoke_api) = self.invoke_api {
            invoke_api.abort();
        }
    }
}
