use super::*;
use crate::project::ProxyConvention;
use crate::report::{render, ReportStyle};
use nextr::proxy::matcher::{Condition, MatcherSpec, RequestParts};

const PROXY_FN: &str = "pub async fn proxy(req: NextRequest) -> ProxyResult { next() }\n";

fn ok(text: &str) -> ProxyAnalysis {
    match analyze_proxy("proxy.rs", text) {
        Ok(a) => a,
        Err(d) => panic!(
            "unexpected problems: {:#?}",
            d.iter()
                .map(|d| (d.location(), d.to_string()))
                .collect::<Vec<_>>()
        ),
    }
}

fn problems(body: &str) -> Vec<(String, String)> {
    analyze_proxy(
        "proxy.rs",
        &format!("nextr::config! {{ {body} }}\n{PROXY_FN}"),
    )
    .expect_err("expected problems")
    .into_iter()
    .map(|d| (d.location(), d.to_string()))
    .collect()
}

#[test]
fn the_briefs_example_is_read() {
    let a = ok(&format!(
        "nextr::config! {{\n    matcher: [\"/api/:path*\", {{ source: \"/m3/:p*\", has: [{{ type: \"header\", key: \"x-go\", value: \"yes\" }}] }}],\n}}\n{PROXY_FN}"
    ));
    assert_eq!(
        a.matchers,
        Some(vec![
            MatcherSpec::source("/api/:path*"),
            MatcherSpec {
                source: "/m3/:p*".into(),
                has: vec![Condition::Header {
                    key: "x-go".into(),
                    value: Some("yes".into())
                }],
                missing: vec![],
            },
        ])
    );
    let m = a.matcher().unwrap();
    let headers = [("x-go", "yes")];
    let req = |path| RequestParts {
        path,
        query: "",
        headers: &headers,
    };
    assert!(m.matches(&req("/api")));
    assert!(m.matches(&req("/m3/a")));
    assert!(!m.matches(&req("/m4")));
}

#[test]
fn a_single_string_and_every_condition_kind() {
    let a = ok(&format!(
        "nextr::config! {{ matcher: \"/api/:path*\" }}\n{PROXY_FN}"
    ));
    assert_eq!(a.matchers, Some(vec![MatcherSpec::source("/api/:path*")]));
    let a = ok(&format!(
        "{}\n{PROXY_FN}",
        r#"nextr::config! { matcher: [{ source: "/x", missing: [{ r#type: "cookie", key: "skip" }, { type: "host", value: "a\\.b" }], has: [{ type: "query", key: "k" }] }] }"#,
    ));
    assert_eq!(
        a.matchers.unwrap()[0],
        MatcherSpec {
            source: "/x".into(),
            has: vec![Condition::Query {
                key: "k".into(),
                value: None
            }],
            missing: vec![
                Condition::Cookie {
                    key: "skip".into(),
                    value: None
                },
                Condition::Host {
                    value: Some("a\\.b".into())
                },
            ],
        }
    );
}

#[test]
fn no_config_means_every_request() {
    let a = ok(PROXY_FN);
    assert_eq!(a.matchers, None);
    assert!(a.matcher().unwrap().matches(&RequestParts {
        path: "/anything",
        ..RequestParts::default()
    }));
}

#[test]
fn a_source_without_a_slash_in_nexts_words() {
    assert_eq!(
        problems("matcher: [\"api/:path*\"]"),
        [(
            "proxy.rs:1:28".to_owned(),
            "/proxy contains invalid middleware config: source must start with / at \"matcher[0]\""
                .to_owned()
        )]
    );
    // A single string is Next's `matcher[0]` too.
    assert_eq!(
        problems("matcher: \"api\"")[0].1,
        "/proxy contains invalid middleware config: source must start with / at \"matcher[0]\""
    );
}

#[test]
fn an_invalid_regex_group_is_refused() {
    let found = problems("matcher: [\"/ok\", \"/m2/(\\\\d{1,3}\"]");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0].1,
        "/proxy contains invalid middleware config: Unbalanced pattern at 4 at \"matcher[1]\""
    );
    let found = problems("matcher: [\"/m2/(\\\\d{3,1})\"]");
    assert!(
        found[0].1.contains("invalid regular expression"),
        "{found:?}"
    );
}

