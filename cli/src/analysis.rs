//! Route-file analysis: each route file is parsed with `syn` (never compiled) to check its
//! `handler` (a Pages file) or its method functions (an App file) and to read its `config!`, so that mistakes are reported at once, with a code
//! frame, for every file — before a build that would stop at the first.

use std::path::Path;

use nextr::config::RouteConfig;
use nextr::manifest::Front;
use nextr::routing::{RouteTable, Router};
use syn::spanned::Spanned;
use syn::Item;

use crate::project::ProxyFile;

mod config;
mod diagnostic;
mod handler;
mod methods;
pub mod proxy;

pub use diagnostic::{suggest, AnalysisReport, Problem, RouteDiagnostic, SourceFile};
pub use methods::{get_only, Arity, Method, MethodFn};
pub use proxy::{analyze_proxy, ProxyAnalysis};

/// What the build takes from one route file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteAnalysis {
    /// The file relative to the app root (`api/post/[pid].rs`).
    pub file: String,
    /// The router the file belongs to.
    pub router: Router,
    /// An App route file's method functions, in [`Method::ALL`]'s order (none for Pages).
    pub methods: Vec<MethodFn>,
    /// The configuration declared by `config!` (the defaults without one).
    pub config: RouteConfig,
    /// True when the file invokes `config!`, so the generated `main` calls `route::config()`.
    pub declares_config: bool,
}

/// Analyses the text of one route file of `router` behind `front` (which bounds its
/// `max_duration`); `file` names it in diagnostics.
pub fn analyze_source(
    file: &str,
    text: &str,
    router: Router,
    front: Front,
) -> Result<RouteAnalysis, Vec<RouteDiagnostic>> {
    let source = SourceFile::new(file, text);
    let mut out = Vec::new();
    let parsed = parse_rust(&source)?;

    let mut config = RouteConfig::default();
    let mut first_config: Option<proc_macro2::Span> = None;
    for item in &parsed.items {
        let Item::Macro(m) = item else { continue };
        if !config::is_config_macro(&m.mac) {
            continue;
        }
        let span = m.mac.path.span();
        match first_config {
            None => {
                first_config = Some(span);
                config = config::read(&source, &m.mac, front, router, &mut out);
            }
            Some(first) => out.push(
                RouteDiagnostic::at(
                    &source,
                    Problem::ConfigRepeated,
                    source.range(span),
                    "again here",
                )
                .with_label(source.range(first), "first here")
                .with_help("merge the keys into one `config!`"),
            ),
        }
    }
    let methods = match router {
        Router::Pages => {
            handler::check(&source, &parsed.items, &mut out);
            Vec::new()
        }
        Router::App => methods::check(&source, &parsed.items, &mut out),
    };

    if !out.is_empty() {
        out.sort_by_key(|d| (d.line, d.column));
        return Err(out);
    }
    Ok(RouteAnalysis {
        file: file.to_owned(),
        router,
        methods,
        config,
        declares_config: first_config.is_some(),
    })
}

/// Parses a file's text as Rust, or says where it is not (one diagnostic).
fn parse_rust(source: &SourceFile) -> Result<syn::File, Vec<RouteDiagnostic>> {
    syn::parse_file(&source.text).map_err(|e| {
        let message = match e.to_string() {
            // proc-macro2's lexer error says nothing about the cause.
            m if m == "cannot parse string into token stream" => {
                "a delimiter (`(`, `[`, `{`), string or block comment is not closed".to_owned()
            }
            m => m,
        };
        vec![RouteDiagnostic::at(
            source,
            Problem::Syntax(message),
            source.range(e.span()),
            "here",
        )]
    })
}

/// Analyses every route of the app at `root` (each behind `front(page)`), in the table's
/// order, collecting the problems of all files into one report. The build itself uses
/// [`analyze_routes_partially`], which also serves `nextr dev`'s builds.
#[cfg(test)]
pub fn analyze_routes(
    root: &Path,
    table: &RouteTable,
    front: impl Fn(&str) -> Front,
) -> Result<Vec<RouteAnalysis>, AnalysisReport> {
    match analyze_routes_partially(root, table, front) {
        (analyses, None) => Ok(analyses),
        (_, Some(report)) => Err(report),
    }
}

/// [`analyze_routes`], keeping the analyses of the files without problems beside the report
/// of the others: what a `nextr dev` build that leaves broken routes out works from.
pub fn analyze_routes_partially(
    root: &Path,
    table: &RouteTable,
    front: impl Fn(&str) -> Front,
) -> (Vec<RouteAnalysis>, Option<AnalysisReport>) {
    let mut analyses = Vec::new();
    let mut diagnostics = Vec::new();
    let app = canonical_root(root);
    for route in table.routes() {
        let result = read_source(&app, root, &route.file)
            .and_then(|text| analyze_source(&route.file, &text, route.router, front(route.page())));
        match result {
            Ok(a) => analyses.push(a),
            Err(mut d) => diagnostics.append(&mut d),
        }
    }
    let report = (!diagnostics.is_empty()).then_some(AnalysisReport { diagnostics });
    (analyses, report)
}

/// The app folder as [`read_source`] compares paths with it.
fn canonical_root(root: &Path) -> std::path::PathBuf {
    std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf())
}

/// The text of the app file `file` (relative to `root`, whose canonical path is `app`), or
/// why it cannot be analysed. The scan refuses links out of the app; a file from elsewhere is
/// checked again, so a file outside the app is never read (its text would show in
/// diagnostics).
fn read_source(app: &Path, root: &Path, file: &str) -> Result<String, Vec<RouteDiagnostic>> {
    let path = root.join(file);
    let read = match crate::project::inside_app(app, &path) {
        Err(e @ crate::project::ProjectError::OutsideApp { .. }) => Err(e.to_string()),
        _ => std::fs::read(&path).map_err(|e| e.to_string()),
    };
    let unreadable = |e| vec![RouteDiagnostic::whole_file(file, Problem::Unreadable(e))];
    String::from_utf8(read.map_err(unreadable)?)
        .map_err(|_| unreadable("the file is not valid UTF-8".into()))
}

/// Analyses the app's proxy file (found by [`crate::project::find_proxy`]) at `root`.
pub fn analyze_proxy_file(
    root: &Path,
    proxy: &ProxyFile,
) -> Result<ProxyAnalysis, Vec<RouteDiagnostic>> {
    let file = proxy.file();
    analyze_proxy(file, &read_source(&canonical_root(root), root, file)?)
}

#[cfg(test)]
mod app_tests;
#[cfg(test)]
mod proxy_tests;
#[cfg(test)]
mod tests;
