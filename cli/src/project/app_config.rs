//! `nextr.toml`: the app's own settings, next to its `Cargo.toml`. The file is optional and
//! every key in it is optional:
//!
//! ```toml
//! # The app name: prefix of every Lambda function, API and role name.
//! # Letters, digits and `-`, starting with a letter, at most 40 characters.
//! # Default: the package name with `_` turned into `-`.
//! app = "my-app"
//!
//! # The AWS region to deploy to, such as "eu-west-1".
//! # Default: the AWS SDK's usual chain (AWS_REGION, then the profile's region).
//! region = "eu-west-1"
//!
//! # The deployment stage: 1 to 16 lowercase letters, digits and `-`, starting with a letter
//! # or digit. It is part of every AWS resource name and tag, so several stages of one app can
//! # live side by side. `nextr deploy --stage` wins. Default: "dev".
//! stage = "prod"
//!
//! # Versions of each function deploy keeps besides the live one, for a rollback (0–100);
//! # older ones are deleted. Default: 3.
//! keep_versions = 3
//!
//! # The API Gateway in front of the functions: "http" (an HTTP API, payload 2.0) or "rest"
//! # (a REST API, payload 1.0, which can stream). Default: "http".
//! gateway = "http"
//!
//! # The CPU architecture of every function: "x86_64" or "arm64". `nextr build --arch` wins;
//! # `nextr dev`'s own builds are for the machine it runs on. Default: "x86_64".
//! architecture = "arm64"
//!
//! # Memory in MB for routes whose `config!` sets no `memory` (128–10240, Lambda's range).
//! # Default: 1024.
//! memory = 512
//!
//! # Environment variables of every function. Names: a letter, then letters, digits or `_`;
//! # the variables Lambda reserves (AWS_REGION, AWS_LAMBDA_*, …) cannot be set.
//! [env]
//! DATABASE_URL = "postgres://db.internal/app"
//!
//! # Settings of one route's function, keyed by its page pattern. A page that matches no
//! # route is an error.
//! [routes."/api/post/[pid]"]
//! # "stream" or "buffered". Default: "stream" behind a REST API or a function URL, else
//! # "buffered" (an HTTP API never streams).
//! response = "buffered"
//! # A Lambda function URL beside the gateway: true (public, auth NONE) or "iam" (AWS_IAM).
//! # Default: none.
//! function_url = true
//!
//! # Environment variables of one route's function: added to [env], winning over it.
//! [routes."/api/post/[pid]".env]
//! CACHE_SECONDS = "60"
//!
//! # A route's own throttling, over [throttle]: rate (requests per second) and burst.
//! [routes."/api/login".throttle]
//! rate = 5
//! burst = 10
//!
//! # CORS, answered by the gateway (an HTTP API's CorsConfiguration; a REST API's MOCK
//! # OPTIONS methods answer the preflight only, with one origin or "*"). `nextr dev` answers
//! # as the deployed gateway does.
//! [cors]
//! allow_origins = ["https://app.example"]  # or ["*"]
//! allow_methods = ["GET", "POST"]
//! allow_headers = ["content-type"]
//! expose_headers = ["x-request-id"]
//! allow_credentials = true                 # never with allow_origins = ["*"]
//! max_age = 600                            # seconds a browser caches a preflight (0–86400)
//!
//! # The stage's throttling, for every route: a token bucket of `burst` requests refilled at
//! # `rate` per second; over it, the gateway answers 429. Default: rate 1000, burst 500 (a
//! # tenth of the account's regional quota, so one stage cannot starve the account's APIs).
//! [throttle]
//! rate = 100
//! burst = 50
//!
//! # How many days the log groups deploy creates keep events: the functions' (and
//! # `[routes."<page>"] log_retention_days = 7` for one route's) and the gateway's access
//! # log group. One of CloudWatch Logs' values (1, 3, 5, 7, 14, 30, 60, 90, … 3653).
//! # Default: 30.
//! [logs]
//! retention_days = 90
//!
//! # A custom domain in front of the API (regional): the host name, and an ACM certificate
//! # covering it in the deploy region. Deploy creates the domain name and maps it to the stage,
//! # and prints the DNS record to create. Default: none.
//! [domain]
//! name = "api.example.com"
//! certificate_arn = "arn:aws:acm:eu-west-1:123456789012:certificate/1234abcd-…"
//!
//! # IAM statements every function's role holds (besides writing its own logs): actions
//! # (`service:Action`, wildcards allowed) on resources (ARNs or "*"). Resources may hold
//! # {partition}, {region}, {account}, {app} and {stage}, which deploy fills. `effect` is
//! # "Allow" (default) or "Deny". Default: none.
//! [[permissions]]
//! actions = ["dynamodb:GetItem", "dynamodb:PutItem"]
//! resources = ["arn:{partition}:dynamodb:{region}:{account}:table/{app}-{stage}-orders"]
//!
//! # A route's own statements, added to [[permissions]]: its function gets a role of its own.
//! [[routes."/api/upload".permissions]]
//! actions = ["s3:PutObject"]
//! resources = ["arn:aws:s3:::shop-uploads/*"]
//!
//! # Secrets: variables whose values each function reads at start from SSM Parameter Store
//! # (with decryption) or Secrets Manager, never written anywhere by nextr. `{stage}` is the
//! # only placeholder; a name may not also be set in [env]. Default: none.
//! [secrets]
//! DATABASE_URL = "ssm:/shop/{stage}/database-url"
//! STRIPE_KEY = "secretsmanager:shop/stripe"   # or the parameter's or secret's full ARN
//!
//! # One route's own secrets, over [secrets].
//! [routes."/api/pay".secrets]
//! PAY_TOKEN = "ssm:/shop/pay-token"
//!
//! # Where API Gateway would route differently from Next.js (see `nextr_infra::conflicts`).
//! [conflicts]
//! # "parametrised" (default): nextr may add route keys with {variables} for Next's winner.
//! # "static-only": it may add only static keys; any other disagreement fails the build.
//! keys = "static-only"
//! # Pairs of page patterns whose disagreement you accept: build warns instead of failing,
//! # and API Gateway's own choice applies to the overlapping paths.
//! accept = [{ a = "/api/users/[...path]", b = "/api/[resource]/[id]" }]
//! ```
//!
//! Every problem of the file is reported at once, each at its line with a code frame:
//! unknown keys (a typo would otherwise be silently ignored, so each gets the closest key as
//! a did-you-mean), wrong types and values out of range. Values from `.env` files lie below
//! `[env]` (see [`dotenv`](super::dotenv)).

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use nextr::limits::{DEFAULT_MEMORY_MB, LAMBDA_ENV_BYTES};
use nextr::manifest::{
    Access, Architecture, Cors, Domain, Front, FunctionUrl, GatewayKind, ResponseMode, SecretRef,
    Throttle, RESPONSE_MODE_ENV,
};
use nextr::routing::RouteTable;
use nextr_infra::conflicts::{AcceptedConflict, KeyPolicy};
use nextr_infra::names;

