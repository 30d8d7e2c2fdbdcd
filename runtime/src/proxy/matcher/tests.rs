//! One test per rule of next-app-semantics §10 (the recorded cases are in
//! `runtime/tests/proxy_matcher.rs`).

use super::*;

fn m(sources: &[&str]) -> Matcher {
    let specs: Vec<MatcherSpec> = sources.iter().map(|s| MatcherSpec::source(*s)).collect();
    Matcher::compile(&specs).unwrap()
}

fn path(p: &str) -> RequestParts<'_> {
    RequestParts {
        path: p,
        ..RequestParts::default()
    }
}

fn runs(m: &Matcher, p: &str) -> bool {
    m.matches(&path(p))
}

#[test]
fn no_matcher_runs_for_every_request() {
    let all = Matcher::all();
    for p in [
        "/",
        "/api/x",
        "/_next/static/chunks/a.js",
        "/favicon.ico",
        "/%zz",
    ] {
        assert!(runs(&all, p), "{p}");
    }
    assert!(runs(&Matcher::from_config(None).unwrap(), "/x"));
}

#[test]
fn an_empty_list_runs_for_nothing() {
    assert!(!runs(&m(&[]), "/"));
}

#[test]
fn path_star_matches_the_prefix_itself_and_any_depth() {
    let mm = m(&["/api/:path*"]);
    for p in ["/api", "/api/", "/api/x", "/api/x/y/z"] {
        assert!(runs(&mm, p), "{p}");
    }
    for p in ["/apix", "/ap", "/", "/x/api", "/api//x"] {
        assert!(!runs(&mm, p), "{p}");
    }
}

#[test]
fn path_plus_needs_one_segment() {
    let mm = m(&["/m1/admin/:path+"]);
    assert!(!runs(&mm, "/m1/admin"));
    assert!(runs(&mm, "/m1/admin/x"));
    assert!(runs(&mm, "/m1/admin/x/y"));
}

#[test]
fn a_param_is_one_segment_and_optional_with_question_mark() {
    let one = m(&["/u/:id"]);
    assert!(runs(&one, "/u/7"));
    assert!(!runs(&one, "/u"));
    assert!(!runs(&one, "/u/7/8"));
    let opt = m(&["/u/:id?"]);
    assert!(runs(&opt, "/u"));
    assert!(runs(&opt, "/u/7"));
    assert!(!runs(&opt, "/u/7/8"));
}

#[test]
fn regex_groups_are_anchored() {
    let mm = m(&["/m2/(\\d{1,3})"]);
    assert!(runs(&mm, "/m2/123"));
    assert!(!runs(&mm, "/m2/1234"));
    assert!(!runs(&mm, "/m2/abc"));
    let named = m(&["/post/:id(\\d+)"]);
    assert!(runs(&named, "/post/42"));
    assert!(!runs(&named, "/post/4a"));
}

#[test]
fn regex_classes_are_ascii_as_in_javascript() {
    // U+0663 is an Arabic-Indic digit: `\d` in JavaScript (no `u` flag) does not match it.
    assert!(!runs(&m(&["/n/(\\d+)"]), "/n/%D9%A3"));
}

#[test]
fn nexts_lookahead_idiom_excludes_its_prefixes() {
    let mm = m(&["/((?!api|_next/static|_next/image|favicon.ico).*)"]);
    for p in ["/", "/about", "/x/api", "/ap", "/_next/data/x"] {
        assert!(runs(&mm, p), "{p}");
    }
    for p in [
        "/api",
        "/api/x",
        "/apix",
        "/_next/static/a.js",
        "/favicon.ico",
    ] {
        assert!(!runs(&mm, p), "{p}");
    }
    // Decoded first, as the rest of the matcher.
    assert!(!runs(&mm, "/%61pi/x"));
    let positive = m(&["/v1/((?=beta).*)"]);
    assert!(runs(&positive, "/v1/beta/x"));
    assert!(!runs(&positive, "/v1/stable"));
    // `$` inside the lookahead is the end of the path.
    let end = m(&["/((?!.*\\.png$).*)"]);
    assert!(runs(&end, "/a.png/x"));
    assert!(!runs(&end, "/img/a.png"));
}

