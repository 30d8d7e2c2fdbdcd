//! Problems found in route files, as miette diagnostics with a code frame each.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceCode};

use nextr::config::Dynamic;
use nextr::routing::Router;

use crate::report::Shown;

/// A router as messages name it: "Pages", "App".
pub fn router_title(router: Router) -> &'static str {
    match router {
        Router::Pages => "Pages",
        Router::App => "App",
    }
}

/// Next's `dynamic` values as its message lists them: "`auto`, `force-dynamic`, …".
fn dynamic_values() -> String {
    Dynamic::ALL.map(|d| format!("`{}`", d.as_str())).join(", ")
}

/// "a Pages", "an App".
fn with_article(router: Router) -> &'static str {
    match router {
        Router::Pages => "a Pages",
        Router::App => "an App",
    }
}

/// The closest of `allowed` to a misspelt word, if one is close: `maxDuration` →
/// `max_duration`, `regon` → `region`, `kyes` → `keys` (a swap of two letters is one
/// edit). Case, `_` and `-` do not count.
pub fn suggest<'a>(word: &str, allowed: &[&'a str]) -> Option<&'a str> {
    let norm = |s: &str| s.to_ascii_lowercase().replace(['_', '-'], "");
    let word = norm(word);
    allowed
        .iter()
        .map(|a| (strsim::osa_distance(&word, &norm(a)), *a))
        .filter(|(d, a)| *d <= (a.len() / 3).max(1))
        .min()
        .map(|(_, a)| a)
}