use crate::analysis::{suggest, SourceFile};

mod read;
mod report;

pub use read::{env_name_problem, ReadSecret};
pub use report::{ConfigDiagnostic, ConfigReport};

/// The file name, next to `Cargo.toml`.
pub const APP_CONFIG_FILE: &str = "nextr.toml";

pub use names::MAX_APP as MAX_APP_NAME;

/// Variables Lambda sets itself and refuses in a function's configuration.
pub const RESERVED_ENV: &[&str] = &[
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_DEFAULT_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_LAMBDA_RUNTIME_API",
    "AWS_REGION",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "LAMBDA_RUNTIME_DIR",
    "LAMBDA_TASK_ROOT",
    RESPONSE_MODE_ENV,
];

/// The settings of `nextr.toml`, validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppConfig {
    /// The file they were read from; `None` when the app has no `nextr.toml`.
    pub path: Option<PathBuf>,
    /// `app`.
    pub app: Option<String>,
    /// `region`.
    pub region: Option<String>,
    /// `stage`.
    pub stage: Option<String>,
    /// `architecture`.
    pub architecture: Option<Architecture>,
    /// `gateway`.
    pub gateway: GatewayKind,
    /// `keep_versions`.
    pub keep_versions: Option<u32>,
    /// `memory`, in MB.
    pub memory_mb: Option<u32>,
    /// `[env]`: variables of every function.
    pub env: BTreeMap<String, String>,
    /// Variables of every function from the app's `.env` files, below `[env]` (set by the
    /// build, which knows which files apply: see [`super::dotenv`]).
    pub dotenv: BTreeMap<String, String>,
    /// `[routes."<page>"]`: per-route settings, by page pattern.
    pub routes: BTreeMap<String, RouteSettings>,
    /// `[conflicts] keys`: which route keys the conflict analysis may add.
    pub conflict_keys: KeyPolicy,
    /// `[conflicts] accept`: route pairs whose gateway-vs-Next disagreement is accepted.
    pub accepted_conflicts: Vec<AcceptedConflict>,
    /// `[cors]`: the gateway's CORS policy.
    pub cors: Option<Cors>,
    /// `[throttle]`: the stage's default throttling.
    pub throttle: Option<Throttle>,
    /// `[logs] retention_days`: how long the log groups keep events.
    pub log_retention_days: Option<u32>,
    /// `[domain]`: the API's custom domain and its certificate.
    pub domain: Option<Domain>,
    /// `[[permissions]]`: IAM statements every function's role holds.
    pub permissions: Vec<nextr::manifest::PolicyStatement>,
    /// `[secrets]`: secrets every function reads at start.
    pub secrets: Vec<SecretRef>,
    /// Where each `[routes."<page>"]` key is, for problems found once the routes are known.
    route_spans: BTreeMap<String, Range<usize>>,
    /// Where the `env` key is.
    env_span: Option<Range<usize>>,
    /// The file's text, for code frames.
    text: String,
}

/// `[routes."<page>"]`: settings of one route's function.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteSettings {
    /// `env`: variables added to (and winning over) `[env]`.
    pub env: BTreeMap<String, String>,
    /// `response`: `"stream"` or `"buffered"`; unset, a REST API streams and an HTTP API
    /// buffers.
    pub response: Option<ResponseMode>,
    /// `function_url`: `true` (public, auth `NONE`) or `"iam"` (`AWS_IAM`).
    pub function_url: Option<FunctionUrl>,
    /// `throttle`: this route's own throttling, over `[throttle]`.
    pub throttle: Option<Throttle>,
    /// `log_retention_days`: how long this route's log group keeps events, over `[logs]`.
    pub log_retention_days: Option<u32>,
    /// `[[routes."<page>".permissions]]`: IAM statements of this route's own role.
    pub permissions: Vec<nextr::manifest::PolicyStatement>,
    /// `[routes."<page>".secrets]`: secrets only this route's function reads, over
    /// `[secrets]` (the keys' spans kept for problems found after reading).
    pub secrets: Vec<ReadSecret>,
}

/// Why `nextr.toml` was refused.
#[derive(Debug, thiserror::Error)]
pub enum AppConfigError {
    /// The file exists but could not be read.
    #[error("cannot read {}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Syntax errors, unknown keys, wrong types, bad values: every one of them.
    #[error(transparent)]
    Invalid(#[from] ConfigReport),
}

impl AppConfigError {
    /// One line per problem (`nextr.toml:line:col: message`), for text without code frames.
    pub fn lines(&self) -> Vec<String> {
        match self {
            AppConfigError::Io { .. } => vec![self.to_string()],
            AppConfigError::Invalid(report) => report.lines(),
        }
    }
}

impl AppConfig {
    /// Reads `<root>/nextr.toml`; a missing file gives the defaults.
    pub fn load(root: &Path) -> Result<Self, AppConfigError> {
        let path = root.join(APP_CONFIG_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(source) => return Err(AppConfigError::Io { path, source }),
        };
        Self::parse(&path, &text)
    }

