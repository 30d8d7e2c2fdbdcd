//! The conflict analysis, class by class (see the module docs).

use super::*;
use crate::gateway::http_api::Selection;

fn table(files: &[&str]) -> RouteTable {
    RouteTable::from_files(files).unwrap()
}

fn keys_of(a: &Analysis, page: &str) -> Vec<String> {
    a.route(page).unwrap().key_strings()
}

fn added_of(a: &Analysis, page: &str) -> Vec<String> {
    a.route(page)
        .unwrap()
        .added
        .iter()
        .map(|k| k.key.to_string())
        .collect()
}

fn picks(a: &Analysis, path: &str) -> Option<String> {
    match a.router().select(path) {
        Selection::Route { owner, .. } => Some(a.routes[owner].route.file.clone()),
        Selection::Default => None,
        Selection::Tie(t) => panic!("undocumented tie at {path}: {t:?}"),
    }
}

fn next_picks(t: &RouteTable, path: &str) -> Option<String> {
    match t.resolve(path) {
        nextr::routing::Resolution::Route(m) => Some(m.route.file.clone()),
        _ => None,
    }
}

/// Both policies: the gateway picks Next's route on every listed path.
fn assert_agrees(t: &RouteTable, a: &Analysis, paths: &[&str]) {
    for p in paths {
        assert_eq!(picks(a, p), next_picks(t, p), "{p}");
    }
}

#[test]
fn static_beats_param_at_the_same_position_needs_no_key() {
    // API Gateway's own example: `/pets/dog/1` over `/pets/dog/{id}`.
    let t = table(&["api/pets/dog/1.rs", "api/pets/dog/[id].rs"]);
    for policy in [KeyPolicy::Parametrised, KeyPolicy::StaticOnly] {
        let a = analyze(&t, &[], policy).unwrap();
        assert_eq!(a.key_count(), 2);
        assert!(a.routes.iter().all(|r| r.added.is_empty()));
        assert_agrees(&t, &a, &["/api/pets/dog/1", "/api/pets/dog/2"]);
    }
    assert!(disagreements(&t, &[], KeyPolicy::StaticOnly).is_empty());
}

#[test]
fn crossing_params_with_a_finite_overlap_get_a_static_key() {
    let t = table(&["api/[a]/x.rs", "api/x/[b].rs"]);
    // Next: at segment 2 the static `x` ranks before `[a]`, so `x/[b]` serves /api/x/x.
    assert_eq!(next_picks(&t, "/api/x/x").as_deref(), Some("api/x/[b].rs"));
    for policy in [KeyPolicy::Parametrised, KeyPolicy::StaticOnly] {
        let a = analyze(&t, &[], policy).unwrap();
        assert_eq!(added_of(&a, "/api/x/[b]"), ["ANY /api/x/x"]);
        let added = &a.route("/api/x/[b]").unwrap().added[0];
        assert_eq!(added.example, "/api/x/x");
        assert_eq!(added.instead_of[0].file, "api/[a]/x.rs");
        assert!(added_of(&a, "/api/[a]/x").is_empty());
        assert_agrees(&t, &a, &["/api/x/x", "/api/y/x", "/api/x/y", "/api/y/y"]);
    }
}

#[test]
fn crossing_params_with_an_infinite_overlap() {
    let t = table(&["api/[a]/x/[c].rs", "api/x/[b]/[d].rs"]);
    // Overlap /api/x/x/* is infinite: a parametrised key, or an error naming both files.
    let a = analyze(&t, &[], KeyPolicy::Parametrised).unwrap();
    assert_eq!(added_of(&a, "/api/x/[b]/[d]"), ["ANY /api/x/x/{d}"]);
    assert_agrees(&t, &a, &["/api/x/x/1", "/api/y/x/1", "/api/x/y/1"]);

    let errors = analyze(&t, &[], KeyPolicy::StaticOnly).unwrap_err();
    assert_eq!(errors.0.len(), 1);
    let ConflictError::Unresolved(d) = &errors.0[0] else {
        panic!("{errors}")
    };
    assert_eq!(d.next.file, "api/x/[b]/[d].rs");
    assert_eq!(d.example, "/api/x/x/1");
    assert_eq!(d.reason, Reason::NoDocumentedOrder);
    assert_eq!(d.next_rule, "`x` ranks before `[a]` at segment 2");
    let files: Vec<&str> = d.gateway_routes().iter().map(|r| r.file.as_str()).collect();
    assert!(files.contains(&"api/[a]/x/[c].rs"), "{files:?}");
    let text = errors.to_string();
    assert!(text.contains("api/x/[b]/[d].rs") && text.contains("api/[a]/x/[c].rs"));
    assert!(text.contains("/api/x/x/1"), "{text}");
}

