//! The Next.js App Router routing corpus (`fixtures/app-routing.json`, recorded on a real
//! `next start`) through `nextr dev`: every valid tree becomes part of one real app whose every
//! App route file is an echo route handler reporting its own file, `context.params`,
//! `searchParams`, `request.url` and `nextUrl.pathname`, and whose Pages files are the echo
//! route of `dev_routing.rs`. The app is built with `nextr build`, served by `nextr dev`, and
//! every request is sent byte for byte over TCP.
//!
//! The comparison is `app_routing_check.py`'s (`nextr routes --match` against the same corpus,
//! `app_routing_corpus.rs`): status always; for 200 the router, file, params, searchParams,
//! url (without the origin: Next's is `localhost:<port>`, nextr's the configured one) and
//! pathname, as far as the expectation records them; for 3xx the location.
//!
//! All trees share one app: their folders do not collide and none has a catch-all at the
//! root. Where the deployed API Gateway HTTP API answers differently from `next start`,
//! `nextr dev` answers as the deployed API does; those cases are listed in [`deviations`]
//! with the reason (the same rules as `dev_routing.rs`), and the test checks that answer too.

mod support;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{json, Value};
use support::apps::{app_echo_route, pages_echo_route, TestApp};
use support::dev::Dev;
use support::http::Reply;

/// One request of the corpus: its tree, target, expectation and note.
struct Request {
    tree: String,
    path: String,
    expect: Value,
    note: Option<String>,
}

/// The nextr file for a Next.js file, or `None` for a file that carries no route.
fn translate(file: &str) -> Option<String> {
    if let Some(rest) = file.strip_prefix("pages/api/") {
        return rest
            .strip_suffix(".js")
            .map(|stem| format!("api/{stem}.rs"));
    }
    let stem = file
        .strip_suffix("/route.js")
        .or_else(|| file.strip_suffix("/route.ts"))?;
    file.starts_with("app/").then(|| format!("{stem}/route.rs"))
}

/// The files (translated) and requests of every tree nextr can serve: not the invalid trees
/// (`app_routing_corpus.rs` checks their errors), not the trees with pages or layouts.
fn corpus() -> (BTreeSet<String>, Vec<Request>) {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/app-routing.json");
    let cases: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let files_of: HashMap<&str, Vec<&str>> = cases
        .iter()
        .map(|c| {
            let files = c["files"].as_array().unwrap().iter();
            (
                c["name"].as_str().unwrap(),
                files.map(|f| f.as_str().unwrap()).collect(),
            )
        })
        .collect();
    let mut files = BTreeSet::new();
    let mut requests = Vec::new();
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let mut tree = files_of[name].clone();
        if let Some(other) = case.get("uses_files_of").and_then(Value::as_str) {
            tree = files_of[other].clone();
        }
        let with_pages = tree
            .iter()
            .any(|f| f.ends_with("/page.js") || f.ends_with("/layout.js") || *f == "app/layout.js");
        if case.get("expect_error").is_some() || with_pages {
            continue;
        }
        let before = requests.len();
        for r in case["requests"].as_array().into_iter().flatten() {
            // Special trees record a raw response instead (`route.js` + `route.ts`).
            let (Some(path), Some(expect)) =
                (r.get("path").and_then(Value::as_str), r.get("expect"))
            else {
                continue;
            };
            requests.push(Request {
                tree: name.to_owned(),
                path: path.to_owned(),
                expect: expect.clone(),
                note: r.get("note").and_then(Value::as_str).map(str::to_owned),
            });
        }
        if requests.len() > before {
            files.extend(tree.iter().filter_map(|f| translate(f)));
        }
    }
    (files, requests)
}

/// A case where `nextr dev` deliberately answers differently from `next start`, because the
/// deployed API Gateway HTTP API does: what dev answers instead, and why.
struct Deviation {
    path: &'static str,
    expect: Value,
    why: &'static str,
}

fn status(path: &'static str, status: u16, why: &'static str) -> Deviation {
    Deviation {
        path,
        expect: json!({"status": status}),
        why,
    }
}

