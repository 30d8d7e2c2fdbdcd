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

/// Declares the route's configuration: Next's `export const config`, as a literal key/value list.
///
/// Expands to `pub fn config() -> nextr::config::RouteConfig` (which the generated `main` passes
/// to the runtime), plus compile-time checks: an unknown key, a repeated key, a value of the
/// wrong kind or out of range is a compile error that names the key. See the [module
/// docs](crate::config) for the grammar.
///
/// ```
/// nextr::config! {
///     max_duration: 10,
///     memory: 512,
///     body_parser: { size_limit: "500kb" },
///     response_limit: false,
///     external_resolver: true,
/// }
/// # fn main() {
/// let c = config();
/// assert_eq!(c.max_duration, Some(10));
/// assert_eq!(c.body_parser.size_limit().map(|l| l.as_written()), Some("500kb".to_string()));
/// # }
/// ```
///
/// ```compile_fail
/// nextr::config! { max_duraton: 10 } // unknown key `max_duraton`; the allowed keys are …
/// # fn main() {}
/// ```
///
/// ```compile_fail
/// nextr::config! { max_duration: 1000 } // `max_duration` must be between 1 and 900 seconds
/// # fn main() {}
/// ```
///
/// ```compile_fail
/// nextr::config! { max_duration: "10" } // `max_duration` must be an integer number of seconds
/// # fn main() {}
/// ```
///
/// ```compile_fail
/// nextr::config! { body_parser: { size_limit: "lots" } } // not a size
/// # fn main() {}
/// ```
///
/// ```compile_fail
/// nextr::config! { memory: 512, memory: 1024 } // `memory` is defined multiple times
/// # fn main() {}
/// ```
///
/// ```compile_fail
/// nextr::config! { dynamic: "sometimes" } // `dynamic` must be one of "auto", …
/// # fn main() {}
/// ```
///
/// ```compile_fail
/// nextr::config! { revalidate: true } // `revalidate` must be `false` or seconds
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! config {
    ($($body:tt)*) => {
        /// This route's configuration, as declared with `nextr::config!`.
        pub fn config() -> $crate::config::RouteConfig {
            #[allow(unused_mut)]
            let mut config = $crate::config::RouteConfig::default();
            $crate::__config_entries!(config; $($body)*);
            config
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __config_entries {
    ($c:ident;) => {};
    ($c:ident; max_duration : $v:literal $(, $($rest:tt)*)?) => {
        #[allow(non_upper_case_globals, dead_code)]
        const max_duration: () = ();
        const _: () = ::core::assert!(
            $crate::config::__int_literal(::core::stringify!($v)).is_some(),
            "nextr::config!: `max_duration` must be an integer number of seconds, e.g. `max_duration: 10`"
        );
        const _: () = ::core::assert!(
            $crate::config::__int_in_range(::core::stringify!($v), &$crate::limits::LAMBDA_TIMEOUT_S),
            "nextr::config!: `max_duration` must be between 1 and 900 seconds (Lambda's timeout range)"
        );
        $c.max_duration = ::core::option::Option::Some(
            $crate::config::__int_or_zero(::core::stringify!($v)) as u32,
        );
        $crate::__config_entries!($c; $($($rest)*)?);
    };
    ($c:ident; memory : $v:literal $(, $($rest:tt)*)?) => {
        #[allow(non_upper_case_globals, dead_code)]
        const memory: () = ();
        const _: () = ::core::assert!(
            $crate::config::__int_literal(::core::stringify!($v)).is_some(),
            "nextr::config!: `memory` must be an integer number of MB, e.g. `memory: 512`"
        );
        const _: () = ::core::assert!(
            $crate::config::__int_in_range(::core::stringify!($v), &$crate::limits::LAMBDA_MEMORY_MB),
            "nextr::config!: `memory` must be between 128 and 10240 MB (Lambda's memory range)"
        );
        $c.memory = ::core::option::Option::Some(
            $crate::config::__int_or_zero(::core::stringify!($v)) as u32,
        );
        $crate::__config_entries!($c; $($($rest)*)?);
    };
    ($c:ident; body_parser : { $($inner:tt)* } $(, $($rest:tt)*)?) => {
        #[allow(non_upper_case_globals, dead_code)]
        const body_parser: () = ();
        $c.body_parser = $crate::config::BodyParser::Enabled {
            size_limit: $crate::__config_body_parser!($($inner)*),
        };
        $crate::__config_entries!($c; $($($rest)*)?);
    };
    ($c:ident; body_parser : $v:literal $(, $($rest:tt)*)?) => {
        #[allow(non_upper_case_globals, dead_code)]
        const body_parser: () = ();
        const _: () = ::core::assert!(
            $crate::config::__bool_literal(::core::stringify!($v)).is_some(),
            "nextr::config!: `body_parser` must be `false`, `true` or `{{ size_limit: \"1mb\" }}`"
        );
        if !$crate::config::__bool_or_false(::core::stringify!($v)) {
            $c.body_parser = $crate::config::BodyParser::Disabled($crate::config::Disabled);
        }
        $crate::__config_entries!($c; $($($rest)*)?);
    };
    ($c:ident; response_limit : $v:literal $(, $($rest:tt)*)?) => {
        #[allow(non_upper_case_globals, dead_code)]
        const response_limit: () = ();
        const _: () = ::core::assert!(
            $crate::config::__bool_literal(::core::stringify!($v)).is_some()
                || $crate::config::__size_literal_ok(::core::stringify!($v)),
            "nextr::config!: `response_limit` must be `false`, `true`, a size such as \"8mb\" or an integer number of bytes"
        );
        $c.response_limit = $crate::config::ResponseLimit::__from_literal(::core::stringify!($v));
        $crate::__config_entries!($c; $($($rest)*)?);
    };
    ($c:ident; external_resolver : $v:literal $(, $($rest:tt)*)?) => {
        #[allow(non_upper_case_globals, dead_code)]
        const external_resolver: () = ();
        const _: () = ::core::assert!(
            $crate::config::__bool_literal(::core::stringify!($v)).is_some(),
            "nextr::config!: `external_resolver` must be `true` or `false`"
        );
        $c.external_resolver = $crate::config::__bool_or_false(::core::stringify!($v));
        $crate::__config_entries!($c; $($($rest)*)?);
    };
    ($c:ident; dynamic : $v:literal $(, $($rest:tt)*)?) => {
        #[allow(non_upper_case_globals, dead_code)]
        const dynamic: () = ();
        const _: () = ::core::assert!(
            $crate::config::__dynamic_literal(::core::stringify!($v)).is_some(),
            "nextr::config!: `dynamic` must be one of \"auto\", \"force-dynamic\", \"error\", \"force-static\""
        );
        $c.dynamic = $crate::config::__dynamic_literal(::core::stringify!($v));
        $crate::__config_entries!($c; $($($rest)*)?);
    };
    ($c:ident; revalidate : $v:literal $(, $($rest:tt)*)?) => {
        #[allow(non_upper_case_globals, dead_code)]
        const revalidate: () = ();
        const _: () = ::core::assert!(
            $crate::config::__revalidate_literal_ok(::core::stringify!($v)),
            "nextr::config!: `revalidate` must be `false` or an integer number of seconds, e.g. `revalidate: 60`"
        );
        $c.revalidate = ::core::option::Option::Some(
            $crate::config::Revalidate::__from_literal(::core::stringify!($v)),
        );
        $crate::__config_entries!($c; $($($rest)*)?);
    };
    ($c:ident; max_duration : $($bad:tt)*) => {
        ::core::compile_error!("nextr::config!: `max_duration` takes an integer literal (seconds), e.g. `max_duration: 10,`");
    };
    ($c:ident; memory : $($bad:tt)*) => {
        ::core::compile_error!("nextr::config!: `memory` takes an integer literal (MB), e.g. `memory: 512,`");
    };
    ($c:ident; body_parser : $($bad:tt)*) => {
        ::core::compile_error!("nextr::config!: `body_parser` takes `false`, `true` or `{ size_limit: \"500kb\" }`");
    };
    ($c:ident; response_limit : $($bad:tt)*) => {
        ::core::compile_error!("nextr::config!: `response_limit` takes `false`, `true`, a string such as \"8mb\" or an integer number of bytes");
    };
    ($c:ident; external_resolver : $($bad:tt)*) => {
        ::core::compile_error!("nextr::config!: `external_resolver` takes `true` or `false`");
    };
    ($c:ident; dynamic : $($bad:tt)*) => {
        ::core::compile_error!("nextr::config!: `dynamic` takes one of \"auto\", \"force-dynamic\", \"error\", \"force-static\"");
    };
    ($c:ident; revalidate : $($bad:tt)*) => {
        ::core::compile_error!("nextr::config!: `revalidate` takes `false` or an integer literal (seconds), e.g. `revalidate: 60,`");
    };
    ($c:ident; $key:ident : $($rest:tt)*) => {
        ::core::compile_error!(::core::concat!(
            "nextr::config!: unknown key `", ::core::stringify!($key),
            "`; the allowed keys are max_duration, memory, body_parser, response_limit, external_resolver, dynamic, revalidate"
        ));
    };
    ($c:ident; $($other:tt)*) => {
        ::core::compile_error!(::core::concat!(
            "nextr::config!: expected `key: value` pairs separated by commas, found `",
            ::core::stringify!($($other)*), "`"
        ));
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __config_body_parser {
    () => {
        ::core::option::Option::None
    };
    (size_limit : $v:literal $(,)?) => {{
        const _: () = ::core::assert!(
            $crate::config::__size_literal_ok(::core::stringify!($v)),
            "nextr::config!: `body_parser.size_limit` must be a size such as \"500kb\", \"1.5mb\", \"10b\" or an integer number of bytes"
        );
        ::core::option::Option::Some($crate::config::SizeLimit::__from_literal(::core::stringify!($v)))
    }};
    ($($other:tt)*) => {
        ::core::compile_error!(::core::concat!(
            "nextr::config!: `body_parser` accepts only `{ size_limit: \"500kb\" }`, found `{ ",
            ::core::stringify!($($other)*), " }`"
        ))
    };
}

/// `stringify!` of an unsuffixed integer literal → its value (digits and `_` only).
#[doc(hidden)]
pub const fn __int_literal(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.is_empty() {
        return None;
    }
    let mut i = 0;
    let mut v: u64 = 0;
    let mut digits = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'_' {
            i += 1;
            continue;
        }
        if !c.is_ascii_digit() {
            return None;
        }
        v = match v.checked_mul(10) {
            Some(x) => match x.checked_add((c - b'0') as u64) {
                Some(y) => y,
                None => return None,
            },
            None => return None,
        };
        digits += 1;
        i += 1;
    }
    if digits == 0 {
        None
    } else {
        Some(v)
    }
}

/// The integer literal's value, or 0.
#[doc(hidden)]
pub const fn __int_or_zero(s: &str) -> u64 {
    match __int_literal(s) {
        Some(v) => v,
        None => 0,
    }
}

/// True for an integer literal within `range` (one of [`crate::limits`]'s), and for anything
/// that is not an integer literal, which the type check reports instead.
#[doc(hidden)]
pub const fn __int_in_range(s: &str, range: &std::ops::RangeInclusive<u32>) -> bool {
    match __int_literal(s) {
        Some(v) => v >= *range.start() as u64 && v <= *range.end() as u64,
        None => true,
    }
}

/// `stringify!` of `true`/`false`.
#[doc(hidden)]
pub const fn __bool_literal(s: &str) -> Option<bool> {
    let b = s.as_bytes();
    if b.len() == 4 && b[0] == b't' && b[1] == b'r' && b[2] == b'u' && b[3] == b'e' {
        Some(true)
    } else if b.len() == 5
        && b[0] == b'f'
        && b[1] == b'a'
        && b[2] == b'l'
        && b[3] == b's'
        && b[4] == b'e'
    {
        Some(false)
    } else {
        None
    }
}

/// The boolean literal's value, or `false`.
#[doc(hidden)]
pub const fn __bool_or_false(s: &str) -> bool {
    matches!(__bool_literal(s), Some(true))
}

/// The inside of a plain string literal's `stringify!` (`"500kb"` → `500kb`), if it is one.
const fn string_literal_body(s: &str) -> Option<&[u8]> {
    let b = s.as_bytes();
    if b.len() >= 2 && b[0] == b'"' && b[b.len() - 1] == b'"' {
        let (_, rest) = b.split_at(1);
        let (body, _) = rest.split_at(rest.len() - 1);
        Some(body)
    } else {
        None
    }
}

/// True when a literal is a valid size: an integer number of bytes, or a string made of a
/// number, optional spaces and an optional unit among `b`, `kb`, `mb`, `gb`, `tb`, `pb` (any
/// case; a fraction only with a unit from `kb` up). Next would silently disable the limit for
/// other strings (`"abc"`); nextr rejects them instead.
#[doc(hidden)]
pub const fn __size_literal_ok(s: &str) -> bool {
    if __int_literal(s).is_some() {
        return true;
    }
    match string_literal_body(s) {
        Some(body) => size_text_ok(body),
        None => false,
    }
}

const fn size_text_ok(b: &[u8]) -> bool {
    let mut i = 0;
    let mut int_digits = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
        int_digits += 1;
    }
    if int_digits == 0 {
        return false;
    }
    let mut fraction = false;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let mut frac_digits = 0;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
            frac_digits += 1;
        }
        if frac_digits == 0 {
            return false;
        }
        fraction = true;
    }
    while i < b.len() && b[i] == b' ' {
        i += 1;
    }
    let unit_len = b.len() - i;
    if unit_len == 0 {
        return !fraction;
    }
    let first = b[i].to_ascii_lowercase();
    if unit_len == 1 {
        return first == b'b' && !fraction;
    }
    if unit_len == 2 {
        let second = b[i + 1].to_ascii_lowercase();
        return second == b'b' && matches!(first, b'k' | b'm' | b'g' | b't' | b'p');
    }
    false
}

/// `stringify!` of a string literal naming a [`Dynamic`] value (`"force-static"`) → it.
#[doc(hidden)]
pub const fn __dynamic_literal(s: &str) -> Option<Dynamic> {
    let Some(body) = string_literal_body(s) else {
        return None;
    };
    let mut i = 0;
    while i < Dynamic::ALL.len() {
        if bytes_eq(body, Dynamic::ALL[i].as_str().as_bytes()) {
            return Some(Dynamic::ALL[i]);
        }
        i += 1;
    }
    None
}

const fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// True for `false` and for an integer literal that fits in seconds (`u32`).
#[doc(hidden)]
pub const fn __revalidate_literal_ok(s: &str) -> bool {
    match __bool_literal(s) {
        Some(b) => !b,
        None => match __int_literal(s) {
            Some(v) => v <= u32::MAX as u64,
            None => false,
        },
    }
}

impl Revalidate {
    /// Builds a `revalidate` from the `stringify!` of a literal the macro has validated.
    #[doc(hidden)]
    pub fn __from_literal(s: &str) -> Revalidate {
        match __bool_literal(s) {
            Some(_) => Revalidate::Never(Disabled),
            None => Revalidate::Seconds(__int_or_zero(s) as u32),
        }
    }
}

impl SizeLimit {
    /// Builds a size from the `stringify!` of a literal the macro has validated.
    #[doc(hidden)]
    pub fn __from_literal(s: &str) -> SizeLimit {
        match string_literal_body(s) {
            Some(body) => SizeLimit::Text(String::from_utf8_lossy(body).into_owned()),
            None => SizeLimit::Bytes(__int_or_zero(s)),
        }
    }
}

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
mod tests {
    use super::*;

    #[test]
    fn size_literals() {
        assert!(__size_literal_ok("\"500kb\""));
        assert!(__size_literal_ok("\"1.5MB\""));
        assert!(__size_literal_ok("\"10b\""));
        assert!(__size_literal_ok("\"10 kb\""));
        assert!(__size_literal_ok("5"));
        assert!(!__size_literal_ok("\"abc\""));
        assert!(!__size_literal_ok("\"1.5b\""));
        assert!(!__size_literal_ok("\"10potatoes\""));
        assert!(!__size_literal_ok("true"));
        assert_eq!(
            SizeLimit::__from_literal("\"1kb\""),
            SizeLimit::Text("1kb".into())
        );
        assert_eq!(SizeLimit::__from_literal("5"), SizeLimit::Bytes(5));
        assert_eq!(__int_literal("1_000"), Some(1000));
        assert_eq!(__int_literal("10u32"), None);
        assert_eq!(__int_literal("-1"), None);
    }

    mod declared {
        crate::config! {
            max_duration: 10,
            memory: 512,
            body_parser: { size_limit: "500kb" },
            response_limit: "8mb",
            external_resolver: true,
        }
    }

    mod disabled {
        crate::config! { body_parser: false, response_limit: false }
    }

    mod empty {
        crate::config! {}
    }

    mod app_static {
        crate::config! { dynamic: "force-static", revalidate: false, max_duration: 5 }
    }

    mod app_revalidate {
        crate::config! { revalidate: 60, dynamic: "auto" }
    }

    #[test]
    fn macro_reads_app_router_keys() {
        let c = app_static::config();
        assert_eq!(c.dynamic, Some(Dynamic::ForceStatic));
        assert_eq!(c.revalidate, Some(Revalidate::Never(Disabled)));
        assert!(c.prerenders());
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            r#"{"max_duration":5,"dynamic":"force-static","revalidate":false}"#
        );
        let c = app_revalidate::config();
        assert_eq!(
            (c.dynamic, c.revalidate),
            (Some(Dynamic::Auto), Some(Revalidate::Seconds(60)))
        );
        assert!(c.prerenders());
        assert_eq!(__dynamic_literal("\"sometimes\""), None);
        assert_eq!(__dynamic_literal("error"), None);
        assert!(!__revalidate_literal_ok("true"));
        assert!(!__revalidate_literal_ok("4294967296"));
        assert!(__revalidate_literal_ok("0"));
    }

    #[test]
    fn prerendering_follows_next() {
        let with = |dynamic, revalidate| RouteConfig {
            dynamic,
            revalidate,
            ..RouteConfig::default()
        };
        assert!(!with(None, None).prerenders());
        assert!(!with(Some(Dynamic::ForceDynamic), None).prerenders());
        assert!(!with(Some(Dynamic::Auto), Some(Revalidate::Seconds(0))).prerenders());
        assert!(with(Some(Dynamic::Error), None).prerenders());
        assert!(with(None, Some(Revalidate::Seconds(1))).prerenders());
        for d in Dynamic::ALL {
            assert_eq!(Dynamic::parse(d.as_str()), Some(d));
            assert_eq!(
                serde_json::to_string(&d).unwrap(),
                format!("\"{}\"", d.as_str())
            );
        }
    }

    #[test]
    fn macro_builds_the_config() {
        let c = declared::config();
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            r#"{"max_duration":10,"memory":512,"body_parser":{"size_limit":"500kb"},"response_limit":"8mb","external_resolver":true}"#
        );
        let c = disabled::config();
        assert_eq!(c.body_parser, BodyParser::Disabled(Disabled));
        assert_eq!(c.response_limit.bytes(), None);
        assert_eq!(empty::config(), RouteConfig::default());
    }

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
