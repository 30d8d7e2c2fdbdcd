//! The proxy matcher per request: a typical request (`GET /api/users/42?tab=posts` with a few
//! headers and cookies) against a 5-entry `config.matcher` in the style of Next's docs, the
//! request matching the last entry (so every entry is tried), and one that matches none.

use criterion::{criterion_group, criterion_main, Criterion};
use nextr::proxy::matcher::{Condition, Matcher, MatcherSpec, RequestParts};
use std::hint::black_box;

fn config() -> Vec<MatcherSpec> {
    vec![
        MatcherSpec::source("/admin/:path+"),
        MatcherSpec::source("/m2/(\\d{1,3})"),
        MatcherSpec {
            source: "/beta/:p*".into(),
            has: vec![Condition::Header {
                key: "x-go".into(),
                value: Some("yes".into()),
            }],
            missing: vec![],
        },
        MatcherSpec {
            source: "/api/admin/:p*".into(),
            has: vec![],
            missing: vec![Condition::Cookie {
                key: "skip".into(),
                value: None,
            }],
        },
        MatcherSpec {
            source: "/api/:path*".into(),
            has: vec![Condition::Query {
                key: "tab".into(),
                value: None,
            }],
            missing: vec![],
        },
    ]
}

const HEADERS: &[(&str, &str)] = &[
    ("host", "r3pmxmplak.execute-api.us-east-2.amazonaws.com"),
    ("accept", "*/*"),
    ("user-agent", "curl/8.5.0"),
    ("cookie", "session=abc123; theme=dark"),
    ("x-forwarded-proto", "https"),
];

fn bench(c: &mut Criterion) {
    let matcher = Matcher::compile(&config()).expect("the bench's config compiles");
    let hit = RequestParts {
        path: "/api/users/42",
        query: "tab=posts",
        headers: HEADERS,
    };
    let miss = RequestParts {
        path: "/public/logo.svg",
        query: "",
        headers: HEADERS,
    };
    assert!(matcher.matches(&hit));
    assert!(!matcher.matches(&miss));
    c.bench_function("matcher/5 entries, last matches", |b| {
        b.iter(|| black_box(&matcher).matches(black_box(&hit)))
    });
    c.bench_function("matcher/5 entries, none matches", |b| {
        b.iter(|| black_box(&matcher).matches(black_box(&miss)))
    });
    c.bench_function("matcher/compile 5 entries", |b| {
        b.iter(|| Matcher::compile(black_box(&config())))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
