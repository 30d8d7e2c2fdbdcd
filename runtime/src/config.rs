//! Per-route configuration: Next's `export const config`, spelled `nextr::config! { … }`.
//!
//! The CLI reads the declaration statically (with `syn`) and writes it to the manifest; the
//! runtime gets the same values baked into the route's `main`. So the grammar is a literal
//! key/value list, nothing computed:
//!
//! ```text
//! nextr::config! {
//!     max_duration: 10,                        // integer seconds, 1..=900
//!     memory: 512,                             // integer MB, 128..=10240
//!     body_parser: { size_limit: "500kb" },    // or `body_parser: false` / `true`; size_limit
//!                                              // is a string ("500kb", "1.5mb", "10b") or an
//!                                              // integer number of bytes
//!     response_limit: "8mb",                   // or an integer, or `false` / `true`
//!     external_resolver: true,                 // bool
//!     dynamic: "force-static",                 // App routes: "auto", "force-dynamic",
//!                                              // "error" or "force-static"
//!     revalidate: 60,                          // App routes: `false` or integer seconds
//! }
//! ```
//!
//! `body_parser`, `response_limit` and `external_resolver` are the Pages Router's
//! (`export const config = { api: … }`); `dynamic` and `revalidate` are the App Router's
//! segment config (`export const dynamic`, `export const revalidate`). `nextr build` refuses
//! a key of the other router.
//!
//! Keys are optional, each at most once, in any order, with an optional trailing comma.
//! The macro checks at compile time: an unknown key, a repeated key, a value of the wrong
//! kind, `max_duration`/`memory` out of range, or a size that is not an integer or a string
//! matching `^\d+(\.\d+)? *(b|kb|mb|gb|tb|pb)?$` (any case; a fraction only with `kb` and
//! up) is a compile error naming the key. (Next would silently disable the body limit for a
//! string such as `"abc"`; a config that carries one anyway, e.g. from JSON, still gets
//! Next's behaviour at run time.)
//! `body_parser: {}` is the default (1mb). In JSON (the manifest) the same keys and values
//! are used: see [`RouteConfig`].

use serde::{Deserialize, Serialize};

/// Next's default body size limit, `'1mb'`.
pub const DEFAULT_BODY_LIMIT: &str = "1mb";
/// Next's default response size warning threshold, 4 MiB.
pub const DEFAULT_RESPONSE_LIMIT_BYTES: u64 = 4 * 1024 * 1024;

/// A route's configuration as declared (absent keys keep Next's defaults).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// `maxDuration` in seconds: the Lambda timeout, enforced by the runtime (1–900).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_duration: Option<u32>,
    /// Lambda memory in MB (128–10240).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<u32>,
    /// `api.bodyParser`.
    #[serde(default, skip_serializing_if = "BodyParser::is_default")]
    pub body_parser: BodyParser,
    /// `api.responseLimit`.
    #[serde(default, skip_serializing_if = "ResponseLimit::is_default")]
    pub response_limit: ResponseLimit,
    /// `api.externalResolver`: silences the "resolved without sending a response" warning.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub external_resolver: bool,
    /// App Router `dynamic` (`export const dynamic`): `force-static` prerenders a GET-only
    /// route at build.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dynamic: Option<Dynamic>,
    /// App Router `revalidate` (`export const revalidate`): `false` or seconds; above 0 (or
    /// `false`) prerenders a GET-only route at build, served with Next's `cache-control`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revalidate: Option<Revalidate>,
}

/// App Router segment config `dynamic`, with Next's four values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Dynamic {
    /// `"auto"`: the default (route handlers run per request).
    Auto,
    /// `"force-dynamic"`: run per request (the same as the default for route handlers).
    ForceDynamic,
    /// `"error"`: prerender, and fail the build when the handler reads the request.
    Error,
    /// `"force-static"`: prerender at build with a synthetic request.
    ForceStatic,
}

impl Dynamic {
    /// Every value, in the order Next's messages list them.
    pub const ALL: [Dynamic; 4] = [
        Dynamic::Auto,
        Dynamic::ForceDynamic,
        Dynamic::Error,
        Dynamic::ForceStatic,
    ];

    /// The value as written in `config!`, the manifest and Next (`"force-static"`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Dynamic::Auto => "auto",
            Dynamic::ForceDynamic => "force-dynamic",
            Dynamic::Error => "error",
            Dynamic::ForceStatic => "force-static",
        }
    }

    /// The value a string names, if any.
    pub fn parse(s: &str) -> Option<Dynamic> {
        Dynamic::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

impl RouteConfig {
    /// Whether Next prerenders an App route with this config at build (when the file exports
    /// only GET): `dynamic` is `force-static` or `error`, or `revalidate` is `false` or above
    /// 0 (Next's `is-static-gen-enabled`).
    pub fn prerenders(&self) -> bool {
        matches!(self.dynamic, Some(Dynamic::ForceStatic | Dynamic::Error))
            || matches!(
                self.revalidate,
                Some(Revalidate::Never(_)) | Some(Revalidate::Seconds(1..))
            )
    }
}

/// App Router segment config `revalidate`: `false` (cache for ever) or a number of seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Revalidate {
    /// `revalidate: false`.
    Never(Disabled),
    /// `revalidate: N` seconds (0 means dynamic).
    Seconds(u32),
}

