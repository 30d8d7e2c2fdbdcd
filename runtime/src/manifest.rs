//! The route manifest (`.nextr/routes-manifest.json`): the contract between build, dev and
//! deploy. Build writes it; everything downstream reads it and re-derives nothing: which path
//! goes to which function (the gateway's route keys), each function's bundle, timeout,
//! memory, architecture and merged environment, the build profile, the gateway kind and its
//! warnings, and the deploy defaults. Paths inside are relative to the manifest's folder, so
//! a build folder can be moved, served (`nextr dev DIR`) and deployed (`nextr deploy DIR`).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::config::RouteConfig;
use crate::proxy::matcher::MatcherSpec;
use crate::routing::{Param, RouteKind, Router};

/// The schema version this crate reads and writes. Version 2 added `profile`, `gateway`,
/// `deploy`, `source`, each function's `env`, and made `fallback` required; version 3 added
/// the `rest` gateway kind, `gateway.fallback_keys`, and each function's `response_mode` and
/// `function_url`; version 4 added each route's `router` (App Router route files), then the
/// optional `build_error` of `nextr dev` builds (older readers refuse it as unknown); version
/// 5 added `proxy` (the app's `proxy.rs` and its matcher); version 6 added
/// `deploy.log_retention_days`, each route's `log_retention_days` and `gateway.domain`, and the
/// build always writes `gateway.throttle` (the default stage throttle when `nextr.toml` sets
/// none); version 7 added `access` (`nextr.toml`'s secrets and IAM permissions, see
/// [`access`]).
pub const MANIFEST_VERSION: u32 = 7;

pub mod access;
pub use access::{Access, Effect, PolicyStatement, RouteAccess, SecretRef, SecretStore};

/// The environment variable through which dev and deploy tell a function its
/// [`ResponseMode`] (`buffered` or `stream`); the runtime reads it at start. Set from
/// [`Function::runtime_env`], never by hand.
pub const RESPONSE_MODE_ENV: &str = "NEXTR_RESPONSE_MODE";

/// Set on a prerendered App Router route's `bootstrap` by `nextr build`: the function then
/// runs its GET handler once with Next's synthetic request, writes the response to this path
/// as JSON, and exits instead of serving.
pub const PRERENDER_OUT_ENV: &str = "NEXTR_PRERENDER_OUT";

/// The prerendered response's file, beside `bootstrap` in a prerendered route's bundle.
pub const PRERENDERED_FILE: &str = "prerendered.json";

/// The manifest's file name inside the build folder.
pub const MANIFEST_FILE: &str = "routes-manifest.json";

/// The proxy's description ([`ProxyBundle`]), beside `bootstrap` in every bundle of an app
/// with a `proxy.rs`.
pub const PROXY_FILE: &str = "proxy.json";
/// The environment variable through which deploy (and the template) tell every function of
/// an app with a proxy its stage: a rewrite to another function invokes that function by its
/// deployed name, [`deployed_function_name`] of the manifest name and this stage. Unset in
/// `nextr dev`, whose functions keep their manifest names.
pub const STAGE_ENV: &str = "NEXTR_STAGE";

/// The environment variable naming the Lambda endpoint a function invokes other functions
/// through (a proxy's rewrite to another route): `nextr dev` sets its own Invoke API
/// (`http://127.0.0.1:PORT`); unset, the region's `https://lambda.{region}.amazonaws.com`.
pub const LAMBDA_ENDPOINT_ENV: &str = "NEXTR_LAMBDA_ENDPOINT";

/// Lambda's limit on function names.
pub const MAX_FUNCTION_NAME: usize = 64;

/// The Lambda function name of a manifest function deployed to `stage`:
/// `<manifest name>-<stage>`, shortened by [`fit_name`] to Lambda's 64 characters (function
/// names are unique per account and region, so two stages of one app need different ones).
/// `None` is the manifest name itself, as `nextr dev` runs it. Deploy names functions with
/// this, and a function finds another (a proxy's rewrite) with it: one rule, one home.
pub fn deployed_function_name(manifest_name: &str, stage: Option<&str>) -> String {
    match stage {
        Some(stage) => fit_name(&format!("{manifest_name}-{stage}"), MAX_FUNCTION_NAME),
        None => manifest_name.to_owned(),
    }
}

/// Shortens a name to `max` characters (at least 9), keeping it unique: the first
/// `max - 9` characters, `-`, and the first 8 hex digits of the whole name's sha256. A name
/// that fits is kept as it is.
pub fn fit_name(name: &str, max: usize) -> String {
    use sha2::{Digest, Sha256};
    if name.len() <= max {
        return name.to_string();
    }
    let digest = Sha256::digest(name.as_bytes());
    let hash: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
    let mut cut = max.saturating_sub(9);
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}-{hash}", &name[..cut])
}

