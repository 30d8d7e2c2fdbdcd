//! The recorded Next 16 cases of `proxy.json` (a copy of the spec's observations) whose outcome
//! the matcher alone decides: did the proxy run for the request? It ran when the response
//! carries the proxy's header (`x-proxy-ran`, `x-middleware-ran`) or the log has its
//! `[proxy] …` line. Plus the build error of a source without a leading `/`.

use nextr::proxy::matcher::{Matcher, MatcherSpec, RequestParts};
use serde_json::Value;

const CASES: &str = include_str!("fixtures/proxy.json");

/// Redirects Next makes before the proxy (trailing `/`, `//`): the proxy does not run for the
/// request whatever the matcher says; that is dispatch's business, not the matcher's.
const BEFORE_THE_PROXY: &[&str] = &["px-trailing-slash", "mt-double-slash"];

/// The `config.matcher` of each recorded app, with a line of its `proxy_source` that shows it.
fn config_of(app: &str) -> (Option<Vec<MatcherSpec>>, &'static [&'static str]) {
    match app {
        "proxy-main" => (
            Some(serde_json::from_str(include_str!("fixtures/proxy-main/matcher.json")).unwrap()),
            &[
                "'/api/:path*',",
                "'/m1/admin/:path+',",
                "'/m2/(\\\\d{1,3})',",
                "{ source: '/m3/:p*', has: [{ type: 'header', key: 'x-go', value: 'yes' }] },",
                "{ source: '/m4/:p*', missing: [{ type: 'cookie', key: 'skip' }] },",
                "{ source: '/m5/:p*', has: [{ type: 'query', key: 'k' }] },",
            ],
        ),
        "proxy-nomatcher" => (None, &[]),
        "middleware-legacy" => (
            Some(vec![MatcherSpec::source("/api/:path*")]),
            &["export const config = { matcher: '/api/:path*' }"],
        ),
        other => panic!("no matcher recorded for app {other}"),
    }
}

fn ran(case: &Value) -> bool {
    let headers = &case["response"]["headers"];
    let header = ["x-proxy-ran", "x-middleware-ran"]
        .iter()
        .any(|h| headers.get(h).is_some());
    let logged = case["server_log"].as_array().is_some_and(|log| {
        log.iter()
            .any(|l| l.as_str().is_some_and(|l| l.starts_with("[proxy] ")))
    });
    header || logged
}

#[test]
fn recorded_cases_run_the_proxy_exactly_when_next_did() {
    let cases: Vec<Value> = serde_json::from_str(CASES).unwrap();
    let mut checked = 0;
    let mut failures = Vec::new();
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let (Some(app), Some(target)) = (case["app"].as_str(), case["request"]["path"].as_str())
        else {
            continue;
        };
        if BEFORE_THE_PROXY.contains(&name) {
            continue;
        }
        let (specs, shown) = config_of(app);
        let source = case["proxy_source"].as_str().unwrap();
        for line in shown {
            assert!(source.contains(line), "{name}: proxy_source lacks {line}");
        }
        if specs.is_none() {
            assert!(!source.contains("matcher"), "{name}: has a matcher");
        }
        let matcher = Matcher::from_config(specs.as_deref()).unwrap();
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let headers: Vec<(String, String)> = case["request"]["headers"]
            .as_object()
            .map(|h| {
                h.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        let headers: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let request = RequestParts {
            path,
            query,
            headers: &headers,
        };
        let expected = ran(case);
        if matcher.matches(&request) != expected {
            failures.push(format!("{name}: {target} ran={expected}"));
        }
        checked += 1;
    }
    assert!(failures.is_empty(), "{failures:#?}");
    // 66 cases: 6 build-time cases without a request, 2 redirected before the proxy.
    assert_eq!(checked, 58);
}

#[test]
fn recorded_build_error_for_a_source_without_a_slash() {
    let cases: Vec<Value> = serde_json::from_str(CASES).unwrap();
    let case = cases
        .iter()
        .find(|c| c["name"] == "ip05-matcher-without-leading-slash")
        .unwrap();
    assert!(case["sources"]["proxy.js"]
        .as_str()
        .unwrap()
        .contains("matcher: ['api/:path*']"));
    let err = Matcher::compile(&[MatcherSpec::source("api/:path*")]).unwrap_err();
    let expected = case["expect_error"].as_str().unwrap();
    assert!(
        expected.ends_with(&format!("invalid middleware config: {err}")),
        "{expected} vs {err}"
    );
}
