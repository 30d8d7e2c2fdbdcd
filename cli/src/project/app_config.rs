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
//! # The API Gateway in front of the functions: "http" (an HTTP API, payload 2.0).
//! # Default: "http".
//! gateway = "http"
//!
//! # The CPU architecture of every function: "x86_64" or "arm64". `nextr build --arch` wins.
//! # Default: "x86_64".
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
//! # Environment variables of one route's function, keyed by its page pattern; they are
//! # added to [env] and win over it. A page that matches no route is an error.
//! [routes."/api/post/[pid]".env]
//! CACHE_SECONDS = "60"
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
//! Unknown keys are errors (a typo would otherwise be silently ignored), each naming the
//! file, the key and the line.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use nextr::limits::{DEFAULT_MEMORY_MB, LAMBDA_ENV_BYTES, LAMBDA_MEMORY_MB};
use nextr::manifest::{
    Architecture, Front, FunctionUrl, FunctionUrlAuth, GatewayKind, ResponseMode, RESPONSE_MODE_ENV,
};
use nextr::routing::RouteTable;
use nextr_infra::conflicts::{AcceptedConflict, KeyPolicy};
use nextr_infra::names;
use serde::Deserialize;
use toml::Spanned;

/// The file name, next to `Cargo.toml`.
pub const APP_CONFIG_FILE: &str = "nextr.toml";

pub use names::MAX_APP as MAX_APP_NAME;

/// Variables Lambda sets itself and refuses in a function's configuration.
const RESERVED_ENV: &[&str] = &[
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
    /// `[routes."<page>"]`: per-route settings, by page pattern.
    pub routes: BTreeMap<String, RouteSettings>,
    /// `[conflicts] keys`: which route keys the conflict analysis may add.
    pub conflict_keys: KeyPolicy,
    /// `[conflicts] accept`: route pairs whose gateway-vs-Next disagreement is accepted.
    pub accepted_conflicts: Vec<AcceptedConflict>,
    /// Where each `[routes."<page>"]` key is, for errors found once the routes are known.
    route_keys: BTreeMap<String, Location>,
    /// The file's text, to turn byte offsets into lines.
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
}