/// Where things live: the one home of the `.nextr` layout.
pub mod layout {
    /// `nextr build`'s folder, next to the app's `Cargo.toml`: what deploy ships.
    pub const OUT_DIR: &str = ".nextr";
    /// `nextr dev`'s and `nextr invoke`'s own build, inside [`OUT_DIR`]; deploy never takes
    /// it, because it is debug by default and rebuilt at every edit.
    pub const DEV_DIR: &str = ".nextr/dev";
    /// The bundles' folder inside a build folder.
    pub const FUNCTIONS_DIR: &str = "functions";
    /// The CloudFormation template's file inside a build folder.
    pub const TEMPLATE_FILE: &str = "template.json";
    /// Where `nextr dev` unpacks the bundles of the build folder it serves (one folder per
    /// sha256).
    pub const UNPACKED_DIR: &str = "unpacked";

    /// How many hex digits of a zip's sha256 its file name carries: 64 bits, so two bundles
    /// of one function never share a name in practice.
    pub const BUNDLE_SHA_DIGITS: usize = 16;

    /// Whether `dir` is a build folder (it holds a route manifest), rather than an app: every
    /// command taking a `DIR` tells the two apart this way.
    pub fn is_build_folder(dir: &std::path::Path) -> bool {
        dir.join(super::MANIFEST_FILE).is_file()
    }

    /// A function's zip with this sha256, relative to the build folder:
    /// `functions/<function>-<first 16 hex digits of the sha256>.zip`. Content-addressed so
    /// that a build never overwrites a zip the manifest on disk lists: the manifest and its
    /// bundles agree at every instant, even while a build is interrupted.
    pub fn bundle(function: &str, sha256: &str) -> String {
        let short = sha256.get(..BUNDLE_SHA_DIGITS).unwrap_or(sha256);
        format!("{FUNCTIONS_DIR}/{function}-{short}.zip")
    }

    /// The record of the last deploy of `stage`, relative to the build folder.
    pub fn deploy_record(stage: &str) -> String {
        format!("deploy-{stage}.json")
    }
}

/// The whole manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Always [`MANIFEST_VERSION`].
    pub version: u32,
    /// The app name (from `nextr.toml` or the package name).
    pub app: String,
    /// The nextr version that wrote the manifest.
    pub nextr_version: String,
    /// The cargo profile the bundles were compiled with; deploy ships only release builds.
    pub profile: Profile,
    /// The gateway in front of the functions, and what the build found about it.
    pub gateway: Gateway,
    /// Deploy's defaults from `nextr.toml`, so deploy needs nothing but the build folder.
    pub deploy: DeployDefaults,
    /// What the build was made from: lets `nextr dev` prove nothing changed without cargo.
    pub source: Source,
    /// Routes in precedence order.
    pub routes: Vec<ManifestRoute>,
    /// The function behind the gateway's `$default` route: API Gateway sends it every request
    /// no route key takes, and it answers as Next would there (308 for trailing-slash and
    /// `//` paths, 404 otherwise). An ordinary function: dev runs it, deploy ships it.
    pub fallback: Function,
    /// The app's `proxy.rs` (or `middleware.rs`), which runs inside every function before the
    /// route; `null` without one.
    #[serde(default)]
    pub proxy: Option<ManifestProxy>,
    /// `nextr.toml`'s secrets and IAM permissions, app-wide and per route (omitted when it
    /// names none).
    #[serde(default, skip_serializing_if = "Access::is_empty")]
    pub access: Access,
}

/// The app's proxy as the manifest records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestProxy {
    /// The file relative to the app root: `proxy.rs`, or `middleware.rs` (Next's deprecated
    /// name).
    pub file: String,
    /// `config.matcher`'s entries; `null` without a matcher: the proxy runs for every request.
    pub matcher: Option<Vec<MatcherSpec>>,
}

/// What each bundle of an app with a proxy carries as [`PROXY_FILE`]: the proxy's matcher and
/// the app's routes, so the function can tell which function serves a rewrite's target.
/// Written by `nextr build`, read by the runtime at start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxyBundle {
    /// The proxy's file relative to the app root (`proxy.rs`), for messages.
    pub file: String,
    /// `config.matcher`'s entries; `null` without a matcher.
    pub matcher: Option<Vec<MatcherSpec>>,
    /// Whether the app has Pages Router routes (`api/`), which changes some of Next's answers.
    pub pages_router: bool,
    /// Every route of the manifest, in Next's order.
    pub routes: Vec<ProxyRoute>,
    /// The name of the `$default` function ([`Manifest::fallback`]).
    pub fallback: String,
}

/// One route in a [`ProxyBundle`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxyRoute {
    /// The page pattern (`/api/post/[pid]`).
    pub page: String,
    /// The router of its file.
    pub router: Router,
    /// The manifest name of its function; `null` for a route with a `build_error`.
    pub function: Option<String>,
}

impl ProxyBundle {
    /// Pretty JSON with a trailing newline, as the bundle carries it (the same value, the
    /// same bytes: zips stay reproducible).
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// Parses [`PROXY_FILE`]'s text.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}

/// The cargo profile of every bundle of a build.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// Optimised: what `nextr build` makes and `nextr deploy` ships.
    #[default]
    Release,
    /// Unoptimised, fast to compile: `nextr build --debug` and `nextr dev`.
    Debug,
}

