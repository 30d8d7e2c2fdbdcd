//! Command-line grammar.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

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
    /// Build one Lambda bundle per route, and the route manifest, into `.nextr/`.
    ///
    /// Every route file becomes a `bootstrap` binary for `provided.al2023`, zipped
    /// reproducibly; `.nextr/routes-manifest.json` lists the routes and their functions.
    Build(BuildArgs),
    /// Deploy the built app to AWS Lambda behind one API Gateway HTTP API.
    ///
    /// Plans against what exists and changes only what differs: a second deploy with no
    /// change makes no change, and an interrupted deploy finishes when re-run.
    Deploy(DeployArgs),
    /// Delete everything `nextr deploy` created for the app and stage, and nothing else.
    Remove(RemoveArgs),
    /// Show what is deployed, whether AWS still matches it, and what a deploy would change.
    Status(StatusArgs),
}

/// Where a deployed app lives: shared by `deploy`, `remove` and `status`.
#[derive(Debug, Args)]
pub struct StageArgs {
    /// The app's root: the folder holding `.nextr/` (written by `nextr build`).
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Deployment stage, part of every resource's name and tags [default: nextr.toml's
    /// `stage`, else `dev`].
    #[arg(long, value_name = "NAME")]
    pub stage: Option<String>,
    /// AWS region [default: nextr.toml's `region`, else the AWS chain (AWS_REGION, profile)].
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Send every AWS call to this AWS-compatible endpoint [default: AWS_ENDPOINT_URL].
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
}

/// `nextr deploy`.
#[derive(Debug, Args)]
pub struct DeployArgs {
    /// App, stage and AWS target.
    #[command(flatten)]
    pub target: StageArgs,
    /// Print the plan and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Apply without asking (required to delete anything when stdin is not a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Use this execution role instead of creating one with basic logging only.
    #[arg(long, value_name = "ARN")]
    pub role: Option<String>,
}

/// `nextr remove`.
#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// App, stage and AWS target.
    #[command(flatten)]
    pub target: StageArgs,
    /// Print what would be deleted and delete nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Delete without asking (required when stdin is not a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,
}

/// `nextr status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// App, stage and AWS target.
    #[command(flatten)]
    pub target: StageArgs,
}

/// `nextr build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The app's root: the folder holding `Cargo.toml` and `api/`.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Build with the dev profile: quicker to compile, slower to run.
    #[arg(long)]
    pub debug: bool,
    /// The functions' CPU architecture (default: `architecture` in nextr.toml, else x86_64).
    #[arg(long, value_enum)]
    pub arch: Option<ArchArg>,
    /// Where to write the bundles and the manifest (default: <DIR>/.nextr).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// `--arch` values, spelled as Lambda spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ArchArg {
    /// x86-64.
    #[value(name = "x86_64")]
    X86_64,
    /// Graviton (aarch64).
    #[value(name = "arm64")]
    Arm64,
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