/// What is wrong with a route file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// The file could not be read.
    #[error("cannot read the route file: {0}")]
    Unreadable(String),
    /// The file is not valid Rust.
    #[error("the route file is not valid Rust: {0}")]
    Syntax(String),
    /// No `handler` at the top level of the file.
    #[error("the route file has no `pub async fn handler`")]
    MissingHandler,
    /// Something named `handler` that is not a function.
    #[error("`handler` must be an async function, not {0}")]
    HandlerNotFn(&'static str),
    /// `fn handler` without `pub`.
    #[error("`handler` must be public: the generated `main` calls it from outside the file")]
    HandlerNotPublic,
    /// `fn handler` without `async`.
    #[error("`handler` must be an `async fn`")]
    HandlerNotAsync,
    /// `const`, `unsafe` or `extern` on the handler.
    #[error("`handler` cannot be `{0}`")]
    HandlerQualifier(&'static str),
    /// Type or const generics on the handler.
    #[error("`handler` cannot have type or const parameters")]
    HandlerGeneric,
    /// Not exactly two parameters.
    #[error("`handler` takes 2 parameters (the request and the response), found {0}")]
    HandlerArity(usize),
    /// A parameter of the wrong type.
    #[error("parameter {position} of `handler` must be `&mut {expected}`, found `{found}`")]
    HandlerParam {
        /// 1 or 2.
        position: usize,
        /// `NextApiRequest` or `NextApiResponse`.
        expected: &'static str,
        /// The type as written.
        found: String,
    },
    /// A return type other than `nextr::Result<()>`.
    #[error("`handler` must return `nextr::Result<()>`, found {0}")]
    HandlerReturn(String),
    /// An App Router method function (`get`) in a Pages Router file without a `handler`.
    #[error("`{0}` is an App Router method function, but this is a Pages Router file (`api/**.rs`), which defines one `handler`")]
    MethodsInPages(&'static str),
    /// A Pages Router `handler` in an App Router route file.
    #[error("`handler` is the Pages Router's entry point, but this is an App Router route file (`app/**/route.rs`), which defines one function per HTTP method")]
    PagesHandlerInApp,
    /// An App route file with no method function.
    #[error("the App Router route file defines no method function: expected at least one of `pub async fn get`, `head`, `post`, `put`, `delete`, `patch` or `options`")]
    NoMethods,
    /// `GET` instead of `get`.
    #[error("nextr names method functions in lower case: rename `{found}` to `{expected}`")]
    MethodCase {
        /// The name as written.
        found: String,
        /// The lower-case name.
        expected: &'static str,
    },
    /// A method function without `pub`.
    #[error("`{0}` must be public: the generated `main` calls it from outside the file")]
    MethodNotPublic(&'static str),
    /// A method function without `async`.
    #[error("`{0}` must be an `async fn`")]
    MethodNotAsync(&'static str),
    /// More than two parameters.
    #[error(
        "`{method}` takes at most 2 parameters (`NextRequest`, `RouteContext`), found {count}"
    )]
    MethodArity {
        /// The method function.
        method: &'static str,
        /// How many it has.
        count: usize,
    },
    /// A parameter of the wrong type.
    #[error("parameter {position} of `{method}` must be `{expected}`, found `{found}`")]
    MethodParam {
        /// The method function.
        method: &'static str,
        /// 1 or 2.
        position: usize,
        /// `NextRequest` or `RouteContext`.
        expected: &'static str,
        /// The parameter as written.
        found: String,
    },
    /// No return type, or `()`.
    #[error("`{method}` must return `Response` or `Result<Response, E>`, found {found}")]
    MethodReturn {
        /// The method function.
        method: &'static str,
        /// What it returns (`nothing`, `` `()` ``).
        found: String,
    },
    /// `config!` more than once.
    #[error("`config!` is invoked more than once; a route has one configuration")]
    ConfigRepeated,
    /// The tokens inside `config!` do not follow its grammar.
    #[error("`config!` syntax: {0}")]
    ConfigSyntax(String),
    /// A key `config!` does not know.
    #[error("unknown key `{key}` in `{table}`")]
    ConfigUnknownKey {
        /// The key as written.
        key: String,
        /// `config!` or `body_parser`.
        table: &'static str,
        /// The keys allowed there.
        allowed: &'static [&'static str],
        /// The closest allowed key, if any is close.
        suggestion: Option<&'static str>,
    },
    /// The same key twice.
    #[error("key `{0}` is set more than once")]
    ConfigDuplicateKey(String),
    /// A value that is not a literal (a constant, an expression).
    #[error("the value of `{0}` must be a literal: the build reads it without compiling")]
    ConfigNotLiteral(String),
    /// A literal of the wrong type.
    #[error("`{key}` must be {expected}, found {found}")]
    ConfigWrongType {
        /// The key.
        key: String,
        /// What the key takes.
        expected: &'static str,
        /// What was written.
        found: &'static str,
    },
    /// A `max_duration` longer than the app's gateway waits.
    #[error("`max_duration: {value}` is longer than the gateway waits: {reason}")]
    MaxDurationOverGateway {
        /// The value as written.
        value: u32,
        /// Why, and the way out (`nextr_infra::limits::over_gateway`).
        reason: String,
    },
    /// A number outside the key's range.
    #[error("`{key}` must be between {min} and {max} {unit}, found {value}")]
    ConfigOutOfRange {
        /// The key.
        key: String,
        /// The value as written.
        value: String,
        /// Smallest allowed.
        min: u32,
        /// Largest allowed.
        max: u32,
        /// `seconds` or `MB`.
        unit: &'static str,
    },
    /// `runtime` in `config!`: Next's edge/nodejs switch has no meaning for a Rust function.
    #[error("nextr runs every route as a Rust Lambda function; remove `runtime`")]
    ConfigRuntime,
    /// A key of the other router's config (`body_parser` in an App route file).
    #[error("`{key}` is {} Router configuration, and this is {} Router route file", router_title(*.owner), with_article(*.router))]
    ConfigOtherRouter {
        /// The key.
        key: String,
        /// The router of the file.
        router: Router,
        /// The router the key belongs to.
        owner: Router,
    },
    /// A `dynamic` value Next does not know, in Next's words.
    #[error("can't recognize the exported `dynamic` field in route. It has an invalid value: unknown variant `{0}`, expected one of {allowed}", allowed = dynamic_values())]
    ConfigDynamic(String),
    /// `matcher` in a route file: it belongs to `proxy.rs`.
    #[error("`matcher` is only allowed in `proxy.rs` (or `middleware.rs`), not in a route file")]
    ConfigMatcherInRoute,
    /// A route setting in `proxy.rs`, whose only key is `matcher` (Next's words, adapted).
    #[error("Route segment config is not allowed in {title} file at \"./{file}\": `{key}`. {title} always runs inside each route's function, which the route's own `config!` sizes")]
    ProxySegmentConfig {
        /// "Proxy" or "Middleware".
        title: &'static str,
        /// `proxy.rs` or `middleware.rs`.
        file: &'static str,
        /// The key.
        key: String,
    },
    /// The proxy file has no public function of its convention's name (Next's words).
    #[error("{title} is missing expected function export name")]
    ProxyMissingExport {
        /// "Proxy" or "Middleware".
        title: &'static str,
    },
    /// The proxy function is not `async`.
    #[error("`{name}` must be an `async fn`: the runtime awaits it before the route runs")]
    ProxyNotAsync {
        /// `proxy` or `middleware`.
        name: &'static str,
    },
    /// A matcher item of the wrong shape.
    #[error("{page} contains invalid middleware config: {at:?} must be {expected}, found {found}")]
    MatcherType {
        /// The proxy's page in Next's messages (`/proxy`).
        page: &'static str,
        /// Where, in Next's notation (`matcher[0].has[1]`).
        at: String,
        /// What is allowed there.
        expected: &'static str,
        /// What was written.
        found: &'static str,
    },
    /// A matcher item that is not a literal.
    #[error("{page} contains invalid middleware config: {at:?} must be a literal: `config.matcher` must be statically analysable")]
    MatcherNotLiteral {
        /// The proxy's page in Next's messages (`/proxy`).
        page: &'static str,
        /// Where.
        at: String,
    },
    /// A required field of a matcher item is absent.
    #[error("{page} contains invalid middleware config: `{field}` is required at {at:?}")]
    MatcherMissingField {
        /// The proxy's page in Next's messages (`/proxy`).
        page: &'static str,
        /// Where.
        at: String,
        /// `source` or `key`.
        field: &'static str,
    },
    /// A `has`/`missing` type Next does not know.
    #[error("{page} contains invalid middleware config: invalid `type` {found:?} at {at:?}, expected one of `header`, `query`, `cookie`, `host`")]
    MatcherConditionType {
        /// The proxy's page in Next's messages (`/proxy`).
        page: &'static str,
        /// Where.
        at: String,
        /// The type as written.
        found: String,
        /// The closest type, if one is close.
        suggestion: Option<&'static str>,
    },
    /// A source or regex that does not compile (path-to-regexp's or the regex crate's words),
    /// with where (`source must start with / at "matcher[0]"`).
    #[error("{page} contains invalid middleware config: {message}")]
    MatcherInvalid {
        /// The proxy's page in Next's messages (`/proxy`).
        page: &'static str,
        /// What is wrong, and where.
        message: String,
    },
    /// A size string that is not a size.
    #[error("`{key}` is not a size: {value:?}")]
    ConfigBadSize {
        /// The key.
        key: String,
        /// The string as written.
        value: String,
    },
}

impl Problem {
    /// A stable code for the kind of problem, shown next to the message.
    pub fn code(&self) -> &'static str {
        match self {
            Problem::Unreadable(_) => "nextr::route::unreadable",
            Problem::Syntax(_) => "nextr::route::syntax",
            Problem::MissingHandler => "nextr::handler::missing",
            Problem::HandlerNotFn(_) => "nextr::handler::not_fn",
            Problem::HandlerNotPublic => "nextr::handler::not_pub",
            Problem::HandlerNotAsync => "nextr::handler::not_async",
            Problem::HandlerQualifier(_) => "nextr::handler::qualifier",
            Problem::HandlerGeneric => "nextr::handler::generic",
            Problem::HandlerArity(_) => "nextr::handler::arity",
            Problem::HandlerParam { .. } => "nextr::handler::param",
            Problem::HandlerReturn(_) => "nextr::handler::return",
            Problem::MethodsInPages(_) => "nextr::handler::app_method",
            Problem::PagesHandlerInApp => "nextr::method::pages_handler",
            Problem::NoMethods => "nextr::method::missing",
            Problem::MethodCase { .. } => "nextr::method::case",
            Problem::MethodNotPublic(_) => "nextr::method::not_pub",
            Problem::MethodNotAsync(_) => "nextr::method::not_async",
            Problem::MethodArity { .. } => "nextr::method::arity",
            Problem::MethodParam { .. } => "nextr::method::param",
            Problem::MethodReturn { .. } => "nextr::method::return",
            Problem::ConfigRepeated => "nextr::config::repeated",
            Problem::ConfigSyntax(_) => "nextr::config::syntax",
            Problem::ConfigUnknownKey { .. } => "nextr::config::unknown_key",
            Problem::ConfigDuplicateKey(_) => "nextr::config::duplicate_key",
            Problem::ConfigNotLiteral(_) => "nextr::config::not_literal",
            Problem::ConfigWrongType { .. } => "nextr::config::type",
            Problem::ConfigOutOfRange { .. } => "nextr::config::range",
            Problem::MaxDurationOverGateway { .. } => "nextr::config::gateway_timeout",
            Problem::ConfigBadSize { .. } => "nextr::config::size",
            Problem::ConfigRuntime => "nextr::config::runtime",
            Problem::ConfigOtherRouter { .. } => "nextr::config::router",
            Problem::ConfigDynamic(_) => "nextr::config::dynamic",
            Problem::ConfigMatcherInRoute => "nextr::config::matcher",
            Problem::ProxySegmentConfig { .. } => "nextr::proxy::segment_config",
            Problem::ProxyMissingExport { .. } => "nextr::proxy::missing_export",
            Problem::ProxyNotAsync { .. } => "nextr::proxy::not_async",
            Problem::MatcherType { .. } => "nextr::proxy::matcher_type",
            Problem::MatcherNotLiteral { .. } => "nextr::proxy::not_literal",
            Problem::MatcherMissingField { .. } => "nextr::proxy::missing_field",
            Problem::MatcherConditionType { .. } => "nextr::proxy::condition_type",
            Problem::MatcherInvalid { .. } => "nextr::proxy::matcher",
        }
    }
}