/// A line and column (1-based) in `nextr.toml`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Location {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
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
    /// A syntax error, an unknown key, a wrong type or a bad value.
    #[error("{}:{}: {}{}", .path.display(), .at, .key.as_ref().map(|k| format!("`{k}`: ")).unwrap_or_default(), .message)]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Where in it.
        at: Location,
        /// The key at fault, as written (`memory`, `routes."/api/x".env`).
        key: Option<String>,
        /// What is wrong.
        message: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    app: Option<Spanned<String>>,
    region: Option<Spanned<String>>,
    stage: Option<Spanned<String>>,
    architecture: Option<Architecture>,
    gateway: Option<GatewayKind>,
    keep_versions: Option<Spanned<u32>>,
    memory: Option<Spanned<u32>>,
    #[serde(default)]
    env: BTreeMap<Spanned<String>, String>,
    #[serde(default)]
    routes: BTreeMap<Spanned<String>, RawRoute>,
    conflicts: Option<Spanned<RawConflicts>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConflicts {
    keys: Option<Spanned<String>>,
    #[serde(default)]
    accept: Vec<AcceptedConflict>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoute {
    #[serde(default)]
    env: BTreeMap<Spanned<String>, String>,
    response: Option<Spanned<String>>,
    function_url: Option<Spanned<RawFunctionUrl>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawFunctionUrl {
    On(bool),
    Auth(String),
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

    /// Parses and validates the text of a `nextr.toml`; `path` names the file in errors.
    pub fn parse(path: &Path, text: &str) -> Result<Self, AppConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            invalid(
                path,
                text,
                span.clone(),
                key_at(text, span.start),
                e.message().to_owned(),
            )
        })?;
        let err = |span: Range<usize>, key: &str, message: String| {
            invalid(path, text, span, Some(key.to_owned()), message)
        };

        if let Some(app) = &raw.app {
            check_app_name(app.get_ref()).map_err(|m| err(app.span(), "app", m))?;
        }
        if let Some(region) = &raw.region {
            if !is_region(region.get_ref()) {
                return Err(err(
                    region.span(),
                    "region",
                    format!(
                        "{:?} is not an AWS region name such as \"eu-west-1\" or \"us-east-1\"",
                        region.get_ref()
                    ),
                ));
            }
        }
        if let Some(stage) = &raw.stage {
            names::check_stage(stage.get_ref())
                .map_err(|e| err(stage.span(), "stage", e.to_string()))?;
        }
        if let Some(keep) = raw.keep_versions.as_ref().filter(|k| *k.get_ref() > 100) {
            return Err(err(
                keep.span(),
                "keep_versions",
                format!(
                    "{} is more than 100 versions: keep 0 to 100",
                    keep.get_ref()
                ),
            ));
        }
        if let Some(memory) = &raw.memory {
            if !LAMBDA_MEMORY_MB.contains(memory.get_ref()) {
                return Err(err(
                    memory.span(),
                    "memory",
                    format!(
                        "{} MB is outside Lambda's range of {}–{} MB",
                        memory.get_ref(),
                        LAMBDA_MEMORY_MB.start(),
                        LAMBDA_MEMORY_MB.end()
                    ),
                ));
            }
        }
        let env = env_table(&raw.env, "env", &err)?;
        let mut routes = BTreeMap::new();
        let mut route_keys = BTreeMap::new();
        for (page, route) in &raw.routes {
            let prefix = format!("routes.{:?}", page.get_ref());
            // Any page: App routes serve `/` and paths outside `/api` (checked against the
            // route table by `check_routes`).
            if !page.get_ref().starts_with('/') {
                return Err(err(
                    page.span(),
                    &prefix,
                    "a route is named by its page pattern, such as \"/api/post/[pid]\" or \"/hooks/[id]\"".into(),
                ));
            }
            let env = env_table(&route.env, &format!("{prefix}.env"), &err)?;
            let response = match &route.response {
                None => None,
                Some(r) => Some(
                    r.get_ref()
                        .parse::<ResponseMode>()
                        .map_err(|m| err(r.span(), &format!("{prefix}.response"), m))?,
                ),
            };
            let function_url = match route.function_url.as_ref() {
                None => None,
                Some(u) => match u.get_ref() {
                    RawFunctionUrl::On(false) => None,
                    RawFunctionUrl::On(true) => Some(FunctionUrl {
                        auth: FunctionUrlAuth::None,
                    }),
                    RawFunctionUrl::Auth(a) if a == "none" => Some(FunctionUrl {
                        auth: FunctionUrlAuth::None,
                    }),
                    RawFunctionUrl::Auth(a) if a == "iam" => Some(FunctionUrl {
                        auth: FunctionUrlAuth::Iam,
                    }),
                    RawFunctionUrl::Auth(a) => {
                        return Err(err(
                            u.span(),
                            &format!("{prefix}.function_url"),
                            format!(
                                "{a:?} is not a function URL setting: use true (public, auth NONE) or \"iam\" (callers sign with AWS credentials)"
                            ),
                        ))
                    }
                },
            };
            let gateway = raw.gateway.unwrap_or_default();
            if response == Some(ResponseMode::Stream)
                && !gateway.streams()
                && function_url.is_none()
            {
                let r = route.response.as_ref().map(|r| r.span()).unwrap_or(0..0);
                return Err(err(
                    r,
                    &format!("{prefix}.response"),
                    format!(
                        "{} never streams: set `gateway = \"rest\"` at the top of nextr.toml, or give this route a streaming function URL with `function_url = true`",
                        gateway.describe()
                    ),
                ));
            }
            route_keys.insert(page.get_ref().clone(), location(text, page.span().start));
            routes.insert(
                page.get_ref().clone(),
                RouteSettings {
                    env,
                    response,
                    function_url,
                },
            );
        }
        // The REST API's resource tree follows Next's precedence exactly: nothing to accept,
        // no key policy to choose. A `[conflicts]` table there is a setting that would do
        // nothing, so it is refused rather than ignored.
        if let (Some(GatewayKind::Rest), Some(table)) = (raw.gateway, &raw.conflicts) {
            return Err(err(
                table.span(),
                "conflicts",
                "applies to an API Gateway HTTP API only: with `gateway = \"rest\"` nextr builds REST resources that pick Next's route for every path, so there is no conflict to accept and no key policy; remove the [conflicts] table".into(),
            ));
        }
        let conflicts = raw.conflicts.map(Spanned::into_inner).unwrap_or_default();
        let conflict_keys = match conflicts
            .keys
            .as_ref()
            .map(|k| (k.get_ref().as_str(), k.span()))
        {
            None | Some(("parametrised", _)) => KeyPolicy::Parametrised,
            Some(("static-only", _)) => KeyPolicy::StaticOnly,
            Some((other, span)) => {
                return Err(err(
                    span,
                    "conflicts.keys",
                    format!(
                        "{other:?} is not a key policy: use \"parametrised\" or \"static-only\""
                    ),
                ))
            }
        };
        Ok(AppConfig {
            path: Some(path.to_path_buf()),
            conflict_keys,
            accepted_conflicts: conflicts.accept,
            app: raw.app.map(Spanned::into_inner),
            region: raw.region.map(Spanned::into_inner),
            stage: raw.stage.map(Spanned::into_inner),
            architecture: raw.architecture,
            gateway: raw.gateway.unwrap_or_default(),
            keep_versions: raw.keep_versions.map(Spanned::into_inner),
            memory_mb: raw.memory.map(Spanned::into_inner),
            env,
            routes,
            route_keys,
            text: text.to_owned(),
        })
    }

    /// The stage deploy uses when `--stage` names none: `stage`, or [`names::DEFAULT_STAGE`].
    pub fn default_stage(&self) -> &str {
        self.stage.as_deref().unwrap_or(names::DEFAULT_STAGE)
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

    /// The environment of one route's function: `[env]` with the route's own `env` over it.
    pub fn env_for(&self, page: &str) -> BTreeMap<String, String> {
        let mut env = self.env.clone();
        if let Some(route) = self.routes.get(page) {
            env.extend(route.env.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        env
    }

    /// Checks the settings against the app's routes: every `[routes."<page>"]` must name a
    /// route, and each function's environment must fit Lambda's 4 KB.
    pub fn check_routes(&self, table: &RouteTable) -> Result<(), AppConfigError> {
        let path = self.path.clone().unwrap_or_else(|| APP_CONFIG_FILE.into());
        for (page, at) in &self.route_keys {
            if !table.routes().iter().any(|r| r.page() == page) {
                let known: Vec<&str> = table.routes().iter().map(|r| r.page()).collect();
                let hint = strsim_closest(page, &known)
                    .map(|c| format!("; did you mean {c:?}?"))
                    .unwrap_or_default();
                return Err(AppConfigError::Invalid {
                    path,
                    at: *at,
                    key: Some(format!("routes.{page:?}")),
                    message: format!("no route has the page pattern {page:?}{hint}"),
                });
            }
        }
        for route in table.routes() {
            let env = self.env_for(route.page());
            let size: usize = env.iter().map(|(k, v)| k.len() + v.len()).sum();
            if size > LAMBDA_ENV_BYTES {
                let (key, at) = match self.route_keys.get(route.page()) {
                    Some(at) => (format!("routes.{:?}.env", route.page()), *at),
                    None => ("env".to_owned(), self.key_location("[env]")),
                };
                return Err(AppConfigError::Invalid {
                    path,
                    at,
                    key: Some(key),
                    message: format!(
                        "the environment of {} is {size} bytes; Lambda allows {LAMBDA_ENV_BYTES} bytes per function",
                        route.page()
                    ),
                });
            }
        }
        Ok(())
    }

    fn key_location(&self, needle: &str) -> Location {
        self.text
            .find(needle)
            .map(|offset| location(&self.text, offset))
            .unwrap_or(Location { line: 1, column: 1 })
    }
}

/// Checks an app name ([`names::check_app`]), saying what is wrong.
pub fn check_app_name(name: &str) -> Result<(), String> {
    names::check_app(name).map_err(|e| e.to_string())
}

fn env_table<E>(
    table: &BTreeMap<Spanned<String>, String>,
    key: &str,
    err: &impl Fn(Range<usize>, &str, String) -> E,
) -> Result<BTreeMap<String, String>, E> {
    let mut out = BTreeMap::new();
    for (name, value) in table {
        let n = name.get_ref();
        let valid = n.len() >= 2
            && n.starts_with(|c: char| c.is_ascii_alphabetic())
            && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(err(
                name.span(),
                &format!("{key}.{n}"),
                "an environment variable name is a letter followed by letters, digits or `_` (at least 2 characters)".into(),
            ));
        }
        if RESERVED_ENV.contains(&n.as_str()) {
            return Err(err(
                name.span(),
                &format!("{key}.{n}"),
                format!("{n} is reserved by Lambda and cannot be set"),
            ));
        }
        out.insert(n.clone(), value.clone());
    }
    Ok(out)
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

fn strsim_closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::levenshtein(word, c), *c))
        .filter(|(d, c)| *d <= 3.max(c.len() / 4))
        .min()
        .map(|(_, c)| c)
}