/// `api.bodyParser`: parse the body with a size limit, or hand over the raw bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum BodyParser {
    /// `false`: no parsing, no limit.
    Disabled(Disabled),
    /// Enabled, with an optional `size_limit` (Next's `'1mb'` when absent).
    Enabled {
        /// The limit as written (`"500kb"`, `"10b"`, or a number of bytes).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        size_limit: Option<SizeLimit>,
    },
}

impl Default for BodyParser {
    fn default() -> Self {
        BodyParser::Enabled { size_limit: None }
    }
}

impl BodyParser {
    fn is_default(&self) -> bool {
        *self == BodyParser::default()
    }
}

/// The JSON literal `false`, so that `body_parser: false` round-trips through serde.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "bool", into = "bool")]
pub struct Disabled;

impl TryFrom<bool> for Disabled {
    type Error = &'static str;
    fn try_from(b: bool) -> Result<Self, Self::Error> {
        if b {
            Err("only `false` disables; `true` means the default")
        } else {
            Ok(Disabled)
        }
    }
}

impl From<Disabled> for bool {
    fn from(_: Disabled) -> bool {
        false
    }
}

/// `api.responseLimit`: warn past a size, or never.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ResponseLimit {
    /// The default, 4 MiB.
    #[default]
    #[serde(skip)]
    Default,
    /// `false`: no warning.
    Disabled(Disabled),
    /// A size such as `"8mb"`.
    Limit(SizeLimit),
}

impl ResponseLimit {
    fn is_default(&self) -> bool {
        *self == ResponseLimit::Default
    }
}

/// A size as Next's `bytes` package reads it: a number of bytes, or a string like `"500kb"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SizeLimit {
    /// A number of bytes.
    Bytes(u64),
    /// A string, kept as written because Next's 413 message quotes it.
    Text(String),
}

impl SizeLimit {
    /// The limit as written, for messages like `Body exceeded 500kb limit`.
    pub fn as_written(&self) -> String {
        match self {
            SizeLimit::Bytes(n) => n.to_string(),
            SizeLimit::Text(s) => s.clone(),
        }
    }

    /// The limit in bytes, or `None` where Next's `bytes.parse` gives NaN (no limit at all).
    pub fn bytes(&self) -> Option<u64> {
        match self {
            SizeLimit::Bytes(n) => Some(*n),
            SizeLimit::Text(s) => parse_bytes(s),
        }
    }
}

/// Next's `bytes.parse`: `^[+-]?\d+(\.\d+)? *(kb|mb|gb|tb|pb)$` (any case) multiplies by
/// 1024ⁿ and floors; otherwise `parseInt(s, 10)`, and no digits at all means NaN (`None`).
pub fn parse_bytes(s: &str) -> Option<u64> {
    let t = s.trim();
    let lower = t.to_ascii_lowercase();
    let units = [("kb", 1u32), ("mb", 2), ("gb", 3), ("tb", 4), ("pb", 5)];
    for (unit, power) in units {
        if let Some(num) = lower.strip_suffix(unit) {
            let num = num.trim_end_matches(' ');
            if is_decimal(num) {
                let value: f64 = num.parse().ok()?;
                let bytes = (value * 1024f64.powi(power as i32)).floor();
                return Some(if bytes < 0.0 { 0 } else { bytes as u64 });
            }
        }
    }
    let digits: &str = {
        let unsigned = t.strip_prefix(['+', '-']).unwrap_or(t);
        let end = unsigned
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(unsigned.len());
        &unsigned[..end]
    };
    if digits.is_empty() {
        return None;
    }
    if t.starts_with('-') {
        return Some(0);
    }
    digits.parse().ok()
}

fn is_decimal(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

mod literal;
mod macros;

#[doc(hidden)]
pub use literal::*;

impl ResponseLimit {
    /// Builds a response limit from the `stringify!` of a literal the macro has validated.
    #[doc(hidden)]
    pub fn __from_literal(s: &str) -> ResponseLimit {
        match __bool_literal(s) {
            Some(false) => ResponseLimit::Disabled(Disabled),
            Some(true) => ResponseLimit::Default,
            None => ResponseLimit::Limit(SizeLimit::__from_literal(s)),
        }
    }

    /// The warning threshold in bytes, `None` when disabled (or when the size is not a number).
    pub fn bytes(&self) -> Option<u64> {
        match self {
            ResponseLimit::Default => Some(DEFAULT_RESPONSE_LIMIT_BYTES),
            ResponseLimit::Disabled(_) => None,
            ResponseLimit::Limit(l) => l.bytes(),
        }
    }
}

impl BodyParser {
    /// False for `body_parser: false`.
    pub fn is_enabled(&self) -> bool {
        matches!(self, BodyParser::Enabled { .. })
    }

    /// The declared size limit, if any (`None` also when disabled).
    pub fn size_limit(&self) -> Option<&SizeLimit> {
        match self {
            BodyParser::Enabled { size_limit } => size_limit.as_ref(),
            BodyParser::Disabled(_) => None,
        }
    }
}

#[cfg(test)]
mod tests;
