//! Request-target normalisation, as `next start` does it before routing.

use super::query::Query;

/// A raw request target after Next's pre-routing steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Normalized<'a> {
    /// Answer 308 with this `Location` (backslash, `//`, or a trailing slash).
    Redirect(String),
    /// Route this pathname (dot segments resolved, WHATWG-encoded, no trailing slash except
    /// for `/` itself) with the raw query string (without `?`, maybe empty).
    Path {
        /// The normalised, still percent-encoded pathname.
        pathname: String,
        /// The query string as received, without the `?`.
        query: &'a str,
    },
}

/// A request target that is not an origin-form path (`/…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the request target must start with '/'")]
pub struct InvalidTarget;

/// Normalises a raw request target (path plus optional query, byte for byte as received).
///
/// 0. ASCII tab, LF and CR are removed first, as the WHATWG URL parser removes them before
///    anything else (an HTTP request line cannot carry them, but API Gateway hands the
///    `$default` function a decoded path, where `%09` is a tab). Without this, `/\t/evil.com/`
///    would pass step 1 and step 3 would answer `Location: //evil.com`: every `Location` made
///    here is a same-origin path (see [`is_same_origin_path`]).
/// 1. `\` or `//` in the path → 308 to the path with `\` → `/` and slash runs collapsed, the
///    query kept as received.
/// 2. WHATWG URL parsing: dot segments resolved (`%2e` included), characters outside the path
///    set percent-encoded, fragment dropped.
/// 3. A trailing slash (other than `/`) → 308 to the path without it, query re-serialised.
pub fn normalize(raw: &str) -> Result<Normalized<'_>, InvalidTarget> {
    if raw.contains(is_url_whitespace) {
        let stripped = raw.replace(is_url_whitespace, "");
        if let Normalized::Redirect(location) = normalize_stripped(&stripped)? {
            return Ok(Normalized::Redirect(location));
        }
        // Removing characters never removes a `/` or `\`, and the path steps drop them
        // anyway: the path is the same, and the query is borrowed as received.
    }
    normalize_stripped(raw)
}

/// True for the characters the WHATWG URL parser removes from anywhere in a URL.
fn is_url_whitespace(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r')
}

/// True when a `Location` is a path of the same origin: it starts with one `/` that no `/`
/// or `\` follows (a browser reads `//host` and `/\host` as another origin), and holds no
/// character a browser would drop before reading it (tab, LF, CR).
pub fn is_same_origin_path(location: &str) -> bool {
    let mut chars = location.chars();
    chars.next() == Some('/')
        && !matches!(chars.next(), Some('/' | '\\'))
        && !location.contains(is_url_whitespace)
}

fn normalize_stripped(raw: &str) -> Result<Normalized<'_>, InvalidTarget> {
    let (raw_path, raw_query) = match raw.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (raw, None),
    };
    if raw_path.contains('\\') || raw_path.contains("//") {
        if !raw_path.starts_with(['/', '\\']) {
            return Err(InvalidTarget);
        }
        let mut location = collapse_slashes(raw_path);
        if let Some(q) = raw_query.filter(|q| !q.is_empty()) {
            location.push('?');
            location.push_str(q);
        }
        return Ok(Normalized::Redirect(location));
    }
    let input = raw.trim_matches(|c: char| c <= ' ');
    if !input.starts_with('/') {
        return Err(InvalidTarget);
    }
    let input = input.split('#').next().unwrap_or_default();
    let (path, query) = match input.split_once('?') {
        Some((p, q)) => (p, q),
        None => (input, ""),
    };
    let pathname = resolve_path(path);
    if pathname.len() > 1 && pathname.ends_with('/') {
        let mut location = pathname[..pathname.len() - 1].to_owned();
        let search = stringify_redirect_query(&Query::parse(query));
        if !search.is_empty() {
            location.push('?');
            location.push_str(&search);
        }
        return Ok(Normalized::Redirect(location));
    }
    Ok(Normalized::Path { pathname, query })
}

/// HTTP APIs hand over `rawPath` percent-decoded (`/a%23b` arrives as `/a#b`), Function URLs
/// still encoded; the two cannot be told apart. A `#` or `?` never appears literally in an
/// encoded path, so one in `rawPath` came from an escape: it is escaped again, not taken for
/// the start of a fragment or a query (Next answers `/api/post/a%23b` with `pid: "a#b"`). A
/// bare `%` stays as it is: in an encoded path it is a malformed escape (Next's 400), and an
/// HTTP API only delivers one for a path escaped three times. (Spaces, control and non-ASCII
/// characters need nothing here: Next's URL parsing encodes them.)
pub fn escape_decoded_path(path: &str) -> String {
    if !path.contains(['#', '?']) {
        return path.to_owned();
    }
    path.replace('#', "%23").replace('?', "%3F")
}

fn collapse_slashes(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        let c = if c == '\\' { '/' } else { c };
        if c == '/' && out.ends_with('/') {
            continue;
        }
        out.push(c);
    }
    out
}

