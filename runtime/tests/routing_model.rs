//! The production router against a reference model of `next start`, on random route trees.
//!
//! The model is written from the spec (`next-semantics.md` §2–§4) and Next 16.4.6's own
//! sources, not from nextr's code: `getSortedRoutes` is a line-by-line port of `UrlNode`
//! (insert with its errors, then `_smoosh`), every dynamic route gets the regex Next's
//! `getRouteRegex` builds, a request is first compared raw with the set of all page strings and
//! then tested against the regexes in sorted order, params are decoded as `getRouteMatcher` does,
//! and `req.query` is assembled as the pages route module's `prepare` does
//! (`normalizeDynamicRouteParams`, then `{...query, ...params}`).
//!
//! Trees are random (static names, `[x]`, catch-alls and optional catch-alls, nested) and mix
//! Pages Router files (`api/**.rs`) with App Router route handlers (`app/api/**/route.rs`, some
//! in route groups), which share one sorted list; the model and the production validator must
//! agree on which trees are valid, and on valid trees every random request must get the same
//! status, route and `req.query` (keys in order) for a Pages route, or `context.params`,
//! `searchParams` and `request.url` (`next-app-semantics.md` §3–§4) for an App route.

use std::collections::{HashMap, HashSet};

use nextr::routing::{MatchedView, QueryValue, Resolution, RouteTable};
use proptest::prelude::*;
use regex::Regex;

// ------------------------------------------------------------------------------------------
// The model: Next's UrlNode (sorted-routes.ts)
// ------------------------------------------------------------------------------------------

struct UrlNode {
    placeholder: bool,
    children: HashMap<String, UrlNode>,
    slug_name: Option<String>,
    rest_slug_name: Option<String>,
    optional_rest_slug_name: Option<String>,
}

impl UrlNode {
    fn new() -> Self {
        UrlNode {
            placeholder: true,
            children: HashMap::new(),
            slug_name: None,
            rest_slug_name: None,
            optional_rest_slug_name: None,
        }
    }

    fn insert(&mut self, url_path: &str) -> Result<(), String> {
        let parts: Vec<&str> = url_path.split('/').filter(|s| !s.is_empty()).collect();
        self.insert_parts(&parts, &mut Vec::new(), false)
    }

    fn insert_parts(
        &mut self,
        url_paths: &[&str],
        slug_names: &mut Vec<String>,
        mut is_catch_all: bool,
    ) -> Result<(), String> {
        let Some(&first) = url_paths.first() else {
            self.placeholder = false;
            return Ok(());
        };
        if is_catch_all {
            return Err("Catch-all must be the last part of the URL.".into());
        }
        let mut next_segment = first.to_string();
        if first.starts_with('[') && first.ends_with(']') {
            let mut segment_name = &first[1..first.len() - 1];
            let mut is_optional = false;
            if segment_name.starts_with('[') && segment_name.ends_with(']') {
                segment_name = &segment_name[1..segment_name.len() - 1];
                is_optional = true;
            }
            if segment_name.starts_with('…') {
                return Err(format!("three-dot character ('{segment_name}')"));
            }
            if let Some(rest) = segment_name.strip_prefix("...") {
                segment_name = rest;
                is_catch_all = true;
            }
            if segment_name.starts_with('[') || segment_name.ends_with(']') {
                return Err(format!("extra brackets ('{segment_name}')"));
            }
            if segment_name.starts_with('.') {
                return Err(format!("erroneous periods ('{segment_name}')"));
            }
            let handle_slug =
                |previous: &Option<String>, slug_names: &mut Vec<String>| -> Result<(), String> {
                    if let Some(prev) = previous {
                        if prev != segment_name {
                            return Err(format!(
                                "different slug names ('{prev}' !== '{segment_name}')"
                            ));
                        }
                    }
                    for slug in slug_names.iter() {
                        if slug == segment_name {
                            return Err(format!("same slug name \"{segment_name}\" repeat"));
                        }
                        if non_word_removed(slug) == non_word_removed(first) {
                            return Err(format!(
                                "\"{slug}\" and \"{segment_name}\" differ only by non-word symbols"
                            ));
                        }
                    }
                    slug_names.push(segment_name.to_string());
                    Ok(())
                };
            if is_catch_all {
                if is_optional {
                    if self.rest_slug_name.is_some() {
                        return Err("both an required and optional catch-all".into());
                    }
                    handle_slug(&self.optional_rest_slug_name, slug_names)?;
                    self.optional_rest_slug_name = Some(segment_name.to_string());
                    next_segment = "[[...]]".into();
                } else {
                    if self.optional_rest_slug_name.is_some() {
                        return Err("both an optional and required catch-all".into());
                    }
                    handle_slug(&self.rest_slug_name, slug_names)?;
                    self.rest_slug_name = Some(segment_name.to_string());
                    next_segment = "[...]".into();
                }
            } else {
                if is_optional {
                    return Err(format!(
                        "Optional route parameters are not yet supported (\"{first}\")"
                    ));
                }
                handle_slug(&self.slug_name, slug_names)?;
                self.slug_name = Some(segment_name.to_string());
                next_segment = "[]".into();
            }
        }
        self.children
            .entry(next_segment)
            .or_insert_with(UrlNode::new)
            .insert_parts(&url_paths[1..], slug_names, is_catch_all)
    }

