//! The route table: every route of an app, validated, in Next's order, with a trie matcher.

use std::cmp::Ordering;
use std::collections::HashMap;

use serde::Serialize;

use super::error::{RouteError, TreeError, TreeProblem};
use super::pattern::{
    check_repeated_slug, classify_segment, decode_uri_component, page_for_file,
    param_inside_segment, Param, ParamKind, RouteKind, RoutePattern, Segment, SegmentSyntax,
};
use super::query::{Query, QueryValue};
use super::target::{encode_uri_component, normalize, Normalized};

/// One route: a file and the pattern it serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The page pattern, e.g. `/api/post/[pid]`.
    pub pattern: RoutePattern,
    /// The route file relative to the app root, with `/` separators.
    pub file: String,
}

impl Route {
    /// The page pattern as a string.
    pub fn page(&self) -> &str {
        self.pattern.page()
    }

    /// The route's kind (static, dynamic, catch-all, optional catch-all).
    pub fn kind(&self) -> RouteKind {
        self.pattern.kind()
    }

    /// The router the file belongs to: `app/**/route.rs` is the App Router's.
    pub fn router(&self) -> super::Router {
        if self.file.starts_with("app/") {
            super::Router::App
        } else {
            super::Router::Pages
        }
    }
}

/// Serialisable summary of a route for `nextr routes --json`.
#[derive(Debug, Clone, Serialize)]
pub struct RouteSummary<'a> {
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
}

impl RouteTable {
    /// Builds the table from the files under an app root (paths relative to it, `/`-separated).
    ///
    /// Files that are not routes (see [`page_for_file`]) are ignored. Every invalid-tree rule
    /// of Next is applied, plus nextr's duplicate rule, and **all** problems are reported.
    pub fn from_files<I, S>(files: I) -> Result<Self, TreeError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut entries: Vec<(String, String)> = files
            .into_iter()
            .filter_map(|f| {
                let f = f.as_ref();
                page_for_file(f).map(|p| (f.to_owned(), p))
            })
            .collect();
        entries.sort();
        entries.dedup();
        let files: Vec<String> = entries.iter().map(|(f, _)| f.clone()).collect();

        let mut problems = Vec::new();
        let mut by_page: HashMap<&str, usize> = HashMap::new();
        let mut root = Node::default();
        let mut patterns: Vec<Option<RoutePattern>> = vec![None; entries.len()];
        for (idx, (file, page)) in entries.iter().enumerate() {
            if let Some(&other) = by_page.get(page.as_str()) {
                problems.push(TreeProblem {
                    files: vec![files[other].clone(), file.clone()],
                    error: RouteError::Duplicate(page.clone()),
                });
                continue;
            }
            by_page.insert(page, idx);
            match insert(&mut root, page, idx) {
                Ok(()) => match RoutePattern::parse(page) {
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
            });
        }
        renumber(&mut root, &position);
        let pages = routes
            .iter()
            .enumerate()
            .map(|(i, r)| (r.page().to_owned(), i))
            .collect();
        Ok(RouteTable {
            routes,
            pages,
            root,
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
                page: r.page(),
                file: &r.file,
                kind: r.kind(),
                params: r.pattern.params().collect(),
            })
            .collect()
    }

    /// Resolves one raw request target exactly as `next start` does.
    pub fn resolve(&self, target: &str) -> Resolution<'_> {
        let (pathname, raw_query) = match normalize(target) {
            Err(_) => return Resolution::BadRequest,
            Ok(Normalized::Redirect(location)) => return Resolution::Redirect(location),
            Ok(Normalized::Path { pathname, query }) => (pathname, query),
        };
        if let Some(&idx) = self.pages.get(pathname.as_str()) {
            let route = &self.routes[idx];
            return match complete(&route.pattern, &pathname, raw_query, true) {
                Some(Ok(m)) => Resolution::Route(RouteMatch::new(route, m)),
                Some(Err(_)) => Resolution::BadRequest,
                None => Resolution::NotFound,
            };
        }
        let segments = path_segments(&pathname);
        let Some(idx) = find(&self.root, &segments, 0) else {
            return Resolution::NotFound;
        };
        let route = &self.routes[idx];
        match complete(&route.pattern, &pathname, raw_query, false) {
            Some(Ok(m)) => Resolution::Route(RouteMatch::new(route, m)),
            Some(Err(_)) => Resolution::BadRequest,
            None => Resolution::NotFound,
        }
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
    /// A matched dynamic route's parameter has a malformed escape, or the target is not a path.
    BadRequest,
}

impl Resolution<'_> {
    /// The HTTP status Next answers with.
    pub fn status(&self) -> u16 {
        match self {
            Resolution::Route(_) => 200,
            Resolution::Redirect(_) => 308,
            Resolution::NotFound => 404,
            Resolution::BadRequest => 400,
        }
    }
}

