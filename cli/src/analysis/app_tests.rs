//! App Router route files: method functions and the App/Pages split of `config!`.

use super::*;
use crate::report::{render, ReportStyle};
use nextr::config::{Disabled, Dynamic, Revalidate};

const FILE: &str = "app/x/route.rs";
const GET: &str =
    "pub async fn get(req: NextRequest) -> Response {\n    Response::text(\"hi\")\n}\n";

fn analyze(router: Router, text: &str) -> Result<RouteAnalysis, Vec<RouteDiagnostic>> {
    let file = match router {
        Router::App => FILE,
        Router::Pages => "api/x.rs",
    };
    analyze_source(file, text, router, Front::default())
}

fn ok(text: &str) -> RouteAnalysis {
    match analyze(Router::App, text) {
        Ok(a) => a,
        Err(d) => panic!(
            "unexpected problems: {:#?}",
            d.iter()
                .map(|d| (d.location(), d.to_string()))
                .collect::<Vec<_>>()
        ),
    }
}

fn problems_in(router: Router, text: &str) -> Vec<(String, Problem)> {
    analyze(router, text)
        .expect_err("expected problems")
        .into_iter()
        .map(|d| (d.location(), d.problem))
        .collect()
}

fn problems(text: &str) -> Vec<(String, Problem)> {
    problems_in(Router::App, text)
}

fn method(method: Method, arity: Arity) -> MethodFn {
    MethodFn { method, arity }
}