#[test]
fn an_unknown_condition_type_gets_a_suggestion() {
    let d = analyze_proxy(
        "proxy.rs",
        &format!("nextr::config! {{ matcher: [{{ source: \"/x\", has: [{{ type: \"headers\", key: \"a\" }}] }}] }}\n{PROXY_FN}"),
    )
    .unwrap_err();
    assert!(matches!(
        &d[0].problem,
        Problem::MatcherConditionType { at, suggestion: Some("header"), .. } if at == "matcher[0].has[0]"
    ));
}

#[test]
fn values_must_be_literals() {
    let found = problems("matcher: [SOURCE]");
    assert_eq!(
        found,
        [(
            "proxy.rs:1:28".to_owned(),
            "/proxy contains invalid middleware config: \"matcher[0]\" must be a literal: `config.matcher` must be statically analysable".to_owned()
        )]
    );
    assert!(problems("matcher: MATCHERS")[0]
        .1
        .contains("statically analysable"));
    assert!(problems("matcher: [{ source: format!(\"/x\") }]")[0]
        .1
        .contains("\"matcher[0].source\" must be a literal"));
}

#[test]
fn route_settings_are_refused_in_the_proxy() {
    let found = problems("max_duration: 10, matchr: \"/x\"");
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0]
        .1
        .starts_with("Route segment config is not allowed in Proxy file at \"./proxy.rs\": `max_duration`. Proxy always runs inside each route's function"));
    assert_eq!(found[1].1, "unknown key `matchr` in `config!`");
}

#[test]
fn matcher_in_a_route_file_is_refused() {
    let d = analyze_source(
        "app/api/x/route.rs",
        "nextr::config! { matcher: [\"/api/:path*\"] }\npub async fn get() -> Response { Response::empty() }\n",
        nextr::routing::Router::App,
        nextr::manifest::Front::default(),
    )
    .unwrap_err();
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].location(), "app/api/x/route.rs:1:18");
    assert_eq!(d[0].problem, Problem::ConfigMatcherInRoute);
}

#[test]
fn a_report_with_several_problems_renders_with_frames() {
    let text = r#"use nextr::proxy::prelude::*;

nextr::config! {
    matcher: [
        "api/:path*",
        "/m2/(\\d{1,3}",
        { source: "/m3/:p*", has: [{ type: "heder", key: "x-go", value: "yes" }] },
        { source: SOURCE },
        { source: "/m5/:p*", missing: [{ type: "cookie" }] },
        { sorce: "/m6" },
        { has: [] },
    ],
    runtime: "edge",
}

pub async fn proxy(req: NextRequest) -> ProxyResult { next() }
"#;
    let d = analyze_proxy("proxy.rs", text).unwrap_err();
    let locations: Vec<String> = d.iter().map(|d| d.location()).collect();
    assert_eq!(
        locations,
        [
            "proxy.rs:5:9",
            "proxy.rs:6:9",
            "proxy.rs:7:44",
            "proxy.rs:8:19",
            "proxy.rs:9:40",
            "proxy.rs:10:11",
            "proxy.rs:11:9",
            "proxy.rs:13:5",
        ]
    );
    let report = AnalysisReport { diagnostics: d };
    insta::assert_snapshot!("proxy_report", render(&report, ReportStyle::Plain));
}

/// The problems of a whole proxy file, as (location, message).
fn file_problems(file: &str, text: &str) -> Vec<(String, String)> {
    analyze_proxy(file, text)
        .expect_err("expected problems")
        .into_iter()
        .map(|d| (d.location(), d.to_string()))
        .collect()
}

fn one(location: &str, message: &str) -> Vec<(String, String)> {
    vec![(location.to_owned(), message.to_owned())]
}

