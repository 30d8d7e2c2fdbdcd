//! `nextr` run against a moto server: the AWS commands' tests (deploy, status, rollback,
//! remove, logs) call AWS only through the server, never through the machine's profile.

use std::process::{Command, Output, Stdio};

use nextr_infra::testing::MotoServer;

/// Runs `nextr args` with `moto`'s endpoint, region and dummy credentials, no terminal, and
/// nothing from the outer environment that would pick another profile or stage, or inject a
/// fault.
pub fn nextr(moto: &MotoServer, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nextr"));
    cmd.args(args).stdin(Stdio::null());
    for (k, v) in moto.env() {
        cmd.env(k, v);
    }
    cmd.env_remove("AWS_PROFILE")
        .env_remove("NEXTR_STAGE")
        .env_remove("NEXTR_TEST_ABORT_AFTER_MUTATIONS");
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run nextr {args:?}: {e}"))
}
