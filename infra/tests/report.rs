//! The analysis of DESIGN.md's example app plus its conflicting pair, as the CLI would print
//! it: every route's keys under the default policy, and the errors under the static-only one.

use nextr::routing::RouteTable;
use nextr_infra::gateway::http_api::Selection;
use nextr_infra::{analyze, disagreements, AcceptedConflict, Analysis, KeyPolicy};

const FILES: [&str; 12] = [
    "api/hello.rs",
    "api/notes/index.rs",
    "api/notes/[id].rs",
    "api/post/create.rs",
    "api/post/[pid].rs",
    "api/post/[...slug].rs",
    "api/_shared.rs",
    "api/users/[...path].rs",
    "api/[resource]/[id].rs",
    "api/docs/[[...slug]].rs",
    "api/[resource]/[id]/x/[...rest].rs",
    "api/hello world.rs",
];

fn render(a: &Analysis) -> String {
    let mut out = String::new();
    for r in &a.routes {
        out.push_str(&format!("{}  ({})\n", r.route.page, r.route.file));
        for k in &r.own {
            out.push_str(&format!("    {k}\n"));
        }
        for k in &r.added {
            let instead: Vec<&str> = k.instead_of.iter().map(|r| r.file.as_str()).collect();
            out.push_str(&format!(
                "    {}  (added: e.g. {}, instead of {})\n",
                k.key,
                k.example,
                instead.join(", ")
            ));
        }
    }
    for w in &a.warnings {
        out.push_str(&format!("warning: {w}\n"));
    }
    out
}

fn table() -> RouteTable {
    RouteTable::from_files(FILES).unwrap()
}

#[test]
fn default_policy_report() {
    let a = analyze(&table(), &[], KeyPolicy::Parametrised).unwrap();
    insta::assert_snapshot!(render(&a));
    // The emulator's view of a few paths.
    let router = a.router();
    let pick = |p: &str| match router.select(p) {
        Selection::Route { owner, key } => format!("{} via {key}", a.routes[owner].route.file),
        Selection::Default => "$default".to_owned(),
        Selection::Tie(_) => "tie".to_owned(),
    };
    assert_eq!(
        pick("/api/users/42"),
        "api/users/[...path].rs via ANY /api/users/{path}"
    );
    assert_eq!(
        pick("/api/posts/42"),
        "api/[resource]/[id].rs via ANY /api/{resource}/{id}"
    );
    assert_eq!(
        pick("/api/users/42/x/1"),
        "api/users/[...path].rs via ANY /api/users/{path}/x/{path_2+}"
    );
    assert_eq!(pick("/api/hello/"), "$default");
}

#[test]
fn static_only_policy_report() {
    let errors = analyze(&table(), &[], KeyPolicy::StaticOnly).unwrap_err();
    insta::assert_snapshot!(errors.to_string());
    let accepted = [
        AcceptedConflict {
            a: "/api/users/[...path]".into(),
            b: "/api/[resource]/[id]".into(),
        },
        AcceptedConflict {
            a: "/api/users/[...path]".into(),
            b: "/api/[resource]/[id]/x/[...rest]".into(),
        },
        AcceptedConflict {
            a: "/api/docs/[[...slug]]".into(),
            b: "/api/[resource]/[id]".into(),
        },
        AcceptedConflict {
            a: "/api/docs/[[...slug]]".into(),
            b: "/api/[resource]/[id]/x/[...rest]".into(),
        },
        AcceptedConflict {
            a: "/api/post/[...slug]".into(),
            b: "/api/[resource]/[id]/x/[...rest]".into(),
        },
        AcceptedConflict {
            a: "/api/hello".into(),
            b: "/api/nothing".into(),
        },
    ];
    let a = analyze(&table(), &accepted, KeyPolicy::StaticOnly).unwrap();
    let listed: Vec<String> = disagreements(&table(), &accepted, KeyPolicy::StaticOnly)
        .iter()
        .map(|d| format!("{:?}: {d}", d.status))
        .collect();
    insta::assert_snapshot!(format!("{}\n{}", render(&a), listed.join("\n")));
}
