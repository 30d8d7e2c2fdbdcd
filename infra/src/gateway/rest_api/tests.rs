//! The resource tree and the router together, on the cases that make REST matching differ
//! from Next's precedence unless the tree is built with care.

use nextr::routing::{Resolution, RouteTable};

use super::resources::{default_resource_tree, resource_tree, ResourceError, Target};
use super::{Router, Selection};

fn table(files: &[&str]) -> RouteTable {
    RouteTable::from_files(files).unwrap()
}

fn router(table: &RouteTable) -> Router {
    let tree = default_resource_tree(table).unwrap();
    Router::from_keys(
        tree.resources
            .into_iter()
            .map(|r| (r.key, r.target))
            .collect(),
    )
    .unwrap()
}

/// The file REST sends `path` to, and the file Next serves it with.
fn both(table: &RouteTable, router: &Router, path: &str) -> (Option<String>, Option<String>) {
    let body = path.strip_prefix('/').unwrap_or(path);
    let segments: Vec<&str> = if body.is_empty() {
        Vec::new()
    } else {
        body.split('/').collect()
    };
    let Selection { target, .. } = router.select(&segments);
    let rest = match target {
        Target::Route(i) => Some(table.routes()[i].file.clone()),
        Target::Fallback => None,
    };
    let next = match table.resolve(path) {
        Resolution::Route(m) => Some(m.route.file.clone()),
        _ => None,
    };
    (rest, next)
}

fn agree(files: &[&str], paths: &[(&str, Option<&str>)]) {
    let t = table(files);
    let r = router(&t);
    for (path, expected) in paths {
        let (rest, next) = both(&t, &r, path);
        assert_eq!(next.as_deref(), *expected, "Next at {path}");
        assert_eq!(rest, next, "REST at {path}");
    }
}

fn keys(files: &[&str]) -> Vec<String> {
    let t = table(files);
    let tree = default_resource_tree(&t).unwrap();
    tree.resources
        .iter()
        .map(|r| match r.target {
            Target::Route(i) => format!("{} -> {}", r.key, t.routes()[i].page()),
            Target::Fallback => format!("{} -> fallback", r.key),
        })
        .collect()
}

#[test]
fn a_static_detour_does_not_hide_a_dynamic_sibling() {
    // REST prefers the literal `b`; without care `/api/b/d` would end at a dead end under it.
    agree(
        &["api/b/c.rs", "api/[a]/d.rs"],
        &[
            ("/api/b/d", Some("api/[a]/d.rs")),
            ("/api/b/c", Some("api/b/c.rs")),
            ("/api/x/d", Some("api/[a]/d.rs")),
            ("/api/b", None),
            ("/api/b/e", None),
            ("/api/x/c", None),
        ],
    );
    assert_eq!(
        keys(&["api/b/c.rs", "api/[a]/d.rs"]),
        [
            "ANY / -> fallback",
            "ANY /api -> fallback",
            "ANY /api/b -> fallback",
            "ANY /api/b/c -> /api/b/c",
            "ANY /api/b/c/{proxy+} -> fallback",
            "ANY /api/b/d -> /api/[a]/d",
            "ANY /api/b/d/{proxy+} -> fallback",
            "ANY /api/b/{proxy+} -> fallback",
            "ANY /api/{a} -> fallback",
            "ANY /api/{a}/d -> /api/[a]/d",
            "ANY /api/{a}/d/{proxy+} -> fallback",
            "ANY /api/{a}/{proxy+} -> fallback",
            "ANY /{proxy+} -> fallback",
        ]
    );
}

#[test]
fn a_dynamic_beside_a_catch_all() {
    agree(
        &["api/[id].rs", "api/[...slug].rs", "api/x/y.rs"],
        &[
            ("/api/1", Some("api/[id].rs")),
            ("/api/1/2", Some("api/[...slug].rs")),
            ("/api/x", Some("api/[id].rs")),
            ("/api/x/y", Some("api/x/y.rs")),
            ("/api/x/z", Some("api/[...slug].rs")),
            ("/api/x/y/z", Some("api/[...slug].rs")),
            ("/api", None),
        ],
    );
}

