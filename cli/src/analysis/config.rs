//! The `config!` invocation of a route file, read with the grammar documented in
//! `nextr::config`: literal `key: value` pairs, each key at most once.

use std::collections::HashMap;

use nextr::config::{parse_bytes, BodyParser, Disabled, ResponseLimit, RouteConfig, SizeLimit};
use nextr::routing::Router;
use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::parse::Parser;
use syn::{Ident, Macro};

mod segment;
pub(super) mod syntax;

use syntax::{parse_entries, Value};

use super::diagnostic::{router_title, suggest, Problem, RouteDiagnostic, SourceFile};
use nextr::limits::{LAMBDA_MEMORY_MB, LAMBDA_TIMEOUT_S};
use nextr::manifest::Front;
use nextr_infra::limits::over_gateway;

/// The keys of `config!` in a Pages Router file (Next's `export const config = { api: … }`).
pub const PAGES_CONFIG_KEYS: &[&str] = &[
    "max_duration",
    "memory",
    "body_parser",
    "response_limit",
    "external_resolver",
];

/// The keys of `config!` in an App Router route file (Next's segment config).
pub const APP_CONFIG_KEYS: &[&str] = &["max_duration", "memory", "dynamic", "revalidate"];

/// The keys of `config!` in a file of `router`.
fn keys_of(router: Router) -> &'static [&'static str] {
    match router {
        Router::Pages => PAGES_CONFIG_KEYS,
        Router::App => APP_CONFIG_KEYS,
    }
}

/// The router owning a key the other router's files do not take.
fn owner_of(key: &str) -> Option<Router> {
    [Router::Pages, Router::App]
        .into_iter()
        .find(|r| keys_of(*r).contains(&key))
}

/// The key of `proxy.rs`'s `config!`, refused in route files.
pub const MATCHER_KEY: &str = "matcher";

/// Next's segment config key nextr refuses: every route is a Rust Lambda function.
const RUNTIME_KEY: &str = "runtime";

/// The keys of `body_parser: { … }`.
pub const BODY_PARSER_KEYS: &[&str] = &["size_limit"];

/// True when a macro path names the config macro: `config!`, `nextr::config!`.
pub fn is_config_macro(mac: &Macro) -> bool {
    let segments: Vec<String> = mac
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    match segments.as_slice() {
        [only] => only == "config",
        [krate, name] => krate == "nextr" && name == "config",
        _ => false,
    }
}

