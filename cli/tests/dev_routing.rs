//! The Next.js routing corpus (`fixtures/routing.json`, recorded on a real `next start`, and
//! `fixtures/routing-extra.json`) through `nextr dev`: every valid tree becomes a real app
//! whose every route file is an echo route reporting its own file, `req.query` and `req.url`;
//! the app is built with `nextr build`, served by `nextr dev`, and every request is sent byte
//! for byte over TCP (no client normalises `//`, `\`, `..`, `%2e` or brackets on the way).
//! The comparison is `routing_check.py`'s (`nextr routes --match` against the same corpus):
//! status always; for 200 the route, file, query and url; for 3xx the location.
//!
//! Where the deployed API Gateway HTTP API itself answers differently from `next start`,
//! `nextr dev` answers as the deployed API does; those cases are listed in [`deviations`] with
//! the reason and what dev answers instead, and the test checks that answer too.

mod support;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};
use support::apps::{pages_echo_route as echo_route, TestApp};
use support::dev::Dev;
use support::http::Reply;

/// One tree of the corpus.
#[derive(Debug, Clone)]
struct Tree {
    name: String,
    files: Vec<String>,
    requests: Vec<(String, Value, Option<String>)>,
}

fn corpus() -> Vec<Tree> {
    let mut trees = Vec::new();
    for file in ["routing.json", "routing-extra.json"] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(file);
        let cases: Vec<Value> =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for case in cases {
            // Invalid trees fail the build; `routing_corpus.rs` checks their errors.
            if case.get("expect_error").is_some() {
                continue;
            }
            trees.push(Tree {
                name: case["name"].as_str().unwrap().to_owned(),
                files: case["files"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| f.as_str().unwrap().to_owned())
                    .collect(),
                requests: case["requests"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| {
                        (
                            r["path"].as_str().unwrap().to_owned(),
                            r["expect"].clone(),
                            r["note"].as_str().map(str::to_owned),
                        )
                    })
                    .collect(),
            });
        }
    }
    trees
}

/// The folders right under `api/` a tree's files live in, if every file lives in one with a
/// static name (then the tree cannot answer for paths outside them, and it can share an app
/// with trees using other folders).
fn folders(tree: &Tree) -> Option<BTreeSet<String>> {
    tree.files
        .iter()
        .map(|f| {
            let mut parts = f.split('/');
            let (api, dir, rest) = (parts.next()?, parts.next()?, parts.next());
            (api == "api" && rest.is_some() && !dir.contains('[')).then(|| dir.to_owned())
        })
        .collect()
}

/// Trees grouped into as few apps as possible: one build for all the trees whose folders do
/// not collide, one app for each tree with routes at the top of `api/`.
fn apps(trees: &[Tree]) -> Vec<Vec<Tree>> {
    let mut shared: Vec<Tree> = Vec::new();
    let mut used = BTreeSet::new();
    let mut alone = Vec::new();
    for tree in trees {
        match folders(tree) {
            Some(dirs) if dirs.is_disjoint(&used) => {
                used.extend(dirs);
                shared.push(tree.clone());
            }
            _ => alone.push(vec![tree.clone()]),
        }
    }
    let mut groups = vec![shared];
    groups.extend(alone);
    groups
}

/// A case where `nextr dev` deliberately answers differently from `next start`, because the
/// deployed API Gateway HTTP API does: what dev answers instead (status; for a 200 the file,
/// query and url; for a 308 the location), and why.
struct Deviation {
    path: &'static str,
    status: u16,
    file: Option<&'static str>,
    query: Option<Value>,
    url: Option<&'static str>,
    location: Option<&'static str>,
    why: &'static str,
}

impl Deviation {
    fn status(path: &'static str, status: u16, why: &'static str) -> Self {
        Deviation {
            path,
            status,
            file: None,
            query: None,
            url: None,
            location: None,
            why,
        }
    }

    fn ok(
        path: &'static str,
        file: &'static str,
        query: Value,
        url: &'static str,
        why: &'static str,
    ) -> Self {
        Deviation {
            file: Some(file),
            query: Some(query),
            url: Some(url),
            ..Deviation::status(path, 200, why)
        }
    }

    fn redirect(path: &'static str, location: &'static str, why: &'static str) -> Self {
        Deviation {
            location: Some(location),
            ..Deviation::status(path, 308, why)
        }
    }

    fn expect(&self) -> Value {
        let mut e = json!({"status": self.status});
        for (key, value) in [
            ("file", self.file.map(|f| json!(f))),
            ("query", self.query.clone()),
            ("url", self.url.map(|u| json!(u))),
            ("location", self.location.map(|l| json!(l))),
        ] {
            if let Some(v) = value {
                e[key] = v;
            }
        }
        e
    }
}

/// API Gateway HTTP API percent-decodes the path and selects the route key on the decoded path
/// (so an encoded spelling of a static route reaches it, and an encoded `/` separates
/// segments); `next start` matches static routes on the raw path.
const ROUTES_DECODED: &str =
    "API Gateway routes the percent-decoded path (next start matches static routes on the raw one)";