/// The route file a diagnostic points into.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The file relative to the app root (`api/post/[pid].rs`), as shown in reports.
    pub name: String,
    /// The file's text (without a byte-order mark).
    pub text: Arc<str>,
    line_starts: Vec<usize>,
}

impl SourceFile {
    /// Wraps a file's text for locating spans in it.
    pub fn new(name: &str, text: &str) -> Self {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        SourceFile {
            name: name.to_owned(),
            text: Arc::from(text),
            line_starts,
        }
    }

    /// The byte offset of a proc-macro2 line (1-based) and column (0-based, in characters).
    fn offset(&self, at: proc_macro2::LineColumn) -> usize {
        // Spans made up by syn (call site) have line 0: the start of the file is the best bet.
        let Some(&start) = at.line.checked_sub(1).and_then(|l| self.line_starts.get(l)) else {
            return 0;
        };
        let line = &self.text[start..];
        let line = &line[..line.find('\n').unwrap_or(line.len())];
        start
            + line
                .char_indices()
                .nth(at.column)
                .map_or(line.len(), |(i, _)| i)
    }

    /// The byte range a span covers.
    pub fn range(&self, span: proc_macro2::Span) -> Range<usize> {
        let start = self.offset(span.start());
        let end = self.offset(span.end()).max(start);
        start..end
    }