#[test]
fn an_optional_catch_all_beside_static_children() {
    agree(
        &[
            "api/docs/[[...path]].rs",
            "api/docs/intro.rs",
            "api/docs/a/b.rs",
        ],
        &[
            ("/api/docs", Some("api/docs/[[...path]].rs")),
            ("/api/docs/intro", Some("api/docs/intro.rs")),
            ("/api/docs/intro/x", Some("api/docs/[[...path]].rs")),
            ("/api/docs/a", Some("api/docs/[[...path]].rs")),
            ("/api/docs/a/b", Some("api/docs/a/b.rs")),
            ("/api/docs/a/c", Some("api/docs/[[...path]].rs")),
            ("/api/docs/z/y/x", Some("api/docs/[[...path]].rs")),
        ],
    );
}

#[test]
fn a_deep_catch_all_is_reached_past_dead_static_branches() {
    agree(
        &[
            "api/a/b/c/d.rs",
            "api/a/[x]/[y]/e.rs",
            "api/[...all].rs",
            "api/a/[x]/[...rest].rs",
        ],
        &[
            ("/api/a/b/c/d", Some("api/a/b/c/d.rs")),
            ("/api/a/b/c/e", Some("api/a/[x]/[y]/e.rs")),
            ("/api/a/b/c/f", Some("api/a/[x]/[...rest].rs")),
            ("/api/a/b/c/e/f", Some("api/a/[x]/[...rest].rs")),
            ("/api/a/b/q/e", Some("api/a/[x]/[y]/e.rs")),
            ("/api/a/b", Some("api/[...all].rs")),
            ("/api/a", Some("api/[...all].rs")),
            ("/api/z/b/c/d", Some("api/[...all].rs")),
        ],
    );
    // Below a catch-all that wins everywhere, one greedy resource is all it takes.
    let k = keys(&["api/[...all].rs"]);
    assert_eq!(
        k,
        [
            "ANY / -> fallback",
            "ANY /api -> fallback",
            "ANY /api/{all+} -> /api/[...all]",
            "ANY /{proxy+} -> fallback",
        ]
    );
}

#[test]
fn deep_paths_nothing_serves_reach_the_fallback_through_a_greedy_resource() {
    let files = ["api/a/b/c.rs", "api/[x]/y.rs", "api/a/[z]/[...rest].rs"];
    agree(
        &files,
        &[
            ("/api/a/b/c/d/e/f", Some("api/a/[z]/[...rest].rs")),
            ("/api/a/b/c", Some("api/a/b/c.rs")),
            ("/api/q/y/z/w/v", None),
            ("/api/q/r/s/t", None),
            ("/api/a/y", Some("api/[x]/y.rs")),
        ],
    );
    let t = table(&files);
    let r = router(&t);
    let Selection { target, key } = r.select(&["api", "q", "y", "z", "w", "v"]);
    assert_eq!(target, Target::Fallback);
    assert_eq!(key.to_string(), "ANY /api/{x}/y/{proxy+}");
}

#[test]
fn no_dead_ends_and_one_variable_child_per_resource() {
    let t = table(&[
        "api/index.rs",
        "api/[a]/x.rs",
        "api/b/[c]/y.rs",
        "api/b/[c]/[...d].rs",
        "api/q/[[...o]].rs",
    ]);
    // `Router::from_keys` refuses dead ends and two variable children.
    let r = router(&t);
    assert!(r.keys().len() > 5);
}

#[test]
fn variable_names_stay_unique_along_a_path() {
    // `/api/x/{p}/{p}` would be refused by AWS: the second `p` is renamed.
    let k = keys(&["api/x/[p].rs", "api/[a]/[q]/[p].rs"]);
    assert!(
        k.contains(&"ANY /api/x/{p}/{p_2} -> /api/[a]/[q]/[p]".to_owned()),
        "{k:#?}"
    );
}

