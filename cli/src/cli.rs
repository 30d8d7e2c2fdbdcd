//! Command-line grammar.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::builder::TypedValueParser as _;
use clap::{Args, Parser, Subcommand};
use nextr::manifest::Architecture;

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
    /// Create a new app: Cargo.toml, api/hello.rs, src/lib.rs, nextr.toml, .gitignore, README.
    ///
    /// The app depends on the nextr runtime by path when this `nextr` was built from a
    /// checkout of the nextr repository (or with --nextr-path), else on crates.io's release.
    New(NewArgs),
    /// List the app's routes in Next's precedence order, or resolve one request target.
    ///
    /// Reads file names only (no compilation), so it is instant.
    Routes(RoutesArgs),
    /// Build one Lambda bundle per route, and the route manifest, into `.nextr/`.
    ///
    /// Every route file becomes a `bootstrap` binary for `provided.al2023`, zipped
    /// reproducibly; `.nextr/routes-manifest.json` lists the routes and their functions.
    Build(BuildArgs),
    /// Serve the app locally as the deployed API Gateway + Lambda would, running the very
    /// bundles that deploy ships.
    ///
    /// Prints `ready on http://HOST:PORT` once it accepts requests, then the route table, then
    /// one line per request (`GET /api/hello 200 in 3ms [/api/hello]`) and the functions'
    /// output (with --lambda-logs, also Lambda's START, END and REPORT lines).
    Dev(DevArgs),
    /// Run one invocation of a route's bundle through the emulator and print the Lambda
    /// response JSON (the function's logs go to stderr).
    Invoke(InvokeArgs),
    /// Deploy the built app to AWS Lambda behind one API Gateway HTTP API.
    ///
    /// Plans against what exists and changes only what differs: a second deploy with no
    /// change makes no change, and an interrupted deploy finishes when re-run.
    Deploy(DeployArgs),
    /// Delete everything `nextr deploy` created for the app and stage, and nothing else.
    Remove(RemoveArgs),
    /// Show what is deployed, whether AWS still matches it, and what a deploy would change.
    Status(StatusArgs),
    /// Print a deployed app's logs from CloudWatch Logs: one route's function, or all of them.
    ///
    /// Each line is `timestamp [route] message`; `--follow` keeps polling for new events.
    Logs(LogsArgs),
    /// Move one route's `live` alias back to the previous kept version, or every function back
    /// to what it served before the last deploy.
    ///
    /// Shows the plan (`~ /api/x (fn): live 7 → 6`) first; never deletes a version and never
    /// changes the gateway. The next `nextr deploy` moves `live` forward to the build again.
    Rollback(RollbackArgs),
}

/// Where a deployed app lives: shared by `deploy`, `remove` and `status`.
#[derive(Debug, Args)]
pub struct StageArgs {
    /// The build folder (holding `routes-manifest.json`, as `nextr build --out DIR` writes
    /// it), or the app's root, whose `.nextr/` is then used.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Deployment stage, part of every resource's name and tags [default: nextr.toml's
    /// `stage` as built into the manifest, else `dev`].
    #[arg(long, value_name = "NAME", env = "NEXTR_STAGE")]
    pub stage: Option<String>,
    /// AWS region [default: nextr.toml's `region` as built into the manifest, else the AWS
    /// profile's].
    #[arg(long, value_name = "REGION", env = "AWS_REGION")]
    pub region: Option<String>,
    /// Send every AWS call to this AWS-compatible endpoint.
    #[arg(long, value_name = "URL", env = "AWS_ENDPOINT_URL")]
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

/// `nextr logs`.
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// The route: its page (`/api/hello`), its file (`api/hello.rs`), `$default`, or a function
    /// name [default: every function of the app]. Given alone, an app's folder (or a build
    /// folder) is taken as DIR: `nextr logs path/to/app` reads every route.
    pub route: Option<String>,
    /// App, stage and AWS target.
    #[command(flatten)]
    pub target: StageArgs,
    /// Keep printing new events as they arrive (polls every 2 seconds) until interrupted.
    #[arg(long, short = 'f')]
    pub follow: bool,
    /// How far back to start: a number and a unit, `s`, `m`, `h` or `d` (`30s`, `10m`, `2h`).
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_since)]
    pub since: std::time::Duration,
}