    /// The text a span covers.
    pub fn slice(&self, span: proc_macro2::Span) -> &str {
        let r = self.range(span);
        &self.text[r]
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_column(&self, offset: usize) -> (usize, usize) {
        let line = self.line_starts.partition_point(|&s| s <= offset).max(1);
        let start = self.line_starts[line - 1];
        let column = self.text[start..offset.min(self.text.len())]
            .chars()
            .count()
            + 1;
        (line, column)
    }
}

/// One problem in one route file, with where it is and a code frame.
#[derive(Debug, Clone)]
pub struct RouteDiagnostic {
    /// What is wrong.
    pub problem: Problem,
    /// The file relative to the app root.
    pub file: String,
    /// 1-based line of the primary label (1 when there is no source).
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    labels: Vec<LabeledSpan>,
    help: Option<String>,
    source: Option<NamedSource<Arc<str>>>,
}

impl RouteDiagnostic {
    /// A problem at a span of a file, with the primary label's text.
    pub fn at(
        file: &SourceFile,
        problem: Problem,
        range: Range<usize>,
        label: impl Into<String>,
    ) -> Self {
        let (line, column) = file.line_column(range.start);
        RouteDiagnostic {
            problem,
            file: file.name.clone(),
            line,
            column,
            labels: vec![LabeledSpan::new_primary_with_span(
                Some(label.into()),
                range,
            )],
            help: None,
            source: Some(
                NamedSource::new(Shown(&file.name).to_string(), file.text.clone())
                    .with_language("Rust"),
            ),
        }
    }