pub(super) fn list(keys: &[&str]) -> String {
    keys.iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads the tokens of one `config!` invocation of a file of `router`, pushing every problem
/// found; `front` is the route's, whose timeout bounds `max_duration`.
pub fn read(
    file: &SourceFile,
    mac: &Macro,
    front: Front,
    router: Router,
    out: &mut Vec<RouteDiagnostic>,
) -> RouteConfig {
    let mut config = RouteConfig::default();
    let entries = match parse_entries.parse2(mac.tokens.clone()) {
        Ok(entries) => entries,
        Err(e) => {
            out.push(
                RouteDiagnostic::at(
                    file,
                    Problem::ConfigSyntax(e.to_string()),
                    file.range(e.span()),
                    e.to_string(),
                )
                .with_help(
                    "write `key: value` pairs separated by commas, e.g. `max_duration: 10, body_parser: { size_limit: \"500kb\" }`",
                ),
            );
            return config;
        }
    };
    let mut reader = Reader { file, out };
    let mut seen: HashMap<String, Span> = HashMap::new();
    for entry in &entries {
        let key = entry.key.unraw().to_string();
        if key == RUNTIME_KEY {
            reader.out.push(
                RouteDiagnostic::at(
                    file,
                    Problem::ConfigRuntime,
                    file.range(entry.key.span()),
                    "not a nextr setting",
                )
                .with_help("remove `runtime`; `max_duration` and `memory` size the function"),
            );
            continue;
        }
        if key == MATCHER_KEY {
            reader.out.push(
                RouteDiagnostic::at(
                    file,
                    Problem::ConfigMatcherInRoute,
                    file.range(entry.key.span()),
                    "proxy.rs only",
                )
                .with_help("move `matcher` to the `config!` of `proxy.rs` at the app root: it chooses the requests the proxy runs for"),
            );
            continue;
        }
        let allowed = keys_of(router);
        if let Some(owner) = owner_of(&key).filter(|_| !allowed.contains(&key.as_str())) {
            let fix = match router {
                Router::Pages => {
                    "remove it, or move the route to an App Router file `app/…/route.rs`"
                }
                Router::App => {
                    "remove it: an App route handler reads its body itself (`req.json()`, `req.text()`, `req.bytes()`) and answers with whatever `Response` it returns"
                }
            };
            reader.out.push(
                RouteDiagnostic::at(
                    file,
                    Problem::ConfigOtherRouter {
                        key: key.clone(),
                        router,
                        owner,
                    },
                    file.range(entry.key.span()),
                    format!("{} Router only", router_title(owner)),
                )
                .with_help(fix),
            );
            continue;
        }
        if !reader.check_key(&entry.key, "config!", allowed, &mut seen) {
            continue;
        }
        match key.as_str() {
            "max_duration" => {
                config.max_duration =
                    reader.ranged(&key, &entry.value, LAMBDA_TIMEOUT_S, "seconds");
                if let Some(reason) = config.max_duration.and_then(|v| over_gateway(v, front)) {
                    let value = config.max_duration.unwrap_or_default();
                    let limit = front.max_duration_s();
                    reader.out.push(
                        RouteDiagnostic::at(
                            file,
                            Problem::MaxDurationOverGateway { value, reason },
                            file.range(entry.value.span()),
                            format!("more than the gateway's {limit} s"),
                        )
                        .with_help(format!("write `max_duration: {limit}` or less")),
                    );
                }
            }
            "memory" => config.memory = reader.ranged(&key, &entry.value, LAMBDA_MEMORY_MB, "MB"),
            "body_parser" => {
                if let Some(b) = reader.body_parser(&entry.value) {
                    config.body_parser = b;
                }
            }
            "response_limit" => {
                if let Some(r) = reader.response_limit(&entry.value) {
                    config.response_limit = r;
                }
            }
            "external_resolver" => {
                if let Some(b) = reader.boolean(&key, &entry.value) {
                    config.external_resolver = b;
                }
            }
            "dynamic" => config.dynamic = reader.dynamic(&entry.value),
            "revalidate" => config.revalidate = reader.revalidate(&entry.value),
            _ => {}
        }
    }
    config
}

struct Reader<'a> {
    file: &'a SourceFile,
    out: &'a mut Vec<RouteDiagnostic>,
}

