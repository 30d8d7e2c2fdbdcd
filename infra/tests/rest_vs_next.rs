//! Property: on random Next route trees, the REST API whose resources `nextr build` computes
//! sends every path to the route Next's `RouteTable::resolve` picks, or to the fallback
//! function where Next has none (404).
//!
//! Checked three ways on the manifest's key strings: the `Gateway` `nextr dev` builds from
//! the manifest, and an independent simulator of REST resource matching read both ways AWS
//! might do it (first preferred child only, or backtracking when a branch fails), which must
//! agree because the tree has no dead ends. The tree's shape is checked too: every resource's
//! parent exists, at most one variable-or-greedy child per resource, greedy parts only last.

mod support;

use std::collections::{BTreeMap, BTreeSet};

use nextr::config::RouteConfig;
use nextr::manifest::{GatewayKind, Manifest, ManifestRoute};
use nextr::routing::{RouteKind, RouteTable};
use nextr_infra::gateway::rest_api::default_resource_tree;
use nextr_infra::gateway::{Gateway, Routed};
use proptest::prelude::*;
use support::route_trees::{files, function, next, PATH_POOL};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    Lit(String),
    Var,
    Greedy,
}

/// A resource tree read from key strings, independently of the crate.
#[derive(Debug, Default)]
struct Sim {
    /// Resource path (parts) → owner (`None`: the fallback).
    methods: BTreeMap<Vec<Part>, Option<String>>,
}

impl Sim {
    fn parts(key: &str) -> Vec<Part> {
        let path = key.strip_prefix("ANY /").expect("ANY key");
        if path.is_empty() {
            return Vec::new();
        }
        path.split('/')
            .map(|s| {
                if s.starts_with('{') && s.ends_with("+}") {
                    Part::Greedy
                } else if s.starts_with('{') && s.ends_with('}') {
                    Part::Var
                } else {
                    Part::Lit(s.to_owned())
                }
            })
            .collect()
    }

    fn children(&self, at: &[Part]) -> Vec<&Part> {
        self.methods
            .keys()
            .filter(|k| k.len() == at.len() + 1 && k.starts_with(at))
            .map(|k| &k[at.len()])
            .collect()
    }

    /// The preferred children of `at` for `segment`, best first.
    fn candidates(&self, at: &[Part], segment: &str) -> Vec<Part> {
        let kids = self.children(at);
        let mut out = Vec::new();
        if kids.iter().any(|p| **p == Part::Lit(segment.to_owned())) {
            out.push(Part::Lit(segment.to_owned()));
        }
        for wanted in [Part::Var, Part::Greedy] {
            if kids.contains(&&wanted) {
                out.push(wanted);
            }
        }
        out
    }

    /// Reading 1: always the best child; `Err` at a dead end.
    fn first_only(&self, path: &[&str]) -> Result<Option<String>, String> {
        let mut at: Vec<Part> = Vec::new();
        for (i, s) in path.iter().enumerate() {
            let Some(best) = self.candidates(&at, s).into_iter().next() else {
                return Err(format!("dead end at {at:?} for /{}", path.join("/")));
            };
            at.push(best.clone());
            if best == Part::Greedy {
                let _ = i;
                break;
            }
        }
        self.methods
            .get(&at)
            .cloned()
            .ok_or_else(|| format!("no ANY at {at:?}"))
    }

    /// Reading 2: backtracking until some branch ends at a method.
    fn backtracking(&self, at: &mut Vec<Part>, path: &[&str]) -> Option<Option<String>> {
        let Some((s, rest)) = path.split_first() else {
            return self.methods.get(at).cloned();
        };
        for c in self.candidates(at, s) {
            at.push(c.clone());
            let found = if c == Part::Greedy {
                self.methods.get(at).cloned()
            } else {
                self.backtracking(at, rest)
            };
            at.pop();
            if found.is_some() {
                return found;
            }
        }
        None
    }

    /// The shape AWS requires and nextr promises.
    fn check_shape(&self) -> Result<(), String> {
        for k in self.methods.keys() {
            if let Some(g) = k.iter().position(|p| *p == Part::Greedy) {
                if g + 1 != k.len() {
                    return Err(format!("greedy not last: {k:?}"));
                }
            }
            if !k.is_empty() && !self.methods.contains_key(&k[..k.len() - 1]) {
                return Err(format!("no parent resource with ANY: {k:?}"));
            }
            let kids = self.children(k);
            let variables = kids
                .iter()
                .filter(|p| matches!(p, Part::Var | Part::Greedy))
                .count();
            if variables > 1 {
                return Err(format!("two variable children under {k:?}"));
            }
            if k.last() != Some(&Part::Greedy) && variables == 0 {
                return Err(format!("dead end: {k:?} has no variable or greedy child"));
            }
        }
        Ok(())
    }
}