#[test]
fn full_versus_greedy_where_next_prefers_the_catch_all() {
    // DESIGN.md's example.
    let t = table(&["api/users/[...path].rs", "api/[resource]/[id].rs"]);
    assert_eq!(
        next_picks(&t, "/api/users/42").as_deref(),
        Some("api/users/[...path].rs")
    );
    let a = analyze(&t, &[], KeyPolicy::Parametrised).unwrap();
    assert_eq!(
        keys_of(&a, "/api/users/[...path]"),
        ["ANY /api/users/{path+}", "ANY /api/users/{path}"]
    );
    assert_eq!(
        keys_of(&a, "/api/[resource]/[id]"),
        ["ANY /api/{resource}/{id}"]
    );
    assert_agrees(
        &t,
        &a,
        &[
            "/api/users/42",
            "/api/users/42/x",
            "/api/posts/42",
            "/api/users",
        ],
    );

    let errors = analyze(&t, &[], KeyPolicy::StaticOnly).unwrap_err();
    let [ConflictError::Unresolved(d)] = &errors.0[..] else {
        panic!("{errors}")
    };
    assert_eq!(d.reason, Reason::FullBeatsGreedy);
    assert_eq!(d.example, "/api/users/1");
    assert_eq!(
        d.next_rule,
        "`users` ranks before `[resource]` at segment 2"
    );
    assert!(matches!(&d.gateway, GatewayPick::Route { route, key }
        if route.file == "api/[resource]/[id].rs" && key.to_string() == "ANY /api/{resource}/{id}"));
    assert_eq!(
        errors.0[0].to_string(),
        "/api/users/1: Next serves api/users/[...path].rs (`users` ranks before `[resource]` at segment 2), \
         API Gateway would pick api/[resource]/[id].rs (ANY /api/{resource}/{id}): API Gateway prefers any \
         full match to a greedy {…+} match; fix the routes, or accept the risk in nextr.toml with \
         a = \"/api/users/[...path]\" and b = \"/api/[resource]/[id]\""
    );
}

#[test]
fn full_versus_greedy_where_next_prefers_the_full_route_agrees() {
    let t = table(&["api/[...all].rs", "api/users/[id].rs", "api/users.rs"]);
    let a = analyze(&t, &[], KeyPolicy::StaticOnly).unwrap();
    assert_eq!(a.key_count(), 3);
    assert_agrees(
        &t,
        &a,
        &["/api/users", "/api/users/1", "/api/users/1/2", "/api/x"],
    );
}

#[test]
fn a_catch_all_winning_a_single_path_gets_a_static_key_under_both_policies() {
    // /api/a/x: Next's static `a` ranks before `[b]`, so the catch-all serves it; the
    // gateway would prefer the full match `/api/{b}/x`. The overlap is one path.
    let t = table(&["api/a/[...p].rs", "api/[b]/x.rs"]);
    assert_eq!(
        next_picks(&t, "/api/a/x").as_deref(),
        Some("api/a/[...p].rs")
    );
    for policy in [KeyPolicy::Parametrised, KeyPolicy::StaticOnly] {
        let a = analyze(&t, &[], policy).unwrap();
        assert_eq!(added_of(&a, "/api/a/[...p]"), ["ANY /api/a/x"]);
        assert_agrees(&t, &a, &["/api/a/x", "/api/a/y", "/api/b/x", "/api/a/x/y"]);
    }
}

