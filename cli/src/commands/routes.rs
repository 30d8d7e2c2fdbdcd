//! `nextr routes`: the route table, or one request resolved as `next start` would.

use std::io::Write;
use std::process::ExitCode;

use nextr::routing::{Resolution, RouteTable};
use serde_json::json;

use crate::cli::RoutesArgs;
use nextr_cli::project;

/// Runs `nextr routes`.
pub fn run(args: &RoutesArgs) -> anyhow::Result<ExitCode> {
    let table = project::route_table(&args.dir)?;
    let mut out = std::io::stdout().lock();
    if let Some(target) = &args.match_target {
        writeln!(out, "{}", resolution_json(&table, target))?;
    } else if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&table.summaries())?)?;
    } else {
        write!(out, "{}", render_table(&table))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The `--match` object: the fields of the routing spec's `expect`.
pub fn resolution_json(table: &RouteTable, target: &str) -> serde_json::Value {
    let resolution = table.resolve(target);
    let status = resolution.status();
    match resolution {
        Resolution::Route(m) => json!({
            "status": status,
            "route": m.route.page(),
            "file": m.route.file,
            "query": m.query,
            "url": m.url,
        }),
        Resolution::Redirect(location) => json!({
            "status": status,
            "location": location,
            "refresh": format!("0;url={location}"),
            "body": location,
        }),
        Resolution::NotFound | Resolution::BadRequest => json!({ "status": status }),
    }
}

/// A plain-text table: route, kind, file.
fn render_table(table: &RouteTable) -> String {
    let rows: Vec<[&str; 3]> = table
        .routes()
        .iter()
        .map(|r| [r.page(), r.kind().as_str(), r.file.as_str()])
        .collect();
    let header = ["Route", "Kind", "File"];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut s = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let line = format!(
            "{:<w0$}  {:<w1$}  {}",
            row[0],
            row[1],
            row[2],
            w0 = widths[0],
            w1 = widths[1]
        );
        s.push_str(line.trim_end());
        s.push('\n');
    }
    let n = rows.len();
    s.push_str(&format!("\n{n} route{}\n", if n == 1 { "" } else { "s" }));
    s
}