impl Profile {
    /// The name cargo and the manifest use.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Release => "release",
            Profile::Debug => "debug",
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kind of API Gateway in front of the functions: it decides route keys, request
/// selection, the event format and the limits (see `nextr_infra::gateway`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GatewayKind {
    /// An HTTP API (API Gateway v2) with payload format 2.0. It never streams.
    #[default]
    Http,
    /// A REST API (API Gateway v1) with Lambda proxy integrations (payload format 1.0), which
    /// stream responses (`responseTransferMode: STREAM`) for routes in stream mode.
    Rest,
}

impl GatewayKind {
    /// The name `nextr.toml` and the manifest use.
    pub fn as_str(self) -> &'static str {
        match self {
            GatewayKind::Http => "http",
            GatewayKind::Rest => "rest",
        }
    }

    /// Every kind, in the order messages list them.
    pub const ALL: [GatewayKind; 2] = [GatewayKind::Http, GatewayKind::Rest];

    /// The longest the gateway waits for a function answering in `mode`, in seconds: a
    /// route's `max_duration` may not exceed it (see [`Front::max_duration_s`] for routes that
    /// also have a function URL).
    pub fn timeout_s(self, mode: ResponseMode) -> u32 {
        use crate::limits::*;
        match (self, mode) {
            (GatewayKind::Http, _) => HTTP_API_TIMEOUT_S,
            (GatewayKind::Rest, ResponseMode::Buffered) => REST_API_TIMEOUT_S,
            (GatewayKind::Rest, ResponseMode::Stream) => REST_API_STREAM_TIMEOUT_S,
        }
    }

    /// Whether this gateway can stream a function's response to the client.
    pub fn streams(self) -> bool {
        match self {
            GatewayKind::Http => false,
            GatewayKind::Rest => true,
        }
    }

    /// The largest request the gateway accepts, in bytes.
    pub fn max_request_bytes(self) -> usize {
        match self {
            GatewayKind::Http => crate::limits::HTTP_API_PAYLOAD_BYTES,
            GatewayKind::Rest => crate::limits::REST_API_PAYLOAD_BYTES,
        }
    }

    /// The largest request line plus header values the gateway accepts, in bytes.
    pub fn max_header_bytes(self) -> usize {
        match self {
            GatewayKind::Http => crate::limits::HTTP_API_HEADER_BYTES,
            GatewayKind::Rest => crate::limits::REST_API_HEADER_BYTES,
        }
    }

    /// How the gateway is named in messages.
    pub fn describe(self) -> &'static str {
        match self {
            GatewayKind::Http => "an API Gateway HTTP API",
            GatewayKind::Rest => "an API Gateway REST API",
        }
    }
}

impl std::str::FromStr for GatewayKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        GatewayKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("{s:?} is not a gateway: use \"http\" or \"rest\""))
    }
}

/// What stands in front of one route's function: its gateway, the function's response mode,
/// and whether it also has a function URL. It bounds the route's `max_duration`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Front {
    /// The app's gateway.
    pub gateway: GatewayKind,
    /// The function's response mode.
    pub mode: ResponseMode,
    /// Whether the route has a function URL (which waits as long as Lambda runs).
    pub function_url: bool,
}

impl Front {
    /// The longest `max_duration` the route may declare, in seconds: its gateway's timeout
    /// for its mode, or Lambda's maximum when a function URL serves it too.
    pub fn max_duration_s(self) -> u32 {
        let gateway = self.gateway.timeout_s(self.mode);
        if self.function_url {
            gateway.max(crate::limits::FUNCTION_URL_TIMEOUT_S)
        } else {
            gateway
        }
    }

    /// The front as messages name it: "an API Gateway REST API (stream mode)".
    pub fn describe(self) -> String {
        match (self.gateway.streams(), self.function_url) {
            (true, _) => format!("{} ({} mode)", self.gateway.describe(), self.mode),
            (false, true) => format!("{} and its function URL", self.gateway.describe()),
            (false, false) => self.gateway.describe().to_owned(),
        }
    }
}

/// How a function answers: the whole response at once, or streamed as the handler writes.
///
/// The runtime streams only when its mode is `Stream` **and** the invocation came through a
/// front that streams (a REST API proxy event, or a function URL event); an HTTP API event is
/// answered buffered, so one function can sit behind an HTTP API route and a streaming
/// function URL at once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResponseMode {
    /// The response leaves when the handler returns (Lambda's `Invoke`, up to 6 MB).
    #[default]
    Buffered,
    /// Status and headers leave with the first write, each write as it happens (Lambda's
    /// `InvokeWithResponseStream`).
    Stream,
}

impl ResponseMode {
    /// The name `nextr.toml`, the manifest and [`RESPONSE_MODE_ENV`] use.
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseMode::Buffered => "buffered",
            ResponseMode::Stream => "stream",
        }
    }
}

impl fmt::Display for ResponseMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ResponseMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [ResponseMode::Buffered, ResponseMode::Stream]
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| format!("{s:?} is not a response mode: use \"stream\" or \"buffered\""))
    }
}

