//! Reading `nextr.toml` key by key from a spanned document, so that every problem of the file
//! is found in one pass, each at its own line: serde stops at the first and names types in
//! Rust's words (`expected u32`).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::Range;

use nextr::limits::LAMBDA_MEMORY_MB;
use nextr::manifest::{
    Architecture, Cors, FunctionUrl, FunctionUrlAuth, GatewayKind, ResponseMode, Throttle,
};
use nextr_infra::conflicts::{AcceptedConflict, KeyPolicy};
use nextr_infra::names;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

mod permissions;
mod production;
mod secrets;

pub use secrets::ReadSecret;

#[cfg(test)]
pub use production::{certificate_problem, domain_problem};

use super::report::ConfigDiagnostic;
use super::{check_app_name, is_region, RouteSettings, RESERVED_ENV};
use crate::analysis::{suggest, SourceFile};
use crate::report::Shown;

/// The keys at the top of `nextr.toml`.
pub const TOP_KEYS: &[&str] = &[
    "app",
    "region",
    "stage",
    "keep_versions",
    "gateway",
    "architecture",
    "memory",
    "env",
    "routes",
    "conflicts",
    "cors",
    "throttle",
    "logs",
    "domain",
    "permissions",
    "secrets",
];

/// The keys of a `[routes."<page>"]` table.
pub const ROUTE_KEYS: &[&str] = &[
    "env",
    "response",
    "function_url",
    "throttle",
    "log_retention_days",
    "permissions",
    "secrets",
];

/// The keys of `[cors]`: the HTTP API's `CorsConfiguration` fields.
pub const CORS_KEYS: &[&str] = &[
    "allow_origins",
    "allow_methods",
    "allow_headers",
    "expose_headers",
    "allow_credentials",
    "max_age",
];

/// The keys of a `[throttle]` table.
pub const THROTTLE_KEYS: &[&str] = &["rate", "burst"];

/// The methods `[cors] allow_methods` takes.
const CORS_METHODS: &[&str] = &[
    "*", "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS",
];

/// The longest `max_age` API Gateway takes, in seconds (a day).
pub const MAX_CORS_MAX_AGE_S: i64 = 86_400;

/// The keys of `[conflicts]`.
pub const CONFLICT_KEYS: &[&str] = &["keys", "accept"];

/// The keys of one `[conflicts] accept` entry.
const ACCEPT_KEYS: &[&str] = &["a", "b"];

const KEY_POLICIES: &[&str] = &["parametrised", "static-only"];

type Key<'i> = Spanned<Cow<'i, str>>;
type Value<'i> = Spanned<DeValue<'i>>;

/// What the file says, as far as it could be read.
#[derive(Debug, Default)]
pub struct Read {
    pub app: Option<String>,
    pub region: Option<String>,
    pub stage: Option<String>,
    pub architecture: Option<Architecture>,
    pub gateway: GatewayKind,
    pub keep_versions: Option<u32>,
    pub memory_mb: Option<u32>,
    pub env: BTreeMap<String, String>,
    pub routes: BTreeMap<String, RouteSettings>,
    pub conflict_keys: KeyPolicy,
    pub accepted_conflicts: Vec<AcceptedConflict>,
    pub cors: Option<Cors>,
    pub throttle: Option<Throttle>,
    pub log_retention_days: Option<u32>,
    pub domain: Option<nextr::manifest::Domain>,
    /// `[[permissions]]`: IAM statements of every function's role.
    pub permissions: Vec<nextr::manifest::PolicyStatement>,
    /// Where each `[routes."<page>"]` key is.
    pub route_spans: BTreeMap<String, Range<usize>>,
    /// Where the `env` key is.
    pub env_span: Option<Range<usize>>,
    /// `[secrets]`.
    pub secrets: Vec<ReadSecret>,
}

