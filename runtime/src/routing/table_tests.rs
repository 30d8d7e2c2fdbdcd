//! The route table with files of both routers: one tree, Next's precedence across routers,
//! Next's errors for trees mixing them, and each router's view of a matched request.

use super::table::MatchedView;
use super::*;

fn table(files: &[&str]) -> RouteTable {
    RouteTable::from_files(files).unwrap()
}

fn errors(files: &[&str]) -> Vec<String> {
    let err = RouteTable::from_files(files).unwrap_err();
    err.problems.iter().map(ToString::to_string).collect()
}

/// (router, file) of the route a target resolves to, or its status.
fn winner(t: &RouteTable, target: &str) -> Result<(Router, String), u16> {
    match t.resolve(target) {
        Resolution::Route(m) => Ok((m.route.router, m.route.file.clone())),
        other => Err(other.status()),
    }
}

const MIXED: &[&str] = &[
    "app/route.rs",
    "app/api/mix/[id]/route.rs",
    "app/api/mix2/fixed/route.rs",
    "app/api/mix3/route.rs",
    "app/api/mix4/[...all]/route.rs",
    "api/mix/fixed.rs",
    "api/mix2/[id].rs",
    "api/mix3/[...all].rs",
    "api/mix4/only.rs",
    "api/onlypages.rs",
];

#[test]
fn precedence_is_by_specificity_across_routers() {
    let t = table(MIXED);
    let cases = [
        ("/", Router::App, "app/route.rs"),
        ("/api/mix/fixed", Router::Pages, "api/mix/fixed.rs"),
        ("/api/mix/other", Router::App, "app/api/mix/[id]/route.rs"),
        (
            "/api/mix2/fixed",
            Router::App,
            "app/api/mix2/fixed/route.rs",
        ),
        ("/api/mix2/other", Router::Pages, "api/mix2/[id].rs"),
        ("/api/mix3", Router::App, "app/api/mix3/route.rs"),
        ("/api/mix3/a/b", Router::Pages, "api/mix3/[...all].rs"),
        ("/api/mix4/only", Router::Pages, "api/mix4/only.rs"),
        (
            "/api/mix4/other/x",
            Router::App,
            "app/api/mix4/[...all]/route.rs",
        ),
    ];
    for (target, router, file) in cases {
        assert_eq!(
            winner(&t, target),
            Ok((router, file.to_owned())),
            "{target}"
        );
    }
    let summaries = t.summaries();
    let app = summaries.iter().filter(|s| s.router == Router::App).count();
    assert_eq!(app, 5);
}

#[test]
fn each_router_has_its_own_view() {
    let t = table(MIXED);
    let Resolution::Route(m) = t.resolve("/api/mix2/other?x=1") else {
        panic!("no match")
    };
    assert!(matches!(m.view, MatchedView::Pages(_)));
    assert_eq!(m.query().and_then(|q| q.str("id")), Some("other"));
    let Resolution::Route(m) = t.resolve("/api/mix/other?id=q") else {
        panic!("no match")
    };
    let MatchedView::App(app) = &m.view else {
        panic!("an App route gets the App view")
    };
    assert_eq!(
        serde_json::to_string(&app.params).unwrap(),
        r#"{"id":"other"}"#
    );
    assert_eq!(m.url(), "/api/mix/other?id=q");
    assert!(m.query().is_none());
}

#[test]
fn malformed_escapes_answer_400_with_pages_routes_and_500_without() {
    let t = table(MIXED);
    assert_eq!(t.resolve("/api/mix/%ZZ").status(), 400);
    assert_eq!(t.resolve("/api/mix2/%ZZ").status(), 400);
    let t = table(&["app/api/r06/[pid]/route.rs", "app/api/c/[...rest]/route.rs"]);
    assert_eq!(t.resolve("/api/r06/%ZZ"), Resolution::ServerError);
    assert_eq!(t.resolve("/api/c/%C3/ok").status(), 500);
    assert_eq!(t.resolve("/api/r06/ok").status(), 200);
    let t = table(&["api/post/[pid].rs"]);
    assert_eq!(t.resolve("/api/post/%ZZ"), Resolution::BadRequest);
}

#[test]
fn an_app_and_a_pages_file_for_one_page_is_refused_in_nexts_words() {
    let errs = errors(&["app/api/ib/route.rs", "api/ib.rs"]);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].starts_with("api/ib.rs, app/api/ib/route.rs: App Router and Pages Router both match path: /api/ib. Next.js does not support having both"),
        "{}",
        errs[0]
    );
}

#[test]
fn two_app_files_for_one_page_are_refused_in_nexts_words_and_order() {
    let errs = errors(&["app/(g1)/api/id/route.rs", "app/(g2)/api/id/route.rs"]);
    assert_eq!(
        errs,
        ["app/(g1)/api/id/route.rs, app/(g2)/api/id/route.rs: Conflicting routes at /api/id: route at /(g2)/api/id/route and route at /(g1)/api/id/route"]
    );
}

#[test]
fn app_errors_name_the_route_and_pages_errors_keep_their_wording() {
    let errs = errors(&[
        "app/api/if/[...a]/b/route.rs",
        "app/api/ik/[[id]]/route.rs",
        "api/c/[...s]/x.rs",
        "api/d/[[id]].rs",
    ]);
    let want = [
        "api/c/[...s]/x.rs: Catch-all must be the last part of the URL.",
        "api/d/[[id]].rs: Optional route parameters are not yet supported (\"[[id]]\").",
        "app/api/if/[...a]/b/route.rs: Catch-all must be the last part of the URL in route \"/api/if/[...a]/b\".",
        "app/api/ik/[[id]]/route.rs: Optional route parameters are not yet supported (\"[[id]]\") in route \"/api/ik/[[id]]\".",
    ];
    assert_eq!(errs, want);
}

#[test]
fn tree_rules_span_both_routers() {
    let errs = errors(&["app/api/ic/[a]/route.rs", "api/ic/[b]/x.rs"]);
    assert!(errs[0].contains("('b' !== 'a')"), "{errs:?}");
    let errs = errors(&["app/api/ie/route.rs", "app/api/ie/[[...slug]]/route.rs"]);
    assert!(
        errs[0].contains("(\"/api/ie\" and \"/api/ie/[[...slug]]\")"),
        "{errs:?}"
    );
}

#[test]
fn groups_private_and_escaped_folders() {
    let t = table(&[
        "app/api/r03/(grp)/inside/route.rs",
        "app/api/r04/_private/route.rs",
        "app/api/r04/%5Fescaped/route.rs",
        "app/api/r04/helper.rs",
    ]);
    assert_eq!(t.routes().len(), 2);
    assert!(winner(&t, "/api/r03/inside").is_ok());
    assert_eq!(winner(&t, "/api/r03/(grp)/inside"), Err(404));
    assert_eq!(winner(&t, "/api/r04/_private"), Err(404));
    assert!(winner(&t, "/api/r04/_escaped").is_ok());
    assert_eq!(winner(&t, "/api/r04/%5Fescaped"), Err(404));
}
