//! What a piped `nextr build` prints while cargo works (no terminal: plain lines, no bar):
//! a line per route binary with a counter that ends at the number of functions, and a
//! "still compiling" line whenever cargo has been quiet for the interval.

mod support;

use support::apps::{pages_echo_route, TestApp, HELLO};

/// The `[k/n] compiled PAGE (FUNCTION)` lines of a build's stderr, as `(k, n, page)`.
fn counted(stderr: &str) -> Vec<(usize, usize, String)> {
    stderr
        .lines()
        .filter_map(|l| {
            let rest = l.trim_start().strip_prefix('[')?;
            let (count, rest) = rest.split_once("] compiled ")?;
            let (k, n) = count.split_once('/')?;
            let page = rest.rsplit_once(" (")?.0.to_string();
            Some((k.parse().ok()?, n.parse().ok()?, page))
        })
        .collect()
}

#[test]
fn a_piped_build_prints_progress_lines_with_a_right_counter() {
    let app = TestApp::new("progress");
    app.write("api/hello.rs", HELLO)
        .write("api/users/[id].rs", &pages_echo_route("api/users/[id].rs"));
    let build = || {
        app.nextr()
            // Said after 50 ms of quiet instead of 10 s, so even a short build shows it.
            .env("NEXTR_TEST_PROGRESS_EVERY_MS", "50")
            .args(["build", "--debug"])
            .arg(app.path())
            .output()
            .unwrap()
    };

    let out = build();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    assert!(
        !stderr.contains('\x1b'),
        "no escape codes when piped: {stderr}"
    );
    assert!(
        stderr.contains(&format!("Building 2 routes of {} for", app.name())),
        "{stderr}"
    );
    let lines = counted(&stderr);
    // Two routes and the `$default` function, each once, counted 1..=3.
    assert_eq!(
        lines.iter().map(|(k, n, _)| (*k, *n)).collect::<Vec<_>>(),
        [(1, 3), (2, 3), (3, 3)],
        "{stderr}"
    );
    let mut pages: Vec<&str> = lines.iter().map(|(_, _, p)| p.as_str()).collect();
    pages.sort_unstable();
    assert_eq!(
        pages,
        ["$default", "/api/hello", "/api/users/[id]"],
        "{stderr}"
    );
    assert!(
        stderr.lines().any(|l| l.starts_with("  still compiling ")),
        "a quiet cargo is reported: {stderr}"
    );
    // Still-compiling lines only while something is left to compile.
    let last_binary = stderr.rfind("[3/3] compiled").unwrap();
    assert!(
        !stderr[last_binary..].contains("still compiling"),
        "{stderr}"
    );

    // Nothing changed: cargo reports every binary fresh, and the counter ends at 3 again.
    let out = build();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    let counts: Vec<(usize, usize)> = counted(&stderr).iter().map(|(k, n, _)| (*k, *n)).collect();
    assert_eq!(counts, [(1, 3), (2, 3), (3, 3)], "{stderr}");
}
