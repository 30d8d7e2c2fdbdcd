//! Test support (feature `testing`): moto's AWS server on a free 127.0.0.1 port, `cfn-lint`,
//! and small apps made of a manifest and dummy bundles.
//!
//! Everything here panics with a message saying what to install: a missing tool fails the
//! test suite loudly instead of skipping it.

use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region};
use nextr::config::RouteConfig;
use nextr::manifest::{
    Architecture, Function, FunctionUrl, FunctionUrlAuth, GatewayKind, Manifest, ManifestRoute,
    ResponseMode,
};
use nextr::routing::{Param, ParamKind, RouteKind};
use sha2::{Digest, Sha256};

use crate::deploy::aws::http_client;
use crate::deploy::desired::hex;
use crate::deploy::{AwsClients, CallLog, DeploySettings, Desired};
use nextr::manifest::layout::OUT_DIR;

/// The region tests deploy to.
pub const REGION: &str = "us-east-1";

/// The repository root (where `.venv` lives).
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// How to start moto's server: `NEXTR_MOTO_SERVER` (a `moto_server` executable), else
/// `.venv/bin/moto_server`, else `python3 -m moto.server` when `python3` has moto.
pub fn moto_command() -> Result<Command, String> {
    if let Some(path) = std::env::var_os("NEXTR_MOTO_SERVER") {
        return Ok(Command::new(path));
    }
    let venv = workspace_root().join(".venv/bin/moto_server");
    if venv.is_file() {
        return Ok(Command::new(venv));
    }
    let has_moto = Command::new("python3")
        .args(["-c", "import moto.server"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if has_moto {
        let mut c = Command::new("python3");
        c.args(["-m", "moto.server"]);
        return Ok(c);
    }
    Err(
        "moto's server was not found: set NEXTR_MOTO_SERVER to a moto_server executable, \
         or run ./scripts/test.sh, which installs moto[server] into .venv"
            .to_string(),
    )
}

/// `cfn-lint`: `NEXTR_CFN_LINT`, else `.venv/bin/cfn-lint`, else `cfn-lint` on PATH.
pub fn cfn_lint_command() -> Result<Command, String> {
    if let Some(path) = std::env::var_os("NEXTR_CFN_LINT") {
        return Ok(Command::new(path));
    }
    let venv = workspace_root().join(".venv/bin/cfn-lint");
    if venv.is_file() {
        return Ok(Command::new(venv));
    }
    let on_path = Command::new("cfn-lint")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if on_path {
        return Ok(Command::new("cfn-lint"));
    }
    Err(
        "cfn-lint was not found: set NEXTR_CFN_LINT, or run ./scripts/test.sh, which \
         installs it into .venv (python3 -m venv .venv && .venv/bin/pip install cfn-lint)"
            .to_string(),
    )
}

/// A moto server on 127.0.0.1, killed when dropped.
pub struct MotoServer {
    child: Child,
    port: u16,
    log: tempfile::NamedTempFile,
}

impl MotoServer {
    /// Starts moto on a free port and waits until it answers. Panics when it cannot.
    pub fn start() -> Self {
        Self::start_with_env(&[])
    }

    /// Starts moto with these extra environment variables (moto's own settings, such as
    /// `INITIAL_NO_AUTH_ACTION_COUNT=0` to check every request's credentials).
    pub fn start_with_env(env: &[(&str, &str)]) -> Self {
        let mut last_error = String::new();
        // The port is free when picked but may be taken before moto binds it: retry.
        for _ in 0..5 {
            let mut command = moto_command().unwrap_or_else(|e| panic!("{e}"));
            let log = tempfile::NamedTempFile::new().unwrap_or_else(|e| panic!("temp file: {e}"));
            let (out, err) = match (log.reopen(), log.reopen()) {
                (Ok(a), Ok(b)) => (a, b),
                _ => panic!("cannot reopen moto's log file"),
            };
            let port = free_port();
            let child = command
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
                .envs(env.iter().copied())
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(err)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start moto's server ({command:?}): {e}"));
            let mut server = MotoServer { child, port, log };
            match server.wait_ready(Duration::from_secs(60)) {
                Ok(()) => return server,
                // Dropping the server kills it.
                Err(e) => last_error = e,
            }
        }
        panic!("moto's server did not start: {last_error}")
    }

    fn wait_ready(&mut self, limit: Duration) -> Result<(), String> {
        let started = Instant::now();
        while started.elapsed() < limit {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("it exited with {status}: {}", self.log_text()));
            }
            if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let request = "GET /moto-api/data.json HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
                if stream.write_all(request.as_bytes()).is_ok() {
                    let mut head = [0u8; 12];
                    if stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.") {
                        return Ok(());
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(format!("no answer within {limit:?}: {}", self.log_text()))
    }

    /// What moto printed so far.
    pub fn log_text(&self) -> String {
        fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Environment for a `nextr` child process: this endpoint, fake credentials, a region,
    /// and no shared config files, so nothing of the machine's AWS setup leaks in.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_REGION", REGION.to_string()),
            ("AWS_ACCESS_KEY_ID", "testing".to_string()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_string()),
            ("AWS_CONFIG_FILE", "/dev/null".to_string()),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".to_string()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
        ]
    }

    /// Clients pointed at this server with fake credentials, logging into `calls`.
    pub async fn clients(&self, calls: CallLog) -> AwsClients {
        let config = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http_client())
            .region(Region::new(REGION))
            .endpoint_url(self.endpoint())
            .credentials_provider(aws_sdk_lambda::config::Credentials::new(
                "testing",
                "testing",
                None,
                None,
                "nextr-tests",
            ))
            .load()
            .await;
        AwsClients::from_sdk_config(&config, calls).unwrap_or_else(|e| panic!("{e}"))
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port on 127.0.0.1: {e}"))
}

/// Puts one event into a log group, in a stream of its own (created when missing), as a
/// function's instance writes it: how tests stand in for a running function's output.
pub async fn put_log_event(
    clients: &AwsClients,
    group: &str,
    stream: &str,
    at_ms: i64,
    message: &str,
) {
    let _ = clients
        .logs
        .create_log_stream()
        .log_group_name(group)
        .log_stream_name(stream)
        .send()
        .await;
    let event = aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
        .timestamp(at_ms)
        .message(message)
        .build()
        .unwrap_or_else(|e| panic!("log event: {e}"));
    clients
        .logs
        .put_log_events()
        .log_group_name(group)
        .log_stream_name(stream)
        .log_events(event)
        .send()
        .await
        .unwrap_or_else(|e| panic!("PutLogEvents into {group}: {e:?}"));
}

/// Creates an untagged regional custom domain (HTTP API v2), as someone other than this
/// stage's deploy would: what deploy must refuse to take over.
pub async fn create_foreign_domain(clients: &AwsClients, name: &str, certificate_arn: &str) {
    let config = aws_sdk_apigatewayv2::types::DomainNameConfiguration::builder()
        .certificate_arn(certificate_arn)
        .build();
    clients
        .apigw
        .create_domain_name()
        .domain_name(name)
        .domain_name_configurations(config)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateDomainName {name}: {e:?}"));
}

/// A valid, empty zip whose comment makes its bytes (and sha256) unique: moto stores code
/// but cannot run it, so content does not matter, only identity.
pub fn dummy_zip(comment: &str) -> Vec<u8> {
    let comment = comment.as_bytes();
    let mut zip = b"PK\x05\x06".to_vec();
    zip.extend_from_slice(&[0; 16]);
    zip.extend_from_slice(&u16::try_from(comment.len()).unwrap_or(0).to_le_bytes());
    zip.extend_from_slice(&comment[..comment.len().min(usize::from(u16::MAX))]);
    zip
}

/// Writes a dummy zip for function `name` where `nextr build` would put it (named by its
/// sha256); returns its path relative to `out` (the manifest's `bundle`).
fn write_zip(out: &Path, name: &str, comment: &str) -> String {
    let bytes = dummy_zip(comment);
    let bundle = nextr::manifest::layout::bundle(name, &hex(&Sha256::digest(&bytes)));
    let path = out.join(&bundle);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap_or_else(|e| panic!("{}: {e}", parent.display()));
    }
    fs::write(&path, &bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    bundle
}

/// A built app on disk: `.nextr/routes-manifest.json` and `.nextr/functions/*.zip`.
pub struct TestApp {
    dir: tempfile::TempDir,
    /// The manifest as last written.
    pub manifest: Manifest,
}

/// One route of a test app: `(page, API Gateway route keys)`.
pub type TestRoute<'a> = (&'a str, &'a [&'a str]);