/// Reads the whole file, pushing every problem found.
pub fn read(file: &SourceFile, out: &mut Vec<ConfigDiagnostic>) -> Read {
    let (doc, errors) = DeTable::parse_recoverable(&file.text);
    if !errors.is_empty() {
        // The recovered document is a guess: checking its keys would report problems that
        // are only echoes of the syntax error.
        for e in errors {
            let span = e.span().unwrap_or(0..0);
            let message = e.message().trim().replace('\n', "; ");
            out.push(
                ConfigDiagnostic::at(
                    file,
                    "nextr::toml::syntax",
                    span,
                    format!("nextr.toml is not valid TOML: {message}"),
                    "here",
                )
                .with_help("see https://toml.io for TOML's syntax"),
            );
        }
        return Read::default();
    }
    let mut reader = Reader { file, out };
    reader.document(doc.get_ref())
}

struct Reader<'a> {
    file: &'a SourceFile,
    out: &'a mut Vec<ConfigDiagnostic>,
}

impl Reader<'_> {
    fn document(&mut self, doc: &DeTable<'_>) -> Read {
        let mut read = Read::default();
        let mut domain = None;
        // The gateway first: what a route may ask for depends on it.
        if let Some(v) = doc.get("gateway") {
            if let Some(kind) = self.choice("gateway", v, &["http", "rest"]) {
                read.gateway = kind;
            }
        }
        for (key, value) in doc.iter() {
            let name = key.get_ref().as_ref();
            match name {
                "app" => {
                    let s = self.string(name, value, "a string such as \"my-app\"");
                    if let Some(s) = s {
                        match check_app_name(s) {
                            Ok(()) => read.app = Some(s.to_owned()),
                            Err(m) => self.bad(name, value, m, "not an app name"),
                        }
                    }
                }
                "region" => {
                    if let Some(s) = self.string(name, value, "a string such as \"eu-west-1\"") {
                        if is_region(s) {
                            read.region = Some(s.to_owned());
                        } else {
                            let m = format!(
                                "{s:?} is not an AWS region name such as \"eu-west-1\" or \"us-east-1\""
                            );
                            self.bad(name, value, m, "not a region");
                        }
                    }
                }
                "stage" => {
                    if let Some(s) = self.string(name, value, "a string such as \"prod\"") {
                        match names::check_stage(s) {
                            Ok(()) => read.stage = Some(s.to_owned()),
                            Err(e) => self.bad(name, value, e.to_string(), "not a stage name"),
                        }
                    }
                }
                "architecture" => {
                    read.architecture = self.choice(name, value, &["x86_64", "arm64"]);
                }
                // Read above.
                "gateway" => {}
                "keep_versions" => {
                    let n = self.whole(name, value, "a whole number of versions (0–100)");
                    match n {
                        Some(n @ 0..=100) => read.keep_versions = u32::try_from(n).ok(),
                        Some(n) if n > 100 => self.bad(
                            name,
                            value,
                            format!("{n} is more than 100 versions: keep 0 to 100"),
                            "more than 100",
                        ),
                        Some(n) => self.bad(
                            name,
                            value,
                            format!("{n} is not a number of versions: keep 0 to 100"),
                            "negative",
                        ),
                        None => {}
                    }
                }
                "memory" => {
                    let (lo, hi) = (LAMBDA_MEMORY_MB.start(), LAMBDA_MEMORY_MB.end());
                    let n = self.whole(name, value, &format!("a whole number of MB ({lo}–{hi})"));
                    match n.map(u32::try_from) {
                        Some(Ok(mb)) if LAMBDA_MEMORY_MB.contains(&mb) => read.memory_mb = Some(mb),
                        Some(_) => self.bad(
                            name,
                            value,
                            format!(
                                "{} MB is outside Lambda's range of {lo}–{hi} MB",
                                n.unwrap_or_default()
                            ),
                            "out of range",
                        ),
                        None => {}
                    }
                }
                "env" => {
                    read.env_span = Some(key.span());
                    read.env = self.env_table("env", value);
                }
                "routes" => self.routes(value, &mut read),
                "conflicts" => self.conflicts(key, value, &mut read),
                "cors" => read.cors = self.cors(value, read.gateway),
                "throttle" => read.throttle = self.throttle("throttle", value),
                "logs" => read.log_retention_days = self.logs(value),
                "domain" => domain = self.domain(value),
                "permissions" => read.permissions = self.permissions(name, value),
                "secrets" => read.secrets = self.secrets("secrets", value),
                other => self.unknown(key, other, "", TOP_KEYS, "nextr.toml"),
            }
        }
        // A secret is never also a plain variable of the same function.
        for secret in &read.secrets {
            if read.env.contains_key(&secret.secret.env) {
                self.secret_shadows("secrets", secret, "env");
            }
        }
        for (page, route) in &read.routes {
            for secret in &route.secrets {
                let plain = if route.env.contains_key(&secret.secret.env) {
                    format!("routes.{page:?}.env")
                } else if read.env.contains_key(&secret.secret.env) {
                    "env".to_owned()
                } else {
                    continue;
                };
                self.secret_shadows(&format!("routes.{page:?}.secrets"), secret, &plain);
            }
        }
        if let (Some(domain), Some(region)) = (&domain, &read.region) {
            self.domain_region(domain, region);
        }
        read.domain = domain.map(|d| d.domain);
        read
    }

    fn routes(&mut self, value: &Value<'_>, read: &mut Read) {
        let Some(table) = self.table(
            "routes",
            value,
            "tables such as `[routes.\"/api/post/[pid]\"]`, one per route",
        ) else {
            return;
        };
        for (page_key, route) in table.iter() {
            let page = page_key.get_ref().as_ref();
            let prefix = format!("routes.{page:?}");
            // Any page: App routes serve `/` and paths outside `/api` (checked against the
            // route table by `AppConfig::check_routes`).
            if !page.starts_with('/') {
                self.push(
                    ConfigDiagnostic::at(
                        self.file,
                        "nextr::toml::page",
                        page_key.span(),
                        format!("`{prefix}`: a route is named by its page pattern, such as \"/api/post/[pid]\" or \"/hooks/[id]\""),
                        "not a page pattern",
                    )
                    .with_key(&prefix),
                );
                continue;
            }
            let Some(settings) = self.table(
                &prefix,
                route,
                "a table of route settings (`env`, `response`, `function_url`, `throttle`, `log_retention_days`, `permissions`, `secrets`)",
            ) else {
                continue;
            };
            let mut out = RouteSettings::default();
            let mut response_span = None;
            for (key, value) in settings.iter() {
                let name = key.get_ref().as_ref();
                let full = format!("{prefix}.{name}");
                match name {
                    "env" => out.env = self.env_table(&full, value),
                    "response" => {
                        response_span = Some(value.span());
                        out.response = self.choice(&full, value, &["stream", "buffered"]);
                    }
                    "function_url" => out.function_url = self.function_url(&full, value),
                    "throttle" => out.throttle = self.throttle(&full, value),
                    "log_retention_days" => {
                        out.log_retention_days = self.retention_days(&full, value)
                    }
                    "permissions" => out.permissions = self.permissions(&full, value),
                    "secrets" => out.secrets = self.secrets(&full, value),
                    other => {
                        let table = format!("[{prefix}]");
                        self.unknown(key, other, &format!("{prefix}."), ROUTE_KEYS, &table)
                    }
                }
            }
            let gateway = read.gateway;
            if let (Some(ResponseMode::Stream), false, None, Some(span)) = (
                out.response,
                gateway.streams(),
                &out.function_url,
                response_span,
            ) {
                let key = format!("{prefix}.response");
                self.push(
                    ConfigDiagnostic::at(
                        self.file,
                        "nextr::toml::stream",
                        span,
                        format!("`{key}`: {} never streams", gateway.describe()),
                        "needs a streaming front",
                    )
                    .with_key(key)
                    .with_help("set `gateway = \"rest\"` at the top of nextr.toml, or give this route a streaming function URL with `function_url = true`"),
                );
            }
            read.route_spans.insert(page.to_owned(), page_key.span());
            read.routes.insert(page.to_owned(), out);
        }
    }

    /// `[cors]`: the gateway's CORS policy, checked as API Gateway checks a
    /// `CorsConfiguration`.
    fn cors(&mut self, value: &Value<'_>, gateway: GatewayKind) -> Option<Cors> {
        let table = self.table("cors", value, "a table (`[cors]`)")?;
        let mut out = Cors::default();
        let mut credentials_span = None;
        let mut origins_span = value.span();
        let mut ok = true;
        for (key, value) in table.iter() {
            let name = key.get_ref().as_ref();
            let full = format!("cors.{name}");
            let list = match name {
                "allow_origins" => {
                    origins_span = value.span();
                    &mut out.allow_origins
                }
                "allow_methods" => &mut out.allow_methods,
                "allow_headers" => &mut out.allow_headers,
                "expose_headers" => &mut out.expose_headers,
                "allow_credentials" => {
                    match value.get_ref() {
                        DeValue::Boolean(b) => {
                            out.allow_credentials = *b;
                            credentials_span = Some(value.span());
                        }
                        other => {
                            self.wrong_type(&full, value, "true or false", other);
                            ok = false;
                        }
                    }
                    continue;
                }
                "max_age" => {
                    let n = self.whole(&full, value, "a whole number of seconds (0–86400)");
                    match n {
                        Some(n @ 0..=MAX_CORS_MAX_AGE_S) => out.max_age_s = u32::try_from(n).ok(),
                        Some(n) => {
                            let m = format!("{n} is outside API Gateway's range of 0–{MAX_CORS_MAX_AGE_S} seconds");
                            self.bad(&full, value, m, "out of range");
                            ok = false;
                        }
                        None => ok = false,
                    }
                    continue;
                }
                other => {
                    self.unknown(key, other, "cors.", CORS_KEYS, "[cors]");
                    ok = false;
                    continue;
                }
            };
            let Some(items) = self.strings(&full, value) else {
                ok = false;
                continue;
            };
            for (item, span) in items {
                let problem = match name {
                    "allow_origins" => origin_problem(&item),
                    "allow_methods" => {
                        let upper = item.to_ascii_uppercase();
                        (!CORS_METHODS.contains(&upper.as_str())).then(|| {
                            let near = suggest(&upper, CORS_METHODS)
                                .map(|s| format!(" (did you mean \"{s}\"?)"))
                                .unwrap_or_default();
                            format!("{item:?} is not a method: use GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS or \"*\"{near}")
                        })
                    }
                    _ => (!is_token(&item) && item != "*")
                        .then(|| format!("{item:?} is not a header name")),
                };
                match problem {
                    Some(m) => {
                        ok = false;
                        self.push(
                            ConfigDiagnostic::at(
                                self.file,
                                "nextr::toml::value",
                                span,
                                format!("`{full}`: {m}"),
                                "here",
                            )
                            .with_key(&full),
                        );
                    }
                    None if name == "allow_methods" => list.push(item.to_ascii_uppercase()),
                    None => list.push(item),
                }
            }
        }
        if let (true, Some(span)) = (
            out.allow_credentials && out.allow_origins.iter().any(|o| o == "*"),
            credentials_span,
        ) {
            // Browsers refuse credentials with `Access-Control-Allow-Origin: *`, and API
            // Gateway refuses the configuration outright: said here, not at deploy.
            self.push(
                ConfigDiagnostic::at(
                    self.file,
                    "nextr::toml::cors",
                    span,
                    "`cors.allow_credentials`: credentials cannot be allowed for any origin (`allow_origins = [\"*\"]`): browsers refuse it and API Gateway rejects the configuration",
                    "with origin \"*\"",
                )
                .with_key("cors.allow_credentials")
                .with_help("list the origins that may send credentials, such as `allow_origins = [\"https://app.example\"]`"),
            );
            return None;
        }
        let origins = out.allow_origins.len();
        if ok && gateway == GatewayKind::Rest && origins != 1 {
            // A REST API answers preflights with a MOCK integration: fixed values, no
            // `Origin` check, so one origin at most can be allowed there.
            let said = if origins == 0 {
                "names no origin".to_owned()
            } else {
                format!("names {origins} origins")
            };
            self.push(
                ConfigDiagnostic::at(
                    self.file,
                    "nextr::toml::rest",
                    origins_span,
                    format!("`cors.allow_origins`: {said}, but a REST API (`gateway = \"rest\"`) answers preflights with a MOCK integration, which returns one fixed origin"),
                    "one origin, or \"*\", behind a REST API",
                )
                .with_key("cors.allow_origins")
                .with_help("list one origin (`allow_origins = [\"https://app.example\"]`) or `[\"*\"]`; or remove `[cors]` and answer CORS in the routes with `nextr::cors::Cors`, which can check each request's origin; or use `gateway = \"http\"`, whose CorsConfiguration allows several"),
            );
            return None;
        }
        ok.then_some(out)
    }

    /// A `throttle` table: `rate` requests per second, `burst` at once, both required.
    fn throttle(&mut self, prefix: &str, value: &Value<'_>) -> Option<Throttle> {
        let table = self.table(
            prefix,
            value,
            "a table such as `{ rate = 100, burst = 50 }`",
        )?;
        let mut rate = None;
        let mut burst = None;
        let mut ok = true;
        for (key, value) in table.iter() {
            let name = key.get_ref().as_ref();
            let full = format!("{prefix}.{name}");
            let slot = match name {
                "rate" => &mut rate,
                "burst" => &mut burst,
                other => {
                    self.unknown(
                        key,
                        other,
                        &format!("{prefix}."),
                        THROTTLE_KEYS,
                        &format!("[{prefix}]"),
                    );
                    ok = false;
                    continue;
                }
            };
            let what = if name == "rate" {
                "requests per second"
            } else {
                "requests"
            };
            match self.whole(&full, value, &format!("a whole number of {what}")) {
                Some(n) if n >= 1 && u32::try_from(n).is_ok() => *slot = u32::try_from(n).ok(),
                Some(n) => {
                    let m = format!("{n} is not a number of {what}: use 1 or more (to lift the limit, remove the table)");
                    self.bad(&full, value, m, "out of range");
                    ok = false;
                }
                None => ok = false,
            }
        }
        for (name, found) in [("rate", rate.is_some()), ("burst", burst.is_some())] {
            if !found && !table.contains_key(name) {
                ok = false;
                self.push(
                    ConfigDiagnostic::at(
                        self.file,
                        "nextr::toml::missing_key",
                        value.span(),
                        format!("`{prefix}`: missing `{name}`: a throttle sets `rate` (requests per second) and `burst` (requests at once)"),
                        format!("no `{name}` here"),
                    )
                    .with_key(prefix),
                );
            }
        }
        match (ok, rate, burst) {
            (true, Some(rate), Some(burst)) => Some(Throttle { rate, burst }),
            _ => None,
        }
    }

    /// An array of strings, each with its span.
    fn strings(&mut self, key: &str, value: &Value<'_>) -> Option<Vec<(String, Range<usize>)>> {
        let DeValue::Array(items) = value.get_ref() else {
            self.wrong_type(key, value, "an array of strings", value.get_ref());
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        for item in items.iter() {
            match item.get_ref() {
                DeValue::String(s) => out.push((s.to_string(), item.span())),
                other => {
                    self.wrong_type(key, item, "a string", other);
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }

    fn function_url(&mut self, key: &str, value: &Value<'_>) -> Option<FunctionUrl> {
        let auth = match value.get_ref() {
            DeValue::Boolean(false) => return None,
            DeValue::Boolean(true) => FunctionUrlAuth::None,
            DeValue::String(s) if s == "none" => FunctionUrlAuth::None,
            DeValue::String(s) if s == "iam" => FunctionUrlAuth::Iam,
            DeValue::String(s) => {
                let m = format!(
                    "{s:?} is not a function URL setting: use true (public, auth NONE) or \"iam\" (callers sign with AWS credentials)"
                );
                self.bad(key, value, m, "not a function URL setting");
                return None;
            }
            other => {
                self.wrong_type(key, value, "true, false or \"iam\"", other);
                return None;
            }
        };
        Some(FunctionUrl { auth })
    }

    fn conflicts(&mut self, key: &Key<'_>, value: &Value<'_>, read: &mut Read) {
        // The REST API's resource tree follows Next's precedence exactly: nothing to accept,
        // no key policy to choose. A `[conflicts]` table there is a setting that would do
        // nothing, so it is refused rather than ignored.
        if read.gateway == GatewayKind::Rest {
            self.push(
                ConfigDiagnostic::at(
                    self.file,
                    "nextr::toml::conflicts",
                    key.span(),
                    "`conflicts`: applies to an API Gateway HTTP API only: with `gateway = \"rest\"` nextr builds REST resources that pick Next's route for every path, so there is no conflict to accept and no key policy",
                    "not used with a REST API",
                )
                .with_key("conflicts")
                .with_help("remove the [conflicts] table"),
            );
            return;
        }
        let Some(table) = self.table("conflicts", value, "a table (`[conflicts]`)") else {
            return;
        };
        for (key, value) in table.iter() {
            let name = key.get_ref().as_ref();
            match name {
                "keys" => {
                    if let Some(s) = self.string(
                        "conflicts.keys",
                        value,
                        "\"parametrised\" or \"static-only\"",
                    ) {
                        match s {
                            "parametrised" => read.conflict_keys = KeyPolicy::Parametrised,
                            "static-only" => read.conflict_keys = KeyPolicy::StaticOnly,
                            other => {
                                let m = format!("{other:?} is not a key policy: use \"parametrised\" or \"static-only\"");
                                let help = suggest(other, KEY_POLICIES)
                                    .map(|s| format!("did you mean \"{s}\"?"));
                                let mut d = self.bad_diagnostic(
                                    "conflicts.keys",
                                    value,
                                    m,
                                    "not a key policy",
                                );
                                if let Some(help) = help {
                                    d = d.with_help(help);
                                }
                                self.push(d);
                            }
                        }
                    }
                }
                "accept" => read.accepted_conflicts = self.accept(value),
                other => self.unknown(key, other, "conflicts.", CONFLICT_KEYS, "[conflicts]"),
            }
        }
    }

    fn accept(&mut self, value: &Value<'_>) -> Vec<AcceptedConflict> {
        let expected =
            "an array of page pairs such as `[{ a = \"/api/[x]/y\", b = \"/api/y/[z]\" }]`";
        let DeValue::Array(items) = value.get_ref() else {
            self.wrong_type("conflicts.accept", value, expected, value.get_ref());
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let key = format!("conflicts.accept[{i}]");
            let Some(pair) = self.table(
                &key,
                item,
                "a pair of pages such as `{ a = \"/api/[x]/y\", b = \"/api/y/[z]\" }`",
            ) else {
                continue;
            };
            let mut a = None;
            let mut b = None;
            for (k, v) in pair.iter() {
                let name = k.get_ref().as_ref();
                let full = format!("{key}.{name}");
                match name {
                    "a" => a = self.string(&full, v, "a page pattern").map(str::to_owned),
                    "b" => b = self.string(&full, v, "a page pattern").map(str::to_owned),
                    other => self.unknown(
                        k,
                        other,
                        &format!("{key}."),
                        ACCEPT_KEYS,
                        "an accepted pair",
                    ),
                }
            }
            for (name, found) in [("a", a.is_some()), ("b", b.is_some())] {
                if !found && !pair.contains_key(name) {
                    self.push(
                        ConfigDiagnostic::at(
                            self.file,
                            "nextr::toml::missing_key",
                            item.span(),
                            format!("`{key}`: missing `{name}`: an accepted pair names two pages, `a` and `b`"),
                            format!("no `{name}` here"),
                        )
                        .with_key(&key),
                    );
                }
            }
            if let (Some(a), Some(b)) = (a, b) {
                out.push(AcceptedConflict { a, b });
            }
        }
        out
    }

    /// `key.<name>` when `name_key` names a variable Lambda takes; else reports why, at the
    /// key (`[env]`'s and `[secrets]`' names follow one rule).
    pub(super) fn variable_name(&mut self, key: &str, name_key: &Key<'_>) -> Option<String> {
        let name = name_key.get_ref().as_ref();
        let full = format!("{key}.{name}");
        let Some(problem) = env_name_problem(name) else {
            return Some(full);
        };
        self.push(
            ConfigDiagnostic::at(
                self.file,
                "nextr::toml::env_name",
                name_key.span(),
                format!("`{full}`: {problem}"),
                "not a variable Lambda takes",
            )
            .with_key(&full),
        );
        None
    }

    /// A table of environment variables: names Lambda takes, string values.
    fn env_table(&mut self, key: &str, value: &Value<'_>) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let Some(table) = self.table(
            key,
            value,
            "a table of variables, such as `[env]` followed by `NAME = \"value\"`",
        ) else {
            return out;
        };
        for (name_key, value) in table.iter() {
            let n = name_key.get_ref().as_ref();
            let Some(full) = self.variable_name(key, name_key) else {
                continue;
            };
            match value.get_ref() {
                DeValue::String(s) => {
                    out.insert(n.to_owned(), s.to_string());
                }
                other => {
                    let mut d = self.type_diagnostic(&full, value, "a string", other);
                    if let DeValue::Integer(_) | DeValue::Float(_) | DeValue::Boolean(_) = other {
                        let text = self.file.text.get(value.span()).unwrap_or_default();
                        d = d.with_help(format!(
                            "environment variables are strings: write `{n} = \"{text}\"`"
                        ));
                    }
                    self.push(d);
                }
            }
        }
        out
    }

    /// A string among `allowed`, parsed; a did-you-mean for a near miss.
    fn choice<T: std::str::FromStr<Err = String>>(
        &mut self,
        key: &str,
        value: &Value<'_>,
        allowed: &[&str],
    ) -> Option<T> {
        let expected = allowed
            .iter()
            .map(|a| format!("\"{a}\""))
            .collect::<Vec<_>>()
            .join(" or ");
        let s = self.string(key, value, &expected)?;
        match s.parse::<T>() {
            Ok(v) => Some(v),
            Err(message) => {
                let mut d = self.bad_diagnostic(key, value, message, "not one of the choices");
                if let Some(s) = suggest(s, allowed) {
                    d = d.with_help(format!("did you mean \"{s}\"?"));
                }
                self.push(d);
                None
            }
        }
    }

    fn string<'v>(&mut self, key: &str, value: &'v Value<'_>, expected: &str) -> Option<&'v str> {
        match value.get_ref() {
            DeValue::String(s) => Some(s.as_ref()),
            other => {
                self.wrong_type(key, value, expected, other);
                None
            }
        }
    }

    /// A whole number (any size, so that the range check can name a number too large for
    /// the field).
    fn whole(&mut self, key: &str, value: &Value<'_>, expected: &str) -> Option<i64> {
        match value.get_ref() {
            DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
                Ok(n) => Some(n),
                Err(_) => Some(i64::MAX),
            },
            other => {
                let mut d = self.type_diagnostic(key, value, expected, other);
                if let DeValue::String(s) = other {
                    if s.trim().parse::<i64>().is_ok() {
                        d = d.with_help(format!("remove the quotes: `{key} = {}`", s.trim()));
                    }
                }
                self.push(d);
                None
            }
        }
    }

    fn table<'v, 'i>(
        &mut self,
        key: &str,
        value: &'v Value<'i>,
        expected: &str,
    ) -> Option<&'v DeTable<'i>> {
        match value.get_ref() {
            DeValue::Table(t) => Some(t),
            other => {
                self.wrong_type(key, value, expected, other);
                None
            }
        }
    }

    fn wrong_type(&mut self, key: &str, value: &Value<'_>, expected: &str, found: &DeValue<'_>) {
        let d = self.type_diagnostic(key, value, expected, found);
        self.push(d);
    }

    fn type_diagnostic(
        &self,
        key: &str,
        value: &Value<'_>,
        expected: &str,
        found: &DeValue<'_>,
    ) -> ConfigDiagnostic {
        ConfigDiagnostic::at(
            self.file,
            "nextr::toml::type",
            value.span(),
            format!("`{key}`: expected {expected}, found {}", describe(found)),
            format!("{} here", kind(found)),
        )
        .with_key(key)
    }

    /// A value of the right type that is not allowed.
    fn bad(&mut self, key: &str, value: &Value<'_>, message: String, label: &str) {
        let d = self.bad_diagnostic(key, value, message, label);
        self.push(d);
    }

    fn bad_diagnostic(
        &self,
        key: &str,
        value: &Value<'_>,
        message: String,
        label: &str,
    ) -> ConfigDiagnostic {
        ConfigDiagnostic::at(
            self.file,
            "nextr::toml::value",
            value.span(),
            format!("`{key}`: {message}"),
            label,
        )
        .with_key(key)
    }

    /// A key the table does not take, with the closest one it does.
    fn unknown(&mut self, key: &Key<'_>, name: &str, prefix: &str, allowed: &[&str], table: &str) {
        let suggestion = suggest(name, allowed);
        let label = match suggestion {
            Some(s) => format!("did you mean `{s}`?"),
            None => "unknown key".to_owned(),
        };
        let list = allowed
            .iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ");
        self.push(
            ConfigDiagnostic::at(
                self.file,
                "nextr::toml::unknown_key",
                key.span(),
                format!("unknown key `{}` in {table}", Shown(name)),
                label,
            )
            .with_key(format!("{prefix}{name}"))
            .with_help(format!("the keys of {table} are {list}")),
        );
    }

    fn push(&mut self, d: ConfigDiagnostic) {
        self.out.push(d);
    }
}

/// Why Lambda would refuse a variable name, if it would.
pub fn env_name_problem(name: &str) -> Option<String> {
    let valid = name.len() >= 2
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Some("an environment variable name is a letter followed by letters, digits or `_` (at least 2 characters)".into());
    }
    if RESERVED_ENV.contains(&name) {
        return Some(format!("{name} is reserved by Lambda and cannot be set"));
    }
    None
}