#[test]
fn accepted_conflicts_read_from_config() {
    let a: AcceptedConflict =
        serde_json::from_str(r#"{"a": "/api/users/[...path]", "b": "/api/[resource]/[id]"}"#)
            .unwrap();
    assert!(a.covers("/api/[resource]/[id]", "/api/users/[...path]"));
    assert!(a.covers("/api/users/[...path]", "/api/[resource]/[id]"));
    assert!(!a.covers("/api/users/[...path]", "/api/users/[...path]"));
    assert!(serde_json::from_str::<AcceptedConflict>(r#"{"a": "/x", "b": "/y", "c": 1}"#).is_err());
}

#[test]
fn a_catch_all_winning_over_several_lengths_gets_one_key_per_length() {
    let t = table(&[
        "api/users/[...path].rs",
        "api/[a]/[b].rs",
        "api/[a]/[b]/[c].rs",
    ]);
    let a = analyze(&t, &[], KeyPolicy::Parametrised).unwrap();
    assert_eq!(
        added_of(&a, "/api/users/[...path]"),
        ["ANY /api/users/{path}", "ANY /api/users/{path}/{path_2}"]
    );
    assert_agrees(
        &t,
        &a,
        &[
            "/api/users/1",
            "/api/users/1/2",
            "/api/users/1/2/3",
            "/api/x/1/2",
        ],
    );
}

#[test]
fn greedy_versus_greedy() {
    // One prefix contains the other: both sides agree (`/pets/{proxy+}` over `/{proxy+}`).
    let t = table(&["api/[...all].rs", "api/pets/[...rest].rs"]);
    let a = analyze(&t, &[], KeyPolicy::StaticOnly).unwrap();
    assert_eq!(a.key_count(), 2);
    assert_agrees(&t, &a, &["/api/pets/1", "/api/pets", "/api/cats/1"]);

    // Crossing prefixes: Next ranks `x` before `[a]`; the gateway's order is undocumented.
    let t = table(&["api/[a]/x/[...r].rs", "api/x/[...s].rs"]);
    let a = analyze(&t, &[], KeyPolicy::Parametrised).unwrap();
    assert_eq!(added_of(&a, "/api/x/[...s]"), ["ANY /api/x/x/{s+}"]);
    assert_agrees(
        &t,
        &a,
        &["/api/x/x/1", "/api/x/x/1/2", "/api/y/x/1", "/api/x/y"],
    );
    let errors = analyze(&t, &[], KeyPolicy::StaticOnly).unwrap_err();
    let [ConflictError::Unresolved(d)] = &errors.0[..] else {
        panic!("{errors}")
    };
    assert_eq!(d.reason, Reason::NoDocumentedOrder);
    assert_eq!(d.next.file, "api/x/[...s].rs");
    assert!(d.example.starts_with("/api/x/x/"), "{}", d.example);
}

#[test]
fn greedy_crossing_whose_region_is_all_taken_by_full_keys_needs_nothing() {
    // `[a]/x/[...r]` and `x/[...s]` cross on /api/x/x/…; from five segments on,
    // `x/x/[c]/[...t]` (more specific than both) takes over, so the crossing region is the
    // four-segment paths only, and the full route `[a]/[b]/[c]` covers those.
    let t = table(&[
        "api/[a]/x/[...r].rs",
        "api/x/[...s].rs",
        "api/x/x/[c]/[...t].rs",
        "api/[a]/[b]/[c].rs",
    ]);
    let a = analyze(&t, &[], KeyPolicy::Parametrised).unwrap();
    let added: Vec<String> = a
        .routes
        .iter()
        .flat_map(|r| r.added.iter().map(|k| k.key.to_string()))
        .collect();
    assert!(added.iter().all(|k| !k.ends_with("+}")), "{added:?}");
    assert_eq!(
        added_of(&a, "/api/x/[...s]"),
        ["ANY /api/x/{s}/{s_2}", "ANY /api/x/x/{s}"]
    );
    assert_agrees(
        &t,
        &a,
        &[
            "/api/x/x/1",
            "/api/x/x/1/2",
            "/api/x/x/1/2/3",
            "/api/y/x/1",
            "/api/y/x/1/2",
        ],
    );
}

#[test]
fn optional_catch_all_parent_key_against_index_and_static_routes() {
    let t = table(&[
        "api/docs/[[...slug]].rs",
        "api/[section]/index.rs",
        "api/about.rs",
        "api/index.rs",
    ]);
    let a = analyze(&t, &[], KeyPolicy::StaticOnly).unwrap();
    assert_eq!(
        keys_of(&a, "/api/docs/[[...slug]]"),
        ["ANY /api/docs", "ANY /api/docs/{slug+}"]
    );
    assert!(a.routes.iter().all(|r| r.added.is_empty()));
    assert_agrees(
        &t,
        &a,
        &[
            "/api",
            "/api/docs",
            "/api/docs/a/b",
            "/api/about",
            "/api/other",
            "/api/about/x",
        ],
    );

    // The optional catch-all at a dynamic folder: its parent key `/api/{x}` against a
    // static sibling, and its greedy key against a catch-all elsewhere.
    let t = table(&[
        "api/[x]/[[...rest]].rs",
        "api/static.rs",
        "api/static/[...s].rs",
    ]);
    let a = analyze(&t, &[], KeyPolicy::StaticOnly).unwrap();
    assert_agrees(
        &t,
        &a,
        &[
            "/api/static",
            "/api/static/1",
            "/api/other",
            "/api/other/1/2",
        ],
    );
}

#[test]
fn optional_catch_all_greedy_key_loses_to_next_static_route_below_it() {
    // `/api/[[...slug]]` answers /api/a/b in Next only when no earlier route does.
    let t = table(&["api/[[...slug]].rs", "api/a/[b].rs"]);
    let a = analyze(&t, &[], KeyPolicy::StaticOnly).unwrap();
    assert_agrees(
        &t,
        &a,
        &["/api", "/api/a", "/api/a/b", "/api/a/b/c", "/api/z/b"],
    );
}

#[test]
fn accepted_risks_become_warnings_and_leave_the_keys_alone() {
    let t = table(&["api/users/[...path].rs", "api/[resource]/[id].rs"]);
    let accepted = [AcceptedConflict {
        a: "/api/[resource]/[id]".into(),
        b: "/api/users/[...path]".into(),
    }];
    let a = analyze(&t, &accepted, KeyPolicy::StaticOnly).unwrap();
    assert_eq!(a.key_count(), 2);
    let [Warning::AcceptedRisk(d)] = &a.warnings[..] else {
        panic!("{:?}", a.warnings)
    };
    assert_eq!(d.status, Status::AcceptedRisk);
    assert_eq!(d.example, "/api/users/1");
    let listed = disagreements(&t, &accepted, KeyPolicy::StaticOnly);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].status, Status::AcceptedRisk);
    // The accepted gateway really differs: that is the risk.
    assert_eq!(
        picks(&a, "/api/users/1").as_deref(),
        Some("api/[resource]/[id].rs")
    );

    // An acceptance that matches nothing is reported.
    let a = analyze(&t, &accepted, KeyPolicy::Parametrised).unwrap();
    assert_eq!(a.warnings, [Warning::UnusedAcceptance(accepted[0].clone())]);
    // Accepting another pair does not cover this one.
    let other = [AcceptedConflict {
        a: "/api/users/[...path]".into(),
        b: "/api/x".into(),
    }];
    assert!(analyze(&t, &other, KeyPolicy::StaticOnly).is_err());
}

#[test]
fn all_errors_at_once_and_the_dev_listing() {
    let t = table(&[
        "api/users/[...path].rs",
        "api/[resource]/[id].rs",
        "api/a+b.rs",
        "api/post-[id].rs",
        "api/hello world.rs",
    ]);
    let errors = analyze(&t, &[], KeyPolicy::StaticOnly).unwrap_err();
    assert_eq!(errors.0.len(), 3, "{errors}");
    let text = errors.to_string();
    assert!(text.contains("api/a+b.rs: the route `/api/a+b` has the static segment `a+b` with `+`"));
    assert!(text.contains("api/post-[id].rs"));
    assert!(text.contains("`[`"));
    let listed = disagreements(&t, &[], KeyPolicy::StaticOnly);
    let no_key: Vec<&Disagreement> = listed
        .iter()
        .filter(|d| matches!(d.reason, Reason::NoKey { .. }))
        .collect();
    assert_eq!(no_key.len(), 2);
    // No key matches `/api/a+b` (two segments), so the gateway answers with $default.
    assert!(no_key
        .iter()
        .any(|d| d.example == "/api/a+b" && d.gateway == GatewayPick::Default));
    // The unreachable `hello world` is a warning in the parametrised analysis, not an error.
    let errors = analyze(&t, &[], KeyPolicy::Parametrised).unwrap_err();
    assert_eq!(errors.0.len(), 2, "{errors}");
}

#[test]
fn unreachable_routes_get_no_key_and_a_warning() {
    let t = table(&["api/café.rs", "api/[id].rs"]);
    let a = analyze(&t, &[], KeyPolicy::StaticOnly).unwrap();
    assert!(keys_of(&a, "/api/café").is_empty());
    assert!(matches!(&a.warnings[..], [Warning::Unreachable { segment, .. }] if segment == "café"));
    assert_agrees(&t, &a, &["/api/caf%C3%A9", "/api/x"]);
}

#[test]
fn literal_pattern_requests_are_known_deviations() {
    // Next serves /api/post/[...slug] (the pattern spelled out) by the catch-all; the
    // gateway's full key `{pid}` takes that one-segment path.
    let t = table(&["api/post/[pid].rs", "api/post/[...slug].rs"]);
    assert_eq!(
        next_picks(&t, "/api/post/[...slug]").as_deref(),
        Some("api/post/[...slug].rs")
    );
    let a = analyze(&t, &[], KeyPolicy::StaticOnly).unwrap();
    let [Warning::LiteralPattern(d)] = &a.warnings[..] else {
        panic!("{:?}", a.warnings)
    };
    assert_eq!(d.example, "/api/post/[...slug]");
    assert_eq!(d.status, Status::KnownDeviation);
    assert_eq!(
        disagreements(&t, &[], KeyPolicy::StaticOnly),
        std::slice::from_ref(d)
    );
}

#[test]
fn selection_follows_the_documented_example() {
    // Our model of AWS's table (all keys ANY here, so only the paths matter).
    let t = table(&[
        "api/pets/dog/1.rs",
        "api/pets/dog/[id].rs",
        "api/pets/[...proxy].rs",
        "api/[...proxy].rs",
    ]);
    let a = analyze(&t, &[], KeyPolicy::StaticOnly).unwrap();
    assert_eq!(
        picks(&a, "/api/pets/dog/1").as_deref(),
        Some("api/pets/dog/1.rs")
    );
    assert_eq!(
        picks(&a, "/api/pets/dog/2").as_deref(),
        Some("api/pets/dog/[id].rs")
    );
    assert_eq!(
        picks(&a, "/api/pets/cat/1").as_deref(),
        Some("api/pets/[...proxy].rs")
    );
    assert_eq!(
        picks(&a, "/api/test/5").as_deref(),
        Some("api/[...proxy].rs")
    );
    assert_eq!(picks(&a, "/other"), None);
    assert_eq!(picks(&a, "/api/pets/"), None);
}

#[test]
fn app_router_routes_at_the_root_and_outside_api_agree_with_next() {
    let t = table(&[
        "app/route.rs",
        "app/hooks/deliver/[id]/route.rs",
        "app/api/mix/[id]/route.rs",
        "api/mix/fixed.rs",
        "app/[...rest]/route.rs",
    ]);
    for policy in [KeyPolicy::Parametrised, KeyPolicy::StaticOnly] {
        let a = analyze(&t, &[], policy).unwrap();
        assert_eq!(keys_of(&a, "/"), ["ANY /"]);
        assert_eq!(
            keys_of(&a, "/hooks/deliver/[id]"),
            ["ANY /hooks/deliver/{id}"]
        );
        assert_agrees(
            &t,
            &a,
            &[
                "/",
                "/hooks/deliver/42",
                "/hooks/deliver/42/x",
                "/hooks",
                "/api/mix/fixed",
                "/api/mix/other",
                "/x",
            ],
        );
    }
}
