//! The route table: every route of an app, validated, in Next's order, with a trie matcher.

use std::cmp::Ordering;
use std::collections::HashMap;

use serde::Serialize;

use super::complete::{complete, path_segments, Matched};
use super::error::{RouteError, TreeError, TreeProblem};
use super::file::{app_route_path, route_for_file, route_name};
use super::pattern::{
    check_repeated_slug, classify_segment, param_inside_segment, MalformedEscape, Param, RouteKind,
    RoutePattern, Segment, SegmentSyntax,
};
use super::query::Query;
use super::router::Router;
use super::search::{complete_app, AppMatched};
use super::target::{normalize, Normalized};

/// One route: a file and the pattern it serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The page pattern, e.g. `/api/post/[pid]`.
    pub pattern: RoutePattern,
    /// The route file relative to the app root, with `/` separators.
    pub file: String,
    /// The router the file belongs to, which decides the request and response behaviour.
    pub router: Router,
}

impl Route {
    /// The page pattern as a string.
    pub fn page(&self) -> &str {
        self.pattern.page()
    }

    /// The route's name as Next lists it: the page pattern, except that an App folder named
    /// `%5F…` keeps that spelling (it serves a URL segment starting with `_`).
    pub fn name(&self) -> String {
        route_name(self.router, &self.file, self.page())
    }

    /// The route's kind (static, dynamic, catch-all, optional catch-all).
    pub fn kind(&self) -> RouteKind {
        self.pattern.kind()
    }
}

/// Serialisable summary of a route for `nextr routes --json`.
#[derive(Debug, Clone, Serialize)]
pub struct RouteSummary<'a> {
    /// The router the route belongs to.
    pub router: Router,
    /// Page pattern.
    pub page: &'a str,
    /// Route file.
    pub file: &'a str,
    /// Route kind.
    pub kind: RouteKind,
    /// Parameters in path order.
    pub params: Vec<Param>,
}

/// A slug name claimed at a tree node, with the file that claimed it first.
#[derive(Debug, Clone)]
struct Slug {
    name: String,
    file: usize,
}

/// A node of the route tree (Next's `UrlNode`), reused as the matching trie.
#[derive(Debug, Default, Clone)]
struct Node {
    /// Index of the route whose pattern ends here.
    route: Option<usize>,
    statics: HashMap<String, Node>,
    dynamic: Option<(Slug, Box<Node>)>,
    catch_all: Option<(Slug, Box<Node>)>,
    optional: Option<(Slug, Box<Node>)>,
    /// The first file with a literal `[]` segment here. Next's tree builder takes `[]` for a
    /// dynamic slot named `""` (so `[]` next to `[x]` is "different slug names"), while its
    /// matcher treats it as literal text.
    empty_slug: Option<usize>,
}

/// The validated set of routes of one app, in Next's precedence order (`getSortedRoutes`).
#[derive(Debug, Clone)]
pub struct RouteTable {
    routes: Vec<Route>,
    /// Exact raw pathname → route, for static routes and dynamic pattern strings.
    pages: HashMap<String, usize>,
    root: Node,
    /// Whether any route is a Pages Router route, which changes Next's answer to a malformed
    /// escape in an App route (400 with `pages/`, 500 without).
    has_pages: bool,
}

impl RouteTable {
    /// Builds the table from the files under an app root (paths relative to it, `/`-separated).
    ///
    /// Files of both routers go into one tree, so precedence and the tree rules apply across
    /// them, as in Next. Files that are not routes (see [`route_for_file`]) are ignored. Every
    /// invalid-tree rule of Next is applied, plus nextr's duplicate rule, and **all** problems
    /// are reported.
    pub fn from_files<I, S>(files: I) -> Result<Self, TreeError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut entries: Vec<(String, String, Router)> = files
            .into_iter()
            .filter_map(|f| {
                let f = f.as_ref();
                route_for_file(f).map(|(router, p)| (f.to_owned(), p, router))
            })
            .collect();
        entries.sort();
        entries.dedup();
        let files: Vec<String> = entries.iter().map(|(f, _, _)| f.clone()).collect();

