//! Which requests `proxy.rs` runs for: Next's `config.matcher`, compiled once when the function
//! starts and matched per request.
//!
//! The semantics are Next 16's (next-app-semantics §10):
//!
//! * no matcher: every request; a list: a request matches when **any** entry matches;
//! * an entry's `source` is a path-to-regexp 6 path (`/api/:path*`, `/admin/:p+`, `/:id?`,
//!   `/m2/(\d{1,3})`, `/post/:id(\d+)`, `{/x}?`), anchored at both ends, case-sensitive, with
//!   one optional trailing `/`, `#` or `?`, matched against the **percent-decoded** path;
//! * `has` entries must all hold and `missing` entries must all fail; each reads a header, a
//!   query parameter, a cookie or the host, optionally matched against `value`, a regex
//!   anchored as `^value$`; an **empty value counts as absent** in both lists.
//!
//! Deliberate differences, for an API-only product: no optional `/_next/data/<id>` prefix and
//! no `.json` suffix (nextr serves no Pages data routes), no i18n locale prefix, no
//! `basePath`. Written regexes run on the regex crate: a lookahead is supported where Next's
//! docs use it (first in the first group after literal text: `/((?!api|_next/static).*)`, run
//! as a second regex at that fixed offset); other lookaround and backreferences are refused at
//! build. Classes are ASCII (as JavaScript without the `u` flag).

mod conditions;
mod source;
#[cfg(test)]
mod tests;

use std::borrow::Cow;

use regex::bytes::Regex;
use serde::{Deserialize, Serialize};

use conditions::Compiled as CompiledCondition;
pub use conditions::Condition;

/// One entry of `config.matcher`: a source, with optional `has` and `missing` conditions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatcherSpec {
    /// The path pattern, path-to-regexp syntax, starting with `/`.
    pub source: String,
    /// Conditions that must all hold.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub has: Vec<Condition>,
    /// Conditions that must all fail.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<Condition>,
}

impl MatcherSpec {
    /// An entry with a source only, as a plain string in `matcher`.
    pub fn source(source: impl Into<String>) -> Self {
        MatcherSpec {
            source: source.into(),
            has: Vec::new(),
            missing: Vec::new(),
        }
    }
}

/// Why a matcher entry does not compile; path-to-regexp's words where it has some.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MatcherError {
    /// Next's check: every source is an absolute path.
    #[error("source must start with /")]
    NoLeadingSlash,
    /// path-to-regexp refused the source (its message).
    #[error("{0}")]
    Syntax(String),
    /// A written regex (a source's group or a condition's `value`) that does not compile.
    #[error("invalid regular expression `{pattern}`: {reason}")]
    Regex {
        /// The regex as written.
        pattern: String,
        /// What the regex crate says, or why nextr cannot run it.
        reason: String,
    },
    /// A `header`, `query` or `cookie` condition without a key.
    #[error("`key` is required for a `{0}` condition")]
    MissingKey(&'static str),
}

/// A [`MatcherError`] and where it is, in Next's notation: `matcher[0]`, `matcher[1].has[0]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error} at \"{at}\"")]
pub struct MatcherSpecError {
    /// The entry (and condition) at fault.
    pub at: String,
    /// What is wrong with it.
    pub error: MatcherError,
}

/// The parts of a request a matcher reads.
pub trait MatchRequest {
    /// The path as received, still percent-encoded, without the query.
    fn raw_path(&self) -> &str;
    /// The query string without its `?` (empty when there is none).
    fn raw_query(&self) -> &str;
    /// A header's value by lower-case name, repeated headers joined as Node joins them
    /// (`, `, and `; ` for `cookie`).
    fn header(&self, name: &str) -> Option<Cow<'_, str>>;
}

/// A compiled `config.matcher`: decides whether the proxy runs for a request.
#[derive(Debug, Clone)]
pub struct Matcher {
    /// `None`: no matcher, every request.
    entries: Option<Vec<Entry>>,
}

#[derive(Debug, Clone)]
struct Entry {
    path: Regex,
    /// A leading lookahead: (negative, `^L(?:X)`).
    guard: Option<(bool, Regex)>,
    has: Vec<CompiledCondition>,
    missing: Vec<CompiledCondition>,
}

impl Matcher {
    /// The proxy without a matcher: it runs for every request.
    pub fn all() -> Self {
        Matcher { entries: None }
    }

