//! What the gateway property tests share: the random route trees they draw, Next's answer
//! for a path (the oracle), and a stand-in function for manifests built by hand.

use nextr::manifest::{Architecture, Function};
use nextr::routing::{Resolution, RouteTable};

/// The literal segments trees are drawn from (`files` codes 0–3).
const LITERALS: [&str; 4] = ["a", "b", "x", "users"];
/// Path segments requests are drawn from: the literals plus values no literal matches.
pub const PATH_POOL: [&str; 6] = ["a", "b", "x", "users", "1", "zz"];

/// Route files from codes: 0–3 a literal, 4–6 `[dN]`, 7–8 `[...cN]`, 9 `[[...oN]]` (the last
/// two end the route). Names follow the depth, so Next's slug rules hold by construction. The
/// form: 0 a Pages file `api/….rs`, 1 a Pages `…/index.rs`, 2 (or more) an App Router route
/// handler `app/api/…/route.rs`; the routers share one tree, so the gateway must follow Next
/// across them.
pub fn files(routes: &[(Vec<u8>, u8)]) -> Vec<String> {
    let mut out = Vec::new();
    for (codes, form) in routes {
        let mut segs = vec!["api".to_owned()];
        let mut terminal = false;
        for (depth, &c) in codes.iter().enumerate() {
            let seg = match c {
                0..=3 => LITERALS[c as usize].to_owned(),
                4..=6 => format!("[d{depth}]"),
                7 | 8 => {
                    terminal = true;
                    format!("[...c{depth}]")
                }
                _ => {
                    terminal = true;
                    format!("[[...o{depth}]]")
                }
            };
            segs.push(seg);
            if terminal {
                break;
            }
        }
        let file = if *form >= 2 {
            format!("app/{}/route.rs", segs.join("/"))
        } else if (*form == 1 && !terminal) || segs.len() == 1 {
            format!("{}/index.rs", segs.join("/"))
        } else {
            format!("{}.rs", segs.join("/"))
        };
        out.push(file);
    }
    out.sort();
    out.dedup();
    out
}

/// The route file Next's router picks for `/path…`, or `None` for its 404.
pub fn next(table: &RouteTable, path: &[&str]) -> Option<String> {
    let target = format!("/{}", path.join("/"));
    match table.resolve(&target) {
        Resolution::Route(m) => Some(m.route.file.clone()),
        Resolution::NotFound => None,
        other => panic!("{target}: unexpected {other:?}"),
    }
}

/// A function as a manifest names it; its contents do not matter to routing.
pub fn function(name: &str) -> Function {
    Function {
        name: name.into(),
        bundle: format!("functions/{name}.zip"),
        sha256: "00".repeat(32),
        bytes: 0,
        runtime: "provided.al2023".into(),
        handler: "bootstrap".into(),
        architecture: Architecture::X86_64,
        timeout_s: 3,
        memory_mb: 128,
        env: Default::default(),
        response_mode: Default::default(),
        function_url: None,
    }
}