        let mut problems = Vec::new();
        let mut by_page: HashMap<&str, usize> = HashMap::new();
        let mut root = Node::default();
        let mut patterns: Vec<Option<RoutePattern>> = vec![None; entries.len()];
        for (idx, (file, page, router)) in entries.iter().enumerate() {
            if let Some(&other) = by_page.get(page.as_str()) {
                problems.push(TreeProblem {
                    files: vec![files[other].clone(), file.clone()],
                    error: same_page(&entries[other], &entries[idx]),
                });
                continue;
            }
            by_page.insert(page, idx);
            let worded = |e: RouteError| match router {
                Router::App => e.in_app_route(page),
                Router::Pages => e,
            };
            match insert(&mut root, page, idx).map_err(|(e, o)| (worded(e), o)) {
                Ok(()) => match RoutePattern::parse(page).map_err(worded) {
                    Ok(p) => match inner_param(&p) {
                        None => patterns[idx] = Some(p),
                        Some(error) => problems.push(TreeProblem {
                            files: vec![file.clone()],
                            error,
                        }),
                    },
                    Err(error) => problems.push(TreeProblem {
                        files: vec![file.clone()],
                        error,
                    }),
                },
                Err((error, mut others)) => {
                    others.retain(|o| *o != idx);
                    let mut involved = vec![file.clone()];
                    involved.extend(others.into_iter().map(|o| files[o].clone()));
                    problems.push(TreeProblem {
                        files: involved,
                        error,
                    });
                }
            }
        }

        let mut order = Vec::with_capacity(entries.len());
        smoosh(&root, "/", &files, &mut order, &mut problems);
        if !problems.is_empty() {
            return Err(TreeError { problems });
        }

        let mut position = vec![usize::MAX; entries.len()];
        let mut routes = Vec::with_capacity(order.len());
        for (pos, &idx) in order.iter().enumerate() {
            position[idx] = pos;
            let pattern = patterns[idx].take().ok_or_else(|| TreeError {
                problems: vec![TreeProblem {
                    files: vec![files[idx].clone()],
                    error: RouteError::EmptySegment(entries[idx].1.clone()),
                }],
            })?;
            routes.push(Route {
                pattern,
                file: files[idx].clone(),
                router: entries[idx].2,
            });
        }
        renumber(&mut root, &position);
        let pages = routes
            .iter()
            .enumerate()
            .map(|(i, r)| (r.page().to_owned(), i))
            .collect();
        let has_pages = routes.iter().any(|r| r.router == Router::Pages);
        Ok(RouteTable {
            routes,
            pages,
            root,
            has_pages,
        })
    }

    /// The routes in precedence order.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// JSON-friendly summaries in precedence order.
    pub fn summaries(&self) -> Vec<RouteSummary<'_>> {
        self.routes
            .iter()
            .map(|r| RouteSummary {
                router: r.router,
                page: r.page(),
                file: &r.file,
                kind: r.kind(),
                params: r.pattern.params().collect(),
            })
            .collect()
    }

    /// The route that serves a raw request target, found as [`resolve`](Self::resolve) finds
    /// it but without completing its params (a malformed escape is the route's own answer);
    /// `None` when no route does, or when Next would redirect the target (308).
    pub fn route_for(&self, target: &str) -> Option<&Route> {
        let Ok(Normalized::Path { pathname, query }) = normalize(target) else {
            return None;
        };
        let (route, view) = self.locate(&pathname, query)?;
        // `None`: the pattern does not take the path after all (`resolve`'s 404).
        view.map(|_| route)
    }

    /// Resolves one raw request target exactly as `next start` does.
    pub fn resolve(&self, target: &str) -> Resolution<'_> {
        let (pathname, raw_query) = match normalize(target) {
            Err(_) => return Resolution::BadRequest,
            Ok(Normalized::Redirect(location)) => return Resolution::Redirect(location),
            Ok(Normalized::Path { pathname, query }) => (pathname, query),
        };
        let Some((route, view)) = self.locate(&pathname, raw_query) else {
            return Resolution::NotFound;
        };
        match view {
            Some(Ok(view)) => Resolution::Route(RouteMatch { route, view }),
            Some(Err(_)) if self.has_pages => Resolution::BadRequest,
            Some(Err(_)) => Resolution::ServerError,
            None => Resolution::NotFound,
        }
    }
}

impl RouteTable {
    /// The route a normalised path reaches, and its router's view of the request (`None`
    /// when the pattern does not take the path; `Err` for a malformed escape in a param).
    #[allow(clippy::type_complexity)]
    fn locate(
        &self,
        pathname: &str,
        raw_query: &str,
    ) -> Option<(&Route, Option<Result<MatchedView, MalformedEscape>>)> {
        let (idx, literal) = match self.pages.get(pathname) {
            Some(&idx) => (idx, true),
            None => (find(&self.root, &path_segments(pathname), 0)?, false),
        };
        let route = self.routes.get(idx)?;
        let view = match route.router {
            Router::Pages => complete(&route.pattern, pathname, raw_query, literal)
                .map(|r| r.map(MatchedView::Pages)),
            Router::App => complete_app(&route.pattern, pathname, raw_query, literal)
                .map(|r| r.map(MatchedView::App)),
        };
        Some((route, view))
    }
}

