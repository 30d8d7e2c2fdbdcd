//! The `nextr` command.
//!
//! Exit codes: 0 when the command did what it was asked (including `nextr dev` stopped with
//! Ctrl-C, and output cut short by a closed pipe, as in `nextr routes | head -1`); 1 when it
//! failed or was cancelled, with the reason on stderr; 2 when the command line is wrong.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{ColorChoice, CommandFactory, FromArgMatches};
use nextr_cli::report::ReportStyle;

mod cli;
mod commands;

fn main() -> ExitCode {
    // clap's usage errors and help follow nextr's colour rule (a terminal, no `NO_COLOR`, not
    // CI), not its own, which `CLICOLOR_FORCE` turns on even in a pipe.
    let terminal = std::io::stderr().is_terminal() && std::io::stdout().is_terminal();
    let color = match ReportStyle::detect(terminal) {
        ReportStyle::Color => ColorChoice::Auto,
        ReportStyle::Plain => ColorChoice::Never,
    };
    let mut command = cli::Cli::command().color(color);
    let matches = command.get_matches_mut();
    let args = match cli::Cli::from_arg_matches(&matches) {
        Ok(args) => args,
        Err(err) => err.format(&mut command).exit(),
    };
    match commands::run(args) {
        Ok(code) => code,
        Err(err) if commands::is_closed_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprint!("{}", commands::render_error(&err));
            ExitCode::FAILURE
        }
    }
}
