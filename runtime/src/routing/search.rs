//! The App Router's view of a request: WHATWG `URLSearchParams` and Next's `request.url`.

use serde::Serialize;

use super::pattern::{MalformedEscape, Params, RoutePattern};

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
        let _ = raw;
        todo!("SearchParams::parse")
    }

    /// Every pair in order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// Next's re-serialisation for `request.url`: pairs grouped by key in first-seen order,
    /// `application/x-www-form-urlencoded` encoding (`%20` → `+`, `[` → `%5B`).
    pub fn to_query_string(&self) -> String {
        todo!("SearchParams::to_query_string")
    }
}

impl Serialize for SearchParams {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let _ = s;
        todo!("SearchParams as an object")
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
pub fn complete_app(
    pattern: &RoutePattern,
    pathname: &str,
    raw_query: &str,
    literal: bool,
) -> Option<Result<AppMatched, MalformedEscape>> {
    let _ = (pattern, pathname, raw_query, literal);
    todo!("complete_app")
}
