//! `proxy.rs` (or `middleware.rs`) read without compiling it: the `matcher` of its `config!`,
//! checked with the runtime's own matcher compiler, so a bad source is a build error at its
//! line rather than a function that fails at start; and its function ([`export`]).

use std::collections::HashMap;

use nextr::proxy::matcher::{Condition, Matcher, MatcherSpec};
use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::parse::Parser;
use syn::spanned::Spanned;
use syn::{Ident, Item};

use super::config::syntax::{parse_entries, Entry, Value};
use super::config::{is_config_macro, APP_CONFIG_KEYS, MATCHER_KEY, PAGES_CONFIG_KEYS};
use super::diagnostic::{suggest, Problem, RouteDiagnostic, SourceFile};
use crate::project::ProxyConvention;

mod export;

/// What the build takes from the proxy file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyAnalysis {
    /// The file relative to the app root (`proxy.rs`).
    pub file: String,
    /// Which of Next's names the file has: it names the function the `main`s call.
    pub convention: ProxyConvention,
    /// `config.matcher`'s entries; `None` without a matcher: the proxy runs for every request.
    pub matchers: Option<Vec<MatcherSpec>>,
}

impl ProxyAnalysis {
    /// The compiled matcher (the analysis already compiled every entry once); the build only
    /// records the entries, the function compiles them.
    #[cfg(test)]
    pub fn matcher(&self) -> Result<Matcher, nextr::proxy::matcher::MatcherSpecError> {
        Matcher::from_config(self.matchers.as_deref())
    }
}

/// The keys of a `{ … }` matcher entry.
const ENTRY_KEYS: &[&str] = &["source", "has", "missing"];
/// The keys of a `has`/`missing` condition.
const CONDITION_KEYS: &[&str] = &["type", "key", "value"];
/// The condition types, as Next spells them.
const CONDITION_TYPES: &[&str] = &["header", "query", "cookie", "host"];

/// Reads the proxy file's text (`file` names it in diagnostics, and `middleware.rs` is the
/// deprecated convention, whose function is `middleware`): its matcher, or every problem of
/// its `config!` and its function.
pub fn analyze_proxy(file: &str, text: &str) -> Result<ProxyAnalysis, Vec<RouteDiagnostic>> {
    let convention = ProxyConvention::of_file(file).unwrap_or(ProxyConvention::Proxy);
    let source = SourceFile::new(file, text);
    let parsed = super::parse_rust(&source)?;
    let mut out = Vec::new();
    let mut matchers = None;
    let mut first: Option<Span> = None;
    for item in &parsed.items {
        let Item::Macro(m) = item else { continue };
        if !is_config_macro(&m.mac) {
            continue;
        }
        let span = m.mac.path.span();
        if let Some(first) = first {
            out.push(
                RouteDiagnostic::at(
                    &source,
                    Problem::ConfigRepeated,
                    source.range(span),
                    "again here",
                )
                .with_label(source.range(first), "first here")
                .with_help("merge the keys into one `config!`"),
            );
            continue;
        }
        first = Some(span);
        let entries = match parse_entries.parse2(m.mac.tokens.clone()) {
            Ok(entries) => entries,
            Err(e) => {
                out.push(
                    RouteDiagnostic::at(
                        &source,
                        Problem::ConfigSyntax(e.to_string()),
                        source.range(e.span()),
                        e.to_string(),
                    )
                    .with_help("write `matcher: [\"/api/:path*\", { source: \"/x/:p*\", has: [{ type: \"header\", key: \"x-go\" }] }]`"),
                );
                continue;
            }
        };
        let mut reader = Reader {
            file: &source,
            convention,
            out: &mut out,
        };
        matchers = reader.config(&entries);
    }
    export::check(&source, convention, &parsed.items, &mut out);
    if !out.is_empty() {
        out.sort_by_key(|d| (d.line, d.column));
        return Err(out);
    }
    Ok(ProxyAnalysis {
        file: file.to_owned(),
        convention,
        matchers,
    })
}

struct Reader<'a> {
    file: &'a SourceFile,
    convention: ProxyConvention,
    out: &'a mut Vec<RouteDiagnostic>,
}

