//! `nextr routes` as a user sees it: the table, the JSON, the error reports (insta snapshots),
//! and the command-line error cases.

mod support;

use std::fs;

use assert_cmd::Command;
use serde_json::Value;
use support::apps::route_tree;
use support::workspace_root;

/// `nextr` run from the workspace root, so that `examples/docs` is spelled the same everywhere.
fn nextr() -> Command {
    let mut cmd = Command::cargo_bin("nextr").unwrap();
    cmd.current_dir(workspace_root());
    cmd
}

struct Output {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    Output {
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

#[test]
fn table_of_the_docs_example() {
    let out = run(nextr().args(["routes", "examples/docs"]));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(out.stderr, "");
    insta::assert_snapshot!(out.stdout);
}

#[test]
fn json_of_the_docs_example() {
    let out = run(nextr().args(["routes", "examples/docs", "--json"]));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let routes: Value = serde_json::from_str(&out.stdout).unwrap();
    insta::assert_json_snapshot!(routes);
}

#[test]
fn default_dir_is_the_current_folder() {
    let mut cmd = Command::cargo_bin("nextr").unwrap();
    cmd.current_dir(workspace_root().join("examples/docs"));
    let here = run(cmd.arg("routes"));
    let there = run(nextr().args(["routes", "examples/docs"]));
    assert_eq!(here.code, Some(0), "{}", here.stderr);
    assert_eq!(here.stdout, there.stdout);
}

#[test]
fn match_answers_of_the_docs_example() {
    let mut answers = Vec::new();
    for target in [
        "/api/hello",
        "/api/post/create",
        "/api/post/abc?x=1&pid=zzz",
        "/api/post/a/b%2Fc",
        "/api/note",
        "/api/note/index",
        "/api/note/a/b?slug=q",
        "/api/post/",
        "/api/post/%ZZ",
        "/api/nope",
    ] {
        let out = run(nextr().args(["routes", "examples/docs", "--match", target]));
        assert_eq!(out.code, Some(0), "{target}: {}", out.stderr);
        let answer: Value = serde_json::from_str(&out.stdout).unwrap();
        answers.push(serde_json::json!({ "target": target, "answer": answer }));
    }
    insta::assert_json_snapshot!(answers);
}

#[test]
fn invalid_tree_error_report() {
    let app = route_tree(&[
        "api/ok.rs",
        "api/a/[x].rs",
        "api/a/[y]/z.rs",
        "api/b/dup.rs",
        "api/b/dup/index.rs",
        "api/c/[...s]/x.rs",
        "api/f/index.rs",
        "api/f/[[...s]].rs",
        "api/h/[..id].rs",
    ]);
    let out = run(nextr().arg("routes").arg(app.path()));
    assert_eq!(out.code, Some(1));
    assert_eq!(out.stdout, "", "nothing on stdout for an invalid tree");
    let report = out
        .stderr
        .replace(&app.path().display().to_string(), "<APP>");
    insta::assert_snapshot!(report);

    // --json and --match are refused the same way: no half answer from an invalid tree.
    for extra in [&["--json"][..], &["--match", "/api/ok"][..]] {
        let again = run(nextr().arg("routes").arg(app.path()).args(extra));
        assert_eq!(again.code, Some(1), "{extra:?}");
        assert_eq!(again.stdout, "", "{extra:?}");
        assert_eq!(again.stderr, out.stderr, "{extra:?}");
    }
}

/// A tree with App Router route handlers beside Pages Router routes, as `nextr routes` shows it.
const MIXED: &[&str] = &[
    "app/route.rs",
    "app/api/mix/[id]/route.rs",
    "app/api/opt/[[...slug]]/route.rs",
    "app/(group)/hooks/deliver/[id]/route.rs",
    "app/api/%5Funder/route.rs",
    "app/api/_private/route.rs",
    "app/api/helper.rs",
    "api/mix/fixed.rs",
    "api/mix2/[id].rs",
];

#[test]
fn table_json_and_matches_of_a_mixed_app() {
    let app = route_tree(MIXED);
    let out = run(nextr().arg("routes").arg(app.path()));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    insta::assert_snapshot!("mixed_table", out.stdout);
    let out = run(nextr().arg("routes").arg(app.path()).arg("--json"));
    let routes: Value = serde_json::from_str(&out.stdout).unwrap();
    insta::assert_json_snapshot!("mixed_json", routes);
    let mut answers = Vec::new();
    for target in [
        "/",
        "/?q=1&q=2&r",
        "/api/mix/fixed",
        "/api/mix/other?id=q",
        "/api/mix/%ZZ",
        "/api/mix2/x",
        "/api/opt",
        "/api/opt/a/b%2Fc",
        "/hooks/deliver/42?__proto__=x&a=%20",
        "/api/_under",
        "/api/mix/other/",
    ] {
        let out = run(nextr()
            .arg("routes")
            .arg(app.path())
            .args(["--match", target]));
        assert_eq!(out.code, Some(0), "{target}: {}", out.stderr);
        let answer: Value = serde_json::from_str(&out.stdout).unwrap();
        answers.push(serde_json::json!({ "target": target, "answer": answer }));
    }
    insta::assert_json_snapshot!("mixed_matches", answers);
}

#[test]
fn app_only_tree_answers_500_for_malformed_escapes() {
    let app = route_tree(&["app/api/r06/[pid]/route.rs"]);
    fs::remove_dir(app.path().join("api")).unwrap();
    let out = run(nextr()
        .arg("routes")
        .arg(app.path())
        .args(["--match", "/api/r06/%ZZ"]));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(out.stdout.trim(), r#"{"status":500}"#);
}

#[test]
fn app_tree_errors_use_nexts_words() {
    let app = route_tree(&[
        "app/api/ib/route.rs",
        "api/ib.rs",
        "app/(g1)/api/id/route.rs",
        "app/(g2)/api/id/route.rs",
    ]);
    let out = run(nextr().arg("routes").arg(app.path()));
    assert_eq!(out.code, Some(1));
    let report = out
        .stderr
        .replace(&app.path().display().to_string(), "<APP>");
    insta::assert_snapshot!("app_tree_errors", report);
}

#[test]
fn missing_api_dir_is_a_clear_error() {
    let empty = tempfile::tempdir().unwrap();
    let out = run(nextr().arg("routes").arg(empty.path()));
    assert_eq!(out.code, Some(1));
    assert_eq!(out.stdout, "");
    let shown = empty.path().display().to_string();
    assert!(
        out.stderr.contains("no `api/` or `app/` folder") && out.stderr.contains(&shown),
        "the message names the folder: {}",
        out.stderr
    );
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);

    let missing = empty.path().join("does-not-exist");
    let out = run(nextr().arg("routes").arg(&missing));
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr.contains(&missing.display().to_string()),
        "{}",
        out.stderr
    );

