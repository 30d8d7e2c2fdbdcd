//! `has` and `missing` conditions, with Next's `matchHas` semantics: a condition holds when
//! the value is present and non-empty and, if the condition has a `value`, that value matches
//! it as the regex `^value$`.

use std::borrow::Cow;

use regex::bytes::Regex;
use serde::{Deserialize, Serialize};

use super::{compile_regex, MatchRequest, MatcherError};

/// One `has` or `missing` item: `{ type: "header", key: "x-go", value: "yes" }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Condition {
    /// A request header (the key is matched case-insensitively).
    Header {
        /// The header's name.
        key: String,
        /// A regex the value must match entirely.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value: Option<String>,
    },
    /// A query parameter (the last one when repeated).
    Query {
        /// The parameter's name.
        key: String,
        /// A regex the value must match entirely.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value: Option<String>,
    },
    /// A cookie (the first one when repeated, as Next's cookie parser).
    Cookie {
        /// The cookie's name.
        key: String,
        /// A regex the value must match entirely.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value: Option<String>,
    },
    /// The `host` header without its port, lower-cased.
    Host {
        /// A regex the host must match entirely.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value: Option<String>,
    },
}

/// Where a condition reads its value.
#[derive(Debug, Clone)]
enum Source {
    Header(String),
    Query(String),
    Cookie(String),
    Host,
}

/// A condition ready to test.
#[derive(Debug, Clone)]
pub(super) struct Compiled {
    source: Source,
    value: Option<Regex>,
}

/// A value read from the request. `Many` is a repeated query parameter: Next sees an array,
/// which counts as present even when its items are empty, and matches its last item.
enum Found<'a> {
    Absent,
    One(Cow<'a, str>),
    Many(Cow<'a, str>),
}

impl Condition {
    /// The condition's type as Next spells it.
    pub fn kind(&self) -> &'static str {
        match self {
            Condition::Header { .. } => "header",
            Condition::Query { .. } => "query",
            Condition::Cookie { .. } => "cookie",
            Condition::Host { .. } => "host",
        }
    }

    pub(super) fn compile(&self) -> Result<Compiled, MatcherError> {
        let (source, key, value) = match self {
            Condition::Header { key, value } => {
                (Source::Header(key.to_ascii_lowercase()), Some(key), value)
            }
            Condition::Query { key, value } => (Source::Query(key.clone()), Some(key), value),
            Condition::Cookie { key, value } => (Source::Cookie(key.clone()), Some(key), value),
            Condition::Host { value } => (Source::Host, None, value),
        };
        if key.is_some_and(|k| k.is_empty()) {
            return Err(MatcherError::MissingKey(self.kind()));
        }
        // Next tests `!hasItem.value`: an empty value is no value. It builds the regex as
        // `^${value}$` without a group, so `a|b` means "starts with a or ends with b" there too.
        let value = match value.as_deref() {
            None | Some("") => None,
            Some(v) => Some(compile_regex(&format!("(?-u)^{v}$"), v)?),
        };
        Ok(Compiled { source, value })
    }
}

impl Compiled {
    /// True when the request has the value (non-empty) and it matches `value`, if any.
    pub(super) fn holds(&self, req: &impl MatchRequest) -> bool {
        let found = match &self.source {
            Source::Header(name) => req.header(name).map_or(Found::Absent, Found::One),
            Source::Cookie(name) => req
                .header("cookie")
                .and_then(|h| cookie(&h, name))
                .map_or(Found::Absent, |v| Found::One(Cow::Owned(v))),
            Source::Query(name) => query(req.raw_query(), name),
            Source::Host => req.header("host").map_or(Found::Absent, |h| {
                let host = h.split(':').next().unwrap_or_default().to_ascii_lowercase();
                Found::One(Cow::Owned(host))
            }),
        };
        let value = match found {
            Found::Absent => return false,
            Found::One(v) if v.is_empty() => return false,
            Found::One(v) | Found::Many(v) => v,
        };
        self.value
            .as_ref()
            .is_none_or(|re| re.is_match(value.as_bytes()))
    }
}

/// A cookie's value as Next's cookie parser reads it: the first pair named `name`, trimmed,
/// unquoted, percent-decoded when that succeeds.
fn cookie(header: &str, name: &str) -> Option<String> {
    header.split(';').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        if k.trim() != name {
            return None;
        }
        let v = v.trim();
        let v = match v.strip_prefix('"') {
            // The parser drops the first and last character when the first is a quote.
            Some(rest) => rest.get(..rest.len().saturating_sub(1)).unwrap_or_default(),
            None => v,
        };
        Some(decode_component(v, false).map_or_else(|| v.to_owned(), Cow::into_owned))
    })
}

/// A query parameter as Node's `querystring` reads it: keys and values `+`- and
/// percent-decoded; repeated keys give an array.
fn query<'a>(raw: &'a str, name: &str) -> Found<'a> {
    let mut count = 0usize;
    let mut last: Option<Cow<'a, str>> = None;
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let key = decode_component(k, true).unwrap_or(Cow::Borrowed(k));
        if key == name {
            count += 1;
            last = Some(decode_component(v, true).unwrap_or(Cow::Borrowed(v)));
        }
    }
    match (count, last) {
        (0, _) | (_, None) => Found::Absent,
        (1, Some(v)) => Found::One(v),
        (_, Some(v)) => Found::Many(v),
    }
}

/// Percent-decodes (and `+` → space for queries); `None` when the bytes are not UTF-8.
/// Malformed escapes stay as written, as in Node's `querystring.unescape`. Borrows when there
/// is nothing to decode: the common case, per request.
fn decode_component(s: &str, plus: bool) -> Option<Cow<'_, str>> {
    if !s.contains(['%', '+']) {
        return Some(Cow::Borrowed(s));
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' if plus => out.push(b' '),
            b'%' => {
                let h = bytes.get(i + 1).and_then(|b| (*b as char).to_digit(16));
                let l = bytes.get(i + 2).and_then(|b| (*b as char).to_digit(16));
                if let (Some(h), Some(l)) = (h, l) {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok().map(Cow::Owned)
}
