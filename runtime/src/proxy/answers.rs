//! The answers the proxy makes without a route: its redirects (Next's rules for a proxy's
//! `Location`), its 500 page, and the URLs it is given, resolved as `new URL(url,
//! request.url)`.

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use http::HeaderMap;

use crate::dispatch::Outgoing;

/// Next's recursion limit for nested proxy runs: the fifth rewrite of one request is refused.
pub(crate) const MAX_REWRITES: u32 = 5;

/// Next's error page for a proxy that throws, shortened: a 500 in HTML.
const ERROR_PAGE: &str = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>500: Internal Server Error</title></head><body><h1>500</h1><p>Internal Server Error.</p></body></html>";

/// A URL the proxy gave that is not a URL, even relative to the request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("TypeError: Invalid URL: {0}")]
pub(crate) struct InvalidUrl(pub(crate) String);

/// `new URL(url, base)`: `url` absolute, or relative to the request's URL `base`.
pub(crate) fn resolve(url: &str, base: &str) -> Result<url::Url, InvalidUrl> {
    let base = url::Url::parse(base).map_err(|_| InvalidUrl(base.to_owned()))?;
    base.join(url).map_err(|_| InvalidUrl(url.to_owned()))
}

/// True when `url` has the scheme, host and port of `origin` (`https://host[:port]`).
pub(crate) fn same_origin(url: &url::Url, origin: &url::Url) -> bool {
    url.scheme() == origin.scheme()
        && url.host_str() == origin.host_str()
        && url.port_or_known_default() == origin.port_or_known_default()
}

/// The path and query of a URL (`/a%20b?x=1`): a rewrite's target.
pub(crate) fn path_and_query(url: &url::Url) -> &str {
    &url[url::Position::BeforePath..url::Position::AfterQuery]
}

/// Next's `getRelativeURL`: the location without its origin when it is the request's.
fn location(url: &url::Url, origin: &url::Url) -> String {
    if same_origin(url, origin) {
        url[url::Position::BeforePath..].to_owned()
    } else {
        url.as_str().to_owned()
    }
}

/// The proxy's redirect: `status`, `Location` relative when it is the request's origin
/// (absolute otherwise), the location as the body, and `Refresh: 0;url=…` for a 308 only.
/// `headers` are the proxy's own response headers.
pub(crate) fn redirect(
    url: &url::Url,
    origin: &url::Url,
    status: u16,
    mut headers: HeaderMap,
) -> Option<Outgoing> {
    let location = location(url, origin);
    headers.insert(LOCATION, HeaderValue::from_str(&location).ok()?);
    if status == 308 {
        let refresh = HeaderValue::from_str(&format!("0;url={location}")).ok()?;
        headers.insert(HeaderName::from_static("refresh"), refresh);
    }
    Some(Outgoing {
        status,
        headers,
        body: Bytes::from(location),
    })
}

/// The proxy's 500: what Next sends when the proxy throws (an HTML error page, not cached),
/// also when a rewrite cannot be served.
pub(crate) fn error_page() -> Outgoing {
    let mut headers = HeaderMap::new();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache, no-store, max-age=0, must-revalidate"),
    );
    Outgoing {
        status: 500,
        headers,
        body: Bytes::from_static(ERROR_PAGE.as_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> url::Url {
        url::Url::parse(s).unwrap()
    }

    fn answer(to: &str, status: u16) -> Outgoing {
        let origin = url("https://api.example.com/api/px/redirect?orig=1");
        let target = resolve(to, origin.as_str()).unwrap();
        redirect(&target, &origin, status, HeaderMap::new()).unwrap()
    }

    #[test]
    fn a_same_origin_redirect_is_relative_with_the_location_as_body() {
        let out = answer("/api/px/target/from-redirect?via=redirect", 307);
        assert_eq!(out.status, 307);
        assert_eq!(
            out.headers[LOCATION],
            "/api/px/target/from-redirect?via=redirect"
        );
        assert_eq!(out.body, "/api/px/target/from-redirect?via=redirect");
        assert!(out.headers.get("refresh").is_none());
        // Absolute on the request's own origin: the same.
        let out = answer("https://api.example.com:443/x#frag", 307);
        assert_eq!(out.headers[LOCATION], "/x#frag");
    }

    #[test]
    fn only_308_gets_a_refresh_header() {
        let out = answer("/api/px/target/r308", 308);
        assert_eq!(out.headers["refresh"], "0;url=/api/px/target/r308");
        assert_eq!(out.body, "/api/px/target/r308");
        for status in [301, 302, 303, 307] {
            assert!(answer("/x", status).headers.get("refresh").is_none());
        }
    }

    #[test]
    fn another_origin_stays_absolute() {
        let out = answer(
            "https://example.com/login?next=%2Fapi%2Fpx%2Fredirect-external",
            307,
        );
        assert_eq!(
            out.headers[LOCATION],
            "https://example.com/login?next=%2Fapi%2Fpx%2Fredirect-external"
        );
        // Another scheme or port is another origin too.
        assert_eq!(
            answer("http://api.example.com/x", 307).headers[LOCATION],
            "http://api.example.com/x"
        );
        assert_eq!(
            answer("https://api.example.com:8443/x", 307).headers[LOCATION],
            "https://api.example.com:8443/x"
        );
    }

    #[test]
    fn urls_resolve_against_the_request() {
        let base = "https://h/api/px/rewrite-param/a%20b?q=1";
        let u = resolve("/api/px/target/a%20b", base).unwrap();
        assert_eq!(path_and_query(&u), "/api/px/target/a%20b");
        let u = resolve("target?via=1", base).unwrap();
        assert_eq!(path_and_query(&u), "/api/px/rewrite-param/target?via=1");
        assert!(resolve("http://[::1", base).is_err());
    }

    #[test]
    fn the_error_page_is_html_and_not_cached() {
        let out = error_page();
        assert_eq!(out.status, 500);
        assert_eq!(out.headers[CONTENT_TYPE], "text/html; charset=utf-8");
        assert!(String::from_utf8_lossy(&out.body).starts_with("<!DOCTYPE html>"));
    }
}