/// API Gateway HTTP API hands the function `rawPath` percent-decoded (live captures, see
/// `cli/src/emulator/event.rs`): the route rebuilds `req.query` and `req.url` from the decoded
/// path, and cannot tell `%2F` from `/`, `%5B` from `[` or `%61` from `a`.
const DECODED_RAW_PATH: &str = "the function receives rawPath percent-decoded";
/// Decoded, the path has an empty segment (`//` or a trailing `/`), which no route key
/// matches; deploy's `$default` function answers Next's 308 for it.
const EMPTY_SEGMENT: &str = "decoded, the path has an empty segment: $default answers Next's 308";
/// Observed on a live HTTP API: a `?` produced by decoding cuts the path (`/a%3Fb` → `/a`).
const CUT_AT_QUESTION_MARK: &str = "API Gateway cuts the decoded path at a decoded `?`";
/// Observed on a live HTTP API: the path is decoded twice and a path whose second decoding
/// fails (`/a%25done`) is rejected with 400 before routing; so is a malformed escape.
const UNDECODABLE: &str = "API Gateway answers 400 to a path it cannot percent-decode (twice)";
/// `nextr build` refuses the file (see [`REFUSED`]): there is no such route to reach.
const NOT_BUILT: &str =
    "nextr build refuses this route file (API Gateway route paths cannot hold `+`, `[` or `]`)";
/// hyper, the HTTP server of `nextr dev`, answers 400 to a request target holding a raw
/// `` ` ``, `<` or `>` (RFC 3986 does not allow them unescaped) before nextr sees it. Whether
/// API Gateway accepts them was not observed; browsers and `fetch` percent-encode them.
const RAW_CHARACTERS: &str = "hyper rejects a raw ` < > in the request target (RFC 3986)";

fn deviations() -> Vec<Deviation> {
    vec![
        // t01
        Deviation::ok(
            "/api/t01/%61bout",
            "api/t01/about.rs",
            json!({}),
            "/api/t01/about",
            ROUTES_DECODED,
        ),
        // t02
        Deviation::ok(
            "/api/t02/opt/%5B%5B...slug%5D%5D",
            "api/t02/opt/[[...slug]].rs",
            json!({}),
            "/api/t02/opt/",
            DECODED_RAW_PATH,
        ),
        // t03
        Deviation::ok(
            "/api/t03/users/a%2Fb/c",
            "api/t03/users/[...slug].rs",
            json!({"slug": ["a", "b", "c"]}),
            "/api/t03/users/a/b/c",
            DECODED_RAW_PATH,
        ),
        Deviation::redirect(
            "/api/t03/users/test1/%2Ftest2",
            "/api/t03/users/test1/test2",
            EMPTY_SEGMENT,
        ),
        Deviation::redirect(
            "/api/t03/users/test1%2F/test2",
            "/api/t03/users/test1/test2",
            EMPTY_SEGMENT,
        ),
        Deviation::ok(
            "/api/t03/users/%3A42",
            "api/t03/users/[...slug].rs",
            json!({"slug": [":42"]}),
            "/api/t03/users/:42",
            DECODED_RAW_PATH,
        ),
        // t05
        Deviation::status("/api/t05/post/a%2Fb", 404, ROUTES_DECODED),
        Deviation::status("/api/t05/post/100%25", 400, UNDECODABLE),
        Deviation::ok(
            "/api/t05/post/a%3Fb",
            "api/t05/post/[pid].rs",
            json!({"pid": "a"}),
            "/api/t05/post/a",
            CUT_AT_QUESTION_MARK,
        ),
        Deviation::status("/api/t05/nomatch/%ZZ", 400, UNDECODABLE),
        Deviation::ok(
            "/api/t05/post/%5Bpid%5D",
            "api/t05/post/[pid].rs",
            json!({"pid": "[pid]"}),
            "/api/t05/post/[pid]",
            DECODED_RAW_PATH,
        ),
        // t06
        Deviation::ok(
            "/api/t06/h%65llo",
            "api/t06/hello.rs",
            json!({}),
            "/api/t06/hello",
            ROUTES_DECODED,
        ),
        Deviation::status("/api/t06/a+b", 404, NOT_BUILT),
        Deviation::ok(
            "/api/t06/a%2Fb",
            "api/t06/a/b.rs",
            json!({}),
            "/api/t06/a/b",
            ROUTES_DECODED,
        ),
        // t07
        Deviation::status("/api/t07/k4/post-[id]", 404, NOT_BUILT),
        Deviation::status("/api/t07/k5/[id].json", 404, NOT_BUILT),
        // t12
        Deviation::redirect("/api/t12/x%2F", "/api/t12/x", EMPTY_SEGMENT),
        // edge17
        Deviation::status("/api/i/[]", 404, NOT_BUILT),
        // x01
        Deviation::status("/api/v1/a`b", 400, RAW_CHARACTERS),
        Deviation::status("/api/v1/a<b>", 400, RAW_CHARACTERS),
        // x02: the decoded path spells the route's own pattern, so the query value wins.
        Deviation::ok(
            "/api/v2/%5B...slug%5D?slug=a/b",
            "api/v2/[...slug].rs",
            json!({"slug": ["a", "b"]}),
            "/api/v2/a%2Fb",
            DECODED_RAW_PATH,
        ),
        // x03
        Deviation::ok(
            "/api/v3/%69ndex",
            "api/v3/[[...slug]].rs",
            json!({}),
            "/api/v3/index",
            DECODED_RAW_PATH,
        ),
        // x04
        Deviation::ok(
            "/api/v6/%5Ba%5D/[b]",
            "api/v6/[a]/[b].rs",
            json!({"a": "[a]", "b": "[b]"}),
            "/api/v6/[a]/[b]",
            DECODED_RAW_PATH,
        ),
        // x06
        Deviation::status("/api/v9/[]/q", 404, NOT_BUILT),
        Deviation::status("/api/v10/[]", 404, NOT_BUILT),
    ]
}

