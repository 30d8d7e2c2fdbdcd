//! `request.cookies` ([`RequestCookies`]) and `response.cookies` ([`ResponseCookies`]) of an
//! App Router handler, with the rules of Next's `@edge-runtime/cookies` (spec §6, §7), which
//! differ from the Pages Router's: the last duplicate wins, an undecodable cookie is dropped,
//! `Set-Cookie` attributes come in another order and `path` defaults to `/`.

use std::time::{Duration, SystemTime};

use http::HeaderMap;
use serde::{Deserialize, Serialize};

use crate::response::{CookieOptions, Priority, SameSite};
use crate::routing::{decode_uri_component, encode_uri_component, OrderedMap};

mod set_cookie;

/// One request cookie as Next's `request.cookies.get(name)` returns it: `{name, value}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
        for (i, pair) in header.split(';').enumerate() {
            // `split(/; */)`: only spaces after a `;` are separators (not tabs, and not
            // spaces before the first pair).
            let pair = if i == 0 {
                pair
            } else {
                pair.trim_start_matches(' ')
            };
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
mod tests;