fn invalid(
    path: &Path,
    text: &str,
    span: Range<usize>,
    key: Option<String>,
    message: String,
) -> AppConfigError {
    AppConfigError::Invalid {
        path: path.to_path_buf(),
        at: location(text, span.start),
        key,
        message,
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn location(text: &str, offset: usize) -> Location {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Location {
        line: before.matches('\n').count() + 1,
        column: before[line_start..].chars().count() + 1,
    }
}

/// The key on the line of `offset`, as written, qualified by the enclosing `[table]`.
fn key_at(text: &str, offset: usize) -> Option<String> {
    let offset = offset.min(text.len());
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let line = text[line_start..line_end].trim();
    let header = |l: &str| {
        l.strip_prefix('[')
            .and_then(|l| l.split(']').next())
            .map(|h| h.trim_start_matches('[').trim().to_owned())
    };
    if line.starts_with('[') {
        return header(line);
    }
    let key = line.split('=').next()?.trim();
    if key.is_empty() {
        return None;
    }
    let table = text[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .and_then(header);
    Some(match table {
        Some(t) => format!("{t}.{key}"),
        None => key.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<AppConfig, AppConfigError> {
        AppConfig::parse(Path::new("/app/nextr.toml"), text)
    }

    fn error(text: &str) -> String {
        parse(text).unwrap_err().to_string()
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
    fn conflicts_apply_to_http_apis_only() {
        let e = error("gateway = \"rest\"\n[conflicts]\nkeys = \"static-only\"\n");
        assert!(
            e.starts_with(
                "/app/nextr.toml:2:1: `conflicts`: applies to an API Gateway HTTP API only"
            ),
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
            "/app/nextr.toml:2:8: `conflicts.keys`: \"loose\" is not a key policy: use \"parametrised\" or \"static-only\""
        );
        assert!(error("[conflicts]\naccept = [{ a = \"/api/x\" }]\n").contains("missing field `b`"));
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
            "/app/nextr.toml:2:1: `memroy`: unknown field `memroy`, expected one of `app`, `region`, `stage`, `architecture`, `gateway`, `keep_versions`, `memory`, `env`, `routes`, `conflicts`"
        );
        assert_eq!(
            error("[routes.\"/api/x\"]\nenv = {}\ntimeout = 3\n"),
            "/app/nextr.toml:3:1: `routes.\"/api/x\".timeout`: unknown field `timeout`, expected one of `env`, `response`, `function_url`"
        );
    }

    #[test]
    fn wrong_types_and_values_name_the_key() {
        assert_eq!(
            error("memory = \"big\"\n"),
            "/app/nextr.toml:1:10: `memory`: invalid type: string \"big\", expected u32"
        );
        assert_eq!(
            error("\nmemory = 64\n"),
            "/app/nextr.toml:2:10: `memory`: 64 MB is outside Lambda's range of 128–10240 MB"
        );
        let e = error("architecture = \"aarch64\"\n");
        assert!(e.starts_with("/app/nextr.toml:1:16: `architecture`: unknown variant `aarch64`, expected `x86_64` or `arm64`"), "{e}");
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
            .contains("`gateway`: unknown variant `websocket`, expected `http` or `rest`"));
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
        assert!(e.starts_with("/app/nextr.toml:2:12: `routes.\"/api/a\".response`: an API Gateway HTTP API never streams: set `gateway = \"rest\"`"), "{e}");
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
            "/app/nextr.toml:2:1: `env.AWS_REGION`: AWS_REGION is reserved by Lambda and cannot be set"
        );
        assert!(error("[env]\n\"1X\" = \"x\"\n").contains("`env.1X`: an environment variable name"));
        assert!(error("[routes.\"/api/x\".env]\n\"A-B\" = \"x\"\n")
            .contains("`routes.\"/api/x\".env.A-B`"));
        assert!(error("[routes.\"hello\"]\n").contains("page pattern"));
    }

    #[test]
    fn syntax_errors_have_a_line() {
        let e = error("app = \"x\"\nmemory = \n");
        assert!(e.starts_with("/app/nextr.toml:2:"), "{e}");
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
            c.check_routes(&table).unwrap_err().to_string(),
            "/app/nextr.toml:2:9: `routes.\"/api/post/[id]\"`: no route has the page pattern \"/api/post/[id]\"; did you mean \"/api/post/[pid]\"?"
        );
        let big = "x".repeat(4100);
        let c = parse(&format!("[env]\nBIG = \"{big}\"\n")).unwrap();
        let e = c.check_routes(&table).unwrap_err().to_string();
        assert!(
            e.contains("`env`: the environment of /api/hello is 4103 bytes"),
            "{e}"
        );
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
