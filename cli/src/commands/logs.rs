//! `nextr logs`: a deployed app's logs, read from CloudWatch Logs (`FilterLogEvents`) for one
//! route's function or all of them, printed `timestamp [route] message`; `--follow` polls.

use std::collections::BTreeSet;
use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use std::path::{Path, PathBuf};

use nextr::manifest::{layout, Manifest, MANIFEST_FILE};
use nextr_infra::deploy::events::{self, LogEvent};
use nextr_infra::deploy::{AwsClients, Target};

use crate::cli::{LogsArgs, StageArgs};
use crate::commands::stage;

/// How often `--follow` asks for new events.
const POLL: Duration = Duration::from_secs(2);

/// Runs `nextr logs`.
pub fn run(args: &LogsArgs) -> anyhow::Result<ExitCode> {
    let (route, target) = route_and_dir(args);
    let resolved = stage::resolve(&target)?;
    let path = resolved.out.join(MANIFEST_FILE);
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "cannot read {}: run `nextr build` (the logs command names functions from the build's manifest)",
            path.display()
        )
    })?;
    let manifest = Manifest::from_json(&text)?;
    let target = Target::new(&manifest.app, &resolved.stage)?;
    let sources = events::sources(&manifest, &target, route.as_deref())?;

    let rt = stage::runtime()?;
    let clients = rt.block_on(AwsClients::connect(&resolved.connect, stage::call_log()))?;
    let now_ms = nextr_infra::ids::epoch_ms(SystemTime::now());
    let since_ms = u64::try_from(args.since.as_millis()).unwrap_or(u64::MAX);
    let mut start = i64::try_from(now_ms.saturating_sub(since_ms)).unwrap_or(0);
    // Events of the millisecond polled from again, already printed.
    let mut seen = BTreeSet::new();
    let mut out = std::io::stdout().lock();
    loop {
        let batch = rt.block_on(events::read(&clients, &sources, start, &seen))?;
        print(&mut out, &batch)?;
        if !args.follow {
            return Ok(ExitCode::SUCCESS);
        }
        if let Some(last) = batch.last() {
            if last.timestamp > start {
                seen.clear();
            }
            start = last.timestamp;
            seen.extend(
                batch
                    .iter()
                    .filter(|e| e.timestamp == start)
                    .map(|e| e.id.clone()),
            );
        }
        std::thread::sleep(POLL);
    }
}

/// `nextr logs DIR` (one argument, naming an app or a build folder rather than a route) reads
/// every route of the app in DIR: both are positional, so a lone argument that is a folder
/// with a build in it is the folder.
fn route_and_dir(args: &LogsArgs) -> (Option<String>, StageArgs) {
    route_or_dir(args.route.as_ref(), &args.target)
}

/// The route and the stage arguments of a command taking `[ROUTE] [DIR]`: a lone argument
/// that is an app's or a build's folder is DIR (shared with `nextr rollback`).
pub fn route_or_dir(route: Option<&String>, args: &StageArgs) -> (Option<String>, StageArgs) {
    let mut target = StageArgs {
        dir: args.dir.clone(),
        stage: args.stage.clone(),
        region: args.region.clone(),
        endpoint_url: args.endpoint_url.clone(),
    };
    let lone = args.dir == Path::new(".");
    match route {
        Some(r) if lone && is_app_or_build(Path::new(r)) => {
            target.dir = PathBuf::from(r);
            (None, target)
        }
        route => (route.cloned(), target),
    }
}

fn is_app_or_build(dir: &Path) -> bool {
    layout::is_build_folder(dir) || layout::is_build_folder(&dir.join(layout::OUT_DIR))
}

fn print(out: &mut impl Write, events: &[LogEvent]) -> std::io::Result<()> {
    for e in events {
        writeln!(out, "{}", e.line())?;
    }
    out.flush()
}