    /// Parses and validates the text of a `nextr.toml`, reporting every problem; `path` names
    /// the file.
    pub fn parse(path: &Path, text: &str) -> Result<Self, AppConfigError> {
        let file = SourceFile::new(APP_CONFIG_FILE, text);
        let mut problems = Vec::new();
        let read = read::read(&file, &mut problems);
        if !problems.is_empty() {
            return Err(ConfigReport::new(path.to_path_buf(), problems).into());
        }
        Ok(AppConfig {
            path: Some(path.to_path_buf()),
            app: read.app,
            region: read.region,
            stage: read.stage,
            architecture: read.architecture,
            gateway: read.gateway,
            keep_versions: read.keep_versions,
            memory_mb: read.memory_mb,
            env: read.env,
            dotenv: BTreeMap::new(),
            routes: read.routes,
            conflict_keys: read.conflict_keys,
            accepted_conflicts: read.accepted_conflicts,
            cors: read.cors,
            throttle: read.throttle,
            log_retention_days: read.log_retention_days,
            domain: read.domain,
            permissions: read.permissions,
            secrets: read.secrets.into_iter().map(|s| s.secret).collect(),
            route_spans: read.route_spans,
            env_span: read.env_span,
            text: file.text.to_string(),
        })
    }

    /// The stage deploy uses when `--stage` names none: `stage`, or [`names::DEFAULT_STAGE`].
    pub fn default_stage(&self) -> &str {
        self.stage.as_deref().unwrap_or(names::DEFAULT_STAGE)
    }

    /// The stage's throttling: `[throttle]`, or [`Throttle::DEFAULT`].
    pub fn stage_throttle(&self) -> Throttle {
        self.throttle.unwrap_or(Throttle::DEFAULT)
    }

    /// How long the app's log groups keep events: `[logs] retention_days`, or 30 days.
    pub fn log_retention_days(&self) -> u32 {
        self.log_retention_days
            .unwrap_or(nextr::limits::DEFAULT_LOG_RETENTION_DAYS)
    }

    /// The default memory of a route function: `memory`, or 1024 MB.
    pub fn default_memory_mb(&self) -> u32 {
        self.memory_mb.unwrap_or(DEFAULT_MEMORY_MB)
    }

    /// What stands in front of one route's function: the gateway, the response mode
    /// (`response`, else `stream` behind a REST API or a function URL and `buffered` behind an
    /// HTTP API), and the function URL.
    pub fn front(&self, page: &str) -> Front {
        let route = self.routes.get(page);
        let function_url = route.is_some_and(|r| r.function_url.is_some());
        let mode = route.and_then(|r| r.response).unwrap_or({
            if self.gateway.streams() || function_url {
                ResponseMode::Stream
            } else {
                ResponseMode::Buffered
            }
        });
        Front {
            gateway: self.gateway,
            mode,
            function_url,
        }
    }

    /// The function URL of one route's function, if `[routes."<page>"] function_url` asks
    /// for one.
    pub fn function_url(&self, page: &str) -> Option<FunctionUrl> {
        self.routes.get(page).and_then(|r| r.function_url.clone())
    }

    /// The environment of every function (and of the `$default` one): the `.env` files'
    /// values with `[env]` over them.
    pub fn app_env(&self) -> BTreeMap<String, String> {
        let mut env = self.dotenv.clone();
        // A `.env` value named like a secret is dev's local stand-in (see `env_for`).
        for secret in self.access_secrets_all() {
            env.remove(&secret.env);
        }
        env.extend(self.env.iter().map(|(k, v)| (k.clone(), v.clone())));
        env
    }