/// Why two files for one page are refused: Next's words for App and Pages together and for two
/// App files (route groups), nextr's duplicate rule for two Pages files.
fn same_page(first: &(String, String, Router), second: &(String, String, Router)) -> RouteError {
    let (first_file, page, first_router) = first;
    let (second_file, _, second_router) = second;
    match (first_router, second_router) {
        (Router::App, Router::App) => RouteError::ConflictingAppRoutes(
            page.clone(),
            app_route_path(second_file).to_owned(),
            app_route_path(first_file).to_owned(),
        ),
        (Router::Pages, Router::Pages) => RouteError::Duplicate(page.clone()),
        _ => RouteError::AppAndPages(page.clone()),
    }
}

/// A literal segment of a dynamic route that Next would match as a parameter (`post-[id]`).
fn inner_param(pattern: &RoutePattern) -> Option<RouteError> {
    if !pattern.is_dynamic() {
        return None;
    }
    pattern.segments().iter().find_map(|segment| match segment {
        Segment::Static(s) => param_inside_segment(s)
            .map(|name| RouteError::ParamInsideSegment(s.clone(), name.to_owned())),
        _ => None,
    })
}

/// The result of resolving a request target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution<'t> {
    /// A route answers, with its `req.query` and `req.url`.
    Route(RouteMatch<'t>),
    /// 308 to this location.
    Redirect(String),
    /// No route matches.
    NotFound,
    /// A matched dynamic route's parameter has a malformed escape (in an app with Pages
    /// routes), or the target is not a path.
    BadRequest,
    /// A matched dynamic route's parameter has a malformed escape in an app without Pages
    /// routes: Next's App Router answers 500 `text/plain` "Internal Server Error".
    ServerError,
}

impl Resolution<'_> {
    /// The HTTP status Next answers with.
    pub fn status(&self) -> u16 {
        match self {
            Resolution::Route(_) => 200,
            Resolution::Redirect(_) => 308,
            Resolution::NotFound => 404,
            Resolution::BadRequest => 400,
            Resolution::ServerError => 500,
        }
    }
}

/// A request matched to a route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMatch<'t> {
    /// The route that answers.
    pub route: &'t Route,
    /// What the route's router makes of the request.
    pub view: MatchedView,
}

impl RouteMatch<'_> {
    /// The request URL the handler sees, without an origin: `req.url` (Pages) or the path and
    /// query of `request.url` (App).
    pub fn url(&self) -> &str {
        match &self.view {
            MatchedView::Pages(m) => &m.url,
            MatchedView::App(m) => &m.url,
        }
    }

    /// `req.query` for a Pages Router route; `None` for an App Router route.
    pub fn query(&self) -> Option<&Query> {
        match &self.view {
            MatchedView::Pages(m) => Some(&m.query),
            MatchedView::App(_) => None,
        }
    }
}

/// A matched request as the route's router presents it to the handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatchedView {
    /// Pages Router: `req.query` and `req.url`.
    Pages(Matched),
    /// App Router: `context.params`, `searchParams`, `request.url`, `nextUrl.pathname`.
    App(AppMatched),
}

/// First match in getSortedRoutes order: the node itself, then the static child, then the
/// `[x]`, `[...x]` and `[[...x]]` children. A depth-first walk in that order visits routes in
/// exactly the order of Next's sorted list, so its first hit is Next's first regex match.
fn find(node: &Node, path: &[&str], depth: usize) -> Option<usize> {
    if depth == path.len() {
        if let Some(r) = node.route {
            return Some(r);
        }
        return node.optional.as_ref().and_then(|(_, n)| n.route);
    }
    let segment = path[depth];
    if let Some(child) = node.statics.get(segment) {
        if let Some(r) = find(child, path, depth + 1) {
            return Some(r);
        }
    }
    if let Some((_, child)) = &node.dynamic {
        if let Some(r) = find(child, path, depth + 1) {
            return Some(r);
        }
    }
    if let Some(r) = node.catch_all.as_ref().and_then(|(_, n)| n.route) {
        return Some(r);
    }
    node.optional.as_ref().and_then(|(_, n)| n.route)
}

type InsertError = (RouteError, Vec<usize>);

