//! Shared by the integration tests of the `nextr` command. Each test file does `mod support;`
//! and uses the parts it needs:
//!
//! - here: the workspace root, the cargo target dirs the tests build in, and [`nextr`], the
//!   binary under test set up to build there;
//! - [`apps`]: real apps (route files, the workspace's runtime crate) built by the real
//!   `nextr build`, temporary ([`apps::TestApp::new`]) or cached at a stable path
//!   ([`apps::TestApp::cached`]);
//! - [`fixture`]: apps made without `nextr build`: the `lambda-fn` fixture (a real Lambda
//!   function built once with cargo) zipped as `bootstrap`, with a hand-written route manifest;
//! - [`dev`]: `nextr dev` running as a child process ([`dev::Dev`]);
//! - [`http`]: requests written byte for byte over TCP and their [`http::Reply`];
//! - [`moto`]: `nextr` run against a moto server;
//! - [`chunked`]: a streamed response read chunk by chunk, with each chunk's arrival time.
//!
//! Every app built by `nextr build` or `nextr dev` here builds in one cargo target dir,
//! [`target_dir`], so tokio, hyper, lambda_http and serde compile once for the whole suite and
//! stay compiled across `cargo test` runs.

#![allow(dead_code)] // each test binary uses a different part of this module

pub mod apps;
pub mod chunked;
pub mod dev;
pub mod fixture;
pub mod http;
pub mod moto;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace root (the folder of the workspace `Cargo.toml`, holding `examples/`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the cli crate sits in the workspace")
        .to_path_buf()
}

/// The cargo target dir every test app builds in: `nextr-test-apps` next to the workspace's
/// own `debug/` (wherever `CARGO_TARGET_DIR` or cargo's config put it).
pub fn target_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(tmp).join("nextr-test-apps")
}

/// `nextr` (the binary under test) set up to build test apps: the shared [`target_dir`], no
/// colours, plain progress, nothing inherited from the outer `cargo test` that would change
/// what cargo compiles.
pub fn nextr() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nextr"));
    cmd.env("CARGO_TARGET_DIR", target_dir())
        .env("CI", "true")
        .env("NO_COLOR", "1")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("CARGO_BUILD_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    cmd
}