#[test]
fn methods_and_their_arity_are_recorded() {
    let a = ok(r#"use nextr::app::prelude::*;

pub async fn post(req: NextRequest, ctx: RouteContext) -> Result<Response, MyError> {
    Ok(Response::text("made"))
}
pub async fn get(req: nextr::app::NextRequest) -> Response { Response::text("hi") }
pub async fn options() -> Response { Response::text("") }
pub async fn delete(_: NextRequest, _ctx: nextr::app::RouteContext) -> nextr::Result<Response> { Ok(Response::empty()) }
fn helper() {}
"#);
    assert_eq!(a.router, Router::App);
    assert_eq!(
        a.methods,
        [
            method(Method::Get, Arity::Request),
            method(Method::Post, Arity::RequestContext),
            method(Method::Delete, Arity::RequestContext),
            method(Method::Options, Arity::None),
        ]
    );
    assert!(!get_only(&a.methods));
    assert!(get_only(&ok(GET).methods));
    // Renames are followed, as for Pages handlers.
    let a = ok("use nextr::app::{NextRequest as Req, RouteContext as Ctx};\npub async fn put(r: Req, c: Ctx) -> Response { Response::empty() }\n");
    assert_eq!(a.methods, [method(Method::Put, Arity::RequestContext)]);
}

#[test]
fn upper_case_methods_are_renamed_to_lower_case() {
    let p = problems("pub async fn GET(req: NextRequest) -> Response { Response::empty() }\n");
    assert_eq!(
        p,
        [(
            "app/x/route.rs:1:14".into(),
            Problem::MethodCase {
                found: "GET".into(),
                expected: "get"
            }
        )]
    );
    assert_eq!(
        p[0].1.to_string(),
        "nextr names method functions in lower case: rename `GET` to `get`"
    );
    let p = problems(&format!(
        "{GET}pub async fn Post() -> Response {{ Response::empty() }}\n"
    ));
    assert_eq!(p.len(), 1);
    assert!(matches!(
        &p[0].1,
        Problem::MethodCase {
            expected: "post",
            ..
        }
    ));
}

#[test]
fn a_file_without_methods_lists_them_and_guesses() {
    let p = problems("pub async fn fetch(req: NextRequest) -> Response { Response::empty() }\n");
    assert_eq!(p, [("app/x/route.rs:1:14".into(), Problem::NoMethods)]);
    let d = analyze(
        Router::App,
        "pub async fn gett() -> Response { Response::empty() }\n",
    )
    .unwrap_err();
    let text = render(&d[0], ReportStyle::Plain);
    assert!(text.contains("did you mean `get`?"), "{text}");
    assert!(text.contains("`put`, `delete`, `patch`"), "{text}");
    assert_eq!(
        problems("// nothing\nfn main() {}\n"),
        [("app/x/route.rs:1:1".into(), Problem::NoMethods)]
    );
}

#[test]
fn a_pages_handler_in_an_app_file_and_methods_in_a_pages_file_are_refused() {
    let p = problems(
        "pub async fn handler(req: &mut NextApiRequest, res: &mut NextApiResponse) -> Result { Ok(()) }\n",
    );
    assert_eq!(
        p,
        [("app/x/route.rs:1:14".into(), Problem::PagesHandlerInApp)]
    );
    assert!(p[0].1.to_string().contains("App Router route file"));
    // Beside method functions, `handler` is a helper they share.
    ok("async fn handler(req: NextRequest) -> Response { Response::empty() }\npub async fn post(req: NextRequest) -> Response { handler(req).await }\n");
    let p = problems_in(Router::Pages, GET);
    assert_eq!(
        p,
        [("api/x.rs:1:14".into(), Problem::MethodsInPages("get"))]
    );
    assert!(p[0].1.to_string().contains("Pages Router file"));
    // A Pages file may keep a helper named `get` beside its handler.
    assert!(analyze(
        Router::Pages,
        "fn get() {}\npub async fn handler(req: &mut NextApiRequest, res: &mut NextApiResponse) -> Result { Ok(()) }\n"
    )
    .is_ok());
}

#[test]
fn every_signature_problem_is_reported() {
    let p = problems(
        "fn get(req: &NextRequest) {}\nasync fn post(a: NextRequest, b: RouteContext, c: u8) -> () {}\npub async fn put(ctx: RouteContext) -> Response { Response::empty() }\n",
    );
    assert_eq!(
        p,
        [
            ("app/x/route.rs:1:1".into(), Problem::MethodNotPublic("get")),
            ("app/x/route.rs:1:1".into(), Problem::MethodNotAsync("get")),
            (
                "app/x/route.rs:1:8".into(),
                Problem::MethodParam {
                    method: "get",
                    position: 1,
                    expected: "NextRequest",
                    found: "req: &NextRequest".into()
                }
            ),
            (
                "app/x/route.rs:1:25".into(),
                Problem::MethodReturn {
                    method: "get",
                    found: "nothing".into()
                }
            ),
            (
                "app/x/route.rs:2:7".into(),
                Problem::MethodNotPublic("post")
            ),
            (
                "app/x/route.rs:2:14".into(),
                Problem::MethodArity {
                    method: "post",
                    count: 3
                }
            ),
            (
                "app/x/route.rs:2:58".into(),
                Problem::MethodReturn {
                    method: "post",
                    found: "`()`".into()
                }
            ),
            (
                "app/x/route.rs:3:18".into(),
                Problem::MethodParam {
                    method: "put",
                    position: 1,
                    expected: "NextRequest",
                    found: "ctx: RouteContext".into()
                }
            ),
        ]
    );
}

fn config_of(body: &str) -> nextr::config::RouteConfig {
    ok(&format!("nextr::config! {{ {body} }}\n{GET}")).config
}

fn config_problems(router: Router, body: &str) -> Vec<(String, Problem)> {
    let handler = match router {
        Router::App => GET,
        Router::Pages => "pub async fn handler(req: &mut NextApiRequest, res: &mut NextApiResponse) -> Result { Ok(()) }\n",
    };
    problems_in(router, &format!("nextr::config! {{ {body} }}\n{handler}"))
}

#[test]
fn app_config_keys_are_read() {
    let c = config_of(r#"dynamic: "force-static", revalidate: false, max_duration: 10"#);
    assert_eq!(c.dynamic, Some(Dynamic::ForceStatic));
    assert_eq!(c.revalidate, Some(Revalidate::Never(Disabled)));
    assert_eq!(c.max_duration, Some(10));
    let c = config_of(r#"revalidate: 60, dynamic: "error""#);
    assert_eq!(
        (c.dynamic, c.revalidate),
        (Some(Dynamic::Error), Some(Revalidate::Seconds(60)))
    );
}

#[test]
fn an_invalid_dynamic_is_refused_in_nexts_words() {
    let p = config_problems(Router::App, r#"dynamic: "sometimes""#);
    assert_eq!(
        p,
        [(
            "app/x/route.rs:1:27".into(),
            Problem::ConfigDynamic("sometimes".into())
        )]
    );
    assert_eq!(
        p[0].1.to_string(),
        "can't recognize the exported `dynamic` field in route. It has an invalid value: unknown variant `sometimes`, expected one of `auto`, `force-dynamic`, `error`, `force-static`"
    );
    assert!(matches!(
        &config_problems(Router::App, "dynamic: 1")[0].1,
        Problem::ConfigWrongType { key, .. } if key == "dynamic"
    ));
    assert!(matches!(
        &config_problems(Router::App, "revalidate: true")[0].1,
        Problem::ConfigWrongType { key, found: "`true`", .. } if key == "revalidate"
    ));
    assert!(matches!(
        &config_problems(Router::App, "revalidate: -1")[0].1,
        Problem::ConfigOutOfRange { key, .. } if key == "revalidate"
    ));
}

#[test]
fn runtime_and_the_other_routers_keys_are_refused() {
    let p = config_problems(Router::App, r#"runtime: "edge""#);
    assert_eq!(p, [("app/x/route.rs:1:18".into(), Problem::ConfigRuntime)]);
    assert_eq!(
        p[0].1.to_string(),
        "nextr runs every route as a Rust Lambda function; remove `runtime`"
    );
    assert_eq!(
        config_problems(Router::Pages, r#"runtime: "nodejs""#)[0].1,
        Problem::ConfigRuntime
    );

    let p = config_problems(Router::App, "body_parser: false, external_resolver: true");
    assert_eq!(p.len(), 2);
    assert_eq!(
        p[0].1,
        Problem::ConfigOtherRouter {
            key: "body_parser".into(),
            router: Router::App,
            owner: Router::Pages
        }
    );
    assert_eq!(
        p[0].1.to_string(),
        "`body_parser` is Pages Router configuration, and this is an App Router route file"
    );
    let p = config_problems(Router::Pages, r#"dynamic: "force-static""#);
    assert_eq!(
        p[0].1.to_string(),
        "`dynamic` is App Router configuration, and this is a Pages Router route file"
    );
}

#[test]
fn app_reports_render_with_frames() {
    let mut diagnostics = Vec::new();
    for (file, text) in [
        (
            "app/hooks/[id]/route.rs",
            "use nextr::app::prelude::*;\n\nnextr::config! {\n    dynamic: \"sometimes\",\n    runtime: \"edge\",\n    body_parser: false,\n}\n\npub async fn GET(req: NextRequest) -> Response {\n    Response::text(\"hi\")\n}\n",
        ),
        (
            "app/route.rs",
            "pub async fn handler(req: &mut NextApiRequest, res: &mut NextApiResponse) -> Result<()> {\n    Ok(())\n}\n",
        ),
        (
            "app/items/route.rs",
            "pub fn post(req: NextRequest) {\n}\n",
        ),
    ] {
        diagnostics.extend(analyze_source(file, text, Router::App, Front::default()).unwrap_err());
    }
    let report = AnalysisReport { diagnostics };
    insta::assert_snapshot!("app_report", render(&report, ReportStyle::Plain));
}

#[test]
fn both_routers_are_analysed_together_and_all_problems_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let write = |f: &str, t: &str| {
        let p = tmp.path().join(f);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, t).unwrap();
    };
    write(
        "api/hello.rs",
        "pub async fn handler(req: &mut NextApiRequest, res: &mut NextApiResponse) -> Result { Ok(()) }\n",
    );
    write("app/route.rs", GET);
    write(
        "app/hooks/[id]/route.rs",
        "nextr::config! { body_parser: false }\npub async fn Post() -> Response { Response::empty() }\n",
    );
    write(
        "app/items/route.rs",
        "pub async fn post(req: NextRequest) {}\n",
    );
    let files = [
        "api/hello.rs",
        "app/route.rs",
        "app/hooks/[id]/route.rs",
        "app/items/route.rs",
    ];
    let table = RouteTable::from_files(files).unwrap();
    let report = analyze_routes(tmp.path(), &table, |_| Front::default()).unwrap_err();
    assert_eq!(report.to_string(), "3 problems in 2 route files");
    let mut found: Vec<(String, &str)> = report
        .diagnostics
        .iter()
        .map(|d| (d.location(), d.problem.code()))
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            (
                "app/hooks/[id]/route.rs:1:18".to_owned(),
                "nextr::config::router"
            ),
            (
                "app/hooks/[id]/route.rs:2:14".to_owned(),
                "nextr::method::case"
            ),
            (
                "app/items/route.rs:1:35".to_owned(),
                "nextr::method::return"
            ),
        ]
    );

    let table = RouteTable::from_files(["api/hello.rs", "app/route.rs"]).unwrap();
    let analyses = analyze_routes(tmp.path(), &table, |_| Front::default()).unwrap();
    let routers: Vec<(&str, Router, usize)> = analyses
        .iter()
        .map(|a| (a.file.as_str(), a.router, a.methods.len()))
        .collect();
    assert!(routers.contains(&("api/hello.rs", Router::Pages, 0)));
    assert!(routers.contains(&("app/route.rs", Router::App, 1)));
}