/// `nextr rollback`.
#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The route: its page (`/api/hello`), its file (`api/hello.rs`), `$default`, or a function
    /// name [default: every function the last deploy moved]. Given alone, an app's folder (or
    /// a build folder) is taken as DIR.
    pub route: Option<String>,
    /// App, stage and AWS target.
    #[command(flatten)]
    pub target: StageArgs,
    /// Move `live` to this version of the route's function (one that deploy kept) instead of
    /// the one before.
    #[arg(long, value_name = "VERSION")]
    pub to: Option<u64>,
    /// Print the plan and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Apply without asking (required when stdin is not a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,
}

/// `10m` → 10 minutes: a whole number and one of `s`, `m`, `h`, `d`.
pub fn parse_since(text: &str) -> Result<std::time::Duration, String> {
    let unit_at = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("`{text}` has no unit: write it as 30s, 10m, 2h or 1d"))?;
    let (number, unit) = text.split_at(unit_at);
    let n: u64 = number.parse().map_err(|_| {
        format!("`{text}` does not start with a number: write it as 30s, 10m, 2h or 1d")
    })?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => {
            return Err(format!(
                "`{unit}` is not a unit: use s, m, h or d (as in 10m)"
            ))
        }
    };
    Ok(std::time::Duration::from_secs(n.saturating_mul(seconds)))
}

/// `nextr new`.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// The folder to create; its last component names the package (and the app).
    #[arg(value_name = "NAME")]
    pub path: PathBuf,
    /// Depend on the nextr runtime crate in this folder (`runtime/` of a nextr checkout).
    #[arg(long, value_name = "PATH")]
    pub nextr_path: Option<PathBuf>,
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
    #[arg(long, value_parser = arch_parser())]
    pub arch: Option<Architecture>,
    /// Where to write the bundles and the manifest (default: <DIR>/.nextr).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// `--arch` values, spelled as Lambda spells them (`Architecture`'s names).
fn arch_parser() -> impl clap::builder::TypedValueParser<Value = Architecture> {
    clap::builder::PossibleValuesParser::new(Architecture::ALL.map(Architecture::as_str))
        .try_map(|name| name.parse::<Architecture>())
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
    /// It starts with `/` (or `\`, which Next reads as `/`); a full URL is refused with its
    /// path suggested.
    #[arg(
        long = "match",
        value_name = "REQUEST-TARGET",
        allow_hyphen_values = true,
        value_parser = request_target
    )]
    pub match_target: Option<String>,
}

/// A `--match` value: a request target as a client sends it (origin form), never a full URL
/// or a path without its leading `/`, which would only ever answer a bare 400.
fn request_target(target: &str) -> Result<String, String> {
    if target.starts_with(['/', '\\']) {
        return Ok(target.to_owned());
    }
    if let Some(rest) = strip_scheme(target) {
        // The path and query the client would send: everything from the authority's end.
        let path = match rest.find(['/', '?', '#']) {
            Some(i) if rest[i..].starts_with('/') => rest[i..].to_owned(),
            Some(i) => format!("/{}", &rest[i..]),
            None => "/".to_owned(),
        };
        return Err(format!(
            "a full URL is not a request target: --match takes the path and query a client \
             sends, as in `--match '{path}'`"
        ));
    }
    Err(format!(
        "a request target starts with `/` (`next start` answers 400 without one): did you \
         mean `--match '/{target}'`?"
    ))
}

/// The rest of `target` after `scheme://`, when it starts with a URL scheme.
fn strip_scheme(target: &str) -> Option<&str> {
    let (scheme, rest) = target.split_once("://")?;
    let mut chars = scheme.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then_some(rest)
}

