//! The `nextr` command.
//!
//! Exit codes: 0 when the command did what it was asked (including `nextr dev` stopped with
//! Ctrl-C, and output cut short by a closed pipe, as in `nextr routes | head -1`); 1 when it
//! failed or was cancelled, with the reason on stderr; 2 when the command line is wrong.

use std::process::ExitCode;

use clap::Parser;

mod cli;
mod commands;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match commands::run(args) {
        Ok(code) => code,
        Err(err) if commands::is_closed_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprint!("{}", commands::render_error(&err));
            ExitCode::FAILURE
        }
    }
}