impl Reader<'_> {
    /// Reports unknown and repeated keys; true when the entry should be read.
    fn check_key(
        &mut self,
        key: &Ident,
        table: &'static str,
        allowed: &'static [&'static str],
        seen: &mut HashMap<String, Span>,
    ) -> bool {
        check_key(self.file, self.out, key, table, allowed, seen)
    }

    fn wrong_type(&mut self, key: &str, expected: &'static str, value: &Value) {
        let problem = match value {
            Value::Other { literal: false, .. } => Problem::ConfigNotLiteral(key.to_owned()),
            _ => Problem::ConfigWrongType {
                key: key.to_owned(),
                expected,
                found: value.describe(),
            },
        };
        let label = match &problem {
            Problem::ConfigNotLiteral(_) => format!("write {expected} here"),
            _ => format!("expected {expected}"),
        };
        self.out.push(RouteDiagnostic::at(
            self.file,
            problem,
            self.file.range(value.span()),
            label,
        ));
    }

    fn ranged(
        &mut self,
        key: &str,
        value: &Value,
        range: std::ops::RangeInclusive<u32>,
        unit: &'static str,
    ) -> Option<u32> {
        let (min, max) = (*range.start(), *range.end());
        let expected = if unit == "MB" {
            "an integer number of MB"
        } else {
            "an integer number of seconds"
        };
        let Value::Int {
            digits,
            negative,
            span,
        } = value
        else {
            self.wrong_type(key, expected, value);
            return None;
        };
        match digits.parse::<u32>() {
            Ok(n) if !*negative && (min..=max).contains(&n) => Some(n),
            _ => {
                let written = format!("{}{digits}", if *negative { "-" } else { "" });
                self.out.push(RouteDiagnostic::at(
                    self.file,
                    Problem::ConfigOutOfRange {
                        key: key.to_owned(),
                        value: written,
                        min,
                        max,
                        unit,
                    },
                    self.file.range(*span),
                    format!("{min}–{max} {unit}"),
                ));
                None
            }
        }
    }

    fn boolean(&mut self, key: &str, value: &Value) -> Option<bool> {
        match value {
            Value::Bool { value, .. } => Some(*value),
            _ => {
                self.wrong_type(key, "`true` or `false`", value);
                None
            }
        }
    }

    /// A size: a string such as `"500kb"` or a number of bytes.
    fn size(&mut self, key: &str, value: &Value, expected: &'static str) -> Option<SizeLimit> {
        match value {
            Value::Str { value: text, span } => {
                if parse_bytes(text).is_some() {
                    Some(SizeLimit::Text(text.clone()))
                } else {
                    self.out.push(
                        RouteDiagnostic::at(
                            self.file,
                            Problem::ConfigBadSize {
                                key: key.to_owned(),
                                value: text.clone(),
                            },
                            self.file.range(*span),
                            "not a size",
                        )
                        .with_help(
                            "write a number with an optional unit (b, kb, mb, gb), such as \"500kb\" or \"1.5mb\"",
                        ),
                    );
                    None
                }
            }
            Value::Int {
                digits,
                negative: false,
                span,
            } => match digits.parse::<u64>() {
                Ok(n) => Some(SizeLimit::Bytes(n)),
                Err(_) => {
                    self.out.push(RouteDiagnostic::at(
                        self.file,
                        Problem::ConfigBadSize {
                            key: key.to_owned(),
                            value: digits.clone(),
                        },
                        self.file.range(*span),
                        "too large",
                    ));
                    None
                }
            },
            Value::Int { span, digits, .. } => {
                self.out.push(RouteDiagnostic::at(
                    self.file,
                    Problem::ConfigBadSize {
                        key: key.to_owned(),
                        value: format!("-{digits}"),
                    },
                    self.file.range(*span),
                    "a size cannot be negative",
                ));
                None
            }
            _ => {
                self.wrong_type(key, expected, value);
                None
            }
        }
    }

    fn body_parser(&mut self, value: &Value) -> Option<BodyParser> {
        const EXPECTED: &str = "`true`, `false` or `{ size_limit: … }`";
        match value {
            Value::Bool { value: true, .. } => Some(BodyParser::default()),
            Value::Bool { value: false, .. } => Some(BodyParser::Disabled(Disabled)),
            Value::Table { entries, .. } => {
                let mut seen = HashMap::new();
                let mut size_limit = None;
                for entry in entries {
                    if !self.check_key(&entry.key, "body_parser", BODY_PARSER_KEYS, &mut seen) {
                        continue;
                    }
                    size_limit = self.size(
                        "size_limit",
                        &entry.value,
                        "a size such as \"500kb\" or a number of bytes",
                    );
                }
                Some(BodyParser::Enabled { size_limit })
            }
            _ => {
                self.wrong_type("body_parser", EXPECTED, value);
                None
            }
        }
    }

    fn response_limit(&mut self, value: &Value) -> Option<ResponseLimit> {
        match value {
            Value::Bool { value: true, .. } => Some(ResponseLimit::Default),
            Value::Bool { value: false, .. } => Some(ResponseLimit::Disabled(Disabled)),
            _ => self
                .size(
                    "response_limit",
                    value,
                    "a size such as \"8mb\", a number of bytes, or `false`",
                )
                .map(ResponseLimit::Limit),
        }
    }
}

/// Reports an unknown key of `table` (with a did-you-mean) or one set twice; true when the
/// entry should be read. Shared by every `config!` reader (route files and `proxy.rs`).
pub(super) fn check_key(
    file: &SourceFile,
    out: &mut Vec<RouteDiagnostic>,
    key: &Ident,
    table: &'static str,
    allowed: &'static [&'static str],
    seen: &mut HashMap<String, Span>,
) -> bool {
    let name = key.unraw().to_string();
    let range = file.range(key.span());
    if !allowed.contains(&name.as_str()) {
        let suggestion = suggest(&name, allowed);
        let label = match suggestion {
            Some(s) => format!("did you mean `{s}`?"),
            None => "unknown key".to_owned(),
        };
        out.push(
            RouteDiagnostic::at(
                file,
                Problem::ConfigUnknownKey {
                    key: name,
                    table,
                    allowed,
                    suggestion,
                },
                range,
                label,
            )
            .with_help(format!("the keys of `{table}` are {}", list(allowed))),
        );
        return false;
    }
    if let Some(first) = seen.get(&name) {
        out.push(
            RouteDiagnostic::at(
                file,
                Problem::ConfigDuplicateKey(name),
                range,
                "set again here",
            )
            .with_label(file.range(*first), "first set here")
            .with_help("keep one of them"),
        );
        return false;
    }
    seen.insert(name, key.span());
    true
}
