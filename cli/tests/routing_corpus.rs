//! The Next.js routing corpus (recorded on a real `next start`, `tests/fixtures/routing.json`,
//! plus the cases observed later in `routing-extra.json`) run through `nextr routes --match`.
//!
//! Every case's tree is written to a temporary app (a `Cargo.toml` and placeholder route files),
//! every request is resolved by the real binary, and every mismatch is collected before the
//! test fails, so one run shows all of them.

mod support;

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use serde_json::{Map, Value};
use support::apps::route_tree;

const FIXTURES: &[&str] = &["routing.json", "routing-extra.json"];

fn fixture(name: &str) -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn nextr() -> Command {
    Command::cargo_bin("nextr").unwrap()
}

fn str_list(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect()
}

/// Compares one `--match` answer with the corpus `expect`, returning what differs.
fn compare(expect: &Map<String, Value>, got: &Value) -> Vec<String> {
    let mut bad = Vec::new();
    let field = |k: &str| got.get(k).cloned().unwrap_or(Value::Null);
    let status = expect["status"].as_u64().unwrap();
    if field("status") != expect["status"] {
        bad.push(format!("status {} != {status}", field("status")));
        return bad;
    }
    let keys: &[&str] = match status {
        200 => &["route", "file", "query", "url"],
        300..=399 => &["location", "refresh", "body"],
        _ => &[],
    };
    for &k in keys {
        // `query` compares as a JSON object: serde_json's map equality ignores key order.
        if let Some(want) = expect.get(k) {
            if &field(k) != want {
                bad.push(format!("{k} {} != {want}", field(k)));
            }
        }
    }
    bad
}

/// Runs every case of one fixture file, returning (expectations checked, mismatches).
fn run_fixture(name: &str) -> (usize, Vec<String>) {
    let mut total = 0;
    let mut failures = Vec::new();
    for case in fixture(name) {
        let case_name = case["name"].as_str().unwrap();
        let files = str_list(&case["files"]);
        let app = route_tree(&files);
        if let Some(text) = case.get("expect_error") {
            total += 1;
            let text = text.as_str().unwrap();
            let out = nextr().arg("routes").arg(app.path()).output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            if out.status.code() != Some(1) || !stderr.to_lowercase().contains(&text.to_lowercase())
            {
                failures.push(format!(
                    "{name} {case_name}: expected exit 1 and an error containing {text:?}, got {:?}: {}",
                    out.status.code(),
                    stderr.trim()
                ));
            }
            continue;
        }
        for req in case["requests"].as_array().unwrap() {
            total += 1;
            let path = req["path"].as_str().unwrap();
            let expect = req["expect"].as_object().unwrap();
            let out = nextr()
                .arg("routes")
                .arg(app.path())
                .arg("--match")
                .arg(path)
                .output()
                .unwrap();
            let got: Value = match serde_json::from_slice(&out.stdout) {
                Ok(v) if out.status.success() => v,
                _ => {
                    failures.push(format!(
                        "{name} {case_name} {path:?}: no JSON answer (exit {:?}): {}{}",
                        out.status.code(),
                        String::from_utf8_lossy(&out.stdout),
                        String::from_utf8_lossy(&out.stderr)
                    ));
                    continue;
                }
            };
            let bad = compare(expect, &got);
            if !bad.is_empty() {
                failures.push(format!("{name} {case_name} {path:?}: {}", bad.join("; ")));
            }
        }
    }
    (total, failures)
}

#[test]
fn next_routing_corpus() {
    let mut total = 0;
    let mut failures = Vec::new();
    for name in FIXTURES {
        let (t, f) = run_fixture(name);
        assert!(t > 0, "{name} has no expectations");
        total += t;
        failures.extend(f);
    }
    assert!(
        failures.is_empty(),
        "{} of {total} routing expectations differ from Next.js:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn corpus_fixture_is_the_spec_corpus_shape() {
    // Guards against an accidentally truncated copy: the corpus has valid trees with requests
    // covering 200, 308, 400 and 404, and invalid trees.
    let cases = fixture("routing.json");
    let mut statuses = std::collections::BTreeSet::new();
    let mut errors = 0;
    for case in &cases {
        if case.get("expect_error").is_some() {
            errors += 1;
        }
        for req in case
            .get("requests")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            statuses.insert(req["expect"]["status"].as_u64().unwrap());
        }
    }
    assert!(cases.len() >= 20, "only {} cases", cases.len());
    assert!(errors >= 10, "only {errors} invalid trees");
    assert_eq!(
        statuses.into_iter().collect::<Vec<_>>(),
        vec![200, 308, 400, 404]
    );
}