    /// The environment of one route's function: [`AppConfig::app_env`] with the route's own
    /// `env` over it.
    ///
    /// A `.env` file's variable named like any secret of the app is left out of every
    /// function: the functions reading it get the secret at start, and the file's value (a
    /// local stand-in, which `nextr dev` gives them instead) never reaches the manifest.
    pub fn env_for(&self, page: &str) -> BTreeMap<String, String> {
        let mut env = self.app_env();
        if let Some(route) = self.routes.get(page) {
            env.extend(route.env.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        env
    }

    /// `[secrets]` and each route's `[routes."<page>".secrets]`, as the manifest's
    /// [`Access`] records them (the permissions are left as they are).
    pub fn fill_secrets(&self, access: &mut Access) {
        access.secrets = self.secrets.clone();
        for (page, route) in &self.routes {
            if !route.secrets.is_empty() {
                access.routes.entry(page.clone()).or_default().secrets =
                    route.secrets.iter().map(|s| s.secret.clone()).collect();
            }
        }
    }

    /// Every secret any function reads (`[secrets]` and every route's own).
    pub fn access_secrets_all(&self) -> Vec<SecretRef> {
        let mut all = self.secrets.clone();
        for route in self.routes.values() {
            all.extend(route.secrets.iter().map(|s| s.secret.clone()));
        }
        all
    }

    /// Whether any function reads a secret at start.
    pub fn has_secrets(&self) -> bool {
        !self.secrets.is_empty() || self.routes.values().any(|r| !r.secrets.is_empty())
    }

    /// The secrets part of the manifest's [`Access`] (see [`AppConfig::fill_secrets`]).
    fn access(&self) -> Access {
        let mut access = Access::default();
        self.fill_secrets(&mut access);
        access
    }

    /// Checks the settings against the app's routes, reporting every problem: each
    /// `[routes."<page>"]` must name a route, and each function's environment must fit
    /// Lambda's 4 KB.
    pub fn check_routes(&self, table: &RouteTable) -> Result<(), AppConfigError> {
        let path = self.path.clone().unwrap_or_else(|| APP_CONFIG_FILE.into());
        let file = SourceFile::new(APP_CONFIG_FILE, &self.text);
        let known: Vec<&str> = table.routes().iter().map(|r| r.page()).collect();
        let mut problems = Vec::new();
        for (page, span) in &self.route_spans {
            if known.contains(&page.as_str()) {
                continue;
            }
            let key = format!("routes.{page:?}");
            let mut d = ConfigDiagnostic::at(
                &file,
                "nextr::toml::no_route",
                span.clone(),
                format!("`{key}`: no route has the page pattern {page:?}"),
                match suggest(page, &known) {
                    Some(s) => format!("did you mean {s:?}?"),
                    None => "no such route".to_owned(),
                },
            )
            .with_key(key);
            if suggest(page, &known).is_none() {
                d = d.with_help("`nextr routes` lists the app's page patterns");
            }
            problems.push(d);
        }
        // The app-wide variables overflow every route alike: said once, at `[env]`.
        let mut app_wide_said = false;
        let access = self.access();
        for route in table.routes() {
            let env = self.env_for(route.page());
            let mut size: usize = env.iter().map(|(k, v)| k.len() + v.len()).sum();
            // The secrets' references, as the deployed function of the default stage gets them.
            let secrets = access.secrets_for_stage(Some(route.page()), self.default_stage());
            if let Some(list) = nextr::manifest::access::secrets_env(&secrets) {
                size += nextr::manifest::access::SECRETS_ENV.len() + list.len();
            }
            if size <= LAMBDA_ENV_BYTES {
                continue;
            }
            let own = self.route_spans.get(route.page()).filter(|_| {
                self.routes
                    .get(route.page())
                    .is_some_and(|r| !r.env.is_empty())
            });
            let (key, span) = match own {
                Some(span) => (format!("routes.{:?}.env", route.page()), Some(span.clone())),
                None if app_wide_said => continue,
                None => {
                    app_wide_said = true;
                    ("env".to_owned(), self.env_span.clone())
                }
            };
            let message = format!(
                "`{key}`: the environment of {} is {size} bytes{}; Lambda allows {LAMBDA_ENV_BYTES} bytes per function",
                route.page(),
                if self.dotenv.is_empty() { "" } else { " with the .env files' variables" }
            );
            let d = match (span, self.path.is_some()) {
                (Some(span), _) => {
                    ConfigDiagnostic::at(&file, "nextr::toml::env_size", span, message, "too large")
                }
                (None, true) => {
                    ConfigDiagnostic::at(&file, "nextr::toml::env_size", 0..0, message, "too large")
                }
                (None, false) => {
                    ConfigDiagnostic::unplaced(APP_CONFIG_FILE, "nextr::toml::env_size", message)
                }
            };
            problems.push(d.with_key(key));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigReport::new(path, problems).into())
        }
    }
}

/// Checks an app name ([`names::check_app`]), saying what is wrong.
pub fn check_app_name(name: &str) -> Result<(), String> {
    names::check_app(name).map_err(|e| e.to_string())
}

fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use nextr::manifest::FunctionUrlAuth;

    fn parse(text: &str) -> Result<AppConfig, AppConfigError> {
        AppConfig::parse(Path::new("/app/nextr.toml"), text)
    }

    /// Every problem, one line each.
    fn error(text: &str) -> String {
        parse(text).unwrap_err().lines().join("\n")
    }

    #[test]
    fn every_key_is_read() {
        let c = parse(
            r#"
app = "my-app"
region = "eu-west-1"
stage = "prod"
architecture = "arm64"
memory = 512

[env]
DATABASE_URL = "postgres://db"
LOG = "info"

[routes."/api/post/[pid]".env]
LOG = "debug"
"#,
        )
        .unwrap();
        assert_eq!(c.app.as_deref(), Some("my-app"));
        assert_eq!(c.region.as_deref(), Some("eu-west-1"));
        assert_eq!(c.stage.as_deref(), Some("prod"));
        assert_eq!(c.architecture, Some(Architecture::Arm64));
        assert_eq!(c.default_memory_mb(), 512);
        assert_eq!(c.env_for("/api/post/[pid]")["LOG"], "debug");
        assert_eq!(
            c.env_for("/api/post/[pid]")["DATABASE_URL"],
            "postgres://db"
        );
        assert_eq!(c.env_for("/api/hello")["LOG"], "info");
    }

    #[test]
    fn secrets_app_wide_and_per_route() {
        let mut c = parse(
            "[secrets]\nDB = \"ssm:/shop/{stage}/db\"\nKEY = \"secretsmanager:shop/key\"\n\n[routes.\"/api/pay\".secrets]\nKEY = \"ssm:/pay/key\"\n",
        )
        .unwrap();
        assert!(c.has_secrets());
        let mut access = Access::default();
        c.fill_secrets(&mut access);
        let pay = access.secrets_for_stage(Some("/api/pay"), "prod");
        assert_eq!(pay[0].name, "/shop/prod/db");
        assert_eq!(
            (pay[1].env.as_str(), pay[1].name.as_str()),
            ("KEY", "/pay/key")
        );
        assert_eq!(access.secrets_of(None)[1].name, "shop/key");
        // A `.env` file's value of a secret's name never reaches the function's env.
        c.dotenv.insert("DB".into(), "local".into());
        c.dotenv.insert("OTHER".into(), "x".into());
        c.dotenv.insert("KEY".into(), "local".into());
        let env = c.env_for("/api/pay");
        assert!(!env.contains_key("DB") && env["OTHER"] == "x");
        // Nor a route's secret in another route's function.
        assert!(!c.env_for("/api/other").contains_key("KEY"));
    }