    // `api` or `app` that is a file, not a folder, is the same mistake.
    fs::write(empty.path().join("api"), "").unwrap();
    fs::write(empty.path().join("app"), "").unwrap();
    let out = run(nextr().arg("routes").arg(empty.path()));
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr.contains("no `api/` or `app/` folder") && out.stderr.contains("app/**/route.rs"),
        "{}",
        out.stderr
    );

    // Either folder alone is enough.
    fs::remove_file(empty.path().join("app")).unwrap();
    fs::create_dir_all(empty.path().join("app/api/x")).unwrap();
    fs::write(empty.path().join("app/api/x/route.rs"), "").unwrap();
    let out = run(nextr().arg("routes").arg(empty.path()));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.contains("/api/x"), "{}", out.stdout);
}

#[test]
fn empty_api_dir_is_an_empty_table() {
    let app = route_tree(&["api/_shared.rs", "api/notes.md", "api/.hidden/x.rs"]);
    let out = run(nextr().arg("routes").arg(app.path()));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.contains("0 routes"), "{}", out.stdout);
    let out = run(nextr().arg("routes").arg(app.path()).arg("--json"));
    assert_eq!(
        serde_json::from_str::<Value>(&out.stdout).unwrap(),
        Value::Array(vec![])
    );
    let out = run(nextr()
        .arg("routes")
        .arg(app.path())
        .args(["--match", "/api/notes"]));
    assert_eq!(
        serde_json::from_str::<Value>(&out.stdout).unwrap(),
        serde_json::json!({ "status": 404 })
    );
}