fn ok(
    path: &'static str,
    file: &'static str,
    params: Value,
    url: &'static str,
    why: &'static str,
) -> Deviation {
    let pathname = url.split('?').next().unwrap_or(url);
    Deviation {
        path,
        expect: json!({"status": 200, "router": "app", "file": file, "params": params,
            "url": url, "pathname": pathname}),
        why,
    }
}

/// API Gateway HTTP API selects the route on the percent-decoded path.
const ROUTES_DECODED: &str =
    "API Gateway routes the percent-decoded path (next start matches static routes on the raw one)";
/// API Gateway HTTP API hands the function `rawPath` percent-decoded.
const DECODED_RAW_PATH: &str = "the function receives rawPath percent-decoded";
/// Decoded, the path has an empty segment; deploy's `$default` function answers Next's 308.
const EMPTY_SEGMENT: &str = "decoded, the path has an empty segment: $default answers Next's 308";
/// A `?` produced by decoding cuts the path (`/a%3Fb` → `/a`).
const CUT_AT_QUESTION_MARK: &str = "API Gateway cuts the decoded path at a decoded `?`";
/// API Gateway answers 400 to a path it cannot percent-decode (twice), before any function;
/// Next's App Router answers 500 for these in an app without `pages/`.
const UNDECODABLE: &str = "API Gateway answers 400 to a path it cannot percent-decode (twice)";
/// `nextr build` refuses the file (see [`REFUSED`]).
const NOT_BUILT: &str =
    "nextr build refuses this route file (API Gateway route paths hold only ASCII letters, digits and _ - . :)";

/// The same API Gateway rules as `dev_routing.rs`'s (observed on a live HTTP API), applied to
/// this corpus.
fn deviations() -> Vec<Deviation> {
    vec![
        // a01: the encoded static name reaches the static route.
        ok(
            "/api/r01/%61bout",
            "app/api/r01/about/route.rs",
            Value::Null,
            "/api/r01/about",
            ROUTES_DECODED,
        ),
        // a04
        ok(
            "/api/r04/%5Fescaped",
            "app/api/r04/%5Fescaped/route.rs",
            Value::Null,
            "/api/r04/_escaped",
            ROUTES_DECODED,
        ),
        // a05: the encoded static name reaches the static route.
        ok(
            "/api/r05/o/%73ettings",
            "app/api/r05/[org]/settings/route.rs",
            json!({"org": "o"}),
            "/api/r05/o/settings",
            ROUTES_DECODED,
        ),
        // a06
        status("/api/r06/a%2Fb", 404, ROUTES_DECODED),
        status("/api/r06/100%25", 400, UNDECODABLE),
        ok(
            "/api/r06/a%3Fb",
            "app/api/r06/[pid]/route.rs",
            json!({"pid": "a"}),
            "/api/r06/a",
            CUT_AT_QUESTION_MARK,
        ),
        status("/api/r06/%ZZ", 400, UNDECODABLE),
        status("/api/r06/100%", 400, UNDECODABLE),
        status("/api/r06/%C3", 400, UNDECODABLE),
        ok(
            "/api/r06/%5Bpid%5D",
            "app/api/r06/[pid]/route.rs",
            json!({"pid": "[pid]"}),
            "/api/r06/[pid]",
            DECODED_RAW_PATH,
        ),
        ok(
            "/api/r06c/a%2Fb/c",
            "app/api/r06c/[...rest]/route.rs",
            json!({"rest": ["a", "b", "c"]}),
            "/api/r06c/a/b/c",
            DECODED_RAW_PATH,
        ),
        Deviation {
            path: "/api/r06c/a/%2F",
            expect: json!({"status": 308, "location": "/api/r06c/a/"}),
            why: EMPTY_SEGMENT,
        },
        status("/api/r06c/%ZZ/ok", 400, UNDECODABLE),
        // a09
        status("/api/r09/a+b", 404, NOT_BUILT),
    ]
}