    #[test]
    fn secret_problems_are_reported_at_once_at_their_lines() {
        let e = error(
            "[env]\nDB = \"x\"\n[secrets]\nDB = \"ssm:/db\"\nKEY = \"sk_live_123\"\nlower = 3\nBAD = \"ssm:/a/{env}\"\n[routes.\"/api/pay\".secrets]\nDB2 = \"arn:aws:s3:::b\"\n",
        );
        let lines: Vec<&str> = e.lines().collect();
        assert_eq!(lines.len(), 5, "{e}");
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("nextr.toml:4:1: `secrets.DB`: DB is also set in `env`")),
            "{e}"
        );
        assert!(lines.iter().any(|l| l.starts_with("nextr.toml:5:7: `secrets.KEY`: \"sk_live_123\" does not say where the secret lives")), "{e}");
        assert!(
            lines
                .iter()
                .any(|l| l
                    .starts_with("nextr.toml:6:9: `secrets.lower`: expected \"ssm:/path/name\"")),
            "{e}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.contains("the only placeholder a secret's name takes is {stage}")),
            "{e}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("nextr.toml:9:7: `routes.\"/api/pay\".secrets.DB2`")),
            "{e}"
        );
    }

    #[test]
    fn conflicts_apply_to_http_apis_only() {
        let e = error("gateway = \"rest\"\n[conflicts]\nkeys = \"static-only\"\n");
        assert!(
            e.starts_with("nextr.toml:2:2: `conflicts`: applies to an API Gateway HTTP API only"),
            "{e}"
        );
        assert!(parse("gateway = \"http\"\n[conflicts]\nkeys = \"static-only\"\n").is_ok());
        assert!(parse("gateway = \"rest\"\n").is_ok());
    }

    #[test]
    fn conflicts_section() {
        let c = AppConfig::parse(
            Path::new("/app/nextr.toml"),
            "[conflicts]\nkeys = \"static-only\"\naccept = [{ a = \"/api/[x]/y\", b = \"/api/y/[z]\" }]\n",
        )
        .unwrap();
        assert_eq!(c.conflict_keys, KeyPolicy::StaticOnly);
        assert!(c.accepted_conflicts[0].covers("/api/y/[z]", "/api/[x]/y"));
        assert_eq!(
            error("[conflicts]\nkeys = \"loose\"\n"),
            "nextr.toml:2:8: `conflicts.keys`: \"loose\" is not a key policy: use \"parametrised\" or \"static-only\""
        );
        assert!(error("[conflicts]\naccept = [{ a = \"/api/x\" }]\n")
            .contains("`conflicts.accept[0]`: missing `b`"));
    }

    #[test]
    fn missing_file_gives_defaults() {
        let tmp = tempfile::tempdir().unwrap();
        let c = AppConfig::load(tmp.path()).unwrap();
        assert_eq!(c, AppConfig::default());
        assert_eq!(c.default_memory_mb(), 1024);
    }

    #[test]
    fn load_reads_the_file_next_to_cargo_toml() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("nextr.toml"), "stage = \"dev\"\n").unwrap();
        let c = AppConfig::load(tmp.path()).unwrap();
        assert_eq!(c.stage.as_deref(), Some("dev"));
        assert_eq!(c.path, Some(tmp.path().join("nextr.toml")));
    }

    #[test]
    fn unknown_keys_name_file_key_and_line() {
        assert_eq!(
            error("app = \"a\"\nmemroy = 512\n"),
            "nextr.toml:2:1: unknown key `memroy` in nextr.toml"
        );
        assert_eq!(
            error("[routes.\"/api/x\"]\nenv = {}\ntimeout = 3\n"),
            "nextr.toml:3:1: unknown key `timeout` in [routes.\"/api/x\"]"
        );
    }

    #[test]
    fn wrong_types_and_values_name_the_key() {
        assert_eq!(
            error("memory = \"big\"\n"),
            "nextr.toml:1:10: `memory`: expected a whole number of MB (128–10240), found the string \"big\""
        );
        assert_eq!(
            error("\nmemory = 64\n"),
            "nextr.toml:2:10: `memory`: 64 MB is outside Lambda's range of 128–10240 MB"
        );
        let e = error("architecture = \"aarch64\"\n");
        assert!(e.starts_with("nextr.toml:1:16: `architecture`: \"aarch64\" is not an architecture: use \"x86_64\" or \"arm64\""), "{e}");
        assert!(error("app = \"my_app\"\n").contains("`app`: \"my_app\" is not an app name"));
        assert!(error("app = \"9lives\"\n").contains("starting with a letter"));
        assert!(
            error("region = \"Europe\"\n").contains("`region`: \"Europe\" is not an AWS region")
        );
        assert!(error("stage = \"a b\"\n").contains("`stage`"));
        // One rule for stages everywhere (`nextr_infra::names`): what deploy takes.
        assert!(error("stage = \"$default\"\n").contains("is not a stage name"));
        assert!(error("stage = \"Prod\"\n").contains("lowercase"));
        assert_eq!(parse("stage = \"pr-7\"\n").unwrap().default_stage(), "pr-7");
        assert_eq!(parse("").unwrap().default_stage(), "dev");
        assert_eq!(
            parse("gateway = \"http\"\n").unwrap().gateway,
            GatewayKind::Http
        );
        assert!(error("gateway = \"websocket\"\n")
            .contains("`gateway`: \"websocket\" is not a gateway: use \"http\" or \"rest\""));
        assert!(parse("region = \"us-gov-west-1\"\n").is_ok());
    }

    #[test]
    fn streaming_settings_decide_each_routes_front() {
        let c = parse(
            "[routes.\"/api/a\"]\nfunction_url = true\n[routes.\"/api/b\"]\nfunction_url = \"iam\"\n",
        )
        .unwrap();
        let a = c.front("/api/a");
        assert_eq!((a.mode, a.function_url), (ResponseMode::Stream, true));
        assert_eq!(a.max_duration_s(), 900);
        assert_eq!(
            c.function_url("/api/b").map(|u| u.auth),
            Some(FunctionUrlAuth::Iam)
        );
        let other = c.front("/api/other");
        assert_eq!(
            (other.mode, other.max_duration_s()),
            (ResponseMode::Buffered, 30)
        );

        let rest =
            parse("gateway = \"rest\"\n[routes.\"/api/a\"]\nresponse = \"buffered\"\n").unwrap();
        assert_eq!(rest.front("/api/a").max_duration_s(), 29);
        assert_eq!(rest.front("/api/b").mode, ResponseMode::Stream);
        assert_eq!(rest.front("/api/b").max_duration_s(), 900);

        let e = error("[routes.\"/api/a\"]\nresponse = \"stream\"\n");
        assert!(e.starts_with("nextr.toml:2:12: `routes.\"/api/a\".response`: an API Gateway HTTP API never streams"), "{e}");
        assert!(error("[routes.\"/api/a\"]\nresponse = \"chunked\"\n")
            .contains("\"chunked\" is not a response mode: use \"stream\" or \"buffered\""));
        assert!(
            error("[routes.\"/api/a\"]\nfunction_url = \"public\"\n").contains(
                "`routes.\"/api/a\".function_url`: \"public\" is not a function URL setting"
            )
        );
        assert!(error("[env]\nNEXTR_RESPONSE_MODE = \"stream\"\n").contains("reserved"));
    }

    #[test]
    fn env_names_are_checked() {
        assert_eq!(
            error("[env]\nAWS_REGION = \"x\"\n"),
            "nextr.toml:2:1: `env.AWS_REGION`: AWS_REGION is reserved by Lambda and cannot be set"
        );
        assert!(error("[env]\n\"1X\" = \"x\"\n").contains("`env.1X`: an environment variable name"));
        assert!(error("[routes.\"/api/x\".env]\n\"A-B\" = \"x\"\n")
            .contains("`routes.\"/api/x\".env.A-B`"));
        assert!(error("[routes.\"hello\"]\n").contains("page pattern"));
    }

    #[test]
    fn syntax_errors_have_a_line() {
        let e = error("app = \"x\"\nmemory = \n");
        assert!(e.starts_with("nextr.toml:2:"), "{e}");
    }

    #[test]
    fn app_routes_anywhere_take_route_settings() {
        let table = RouteTable::from_files(["app/route.rs", "app/hooks/[id]/route.rs"]).unwrap();
        let c = parse(
            "[routes.\"/\".env]\nAA = \"1\"\n[routes.\"/hooks/[id]\"]\nresponse = \"buffered\"\n",
        )
        .unwrap();
        c.check_routes(&table).unwrap();
        assert_eq!(c.env_for("/")["AA"], "1");
        assert!(parse("[routes.\"hooks\".env]\nAA = \"1\"\n").is_err());
    }

    #[test]
    fn routes_must_exist_and_env_must_fit() {
        let table = RouteTable::from_files(["api/hello.rs", "api/post/[pid].rs"]).unwrap();
        let c = parse("[routes.\"/api/post/[pid]\".env]\nA1 = \"x\"\n").unwrap();
        c.check_routes(&table).unwrap();
        let c = parse("\n[routes.\"/api/post/[id]\".env]\nA1 = \"x\"\n").unwrap();
        assert_eq!(
            c.check_routes(&table).unwrap_err().lines().join("\n"),
            "nextr.toml:2:9: `routes.\"/api/post/[id]\"`: no route has the page pattern \"/api/post/[id]\""
        );
        let big = "x".repeat(4100);
        let c = parse(&format!("[env]\nBIG = \"{big}\"\n")).unwrap();
        let e = c.check_routes(&table).unwrap_err().lines().join("\n");
        assert!(
            e.contains("`env`: the environment of /api/hello is 4103 bytes"),
            "{e}"
        );
    }

    /// A file with five problems at three table levels.
    const FIVE_PROBLEMS: &str = r#"regon = "eu-west-1"