/// A Lambda function URL in front of one route's function, beside the gateway: how an app on
/// an HTTP API serves one streaming route. Always `InvokeMode: RESPONSE_STREAM`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunctionUrl {
    /// Who may call it.
    pub auth: FunctionUrlAuth,
}

/// A function URL's `AuthType`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FunctionUrlAuth {
    /// `NONE`: public, like the gateway's own routes (deploy adds the
    /// `lambda:InvokeFunctionUrl` permission for `*` with `FunctionUrlAuthType: NONE`).
    #[default]
    None,
    /// `AWS_IAM`: callers sign requests with SigV4 and need `lambda:InvokeFunctionUrl`.
    Iam,
}

impl FunctionUrlAuth {
    /// The name `nextr.toml` and the manifest use.
    pub fn as_str(self) -> &'static str {
        match self {
            FunctionUrlAuth::None => "none",
            FunctionUrlAuth::Iam => "iam",
        }
    }

    /// Lambda's `AuthType`.
    pub fn aws_name(self) -> &'static str {
        match self {
            FunctionUrlAuth::None => "NONE",
            FunctionUrlAuth::Iam => "AWS_IAM",
        }
    }
}

impl fmt::Display for GatewayKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The gateway of a build.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gateway {
    /// Which gateway.
    pub kind: GatewayKind,
    /// Where the deployed gateway picks another function than Next would (risks the app
    /// accepted in `nextr.toml`), as the build reported them; `nextr dev` repeats them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The route keys of the [`Manifest::fallback`] function: `["$default"]` for an HTTP API;
    /// for a REST API, `ANY` on every resource no route takes (the root, the `{proxy+}`
    /// children that catch unmatched paths, and intermediate resources).
    pub fallback_keys: Vec<String>,
    /// `nextr.toml`'s `[cors]`: the gateway answers CORS preflights itself and, on an HTTP
    /// API, adds the CORS headers to responses (the HTTP API's `CorsConfiguration`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cors: Option<Cors>,
    /// `nextr.toml`'s `[throttle]`, or [`Throttle::DEFAULT`] when it sets none (the build
    /// always writes one): the stage's default throttling, for every route. `null` (a
    /// manifest made by hand) leaves the stage unthrottled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttle: Option<Throttle>,
    /// `nextr.toml`'s `[domain]`: a custom domain name in front of the API (deploy creates
    /// the regional domain name and maps it to the API's stage).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<Domain>,
}

/// A custom domain name for the API, with the ACM certificate that covers it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Domain {
    /// The host name (`api.example.com`), lowercase.
    pub name: String,
    /// The ACM certificate's ARN (`arn:aws:acm:<region>:<account>:certificate/<id>`), in the
    /// region the API is deployed to (a regional domain name needs one there).
    pub certificate_arn: String,
}

impl Domain {
    /// The region of the certificate, from its ARN.
    pub fn certificate_region(&self) -> Option<&str> {
        self.certificate_arn.split(':').nth(3)
    }
}

/// CORS as the gateway applies it: the fields of an HTTP API's `CorsConfiguration`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cors {
    /// Origins allowed (`https://app.example`), or `*` for any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_origins: Vec<String>,
    /// Methods allowed (`GET`, `POST`, or `*`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_methods: Vec<String>,
    /// Request headers allowed (`content-type`, or `*`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_headers: Vec<String>,
    /// Response headers the browser exposes to scripts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expose_headers: Vec<String>,
    /// Whether credentials (cookies, authorization) may be sent; never with origin `*`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_credentials: bool,
    /// How long a browser may cache a preflight's answer, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age_s: Option<u32>,
}

/// A token bucket: requests per second on average, and the burst allowed above it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Throttle {
    /// Steady-state requests per second (`ThrottlingRateLimit`).
    pub rate: u32,
    /// The bucket's size: requests allowed at once (`ThrottlingBurstLimit`).
    pub burst: u32,
}

impl Throttle {
    /// The stage's throttling when `nextr.toml` sets no `[throttle]` (see
    /// [`crate::limits::DEFAULT_STAGE_RATE`]).
    pub const DEFAULT: Throttle = Throttle {
        rate: crate::limits::DEFAULT_STAGE_RATE,
        burst: crate::limits::DEFAULT_STAGE_BURST,
    };
}

/// Deploy's defaults, from `nextr.toml`; `nextr deploy`'s flags win over them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeployDefaults {
    /// The stage when `--stage` names none.
    pub stage: String,
    /// The region when `--region` names none (else the AWS SDK's chain decides).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// How many versions of each function deploy keeps besides the live one (for a
    /// rollback); older ones are deleted.
    #[serde(default = "default_keep_versions")]
    pub keep_versions: u32,
    /// How many days the functions' log groups (and the gateway's access log group) keep
    /// events: `nextr.toml`'s `[logs] retention_days`, a route's own over it
    /// ([`ManifestRoute::log_retention_days`]).
    #[serde(default = "default_log_retention_days")]
    pub log_retention_days: u32,
}

fn default_log_retention_days() -> u32 {
    crate::limits::DEFAULT_LOG_RETENTION_DAYS
}

