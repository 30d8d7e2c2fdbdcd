//! The proxy's response headers on their way to the client, and the request as the matcher
//! reads it.

use std::borrow::Cow;

use http::header::{HeaderName, HeaderValue, CONTENT_LENGTH, COOKIE, SET_COOKIE};
use http::HeaderMap;

use super::matcher::MatchRequest;
use crate::app::ResponseCookies;
use crate::response::{header_value, ResponseError};

/// The answer's header that tells the client where the proxy rewrote to (Next leaks it too).
pub(crate) const REWRITE_HEADER: HeaderName = HeaderName::from_static("x-middleware-rewrite");

/// Headers of which Next's `sendResponse` keeps the route's values next to those set before
/// it (the proxy's); of any other header set by both, the proxy's value wins.
const MULTI_VALUED: [HeaderName; 3] = [
    HeaderName::from_static("www-authenticate"),
    HeaderName::from_static("proxy-authenticate"),
    http::header::VARY,
];

/// Whose value wins when the proxy and the answer set the same header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Precedence {
    /// The proxy's (Next's `sendResponse` for App route handlers, 404s, automatic answers:
    /// headers set before the route are kept), except `Set-Cookie`, `Vary`,
    /// `WWW-Authenticate` and `Proxy-Authenticate`, whose values are all kept, proxy first.
    Proxy,
    /// The answer's (a Pages handler's `res.setHeader` replaces; another function's answer
    /// carries its own, later, proxy run), except `Set-Cookie`: the proxy's lines come first.
    Answer,
}

/// What the proxy runs of one request leave for its answer: response headers (a later run's
/// value replaces an earlier one's), `Set-Cookie` lines in order, and the rewrite's URL.
#[derive(Debug, Default)]
pub(crate) struct ProxyHeaders {
    headers: HeaderMap,
    cookies: Vec<HeaderValue>,
    rewrite: Option<HeaderValue>,
}

impl ProxyHeaders {
    /// True when there is nothing to add to the answer.
    pub(crate) fn is_empty(&self) -> bool {
        self.headers.is_empty() && self.cookies.is_empty() && self.rewrite.is_none()
    }

    /// Adds one proxy run's headers and cookies: its `set-cookie` headers, then its cookie
    /// jar's lines (as `response.cookies` lines follow the headers in Next). An invalid cookie
    /// line is the proxy's error.
    pub(crate) fn add(
        &mut self,
        headers: HeaderMap,
        cookies: &ResponseCookies,
    ) -> Result<(), ResponseError> {
        let plain = !headers.contains_key(SET_COOKIE) && !headers.contains_key(CONTENT_LENGTH);
        if self.headers.is_empty() && plain {
            // The usual case (one run, a few headers): the map is taken as it is.
            self.headers = headers;
            return self.add_cookies(cookies);
        }
        let mut current: Option<HeaderName> = None;
        for (name, value) in headers {
            if let Some(name) = name {
                if name != SET_COOKIE && name != CONTENT_LENGTH {
                    self.headers.remove(&name);
                }
                current = Some(name);
            }
            match &current {
                Some(name) if name == SET_COOKIE => self.cookies.push(value),
                // The length is the answer's body's, never the proxy's.
                Some(name) if name == CONTENT_LENGTH => {}
                Some(name) => {
                    self.headers.append(name.clone(), value);
                }
                None => {}
            }
        }
        self.add_cookies(cookies)
    }

    fn add_cookies(&mut self, cookies: &ResponseCookies) -> Result<(), ResponseError> {
        for line in cookies.set_cookie_lines() {
            self.cookies.push(header_value(&line)?);
        }
        Ok(())
    }

    /// Records the rewrite's absolute URL (`x-middleware-rewrite`).
    pub(crate) fn rewrote_to(&mut self, url: &str) -> Result<(), ResponseError> {
        self.rewrite = Some(header_value(url)?);
        Ok(())
    }

    /// Puts the proxy's headers on an answer's headers.
    pub(crate) fn apply(&self, answer: &mut HeaderMap, precedence: Precedence) {
        if !self.cookies.is_empty() {
            let own: Vec<HeaderValue> = answer.get_all(SET_COOKIE).iter().cloned().collect();
            answer.remove(SET_COOKIE);
            for line in self.cookies.iter().chain(&own) {
                answer.append(SET_COOKIE, line.clone());
            }
        }
        for name in self.headers.keys() {
            let proxy = self.headers.get_all(name).iter().cloned();
            match precedence {
                Precedence::Proxy if MULTI_VALUED.contains(name) => {
                    let own: Vec<HeaderValue> = answer.get_all(name).iter().cloned().collect();
                    answer.remove(name);
                    for v in proxy.chain(own) {
                        answer.append(name.clone(), v);
                    }
                }
                Precedence::Proxy => {
                    answer.remove(name);
                    for v in proxy {
                        answer.append(name.clone(), v);
                    }
                }
                Precedence::Answer if answer.contains_key(name) => {}
                Precedence::Answer => {
                    for v in proxy {
                        answer.append(name.clone(), v);
                    }
                }
            }
        }
        if let Some(url) = &self.rewrite {
            // Another function's answer names its own, later, rewrite when it made one.
            if precedence == Precedence::Proxy || !answer.contains_key(REWRITE_HEADER) {
                answer.insert(REWRITE_HEADER, url.clone());
            }
        }
    }

    /// The headers alone, for an answer the proxy makes itself (a redirect, an early
    /// response): the answer is empty, so precedence does not matter.
    pub(crate) fn into_headers(self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        self.apply(&mut headers, Precedence::Proxy);
        headers
    }
}