memory = "big"

[routes."/api/x"]
respnse = "buffered"

[routes."/api/x".env]
PORT = 3000

[conflicts]
kyes = "static-only"
"#;

    fn report(text: &str) -> ConfigReport {
        match parse(text) {
            Err(AppConfigError::Invalid(report)) => report,
            other => panic!("expected a report, got {other:?}"),
        }
    }

    fn plain(report: &ConfigReport) -> String {
        crate::report::render(report, crate::report::ReportStyle::Plain)
    }

    #[test]
    fn every_problem_is_reported_at_its_place() {
        let r = report(FIVE_PROBLEMS);
        assert_eq!(r.to_string(), "5 problems in nextr.toml");
        assert_eq!(
            r.lines(),
            [
                "nextr.toml:1:1: unknown key `regon` in nextr.toml",
                "nextr.toml:2:10: `memory`: expected a whole number of MB (128–10240), found the string \"big\"",
                "nextr.toml:5:1: unknown key `respnse` in [routes.\"/api/x\"]",
                "nextr.toml:8:8: `routes.\"/api/x\".env.PORT`: expected a string, found the number 3000",
                "nextr.toml:11:1: unknown key `kyes` in [conflicts]",
            ]
        );
        let keys: Vec<_> = r.diagnostics.iter().map(|d| d.key.as_deref()).collect();
        assert_eq!(
            keys,
            [
                Some("regon"),
                Some("memory"),
                Some("routes.\"/api/x\".respnse"),
                Some("routes.\"/api/x\".env.PORT"),
                Some("conflicts.kyes"),
            ]
        );
    }

    #[test]
    fn unknown_keys_get_the_closest_key() {
        let text = plain(&report(FIVE_PROBLEMS));
        assert!(text.contains("did you mean `region`?"), "{text}");
        assert!(text.contains("did you mean `response`?"), "{text}");
        assert!(text.contains("did you mean `keys`?"), "{text}");
        // [env] keys are the app's own names: any is allowed.
        assert!(parse("[env]\nREGON = \"x\"\n").is_ok());
        // Nothing close: the keys are listed instead.
        let text = plain(&report("zzzzzz = 1\n"));
        assert!(text.contains("unknown key"), "{text}");
        assert!(
            text.contains("the keys of nextr.toml are `app`, `region`"),
            "{text}"
        );
        // Misspelt values get one too.
        assert!(plain(&report("architecture = \"amr64\"\n")).contains("did you mean \"arm64\"?"));
        assert!(plain(&report("memory = \"512\"\n")).contains("remove the quotes: `memory = 512`"));
    }

    #[test]
    fn the_report_has_a_code_frame_per_problem() {
        insta::assert_snapshot!("nextr_toml_report", plain(&report(FIVE_PROBLEMS)));
    }

    #[test]
    fn route_problems_found_later_are_all_reported() {
        let table = RouteTable::from_files(["api/hello.rs", "api/post/[pid].rs"]).unwrap();
        let c = parse("[routes.\"/api/post/[id]\"]\nresponse = \"buffered\"\n[routes.\"/api/helo\"]\n[routes.\"/nothing/like/it\"]\n").unwrap();
        let Err(AppConfigError::Invalid(r)) = c.check_routes(&table) else {
            panic!("the pages match no route")
        };
        assert_eq!(r.diagnostics.len(), 3);
        let text = plain(&r);
        assert!(text.contains("did you mean \"/api/post/[pid]\"?"), "{text}");
        assert!(text.contains("did you mean \"/api/hello\"?"), "{text}");
        assert!(text.contains("`nextr routes` lists"), "{text}");
    }

    #[test]
    fn syntax_errors_are_all_reported() {
        let r = report("app = \"x\"\nmemory = \nregion = [\n");
        assert!(!r.diagnostics.is_empty());
        assert!(r.lines()[0].starts_with("nextr.toml:2:"), "{:?}", r.lines());
        assert!(r
            .diagnostics
            .iter()
            .all(|d| d.code == "nextr::toml::syntax"));
    }

    #[test]
    fn dotenv_values_lie_below_env() {
        let mut c =
            parse("[env]\nAA = \"toml\"\n[routes.\"/api/x\".env]\nBB = \"route\"\n").unwrap();
        c.dotenv = BTreeMap::from([
            ("AA".to_owned(), "file".to_owned()),
            ("BB".to_owned(), "file".to_owned()),
            ("CC".to_owned(), "file".to_owned()),
        ]);
        let env = c.env_for("/api/x");
        assert_eq!(
            (env["AA"].as_str(), env["BB"].as_str(), env["CC"].as_str()),
            ("toml", "route", "file")
        );
        assert_eq!(c.app_env()["BB"], "file");
    }

    #[test]
    fn cors_and_throttle_are_read() {
        let c = parse(
            r#"
[cors]
allow_origins = ["https://app.example", "http://localhost:3000"]
allow_methods = ["get", "POST"]
allow_headers = ["content-type", "x-token"]
expose_headers = ["x-request-id"]
allow_credentials = true
max_age = 600

[throttle]
rate = 100
burst = 50

[routes."/api/login".throttle]
rate = 1
burst = 2
"#,
        )
        .unwrap();
        let cors = c.cors.unwrap();
        assert_eq!(
            cors.allow_origins,
            ["https://app.example", "http://localhost:3000"]
        );
        assert_eq!(cors.allow_methods, ["GET", "POST"]);
        assert_eq!(cors.expose_headers, ["x-request-id"]);
        assert!(cors.allow_credentials);
        assert_eq!(cors.max_age_s, Some(600));
        assert_eq!(
            c.throttle,
            Some(Throttle {
                rate: 100,
                burst: 50
            })
        );
        assert_eq!(
            c.routes["/api/login"].throttle,
            Some(Throttle { rate: 1, burst: 2 })
        );
    }

    #[test]
    fn credentials_with_any_origin_are_refused() {
        let e = error("[cors]\nallow_origins = [\"*\"]\nallow_credentials = true\n");
        assert_eq!(
            e,
            "nextr.toml:3:21: `cors.allow_credentials`: credentials cannot be allowed for any origin (`allow_origins = [\"*\"]`): browsers refuse it and API Gateway rejects the configuration"
        );
        assert!(parse("[cors]\nallow_origins = [\"*\"]\nallow_credentials = false\n").is_ok());
    }

    #[test]
    fn cors_and_throttle_problems_are_all_reported() {
        let r = report(
            "[cors]\nallow_origins = [\"app.example\"]\nallow_methods = [\"GTE\"]\nmax_age = 100000\nallow_origin = []\nallow_credentials = \"yes\"\n[throttle]\nrate = 0\n[routes.\"/api/x\".throttle]\nrate = 5\nburts = 1\n",
        );
        let lines = r.lines();
        assert_eq!(lines.len(), 9, "{lines:#?}");
        let expected = [
            "2:18: `cors.allow_origins`: \"app.example\" is not an origin",
            "3:18: `cors.allow_methods`: \"GTE\" is not a method",
            "4:11: `cors.max_age`: 100000 is outside API Gateway's range of 0–86400 seconds",
            "5:1: unknown key `allow_origin` in [cors]",
            "6:21: `cors.allow_credentials`: expected true or false, found the string \"yes\"",
            "7:1: `throttle`: missing `burst`",
            "8:8: `throttle.rate`: 0 is not a number of requests per second",
            "9:1: `routes.\"/api/x\".throttle`: missing `burst`",
            "11:1: unknown key `burts` in [routes.\"/api/x\".throttle]",
        ];
        for (line, want) in lines.iter().zip(expected) {
            assert!(line.starts_with(&format!("nextr.toml:{want}")), "{line}");
        }
        assert!(lines[1].contains("did you mean \"GET\"?"), "{}", lines[1]);
        assert!(plain(&r).contains("did you mean `burst`?"), "{}", plain(&r));
        assert!(
            plain(&r).contains("did you mean `allow_origins`?"),
            "{}",
            plain(&r)
        );
    }

    #[test]
    fn cors_behind_a_rest_api_takes_one_origin_and_throttles_too() {
        let e = error("gateway = \"rest\"\n[cors]\nallow_origins = [\"https://a.example\", \"https://b.example\"]\n");
        assert!(
            e.starts_with("nextr.toml:3:17: `cors.allow_origins`: names 2 origins, but a REST API (`gateway = \"rest\"`) answers preflights with a MOCK integration"),
            "{e}"
        );
        let r = report("gateway = \"rest\"\n[cors]\nallow_origins = [\"https://a.example\", \"https://b.example\"]\n");
        assert!(plain(&r).contains("nextr::cors::Cors"), "{}", plain(&r));
        let e = error("gateway = \"rest\"\n[cors]\nallow_methods = [\"GET\"]\n");
        assert!(e.contains("`cors.allow_origins`: names no origin"), "{e}");
        let c = parse("gateway = \"rest\"\n[cors]\nallow_origins = [\"https://app.example\"]\n")
            .unwrap();
        assert_eq!(c.cors.unwrap().allow_origins, ["https://app.example"]);
        assert!(parse("gateway = \"rest\"\n[cors]\nallow_origins = [\"*\"]\n").is_ok());
        let c = parse("gateway = \"rest\"\n[throttle]\nrate = 1\nburst = 1\n[routes.\"/api/x\".throttle]\nrate = 1\nburst = 1\n").unwrap();
        assert_eq!(c.throttle, Some(Throttle { rate: 1, burst: 1 }));
        assert!(c.routes["/api/x"].throttle.is_some());
    }

    #[test]
    fn logs_and_domain_are_read() {
        let c = parse(
            r#"
region = "eu-west-1"
[logs]
retention_days = 90
[routes."/api/x"]
log_retention_days = 7
[domain]
name = "api.example.com"
certificate_arn = "arn:aws:acm:eu-west-1:123456789012:certificate/1234abcd-12ab-34cd-56ef-1234567890ab"
"#,
        )
        .unwrap();
        assert_eq!(c.log_retention_days(), 90);
        assert_eq!(c.routes["/api/x"].log_retention_days, Some(7));
        let d = c.domain.unwrap();
        assert_eq!(d.name, "api.example.com");
        assert_eq!(d.certificate_region(), Some("eu-west-1"));
        let c = parse("").unwrap();
        assert_eq!(c.log_retention_days(), 30);
        assert_eq!(
            c.stage_throttle(),
            Throttle {
                rate: 1000,
                burst: 500
            }
        );
        assert!(c.domain.is_none());
    }

    #[test]
    fn logs_and_domain_problems_are_all_reported_at_their_place() {
        let r = report(
            "region = \"us-east-1\"\n[logs]\nretention_days = 31\nkeep = 1\n[routes.\"/api/x\"]\nlog_retention_days = \"7\"\n[domain]\nname = \"https://API.example.com/\"\ncertificate_arn = \"arn:aws:acm:eu-west-1:123456789012:certificate/abc\"\n",
        );
        let lines = r.lines();
        let expected = [
            "3:18: `logs.retention_days`: CloudWatch Logs cannot keep events for 31 days",
            "4:1: unknown key `keep` in [logs]",
            "6:22: `routes.\"/api/x\".log_retention_days`: expected a whole number of days such as 30, found the string \"7\"",
            "8:8: `domain.name`: \"https://API.example.com/\" has capital letters",
        ];
        assert_eq!(lines.len(), expected.len(), "{lines:#?}");
        for (line, want) in lines.iter().zip(expected) {
            assert!(line.starts_with(&format!("nextr.toml:{want}")), "{line}");
        }
        let text = plain(&r);
        assert!(text.contains("the closest is 30"), "{text}");
        // A valid domain with its certificate in another region than the app's.
        let e = error("region = \"us-east-1\"\n[domain]\nname = \"api.example.com\"\ncertificate_arn = \"arn:aws:acm:eu-west-1:123456789012:certificate/abc\"\n");
        assert!(
            e.starts_with("nextr.toml:4:19: `domain.certificate_arn`: the certificate is in eu-west-1 and the app deploys to us-east-1"),
            "{e}"
        );
        let e = error("[domain]\nname = \"api.example.com\"\ncertificate_arn = \"arn:aws:iam::123456789012:server-certificate/x\"\n");
        assert!(e.contains("is not an ACM certificate ARN"), "{e}");
        let e = error("[domain]\nname = \"api.example.com\"\n");
        assert!(
            e.starts_with("nextr.toml:1:1: `domain`: missing `certificate_arn`"),
            "{e}"
        );
        let e = error("domain = \"api.example.com\"\n");
        assert!(e.contains("`domain`: expected a table"), "{e}");
        for bad in [
            "example",
            "a..b",
            "-a.b",
            "*.example.com",
            "api.example.com.",
            "a_b.com",
        ] {
            assert!(read::domain_problem(bad).is_some(), "{bad}");
        }
        assert!(read::domain_problem("api.example.co.uk").is_none());
        assert!(read::certificate_problem(
            "arn:aws-cn:acm:cn-north-1:123456789012:certificate/ab-12"
        )
        .is_none());
    }

    #[test]
    fn app_names() {
        assert!(check_app_name("docs").is_ok());
        assert!(check_app_name("my-app-2").is_ok());
        assert!(check_app_name("").is_err());
        assert!(check_app_name(&"a".repeat(41)).is_err());
        assert!(check_app_name("-x").is_err());
    }
}