/// Versions kept besides the live one, by default.
pub const DEFAULT_KEEP_VERSIONS: u32 = 3;

fn default_keep_versions() -> u32 {
    DEFAULT_KEEP_VERSIONS
}

/// What a build was made from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// The app's folder (the one holding `Cargo.toml`), relative to the manifest's folder.
    pub app_root: String,
    /// Folders and files whose contents the bundles were built from (the app and its path
    /// dependencies), relative to the manifest's folder.
    pub inputs: Vec<String>,
    /// A digest of the inputs' names, sizes and modification times, of the `nextr` that
    /// built them, and of the build's settings; equal digests mean an identical build.
    pub fingerprint: String,
}

/// One route of the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestRoute {
    /// Page pattern, e.g. `/api/post/[pid]`.
    pub page: String,
    /// Route file relative to the app root.
    pub file: String,
    /// The router the file belongs to: `pages` (`api/**.rs`) or `app` (`app/**/route.rs`),
    /// which decides how its function answers.
    pub router: Router,
    /// Route kind.
    pub kind: RouteKind,
    /// The pattern's segments as written (`["api", "post", "[pid]"]`).
    pub segments: Vec<String>,
    /// Parameters in path order.
    pub params: Vec<Param>,
    /// The gateway's route keys for this route (HTTP API: `ANY /api/post/{pid}`), including
    /// those the conflict analysis added so that the gateway picks Next's route.
    pub route_keys: Vec<String>,
    /// The route's configuration as declared.
    pub config: RouteConfig,
    /// The built Lambda function; absent until `nextr build` has produced the bundle, and for
    /// a route with a [`build_error`](ManifestRoute::build_error).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<Function>,
    /// Why the route's file does not build (its diagnostic as plain text), in a `nextr dev`
    /// build only: dev keeps serving the other routes and answers this one 500 with it.
    /// Deploy and the template refuse a manifest with one ([`Manifest::check_complete`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_error: Option<String>,
    /// `nextr.toml`'s `[routes."<page>".throttle]`: this route's throttling, over the
    /// stage's ([`Gateway::throttle`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttle: Option<Throttle>,
    /// `nextr.toml`'s `[routes."<page>"] log_retention_days`: how long this route's log group
    /// keeps events, over [`DeployDefaults::log_retention_days`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_retention_days: Option<u32>,
}

/// The Lambda function that serves one route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Function {
    /// Deterministic function name derived from app and route.
    pub name: String,
    /// The zip, relative to the manifest's directory (`functions/<name>-<sha256 prefix>.zip`,
    /// see [`layout::bundle`]).
    pub bundle: String,
    /// Hex sha256 of the zip.
    pub sha256: String,
    /// Size of the zip in bytes.
    pub bytes: u64,
    /// Always `provided.al2023`.
    pub runtime: String,
    /// Always `bootstrap`.
    pub handler: String,
    /// CPU architecture.
    pub architecture: Architecture,
    /// Lambda timeout in seconds.
    pub timeout_s: u32,
    /// Lambda memory in MB.
    pub memory_mb: u32,
    /// The function's environment variables: `nextr.toml`'s `[env]` with its route's
    /// `[routes."<page>".env]` over it, merged once, here.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Whether the function streams its responses where its front can stream.
    #[serde(default)]
    pub response_mode: ResponseMode,
    /// The function URL in front of it, if the route asked for one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_url: Option<FunctionUrl>,
}

impl Function {
    /// The environment the function runs with, on Lambda and in `nextr dev`: its
    /// [`env`](Function::env) plus the variables nextr's runtime reads
    /// ([`RESPONSE_MODE_ENV`]). The one place that turns the manifest into an environment.
    pub fn runtime_env(&self) -> BTreeMap<String, String> {
        let mut env = self.env.clone();
        env.insert(
            RESPONSE_MODE_ENV.to_owned(),
            self.response_mode.as_str().to_owned(),
        );
        env
    }

    /// [`Function::runtime_env`] with [`SECRETS_ENV`](access::SECRETS_ENV) listing the
    /// secrets the function reads at start (references, their `{stage}` already replaced;
    /// none: no variable): what deploy, the template and `nextr dev` start a function with.
    pub fn runtime_env_reading(&self, secrets: &[SecretRef]) -> BTreeMap<String, String> {
        let mut env = self.runtime_env();
        if let Some(list) = access::secrets_env(secrets) {
            env.insert(access::SECRETS_ENV.to_owned(), list);
        }
        env
    }
}

/// Lambda CPU architecture.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Architecture {
    /// x86-64.
    #[default]
    #[serde(rename = "x86_64")]
    X86_64,
    /// Graviton.
    #[serde(rename = "arm64")]
    Arm64,
}

impl Architecture {
    /// Every architecture Lambda runs.
    pub const ALL: [Architecture; 2] = [Architecture::X86_64, Architecture::Arm64];

