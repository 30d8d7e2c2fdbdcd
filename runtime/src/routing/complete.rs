//! What one pattern makes of a normalised request, the rules both routers share: params,
//! Next's literal-pattern exception, and the placeholder interpolation in the URL path.

use super::pattern::{
    decode_uri_component, MalformedEscape, Param, ParamKind, Params, RoutePattern,
};
use super::query::{Query, QueryValue};
use super::target::encode_uri_component;

/// What a single pattern makes of a normalised request: Next's `req.query` and `req.url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched {
    /// `req.query` with params merged over the query string (params win).
    pub query: Query,
    /// `req.url`.
    pub url: String,
}

/// Matches a normalised pathname (see [`super::normalize`]) against one pattern and builds
/// Next's `req.query` and `req.url` (Pages Router). `None` when the pattern does not match.
pub fn complete(
    pattern: &RoutePattern,
    pathname: &str,
    raw_query: &str,
    literal: bool,
) -> Option<Result<Matched, MalformedEscape>> {
    let mut query = Query::parse_public(raw_query);
    // `req.url` loses the query keys named like params (`normalizeCdnUrl`), before anything else.
    let search = query.to_search_string(|k| pattern.params().any(|p| p.name == k));
    let (params, url_path) = match match_path(pattern, pathname, &mut query, literal)? {
        Ok(m) => m,
        Err(e) => return Some(Err(e)),
    };
    let mut url = url_path;
    push_search(&mut url, &search);
    for (name, value) in params.0 {
        query.set(name, value);
    }
    Some(Ok(Matched { query, url }))
}

/// The params and the URL path one pattern gives a normalised pathname, for both routers.
/// `None` when the pattern does not match; `Err` for a malformed escape in a param.
///
/// `literal` says the pathname was found as the exact pattern string (`/post/[pid]`). Next's
/// router then hands the route no params, and its route module (`prepare` in
/// `route-module.ts`) takes them from same-named query keys when *every* required one is there
/// (`?pid=foo` → `pid: "foo"`, the placeholder in the URL replaced by the value, the keys
/// removed from `query`), and from the path otherwise (`pid: "[pid]"`). For an ordinary
/// match, any placeholder spelled in the request path (`/post-[id]/x`) is replaced in the URL
/// by the encoded param, as Next's `interpolateDynamicPath` does.
pub(crate) fn match_path(
    pattern: &RoutePattern,
    pathname: &str,
    query: &mut Query,
    literal: bool,
) -> Option<Result<(Params, String), MalformedEscape>> {
    let segments = path_segments(pathname);
    let captures = pattern.match_segments(&segments)?;
    if !pattern.is_dynamic() {
        return Some(Ok((Params::default(), pathname.to_owned())));
    }
    let params: Vec<Param> = pattern.params().collect();
    if literal {
        let from_path = match pattern.decode_raw_params(&captures) {
            Ok(p) => p,
            Err(e) => return Some(Err(e)),
        };
        return Some(Ok(match normalize_dynamic_params(&params, query) {
            Some(from_query) => {
                let url_path = interpolate(pathname, &params, |name| query.get(name).cloned());
                for p in &params {
                    query.remove(&p.name);
                }
                (from_query, url_path)
            }
            None => (from_path, interpolate(pathname, &params, |_| None)),
        }));
    }
    let from_path = match pattern.decode_params(&captures) {
        Ok(p) => p,
        Err(e) => return Some(Err(e)),
    };
    let query_valid = normalize_dynamic_params(&params, query).is_some();
    let url_path = if !pathname.contains('[') {
        pathname.to_owned()
    } else if normalize_dynamic_params(&params, &mut from_path.clone()).is_some() {
        interpolate(pathname, &params, |name| from_path.get(name).cloned())
    } else if query_valid {
        interpolate(pathname, &params, |name| query.get(name).cloned())
    } else {
        interpolate(pathname, &params, |_| None)
    };
    Some(Ok((from_path, url_path)))
}

/// Appends `?search` unless the search is empty (an empty `?` disappears from Next's URLs).
pub(crate) fn push_search(url: &mut String, search: &str) {
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

impl ParamSource for Params {
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
fn normalize_dynamic_params(params: &[Param], source: &mut impl ParamSource) -> Option<Params> {
    let mut out = Params::default();
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