/// `nextr dev`.
#[derive(Debug, Args)]
pub struct DevArgs {
    /// The app's root: the folder holding `api/` and `.nextr/`.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// The port to listen on (0: any free port, printed in the ready line) [default: `PORT`
    /// from the environment, else 3000 or, when 3000 is taken, the next free port]. A port
    /// given here or in `PORT` must be free.
    #[arg(long)]
    pub port: Option<u16>,
    /// The address to listen on; only loopback unless you say otherwise.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// Build with optimisations (the default is a debug build, which builds faster).
    #[arg(long, conflicts_with = "no_build")]
    pub release: bool,
    /// Serve the bundles already in `.nextr/` as they are: no build at start and none on
    /// source changes (a rewritten route manifest is still picked up).
    #[arg(long)]
    pub no_build: bool,
    /// Secrets of nextr.toml's [secrets] with no local value (in the shell or the dev .env
    /// files) are read by the functions from SSM and Secrets Manager at start, as on Lambda,
    /// with your AWS_* variables (credentials, region, endpoint); without it they are missing.
    #[arg(long)]
    pub aws_secrets: bool,
    /// Also print Lambda's START, END and REPORT lines of every invocation (the request log
    /// has one line per request without them).
    #[arg(long)]
    pub lambda_logs: bool,
    /// Instances per function at most; requests beyond them wait in a queue.
    #[arg(long, default_value_t = nextr_cli::emulator::DEFAULT_MAX_INSTANCES as u16,
          value_parser = clap::value_parser!(u16).range(1..))]
    pub max_instances: u16,
    /// API Gateway's integration timeout in ms, for every route; for tests. Unset, each
    /// route has its gateway's (HTTP API 30 s; REST API 29 s, and 900 s for a streaming route).
    #[arg(long, hide = true, value_name = "MS",
          value_parser = clap::value_parser!(u64).range(50..=900_000))]
    pub integration_timeout_ms: Option<u64>,
    /// Milliseconds a client has to send a request's headers (also the idle keep-alive
    /// timeout); for tests.
    #[arg(long, hide = true, value_name = "MS")]
    pub header_timeout_ms: Option<u64>,
    /// Milliseconds a client has to send a request's body; for tests.
    #[arg(long, hide = true, value_name = "MS")]
    pub body_timeout_ms: Option<u64>,
    /// Milliseconds a REST API waits for the next chunk of a streamed response before it
    /// closes the stream (default: API Gateway's 300 s); for tests.
    #[arg(long, hide = true, value_name = "MS")]
    pub stream_idle_timeout_ms: Option<u64>,
    /// Connections open at once at most; for tests.
    #[arg(long, hide = true, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: Option<u32>,
    /// Microseconds the emulator stays awake polling after a lone request starts or ends
    /// (lower latency for one client at a time, paid in CPU); 0 turns it off.
    #[arg(long, value_name = "MICROS",
          default_value_t = nextr_cli::emulator::busy_poll::DEFAULT_WINDOW.as_micros() as u64,
          value_parser = clap::value_parser!(u64).range(0..=10_000))]
    pub busy_poll_us: u64,
}

/// `nextr invoke`.
#[derive(Debug, Args)]
pub struct InvokeArgs {
    /// The route: its page (`/api/post/[pid]`), its file (`api/post/[pid].rs`), `$default`,
    /// or a request path with its query (`/api/post/42?x=1`), invoking the function API
    /// Gateway would route it to with that request's event.
    pub route: String,
    /// The app's root: the folder holding `api/` and `.nextr/`.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// The event JSON to send as is (`-` reads standard input).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["path", "method", "body", "header"])]
    pub event: Option<PathBuf>,
    /// The request path and query, as a client would send it (default: the route's page).
    #[arg(long, value_name = "PATH", allow_hyphen_values = true)]
    pub path: Option<String>,
    /// The request method.
    #[arg(long, default_value = "GET")]
    pub method: String,
    /// The request body.
    #[arg(long, allow_hyphen_values = true)]
    pub body: Option<String>,
    /// A request header, `NAME: VALUE` (repeatable).
    #[arg(long, short = 'H', value_name = "NAME: VALUE")]
    pub header: Vec<String>,
    /// Build with optimisations.
    #[arg(long, conflicts_with = "no_build")]
    pub release: bool,
    /// Invoke the bundle already in `.nextr/` as it is, without building.
    #[arg(long)]
    pub no_build: bool,
    /// Secrets of nextr.toml's [secrets] with no local value (in the shell or the dev .env
    /// files) are read by the functions from SSM and Secrets Manager at start, as on Lambda,
    /// with your AWS_* variables (credentials, region, endpoint); without it they are missing.
    #[arg(long)]
    pub aws_secrets: bool,
}