/// A request as [`super::matcher::Matcher`] reads it: the normalised path, the raw query and
/// the headers (Node joins a repeated header with `, `, the `cookie` header with `; `).
pub(crate) struct MatchView<'a> {
    pub(crate) pathname: &'a str,
    pub(crate) query: &'a str,
    pub(crate) headers: &'a HeaderMap,
}

impl MatchRequest for MatchView<'_> {
    fn raw_path(&self) -> &str {
        self.pathname
    }

    fn raw_query(&self) -> &str {
        self.query
    }

    fn header(&self, name: &str) -> Option<Cow<'_, str>> {
        let mut values = self.headers.get_all(name).iter();
        let first = values.next()?;
        let Some(second) = values.next() else {
            return Some(String::from_utf8_lossy(first.as_bytes()));
        };
        let sep = if name == COOKIE.as_str() { "; " } else { ", " };
        let mut joined = String::from_utf8_lossy(first.as_bytes()).into_owned();
        for v in std::iter::once(second).chain(values) {
            joined.push_str(sep);
            joined.push_str(&String::from_utf8_lossy(v.as_bytes()));
        }
        Some(Cow::Owned(joined))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::CookieOptions;

    fn map(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(*k, HeaderValue::from_static(v));
        }
        map
    }

    fn values<'a>(headers: &'a HeaderMap, name: &str) -> Vec<&'a str> {
        headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect()
    }

    fn proxy_headers() -> ProxyHeaders {
        let mut jar = ResponseCookies::new();
        jar.set(
            "px",
            "1",
            CookieOptions {
                http_only: true,
                ..CookieOptions::default()
            },
        );
        let mut carry = ProxyHeaders::default();
        carry
            .add(
                map(&[
                    ("x-proxy-ran", "/a"),
                    ("content-type", "text/x-proxy"),
                    ("vary", "x-proxy"),
                    ("set-cookie", "direct=1"),
                    ("content-length", "99"),
                ]),
                &jar,
            )
            .unwrap();
        carry
    }

    #[test]
    fn the_proxy_wins_over_an_app_answer_except_multi_valued_headers() {
        let mut answer = map(&[
            ("content-type", "application/json"),
            ("vary", "accept"),
            ("set-cookie", "own=1"),
            ("content-length", "2"),
        ]);
        proxy_headers().apply(&mut answer, Precedence::Proxy);
        assert_eq!(values(&answer, "content-type"), ["text/x-proxy"]);
        assert_eq!(values(&answer, "vary"), ["x-proxy", "accept"]);
        assert_eq!(
            values(&answer, "set-cookie"),
            ["direct=1", "px=1; Path=/; HttpOnly", "own=1"]
        );
        assert_eq!(values(&answer, "x-proxy-ran"), ["/a"]);
        assert_eq!(values(&answer, "content-length"), ["2"]);
    }

    #[test]
    fn a_pages_answer_wins_over_the_proxy_except_cookies() {
        let mut answer = map(&[
            ("content-type", "application/json"),
            ("set-cookie", "own=1"),
        ]);
        proxy_headers().apply(&mut answer, Precedence::Answer);
        assert_eq!(values(&answer, "content-type"), ["application/json"]);
        assert_eq!(values(&answer, "vary"), ["x-proxy"]);
        assert_eq!(
            values(&answer, "set-cookie"),
            ["direct=1", "px=1; Path=/; HttpOnly", "own=1"]
        );
    }

    #[test]
    fn a_later_run_replaces_an_earlier_runs_headers_and_adds_cookies() {
        let mut carry = proxy_headers();
        carry
            .add(
                map(&[("x-proxy-ran", "/b"), ("set-cookie", "second=2")]),
                &ResponseCookies::new(),
            )
            .unwrap();
        carry.rewrote_to("https://h/b?via=rewrite").unwrap();
        let headers = carry.into_headers();
        assert_eq!(values(&headers, "x-proxy-ran"), ["/b"]);
        assert_eq!(
            values(&headers, "set-cookie"),
            ["direct=1", "px=1; Path=/; HttpOnly", "second=2"]
        );
        assert_eq!(
            values(&headers, "x-middleware-rewrite"),
            ["https://h/b?via=rewrite"]
        );
    }

    #[test]
    fn another_functions_rewrite_header_is_the_later_one() {
        let mut carry = ProxyHeaders::default();
        carry.rewrote_to("https://h/first").unwrap();
        let mut answer = map(&[("x-middleware-rewrite", "https://h/second")]);
        carry.apply(&mut answer, Precedence::Answer);
        assert_eq!(
            values(&answer, "x-middleware-rewrite"),
            ["https://h/second"]
        );
        let mut answer = HeaderMap::new();
        carry.apply(&mut answer, Precedence::Answer);
        assert_eq!(values(&answer, "x-middleware-rewrite"), ["https://h/first"]);
    }

    #[test]
    fn the_matcher_sees_joined_headers() {
        let headers = map(&[
            ("cookie", "a=1"),
            ("cookie", "skip=1"),
            ("x-go", "a"),
            ("x-go", "b"),
        ]);
        let view = MatchView {
            pathname: "/m4/a",
            query: "",
            headers: &headers,
        };
        assert_eq!(view.header("cookie").as_deref(), Some("a=1; skip=1"));
        assert_eq!(view.header("x-go").as_deref(), Some("a, b"));
        assert_eq!(view.header("x-none"), None);
    }
}