/// Next's `UrlNode._insert`, one file at a time, remembering which file claimed each slug so
/// that an error can name both files.
fn insert(root: &mut Node, page: &str, idx: usize) -> Result<(), InsertError> {
    let parts: Vec<&str> = page
        .strip_prefix('/')
        .unwrap_or(page)
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let mut node = root;
    let mut slugs: Vec<String> = Vec::new();
    let mut after_catch_all = false;
    for raw in parts {
        if after_catch_all {
            return Err((RouteError::CatchAllNotLast, vec![]));
        }
        let syntax = classify_segment(raw).map_err(|e| (e, vec![]))?;
        let check = |claimed: &Option<(Slug, Box<Node>)>, name: &str, slugs: &[String]| {
            if let Some((slug, _)) = claimed {
                if slug.name != name {
                    return Err((
                        RouteError::DifferentSlugNames(slug.name.clone(), name.to_owned()),
                        vec![slug.file],
                    ));
                }
            }
            check_repeated_slug(slugs, name).map_err(|e| (e, vec![]))
        };
        node = match syntax {
            SegmentSyntax::Static if raw == "[]" => {
                check(&node.dynamic, "", &slugs)?;
                slugs.push(String::new());
                node.empty_slug.get_or_insert(idx);
                node.statics.entry(raw.to_owned()).or_default()
            }
            SegmentSyntax::Static => node.statics.entry(raw.to_owned()).or_default(),
            SegmentSyntax::Dynamic(name) => {
                if let Some(file) = node.empty_slug {
                    return Err((
                        RouteError::DifferentSlugNames(String::new(), name),
                        vec![file],
                    ));
                }
                check(&node.dynamic, &name, &slugs)?;
                slugs.push(name.clone());
                &mut node
                    .dynamic
                    .get_or_insert_with(|| (Slug { name, file: idx }, Box::default()))
                    .1
            }
            SegmentSyntax::CatchAll(name) => {
                if let Some((other, _)) = &node.optional {
                    return Err((
                        RouteError::RequiredAndOptionalCatchAll(
                            raw.to_owned(),
                            format!("[[...{}]]", other.name),
                        ),
                        vec![other.file],
                    ));
                }
                check(&node.catch_all, &name, &slugs)?;
                slugs.push(name.clone());
                after_catch_all = true;
                &mut node
                    .catch_all
                    .get_or_insert_with(|| (Slug { name, file: idx }, Box::default()))
                    .1
            }
            SegmentSyntax::OptionalCatchAll(name) => {
                if let Some((other, _)) = &node.catch_all {
                    return Err((
                        RouteError::RequiredAndOptionalCatchAll(
                            format!("[...{}]", other.name),
                            raw.to_owned(),
                        ),
                        vec![other.file],
                    ));
                }
                check(&node.optional, &name, &slugs)?;
                slugs.push(name.clone());
                after_catch_all = true;
                &mut node
                    .optional
                    .get_or_insert_with(|| (Slug { name, file: idx }, Box::default()))
                    .1
            }
        };
    }
    node.route = Some(idx);
    Ok(())
}

/// JavaScript's default sort compares UTF-16 code units.
fn utf16_cmp(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// Next's `UrlNode._smoosh`: the depth-first order of routes, and the E7 check.
fn smoosh(
    node: &Node,
    prefix: &str,
    files: &[String],
    out: &mut Vec<usize>,
    problems: &mut Vec<TreeProblem>,
) {
    if let Some(r) = node.route {
        if let Some((slug, child)) = &node.optional {
            let here = if prefix == "/" {
                "/".to_owned()
            } else {
                prefix[..prefix.len() - 1].to_owned()
            };
            let mut involved = vec![files[r].clone()];
            involved.push(files[child.route.unwrap_or(slug.file)].clone());
            problems.push(TreeProblem {
                files: involved,
                error: RouteError::SameSpecificityAsOptionalCatchAll(
                    here.clone(),
                    format!("{}/[[...{}]]", here.trim_end_matches('/'), slug.name),
                ),
            });
        }
        out.push(r);
    }
    // `[]` is ordered where Next's tree puts it: in the dynamic slot, after the static names.
    let mut keys: Vec<&String> = node.statics.keys().collect();
    keys.sort_by(|a, b| {
        (*a == "[]")
            .cmp(&(*b == "[]"))
            .then_with(|| utf16_cmp(a, b))
    });
    for key in keys {
        smoosh(
            &node.statics[key],
            &format!("{prefix}{key}/"),
            files,
            out,
            problems,
        );
    }
    if let Some((slug, child)) = &node.dynamic {
        smoosh(
            child,
            &format!("{prefix}[{}]/", slug.name),
            files,
            out,
            problems,
        );
    }
    if let Some((slug, child)) = &node.catch_all {
        smoosh(
            child,
            &format!("{prefix}[...{}]/", slug.name),
            files,
            out,
            problems,
        );
    }
    if let Some((slug, child)) = &node.optional {
        smoosh(
            child,
            &format!("{prefix}[[...{}]]/", slug.name),
            files,
            out,
            problems,
        );
    }
}

fn renumber(node: &mut Node, position: &[usize]) {
    if let Some(r) = node.route.as_mut() {
        *r = position[*r];
    }
    for child in node.statics.values_mut() {
        renumber(child, position);
    }
    for (_, child) in [&mut node.dynamic, &mut node.catch_all, &mut node.optional]
        .into_iter()
        .flatten()
    {
        renumber(child, position);
    }
}
