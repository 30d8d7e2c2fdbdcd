//! nextr's colours follow one rule everywhere (`ReportStyle::detect`): only on a terminal,
//! never under `NO_COLOR`, `CI` or `TERM=dumb`, and nothing forces them into a pipe. That
//! covers its own reports, clap's usage errors and help, and what it passes on from cargo.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use support::apps::route_tree;
use support::workspace_root;

/// Settings that ask programs to colour even when piped.
const FORCING: &[(&str, &str)] = &[
    ("CLICOLOR_FORCE", "1"),
    ("FORCE_COLOR", "1"),
    ("CARGO_TERM_COLOR", "always"),
    ("TERM", "xterm-256color"),
];

/// `nextr` with no colour setting of the outer environment.
fn nextr() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nextr"));
    cmd.current_dir(workspace_root());
    for name in [
        "NO_COLOR",
        "CI",
        "CLICOLOR",
        "CLICOLOR_FORCE",
        "FORCE_COLOR",
        "TERM",
    ] {
        cmd.env_remove(name);
    }
    cmd
}

/// An app whose route file has no handler: `nextr build` draws its code-frame report
/// (before any compilation).
fn broken_app() -> tempfile::TempDir {
    let app = route_tree(&["api/bad.rs", "src/lib.rs"]);
    std::fs::write(app.path().join("api/bad.rs"), "pub fn nope() {}\n").unwrap();
    app
}

/// What nextr prints for each case, and whether it is coloured on a terminal: a clap usage
/// error, clap's help, a code-frame report, an `error:` line (never coloured).
fn cases(broken: &Path) -> Vec<(Vec<String>, bool)> {
    let broken = broken.to_string_lossy().into_owned();
    [
        (&["routes", "examples/docs", "--match", "api/x"][..], true),
        (&["routes", "--help"], true),
        (&["build", &broken], true),
        (&["status", &broken], false),
    ]
    .iter()
    .map(|(args, coloured)| (args.iter().map(|a| a.to_string()).collect(), *coloured))
    .collect()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn piped_output_has_no_escape_codes_even_when_colour_is_forced() {
    let broken = broken_app();
    for (args, _) in cases(broken.path()) {
        let o = nextr()
            .args(&args)
            .envs(FORCING.iter().copied())
            .output()
            .unwrap();
        let out = text(&o);
        assert!(!out.is_empty(), "{args:?} printed something");
        assert!(!out.contains('\x1b'), "{args:?}:\n{out}");
        if args[0] == "build" {
            assert!(out.contains("api/bad.rs"), "the report: {out}");
        }
    }
}

/// Runs `nextr ARGS` on a pseudo-terminal (util-linux `script`), with `env`; all it printed.
#[cfg(target_os = "linux")]
fn on_a_terminal(args: &[String], env: &[(&str, &str)]) -> String {
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let line = std::iter::once(env!("CARGO_BIN_EXE_nextr").to_string())
        .chain(args.iter().cloned())
        .map(|a| quote(&a))
        .collect::<Vec<_>>()
        .join(" ");
    let o = Command::new("script")
        .args(["--quiet", "--return", "--command", &line, "/dev/null"])
        .current_dir(workspace_root())
        .env_remove("NO_COLOR")
        .env_remove("CI")
        .env_remove("CLICOLOR_FORCE")
        .env("TERM", "xterm-256color")
        .envs(env.iter().copied())
        .output()
        .expect("util-linux `script` runs (it gives nextr a terminal)");
    text(&o)
}

#[cfg(target_os = "linux")]
#[test]
fn on_a_terminal_colours_unless_no_color_ci_or_a_dumb_terminal() {
    let broken = broken_app();
    for (args, coloured) in cases(broken.path()) {
        // Colour on a terminal shows the terminal is real.
        if coloured {
            let out = on_a_terminal(&args, &[]);
            assert!(
                out.contains("\x1b["),
                "{args:?} is coloured on a terminal:\n{out}"
            );
        }
        for env in [
            &[("NO_COLOR", "1")][..],
            &[("CI", "true")],
            &[("TERM", "dumb")],
            &[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")],
        ] {
            let out = on_a_terminal(&args, env);
            assert!(!out.is_empty(), "{args:?} {env:?} printed something");
            assert!(!out.contains('\x1b'), "{args:?} {env:?}:\n{out}");
        }
    }
}
