//! One module per subcommand; each returns the process exit code or an error, which only
//! [`render_error`] turns into text: every command reports its errors the same way.

use std::io::IsTerminal;
use std::process::ExitCode;

use nextr_cli::build::BuildError;
use nextr_cli::project::{AppConfigError, ProjectError};
use nextr_cli::report::{render, ReportStyle, ShownLines};
use nextr_infra::deploy::DeployError;

use crate::cli::{Cli, Command};

mod build;
mod deploy;
pub mod dev;
mod invoke;
mod logs;
mod new;
mod remove;
mod rollback;
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
        Command::Logs(args) => logs::run(&args),
        Command::Rollback(args) => rollback::run(&args),
    }
}

/// An error as people read it: route-file and `nextr.toml` problems as code frames (rustc
/// style), anything else as `error: …` with one `caused by: …` line per underlying cause.
pub fn render_error(err: &anyhow::Error) -> String {
    let style = ReportStyle::detect(std::io::stderr().is_terminal());
    match err.downcast_ref::<BuildError>() {
        Some(BuildError::Analysis(report)) => return render(report, style),
        Some(BuildError::Project(ProjectError::AppConfig(AppConfigError::Invalid(report)))) => {
            return render(report, style)
        }
        _ => {}
    }
    // Messages carry file names and pages: no control character reaches the terminal.
    let mut out = format!("error: {}\n", ShownLines(err));
    let mut source = err.source();
    while let Some(cause) = source {
        out.push_str(&format!("  caused by: {}\n", ShownLines(cause)));
        source = cause.source();
    }
    // A failed AWS call says what to change (credentials, region, endpoint) on one line.
    if let Some(fix) = err
        .chain()
        .find_map(|cause| cause.downcast_ref::<DeployError>())
        .and_then(DeployError::fix)
    {
        out.push_str(&format!("  help: {fix}\n"));
    }
    out
}

/// Whether the error is a write to a closed pipe (the reader, such as `head`, has all it
/// wanted): not a failure of the command.
pub fn is_closed_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