/// The stderr of `nextr routes` on an invalid tree, with the exit code checked.
fn tree_errors(files: &[&str]) -> String {
    let app = route_tree(files);
    let out = nextr().arg("routes").arg(app.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{files:?} should be rejected");
    assert!(
        out.stdout.is_empty(),
        "nothing on stdout for an invalid tree"
    );
    String::from_utf8(out.stderr).unwrap()
}

/// The line of the report that carries `message`, which must be there exactly once.
fn problem_line<'a>(stderr: &'a str, message: &str) -> &'a str {
    let lines: Vec<&str> = stderr.lines().filter(|l| l.contains(message)).collect();
    assert_eq!(
        lines.len(),
        1,
        "expected one line containing {message:?} in:\n{stderr}"
    );
    lines[0]
}

#[test]
fn invalid_tree_reports_every_problem_with_its_files() {
    let files = [
        // E1: names both files
        "api/a/[x].rs",
        "api/a/[y]/z.rs",
        // duplicate: names both files
        "api/b/dup.rs",
        "api/b/dup/index.rs",
        // E4
        "api/c/[...s]/x.rs",
        // E5
        "api/d/[[id]].rs",
        // E6: names both files
        "api/e/[...a].rs",
        "api/e/[[...b]].rs",
        // E7: names both files
        "api/f/index.rs",
        "api/f/[[...s]].rs",
        // E2
        "api/g/[id]/[id].rs",
        // E8, E9, E10
        "api/h/[..id].rs",
        "api/j/[[...id].rs",
        "api/k/[…id].rs",
        // E3
        "api/m/[helloworld]/[hello-world].rs",
        // fine
        "api/ok.rs",
        "api/_shared.rs",
    ];
    let stderr = tree_errors(&files);
    assert!(
        stderr.contains("11 problems"),
        "the report counts every problem:\n{stderr}"
    );

    let line = problem_line(&stderr, "different slug names");
    assert!(line.contains("'x' !== 'y'"), "{line}");
    assert!(
        line.contains("api/a/[x].rs") && line.contains("api/a/[y]/z.rs"),
        "{line}"
    );

    let line = problem_line(&stderr, "duplicate route \"/api/b/dup\"");
    assert!(
        line.contains("api/b/dup.rs") && line.contains("api/b/dup/index.rs"),
        "{line}"
    );

    let line = problem_line(&stderr, "Catch-all must be the last part of the URL.");
    assert!(line.contains("api/c/[...s]/x.rs"), "{line}");

    let line = problem_line(&stderr, "Optional route parameters are not yet supported");
    assert!(line.contains("api/d/[[id]].rs"), "{line}");

    let line = problem_line(&stderr, "required and optional catch-all");
    assert!(
        line.contains("api/e/[...a].rs") && line.contains("api/e/[[...b]].rs"),
        "{line}"
    );

    let line = problem_line(&stderr, "same specificity as");
    assert!(
        line.contains("api/f/index.rs") && line.contains("api/f/[[...s]].rs"),
        "{line}"
    );
    assert!(line.contains("\"/api/f\""), "{line}");

    let line = problem_line(&stderr, "same slug name \"id\" repeat");
    assert!(line.contains("api/g/[id]/[id].rs"), "{line}");

    let line = problem_line(&stderr, "erroneous periods ('..id')");
    assert!(line.contains("api/h/[..id].rs"), "{line}");

    let line = problem_line(&stderr, "extra brackets ('[...id')");
    assert!(line.contains("api/j/[[...id].rs"), "{line}");

    let line = problem_line(&stderr, "three-dot character");
    assert!(line.contains("api/k/[…id].rs"), "{line}");

    let line = problem_line(&stderr, "differ only by non-word symbols");
    assert!(
        line.contains("\"helloworld\" and \"hello-world\""),
        "{line}"
    );
    assert!(
        line.contains("api/m/[helloworld]/[hello-world].rs"),
        "{line}"
    );

    assert!(!stderr.contains("api/ok.rs"), "a valid file is not blamed");
    assert!(
        !stderr.contains("_shared"),
        "a non-route file is not blamed"
    );
}

#[test]
fn problems_are_found_in_both_insertion_orders() {
    // The file that comes second alphabetically is the one that triggers the error; the report
    // must still name both, whichever order the files sort in.
    for files in [
        ["api/i/[a].rs", "api/i/[b]/x.rs"],
        ["api/i/[b].rs", "api/i/[a]/x.rs"],
    ] {
        let stderr = tree_errors(&files);
        let line = problem_line(&stderr, "different slug names");
        assert!(line.contains(files[0]) && line.contains(files[1]), "{line}");
    }
    for files in [
        ["api/i/[...a].rs", "api/i/[[...a]].rs"],
        ["api/i/[[...a]].rs", "api/i/[...a].rs"],
    ] {
        let stderr = tree_errors(&files);
        let line = problem_line(&stderr, "required and optional catch-all");
        assert!(line.contains(files[0]) && line.contains(files[1]), "{line}");
    }
    for files in [
        ["api/index.rs", "api/[[...s]].rs"],
        ["api/x/[[...s]].rs", "api/x.rs"],
    ] {
        let stderr = tree_errors(&files);
        let line = problem_line(&stderr, "same specificity as");
        assert!(line.contains(files[0]) && line.contains(files[1]), "{line}");
    }
}