    /// A problem with the file as a whole, when there is no text to point into.
    pub fn whole_file(file: &str, problem: Problem) -> Self {
        RouteDiagnostic {
            problem,
            file: file.to_owned(),
            line: 1,
            column: 1,
            labels: Vec::new(),
            help: None,
            source: None,
        }
    }

    /// Adds a secondary label, such as where a duplicate key was first set.
    pub fn with_label(mut self, range: Range<usize>, label: impl Into<String>) -> Self {
        self.labels
            .push(LabeledSpan::new_with_span(Some(label.into()), range));
        self
    }

    /// Adds advice on how to fix it.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// `file:line:col`.
    pub fn location(&self) -> String {
        format!("{}:{}:{}", Shown(&self.file), self.line, self.column)
    }
}

impl fmt::Display for RouteDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.source.is_some() {
            self.problem.fmt(f)
        } else {
            // No code frame will carry the location, so the message does.
            write!(f, "{}: {}", self.file, self.problem)
        }
    }
}

impl std::error::Error for RouteDiagnostic {}

impl Diagnostic for RouteDiagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.problem.code()))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            return None;
        }
        Some(Box::new(self.labels.iter().cloned()))
    }
}

/// Every problem of every route file, for one report.
#[derive(Debug, Clone)]
pub struct AnalysisReport {
    /// The problems, file by file in route order, each file's in source order.
    pub diagnostics: Vec<RouteDiagnostic>,
}

impl AnalysisReport {
    /// One report per route file, in the order of the files' first problems (route order):
    /// each route of a `nextr dev` build carries its own.
    pub fn split_by_file(self) -> Vec<(String, AnalysisReport)> {
        let mut files: Vec<(String, AnalysisReport)> = Vec::new();
        for d in self.diagnostics {
            match files.iter_mut().find(|(file, _)| *file == d.file) {
                Some((_, report)) => report.diagnostics.push(d),
                None => files.push((
                    d.file.clone(),
                    AnalysisReport {
                        diagnostics: vec![d],
                    },
                )),
            }
        }
        files
    }
}

impl fmt::Display for AnalysisReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.diagnostics.len();
        let mut files: Vec<&str> = self.diagnostics.iter().map(|d| d.file.as_str()).collect();
        files.sort_unstable();
        files.dedup();
        // The proxy file is no route file: it is named instead of counted.
        let (proxy, routes): (Vec<&str>, Vec<&str>) = files
            .into_iter()
            .partition(|file| crate::project::PROXY_FILES.contains(file));
        let m = routes.len();
        write!(f, "{n} problem{} in ", if n == 1 { "" } else { "s" })?;
        if m > 0 {
            write!(f, "{m} route file{}", if m == 1 { "" } else { "s" })?;
        }
        if let Some(proxy) = proxy.first() {
            let and = if m > 0 { " and " } else { "" };
            write!(f, "{and}{proxy}")?;
        }
        Ok(())
    }
}

impl std::error::Error for AnalysisReport {}

impl Diagnostic for AnalysisReport {
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        Some(Box::new(
            self.diagnostics.iter().map(|d| d as &dyn Diagnostic),
        ))
    }
}