impl Reader<'_> {
    /// The proxy's page in Next's messages: `/proxy`.
    fn page(&self) -> &'static str {
        self.convention.page()
    }

    fn push(&mut self, problem: Problem, span: Span, label: impl Into<String>) {
        self.out.push(RouteDiagnostic::at(
            self.file,
            problem,
            self.file.range(span),
            label,
        ));
    }

    fn config(&mut self, entries: &[Entry]) -> Option<Vec<MatcherSpec>> {
        let mut matchers = None;
        let mut seen = HashMap::new();
        for entry in entries {
            let key = entry.key.unraw().to_string();
            let route_key = key == "runtime"
                || PAGES_CONFIG_KEYS.contains(&key.as_str())
                || APP_CONFIG_KEYS.contains(&key.as_str());
            if route_key {
                self.out.push(
                    RouteDiagnostic::at(
                        self.file,
                        Problem::ProxySegmentConfig {
                            title: self.convention.title(),
                            file: self.convention.file(),
                            key,
                        },
                        self.file.range(entry.key.span()),
                        "not a proxy setting",
                    )
                    .with_help("the only key of the proxy's `config!` is `matcher`"),
                );
                continue;
            }
            if self.key(&entry.key, "config!", &[MATCHER_KEY], &mut seen) {
                matchers = self.matchers(&entry.value);
            }
        }
        matchers
    }

    /// Reports unknown and repeated keys; true when the entry should be read.
    fn key(
        &mut self,
        key: &Ident,
        table: &'static str,
        allowed: &'static [&'static str],
        seen: &mut HashMap<String, Span>,
    ) -> bool {
        super::config::check_key(self.file, self.out, key, table, allowed, seen)
    }

    fn wrong(&mut self, at: &str, expected: &'static str, value: &Value) {
        match value {
            Value::Other { literal: false, .. } => self.push(
                Problem::MatcherNotLiteral {
                    page: self.page(),
                    at: at.to_owned(),
                },
                value.span(),
                "write a literal here",
            ),
            _ => self.push(
                Problem::MatcherType {
                    page: self.page(),
                    at: at.to_owned(),
                    expected,
                    found: value.describe(),
                },
                value.span(),
                format!("expected {expected}"),
            ),
        }
    }

    fn string(&mut self, at: &str, value: &Value) -> Option<(String, Span)> {
        match value {
            Value::Str { value, span } => Some((value.clone(), *span)),
            _ => {
                self.wrong(at, "a string", value);
                None
            }
        }
    }

    fn matchers(&mut self, value: &Value) -> Option<Vec<MatcherSpec>> {
        match value {
            Value::Str { .. } => Some(vec![self.entry(None, value)?]),
            Value::List { items, .. } => {
                let specs: Vec<Option<MatcherSpec>> = items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| self.entry(Some(i), v))
                    .collect();
                specs.into_iter().collect()
            }
            _ => {
                self.wrong(
                    "matcher",
                    "a source string or a `[ … ]` list of sources and `{ source, has, missing }` tables",
                    value,
                );
                None
            }
        }
    }

    /// One entry; `index` is `None` when `matcher` is a single string (Next: `matcher[0]`).
    fn entry(&mut self, index: Option<usize>, value: &Value) -> Option<MatcherSpec> {
        let at = format!("matcher[{}]", index.unwrap_or(0));
        let spec = match value {
            Value::Str { value, span } => {
                self.source(&at, value, *span);
                MatcherSpec::source(value.clone())
            }
            Value::Table { entries, span } => {
                let mut seen = HashMap::new();
                let mut spec = MatcherSpec::source("");
                let mut source = None;
                for e in entries {
                    if !self.key(&e.key, "matcher entry", ENTRY_KEYS, &mut seen) {
                        continue;
                    }
                    match e.key.unraw().to_string().as_str() {
                        "source" => {
                            if let Some((s, span)) = self.string(&format!("{at}.source"), &e.value)
                            {
                                self.source(&at, &s, span);
                                source = Some(s);
                            }
                        }
                        "has" => spec.has = self.conditions(&format!("{at}.has"), &e.value),
                        _ => spec.missing = self.conditions(&format!("{at}.missing"), &e.value),
                    }
                }
                match source {
                    Some(s) => spec.source = s,
                    // A misspelt key (`sorce`) is already reported with its suggestion.
                    None if !seen.contains_key("source")
                        && entries
                            .iter()
                            .all(|e| ENTRY_KEYS.contains(&e.key.unraw().to_string().as_str())) =>
                    {
                        self.push(
                            Problem::MatcherMissingField {
                                page: self.page(),
                                at,
                                field: "source",
                            },
                            *span,
                            "no `source`",
                        );
                        return None;
                    }
                    None => return None,
                }
                spec
            }
            _ => {
                self.wrong(
                    &at,
                    "a source string or a `{ source, has, missing }` table",
                    value,
                );
                return None;
            }
        };
        Some(spec)
    }

    /// Checks a source with the runtime's compiler.
    fn source(&mut self, at: &str, source: &str, span: Span) {
        if let Err(e) = Matcher::compile(&[MatcherSpec::source(source)]) {
            let label = match e.error {
                nextr::proxy::matcher::MatcherError::NoLeadingSlash => "start it with `/`",
                _ => "not a valid source",
            };
            self.push(
                Problem::MatcherInvalid {
                    page: self.page(),
                    message: format!("{} at {at:?}", e.error),
                },
                span,
                label,
            );
        }
    }

    fn conditions(&mut self, at: &str, value: &Value) -> Vec<Condition> {
        let Value::List { items, .. } = value else {
            self.wrong(at, "a `[ … ]` list of `{ type, key, value }` tables", value);
            return Vec::new();
        };
        items
            .iter()
            .enumerate()
            .filter_map(|(j, v)| self.condition(&format!("{at}[{j}]"), v))
            .collect()
    }

    fn condition(&mut self, at: &str, value: &Value) -> Option<Condition> {
        let Value::Table { entries, span } = value else {
            self.wrong(at, "a `{ type, key, value }` table", value);
            return None;
        };
        let mut seen = HashMap::new();
        let (mut kind, mut key, mut val) = (None, None, None);
        let mut ok = true;
        for e in entries {
            if !self.key(&e.key, "condition", CONDITION_KEYS, &mut seen) {
                ok = false;
                continue;
            }
            let name = e.key.unraw().to_string();
            let Some((s, s_span)) = self.string(&format!("{at}.{name}"), &e.value) else {
                ok = false;
                continue;
            };
            match name.as_str() {
                "type" => kind = Some((s, s_span)),
                "key" => key = Some(s),
                _ => val = Some((s, s_span)),
            }
        }
        let Some((kind, kind_span)) = kind else {
            if ok {
                self.push(
                    Problem::MatcherMissingField {
                        page: self.page(),
                        at: at.to_owned(),
                        field: "type",
                    },
                    *span,
                    "no `type`",
                );
            }
            return None;
        };
        if !CONDITION_TYPES.contains(&kind.as_str()) {
            let suggestion = suggest(&kind, CONDITION_TYPES);
            let label = suggestion.map_or("unknown type".to_owned(), |s| {
                format!("did you mean \"{s}\"?")
            });
            self.push(
                Problem::MatcherConditionType {
                    page: self.page(),
                    at: at.to_owned(),
                    found: kind,
                    suggestion,
                },
                kind_span,
                label,
            );
            return None;
        }
        let value = val.as_ref().map(|(v, _)| v.clone());
        let condition = match (kind.as_str(), key) {
            ("host", _) => Condition::Host { value },
            (_, None) => {
                self.push(
                    Problem::MatcherMissingField {
                        page: self.page(),
                        at: at.to_owned(),
                        field: "key",
                    },
                    *span,
                    "no `key`",
                );
                return None;
            }
            ("header", Some(key)) => Condition::Header { key, value },
            ("query", Some(key)) => Condition::Query { key, value },
            (_, Some(key)) => Condition::Cookie { key, value },
        };
        // The value is a regex: compile it as the function will.
        let probe = MatcherSpec {
            source: "/".into(),
            has: vec![condition.clone()],
            missing: Vec::new(),
        };
        if let Err(e) = Matcher::compile(&[probe]) {
            let span = val.map_or(*span, |(_, s)| s);
            self.push(
                Problem::MatcherInvalid {
                    page: self.page(),
                    message: format!("{} at {at:?}", e.error),
                },
                span,
                "not a valid regex",
            );
            return None;
        }
        ok.then_some(condition)
    }
}