/// Route files `nextr build` refuses (a static segment API Gateway cannot route); the trees
/// are served without them and the requests for them are in [`deviations`].
const REFUSED: &[&str] = &[
    "app/api/r09/café/route.rs",
    "app/api/r09/sp ace/route.rs",
    "app/api/r09/a+b/route.rs",
];

/// `request.url` without `http(s)://host`.
fn without_origin(url: &str) -> &str {
    url.strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .map(|rest| rest.find('/').map_or("", |i| &rest[i..]))
        .unwrap_or(url)
}

/// `app_routing_check.py`'s comparison.
fn compare(got: &Reply, expect: &Value) -> Vec<String> {
    let status = u64::from(got.status);
    if Some(status) != expect["status"].as_u64() {
        let body: String = got.text().chars().take(160).collect();
        return vec![format!(
            "status {} != {} ({body})",
            got.status, expect["status"]
        )];
    }
    let mut bad = Vec::new();
    if status == 200 {
        let body: Value = serde_json::from_slice(&got.body).unwrap_or(Value::Null);
        let mut want = expect.clone();
        if let Some(file) = expect["file"].as_str() {
            want["file"] = json!(translate(file).unwrap_or_else(|| file.to_owned()));
        }
        if let Some(url) = expect["url"].as_str() {
            want["url"] = json!(without_origin(url));
        }
        let mut got_body = body.clone();
        if let Some(url) = body["url"].as_str() {
            got_body["url"] = json!(without_origin(url));
        }
        for key in [
            "router",
            "file",
            "params",
            "searchParams",
            "url",
            "pathname",
            "query",
        ] {
            if let Some(w) = want.get(key) {
                if got_body.get(key).unwrap_or(&Value::Null) != w {
                    bad.push(format!("{key} {} != {w}", got_body[key]));
                }
            }
        }
    } else if (300..400).contains(&status) {
        let location = got
            .header("location")
            .map(|l| json!(l))
            .unwrap_or(Value::Null);
        if location != expect["location"] {
            bad.push(format!("location {location} != {}", expect["location"]));
        }
    }
    bad
}

#[test]
fn every_app_corpus_request_through_nextr_dev_answers_as_next_or_as_deployed() {
    let (files, requests) = corpus();
    let files: BTreeMap<String, String> = files
        .into_iter()
        .filter(|f| !REFUSED.contains(&f.as_str()))
        .map(|f| {
            let content = if f.starts_with("app/") {
                app_echo_route(&f)
            } else {
                pages_echo_route(&f)
            };
            (f, content)
        })
        .collect();
    let files: Vec<(String, String)> = files.into_iter().collect();
    let app = TestApp::cached("nextr-dev-app-routing", &files);
    app.build();
    let dev = Dev::start(app.path(), &[]);
    let deviations = deviations();
    let mut used = BTreeSet::new();
    let mut failures = Vec::new();
    for r in &requests {
        let got = dev.get(&r.path);
        let problems: Vec<String> = match deviations.iter().position(|d| d.path == r.path) {
            Some(i) => {
                used.insert(i);
                let d = &deviations[i];
                compare(&got, &d.expect)
                    .into_iter()
                    .map(|p| format!("{p} [documented deviation: {}]", d.why))
                    .collect()
            }
            None => compare(&got, &r.expect),
        };
        if !problems.is_empty() {
            let note = r
                .note
                .as_ref()
                .map(|n| format!("\n    note: {n}"))
                .unwrap_or_default();
            failures.push(format!(
                "{} {:?}: {}{note}",
                r.tree,
                r.path,
                problems.join("; ")
            ));
        }
    }
    let unused: Vec<&str> = deviations
        .iter()
        .enumerate()
        .filter(|(i, _)| !used.contains(i))
        .map(|(_, d)| d.path)
        .collect();
    assert!(unused.is_empty(), "deviations for no request: {unused:?}");
    assert!(requests.len() > 100, "only {} requests", requests.len());
    assert!(
        failures.is_empty(),
        "{} of {} requests differ:\n{}",
        failures.len(),
        requests.len(),
        failures.join("\n")
    );
}
