//! `request.cookies` ([`RequestCookies`]) and `response.cookies` ([`ResponseCookies`]) of an
//! App Router handler, with the rules of Next's `@edge-runtime/cookies` (spec §6, §7), which
//! differ from the Pages Router's: the last duplicate wins, an undecodable cookie is dropped,
//! `Set-Cookie` attributes come in another order and `path` defaults to `/`.

use std::time::{Duration, SystemTime};

use http::HeaderMap;
use serde::Serialize;

use crate::response::{CookieOptions, Priority, SameSite};
use crate::routing::{decode_uri_component, encode_uri_component, OrderedMap};

/// One request cookie as Next's `request.cookies.get(name)` returns it: `{name, value}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cookie {
    /// The name, as sent (not decoded, not trimmed).
    pub name: String,
    /// The percent-decoded value (quotes kept).
    pub value: String,
}

/// `request.cookies`: the `Cookie` header parsed as Next's `RequestCookies` parses it.
///
/// Serialises as `getAll()` does: a list of `{name, value}`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestCookies(OrderedMap<Cookie>);

impl RequestCookies {
    /// Parses one `Cookie` header value (`parseCookie`): pairs split on `;` and the spaces
    /// after it, a pair without `=` is the value `"true"`, the name is everything before the
    /// first `=`, the value is `decodeURIComponent`-ed (a value that cannot be decoded drops
    /// that pair), and a later duplicate replaces the value in the first one's place.
    pub fn parse(header: &str) -> Self {
        let mut map = OrderedMap::default();
        for pair in header.split(';') {
            // `split(/; */)`: only spaces after the `;` are separators, not tabs.
            let pair = pair.trim_start_matches(' ');
            if pair.is_empty() {
                continue;
            }
            let (name, value) = match pair.split_once('=') {
                None => (pair, "true".to_owned()),
                Some((name, raw)) => match decode_uri_component(raw) {
                    Ok(value) => (name, value),
                    Err(_) => continue,
                },
            };
            let cookie = Cookie {
                name: name.to_owned(),
                value,
            };
            map.set(name.to_owned(), cookie);
        }
        RequestCookies(map)
    }

    /// Parses the `Cookie` headers of a request: several headers are joined with `"; "`, as
    /// Node joins them before Next reads the one `cookie` header.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let values: Vec<String> = headers
            .get_all(http::header::COOKIE)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        Self::parse(&values.join("; "))
    }

    /// The value of a cookie (`request.cookies.get(name)?.value`).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(|c| c.value.as_str())
    }

    /// The cookie as `{name, value}` (`request.cookies.get(name)`), for serialising.
    pub fn cookie(&self, name: &str) -> Option<&Cookie> {
        self.0.get(name)
    }

    /// Every cookie, in the order their names first appeared (`getAll()`).
    pub fn get_all(&self) -> impl Iterator<Item = &Cookie> {
        self.0.entries().iter().map(|(_, c)| c)
    }

    /// True when a cookie of that name was sent (`has(name)`).
    pub fn has(&self, name: &str) -> bool {
        self.0.contains(name)
    }

    /// The number of distinct cookies (`size`).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when no cookie was sent.
    pub fn is_empty(&self) -> bool {
        self.0.len() == 0
    }
}

impl Serialize for RequestCookies {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.get_all())
    }
}

/// A response cookie: its name, value and attributes, as `response.cookies.get(name)` holds
/// it (after Next's normalisation: `path` defaulted, `Expires` derived from `Max-Age`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseCookie {
    /// The name.
    pub name: String,
    /// The value, before percent-encoding.
    pub value: String,
    /// The attributes.
    pub options: CookieOptions,
}

