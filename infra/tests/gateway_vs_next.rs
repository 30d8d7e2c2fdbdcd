//! Property: on random route trees, the deployed API Gateway (simulated from the final key
//! strings with API Gateway's documented rules) picks the route Next's `RouteTable::resolve`
//! picks, for every path up to four segments below `/api` over the tree's own literals plus
//! fresh values, and for random longer ones — or both answer 404 / `$default`.
//!
//! The selector checked is the one `nextr dev` routes with: [`Gateway`] built from the
//! manifest's route keys, fed the request path.
//!
//! The simulator here is deliberately independent of the crate: it reads the key strings and
//! implements the documented tiers (full match, then greedy, then `$default`) and "most
//! specific" as written in AWS's example: a literal beats a `{var}` at the same position, and
//! a longer greedy prefix beats a shorter one. Where neither of two matching keys is more
//! specific, AWS documents nothing: the simulator fails the test instead of guessing, so a
//! successful analysis must never leave such a tie reachable.

mod support;

use nextr::config::RouteConfig;
use nextr::manifest::{Manifest, ManifestRoute};
use nextr::routing::{RouteKind, RouteTable};
use nextr_infra::conflicts::Status;
use nextr_infra::gateway::http_api::{Routed, Selection};
use nextr_infra::gateway::Gateway;
use nextr_infra::{analyze, disagreements, validate_api, Analysis, KeyPolicy};
use proptest::prelude::*;
use support::route_trees::{files, function, next, PATH_POOL};

#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Lit(String),
    Var,
    Greedy,
}

fn parse_key(key: &str) -> Vec<Seg> {
    let path = key.strip_prefix("ANY /").expect("ANY key");
    if path.is_empty() {
        return Vec::new();
    }
    path.split('/')
        .map(|s| {
            if s.starts_with('{') && s.ends_with("+}") {
                Seg::Greedy
            } else if s.starts_with('{') && s.ends_with('}') {
                Seg::Var
            } else {
                Seg::Lit(s.to_owned())
            }
        })
        .collect()
}

fn is_greedy(k: &[Seg]) -> bool {
    k.last() == Some(&Seg::Greedy)
}

fn fixed(k: &[Seg]) -> &[Seg] {
    if is_greedy(k) {
        &k[..k.len() - 1]
    } else {
        k
    }
}

fn key_matches(k: &[Seg], path: &[&str]) -> bool {
    let f = fixed(k);
    let len_ok = if is_greedy(k) {
        path.len() > f.len()
    } else {
        path.len() == f.len()
    };
    len_ok
        && f.iter().zip(path).all(|(s, p)| match s {
            Seg::Lit(l) => l == p,
            _ => true,
        })
}

/// `a` at least as specific as `b`, both matching the same path in the same tier.
fn at_least_as_specific(a: &[Seg], b: &[Seg]) -> bool {
    let (fa, fb) = (fixed(a), fixed(b));
    fa.len() >= fb.len()
        && fb
            .iter()
            .zip(fa)
            .all(|(sb, sa)| *sb == Seg::Var || matches!(sa, Seg::Lit(_)))
}

/// API Gateway's documented pick: `Ok(Some(file))`, `Ok(None)` for `$default`, `Err` for a
/// tie the documentation does not decide.
fn gateway(keys: &[(Vec<Seg>, String)], path: &[&str]) -> Result<Option<String>, String> {
    for greedy in [false, true] {
        let cands: Vec<&(Vec<Seg>, String)> = keys
            .iter()
            .filter(|(k, _)| is_greedy(k) == greedy && key_matches(k, path))
            .collect();
        if cands.is_empty() {
            continue;
        }
        return cands
            .iter()
            .find(|(c, _)| cands.iter().all(|(d, _)| at_least_as_specific(c, d)))
            .map(|(_, f)| Some(f.clone()))
            .ok_or_else(|| format!("undocumented tie at /{}: {cands:?}", path.join("/")));
    }
    Ok(None)
}

fn final_keys(a: &Analysis) -> Vec<(Vec<Seg>, String)> {
    a.routes
        .iter()
        .flat_map(|r| {
            r.key_strings()
                .into_iter()
                .map(|k| (parse_key(&k), r.route.file.clone()))
        })
        .collect()
}

/// The manifest a build writes for the analysis: its routes, in Next's order, with their keys.
fn manifest_of(a: &Analysis) -> Manifest {
    let mut m = Manifest::new("t", function("t-default"));
    for r in &a.routes {
        m.routes.push(ManifestRoute {
            page: r.route.page.clone(),
            file: r.route.file.clone(),
            router: nextr::routing::Router::Pages,
            kind: RouteKind::Static,
            segments: Vec::new(),
            params: Vec::new(),
            route_keys: r.key_strings(),
            config: RouteConfig::default(),
            function: None,
            build_error: None,
            throttle: None,
            log_retention_days: None,
        });
    }
    m
}

fn gateway_router(g: &Gateway) -> &nextr_infra::gateway::http_api::Router {
    match g {
        Gateway::Http(api) => api.router(),
        Gateway::Rest(_) => panic!("the manifests here are HTTP API manifests"),
    }
}

