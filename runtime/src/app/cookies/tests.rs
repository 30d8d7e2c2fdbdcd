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
    let c = RequestCookies::parse(" a=1;\tb=2;;  c=3 ");
    assert_eq!(all(&c), [(" a", "1"), ("\tb", "2"), ("c", "3 ")]);
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

proptest::proptest! {
    /// Against a model: names in first-seen order, the last value of each.
    #[test]
    fn request_cookies_match_model(
        pairs in proptest::collection::vec(("[a-d]{0,2}", "[a-z0-9=\"]{0,3}"), 0..30),
    ) {
        let header: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let c = RequestCookies::parse(&header.join("; "));
        let mut model: Vec<(&str, &str)> = Vec::new();
        for (k, v) in &pairs {
            match model.iter_mut().find(|(x, _)| x == k) {
                Some(slot) => slot.1 = v,
                None => model.push((k, v)),
            }
        }
        proptest::prop_assert_eq!(all(&c), model);
    }

    /// What a response sets, a later request sends back: values of any text survive
    /// `encodeURIComponent` and the request's decoding.
    #[test]
    fn set_then_sent_back(
        cookies in proptest::collection::vec(("[A-Za-z0-9_]{1,6}", "\\PC{0,8}"), 1..8),
    ) {
        let mut jar = ResponseCookies::new();
        for (name, value) in &cookies {
            jar.set(name, value, CookieOptions::default());
        }
        let sent: Vec<String> = jar
            .set_cookie_lines()
            .map(|line| line.split("; ").next().unwrap_or_default().to_owned())
            .collect();
        let back = RequestCookies::parse(&sent.join("; "));
        let last = |name: &str| cookies.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
        for (name, _) in &cookies {
            proptest::prop_assert_eq!(back.get(name), last(name));
        }
        proptest::prop_assert_eq!(back.len(), jar.len());
    }
}

/// `{requests: [{header, cookies}], responses: [{ops, lines}]}` recorded from Next 16.4.6's
/// `@edge-runtime/cookies` (`cookies_cases.js` makes them, `Date.now` fixed at
/// [`recorded_now`]).
const NEXT_CASES: &str = include_str!("cookies_cases.json");

#[derive(serde::Deserialize)]
struct NextCases {
    requests: Vec<RequestCase>,
    responses: Vec<ResponseCase>,
}

#[derive(serde::Deserialize)]
struct RequestCase {
    header: String,
    cookies: Vec<Cookie>,
}

#[derive(serde::Deserialize)]
struct ResponseCase {
    ops: Vec<Op>,
    lines: Vec<String>,
}

#[derive(serde::Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
struct Op {
    op: String,
    name: String,
    value: Option<String>,
    max_age: Option<i64>,
    domain: Option<String>,
    path: Option<String>,
    expires: Option<String>,
    #[serde(default)]
    http_only: bool,
    #[serde(default)]
    secure: bool,
    same_site: Option<String>,
    #[serde(default)]
    partitioned: bool,
    priority: Option<String>,
}

fn apply(jar: &mut ResponseCookies, op: Op) {
    if op.op == "delete" {
        jar.delete_with(&op.name, op.path.as_deref(), op.domain.as_deref());
        return;
    }
    let options = CookieOptions {
        max_age: op.max_age,
        domain: op.domain,
        path: op.path,
        expires: op.expires,
        http_only: op.http_only,
        secure: op.secure,
        same_site: op.same_site.map(|s| match s.as_str() {
            "strict" => SameSite::Strict,
            "lax" => SameSite::Lax,
            _ => SameSite::None,
        }),
        partitioned: op.partitioned,
        priority: op.priority.map(|p| match p.as_str() {
            "low" => Priority::Low,
            "medium" => Priority::Medium,
            _ => Priority::High,
        }),
    };
    let value = op.value.unwrap_or_default();
    jar.set_at(&op.name, &value, options, recorded_now());
}

fn check_next_cases(json: &str) {
    let cases: NextCases = serde_json::from_str(json).unwrap();
    let mut wrong = Vec::new();
    for case in cases.requests {
        let got: Vec<Cookie> = RequestCookies::parse(&case.header)
            .get_all()
            .cloned()
            .collect();
        if got != case.cookies {
            wrong.push(format!(
                "{:?}: Next {:?}, nextr {got:?}",
                case.header, case.cookies
            ));
        }
    }
    for case in cases.responses {
        let mut jar = ResponseCookies::new();
        let ops = format!("{:?}", case.ops);
        for op in case.ops {
            apply(&mut jar, op);
        }
        let got: Vec<String> = jar.set_cookie_lines().collect();
        if got != case.lines {
            wrong.push(format!("{ops}: Next {:?}, nextr {got:?}", case.lines));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn matches_next() {
    check_next_cases(NEXT_CASES);
}

/// More cases from a file (`NEXT_COOKIE_CASES=/tmp/cases.json`), generated the same way.
#[test]
fn matches_next_from_env() {
    if let Ok(path) = std::env::var("NEXT_COOKIE_CASES") {
        check_next_cases(&std::fs::read_to_string(path).unwrap());
    }
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