    fn smoosh(&self, prefix: &str) -> Result<Vec<String>, String> {
        let mut children_paths: Vec<&String> = self.children.keys().collect();
        // JavaScript's default sort: UTF-16 code units.
        children_paths.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
        let special = ["[]", "[...]", "[[...]]"];
        let mut routes = Vec::new();
        for c in children_paths {
            if special.contains(&c.as_str()) {
                continue;
            }
            routes.extend(self.children[c].smoosh(&format!("{prefix}{c}/"))?);
        }
        if let Some(slug) = &self.slug_name {
            routes.extend(self.children["[]"].smoosh(&format!("{prefix}[{slug}]/"))?);
        }
        if !self.placeholder {
            let r = if prefix == "/" {
                "/".to_string()
            } else {
                prefix[..prefix.len() - 1].to_string()
            };
            if self.optional_rest_slug_name.is_some() {
                return Err(format!(
                    "same specificity as a optional catch-all route (\"{r}\")"
                ));
            }
            routes.insert(0, r);
        }
        if let Some(slug) = &self.rest_slug_name {
            routes.extend(self.children["[...]"].smoosh(&format!("{prefix}[...{slug}]/"))?);
        }
        if let Some(slug) = &self.optional_rest_slug_name {
            routes.extend(self.children["[[...]]"].smoosh(&format!("{prefix}[[...{slug}]]/"))?);
        }
        Ok(routes)
    }
}

/// `s.replace(/\W/g, '')`.
fn non_word_removed(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// `getSortedRoutes`.
fn get_sorted_routes(pages: &[String]) -> Result<Vec<String>, String> {
    let mut root = UrlNode::new();
    for page in pages {
        root.insert(page)?;
    }
    root.smoosh("/")
}

// ------------------------------------------------------------------------------------------
// The model: route regexes, matching, decoding, req.query
// ------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    Single,
    Repeat,
    OptionalRepeat,
}

struct Group {
    key: String,
    kind: Kind,
}

struct ModelRoute {
    regex: Regex,
    groups: Vec<Group>,
}

/// `isDynamicRoute(route)` in strict mode: a whole segment in brackets.
fn is_dynamic_route(page: &str) -> bool {
    page.split('/')
        .any(|s| s.len() > 2 && s.starts_with('[') && s.ends_with(']'))
}

/// `getRouteRegex(page)`, for pages whose bracketed segments are whole segments.
fn get_route_regex(page: &str) -> ModelRoute {
    let mut re = String::from("^");
    let mut groups = Vec::new();
    for segment in page.split('/').skip(1) {
        let bracketed = segment.len() > 2 && segment.starts_with('[') && segment.ends_with(']');
        if !bracketed {
            re.push('/');
            re.push_str(&regex::escape(segment));
            continue;
        }
        let mut param = &segment[1..segment.len() - 1];
        let optional = param.starts_with('[') && param.ends_with(']');
        if optional {
            param = &param[1..param.len() - 1];
        }
        let repeat = param.starts_with("...");
        if repeat {
            param = &param[3..];
        }
        let kind = match (repeat, optional) {
            (true, true) => Kind::OptionalRepeat,
            (true, false) => Kind::Repeat,
            _ => Kind::Single,
        };
        re.push_str(match kind {
            Kind::OptionalRepeat => "(?:/(.+?))?",
            Kind::Repeat => "/(.+?)",
            Kind::Single => "/([^/]+?)",
        });
        groups.push(Group {
            key: param.to_string(),
            kind,
        });
    }
    re.push_str("(?:/)?$");
    ModelRoute {
        regex: Regex::new(&re).unwrap(),
        groups,
    }
}