    /// Compiles `config.matcher`'s entries (an empty list matches nothing).
    pub fn compile(specs: &[MatcherSpec]) -> Result<Self, MatcherSpecError> {
        let entries = specs
            .iter()
            .enumerate()
            .map(|(i, spec)| compile_entry(i, spec))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Matcher {
            entries: Some(entries),
        })
    }

    /// Compiles an optional matcher: `None` is [`Matcher::all`].
    pub fn from_config(specs: Option<&[MatcherSpec]>) -> Result<Self, MatcherSpecError> {
        specs.map_or(Ok(Matcher::all()), Matcher::compile)
    }

    /// True when the proxy runs for this request.
    pub fn matches(&self, req: &impl MatchRequest) -> bool {
        let Some(entries) = &self.entries else {
            return true;
        };
        let path = percent_decode(req.raw_path());
        entries.iter().any(|e| {
            e.path.is_match(&path)
                && e.guard
                    .as_ref()
                    .is_none_or(|(negative, re)| re.is_match(&path) != *negative)
                && e.has.iter().all(|c| c.holds(req))
                && !e.missing.iter().any(|c| c.holds(req))
        })
    }
}

fn compile_entry(i: usize, spec: &MatcherSpec) -> Result<Entry, MatcherSpecError> {
    let at = |error| MatcherSpecError {
        at: format!("matcher[{i}]"),
        error,
    };
    if !spec.source.starts_with('/') {
        return Err(at(MatcherError::NoLeadingSlash));
    }
    let compiled = source::to_regex(&spec.source).map_err(at)?;
    let path = compile_regex(&compiled.path, &spec.source).map_err(at)?;
    let guard = match compiled.guard {
        Some(g) => Some((
            g.negative,
            compile_regex(&g.regex, &spec.source).map_err(at)?,
        )),
        None => None,
    };
    let conditions = |list: &[Condition], name: &str| {
        list.iter()
            .enumerate()
            .map(|(j, c)| {
                c.compile().map_err(|error| MatcherSpecError {
                    at: format!("matcher[{i}].{name}[{j}]"),
                    error,
                })
            })
            .collect::<Result<Vec<_>, _>>()
    };
    Ok(Entry {
        path,
        guard,
        has: conditions(&spec.has, "has")?,
        missing: conditions(&spec.missing, "missing")?,
    })
}

/// Compiles a generated regex; `written` is what the user wrote, for the error.
fn compile_regex(pattern: &str, written: &str) -> Result<Regex, MatcherError> {
    Regex::new(pattern).map_err(|e| {
        let reason = match e {
            regex::Error::Syntax(s) if s.contains("look-around") => {
                "lookaround (`(?=…)`, `(?!…)`) is only supported first in the first group, after literal text, as in `/((?!api|_next).*)`".to_owned()
            }
            regex::Error::Syntax(s) => s.lines().last().unwrap_or_default().trim().to_owned(),
            other => other.to_string(),
        };
        MatcherError::Regex {
            pattern: written.to_owned(),
            reason,
        }
    })
}

/// The path as Next's matcher sees it: `%XX` escapes decoded to bytes; a `%` not followed by
/// two hex digits is kept as written (the path is matched as bytes, so any result is fine).
fn percent_decode(path: &str) -> Cow<'_, [u8]> {
    let bytes = path.as_bytes();
    if !bytes.contains(&b'%') {
        return Cow::Borrowed(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            if let (Some(h), Some(l)) = (
                bytes.get(i + 1).and_then(|b| hex(*b)),
                bytes.get(i + 2).and_then(|b| hex(*b)),
            ) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    Cow::Owned(out)
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// A request given as its parts: what tests, benches and the emulator can build cheaply.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestParts<'a> {
    /// The raw path.
    pub path: &'a str,
    /// The raw query, without `?`.
    pub query: &'a str,
    /// Headers as `(name, value)`, names in any case.
    pub headers: &'a [(&'a str, &'a str)],
}

impl MatchRequest for RequestParts<'_> {
    fn raw_path(&self) -> &str {
        self.path
    }

    fn raw_query(&self) -> &str {
        self.query
    }

    fn header(&self, name: &str) -> Option<Cow<'_, str>> {
        let mut values = self
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v);
        let first = values.next()?;
        let rest: Vec<&str> = values.collect();
        if rest.is_empty() {
            return Some(Cow::Borrowed(first));
        }
        // Node joins repeated headers with ", ", and cookies with "; ".
        let sep = if name.eq_ignore_ascii_case("cookie") {
            "; "
        } else {
            ", "
        };
        let mut joined = first.to_owned();
        for v in rest {
            joined.push_str(sep);
            joined.push_str(v);
        }
        Some(Cow::Owned(joined))
    }
}
