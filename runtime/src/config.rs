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
//! }
//! ```
//!
//! Keys are optional, each at most once, in any order, with an optional trailing comma.
//! `body_parser: {}` is the default (1mb). In JSON (the manifest) the same keys and values
//! are used: see [`RouteConfig`].

use serde::{Deserialize, Serialize};

/// Default Lambda timeout when a route declares no `max_duration` (seconds).
pub const DEFAULT_MAX_DURATION_S: u32 = 5;
/// Default Lambda memory when neither the route nor `nextr.toml` sets one (MB).
pub const DEFAULT_MEMORY_MB: u32 = 1024;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_like_next() {
        assert_eq!(parse_bytes("1mb"), Some(1_048_576));
        assert_eq!(parse_bytes("1.5kb"), Some(1536));
        assert_eq!(parse_bytes("500KB"), Some(512_000));
        assert_eq!(parse_bytes("10b"), Some(10));
        assert_eq!(parse_bytes("500"), Some(500));
        assert_eq!(parse_bytes("abc"), None);
    }

    #[test]
    fn config_round_trips_as_declared() {
        let c: RouteConfig = serde_json::from_str(
            r#"{"max_duration":10,"body_parser":{"size_limit":"500kb"},"response_limit":false}"#,
        )
        .unwrap();
        assert_eq!(c.max_duration, Some(10));
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            r#"{"max_duration":10,"body_parser":{"size_limit":"500kb"},"response_limit":false}"#
        );
        let c: RouteConfig = serde_json::from_str(r#"{"body_parser":false}"#).unwrap();
        assert_eq!(c.body_parser, BodyParser::Disabled(Disabled));
        assert_eq!(
            serde_json::to_string(&RouteConfig::default()).unwrap(),
            "{}"
        );
        assert!(serde_json::from_str::<RouteConfig>(r#"{"maxDuration":1}"#).is_err());
    }
}
