//! Problems in `nextr.toml` as miette diagnostics with a code frame each, drawn by the same
//! renderer as route-file problems (`crate::report::render`).

use std::fmt;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceCode};

use crate::analysis::SourceFile;
use crate::report::Shown;

/// One problem in `nextr.toml`, with where it is and a code frame.
#[derive(Debug, Clone)]
pub struct ConfigDiagnostic {
    /// A stable code for the kind of problem (`nextr::toml::unknown_key`).
    pub code: &'static str,
    /// The key at fault as written (`memory`, `routes."/api/x".env`), if any.
    pub key: Option<String>,
    /// What is wrong, in plain words.
    pub message: String,
    /// The file as shown (`nextr.toml`).
    pub file: String,
    /// 1-based line of the problem.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    label: Option<LabeledSpan>,
    help: Option<String>,
    source: Option<NamedSource<Arc<str>>>,
}

impl ConfigDiagnostic {
    /// A problem at a byte range of the file, with the label under it.
    pub fn at(
        file: &SourceFile,
        code: &'static str,
        span: Range<usize>,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> Self {
        let (line, column) = file.line_column(span.start);
        ConfigDiagnostic {
            code,
            key: None,
            message: message.into(),
            file: file.name.clone(),
            line,
            column,
            label: Some(LabeledSpan::new_primary_with_span(Some(label.into()), span)),
            help: None,
            source: Some(
                NamedSource::new(Shown(&file.name).to_string(), file.text.clone())
                    .with_language("TOML"),
            ),
        }
    }

    /// A problem with no text to point into (the app has no `nextr.toml`).
    pub fn unplaced(file: &str, code: &'static str, message: impl Into<String>) -> Self {
        ConfigDiagnostic {
            code,
            key: None,
            message: message.into(),
            file: file.to_owned(),
            line: 1,
            column: 1,
            label: None,
            help: None,
            source: None,
        }
    }

    /// Names the key at fault.
    pub fn with_key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Adds advice on how to fix it.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// `nextr.toml:line:col`.
    pub fn location(&self) -> String {
        format!("{}:{}:{}", Shown(&self.file), self.line, self.column)
    }

    /// The byte offset the problem starts at (0 without a place), to order a report.
    fn offset(&self) -> usize {
        self.label.as_ref().map_or(0, |l| l.offset())
    }
}

impl fmt::Display for ConfigDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", Shown(&self.message))
    }
}

impl std::error::Error for ConfigDiagnostic {}

impl Diagnostic for ConfigDiagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(Shown(h)) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let label = self.label.clone()?;
        Some(Box::new(std::iter::once(label)))
    }
}

/// Every problem of `nextr.toml`, for one report.
#[derive(Debug, Clone)]
pub struct ConfigReport {
    /// The file.
    pub path: PathBuf,
    /// The problems, in the order of the file.
    pub diagnostics: Vec<ConfigDiagnostic>,
}

impl ConfigReport {
    /// A report of these problems, ordered as they appear in the file.
    pub fn new(path: PathBuf, mut diagnostics: Vec<ConfigDiagnostic>) -> Self {
        diagnostics.sort_by_key(ConfigDiagnostic::offset);
        ConfigReport { path, diagnostics }
    }

    /// One line per problem, `nextr.toml:line:col: message`: the report without code frames.
    pub fn lines(&self) -> Vec<String> {
        self.diagnostics
            .iter()
            .map(|d| format!("{}: {d}", d.location()))
            .collect()
    }
}

impl fmt::Display for ConfigReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.diagnostics.len();
        let file = self
            .diagnostics
            .first()
            .map_or_else(|| self.path.display().to_string(), |d| d.file.clone());
        write!(
            f,
            "{n} problem{} in {}",
            if n == 1 { "" } else { "s" },
            Shown(file)
        )
    }
}

impl std::error::Error for ConfigReport {}

impl Diagnostic for ConfigReport {
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        Some(Box::new(
            self.diagnostics.iter().map(|d| d as &dyn Diagnostic),
        ))
    }
}