    /// The name Lambda, `nextr.toml`, `--arch` and the manifest use.
    pub fn as_str(self) -> &'static str {
        match self {
            Architecture::X86_64 => "x86_64",
            Architecture::Arm64 => "arm64",
        }
    }

    /// The machine name a host of this architecture reports (`uname -m`, Rust's
    /// `std::env::consts::ARCH`).
    pub fn machine(self) -> &'static str {
        match self {
            Architecture::X86_64 => "x86_64",
            Architecture::Arm64 => "aarch64",
        }
    }

    /// The architecture of the machine running this code, when Lambda has it.
    pub fn host() -> Option<Architecture> {
        Architecture::ALL
            .into_iter()
            .find(|a| a.machine() == std::env::consts::ARCH)
    }

    /// The Rust target triple of bundles for it (glibc, as `provided.al2023` runs them).
    pub fn target_triple(self) -> &'static str {
        match self {
            Architecture::X86_64 => "x86_64-unknown-linux-gnu",
            Architecture::Arm64 => "aarch64-unknown-linux-gnu",
        }
    }
}

impl fmt::Display for Architecture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Architecture {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Architecture::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| format!("{s:?} is not an architecture: use \"x86_64\" or \"arm64\""))
    }
}

/// A manifest with routes that do not build (a `nextr dev` build): nothing may ship it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} do{} not build (this is a `nextr dev` build, which serves the other routes): fix {} and run `nextr build`", .files.join(", "), if .files.len() == 1 { "es" } else { "" }, if .files.len() == 1 { "it" } else { "them" })]
pub struct IncompleteBuild {
    /// The route files that do not build.
    pub files: Vec<String>,
}

/// Why a manifest could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// Not valid JSON for the schema.
    #[error("the route manifest is not valid: {0}")]
    Invalid(#[from] serde_json::Error),
    /// Written by an incompatible nextr.
    #[error("the route manifest has schema version {found} and this nextr reads version {MANIFEST_VERSION}: run `nextr build` (or `nextr dev`) again to rewrite it")]
    Version {
        /// The version found in the file.
        found: u32,
    },
}

impl Manifest {
    /// A manifest of `app` with no routes and every other field at its default (a release
    /// build behind an HTTP API): where a build, or a test, starts.
    pub fn new(app: &str, fallback: Function) -> Self {
        Manifest {
            version: MANIFEST_VERSION,
            app: app.to_owned(),
            nextr_version: env!("CARGO_PKG_VERSION").to_owned(),
            profile: Profile::default(),
            gateway: Gateway::default(),
            deploy: DeployDefaults {
                stage: String::new(),
                region: None,
                keep_versions: DEFAULT_KEEP_VERSIONS,
                log_retention_days: crate::limits::DEFAULT_LOG_RETENTION_DAYS,
            },
            source: Source::default(),
            routes: Vec::new(),
            fallback,
            proxy: None,
            access: Access::default(),
        }
    }

    /// Every function, the routes' in precedence order, then the fallback.
    pub fn functions(&self) -> impl Iterator<Item = &Function> {
        self.routes
            .iter()
            .filter_map(|r| r.function.as_ref())
            .chain(std::iter::once(&self.fallback))
    }

    /// The one check that every route built: deploy and the template call it, so a `nextr
    /// dev` build with a route left out (see [`ManifestRoute::build_error`]) never ships.
    pub fn check_complete(&self) -> Result<(), IncompleteBuild> {
        let files: Vec<String> = self
            .routes
            .iter()
            .filter(|r| r.build_error.is_some())
            .map(|r| r.file.clone())
            .collect();
        if files.is_empty() {
            Ok(())
        } else {
            Err(IncompleteBuild { files })
        }
    }

    /// Parses a manifest, refusing other schema versions.
    pub fn from_json(text: &str) -> Result<Self, ManifestError> {
        #[derive(Deserialize)]
        struct Probe {
            version: u32,
        }
        let probe: Probe = serde_json::from_str(text)?;
        if probe.version != MANIFEST_VERSION {
            return Err(ManifestError::Version {
                found: probe.version,
            });
        }
        Ok(serde_json::from_str(text)?)
    }

    /// Pretty JSON with a trailing newline, as written to disk.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routing::ParamKind;

    fn function(name: &str) -> Function {
        Function {
            name: name.into(),
            bundle: layout::bundle(name, &"00".repeat(32)),
            sha256: "00".repeat(32),
            bytes: 10,
            runtime: "provided.al2023".into(),
            handler: "bootstrap".into(),
            architecture: Architecture::Arm64,
            timeout_s: 3,
            memory_mb: 128,
            env: BTreeMap::new(),
            response_mode: ResponseMode::Buffered,
            function_url: None,
        }
    }