/// Why a `[cors] allow_origins` entry is not an origin API Gateway takes, if it is not:
/// `*`, or `scheme://host[:port]` (a `*` may stand for a subdomain), nothing after.
fn origin_problem(origin: &str) -> Option<String> {
    if origin == "*" {
        return None;
    }
    let rest = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    let valid = rest.is_some_and(|host| {
        !host.is_empty()
            && host.chars().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '*' | '[' | ']')
            })
    });
    (!valid).then(|| {
        format!("{origin:?} is not an origin: write the scheme, host and port only, such as \"https://app.example\" or \"http://localhost:3000\", or \"*\" for any")
    })
}

/// Whether a header name is an HTTP token.
fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// A value as a sentence names it: `the string "big"`, `the number 12`.
fn describe(value: &DeValue<'_>) -> String {
    match value {
        DeValue::String(s) => format!("the string {s:?}"),
        DeValue::Integer(i) => format!("the number {i}"),
        DeValue::Float(f) => format!("the number {f}"),
        DeValue::Boolean(b) => format!("`{b}`"),
        DeValue::Datetime(d) => format!("the date-time {d}"),
        DeValue::Array(_) => "an array".into(),
        DeValue::Table(_) => "a table".into(),
    }
}

/// A value's kind, for a label: `a string`.
fn kind(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) | DeValue::Float(_) => "a number",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}