impl ResponseCookie {
    /// The `Set-Cookie` line (`stringifyCookie`): `name=<encodeURIComponent(value)>`, then
    /// `Path`, `Expires`, `Max-Age`, `Domain`, `Secure`, `HttpOnly`, `SameSite` (lower case,
    /// as Next's users write it), `Partitioned`, `Priority` (lower case).
    pub fn to_set_cookie(&self) -> String {
        let o = &self.options;
        let mut attrs: Vec<String> = Vec::new();
        if let Some(path) = o.path.as_deref().filter(|p| !p.is_empty()) {
            attrs.push(format!("Path={path}"));
        }
        if let Some(expires) = o.expires.as_deref().filter(|e| !e.is_empty()) {
            attrs.push(format!("Expires={expires}"));
        }
        if let Some(age) = o.max_age {
            attrs.push(format!("Max-Age={age}"));
        }
        if let Some(domain) = o.domain.as_deref().filter(|d| !d.is_empty()) {
            attrs.push(format!("Domain={domain}"));
        }
        if o.secure {
            attrs.push("Secure".into());
        }
        if o.http_only {
            attrs.push("HttpOnly".into());
        }
        if let Some(same_site) = o.same_site {
            attrs.push(format!("SameSite={}", same_site_text(same_site)));
        }
        if o.partitioned {
            attrs.push("Partitioned".into());
        }
        if let Some(priority) = o.priority {
            attrs.push(format!("Priority={}", priority_text(priority)));
        }
        let mut line = format!("{}={}", self.name, encode_uri_component(&self.value));
        for attr in attrs {
            line.push_str("; ");
            line.push_str(&attr);
        }
        line
    }
}

fn same_site_text(s: SameSite) -> &'static str {
    match s {
        SameSite::Strict => "strict",
        SameSite::Lax => "lax",
        SameSite::None => "none",
    }
}

fn priority_text(p: Priority) -> &'static str {
    match p {
        Priority::Low => "low",
        Priority::Medium => "medium",
        Priority::High => "high",
    }
}

/// `Expires` of a deleted cookie: the epoch.
const EPOCH_HTTP_DATE: &str = "Thu, 01 Jan 1970 00:00:00 GMT";

/// `response.cookies`: the cookies a handler sets, one `Set-Cookie` line per name.
///
/// Setting a name again replaces its cookie in place (Next keeps them in a `Map`), and
/// [`delete`](Self::delete) is a set that expires it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResponseCookies(OrderedMap<ResponseCookie>);

impl ResponseCookies {
    /// An empty jar.
    pub fn new() -> Self {
        Self::default()
    }

    /// `set(name, value, options)`: `path` defaults to `/`; a non-zero `max_age` also sets
    /// `Expires` to now plus `max_age` (replacing a given `expires`), while `max_age: 0`
    /// sends only `Max-Age=0`.
    pub fn set(&mut self, name: &str, value: &str, options: CookieOptions) -> &mut Self {
        self.set_at(name, value, options, SystemTime::now())
    }

    /// [`set`](Self::set) with the clock given, so `Expires` is testable.
    pub(crate) fn set_at(
        &mut self,
        name: &str,
        value: &str,
        mut options: CookieOptions,
        now: SystemTime,
    ) -> &mut Self {
        if let Some(age) = options.max_age.filter(|&a| a != 0) {
            options.expires = Some(http_date_after(now, age));
        }
        if options.path.is_none() {
            options.path = Some("/".into());
        }
        let cookie = ResponseCookie {
            name: name.to_owned(),
            value: value.to_owned(),
            options,
        };
        self.0.set(name.to_owned(), cookie);
        self
    }

    /// `delete(name)`: `name=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT`.
    pub fn delete(&mut self, name: &str) -> &mut Self {
        self.delete_with(name, None, None)
    }

    /// `delete({name, path, domain})`: the expired cookie for that path and domain (a cookie
    /// set for `/api` is only removed by a delete for `/api`).
    pub fn delete_with(
        &mut self,
        name: &str,
        path: Option<&str>,
        domain: Option<&str>,
    ) -> &mut Self {
        let options = CookieOptions {
            path: path.map(str::to_owned),
            domain: domain.map(str::to_owned),
            expires: Some(EPOCH_HTTP_DATE.into()),
            ..Default::default()
        };
        self.set(name, "", options)
    }

    /// The cookie set under a name (`get(name)`).
    pub fn get(&self, name: &str) -> Option<&ResponseCookie> {
        self.0.get(name)
    }

    /// Every cookie, in the order their names were first set (`getAll()`).
    pub fn get_all(&self) -> impl Iterator<Item = &ResponseCookie> {
        self.0.entries().iter().map(|(_, c)| c)
    }