    fn manifest() -> Manifest {
        Manifest {
            version: MANIFEST_VERSION,
            app: "demo".into(),
            nextr_version: "0.1.0".into(),
            profile: Profile::Debug,
            gateway: Gateway {
                kind: GatewayKind::Http,
                warnings: vec!["a risk".into()],
                fallback_keys: vec!["$default".into()],
                cors: Some(Cors {
                    allow_origins: vec!["https://app.example".into()],
                    allow_methods: vec!["GET".into()],
                    max_age_s: Some(600),
                    ..Cors::default()
                }),
                throttle: Some(Throttle {
                    rate: 100,
                    burst: 50,
                }),
                domain: Some(Domain {
                    name: "api.example.com".into(),
                    certificate_arn: "arn:aws:acm:eu-west-1:123456789012:certificate/abc".into(),
                }),
            },
            deploy: DeployDefaults {
                stage: "dev".into(),
                region: Some("eu-west-1".into()),
                keep_versions: 2,
                log_retention_days: 7,
            },
            source: Source {
                app_root: "..".into(),
                inputs: vec!["..".into()],
                fingerprint: "ab".into(),
            },
            routes: vec![ManifestRoute {
                page: "/api/post/[pid]".into(),
                file: "api/post/[pid].rs".into(),
                router: Router::Pages,
                kind: RouteKind::Dynamic,
                segments: vec!["api".into(), "post".into(), "[pid]".into()],
                params: vec![Param {
                    name: "pid".into(),
                    kind: ParamKind::Single,
                }],
                route_keys: vec!["ANY /api/post/{pid}".into()],
                config: RouteConfig::default(),
                function: Some(Function {
                    env: BTreeMap::from([("A".into(), "1".into())]),
                    response_mode: ResponseMode::Stream,
                    function_url: Some(FunctionUrl {
                        auth: FunctionUrlAuth::Iam,
                    }),
                    ..function("demo-post")
                }),
                build_error: None,
                throttle: Some(Throttle { rate: 1, burst: 2 }),
                log_retention_days: Some(14),
            }],
            fallback: function("demo-default"),
            proxy: None,
            access: Access::default(),
        }
    }

    #[test]
    fn round_trips() {
        let m = manifest();
        let text = m.to_json();
        assert!(text.contains("\"profile\": \"debug\""), "{text}");
        assert!(text.contains("\"kind\": \"http\""), "{text}");
        assert!(text.contains("\"router\": \"pages\""), "{text}");
        assert!(text.contains("\"max_age_s\": 600"), "{text}");
        assert!(!text.contains("allow_credentials"), "{text}");
        assert!(text.contains("\"burst\": 2"), "{text}");
        assert!(text.contains("\"log_retention_days\": 14"), "{text}");
        assert!(text.contains("\"log_retention_days\": 7"), "{text}");
        assert!(text.contains("\"name\": \"api.example.com\""), "{text}");
        assert_eq!(
            m.gateway
                .domain
                .as_ref()
                .and_then(Domain::certificate_region),
            Some("eu-west-1")
        );
        assert!(text.contains("\"max_age_s\": 600"), "{text}");
        assert!(!text.contains("allow_credentials"), "{text}");
        assert!(
            text.contains("\"throttle\": {\n        \"rate\": 1,"),
            "{text}"
        );
        assert_eq!(Manifest::from_json(&text).unwrap(), m);
    }

    #[test]
    fn other_versions_are_refused_with_the_way_out() {
        let text = manifest().to_json().replace(
            &format!("\"version\": {MANIFEST_VERSION}"),
            "\"version\": 5",
        );
        let e = Manifest::from_json(&text).unwrap_err();
        assert!(matches!(e, ManifestError::Version { found: 5 }));
        assert!(e.to_string().contains("run `nextr build`"), "{e}");
    }

    #[test]
    fn a_route_that_does_not_build_round_trips_and_fails_the_completeness_check() {
        let mut m = manifest();
        assert_eq!(m.check_complete(), Ok(()));
        assert!(!m.to_json().contains("build_error"));
        m.routes[0].function = None;
        m.routes[0].build_error = Some("error: the route file has no handler".into());
        let text = m.to_json();
        assert!(
            text.contains("\"build_error\": \"error: the route file has no handler\""),
            "{text}"
        );
        assert_eq!(Manifest::from_json(&text).unwrap(), m);
        let e = m.check_complete().unwrap_err();
        assert_eq!(e.files, ["api/post/[pid].rs"]);
        assert_eq!(
            e.to_string(),
            "api/post/[pid].rs does not build (this is a `nextr dev` build, which serves the \
             other routes): fix it and run `nextr build`"
        );
    }

    #[test]
    fn the_proxy_is_null_without_one_and_round_trips_with_one() {
        let mut m = manifest();
        assert!(m.to_json().contains("\"proxy\": null"), "{}", m.to_json());
        m.proxy = Some(ManifestProxy {
            file: "proxy.rs".into(),
            matcher: Some(vec![MatcherSpec::source("/api/:path*")]),
        });
        let text = m.to_json();
        assert!(
            text.contains(
                "\"proxy\": {\n    \"file\": \"proxy.rs\",\n    \"matcher\": [\n      {\n        \"source\": \"/api/:path*\"\n      }\n    ]\n  }"
            ),
            "{text}"
        );
        assert_eq!(Manifest::from_json(&text).unwrap(), m);
        m.proxy = Some(ManifestProxy {
            file: "middleware.rs".into(),
            matcher: None,
        });
        let text = m.to_json();
        assert!(text.contains("\"matcher\": null"), "{text}");
        assert_eq!(Manifest::from_json(&text).unwrap(), m);
    }

