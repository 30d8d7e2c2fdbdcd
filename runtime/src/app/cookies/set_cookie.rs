//! Reading a response's existing `Set-Cookie` lines into a [`ResponseCookies`], as Next's
//! `ResponseCookies` constructor does (`parseSetCookie`): a `NextResponse` built with
//! `Set-Cookie` headers has those cookies in its jar, and the first `set` or `delete`
//! rewrites every line from the jar.

use super::{RequestCookies, ResponseCookie, ResponseCookies};
use crate::response::{CookieOptions, Priority, SameSite};
use crate::routing::decode_uri_component;

impl ResponseCookie {
    /// Parses one `Set-Cookie` line as Next's `parseSetCookie` does: the pairs are read as a
    /// `Cookie` header is (so values are decoded, and the cookie's value once more), attribute
    /// names match without case or `-`, and empty or unknown attribute values are dropped.
    ///
    /// `None` where Next's constructor throws (a line with no pair, a value that does not
    /// decode twice). An `Expires` that is not an HTTP date is kept as written (JavaScript's
    /// `Date` would read more formats or print `Invalid Date`); a `Max-Age` that is not a
    /// whole number is dropped (Next keeps fractions).
    pub fn parse_set_cookie(line: &str) -> Option<ResponseCookie> {
        let pairs = RequestCookies::parse(line);
        let mut pairs = pairs.get_all();
        let first = pairs.next()?;
        let value = decode_uri_component(&first.value).ok()?;
        // `Object.fromEntries` over the remaining pairs: the last of a repeated key wins.
        let mut attrs: Vec<(String, &str)> = Vec::new();
        for pair in pairs {
            let key = pair.name.to_lowercase().replace('-', "");
            attrs.retain(|(k, _)| *k != key);
            attrs.push((key, pair.value.as_str()));
        }
        let attr = |name: &str| attrs.iter().find(|(k, _)| k == name).map(|(_, v)| *v);
        // `compact` drops falsy values: an empty string, 0, NaN.
        let truthy = |name: &str| attr(name).filter(|v| !v.is_empty());
        let options = CookieOptions {
            max_age: attr("maxage").and_then(js_number).filter(|&n| n != 0),
            domain: truthy("domain").map(str::to_owned),
            path: truthy("path").map(str::to_owned),
            expires: truthy("expires").map(http_date),
            http_only: truthy("httponly").is_some(),
            secure: truthy("secure").is_some(),
            same_site: truthy("samesite").and_then(|s| match s.to_lowercase().as_str() {
                "strict" => Some(SameSite::Strict),
                "lax" => Some(SameSite::Lax),
                "none" => Some(SameSite::None),
                _ => None,
            }),
            partitioned: truthy("partitioned").is_some(),
            priority: truthy("priority").and_then(|p| match p.to_lowercase().as_str() {
                "low" => Some(Priority::Low),
                "medium" => Some(Priority::Medium),
                "high" => Some(Priority::High),
                _ => None,
            }),
        };
        Some(ResponseCookie {
            name: first.name.clone(),
            value,
            options,
        })
    }
}

impl ResponseCookies {
    /// The jar of a response that already has these `Set-Cookie` lines (Next's
    /// `new ResponseCookies(headers)`): one cookie per name, a later line replacing an
    /// earlier one in its place; lines [`ResponseCookie::parse_set_cookie`] cannot read are
    /// skipped.
    pub fn from_set_cookie_lines<'a>(lines: impl IntoIterator<Item = &'a str>) -> Self {
        let mut jar = ResponseCookies::new();
        for cookie in lines
            .into_iter()
            .filter_map(ResponseCookie::parse_set_cookie)
        {
            jar.0.set(cookie.name.clone(), cookie);
        }
        jar
    }
}

/// `Number(text)` when it is a whole number (`NaN` and fractions → `None`).
fn js_number(text: &str) -> Option<i64> {
    let text = text.trim();
    if text.is_empty() {
        return Some(0);
    }
    if let Ok(n) = text.parse::<i64>() {
        return Some(n);
    }
    // `1e3`, `60.0`; not Rust's `inf`/`nan` spellings, which JavaScript does not read.
    let numeric = text
        .bytes()
        .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b));
    let n: f64 = text.parse().ok().filter(|_| numeric)?;
    (n.fract() == 0.0 && n.abs() < 9e15).then_some(n as i64)
}

/// `new Date(text).toUTCString()` for the HTTP date formats; other text as written.
fn http_date(text: &str) -> String {
    httpdate::parse_http_date(text)
        .map(httpdate::fmt_http_date)
        .unwrap_or_else(|_| text.to_owned())
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;

    /// `[{lines, result}]` recorded from Next 16.4.6 (`set_cookie_cases.js` makes them): the
    /// lines go into a response, one `set('zz', '1')` makes Next rewrite them, `result` is
    /// what the response then sends.
    const CASES: &str = include_str!("set_cookie_cases.json");

    #[derive(serde::Deserialize)]
    struct Case {
        lines: Vec<String>,
        result: Vec<String>,
    }

    fn check(json: &str) {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_407_131);
        let cases: Vec<Case> = serde_json::from_str(json).unwrap();
        let mut wrong = Vec::new();
        for case in cases {
            let mut jar = ResponseCookies::from_set_cookie_lines(case.lines.iter().map(|s| &**s));
            jar.set_at("zz", "1", CookieOptions::default(), now);
            let got: Vec<String> = jar.set_cookie_lines().collect();
            if got != case.result {
                wrong.push(format!(
                    "{:?}: Next {:?}, nextr {got:?}",
                    case.lines, case.result
                ));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn matches_next() {
        check(CASES);
    }

    /// More cases from a file (`NEXT_SET_COOKIE_CASES=/tmp/cases.json`).
    #[test]
    fn matches_next_from_env() {
        if let Ok(path) = std::env::var("NEXT_SET_COOKIE_CASES") {
            check(&std::fs::read_to_string(path).unwrap());
        }
    }

    #[test]
    fn what_next_throws_on_is_skipped() {
        assert_eq!(ResponseCookie::parse_set_cookie(""), None);
        assert_eq!(ResponseCookie::parse_set_cookie("a=%25"), None);
        let jar = ResponseCookies::from_set_cookie_lines(["a=%25", "b=1; Path=/"]);
        assert_eq!(jar.set_cookie_lines().collect::<Vec<_>>(), ["b=1; Path=/"]);
    }

    #[test]
    fn numbers_and_dates() {
        assert_eq!(js_number(" 60 "), Some(60));
        assert_eq!(js_number("1e3"), Some(1000));
        assert_eq!(js_number("1.5"), None);
        assert_eq!(js_number("inf"), None);
        assert_eq!(js_number(""), Some(0));
        assert_eq!(
            http_date("Sunday, 06-Nov-94 08:49:37 GMT"),
            "Sun, 06 Nov 1994 08:49:37 GMT"
        );
        assert_eq!(http_date("tomorrow"), "tomorrow");
    }
}