#[test]
fn matching_is_case_sensitive() {
    assert!(!runs(&m(&["/api/:path*"]), "/API/px/echo"));
}

#[test]
fn the_path_is_matched_decoded() {
    let mm = m(&["/api/:path*"]);
    assert!(runs(&mm, "/%61pi/px/echo"));
    // A decoded `/` separates segments too, as in Next.
    assert!(runs(&mm, "/api%2Fx"));
    // A malformed escape is kept as written.
    assert!(runs(&mm, "/api/%zz"));
    // A decoded path need not be UTF-8.
    assert!(runs(&mm, "/api/%FF"));
    assert!(!runs(&m(&["/a/:x"]), "/a/b%2Fc"));
}

#[test]
fn one_trailing_delimiter_is_allowed() {
    let mm = m(&["/m2/(\\d{1,3})"]);
    assert!(runs(&mm, "/m2/123/"));
    assert!(!runs(&mm, "/m2/123//"));
}

#[test]
fn no_next_data_prefix_nor_json_suffix() {
    let mm = m(&["/api/hello"]);
    assert!(!runs(&mm, "/_next/data/build-id/api/hello.json"));
    assert!(!runs(&mm, "/api/hello.json"));
}

#[test]
fn any_entry_is_enough() {
    let mm = m(&["/a", "/b/:x"]);
    assert!(runs(&mm, "/a"));
    assert!(runs(&mm, "/b/1"));
    assert!(!runs(&mm, "/c"));
}

fn with(source: &str, has: Vec<Condition>, missing: Vec<Condition>) -> Matcher {
    Matcher::compile(&[MatcherSpec {
        source: source.into(),
        has,
        missing,
    }])
    .unwrap()
}

fn header(key: &str, value: Option<&str>) -> Condition {
    Condition::Header {
        key: key.into(),
        value: value.map(Into::into),
    }
}

fn req<'a>(query: &'a str, headers: &'a [(&'a str, &'a str)]) -> RequestParts<'a> {
    RequestParts {
        path: "/x",
        query,
        headers,
    }
}

#[test]
fn has_header_with_value_requires_exactly_that_value() {
    let mm = with("/x", vec![header("X-Go", Some("yes"))], vec![]);
    assert!(mm.matches(&req("", &[("x-go", "yes")])));
    assert!(!mm.matches(&req("", &[("x-go", "no")])));
    assert!(!mm.matches(&req("", &[("x-go", "yess")])));
    assert!(!mm.matches(&req("", &[])));
}

#[test]
fn a_condition_value_is_an_anchored_regex() {
    let mm = with("/x", vec![header("x-v", Some("v[0-9]+"))], vec![]);
    assert!(mm.matches(&req("", &[("x-v", "v12")])));
    assert!(!mm.matches(&req("", &[("x-v", "av12")])));
    // `^a|b$` as JavaScript reads it: starts with a, or ends with b.
    let alt = with("/x", vec![header("x-v", Some("a|b"))], vec![]);
    assert!(alt.matches(&req("", &[("x-v", "a-anything")])));
    assert!(alt.matches(&req("", &[("x-v", "anything-b")])));
    assert!(!alt.matches(&req("", &[("x-v", "c")])));
}

#[test]
fn has_query_needs_a_non_empty_value() {
    let q = Condition::Query {
        key: "k".into(),
        value: None,
    };
    let mm = with("/x", vec![q], vec![]);
    assert!(mm.matches(&req("k=1", &[])));
    assert!(!mm.matches(&req("k", &[])));
    assert!(!mm.matches(&req("k=", &[])));
    assert!(!mm.matches(&req("", &[])));
    assert!(mm.matches(&req("a=1&k=%20", &[])));
    // Repeated: an array, present even when empty.
    assert!(mm.matches(&req("k&k", &[])));
}

