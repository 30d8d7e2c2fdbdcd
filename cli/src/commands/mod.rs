//! One module per subcommand; each returns the process exit code or an error for `main`.

use std::process::ExitCode;

use crate::cli::{Cli, Command};

mod build;
mod deploy;
pub mod dev;
mod invoke;
mod new;
mod remove;
mod routes;
mod stage;
mod status;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::New(args) => new::run(&args),
        Command::Routes(args) => routes::run(&args),
        Command::Build(args) => build::run(&args),
        Command::Dev(args) => dev::run(&args),
        Command::Invoke(args) => invoke::run(&args),
        Command::Deploy(args) => deploy::run(&args),
        Command::Remove(args) => remove::run(&args),
        Command::Status(args) => status::run(&args),
    }
}