fn check(table: &RouteTable, long: &[Vec<usize>]) -> Result<(), TestCaseError> {
    let tree = default_resource_tree(table).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let mut manifest = Manifest::new("t", function("t-default"));
    manifest.gateway.kind = GatewayKind::Rest;
    manifest.gateway.fallback_keys = tree.fallback_keys();
    let mut sim = Sim::default();
    for k in tree.fallback_keys() {
        prop_assert!(
            sim.methods.insert(Sim::parts(&k), None).is_none(),
            "{k} twice"
        );
    }
    for (i, r) in table.routes().iter().enumerate() {
        let keys = tree.route_keys(i);
        for k in &keys {
            prop_assert!(
                sim.methods
                    .insert(Sim::parts(k), Some(r.file.clone()))
                    .is_none(),
                "{k} twice"
            );
        }
        manifest.routes.push(ManifestRoute {
            page: r.page().to_owned(),
            file: r.file.clone(),
            router: nextr::routing::Router::Pages,
            kind: RouteKind::Static,
            segments: Vec::new(),
            params: Vec::new(),
            route_keys: keys,
            config: RouteConfig::default(),
            function: None,
            build_error: None,
            throttle: None,
            log_retention_days: None,
        });
    }
    sim.check_shape().map_err(TestCaseError::fail)?;
    let model = Gateway::new(&manifest).map_err(|e| TestCaseError::fail(e.to_string()))?;

    let mut paths: Vec<Vec<&str>> = vec![vec![], vec!["other"], vec!["other", "x"]];
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
    let shown: BTreeSet<String> = sim
        .methods
        .iter()
        .map(|(k, v)| format!("{k:?} -> {v:?}"))
        .collect();
    for p in &paths {
        let want = next(table, p);
        let first = sim.first_only(p).map_err(TestCaseError::fail)?;
        prop_assert_eq!(&first, &want, "/{} over {:#?}", p.join("/"), shown);
        let back = sim.backtracking(&mut Vec::new(), p);
        prop_assert_eq!(
            back.as_ref(),
            Some(&want),
            "backtracking at /{}",
            p.join("/")
        );
        let own = match model.route(&format!("/{}", p.join("/"))) {
            Routed::Route { owner, .. } => Some(manifest.routes[owner].file.clone()),
            Routed::Default { .. } => None,
            Routed::BadRequest => return Err(TestCaseError::fail("400")),
        };
        prop_assert_eq!(&own, &want, "dev at /{}", p.join("/"));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn the_rest_api_picks_what_next_picks(
        routes in prop::collection::vec((prop::collection::vec(0u8..10, 0..5), 0u8..3), 1..9),
        long in prop::collection::vec(prop::collection::vec(0usize..6, 5..8), 0..6),
    ) {
        let files = files(&routes);
        let Ok(table) = RouteTable::from_files(&files) else {
            // Next rejects the tree (e.g. an index beside an optional catch-all).
            return Ok(());
        };
        check(&table, &long)?;
    }
}

#[test]
fn the_simulator_reads_aws_example_and_spots_dead_ends() {
    let mut sim = Sim::default();
    for (k, v) in [
        ("ANY /", None),
        ("ANY /pets", Some("pets")),
        ("ANY /pets/dog", Some("dog")),
        ("ANY /pets/{id}", Some("id")),
        ("ANY /pets/{id}/{proxy+}", None),
        ("ANY /{proxy+}", Some("root greedy")),
    ] {
        sim.methods.insert(Sim::parts(k), v.map(str::to_owned));
    }
    assert_eq!(
        sim.first_only(&["pets", "dog"]).unwrap().as_deref(),
        Some("dog")
    );
    assert_eq!(
        sim.first_only(&["pets", "cat"]).unwrap().as_deref(),
        Some("id")
    );
    assert_eq!(
        sim.first_only(&["x", "y"]).unwrap().as_deref(),
        Some("root greedy")
    );
    // `/pets/dog` has no child: a dead end the first reading fails on, and the backtracking
    // one escapes through `{id}`.
    assert!(sim.first_only(&["pets", "dog", "x"]).is_err());
    assert_eq!(
        sim.backtracking(&mut Vec::new(), &["pets", "dog", "x"]),
        Some(None)
    );
    assert!(sim.check_shape().is_err());
}

#[test]
fn the_generator_yields_trees_with_every_kind_of_segment() {
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
    check(&t, &[]).unwrap();
}
