//! The App Router's view of a request: WHATWG `URLSearchParams` and Next's `request.url`.

use serde::Serialize;

use super::complete::{match_path, push_search};
use super::pattern::{MalformedEscape, Params, RoutePattern};
use super::query::{is_internal_key, Query};

/// `request.nextUrl.searchParams`: a WHATWG `URLSearchParams` (every pair in order, repeated
/// keys kept, `+` is a space, malformed escapes kept literally), without the keys Next removes
/// (`__proto__`, `nxtP*`, `nxtI*`). Serialises as the corpus writes it: an object whose
/// repeated keys hold arrays.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchParams {
    pairs: Vec<(String, String)>,
}

impl SearchParams {
    /// Parses a raw query string (without `?`).
    pub fn parse(raw: &str) -> Self {
        let pairs = form_urlencoded::parse(raw.as_bytes())
            .filter(|(k, _)| !is_removed_key(k))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        SearchParams { pairs }
    }

    /// Every pair in order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// `searchParams.get(key)`: the first value of a key.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `searchParams.getAll(key)`: every value of a key, in order.
    pub fn get_all(&self, key: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// `searchParams.has(key)`.
    pub fn has(&self, key: &str) -> bool {
        self.pairs.iter().any(|(k, _)| k == key)
    }

    /// True when there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// Next's re-serialisation for `request.url`: pairs grouped by key in first-seen order,
    /// `application/x-www-form-urlencoded` encoding (`%20` → `+`, `[` → `%5B`).
    pub fn to_query_string(&self) -> String {
        self.grouped().to_search_string(|_| false)
    }

    /// The pairs grouped by key in first-seen order: what Next's round trip through a query
    /// object does to them, and how the corpus writes them.
    fn grouped(&self) -> Query {
        let mut query = Query::default();
        for (k, v) in &self.pairs {
            query.append(k.clone(), v.clone());
        }
        query
    }
}

/// Keys Next deletes from `searchParams` and `request.url` before a route handler runs:
/// `__proto__` as well as the internal keys it removes from the Pages Router's `req.query`.
fn is_removed_key(key: &str) -> bool {
    key == "__proto__" || is_internal_key(key)
}

impl Serialize for SearchParams {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.grouped().serialize(s)
    }
}

/// What one App Router pattern makes of a normalised request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppMatched {
    /// `context.params`: `None` for a static route.
    pub params: Option<Params>,
    /// `request.nextUrl.searchParams`.
    pub search_params: SearchParams,
    /// `request.url` without its origin: the path as sent (encoded) plus the re-serialised query.
    pub url: String,
    /// `request.nextUrl.pathname` (encoded).
    pub pathname: String,
}