/// A request matched to a route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMatch<'t> {
    /// The route that answers.
    pub route: &'t Route,
    /// `req.query`: the query with the params merged over it.
    pub query: Query,
    /// `req.url`: the normalised path plus the re-serialised query.
    pub url: String,
}

impl<'t> RouteMatch<'t> {
    fn new(route: &'t Route, m: Matched) -> Self {
        RouteMatch {
            route,
            query: m.query,
            url: m.url,
        }
    }
}

/// What a single pattern makes of a normalised request: Next's `req.query` and `req.url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched {
    /// `req.query` with params merged over the query string (params win).
    pub query: Query,
    /// `req.url`.
    pub url: String,
}

use super::pattern::MalformedEscape;

/// Matches a normalised pathname (see [`normalize`]) against one pattern and builds Next's
/// `req.query` and `req.url`. `None` when the pattern does not match.
///
/// `literal` says the pathname was found as the exact pattern string (`/post/[pid]`). Next's
/// router then hands the route no params, and its route module (`prepare` in
/// `route-module.ts`) takes them from same-named query keys when *every* required one is there
/// (`?pid=foo` → `pid: "foo"`, the placeholder in `req.url` replaced by the value), and from the
/// path otherwise (`pid: "[pid]"`). For an ordinary match, any placeholder spelled in the
/// request path (`/post-[id]/x`) is replaced in `req.url` by the encoded param, as Next's
/// `interpolateDynamicPath` does.
pub fn complete(
    pattern: &RoutePattern,
    pathname: &str,
    raw_query: &str,
    literal: bool,
) -> Option<Result<Matched, MalformedEscape>> {
    let segments = path_segments(pathname);
    let captures = pattern.match_segments(&segments)?;
    let mut query = Query::parse_public(raw_query);
    if !pattern.is_dynamic() {
        let mut url = pathname.to_owned();
        push_search(&mut url, &query.to_search_string(|_| false));
        return Some(Ok(Matched { query, url }));
    }
    // `req.url` loses the query keys named like params (`normalizeCdnUrl`), before anything else.
    let search = query.to_search_string(|k| pattern.params().any(|p| p.name == k));
    let params: Vec<Param> = pattern.params().collect();
    let (params_out, url_path) = if literal {
        let from_path = match pattern.decode_raw_params(&captures) {
            Ok(p) => p,
            Err(e) => return Some(Err(e)),
        };
        match normalize_dynamic_params(&params, &mut query) {
            Some(from_query) => {
                let url_path = interpolate(pathname, &params, |name| query.get(name).cloned());
                for p in &params {
                    query.remove(&p.name);
                }
                (from_query, url_path)
            }
            None => (from_path, interpolate(pathname, &params, |_| None)),
        }
    } else {
        let from_path = match pattern.decode_params(&captures) {
            Ok(p) => p,
            Err(e) => return Some(Err(e)),
        };
        let query_valid = normalize_dynamic_params(&params, &mut query).is_some();
        let url_path = if !pathname.contains('[') {
            pathname.to_owned()
        } else if normalize_dynamic_params(&params, &mut from_path.clone()).is_some() {
            interpolate(pathname, &params, |name| from_path.get(name).cloned())
        } else if query_valid {
            interpolate(pathname, &params, |name| query.get(name).cloned())
        } else {
            interpolate(pathname, &params, |_| None)
        };
        (from_path, url_path)
    };
    let mut url = url_path;
    push_search(&mut url, &search);
    for (name, value) in params_out.0 {
        query.set(name, value);
    }
    Some(Ok(Matched { query, url }))
}

fn push_search(url: &mut String, search: &str) {
    if !search.is_empty() {
        url.push('?');
        url.push_str(search);
    }
}

/// Where Next's `normalizeDynamicRouteParams` reads values from: the query object, or the
/// params of a route match.
trait ParamSource {
    fn value(&self, key: &str) -> Option<&QueryValue>;
    fn delete(&mut self, key: &str);
}

impl ParamSource for Query {
    fn value(&self, key: &str) -> Option<&QueryValue> {
        self.get(key)
    }
    fn delete(&mut self, key: &str) {
        self.remove(key);
    }
}

impl ParamSource for super::Params {
    fn value(&self, key: &str) -> Option<&QueryValue> {
        self.get(key)
    }
    fn delete(&mut self, key: &str) {
        self.0.retain(|(k, _)| k != key);
    }
}