#[test]
fn a_repeated_query_matches_its_last_value() {
    let q = Condition::Query {
        key: "k".into(),
        value: Some("b".into()),
    };
    let mm = with("/x", vec![q], vec![]);
    assert!(mm.matches(&req("k=a&k=b", &[])));
    assert!(!mm.matches(&req("k=b&k=a", &[])));
    assert!(mm.matches(&req("%6B=b", &[])));
}

#[test]
fn missing_cookie_is_defeated_by_any_non_empty_cookie() {
    let c = Condition::Cookie {
        key: "skip".into(),
        value: None,
    };
    let mm = with("/x", vec![], vec![c]);
    assert!(mm.matches(&req("", &[])));
    assert!(mm.matches(&req("", &[("cookie", "other=1")])));
    assert!(!mm.matches(&req("", &[("cookie", "skip=1")])));
    assert!(!mm.matches(&req("", &[("cookie", "a=1; skip=0")])));
    // Empty counts as absent.
    assert!(mm.matches(&req("", &[("cookie", "skip=")])));
}

#[test]
fn cookie_values_are_first_wins_unquoted_and_decoded() {
    let c = Condition::Cookie {
        key: "s".into(),
        value: Some("a b".into()),
    };
    let mm = with("/x", vec![c], vec![]);
    assert!(mm.matches(&req("", &[("cookie", "s=a%20b; s=zz")])));
    assert!(mm.matches(&req("", &[("cookie", "s=\"a b\"")])));
    assert!(!mm.matches(&req("", &[("cookie", "s=zz; s=a%20b")])));
}

#[test]
fn an_empty_header_does_not_defeat_missing() {
    let mm = with("/x", vec![], vec![header("x-internal", None)]);
    assert!(mm.matches(&req("", &[("x-internal", "")])));
    assert!(!mm.matches(&req("", &[("x-internal", "1")])));
}

#[test]
fn host_is_lower_cased_without_port() {
    let h = Condition::Host {
        value: Some("api\\.example\\.com".into()),
    };
    let mm = with("/x", vec![h], vec![]);
    assert!(mm.matches(&req("", &[("Host", "API.example.com:8443")])));
    assert!(!mm.matches(&req("", &[("host", "example.com")])));
}

#[test]
fn an_empty_condition_value_is_no_value() {
    let mm = with("/x", vec![header("x-a", Some(""))], vec![]);
    assert!(mm.matches(&req("", &[("x-a", "anything")])));
}

#[test]
fn errors_name_the_entry_in_nexts_notation() {
    let err =
        Matcher::compile(&[MatcherSpec::source("/ok"), MatcherSpec::source("api/x")]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "source must start with / at \"matcher[1]\""
    );
    let bad = MatcherSpec {
        source: "/ok".into(),
        has: vec![header("x", Some("(a"))],
        missing: vec![],
    };
    let err = Matcher::compile(&[bad]).unwrap_err();
    assert_eq!(err.at, "matcher[0].has[0]");
    assert!(matches!(err.error, MatcherError::Regex { .. }), "{err}");
    let look = Matcher::compile(&[MatcherSpec::source("/x/:a/((?!api).*)")]).unwrap_err();
    assert!(look.to_string().contains("lookaround"), "{look}");
    let key = Matcher::compile(&[MatcherSpec {
        source: "/ok".into(),
        has: vec![],
        missing: vec![header("", None)],
    }])
    .unwrap_err();
    assert_eq!(
        key.to_string(),
        "`key` is required for a `header` condition at \"matcher[0].missing[0]\""
    );
}

#[test]
fn specs_serialise_as_nexts_config() {
    let spec = MatcherSpec {
        source: "/m3/:p*".into(),
        has: vec![header("x-go", Some("yes"))],
        missing: vec![Condition::Host { value: None }],
    };
    let json = serde_json::to_string(&spec).unwrap();
    assert_eq!(
        json,
        r#"{"source":"/m3/:p*","has":[{"type":"header","key":"x-go","value":"yes"}],"missing":[{"type":"host"}]}"#
    );
    assert_eq!(serde_json::from_str::<MatcherSpec>(&json).unwrap(), spec);
}
