//! Command-line grammar.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Next.js-style API routes for Rust on AWS Lambda.
#[derive(Debug, Parser)]
#[command(name = "nextr", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the app's routes in Next's precedence order, or resolve one request target.
    ///
    /// Reads file names only (no compilation), so it is instant.
    Routes(RoutesArgs),
}

/// `nextr routes`.
#[derive(Debug, Args)]
pub struct RoutesArgs {
    /// The app's root: the folder holding `api/`.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Print the table as JSON.
    #[arg(long)]
    pub json: bool,
    /// Resolve one raw request target (path and optional query, byte for byte) as `next start`
    /// would, and print the result as one JSON object.
    #[arg(
        long = "match",
        value_name = "REQUEST-TARGET",
        allow_hyphen_values = true
    )]
    pub match_target: Option<String>,
}
