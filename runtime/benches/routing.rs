//! Routing benchmarks: request resolution on a realistic 1,000-route table and on the spec
//! corpus trees, and the time to build (validate + order) a 1,000-route table.
//!
//! `cargo bench --bench routing` (add `-- --quick` for a short run). With
//! `NEXTR_ROUTING_EXPORT=FILE` it writes the same tables and request targets as JSON instead
//! (what `bench/next-matcher` feeds to Next.js's own matcher) and exits.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput};
use nextr::routing::{Query, Resolution, RouteTable};
use serde_json::{json, Value};

/// The route files of one resource group: statics, `[id]`, nested dynamics, a catch-all and an
/// optional catch-all, 25 files.
const GROUP: &[&str] = &[
    "index",
    "list",
    "new",
    "search",
    "export",
    "stats/daily",
    "stats/weekly",
    "settings/general",
    "settings/billing",
    "[id]",
    "[id]/edit",
    "[id]/delete",
    "[id]/history",
    "[id]/comments/index",
    "[id]/comments/[cid]",
    "[id]/comments/[cid]/replies",
    "[id]/tags/[tag]",
    "[id]/files/[...path]",
    "[id]/versions/[version]/diff",
    "v2/[id]/meta",
    "v2/[id]/[field]",
    "docs/[[...slug]]",
    "assets/[...path]",
    "by-owner/[owner]/[id]",
    "by-owner/[owner]/latest",
];

/// Deterministic group names (a tiny LCG, so that the names are not in sorted order).
fn group_names(n: usize) -> Vec<String> {
    let words = [
        "users", "orders", "posts", "teams", "projects", "invoices", "tickets", "files", "events",
        "alerts",
    ];
    let mut seed: u32 = 0x2545_f491;
    (0..n)
        .map(|i| {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            format!("{}-{}", words[(seed >> 24) as usize % words.len()], i)
        })
        .collect()
}

/// 1,000 route files: 40 groups of 25.
fn thousand_route_files() -> Vec<String> {
    let mut files = Vec::new();
    for g in group_names(40) {
        for f in GROUP {
            files.push(format!("api/{g}/{f}.rs"));
        }
    }
    files
}

/// A representative request mix on the 1,000-route table: static and dynamic hits, nested
/// dynamics, a deep catch-all, optional catch-alls, queries, escapes, 404s and redirects.
fn thousand_route_requests() -> Vec<String> {
    let names = group_names(40);
    let mut out = Vec::new();
    for (i, g) in names.iter().enumerate().step_by(4) {
        out.extend([
            format!("/api/{g}"),
            format!("/api/{g}/search?q=shoes&page=2"),
            format!("/api/{g}/stats/weekly"),
            format!("/api/{g}/{}", 1000 + i),
            format!("/api/{g}/{}/comments/{}", 1000 + i, i),
            format!(
                "/api/{g}/{}/comments/{}/replies?sort=asc&sort=new",
                1000 + i,
                i
            ),
            format!("/api/{g}/by-owner/alice/latest"),
            format!("/api/{g}/v2/{i}/title"),
            format!("/api/{g}/{}/files/a/b/c/d/e/f/g/h/report%20final.pdf", i),
            format!("/api/{g}/assets/img/2026/11/logo.png"),
            format!("/api/{g}/docs"),
            format!("/api/{g}/docs/guide/routing/dynamic"),
            format!("/api/{g}/caf%C3%A9"),
            format!("/api/{g}/{}/nope/nope", i),
            format!("/api/missing-{i}/x"),
            format!("/api/{g}/search/"),
            format!("/api//{g}/list"),
            format!("/api/{g}/%ZZ"),
        ]);
    }
    out
}

/// The spec corpus's valid trees with their request targets.
fn corpus() -> Vec<(String, Vec<String>, Vec<String>)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../cli/tests/fixtures/routing.json");
    let text = std::fs::read_to_string(&path).expect("the routing corpus fixture");
    let cases: Vec<Value> = serde_json::from_str(&text).expect("corpus JSON");
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|x| x.as_str().map(String::from))
            .collect()
    };
    cases
        .iter()
        .filter(|c| c.get("expect_error").is_none())
        .map(|c| {
            let requests = c["requests"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r["path"].as_str().map(String::from))
                .collect();
            (
                c["name"].as_str().unwrap_or("").to_string(),
                strings(&c["files"]),
                requests,
            )
        })
        .collect()
}

fn resolve_all(table: &RouteTable, requests: &[String]) -> usize {
    let mut routed = 0;
    for r in requests {
        if let Resolution::Route(m) = table.resolve(black_box(r)) {
            routed += m.query().map_or(0, Query::len) + 1;
        }
    }
    routed
}

/// What each request resolves to, for the Node side to cross-check its answers.
fn expectations(table: &RouteTable, requests: &[String]) -> Vec<Value> {
    requests
        .iter()
        .map(|r| match table.resolve(r) {
            Resolution::Route(m) => {
                json!({"path": r, "status": 200, "route": m.route.page(), "query": m.query()})
            }
            other => json!({"path": r, "status": other.status()}),
        })
        .collect()
}

fn export(out: &str) {
    let mut tables = Vec::new();
    let files = thousand_route_files();
    let table = RouteTable::from_files(&files).expect("the 1,000-route table is valid");
    tables.push(json!({
        "name": "1000-routes",
        "files": files,
        "order": table.routes().iter().map(|r| r.page()).collect::<Vec<_>>(),
        "requests": expectations(&table, &thousand_route_requests()),
    }));
    let mut corpus_tables = Vec::new();
    for (name, files, requests) in corpus() {
        let table = RouteTable::from_files(&files).expect("corpus tree");
        corpus_tables.push(json!({
            "name": name,
            "files": files,
            "order": table.routes().iter().map(|r| r.page()).collect::<Vec<_>>(),
            "requests": expectations(&table, &requests),
        }));
    }
    tables.push(json!({"name": "spec-corpus", "trees": corpus_tables}));
    let text = serde_json::to_string_pretty(&json!({ "tables": tables })).expect("JSON");
    std::fs::write(out, text).expect("write the export file");
}

fn benches(c: &mut Criterion) {
    let files = thousand_route_files();
    let table = RouteTable::from_files(&files).expect("the 1,000-route table is valid");
    assert_eq!(table.routes().len(), 1000);
    let requests = thousand_route_requests();

    let mut g = c.benchmark_group("resolve");
    g.throughput(Throughput::Elements(requests.len() as u64));
    g.bench_function("1000-routes", |b| b.iter(|| resolve_all(&table, &requests)));
    let corpus: Vec<(RouteTable, Vec<String>)> = corpus()
        .into_iter()
        .map(|(_, files, requests)| {
            (
                RouteTable::from_files(&files).expect("corpus tree"),
                requests,
            )
        })
        .collect();
    let n: usize = corpus.iter().map(|(_, r)| r.len()).sum();
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("spec-corpus", |b| {
        b.iter(|| corpus.iter().map(|(t, r)| resolve_all(t, r)).sum::<usize>())
    });
    g.finish();

    let mut g = c.benchmark_group("build");
    g.throughput(Throughput::Elements(files.len() as u64));
    g.bench_function("1000-routes", |b| {
        b.iter(|| RouteTable::from_files(black_box(&files)).map(|t| t.routes().len()))
    });
    g.finish();
}

fn main() {
    if let Ok(out) = std::env::var("NEXTR_ROUTING_EXPORT") {
        export(&out);
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c);
    c.final_summary();
}