/// [`super::complete`] for the App Router: matches a normalised pathname against one pattern.
/// `None` when it does not match; `Err` for a malformed escape in a param.
///
/// Params come from the path as for the Pages Router (query keys never override them), with
/// the same exception for a request of the literal pattern (`/r/[pid]?pid=foo` → `pid: "foo"`
/// and the path `/r/foo`); unlike `req.url`, `request.url` keeps the query keys named like
/// params.
pub fn complete_app(
    pattern: &RoutePattern,
    pathname: &str,
    raw_query: &str,
    literal: bool,
) -> Option<Result<AppMatched, MalformedEscape>> {
    let mut query = Query::parse_public(raw_query);
    let (params, path) = match match_path(pattern, pathname, &mut query, literal)? {
        Ok(m) => m,
        Err(e) => return Some(Err(e)),
    };
    let search_params = SearchParams::parse(raw_query);
    let mut url = path.clone();
    push_search(&mut url, &search_params.to_query_string());
    Some(Ok(AppMatched {
        params: pattern.is_dynamic().then_some(params),
        search_params,
        url,
        pathname: path,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(v: &impl Serialize) -> String {
        serde_json::to_string(v).unwrap()
    }

    #[test]
    fn url_search_params_parse() {
        let sp = SearchParams::parse("a=1&a=2&b=&c");
        assert_eq!(json(&sp), r#"{"a":["1","2"],"b":"","c":""}"#);
        assert_eq!(sp.get("a"), Some("1"));
        assert_eq!(sp.get_all("a"), ["1", "2"]);
        assert!(sp.has("c") && !sp.has("d"));
        let sp = SearchParams::parse("x=%20+y&y=%2B&e=%E2%9C%93&bad=%ZZ");
        assert_eq!(json(&sp), r#"{"x":"  y","y":"+","e":"✓","bad":"%ZZ"}"#);
        let sp = SearchParams::parse("__proto__=x&constructor=y&nxtPid=1&nxtIx=2&plain=3");
        assert_eq!(json(&sp), r#"{"constructor":"y","plain":"3"}"#);
        assert!(SearchParams::parse("").is_empty());
    }

    #[test]
    fn query_string_groups_and_form_encodes() {
        let cases = [
            ("a=1&a=2&b=&c", "a=1&a=2&b=&c="),
            ("x=%20+y&y=%2B&e=%E2%9C%93", "x=++y&y=%2B&e=%E2%9C%93"),
            ("a=1&b=2&a=3", "a=1&a=3&b=2"),
            (
                "arr[]=1&arr[]=2&o[k]=v",
                "arr%5B%5D=1&arr%5B%5D=2&o%5Bk%5D=v",
            ),
            ("bad=%ZZ&ok=1", "bad=%25ZZ&ok=1"),
            ("__proto__=x&constructor=y", "constructor=y"),
            ("", ""),
        ];
        for (raw, want) in cases {
            assert_eq!(SearchParams::parse(raw).to_query_string(), want, "{raw}");
        }
    }

    fn app(page: &str, path: &str, query: &str, literal: bool) -> AppMatched {
        let p = RoutePattern::parse(page).unwrap();
        complete_app(&p, path, query, literal).unwrap().unwrap()
    }

    #[test]
    fn static_routes_have_no_params() {
        let m = app("/api/r01/about", "/api/r01/about", "a=1&b=2&a=3", false);
        assert_eq!(m.params, None);
        assert_eq!(m.url, "/api/r01/about?a=1&a=3&b=2");
        assert_eq!(m.pathname, "/api/r01/about");
        let m = app("/", "/", "", false);
        assert_eq!((m.params, m.url.as_str()), (None, "/"));
    }

    #[test]
    fn params_come_from_the_path() {
        let m = app("/api/r01/[id]", "/api/r01/x", "id=q&id=r", false);
        assert_eq!(json(&m.params), r#"{"id":"x"}"#);
        assert_eq!(json(&m.search_params), r#"{"id":["q","r"]}"#);
        assert_eq!(m.url, "/api/r01/x?id=q&id=r");
        let m = app("/api/r06/[pid]", "/api/r06/a%2Fb", "", false);
        assert_eq!(json(&m.params), r#"{"pid":"a/b"}"#);
        assert_eq!(
            (m.url.as_str(), m.pathname.as_str()),
            ("/api/r06/a%2Fb", "/api/r06/a%2Fb")
        );
        let m = app("/api/c/[...rest]", "/api/c/a%2Fb/c", "", false);
        assert_eq!(json(&m.params), r#"{"rest":["a/b","c"]}"#);
    }

    #[test]
    fn optional_catch_all_empty_or_index_is_an_empty_object() {
        for path in ["/api/opt", "/api/opt/index"] {
            let m = app("/api/opt/[[...slug]]", path, "slug=q", false);
            assert_eq!(json(&m.params), "{}", "{path}");
            assert_eq!(json(&m.search_params), r#"{"slug":"q"}"#, "{path}");
        }
    }

    #[test]
    fn the_literal_pattern_takes_params_from_the_query() {
        let m = app("/api/r06/[pid]", "/api/r06/[pid]", "pid=foo", true);
        assert_eq!(json(&m.params), r#"{"pid":"foo"}"#);
        assert_eq!(m.url, "/api/r06/foo?pid=foo");
        assert_eq!(m.pathname, "/api/r06/foo");
        let m = app("/api/r06/[pid]", "/api/r06/[pid]", "", true);
        assert_eq!(json(&m.params), r#"{"pid":"[pid]"}"#);
        assert_eq!(m.url, "/api/r06/[pid]");
    }

    #[test]
    fn malformed_escapes_are_errors_and_misses_are_none() {
        let p = RoutePattern::parse("/api/r06/[pid]").unwrap();
        for bad in ["/api/r06/%ZZ", "/api/r06/100%", "/api/r06/%C3"] {
            assert_eq!(complete_app(&p, bad, "", false), Some(Err(MalformedEscape)));
        }
        assert_eq!(complete_app(&p, "/api/r07/x", "", false), None);
    }
}