    #[test]
    fn the_proxy_bundle_has_the_contracts_shape() {
        let bundle = ProxyBundle {
            file: "proxy.rs".into(),
            matcher: Some(vec![MatcherSpec::source("/api/:path*")]),
            pages_router: true,
            routes: vec![
                ProxyRoute {
                    page: "/api/px/target/[id]".into(),
                    router: Router::App,
                    function: Some("api-px-target-id".into()),
                },
                ProxyRoute {
                    page: "/api/broken".into(),
                    router: Router::Pages,
                    function: None,
                },
            ],
            fallback: "default-fn-name".into(),
        };
        let value: serde_json::Value = serde_json::from_str(&bundle.to_json()).unwrap();
        assert_eq!(
            value,
            serde_json::json!({
                "file": "proxy.rs",
                "matcher": [{"source": "/api/:path*"}],
                "pages_router": true,
                "routes": [
                    {"page": "/api/px/target/[id]", "router": "app", "function": "api-px-target-id"},
                    {"page": "/api/broken", "router": "pages", "function": null},
                ],
                "fallback": "default-fn-name",
            })
        );
        assert!(bundle.to_json().ends_with("}\n"));
        assert_eq!(ProxyBundle::from_json(&bundle.to_json()).unwrap(), bundle);
        let none = ProxyBundle {
            matcher: None,
            ..bundle
        };
        assert!(none.to_json().contains("\"matcher\": null"));
        assert!(ProxyBundle::from_json("{\"file\": \"proxy.rs\"}").is_err());
    }

    #[test]
    fn unknown_fields_are_refused() {
        let text = manifest()
            .to_json()
            .replace("\"profile\"", "\"colour\": 1, \"profile\"");
        assert!(Manifest::from_json(&text).is_err());
    }

    #[test]
    fn runtime_env_carries_the_response_mode() {
        let m = manifest();
        let f = m.routes[0].function.as_ref().unwrap();
        let env = f.runtime_env();
        assert_eq!(
            env.get(RESPONSE_MODE_ENV).map(String::as_str),
            Some("stream")
        );
        assert_eq!(env.get("A").map(String::as_str), Some("1"));
        assert_eq!(
            m.fallback
                .runtime_env()
                .get(RESPONSE_MODE_ENV)
                .map(String::as_str),
            Some("buffered")
        );
    }

    #[test]
    fn max_duration_follows_the_front() {
        use GatewayKind::*;
        use ResponseMode::*;
        let front = |gateway, mode, function_url| Front {
            gateway,
            mode,
            function_url,
        };
        assert_eq!(front(Http, Buffered, false).max_duration_s(), 30);
        assert_eq!(front(Http, Stream, true).max_duration_s(), 900);
        assert_eq!(front(Rest, Buffered, false).max_duration_s(), 29);
        assert_eq!(front(Rest, Stream, false).max_duration_s(), 900);
        assert_eq!("rest".parse::<GatewayKind>(), Ok(Rest));
        assert!("v1".parse::<GatewayKind>().is_err());
    }

    #[test]
    fn deployed_names_carry_the_stage_and_fit_lambdas_limit() {
        assert_eq!(
            deployed_function_name("shop-hello-1a2b", None),
            "shop-hello-1a2b"
        );
        assert_eq!(
            deployed_function_name("shop-hello-1a2b", Some("prod")),
            "shop-hello-1a2b-prod"
        );
        let long = "x".repeat(60);
        let prod = deployed_function_name(&long, Some("prod"));
        let dev = deployed_function_name(&long, Some("dev"));
        assert_eq!(prod.len(), MAX_FUNCTION_NAME);
        assert_ne!(prod, dev, "shortened names stay distinct");
        // The names deploy gave before the rule moved here: 55 characters, `-`, and the
        // first 8 hex digits of sha256("<60 x>-prod").
        assert_eq!(prod, format!("{}-39eb9f02", "x".repeat(55)));
        assert_eq!(fit_name("short", 64), "short");
    }

    #[test]
    fn a_proxy_round_trips_and_its_absence_is_null() {
        let mut m = manifest();
        assert!(m.to_json().contains("\"proxy\": null"));
        m.proxy = Some(ManifestProxy {
            file: "proxy.rs".into(),
            matcher: Some(vec![crate::proxy::matcher::MatcherSpec::source(
                "/api/:path*",
            )]),
        });
        let text = m.to_json();
        assert!(text.contains("\"source\": \"/api/:path*\""), "{text}");
        assert_eq!(Manifest::from_json(&text).unwrap(), m);
    }

    #[test]
    fn architecture_names() {
        for a in Architecture::ALL {
            assert_eq!(a.as_str().parse::<Architecture>(), Ok(a));
            assert_eq!(serde_json::to_string(&a).unwrap(), format!("\"{a}\""));
        }
        assert!("aarch64".parse::<Architecture>().is_err());
        if let Some(host) = Architecture::host() {
            assert_eq!(host.machine(), std::env::consts::ARCH);
        }
    }
}