#[test]
fn odd_characters_in_match_never_crash() {
    let targets = [
        "/api/post/a\tb\u{1}\u{7f}?é=%ZZ#frag",
        "/api/post/%",
        "/api/post/%%%",
        "/api/post/%C0%AF",
        "/api/post/%ED%A0%80",
        "/api/post/😀/%F0%9F%98%80",
        "/api/post/\u{feff}\u{200b}",
        "/api/post/a?b?c=d&&&==&%",
        "/api/../../..",
        "/api/%2e%2E/%2e/",
        "/api/post/[pid]?pid=[pid]&pid=%00",
        "/api/note/[[...slug]]?slug=a/b",
        "\\\\api\\post",
    ];
    let long = format!("/api/post/{}", "a%2F".repeat(5000));
    for target in targets.iter().copied().chain([long.as_str()]) {
        let out = run(nextr().args(["routes", "examples/docs", "--match", target]));
        assert_eq!(out.code, Some(0), "{target:?}: {}", out.stderr);
        let answer: Value = serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("{target:?}: {e}: {}", out.stdout));
        let status = answer["status"].as_u64().unwrap();
        assert!(
            [200, 308, 400, 404].contains(&status),
            "{target:?}: {answer}"
        );
    }
}

#[test]
fn match_refuses_targets_without_a_leading_slash_and_says_what_to_type() {
    let cases = [
        ("api/user/42", "did you mean `--match '/api/user/42'`?"),
        (
            "api/post/abc?x=1",
            "did you mean `--match '/api/post/abc?x=1'`?",
        ),
        ("?only=query", "did you mean `--match '/?only=query'`?"),
        ("", "did you mean `--match '/'`?"),
        ("*", "did you mean `--match '/*'`?"),
        ("-", "did you mean `--match '/-'`?"),
        ("--json", "did you mean `--match '/--json'`?"),
        (" ", "a request target starts with `/`"),
        ("#", "a request target starts with `/`"),
        (
            "http://localhost:3000/api/x?y=1#top",
            "a full URL is not a request target: --match takes the path and query a client \
             sends, as in `--match '/api/x?y=1#top'`",
        ),
        ("https://example.com", "as in `--match '/'`"),
        ("HTTP://example.com?q=1", "as in `--match '/?q=1'`"),
    ];
    for (target, message) in cases {
        let out = run(nextr().args(["routes", "examples/docs", "--match", target]));
        assert_eq!(
            out.code,
            Some(2),
            "{target:?}: a usage error: {}",
            out.stderr
        );
        assert!(out.stdout.is_empty(), "{target:?}: {}", out.stdout);
        assert!(out.stderr.contains(message), "{target:?}: {}", out.stderr);
        assert!(!out.stderr.contains('\x1b'), "{target:?}: {}", out.stderr);
    }
    let out = run(nextr().args(["routes", "examples/docs", "--match", "api/user/42"]));
    assert!(
        out.stderr.contains("next start` answers 400 without one"),
        "{}",
        out.stderr
    );
}

#[cfg(unix)]
#[test]
fn non_utf8_match_argument_is_refused_cleanly() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let out = nextr()
        .args(["routes", "examples/docs", "--match"])
        .arg(OsStr::from_bytes(b"/api/post/\xff\xfe"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "a usage error: {stderr}");
    assert!(stderr.contains("invalid UTF-8"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn a_closed_pipe_ends_quietly_with_success() {
    // `nextr routes examples/docs | head -0`: the reader is gone before anything is written
    // (closed before nextr starts, so the write always meets a closed pipe).
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_nextr"))
        .args(["routes", "examples/docs"])
        .current_dir(workspace_root())
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

/// A file name is printed with its control characters escaped, so it cannot drive the
/// terminal: in the route table and in error messages.
#[test]
fn control_characters_in_file_names_are_escaped() {
    let app = route_tree(&["api/red\u{1b}[31m\ttab.rs"]);
    let out = run(nextr().arg("routes").arg(app.path()));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(!out.stdout.contains(['\u{1b}', '\t']), "{:?}", out.stdout);
    assert!(
        out.stdout.contains(r"/api/red\u{1b}[31m\ttab"),
        "{}",
        out.stdout
    );

    let broken = route_tree(&["api/[a\u{1b}]/x.rs", "api/[b]/y/[c].rs"]);
    let out = run(nextr().arg("routes").arg(broken.path()));
    assert_eq!(out.code, Some(1));
    assert!(!out.stderr.contains('\u{1b}'), "{:?}", out.stderr);
    assert!(out.stderr.contains(r"[a\u{1b}]"), "{}", out.stderr);
}
