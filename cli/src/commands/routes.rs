//! `nextr routes`: the route table (and the app's proxy), or one request resolved as `next
//! start` would.

use std::io::Write;
use std::process::ExitCode;

use nextr::manifest::ManifestProxy;
use nextr::routing::{MatchedView, Resolution, RouteTable};
use serde_json::json;

use crate::cli::RoutesArgs;
use nextr_cli::project;
use nextr_cli::table::{Column, Table};

/// Runs `nextr routes`.
pub fn run(args: &RoutesArgs) -> anyhow::Result<ExitCode> {
    let table = project::route_table(&args.dir)?;
    let mut out = std::io::stdout().lock();
    if let Some(target) = &args.match_target {
        writeln!(out, "{}", resolution_json(&table, target))?;
    } else if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&table.summaries())?)?;
    } else {
        // The proxy is read and checked as the build does: a broken one fails here too.
        let proxy = nextr_cli::build::read_proxy(&args.dir)?;
        write!(out, "{}", render_table(&table, proxy.as_ref()))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The `--match` object: the fields of the routing spec's `expect`. An App Router route shows
/// what its handler sees (`context.params`, `searchParams`, `request.url` without the origin,
/// `nextUrl.pathname`); a Pages Router route shows `req.query` and `req.url`.
pub fn resolution_json(table: &RouteTable, target: &str) -> serde_json::Value {
    let resolution = table.resolve(target);
    let status = resolution.status();
    match resolution {
        Resolution::Route(m) => match &m.view {
            MatchedView::Pages(p) => json!({
                "status": status,
                "router": m.route.router,
                "route": m.route.page(),
                "file": m.route.file,
                "query": p.query,
                "url": p.url,
            }),
            MatchedView::App(a) => json!({
                "status": status,
                "router": m.route.router,
                "route": m.route.name(),
                "file": m.route.file,
                "params": a.params,
                "searchParams": a.search_params,
                "url": a.url,
                "pathname": a.pathname,
            }),
        },
        Resolution::Redirect(location) => json!({
            "status": status,
            "location": location,
            "refresh": format!("0;url={location}"),
            "body": location,
        }),
        Resolution::NotFound | Resolution::BadRequest | Resolution::ServerError => {
            json!({ "status": status })
        }
    }
}

/// A plain-text table: route, kind, router, file; then the proxy's line, if the app has one.
fn render_table(table: &RouteTable, proxy: Option<&ManifestProxy>) -> String {
    let rows: Vec<[&str; 4]> = table
        .routes()
        .iter()
        .map(|r| {
            [
                r.page(),
                r.kind().as_str(),
                r.router.as_str(),
                r.file.as_str(),
            ]
        })
        .collect();
    let mut grid = Table::new(["Route", "Kind", "Router", "File"].map(Column::left));
    for row in &rows {
        grid.row(*row);
    }
    let mut s = grid.to_string();
    if let Some(p) = proxy {
        s.push_str(&format!(
            "\n{}\n",
            project::proxy_summary(&p.file, p.matcher.as_deref())
        ));
    }
    let n = rows.len();
    s.push_str(&format!("\n{n} route{}\n", if n == 1 { "" } else { "s" }));
    s
}