#[test]
fn refused_characters_name_the_file_and_the_segment() {
    let t = table(&["api/a,b.rs", "api/ok/x~y.rs", "api/fine.json.rs"]);
    let errors = default_resource_tree(&t).unwrap_err().0;
    assert_eq!(errors.len(), 2);
    let text = errors.iter().map(ToString::to_string).collect::<Vec<_>>();
    assert!(
        text[0].starts_with("api/a,b.rs: the static segment `a,b`"),
        "{}",
        text[0]
    );
    assert!(text[0].contains("at /api/a,b"));
    assert!(
        text[1].contains("`x~y` of `/api/ok/x~y` contains `~`"),
        "{}",
        text[1]
    );
    // A segment Next can never reach is no error: the route is as unreachable as in Next.
    assert!(default_resource_tree(&table(&["api/hello world.rs"])).is_ok());
}

#[test]
fn too_many_resources_name_the_count_and_the_limit() {
    // Each leaf needs a `{proxy+}` child (to the fallback), so that no path dead-ends.
    let files: Vec<String> = (0..10).map(|i| format!("api/r{i}.rs")).collect();
    let t = RouteTable::from_files(&files).unwrap();
    let e = resource_tree(&t, 5).unwrap_err();
    assert_eq!(
        e.0,
        [ResourceError::TooManyResources {
            count: 24,
            limit: 5
        }]
    );
    assert!(e.to_string().contains("24 REST API resources"));
    assert!(e.to_string().contains("quota of 5"));
    assert!(e.to_string().contains("Service Quotas"));
}

fn router_of(keys: &[(&str, Target)]) -> Result<Router, super::RouterError> {
    Router::from_keys(
        keys.iter()
            .map(|(k, t)| {
                (
                    super::super::http_api::route_keys::RouteKey::parse(k).unwrap(),
                    *t,
                )
            })
            .collect(),
    )
}

#[test]
fn the_router_refuses_what_aws_refuses_and_dead_ends() {
    use super::RouterError;
    use Target::Fallback as F;
    let ok = [
        ("ANY /", F),
        ("ANY /{proxy+}", F),
        ("ANY /a", Target::Route(0)),
        ("ANY /a/{proxy+}", F),
    ];
    assert!(router_of(&ok).is_ok());
    let two = [("ANY /", F), ("ANY /{a}", F), ("ANY /{b}", F)];
    assert!(matches!(
        router_of(&two),
        Err(RouterError::TwoVariables { .. })
    ));
    let var_and_greedy = [("ANY /", F), ("ANY /{a}", F), ("ANY /{b+}", F)];
    assert!(matches!(
        router_of(&var_and_greedy),
        Err(RouterError::TwoVariables { .. })
    ));
    let dead = [("ANY /", F), ("ANY /{proxy+}", F), ("ANY /a", F)];
    assert_eq!(
        router_of(&dead).unwrap_err(),
        RouterError::DeadEnd("ANY /a".into())
    );
    let no_parent = [("ANY /", F), ("ANY /{proxy+}", F), ("ANY /a/b", F)];
    assert!(matches!(
        router_of(&no_parent),
        Err(RouterError::DeadEnd(_))
    ));
    let twice = [("ANY /", F), ("ANY /", F), ("ANY /{proxy+}", F)];
    assert!(matches!(router_of(&twice), Err(RouterError::Duplicate(_))));
    let comma = [("ANY /", F), ("ANY /{proxy+}", F), ("ANY /a,b", F)];
    assert!(matches!(
        router_of(&comma),
        Err(RouterError::Character { character: ',', .. })
    ));
    // The manifest form: a bad key string names its owner.
    let e = Router::new([vec!["GET /a"]], ["ANY /"]).unwrap_err();
    assert!(e.to_string().starts_with("route #0:"), "{e}");
}