#[test]
fn a_proxy_without_its_function_in_nexts_words() {
    // Next's ip03: a matcher and a value, no function.
    assert_eq!(
        file_problems(
            "proxy.rs",
            "nextr::config! { matcher: \"/api/:path*\" }\npub const VALUE: u32 = 1;\n"
        ),
        one(
            "proxy.rs:1:1",
            "Proxy is missing expected function export name"
        )
    );
    // Next's ip04: a proxy file that still exports `middleware`.
    assert_eq!(
        file_problems(
            "proxy.rs",
            "use nextr::proxy::prelude::*;\npub async fn middleware(req: NextRequest) -> NextResponse { NextResponse::next() }\n"
        ),
        one(
            "proxy.rs:2:14",
            "Proxy is missing expected function export name"
        )
    );
    // Not exported: Next sees no export either.
    assert_eq!(
        file_problems(
            "proxy.rs",
            "async fn proxy(req: NextRequest) -> NextResponse { NextResponse::next() }\n"
        ),
        one(
            "proxy.rs:1:7",
            "Proxy is missing expected function export name"
        )
    );
    // Next's edge-ip06 (a `proxy.js` whose default export is not a function passes `next
    // build`, then every request fails with 500) has no Rust equivalent: a Rust file has no
    // default export, and a `proxy` that is not a function is refused here, at build.
    assert_eq!(
        file_problems("proxy.rs", "pub const proxy: &str = \"not a function\";\n"),
        one(
            "proxy.rs:1:11",
            "Proxy is missing expected function export name"
        )
    );
    // The runtime awaits it.
    assert_eq!(
        file_problems(
            "proxy.rs",
            "pub fn proxy(req: NextRequest) -> NextResponse { NextResponse::next() }\n"
        ),
        one(
            "proxy.rs:1:5",
            "`proxy` must be an `async fn`: the runtime awaits it before the route runs"
        )
    );
}

#[test]
fn middleware_rs_exports_middleware() {
    let ok = analyze_proxy(
        "middleware.rs",
        "nextr::config! { matcher: \"/api/:path*\" }\npub async fn middleware(req: NextRequest) -> NextResponse { NextResponse::next() }\n",
    )
    .unwrap();
    assert_eq!(ok.convention, ProxyConvention::Middleware);
    assert_eq!(ok.file, "middleware.rs");
    assert_eq!(ok.matchers, Some(vec![MatcherSpec::source("/api/:path*")]));
    assert_eq!(
        ok_analysis().convention,
        ProxyConvention::Proxy,
        "proxy.rs is the proxy convention"
    );
    // Its own name in the messages, as Next's template names it.
    assert_eq!(
        file_problems(
            "middleware.rs",
            "pub async fn proxy(req: NextRequest) -> NextResponse { NextResponse::next() }\n"
        ),
        one(
            "middleware.rs:1:14",
            "Middleware is missing expected function export name"
        )
    );
    let found = file_problems(
        "middleware.rs",
        "nextr::config! { matcher: \"api\", memory: 256 }\npub async fn middleware(req: NextRequest) -> NextResponse { NextResponse::next() }\n",
    );
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(
        found[0].1,
        "/middleware contains invalid middleware config: source must start with / at \"matcher[0]\""
    );
    assert!(found[1].1.starts_with(
        "Route segment config is not allowed in Middleware file at \"./middleware.rs\": `memory`"
    ));
}

fn ok_analysis() -> ProxyAnalysis {
    ok(PROXY_FN)
}

/// Next's build errors for proxy files (spec ip02–ip05), as nextr reports them: one file per
/// mistake, rendered with their frames.
#[test]
fn the_proxy_build_errors_render_with_frames() {
    let cases = [
        // ip02: segment config.
        "nextr::config! { runtime: \"nodejs\" }\npub async fn proxy(req: NextRequest) -> NextResponse { NextResponse::next() }\n",
        // ip03: no function.
        "nextr::config! { matcher: \"/api/:path*\" }\npub const VALUE: u32 = 1;\n",
        // ip04: the old name.
        "pub async fn middleware(req: NextRequest) -> NextResponse { NextResponse::next() }\n",
        // ip05: a source without its slash.
        "nextr::config! { matcher: [\"api/:path*\"] }\npub async fn proxy(req: NextRequest) -> NextResponse { NextResponse::next() }\n",
        // Rust's own: not public, not async, an import.
        "fn proxy(req: NextRequest) -> NextResponse { NextResponse::next() }\n",
        "pub use my_app::guard::proxy;\n",
    ];
    let rendered: Vec<String> = cases
        .iter()
        .map(|text| {
            let diagnostics = analyze_proxy("proxy.rs", text).unwrap_err();
            render(&AnalysisReport { diagnostics }, ReportStyle::Plain)
        })
        .collect();
    insta::assert_snapshot!("proxy_build_errors", rendered.join("\n"));
}