fn check_paths(table: &RouteTable, a: &Analysis, long: &[Vec<usize>]) -> Result<(), TestCaseError> {
    let keys = final_keys(a);
    let strings: Vec<(String, String)> = a
        .routes
        .iter()
        .flat_map(|r| {
            r.key_strings()
                .into_iter()
                .map(|k| (k, r.route.file.clone()))
        })
        .collect();
    prop_assert!(
        validate_api(strings.iter().map(|(k, f)| (k.as_str(), f.as_str()))).is_ok(),
        "keys API Gateway would refuse: {strings:?}"
    );
    let mut paths: Vec<Vec<&str>> = vec![vec![], vec!["other"]];
    let mut frontier: Vec<Vec<&str>> = vec![vec!["api"]];
    for _ in 0..=4 {
        let mut next_frontier = Vec::new();
        for p in frontier {
            for s in PATH_POOL {
                let mut q = p.clone();
                q.push(s);
                next_frontier.push(q);
            }
            paths.push(p);
        }
        frontier = next_frontier;
    }
    for l in long {
        let mut p = vec!["api"];
        p.extend(l.iter().map(|&i| PATH_POOL[i % PATH_POOL.len()]));
        paths.push(p);
    }
    let manifest = manifest_of(a);
    let model = Gateway::new(&manifest).map_err(|e| TestCaseError::fail(e.to_string()))?;
    for p in &paths {
        let want = next(table, p);
        let got = gateway(&keys, p).map_err(TestCaseError::fail)?;
        prop_assert_eq!(&got, &want, "path /{} with keys {:?}", p.join("/"), strings);
        // The gateway model `nextr dev` routes with, built from the manifest as dev builds
        // it, agrees with the simulator; so does its selector, which must see no tie.
        let own = match model.route(&format!("/{}", p.join("/"))) {
            Routed::Route { owner, .. } => Some(manifest.routes[owner].file.clone()),
            Routed::Default { .. } => None,
            Routed::BadRequest => return Err(TestCaseError::fail("400")),
        };
        prop_assert_eq!(&own, &want);
        if let Selection::Tie(t) = gateway_router(&model).select(&format!("/{}", p.join("/"))) {
            return Err(TestCaseError::fail(format!("tie {t:?}")));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn the_gateway_picks_what_next_picks(
        routes in prop::collection::vec((prop::collection::vec(0u8..10, 0..5), 0u8..3), 1..9),
        long in prop::collection::vec(prop::collection::vec(0usize..6, 5..8), 0..6),
    ) {
        let files = files(&routes);
        let Ok(table) = RouteTable::from_files(&files) else {
            // Next rejects the tree (e.g. an index beside an optional catch-all).
            return Ok(());
        };
        // Every overlap is resolvable when parametrised keys are allowed.
        let parametrised = analyze(&table, &[], KeyPolicy::Parametrised);
        prop_assert!(parametrised.is_ok(), "{files:?}: {:?}", parametrised.err());
        let Ok(parametrised) = parametrised else { unreachable!() };
        check_paths(&table, &parametrised, &long)?;
        // After the analysis, the only disagreements left are requests spelling a pattern.
        for d in disagreements(&table, &[], KeyPolicy::Parametrised) {
            prop_assert_eq!(d.status, Status::KnownDeviation, "{}", d);
        }

        if let Ok(strict) = analyze(&table, &[], KeyPolicy::StaticOnly) {
            check_paths(&table, &strict, &long)?;
            // Where static keys suffice, both policies add exactly the same keys.
            prop_assert_eq!(&strict.routes, &parametrised.routes);
        } else {
            // And the strict policy fails only where a parametrised key was needed.
            let needed_variables = parametrised
                .routes
                .iter()
                .flat_map(|r| &r.added)
                .any(|k| k.key.to_string().contains('{'));
            prop_assert!(needed_variables, "{:?}", files);
        }
    }
}

#[test]
fn the_simulator_follows_aws_worked_example() {
    let keys: Vec<(Vec<Seg>, String)> = [
        ("ANY /pets/dog/1", "static"),
        ("ANY /pets/dog/{id}", "param"),
        ("ANY /pets/{proxy+}", "pets greedy"),
        ("ANY /{proxy+}", "root greedy"),
    ]
    .iter()
    .map(|(k, f)| (parse_key(k), f.to_string()))
    .collect();
    let pick = |p: &[&str]| gateway(&keys, p).unwrap();
    assert_eq!(pick(&["pets", "dog", "1"]).as_deref(), Some("static"));
    assert_eq!(pick(&["pets", "dog", "2"]).as_deref(), Some("param"));
    assert_eq!(pick(&["pets", "cat", "1"]).as_deref(), Some("pets greedy"));
    assert_eq!(pick(&["test", "5"]).as_deref(), Some("root greedy"));
    assert_eq!(pick(&[]), None);
    let crossing = vec![
        (parse_key("ANY /{a}/x"), "a".to_owned()),
        (parse_key("ANY /x/{b}"), "b".to_owned()),
    ];
    assert!(gateway(&crossing, &["x", "x"]).is_err());
    assert_eq!(
        gateway(&crossing, &["y", "x"]).unwrap().as_deref(),
        Some("a")
    );
}

#[test]
fn the_generator_yields_valid_trees_with_overlaps() {
    // Guards the property against vacuity: the generator's trees parse and overlap.
    let t = RouteTable::from_files(files(&[
        (vec![4, 1], 0),
        (vec![1, 4], 1),
        (vec![8], 0),
        (vec![0, 9], 0),
        (vec![], 0),
        (vec![2, 4], 2),
    ]))
    .unwrap();
    assert_eq!(
        t.routes()
            .iter()
            .filter(|r| r.router == nextr::routing::Router::App)
            .map(|r| r.page())
            .collect::<Vec<_>>(),
        ["/api/x/[d1]"]
    );
    assert_eq!(t.routes().len(), 6);
    let a = analyze(&t, &[], KeyPolicy::StaticOnly).unwrap();
    assert_eq!(a.route("/api/b/[d1]").unwrap().added.len(), 1);
}