/// JavaScript's `decodeURIComponent`; `None` where it throws.
fn js_decode_uri_component(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            if !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
                return None;
            }
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A `req.query` value as JavaScript holds it.
#[derive(Clone, Debug, PartialEq)]
enum Js {
    Str(String),
    Arr(Vec<String>),
}

type Object = Vec<(String, Js)>;

fn obj_get<'a>(o: &'a Object, k: &str) -> Option<&'a Js> {
    o.iter().find(|(key, _)| key == k).map(|(_, v)| v)
}

fn obj_set(o: &mut Object, k: &str, v: Js) {
    match o.iter_mut().find(|(key, _)| key == k) {
        Some((_, old)) => *old = v,
        None => o.push((k.to_string(), v)),
    }
}

fn obj_delete(o: &mut Object, k: &str) {
    o.retain(|(key, _)| key != k);
}

/// `URLSearchParams` percent-decoding: lenient, invalid UTF-8 replaced.
fn form_decode(s: &str) -> String {
    let s = s.replace('+', " ");
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 3 <= b.len() {
            let hex = &b[i + 1..i + 3];
            if hex.iter().all(u8::is_ascii_hexdigit) {
                let hex = std::str::from_utf8(hex).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The query object Next builds (`searchParamsToUrlQuery`), with its internal keys removed.
fn parse_query(raw: &str) -> Object {
    let mut o: Object = Vec::new();
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (k, v) = (form_decode(k), form_decode(v));
        let internal = k == "nextInternalLocale"
            || ((k.starts_with("nxtP") || k.starts_with("nxtI")) && k.len() > 4);
        if internal {
            continue;
        }
        match o.iter_mut().find(|(key, _)| *key == k) {
            Some((_, Js::Str(first))) => {
                let first = first.clone();
                obj_set(&mut o, &k, Js::Arr(vec![first, v]));
            }
            Some((_, Js::Arr(all))) => all.push(v),
            None => o.push((k, Js::Str(v))),
        }
    }
    o
}

fn placeholder(g: &Group) -> String {
    match g.kind {
        Kind::Single => format!("[{}]", g.key),
        Kind::Repeat => format!("[...{}]", g.key),
        Kind::OptionalRepeat => format!("[[...{}]]", g.key),
    }
}

/// `isDefaultValueMatch` (values in these tests never contain `.rsc`).
fn is_default_value_match(candidate: &str, default: &str) -> bool {
    if candidate.is_empty() {
        return false;
    }
    let mut c = candidate.to_string();
    for _ in 0..3 {
        if c == default {
            return true;
        }
        let d = js_decode_uri_component(&c).unwrap_or_else(|| c.clone());
        if d == c {
            break;
        }
        c = d;
    }
    false
}

/// `normalizeDynamicRouteParams(source, ignoreMissingOptional = true)`; may delete from source.
fn normalize_dynamic_route_params(groups: &[Group], source: &mut Object) -> Option<Object> {
    let mut params: Object = Vec::new();
    for g in groups {
        let default = placeholder(g);
        let mut value = obj_get(source, &g.key).cloned();
        let is_default = match &value {
            None => false,
            Some(Js::Str(s)) => is_default_value_match(s, &default),
            Some(Js::Arr(a)) => a.iter().any(|s| is_default_value_match(s, &default)),
        };
        let optional = g.kind == Kind::OptionalRepeat;
        if is_default || (value.is_none() && !optional) {
            return None;
        }
        if optional {
            let empty = match &value {
                None => true,
                Some(Js::Str(s)) => s.is_empty() || *s == "index" || *s == default,
                Some(Js::Arr(a)) => a.len() == 1 && (a[0] == "index" || a[0] == default),
            };
            if empty {
                value = None;
                obj_delete(source, &g.key);
            }
        }
        if let Some(Js::Str(s)) = &value {
            if !s.is_empty() && g.kind != Kind::Single {
                value = Some(Js::Arr(s.split('/').map(String::from).collect()));
            }
        }
        match value {
            None => {}
            Some(Js::Str(s)) if s.is_empty() => {}
            Some(v) => params.push((g.key.clone(), v)),
        }
    }
    Some(params)
}

#[derive(Debug, PartialEq)]
enum Outcome {
    Route {
        page: String,
        query: Object,
    },
    /// An App route: `context.params` (`None` for a static route), `searchParams` and
    /// `request.url` without its origin (`None` where the model does not say: a path that
    /// spells a placeholder, which Next interpolates).
    App {
        page: String,
        params: Option<Object>,
        search: Object,
        url: Option<String>,
    },
    Redirect,
    NotFound,
    BadRequest,
    ServerError,
}

struct Model {
    pages: HashSet<String>,
    by_page: HashMap<String, ModelRoute>,
    dynamic: Vec<String>,
    app: HashSet<String>,
}

/// The page of a route file: Pages drops one trailing `index`; App is the folder path of
/// `route.rs` without its route groups.
fn model_page(file: &str) -> (String, bool) {
    if let Some(folders) = file
        .strip_prefix("app/")
        .and_then(|f| f.strip_suffix("/route.rs"))
    {
        let kept: Vec<&str> = folders
            .split('/')
            .filter(|f| !(f.starts_with('(') && f.ends_with(')')))
            .collect();
        return (format!("/{}", kept.join("/")), true);
    }
    let stem = file.strip_suffix(".rs").unwrap();
    let page = stem.strip_suffix("/index").unwrap_or(stem);
    (format!("/{page}"), false)
}

/// `URLSearchParams` minus the keys Next deletes before a route handler runs.
fn parse_search(raw: &str) -> Object {
    let mut o = parse_query(raw);
    obj_delete(&mut o, "__proto__");
    o
}

/// `application/x-www-form-urlencoded` serialisation (WHATWG URL §5.2) of a query object,
/// each key's values together.
fn serialize_search(o: &Object) -> String {
    fn enc(s: &str) -> String {
        let mut out = String::new();
        for b in s.bytes() {
            match b {
                b' ' => out.push('+'),
                b'*' | b'-' | b'.' | b'_' => out.push(b as char),
                _ if b.is_ascii_alphanumeric() => out.push(b as char),
                _ => out.push_str(&format!("%{b:02X}")),
            }
        }
        out
    }
    let mut pairs = Vec::new();
    for (k, v) in o {
        let values = match v {
            Js::Str(s) => vec![s.clone()],
            Js::Arr(a) => a.clone(),
        };
        for value in values {
            pairs.push(format!("{}={}", enc(k), enc(&value)));
        }
    }
    pairs.join("&")
}

impl Model {
    /// The model of a tree, or why Next (plus nextr's duplicate rule) rejects it.
    fn new(files: &[String]) -> Result<Model, String> {
        let mut pages = Vec::new();
        let mut seen = HashSet::new();
        let mut app = HashSet::new();
        for file in files {
            let (page, is_app) = model_page(file);
            // Two files for one page: App and Pages, two route groups, or nextr's duplicate.
            if !seen.insert(page.clone()) {
                return Err(format!("duplicate {page}"));
            }
            if is_app {
                app.insert(page.clone());
            }
            pages.push(page);
        }
        let sorted = get_sorted_routes(&pages)?;
        assert_eq!(sorted.len(), pages.len(), "getSortedRoutes adds no routes");
        Ok(Model {
            by_page: pages
                .iter()
                .map(|p| (p.clone(), get_route_regex(p)))
                .collect(),
            dynamic: sorted.into_iter().filter(|p| is_dynamic_route(p)).collect(),
            app,
            pages: pages.into_iter().collect(),
        })
    }

    fn resolve(&self, target: &str) -> Outcome {
        let (path, raw_query) = target.split_once('?').unwrap_or((target, ""));
        if path.contains("//") || path.contains('\\') || (path.len() > 1 && path.ends_with('/')) {
            return Outcome::Redirect;
        }
        let mut query = parse_query(raw_query);
        // 1. the raw path against every page string; 2. the dynamic regexes in sorted order
        let (page, literal) = if self.pages.contains(path) {
            (path.to_string(), true)
        } else {
            match self
                .dynamic
                .iter()
                .find(|p| self.by_page[*p].regex.is_match(path))
            {
                Some(p) => (p.clone(), false),
                None => return Outcome::NotFound,
            }
        };
        let route = &self.by_page[&page];
        if self.app.contains(&page) {
            return self.resolve_app(page, path, raw_query, literal);
        }
        if route.groups.is_empty() {
            return Outcome::Route { page, query };
        }
        // getRouteMatcher: split catch-alls before decoding; a bad escape throws (400)
        let caps = route.regex.captures(path).unwrap();
        let mut matched: Object = Vec::new();
        for (i, g) in route.groups.iter().enumerate() {
            let Some(m) = caps.get(i + 1) else { continue };
            let value = if g.kind == Kind::Single {
                match js_decode_uri_component(m.as_str()) {
                    Some(v) => Js::Str(v),
                    None => return Outcome::BadRequest,
                }
            } else {
                let parts: Option<Vec<String>> =
                    m.as_str().split('/').map(js_decode_uri_component).collect();
                match parts {
                    Some(p) => Js::Arr(p),
                    None => return Outcome::BadRequest,
                }
            };
            matched.push((g.key.clone(), value));
        }
        let params = if literal {
            // The router found the page file itself and hands over no params: the route
            // module takes them from the query when all are there, else from the path.
            match normalize_dynamic_route_params(&route.groups, &mut query) {
                Some(from_query) => {
                    for g in &route.groups {
                        obj_delete(&mut query, &g.key);
                    }
                    from_query
                }
                None => matched,
            }
        } else {
            // An optional catch-all of exactly ["index"] is no value.
            matched.retain(|(k, v)| {
                let g = route.groups.iter().find(|g| g.key == *k).unwrap();
                !(g.kind == Kind::OptionalRepeat && *v == Js::Arr(vec!["index".into()]))
            });
            let _ = normalize_dynamic_route_params(&route.groups, &mut query);
            matched
        };
        for (k, v) in params {
            obj_set(&mut query, &k, v);
        }
        Outcome::Route { page, query }
    }
}

impl Model {
    /// An App route's view: params from the path (query keys never override them) except for a
    /// request of the literal pattern with every param in the query; a malformed escape is a
    /// 500 in an app without Pages routes, else a 400.
    fn resolve_app(&self, page: String, path: &str, raw_query: &str, literal: bool) -> Outcome {
        let route = &self.by_page[&page];
        let search = parse_search(raw_query);
        let with_query = |p: String| {
            let q = serialize_search(&search);
            if q.is_empty() {
                p
            } else {
                format!("{p}?{q}")
            }
        };
        if route.groups.is_empty() {
            let url = with_query(path.to_string());
            return Outcome::App {
                page,
                params: None,
                search,
                url: Some(url),
            };
        }
        let bad = if self.app.len() == self.pages.len() {
            Outcome::ServerError
        } else {
            Outcome::BadRequest
        };
        let caps = route.regex.captures(path).unwrap();
        let mut matched: Object = Vec::new();
        for (i, g) in route.groups.iter().enumerate() {
            let Some(m) = caps.get(i + 1) else { continue };
            let value = if g.kind == Kind::Single {
                match js_decode_uri_component(m.as_str()) {
                    Some(v) => Js::Str(v),
                    None => return bad,
                }
            } else {
                match m.as_str().split('/').map(js_decode_uri_component).collect() {
                    Some(p) => Js::Arr(p),
                    None => return bad,
                }
            };
            matched.push((g.key.clone(), value));
        }
        let mut query = parse_query(raw_query);
        let params =
            match literal.then(|| normalize_dynamic_route_params(&route.groups, &mut query)) {
                Some(Some(from_query)) => from_query,
                Some(None) => matched,
                None => {
                    matched.retain(|(k, v)| {
                        let g = route.groups.iter().find(|g| g.key == *k).unwrap();
                        !(g.kind == Kind::OptionalRepeat && *v == Js::Arr(vec!["index".into()]))
                    });
                    matched
                }
            };
        // A path spelling a placeholder is interpolated by Next; the model leaves that to
        // the unit tests and checks the rest.
        let url = (!path.contains('[')).then(|| with_query(path.to_string()));
        Outcome::App {
            page,
            params: Some(params),
            search,
            url,
        }
    }
}

fn js_object(params: &nextr::routing::Params) -> Object {
    params.0.iter().map(|(k, v)| (k.clone(), js(v))).collect()
}

fn js(v: &QueryValue) -> Js {
    match v {
        QueryValue::One(s) => Js::Str(s.clone()),
        QueryValue::Many(a) => Js::Arr(a.clone()),
    }
}

fn production(table: &RouteTable, target: &str) -> Outcome {
    match table.resolve(target) {
        Resolution::Route(m) => match &m.view {
            MatchedView::Pages(p) => Outcome::Route {
                page: m.route.page().to_string(),
                query: p
                    .query
                    .iter()
                    .map(|(k, v)| (k.to_string(), js(v)))
                    .collect(),
            },
            MatchedView::App(a) => {
                let mut search: Object = Vec::new();
                for (k, v) in a.search_params.pairs() {
                    match obj_get(&search, k).cloned() {
                        Some(Js::Str(first)) => {
                            obj_set(&mut search, k, Js::Arr(vec![first, v.clone()]))
                        }
                        Some(Js::Arr(mut all)) => {
                            all.push(v.clone());
                            obj_set(&mut search, k, Js::Arr(all));
                        }
                        None => search.push((k.clone(), Js::Str(v.clone()))),
                    }
                }
                Outcome::App {
                    page: m.route.page().to_string(),
                    params: a.params.as_ref().map(js_object),
                    search,
                    url: Some(a.url.clone()),
                }
            }
        },
        Resolution::Redirect(_) => Outcome::Redirect,
        Resolution::NotFound => Outcome::NotFound,
        Resolution::BadRequest => Outcome::BadRequest,
        Resolution::ServerError => Outcome::ServerError,
    }
}

// ------------------------------------------------------------------------------------------
// Generators
// ------------------------------------------------------------------------------------------

const STATICS: &[&str] = &["a", "b", "index", "x-y", "A", "a.b"];

/// A segment kind; names are chosen per depth so that most trees are valid, with a few
/// conflicting names (`[id0]` next to `[pid0]`, the same name twice along a path).
#[derive(Debug, Clone)]
enum Seg {
    Static(&'static str),
    Single(bool),
    CatchAll(bool),
    Optional(bool),
}

fn segment() -> impl Strategy<Value = Seg> {
    let odd = prop::bool::weighted(0.1);
    prop_oneof![
        8 => prop::sample::select(STATICS).prop_map(Seg::Static),
        3 => odd.prop_map(Seg::Single),
        1 => odd.prop_map(Seg::CatchAll),
        1 => odd.prop_map(Seg::Optional),
    ]
}

fn tree() -> impl Strategy<Value = Vec<String>> {
    let file = (prop::collection::vec(segment(), 1..5), 0..6u8);
    prop::collection::vec(file, 1..9).prop_map(|files| {
        let mut files: Vec<String> = files
            .into_iter()
            .map(|(segs, router)| {
                let last = segs.len() - 1;
                let segs: Vec<String> = segs
                    .iter()
                    .enumerate()
                    .map(|(depth, seg)| match seg {
                        // Catch-alls are mostly last (else "Catch-all must be the last part").
                        Seg::CatchAll(false) | Seg::Optional(false) if depth < last => {
                            format!("[id{depth}]")
                        }
                        Seg::Static(s) => s.to_string(),
                        Seg::Single(odd) => format!("[{}{}]", ["id", "pid"][*odd as usize], depth),
                        Seg::CatchAll(odd) => format!("[...{}]", ["rest", "id0"][*odd as usize]),
                        Seg::Optional(odd) => format!("[[...{}]]", ["opt", "o"][*odd as usize]),
                    })
                    .collect();
                // 0–2: Pages; 3–4: App; 5: App in a route group.
                match router {
                    0..=2 => format!("api/{}.rs", segs.join("/")),
                    3 | 4 => format!("app/api/{}/route.rs", segs.join("/")),
                    _ => format!("app/(g)/api/{}/route.rs", segs.join("/")),
                }
            })
            .collect();
        files.sort();
        files.dedup();
        files
    })
}

/// Raw path values: plain, `index`, good and bad escapes, `%2F`, placeholders, encoded statics.
const VALUES: &[&str] = &[
    "v",
    "x1",
    "index",
    "a",
    "b",
    "A",
    "x-y",
    "a.b",
    "%61",
    "%69ndex",
    "%20",
    "%2F",
    "a%2Fb",
    "%C3%A9",
    "%25",
    "%ZZ",
    "%C3",
    "%",
    "%E0%A4%A",
    "%C0%AF",
    "+",
    "a+b",
    "~",
    "@",
    ":",
    "[id]",
    "%5Bid%5D",
    "[...rest]",
    "[[...opt]]",
    "[]",
];
const KEYS: &[&str] = &[
    "id0",
    "id1",
    "id2",
    "pid0",
    "rest",
    "opt",
    "o",
    "q",
    "z",
    "nxtPid0",
    "nxtP",
    "__proto__",
];
const QUERY_VALUES: &[&str] = &[
    "1",
    "a+b",
    "",
    "x/y",
    "index",
    "[id]",
    "[[...opt]]",
    "%ZZ",
    "%5Bid%5D",
    "v",
];

/// Builds one request target from a tree's pages and some entropy.
fn request(pages: &[String], entropy: &[u8]) -> String {
    let mut e = entropy.iter().copied().cycle();
    let mut pick = |n: usize| e.next().unwrap() as usize % n;
    let page = &pages[pick(pages.len())];
    let mut path = String::new();
    match pick(12) {
        0 => {
            // something that may match nothing
            path.push_str(["/api", "/other", "/api/zz"][pick(3)]);
            for _ in 0..pick(3) {
                path.push('/');
                path.push_str(VALUES[pick(VALUES.len())]);
            }
        }
        1 => path.push_str(page),
        _ => {
            for seg in page.split('/').skip(1) {
                let values = if seg.starts_with("[[...") {
                    pick(4)
                } else if seg.starts_with("[...") {
                    1 + pick(3)
                } else if seg.starts_with('[') {
                    1
                } else {
                    path.push('/');
                    path.push_str(if pick(8) == 0 && seg == "a" {
                        "%61"
                    } else {
                        seg
                    });
                    continue;
                };
                for _ in 0..values {
                    path.push('/');
                    path.push_str(VALUES[pick(VALUES.len())]);
                }
            }
            match pick(8) {
                0 => path.push_str(&format!("/{}", VALUES[pick(VALUES.len())])),
                1 => {
                    if let Some(i) = path.rfind('/') {
                        path.truncate(i);
                    }
                }
                2 => path.push('/'),
                _ => {}
            }
            if path.is_empty() {
                path.push('/');
            }
        }
    }
    if pick(2) == 0 {
        let pairs: Vec<String> = (0..1 + pick(3))
            .map(|_| {
                format!(
                    "{}={}",
                    KEYS[pick(KEYS.len())],
                    QUERY_VALUES[pick(QUERY_VALUES.len())]
                )
            })
            .collect();
        path.push('?');
        path.push_str(&pairs.join("&"));
    }
    path
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    #[test]
    fn production_router_agrees_with_the_model(
        files in tree(),
        entropy in prop::collection::vec(prop::collection::vec(any::<u8>(), 32), 1..16),
    ) {
        let model = Model::new(&files);
        let table = RouteTable::from_files(&files);
        match (&model, &table) {
            (Ok(_), Err(e)) => prop_assert!(false, "nextr rejects a tree Next accepts: {files:?}\n{e}"),
            (Err(e), Ok(_)) => prop_assert!(false, "nextr accepts a tree Next rejects ({e}): {files:?}"),
            _ => {}
        }
        let (Ok(model), Ok(table)) = (model, table) else { return Ok(()) };

        // Precedence: the same order as getSortedRoutes.
        let mut pages: Vec<String> = model.pages.iter().cloned().collect();
        pages.sort();
        let order: Vec<&str> = table.routes().iter().map(|r| r.page()).collect();
        let sorted = get_sorted_routes(&pages).unwrap();
        prop_assert_eq!(order, sorted.iter().map(String::as_str).collect::<Vec<_>>());

        for bytes in &entropy {
            let target = request(&pages, bytes);
            let want = model.resolve(&target);
            let mut got = production(&table, &target);
            if let (Outcome::App { url: None, .. }, Outcome::App { url, .. }) = (&want, &mut got) {
                *url = None;
            }
            prop_assert_eq!(&got, &want, "tree {:?}, request {:?}", files, target);
        }
    }
}

#[test]
fn the_model_reproduces_the_spec_examples() {
    // The getSortedRoutes example of §3.1 (Next's unit test).
    let pages: Vec<String> = [
        "/posts",
        "/[root-slug]",
        "/",
        "/posts/[id]",
        "/blog/[id]/comments/[cid]",
        "/blog/abc/[id]",
        "/[...rest]",
        "/blog/abc/post",
        "/blog/abc",
        "/p1/[[...incl]]",
        "/p/[...rest]",
        "/p2/[...rest]",
        "/p2/[id]",
        "/p2/[id]/abc",
        "/p3/[[...rest]]",
        "/p3/[id]",
        "/p3/[id]/abc",
        "/blog/[id]",
        "/foo/[d]/bar/baz/[f]",
        "/apples/[ab]/[cd]/ef",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(
        get_sorted_routes(&pages).unwrap(),
        [
            "/",
            "/apples/[ab]/[cd]/ef",
            "/blog/abc",
            "/blog/abc/post",
            "/blog/abc/[id]",
            "/blog/[id]",
            "/blog/[id]/comments/[cid]",
            "/foo/[d]/bar/baz/[f]",
            "/p/[...rest]",
            "/p1/[[...incl]]",
            "/p2/[id]",
            "/p2/[id]/abc",
            "/p2/[...rest]",
            "/p3/[id]",
            "/p3/[id]/abc",
            "/p3/[[...rest]]",
            "/posts",
            "/posts/[id]",
            "/[root-slug]",
            "/[...rest]",
        ]
    );
    // §3.2 and §4 examples, through the model.
    let files: Vec<String> = [
        "api/t01/index.rs",
        "api/t01/about.rs",
        "api/t01/[id].rs",
        "api/t01/[id]/edit.rs",
        "api/t01/[...slug].rs",
        "api/t02/opt/[[...slug]].rs",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    let model = Model::new(&files).unwrap();
    let route = |page: &str, q: &[(&str, Js)]| Outcome::Route {
        page: page.into(),
        query: q.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
    };
    let s = |v: &str| Js::Str(v.into());
    let a = |v: &[&str]| Js::Arr(v.iter().map(|x| x.to_string()).collect());
    assert_eq!(
        model.resolve("/api/t01/about"),
        route("/api/t01/about", &[])
    );
    assert_eq!(
        model.resolve("/api/t01/%61bout"),
        route("/api/t01/[id]", &[("id", s("about"))])
    );
    assert_eq!(
        model.resolve("/api/t01/about/edit"),
        route("/api/t01/[id]/edit", &[("id", s("about"))])
    );
    assert_eq!(
        model.resolve("/api/t01/a%2Fb/c"),
        route("/api/t01/[...slug]", &[("slug", a(&["a/b", "c"]))])
    );
    assert_eq!(model.resolve("/api/t01/ok/%ZZ"), Outcome::BadRequest);
    assert_eq!(model.resolve("/api/t05/nomatch/%ZZ"), Outcome::NotFound);
    assert_eq!(
        model.resolve("/api/t02/opt/index"),
        route("/api/t02/opt/[[...slug]]", &[])
    );
    assert_eq!(
        model.resolve("/api/t02/opt?slug=q"),
        route("/api/t02/opt/[[...slug]]", &[("slug", s("q"))])
    );
    assert_eq!(
        model.resolve("/api/t01/x?id=1&id=2&z=%ZZ"),
        route("/api/t01/[id]", &[("id", s("x")), ("z", s("%ZZ"))])
    );
    assert_eq!(
        model.resolve("/api/t01/[id]?id=foo"),
        route("/api/t01/[id]", &[("id", s("foo"))])
    );
    assert_eq!(model.resolve("/api/t01/x/"), Outcome::Redirect);
    // Invalid trees.
    for bad in [
        &["api/i/[a].rs", "api/i/[b]/x.rs"][..],
        &["api/i/[id]/[id].rs"],
        &["api/i/index.rs", "api/i/[[...s]].rs"],
        &["api/i/[...s]/x.rs"],
        &["api/i/[...a].rs", "api/i/[[...a]].rs"],
        &["api/i/dup.rs", "api/i/dup/index.rs"],
    ] {
        let files: Vec<String> = bad.iter().map(|s| s.to_string()).collect();
        assert!(Model::new(&files).is_err(), "{bad:?}");
        assert!(RouteTable::from_files(&files).is_err(), "{bad:?}");
    }
}