/// Next's `normalizeDynamicRouteParams(source, ignoreMissingOptional = true)`: the params are
/// valid when every required one is present and none is its own placeholder (`[id]`, also once
/// to three times percent-encoded); an optional catch-all that is empty, `index` or its
/// placeholder is deleted from the source; a string for a catch-all is split on `/`; empty
/// strings are left out. `None` when not valid.
fn normalize_dynamic_params(
    params: &[Param],
    source: &mut impl ParamSource,
) -> Option<super::Params> {
    let mut out = super::Params::default();
    for param in params {
        let placeholder = placeholder(param);
        let value = source.value(&param.name).map(|v| match v {
            QueryValue::One(s) => QueryValue::One(normalize_rsc_url(s)),
            QueryValue::Many(vs) => {
                QueryValue::Many(vs.iter().map(|s| normalize_rsc_url(s)).collect())
            }
        });
        let optional = param.kind == ParamKind::OptionalCatchAll;
        let is_default = value.as_ref().is_some_and(|v| {
            v.all()
                .iter()
                .any(|s| is_placeholder_value(s, &placeholder))
        });
        if is_default || (value.is_none() && !optional) {
            return None;
        }
        let value = match value {
            Some(v) if optional && is_empty_optional(&v, &placeholder) => {
                source.delete(&param.name);
                None
            }
            v => v,
        };
        let value = match value {
            Some(QueryValue::One(s)) if param.kind != ParamKind::Single && !s.is_empty() => {
                Some(QueryValue::Many(s.split('/').map(str::to_owned).collect()))
            }
            v => v,
        };
        match value {
            None => {}
            Some(QueryValue::One(s)) if s.is_empty() => {}
            Some(v) => out.0.push((param.name.clone(), v)),
        }
    }
    Some(out)
}

/// The value a route's own pattern string gives a param: `[id]`, `[...slug]`, `[[...slug]]`.
fn placeholder(param: &Param) -> String {
    match param.kind {
        ParamKind::Single => format!("[{}]", param.name),
        ParamKind::CatchAll => format!("[...{}]", param.name),
        ParamKind::OptionalCatchAll => format!("[[...{}]]", param.name),
    }
}

fn is_empty_optional(value: &QueryValue, placeholder: &str) -> bool {
    match value {
        QueryValue::One(s) => s.is_empty() || s == "index" || s == placeholder,
        QueryValue::Many(vs) => vs.len() == 1 && (vs[0] == "index" || vs[0] == placeholder),
    }
}

/// Next's `isDefaultValueMatch`: equal to the placeholder as is or after up to two rounds of
/// lenient percent-decoding.
fn is_placeholder_value(candidate: &str, placeholder: &str) -> bool {
    if candidate.is_empty() {
        return false;
    }
    let mut current = normalize_rsc_url(candidate);
    for _ in 0..3 {
        if current == placeholder {
            return true;
        }
        match decode_uri_component(&current) {
            Ok(decoded) if decoded != current => current = decoded,
            _ => break,
        }
    }
    false
}

/// Next's `normalizeRscURL`: the first `.rsc` that ends the value or precedes a `?` is removed.
fn normalize_rsc_url(value: &str) -> String {
    let mut from = 0;
    while let Some(i) = value[from..].find(".rsc") {
        let at = from + i;
        let rest = &value[at + 4..];
        if rest.is_empty() || rest.starts_with('?') {
            return format!("{}{}", &value[..at], rest);
        }
        from = at + 1;
    }
    value.to_owned()
}

/// Next's `interpolateDynamicPath`: every placeholder of the route's params spelled in the
/// pathname (`[id]`, `[...slug]`, `[[...slug]]`) replaced by its encoded value; an absent or
/// empty value leaves a required placeholder alone and removes an optional one.
fn interpolate(
    pathname: &str,
    params: &[Param],
    value_of: impl Fn(&str) -> Option<QueryValue>,
) -> String {
    let mut out = pathname.to_owned();
    for param in params {
        let placeholder = placeholder(param);
        if !out.contains(&placeholder) {
            continue;
        }
        let encoded = match value_of(&param.name) {
            Some(QueryValue::One(v)) => encode_uri_component(&v),
            Some(QueryValue::Many(vs)) => vs
                .iter()
                .map(|v| encode_uri_component(v))
                .collect::<Vec<_>>()
                .join("/"),
            None => String::new(),
        };
        if !encoded.is_empty() || param.kind == ParamKind::OptionalCatchAll {
            out = out.replace(&placeholder, &encoded);
        }
    }
    out
}

/// Splits a normalised pathname into its segments (`/` → none).
pub fn path_segments(pathname: &str) -> Vec<&str> {
    let body = pathname.strip_prefix('/').unwrap_or(pathname);
    if body.is_empty() {
        Vec::new()
    } else {
        body.split('/').collect()
    }
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
