//! The Next.js App Router routing corpus (recorded on a real `next start`,
//! `tests/fixtures/app-routing.json`, a copy of the spec's `app/app-routing.json`) run through
//! `nextr routes --match`.
//!
//! The layout is translated as the spec's `app_routing_check.py` does it: `app/**/route.js`
//! (or `.ts`) → `app/**/route.rs`, `pages/api/**.js` → `api/**.rs`, other files dropped; trees
//! holding `page.js` or `layout.js` are skipped (nextr serves no pages). A case that names
//! `uses_files_of` runs against that case's tree. Fields an expectation does not record are not
//! compared, and `request.url` is compared without its origin (Next's `localhost:<port>`).

mod support;

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use assert_cmd::Command;
use serde_json::{Map, Value};
use support::apps::route_tree;

fn fixture() -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/app-routing.json");
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
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

/// Trees with pages or layouts need a React renderer, which nextr is not.
fn applicable(files: &[String]) -> bool {
    !files.iter().any(|f| {
        let name = f.rsplit('/').next().unwrap_or(f);
        ["page", "layout"].iter().any(|stem| {
            ["js", "ts", "jsx", "tsx"]
                .iter()
                .any(|ext| name == format!("{stem}.{ext}"))
        })
    })
}

/// `request.url` without `http(s)://host`.
fn without_origin(url: &str) -> &str {
    url.strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .map(|rest| rest.find('/').map_or("", |i| &rest[i..]))
        .unwrap_or(url)
}

fn nextr() -> Command {
    Command::cargo_bin("nextr").unwrap()
}

/// Compares one `--match` answer with the corpus `expect`, returning what differs.
fn compare(expect: &Map<String, Value>, got: &Value) -> Vec<String> {
    let field = |k: &str| got.get(k).cloned().unwrap_or(Value::Null);
    let status = expect["status"].as_u64().unwrap();
    if field("status") != expect["status"] {
        return vec![format!("status {} != {status}", field("status"))];
    }
    let mut bad = Vec::new();
    let mut check = |k: &str, want: Value| {
        if field(k) != want {
            bad.push(format!("{k} {} != {want}", field(k)));
        }
    };
    match status {
        200 => {
            for k in [
                "router",
                "route",
                "params",
                "searchParams",
                "pathname",
                "query",
            ] {
                if let Some(want) = expect.get(k) {
                    check(k, want.clone());
                }
            }
            if let Some(file) = expect.get("file").and_then(Value::as_str) {
                check("file", Value::from(translate(file).unwrap_or_default()));
            }
            if let Some(url) = expect.get("url").and_then(Value::as_str) {
                check("url", Value::from(without_origin(url)));
            }
        }
        300..=399 => {
            for k in ["location", "refresh", "body"] {
                if let Some(want) = expect.get(k) {
                    check(k, want.clone());
                }
            }
        }
        _ => {}
    }
    bad
}

fn str_list(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|f| f.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn next_app_routing_corpus() {
    let cases = fixture();
    let files_of: HashMap<&str, Vec<String>> = cases
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), str_list(&c["files"])))
        .collect();
    let (mut total, mut skipped) = (0, 0);
    let mut failures = Vec::new();
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let mut files = str_list(&case["files"]);
        if let Some(other) = case.get("uses_files_of").and_then(Value::as_str) {
            files = files_of[other].clone();
        }
        if !applicable(&files) {
            skipped += 1;
            continue;
        }
        let mut translated: Vec<String> = files.iter().filter_map(|f| translate(f)).collect();
        translated.dedup();
        let refs: Vec<&str> = translated.iter().map(String::as_str).collect();
        let app = route_tree(&refs);
        if let Some(text) = case.get("expect_error").and_then(Value::as_str) {
            total += 1;
            let out = nextr().arg("routes").arg(app.path()).output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            if out.status.code() != Some(1) || !stderr.contains(text) {
                failures.push(format!(
                    "{name}: expected exit 1 and an error containing {text:?}, got {:?}: {}",
                    out.status.code(),
                    stderr.trim()
                ));
            }
            continue;
        }
        for req in case["requests"].as_array().into_iter().flatten() {
            // Special trees record a raw response instead (`route.js` + `route.ts`).
            let (Some(path), Some(expect)) = (
                req.get("path").and_then(Value::as_str),
                req.get("expect").and_then(Value::as_object),
            ) else {
                continue;
            };
            total += 1;
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
                        "{name} {path:?}: no JSON answer (exit {:?}): {}",
                        out.status.code(),
                        String::from_utf8_lossy(&out.stderr)
                    ));
                    continue;
                }
            };
            let bad = compare(expect, &got);
            if !bad.is_empty() {
                failures.push(format!("{name} {path:?}: {}", bad.join("; ")));
            }
        }
    }
    assert!(
        total >= 110,
        "only {total} expectations ({skipped} trees skipped)"
    );
    assert_eq!(skipped, 1, "only the page + route tree needs a renderer");
    assert!(
        failures.is_empty(),
        "{} of {total} App routing expectations differ from Next.js:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn translation_follows_the_check_tool() {
    assert_eq!(
        translate("app/api/r01/route.js").as_deref(),
        Some("app/api/r01/route.rs")
    );
    assert_eq!(translate("app/route.ts").as_deref(), Some("app/route.rs"));
    assert_eq!(
        translate("pages/api/mix2/[id].js").as_deref(),
        Some("api/mix2/[id].rs")
    );
    assert_eq!(translate("app/api/r04/_lib/helper.js"), None);
    assert_eq!(translate("app/layout.js"), None);
    assert_eq!(without_origin("http://localhost:{port}/a?b=1"), "/a?b=1");
    assert_eq!(without_origin("/a"), "/a");
}