/// Route files `nextr build` refuses, so no app (and no `nextr dev`) can have them: their
/// static segment holds a character API Gateway does not accept in a route path (only ASCII
/// letters, digits and `_ - . , :`), so the deployed API could never route to them
/// (`nextr_infra::route_keys`). The trees are served without them; the requests Next answers
/// with one of them are listed in [`deviations`].
const REFUSED: &[&str] = &[
    "api/i/[].rs",
    "api/t06/a+b.rs",
    "api/t07/k4/post-[id].rs",
    "api/t07/k5/[id].json.rs",
    "api/v10/[].rs",
    "api/v9/[]/[x].rs",
];

/// `routing_check.py`'s comparison, plus the file.
fn compare(got: &Reply, expect: &Value) -> Vec<String> {
    let mut bad = Vec::new();
    let status = u64::from(got.status);
    if Some(status) != expect["status"].as_u64() {
        bad.push(format!(
            "status {} != {} ({})",
            got.status,
            expect["status"],
            got.text().chars().take(160).collect::<String>()
        ));
        return bad;
    }
    if status == 200 {
        let body: Value = serde_json::from_slice(&got.body).unwrap_or(Value::Null);
        for key in ["route", "file", "query", "url"] {
            if expect.get(key).is_some() && body[key] != expect[key] {
                bad.push(format!("{key} {} != {}", body[key], expect[key]));
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
fn the_refused_files_are_refused_by_nextr_build() {
    let files: Vec<(String, String)> = REFUSED
        .iter()
        .map(|f| (f.to_string(), echo_route(f)))
        .collect();
    let app = TestApp::cached("nextr-dev-routing-refused", &files);
    // The analysis fails before anything compiles.
    let out = app.build_output();
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "{output}");
    for file in REFUSED {
        assert!(
            output.contains(&format!("{file}: the route")),
            "{file} is not refused:\n{output}"
        );
    }
}

#[test]
fn every_corpus_request_through_nextr_dev_answers_as_next_or_as_deployed() {
    let trees = corpus();
    let groups = apps(&trees);
    let deviations = deviations();
    let mut used_deviations = BTreeSet::new();
    let mut failures = Vec::new();
    let mut checked = 0;
    for (i, group) in groups.iter().enumerate() {
        let mut files: BTreeMap<String, String> = BTreeMap::new();
        for tree in group {
            for f in tree.files.iter().filter(|f| !REFUSED.contains(&f.as_str())) {
                let content = if f.ends_with(".rs") {
                    echo_route(f)
                } else {
                    "not a route\n".to_owned()
                };
                files.insert(f.clone(), content);
            }
        }
        let files: Vec<(String, String)> = files.into_iter().collect();
        let app = TestApp::cached(&format!("nextr-dev-routing-{i}"), &files);
        app.build();
        let dev = Dev::start(app.path(), &[]);
        for tree in group {
            for (path, expect, note) in &tree.requests {
                checked += 1;
                let got = dev.get(path);
                let deviation = deviations.iter().position(|d| d.path == path.as_str());
                let problems = match deviation {
                    Some(d) => {
                        used_deviations.insert(d);
                        let d = &deviations[d];
                        compare(&got, &d.expect())
                            .into_iter()
                            .map(|p| format!("{p} [documented deviation: {}]", d.why))
                            .collect()
                    }
                    None => compare(&got, expect),
                };
                if !problems.is_empty() {
                    failures.push(format!(
                        "{} {path:?}: {}{}",
                        tree.name,
                        problems.join("; "),
                        note.as_ref()
                            .map(|n| format!("\n    note: {n}"))
                            .unwrap_or_default()
                    ));
                }
            }
        }
    }
    let unused: Vec<&str> = deviations
        .iter()
        .enumerate()
        .filter(|(i, _)| !used_deviations.contains(i))
        .map(|(_, d)| d.path)
        .collect();
    assert!(unused.is_empty(), "deviations for no request: {unused:?}");
    let total: usize = trees.iter().map(|t| t.requests.len()).sum();
    assert!(
        checked == total && total > 150,
        "{checked} of {total} requests"
    );
    assert!(
        failures.is_empty(),
        "{} of {checked} requests differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