    /// True when a cookie of that name was set or deleted (`has(name)`).
    pub fn has(&self, name: &str) -> bool {
        self.0.contains(name)
    }

    /// The number of cookies.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when none was set.
    pub fn is_empty(&self) -> bool {
        self.0.len() == 0
    }

    /// The `Set-Cookie` header lines, one per cookie, in order. A name, path, domain or
    /// expiry with control characters makes a line that `http::HeaderValue` refuses (as
    /// `Headers.append` throws in Next); the caller turns that into its error.
    pub fn set_cookie_lines(&self) -> impl Iterator<Item = String> + '_ {
        self.get_all().map(ResponseCookie::to_set_cookie)
    }
}

/// `new Date(now + seconds * 1000).toUTCString()`, clamped to the dates an HTTP date can say.
fn http_date_after(now: SystemTime, seconds: i64) -> String {
    let shift = Duration::from_secs(seconds.unsigned_abs());
    // httpdate formats years 1970–9999; JavaScript's Date goes further, but no browser
    // tells those apart from the nearest bound.
    let max = SystemTime::UNIX_EPOCH + Duration::from_secs(253_402_300_799);
    let when = if seconds >= 0 {
        now.checked_add(shift).unwrap_or(max)
    } else {
        now.checked_sub(shift).unwrap_or(SystemTime::UNIX_EPOCH)
    };
    let when = when.clamp(SystemTime::UNIX_EPOCH, max);
    httpdate::fmt_http_date(when)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(c: &RequestCookies) -> Vec<(&str, &str)> {
        c.get_all()
            .map(|c| (c.name.as_str(), c.value.as_str()))
            .collect()
    }

    #[test]
    fn recorded_basic() {
        // q-cookies-basic
        let c = RequestCookies::parse("a=1; b=hello%20world; c=\"quoted\"");
        assert_eq!(
            all(&c),
            [("a", "1"), ("b", "hello world"), ("c", "\"quoted\"")]
        );
        assert_eq!(c.get("a"), Some("1"));
        assert!(c.has("b"));
        assert_eq!(c.len(), 3);
        assert_eq!(
            serde_json::to_value(c.cookie("a")).unwrap(),
            serde_json::json!({"name": "a", "value": "1"})
        );
    }

    #[test]
    fn recorded_duplicates_and_odd_pairs() {
        // q-cookies-duplicates-odd
        let c = RequestCookies::parse("a=first; a=second;b=; =anon; flag; d=x=y; e=100%");
        assert_eq!(
            serde_json::to_value(&c).unwrap(),
            serde_json::json!([
                {"name": "a", "value": "second"},
                {"name": "b", "value": ""},
                {"name": "", "value": "anon"},
                {"name": "flag", "value": "true"},
                {"name": "d", "value": "x=y"},
            ])
        );
        assert_eq!(c.len(), 5);
        assert!(!c.has("e"));
    }

    #[test]
    fn undecodable_duplicate_keeps_the_earlier_value() {
        // The failed decode skips the `map.set`, so the first value stays.
        let c = RequestCookies::parse("e=1; e=100%");
        assert_eq!(c.get("e"), Some("1"));
    }

    #[test]
    fn only_spaces_separate_and_names_are_raw() {
        let c = RequestCookies::parse("a=1;\tb=2;;  c=3 ");
        assert_eq!(all(&c), [("a", "1"), ("\tb", "2"), ("c", "3 ")]);
    }

    #[test]
    fn no_header_is_empty() {
        let c = RequestCookies::from_headers(&HeaderMap::new());
        assert!(c.is_empty());
        assert_eq!(serde_json::to_string(&c).unwrap(), "[]");
    }

    #[test]
    fn several_cookie_headers_join() {
        let mut h = HeaderMap::new();
        h.append("cookie", "a=1; b=2".parse().unwrap());
        h.append("cookie", "a=3".parse().unwrap());
        let c = RequestCookies::from_headers(&h);
        assert_eq!(all(&c), [("a", "3"), ("b", "2")]);
    }

    /// 2026-12-04T17:58:51Z, the recorded `Expires` minus the recorded `Max-Age`.
    fn recorded_now() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_407_131)
    }

    #[test]
    fn recorded_response_cookies() {
        // s-response-cookies-set
        let mut jar = ResponseCookies::new();
        jar.set_at(
            "session",
            "abc123",
            CookieOptions {
                http_only: true,
                secure: true,
                same_site: Some(SameSite::Lax),
                path: Some("/".into()),
                max_age: Some(3600),
                domain: Some("example.com".into()),
                ..Default::default()
            },
            recorded_now(),
        );
        let prefs = CookieOptions {
            path: Some("/api".into()),
            ..Default::default()
        };
        jar.set("prefs", "dark mode;1", prefs);
        let strict = CookieOptions {
            same_site: Some(SameSite::Strict),
            expires: Some("Wed, 02 Jan 2030 03:04:05 GMT".into()),
            ..Default::default()
        };
        jar.set("strict", "x", strict);
        let part = CookieOptions {
            partitioned: true,
            secure: true,
            priority: Some(Priority::High),
            ..Default::default()
        };
        jar.set("part", "p", part);
        jar.delete("old");
        assert_eq!(
            jar.set_cookie_lines().collect::<Vec<_>>(),
            [
                "session=abc123; Path=/; Expires=Fri, 04 Dec 2026 18:58:51 GMT; Max-Age=3600; Domain=example.com; Secure; HttpOnly; SameSite=lax",
                "prefs=dark%20mode%3B1; Path=/api",
                "strict=x; Path=/; Expires=Wed, 02 Jan 2030 03:04:05 GMT; SameSite=strict",
                "part=p; Path=/; Secure; Partitioned; Priority=high",
                "old=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
            ]
        );
    }

    #[test]
    fn recorded_next_headers_cookies() {
        // s-next-headers-cookies-set (the jar's lines; the runtime appends them last)
        let mut jar = ResponseCookies::new();
        let http_only = CookieOptions {
            http_only: true,
            ..Default::default()
        };
        jar.set("nh", "v1", http_only).delete("gone");
        assert_eq!(
            jar.set_cookie_lines().collect::<Vec<_>>(),
            [
                "nh=v1; Path=/; HttpOnly",
                "gone=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT"
            ]
        );
    }

    #[test]
    fn max_age_zero_and_negative() {
        let mut jar = ResponseCookies::new();
        let zero = CookieOptions {
            max_age: Some(0),
            ..Default::default()
        };
        jar.set("z", "1", zero);
        let negative = CookieOptions {
            max_age: Some(-10),
            ..Default::default()
        };
        jar.set_at("n", "1", negative, recorded_now());
        let lines: Vec<_> = jar.set_cookie_lines().collect();
        assert_eq!(lines[0], "z=1; Path=/; Max-Age=0");
        assert_eq!(
            lines[1],
            "n=1; Path=/; Expires=Fri, 04 Dec 2026 17:58:41 GMT; Max-Age=-10"
        );
    }

    #[test]
    fn setting_again_replaces_in_place() {
        let mut jar = ResponseCookies::new();
        jar.set("a", "1", CookieOptions::default())
            .set("b", "2", CookieOptions::default())
            .set("a", "3", CookieOptions::default());
        assert_eq!(
            jar.set_cookie_lines().collect::<Vec<_>>(),
            ["a=3; Path=/", "b=2; Path=/"]
        );
        assert_eq!(jar.get("a").map(|c| c.value.as_str()), Some("3"));
        assert!(jar.has("b") && !jar.has("c"));
        jar.delete_with("a", Some("/api"), Some("example.com"));
        assert_eq!(
            jar.get("a").unwrap().to_set_cookie(),
            "a=; Path=/api; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Domain=example.com"
        );
        assert_eq!(jar.len(), 2);
    }

    #[test]
    fn huge_max_age_is_clamped() {
        assert_eq!(
            http_date_after(recorded_now(), i64::MAX),
            "Fri, 31 Dec 9999 23:59:59 GMT"
        );
        assert_eq!(
            http_date_after(recorded_now(), i64::MIN),
            "Thu, 01 Jan 1970 00:00:00 GMT"
        );
    }
}
