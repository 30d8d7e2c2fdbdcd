//! The App Router's segment config keys of `config!`: `dynamic` and `revalidate`.

use nextr::config::{Disabled, Dynamic, Revalidate};

use super::syntax::Value;
use super::{list, suggest, Reader};
use crate::analysis::diagnostic::{Problem, RouteDiagnostic};

impl Reader<'_> {
    /// `dynamic`: one of Next's four strings, refused in Next's words otherwise.
    pub(super) fn dynamic(&mut self, value: &Value) -> Option<Dynamic> {
        let Value::Str { value: text, span } = value else {
            self.wrong_type("dynamic", "a string such as \"force-static\"", value);
            return None;
        };
        if let Some(d) = Dynamic::parse(text) {
            return Some(d);
        }
        let allowed = Dynamic::ALL.map(Dynamic::as_str);
        let mut d = RouteDiagnostic::at(
            self.file,
            Problem::ConfigDynamic(text.clone()),
            self.file.range(*span),
            "invalid value",
        );
        d = match suggest(text, &allowed) {
            Some(s) => d.with_help(format!("did you mean \"{s}\"?")),
            None => d.with_help(format!("write one of {}", list(&allowed))),
        };
        self.out.push(d);
        None
    }

    /// `revalidate`: `false`, or a number of seconds (0 means dynamic).
    pub(super) fn revalidate(&mut self, value: &Value) -> Option<Revalidate> {
        const EXPECTED: &str = "`false` or an integer number of seconds";
        match value {
            Value::Bool { value: false, .. } => Some(Revalidate::Never(Disabled)),
            Value::Bool { value: true, span } => {
                self.out.push(
                    RouteDiagnostic::at(
                        self.file,
                        Problem::ConfigWrongType {
                            key: "revalidate".into(),
                            expected: EXPECTED,
                            found: "`true`",
                        },
                        self.file.range(*span),
                        format!("expected {EXPECTED}"),
                    )
                    .with_help(
                        "write `revalidate: false` to cache for ever, or a number of seconds",
                    ),
                );
                None
            }
            Value::Int {
                digits,
                negative,
                span,
            } => match digits.parse::<u32>() {
                Ok(n) if !*negative => Some(Revalidate::Seconds(n)),
                _ => {
                    self.out.push(RouteDiagnostic::at(
                        self.file,
                        Problem::ConfigOutOfRange {
                            key: "revalidate".into(),
                            value: format!("{}{digits}", if *negative { "-" } else { "" }),
                            min: 0,
                            max: u32::MAX,
                            unit: "seconds",
                        },
                        self.file.range(*span),
                        "0 or more seconds",
                    ));
                    None
                }
            },
            _ => {
                self.wrong_type("revalidate", EXPECTED, value);
                None
            }
        }
    }
}
