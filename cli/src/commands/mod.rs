//! One module per subcommand; each returns the process exit code or an error for `main`.

use std::process::ExitCode;

use crate::cli::{Cli, Command};

mod build;
pub mod dev;
mod invoke;
mod new;
mod routes;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::New(args) => new::run(&args),
        Command::Routes(args) => routes::run(&args),
        Command::Build(args) => build::run(&args),
        Command::Dev(args) => dev::run(&args),
        Command::Invoke(args) => invoke::run(&args),
    }
}
