//! The benchmark scripts under `bench/` keep running as nextr changes: each runs here in its
//! smoke mode (`BENCH_SMOKE=1`: a few debug routes, one run, no peers; see `bench/lib.sh`)
//! with the `nextr` under test and the suite's shared target dir, so their dependencies are
//! warm. A script that can no longer parse nextr's output, or whose own checks fail (the
//! one-route edit that must rewrite exactly one zip), fails here; the numbers mean nothing.

mod support;

use std::path::Path;
use std::process::Command;

/// Runs `bench/<script>` in smoke mode; its stdout, after asserting it succeeded.
fn smoke(script: &str, args: &[&str], work: &Path) -> String {
    let root = support::workspace_root();
    // The script's environment is `nextr`'s (shared target dir, no colours), plus the knobs.
    let base = support::nextr();
    let mut cmd = Command::new("bash");
    cmd.arg(root.join("bench").join(script)).args(args);
    for (k, v) in base.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let out = cmd
        .env_remove("CARGO_TARGET_DIR")
        .env("BENCH_SMOKE", "1")
        .env("NEXTR", base.get_program())
        .env("BENCH_TARGET_DIR", support::target_dir())
        .env("WORK", work)
        .current_dir(&root)
        .output()
        .unwrap_or_else(|e| panic!("cannot run bench/{script}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "bench/{script} failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn build_sh_builds_edits_one_route_and_reports() {
    let work = tempfile::tempdir().unwrap();
    let out = smoke("build.sh", &[], work.path());
    for row in [
        "| 1 route(s), dependencies warm |",
        "| 3 route(s), dependencies warm |",
        "| per extra route, 1 → 3 |",
        "| edit one route of 3, rebuild (1 zip changed: /api/r1) |",
        "| rebuild of 3, nothing changed |",
        "hello bundle: ",
    ] {
        assert!(out.contains(row), "no `{row}` in:\n{out}");
    }
}

#[test]
fn profiles_sh_measures_a_candidate_with_its_cold_start() {
    let work = tempfile::tempdir().unwrap();
    let out = smoke("profiles.sh", &["dev", "dev-nodebug-strip"], work.path());
    let row = out
        .lines()
        .find(|l| l.starts_with("| dev-nodebug-strip |"))
        .unwrap_or_else(|| panic!("no candidate row in:\n{out}"));
    // deps, 1 route, 2 routes, per route, zip, binary, cold start: every cell filled.
    let cells: Vec<&str> = row.trim_matches('|').split('|').map(str::trim).collect();
    assert_eq!(cells.len(), 8, "{row}");
    assert!(cells.iter().all(|c| !c.is_empty()), "{row}");
    assert!(
        cells[7].ends_with(')') && cells[7].contains(" ms ("),
        "{row}"
    );
}

#[test]
fn route_binaries_sh_times_an_extra_binary_of_each_variant() {
    let work = tempfile::tempdir().unwrap();
    let root = support::workspace_root();
    let script = root.join("bench/route-binaries.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg("2")
        .arg(work.path())
        .env("BENCH_SMOKE", "1")
        .env("CARGO_TARGET_DIR", support::target_dir())
        .env("BENCH_TARGET_DIR", support::target_dir())
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for variant in ["nextr", "generic"] {
        assert!(
            stdout.contains(&format!("{variant}: binaries 2..2: ")),
            "{stdout}"
        );
    }
}