impl TestApp {
    /// An app with these routes and a fallback function, written to a fresh temp dir.
    pub fn new(app: &str, routes: &[TestRoute<'_>]) -> Self {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
        let mut manifest = Manifest::new(app, test_function(app, "_default", 3, 128));
        manifest.nextr_version = "0.1.0".to_string();
        manifest.deploy.stage = crate::names::DEFAULT_STAGE.to_string();
        for (page, keys) in routes {
            manifest.routes.push(test_route(app, page, keys));
        }
        let mut this = TestApp { dir, manifest };
        let out = this.out_dir();
        for f in this.functions_mut() {
            f.bundle = write_zip(&out, &f.name, &format!("{} v1", f.name));
        }
        this.write_manifest();
        this
    }

    /// An app behind a REST API: routes with REST resource keys (`ANY /api/post/{pid}`), and
    /// the fallback serving `fallback_keys` (as the build lists them in
    /// `gateway.fallback_keys`).
    pub fn rest(app: &str, routes: &[TestRoute<'_>], fallback_keys: &[&str]) -> Self {
        let mut this = Self::new(app, routes);
        this.manifest.gateway.kind = GatewayKind::Rest;
        this.manifest.gateway.fallback_keys = fallback_keys.iter().map(|k| k.to_string()).collect();
        this.write_manifest();
        this
    }

    /// Switches the app to another gateway kind with these fallback keys (as changing
    /// `gateway` in nextr.toml and rebuilding would; the routes keep their keys, which have
    /// the same shape for both kinds).
    pub fn set_gateway(&mut self, kind: GatewayKind, fallback_keys: &[&str]) {
        self.manifest.gateway.kind = kind;
        self.manifest.gateway.fallback_keys = fallback_keys.iter().map(|k| k.to_string()).collect();
        self.write_manifest();
    }

    fn route_function_mut(&mut self, page: &str) -> &mut Function {
        self.manifest
            .routes
            .iter_mut()
            .find(|r| r.page == page)
            .and_then(|r| r.function.as_mut())
            .unwrap_or_else(|| panic!("no route {page}"))
    }

    /// Sets one route's response mode.
    pub fn set_response_mode(&mut self, page: &str, mode: ResponseMode) {
        self.route_function_mut(page).response_mode = mode;
        self.write_manifest();
    }

    /// Gives one route a function URL (`Some(auth)`) or takes it away (`None`).
    pub fn set_function_url(&mut self, page: &str, auth: Option<FunctionUrlAuth>) {
        self.route_function_mut(page).function_url = auth.map(|auth| FunctionUrl { auth });
        self.write_manifest();
    }

    /// Every key of the manifest: the routes' and the fallback's (for an HTTP API,
    /// `$default`), sorted.
    pub fn all_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self
            .manifest
            .routes
            .iter()
            .flat_map(|r| r.route_keys.clone())
            .collect();
        match self.manifest.gateway.kind {
            GatewayKind::Http => keys.push("$default".to_string()),
            GatewayKind::Rest => keys.extend(self.manifest.gateway.fallback_keys.clone()),
        }
        keys.sort();
        keys
    }

    /// The app's root folder.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The `.nextr` folder.
    pub fn out_dir(&self) -> PathBuf {
        self.dir.path().join(OUT_DIR)
    }

    fn functions_mut(&mut self) -> Vec<&mut Function> {
        let mut functions: Vec<&mut Function> = self
            .manifest
            .routes
            .iter_mut()
            .filter_map(|r| r.function.as_mut())
            .collect();
        functions.push(&mut self.manifest.fallback);
        functions
    }

    /// Writes the manifest, after refreshing every function's sha256 and size from its zip.
    pub fn write_manifest(&mut self) {
        let out = self.out_dir();
        let refresh = |f: &mut Function| {
            let path = out.join(&f.bundle);
            let bytes = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            f.sha256 = hex(&Sha256::digest(&bytes));
            f.bytes = bytes.len() as u64;
        };
        for r in &mut self.manifest.routes {
            if let Some(f) = r.function.as_mut() {
                refresh(f);
            }
        }
        refresh(&mut self.manifest.fallback);
        let path = out.join(nextr::manifest::MANIFEST_FILE);
        fs::create_dir_all(&out).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
        fs::write(&path, self.manifest.to_json())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }

    /// Rebuilds one route with different code (a new zip, a new sha256).
    pub fn change_code(&mut self, page: &str, version: &str) {
        let out = self.out_dir();
        let f = self
            .manifest
            .routes
            .iter_mut()
            .find(|r| r.page == page)
            .and_then(|r| r.function.as_mut())
            .unwrap_or_else(|| panic!("no route {page}"));
        f.bundle = write_zip(&out, &f.name, &format!("{} {version}", f.name));
        self.write_manifest();
    }

    /// Sets a variable in every function's environment (as `[env]` in nextr.toml would, once
    /// rebuilt).
    pub fn set_env(&mut self, name: &str, value: &str) {
        for f in self.functions_mut() {
            f.env.insert(name.to_string(), value.to_string());
        }
        self.write_manifest();
    }

    /// Sets every function's architecture (as `nextr build --arch` would; the zips are left
    /// as they are, so only the architecture differs from the last deploy).
    pub fn set_architecture(&mut self, arch: Architecture) {
        for f in self.functions_mut() {
            f.architecture = arch;
        }
        self.write_manifest();
    }

    /// Deletes one route (as if its file were deleted and the app rebuilt).
    pub fn remove_route(&mut self, page: &str) {
        self.manifest.routes.retain(|r| r.page != page);
        self.write_manifest();
    }

    /// Adds one route.
    pub fn add_route(&mut self, page: &str, keys: &[&str]) {
        let mut route = test_route(&self.manifest.app, page, keys);
        if let Some(f) = &mut route.function {
            f.bundle = write_zip(&self.out_dir(), &f.name, &format!("{} v1", f.name));
        }
        self.manifest.routes.push(route);
        self.write_manifest();
    }

    /// The desired state of a deploy to `stage`.
    pub fn desired(&self, stage: &str) -> Desired {
        let settings = DeploySettings {
            stage: stage.to_string(),
            ..DeploySettings::default()
        };
        Desired::load(&self.out_dir(), &settings).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The desired state of a deploy to `stage` running as the user's role `role_arn`
    /// (`--role`).
    pub fn desired_with_role(&self, stage: &str, role_arn: &str) -> Desired {
        let settings = DeploySettings {
            stage: stage.to_string(),
            role_arn: Some(role_arn.to_string()),
        };
        Desired::load(&self.out_dir(), &settings).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Every route key of the manifest, plus `$default` for the fallback.
    pub fn route_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self
            .manifest
            .routes
            .iter()
            .flat_map(|r| r.route_keys.clone())
            .collect();
        keys.push("$default".to_string());
        keys.sort();
        keys
    }
}

fn test_function(app: &str, slug: &str, timeout_s: u32, memory_mb: u32) -> Function {
    let name = format!("{app}-{slug}");
    Function {
        // Set when its zip is written (the name carries the zip's sha256).
        bundle: String::new(),
        name,
        sha256: String::new(),
        bytes: 0,
        runtime: "provided.al2023".to_string(),
        handler: "bootstrap".to_string(),
        architecture: Architecture::Arm64,
        timeout_s,
        memory_mb,
        env: Default::default(),
        response_mode: Default::default(),
        function_url: None,
    }
}

fn test_route(app: &str, page: &str, keys: &[&str]) -> ManifestRoute {
    let segments: Vec<String> = page
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let mut params = Vec::new();
    let mut kind = RouteKind::Static;
    for s in &segments {
        if let Some(n) = s.strip_prefix("[[...").and_then(|s| s.strip_suffix("]]")) {
            params.push(Param {
                name: n.to_string(),
                kind: ParamKind::OptionalCatchAll,
            });
            kind = RouteKind::OptionalCatchAll;
        } else if let Some(n) = s.strip_prefix("[...").and_then(|s| s.strip_suffix(']')) {
            params.push(Param {
                name: n.to_string(),
                kind: ParamKind::CatchAll,
            });
            kind = RouteKind::CatchAll;
        } else if let Some(n) = s.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            params.push(Param {
                name: n.to_string(),
                kind: ParamKind::Single,
            });
            kind = RouteKind::Dynamic;
        }
    }
    let slug: String = segments
        .iter()
        .map(|s| s.trim_matches(|c| c == '[' || c == ']' || c == '.'))
        .collect::<Vec<_>>()
        .join("-");
    ManifestRoute {
        page: page.to_string(),
        file: format!("{}.rs", page.trim_start_matches('/')),
        router: nextr::routing::Router::Pages,
        kind,
        segments,
        params,
        route_keys: keys.iter().map(|k| k.to_string()).collect(),
        config: RouteConfig::default(),
        function: Some(test_function(app, &slug, 10, 256)),
        build_error: None,
        throttle: None,
        log_retention_days: None,
    }
}