/// WHATWG path parsing for a special scheme: percent-encode with the path set and resolve
/// `.`/`..` segments (also spelled `%2e`), tabs and newlines removed.
fn resolve_path(path: &str) -> String {
    let mut segments: Vec<String> = Vec::new();
    let body = path.strip_prefix('/').unwrap_or(path);
    let mut parts = body.split('/').peekable();
    while let Some(part) = parts.next() {
        let last = parts.peek().is_none();
        let encoded = encode_path_segment(part);
        if is_double_dot(&encoded) {
            segments.pop();
            if last {
                segments.push(String::new());
            }
        } else if is_single_dot(&encoded) {
            if last {
                segments.push(String::new());
            }
        } else {
            segments.push(encoded);
        }
    }
    let mut out = String::with_capacity(path.len() + 1);
    for s in &segments {
        out.push('/');
        out.push_str(s);
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

fn is_single_dot(s: &str) -> bool {
    s == "." || s.eq_ignore_ascii_case("%2e")
}

fn is_double_dot(s: &str) -> bool {
    matches!(
        s.to_ascii_lowercase().as_str(),
        ".." | ".%2e" | "%2e." | "%2e%2e"
    )
}

fn encode_path_segment(part: &str) -> String {
    let mut out = String::with_capacity(part.len());
    for &b in part.as_bytes() {
        match b {
            b'\t' | b'\n' | b'\r' => {}
            0..=0x1f | b' ' | b'"' | b'#' | b'<' | b'>' | b'?' | b'`' | b'{' | b'}' | 0x7f.. => {
                push_pct(&mut out, b)
            }
            _ => out.push(b as char),
        }
    }
    out
}

fn push_pct(out: &mut String, b: u8) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push('%');
    out.push(HEX[(b >> 4) as usize] as char);
    out.push(HEX[(b & 15) as usize] as char);
}

/// JavaScript's `encodeURIComponent`.
pub fn encode_uri_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'_'
            | b'.'
            | b'!'
            | b'~'
            | b'*'
            | b'\''
            | b'('
            | b')' => out.push(b as char),
            _ => push_pct(&mut out, b),
        }
    }
    out
}

/// Next rebuilds a redirect's query with Node's `querystring.stringify` and
/// `encodeURIComponent` (`server-route-utils.ts` `stringifyQuery`).
fn stringify_redirect_query(query: &Query) -> String {
    let mut out = String::new();
    for (k, v) in query {
        for value in v.all() {
            if !out.is_empty() {
                out.push('&');
            }
            out.push_str(&encode_uri_component(k));
            out.push('=');
            out.push_str(&encode_uri_component(value));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(p: &str) -> Normalized<'_> {
        Normalized::Path {
            pathname: p.into(),
            query: "",
        }
    }

    #[test]
    fn slashes_and_dots() {
        let r = |s: &str| Normalized::Redirect(s.into());
        assert_eq!(normalize("/api/t12//x"), Ok(r("/api/t12/x")));
        assert_eq!(normalize("/api/t12/x//"), Ok(r("/api/t12/x/")));
        assert_eq!(normalize("/api/t12\\x"), Ok(r("/api/t12/x")));
        assert_eq!(normalize("/a//b?x=1"), Ok(r("/a/b?x=1")));
        assert_eq!(normalize("/api/t12/x/"), Ok(r("/api/t12/x")));
        assert_eq!(normalize("/api/t12/x/?a=1"), Ok(r("/api/t12/x?a=1")));
        assert_eq!(normalize("/api/t12/%2e"), Ok(r("/api/t12")));
        assert_eq!(normalize("/api/t12/./x"), Ok(path("/api/t12/x")));
        assert_eq!(normalize("/api/t12/y/../x"), Ok(path("/api/t12/x")));
        assert_eq!(normalize("/api/t12/c/a/%2E%2E/b"), Ok(path("/api/t12/c/b")));
        assert_eq!(normalize("/.."), Ok(path("/")));
        assert_eq!(normalize("/"), Ok(path("/")));
        assert_eq!(normalize("/a b{c}é"), Ok(path("/a%20b%7Bc%7D%C3%A9")));
        assert_eq!(normalize("api"), Err(InvalidTarget));
        assert_eq!(normalize(""), Err(InvalidTarget));
    }

    #[test]
    fn tabs_and_newlines_never_make_a_redirect_to_another_origin() {
        let r = |s: &str| Ok(Normalized::Redirect(s.into()));
        for (sent, location) in [
            ("/\t/evil.com/", "/evil.com/"),
            ("/\n/evil.com/", "/evil.com/"),
            ("/\r/evil.com/", "/evil.com/"),
            ("/\t\\evil.com", "/evil.com"),
            ("/\r\n/\t/evil.com/?a=1", "/evil.com/?a=1"),
            ("/a\t/", "/a"),
        ] {
            assert_eq!(normalize(sent), r(location), "{sent:?}");
        }
        assert_eq!(normalize("/a\tb"), Ok(path("/ab")));
    }

    #[test]
    fn same_origin_paths() {
        for ok in ["/", "/a", "/a//b", "/%2F/x", "/%5C/x"] {
            assert!(is_same_origin_path(ok), "{ok}");
        }
        for bad in [
            "//evil.com",
            "/\\evil.com",
            "evil.com",
            "",
            "/\t/evil.com",
            "https://x",
        ] {
            assert!(!is_same_origin_path(bad), "{bad}");
        }
    }

    #[test]
    fn encode_component() {
        assert_eq!(encode_uri_component("a b+c/é~*"), "a%20b%2Bc%2F%C3%A9~*");
    }
}