#[test]
fn routing_takes_the_path_as_received() {
    use super::{RestApi, Routed};
    let t = table(&["api/about.rs", "api/[id].rs", "api/[id]/x.rs"]);
    let tree = default_resource_tree(&t).unwrap();
    let mut m = nextr::manifest::Manifest::new("t", fallback_function());
    for (i, r) in t.routes().iter().enumerate() {
        m.routes.push(nextr::manifest::ManifestRoute {
            page: r.page().to_owned(),
            file: r.file.clone(),
            router: nextr::routing::Router::Pages,
            kind: r.kind(),
            segments: Vec::new(),
            params: Vec::new(),
            route_keys: tree.route_keys(i),
            config: Default::default(),
            function: None,
            build_error: None,
            throttle: None,
            log_retention_days: None,
        });
    }
    m.gateway.kind = nextr::manifest::GatewayKind::Rest;
    m.gateway.fallback_keys = tree.fallback_keys();
    let api = RestApi::new(&m).unwrap();
    let pick = |target: &str| match api.route(target) {
        Routed::Route { owner, key, path } => {
            format!("{} via {key} as {path}", m.routes[owner].page)
        }
        Routed::Default { path, key } => {
            format!(
                "fallback via {} as {path}",
                key.map_or("-".into(), |k| k.to_string())
            )
        }
        Routed::BadRequest => "400".into(),
    };
    for (target, expected) in [
        (
            "/api/about?x=1",
            "/api/about via ANY /api/about as /api/about",
        ),
        // Not decoded: `%61bout` is not `about` (Next agrees), nor `%2F` a separator.
        (
            "/api/%61bout",
            "/api/[id] via ANY /api/{id} as /api/%61bout",
        ),
        ("/api/a%2Fb", "/api/[id] via ANY /api/{id} as /api/a%2Fb"),
        (
            "/api/about/x",
            "/api/[id]/x via ANY /api/about/x as /api/about/x",
        ),
        (
            "/api/y/../about",
            "/api/about via ANY /api/about as /api/y/../about",
        ),
        ("/api/%ZZ", "/api/[id] via ANY /api/{id} as /api/%ZZ"),
        ("/api", "fallback via ANY /api as /api"),
        (
            "/api/a/b/c",
            "fallback via ANY /api/{id}/{proxy+} as /api/a/b/c",
        ),
        ("/nope", "fallback via ANY /{proxy+} as /nope"),
        ("/api/about/", "fallback via - as /api/about/"),
        ("/api//about", "fallback via - as /api//about"),
    ] {
        assert_eq!(pick(target), expected, "{target}");
    }
}

fn fallback_function() -> nextr::manifest::Function {
    nextr::manifest::Function {
        name: "t-default".into(),
        bundle: "functions/t-default.zip".into(),
        sha256: "00".repeat(32),
        bytes: 0,
        runtime: "provided.al2023".into(),
        handler: "bootstrap".into(),
        architecture: Default::default(),
        timeout_s: 3,
        memory_mb: 128,
        env: Default::default(),
        response_mode: Default::default(),
        function_url: None,
    }
}

#[test]
fn app_router_routes_at_the_root_and_outside_api() {
    let files = [
        "app/route.rs",
        "app/hooks/deliver/[id]/route.rs",
        "app/api/mix/[id]/route.rs",
        "api/mix/fixed.rs",
    ];
    agree(
        &files,
        &[
            ("/", Some("app/route.rs")),
            ("/hooks/deliver/42", Some("app/hooks/deliver/[id]/route.rs")),
            ("/hooks/deliver", None),
            ("/hooks/deliver/42/x", None),
            ("/api/mix/fixed", Some("api/mix/fixed.rs")),
            ("/api/mix/other", Some("app/api/mix/[id]/route.rs")),
            ("/x", None),
        ],
    );
    let keys = keys(&files);
    assert!(keys.contains(&"ANY / -> /".to_owned()), "{keys:?}");
    assert!(
        keys.contains(&"ANY /hooks/deliver/{id} -> /hooks/deliver/[id]".to_owned()),
        "{keys:?}"
    );
}
