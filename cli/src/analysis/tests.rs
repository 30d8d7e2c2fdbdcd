use super::*;
use crate::report::{render, ReportStyle};
use nextr::config::{BodyParser, Disabled, ResponseLimit, SizeLimit};
use nextr::manifest::Front;

const HANDLER: &str = "pub async fn handler(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {\n    Ok(())\n}\n";

fn ok(text: &str) -> RouteAnalysis {
    match analyze_source("api/x.rs", text, Router::Pages, Front::default()) {
        Ok(a) => a,
        Err(d) => panic!(
            "unexpected problems: {:#?}",
            d.iter()
                .map(|d| (d.location(), d.to_string()))
                .collect::<Vec<_>>()
        ),
    }
}

fn problems(text: &str) -> Vec<(String, Problem)> {
    analyze_source("api/x.rs", text, Router::Pages, Front::default())
        .expect_err("expected problems")
        .into_iter()
        .map(|d| (d.location(), d.problem))
        .collect()
}

fn config_of(body: &str) -> RouteConfig {
    ok(&format!("nextr::config! {{ {body} }}\n{HANDLER}")).config
}

fn config_problems(body: &str) -> Vec<(String, Problem)> {
    problems(&format!("nextr::config! {{ {body} }}\n{HANDLER}"))
}

fn plain(diagnostic: &dyn miette::Diagnostic) -> String {
    render(diagnostic, ReportStyle::Plain)
}

#[test]
fn the_design_example_is_read() {
    let a = ok(r#"use nextr::prelude::*;

nextr::config! {
    max_duration: 10,                        // seconds
    body_parser: { size_limit: "500kb" },    // or `body_parser: false`
}

pub async fn handler(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    let pid = req.query.str("pid").unwrap_or_default();
    res.status(200).json(&json!({ "pid": pid }))
}
"#);
    assert!(a.declares_config);
    assert_eq!(a.config.max_duration, Some(10));
    assert_eq!(
        a.config.body_parser,
        BodyParser::Enabled {
            size_limit: Some(SizeLimit::Text("500kb".into()))
        }
    );
    assert_eq!(a.file, "api/x.rs");
}

#[test]
fn no_config_means_defaults() {
    let a = ok(HANDLER);
    assert!(!a.declares_config);
    assert_eq!(a.config, RouteConfig::default());
}

#[test]
fn handler_spellings_are_accepted() {
    for sig in [
        "pub async fn handler(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()>",
        "pub async fn handler(_: &mut nextr::NextApiRequest, _res: &mut nextr::NextApiResponse) -> Result<()>",
        "pub async fn handler(mut req: &mut nextr::prelude::NextApiRequest, res: &mut ::nextr::prelude::NextApiResponse) -> nextr::Result",
        "pub async fn handler<'a>(req: &'a mut NextApiRequest, res: &'a mut NextApiResponse) -> Result<(), nextr::Error>",
        "pub(crate) async fn handler(req: &mut (NextApiRequest), res: &mut NextApiResponse) -> Result",
        "pub async fn handler(req: &mut NextApiRequest<'_>, res: &mut NextApiResponse<'_>) -> Result",
    ] {
        ok(&format!("{sig} {{ Ok(()) }}\n"));
    }
}

#[test]
fn a_handler_may_return_its_own_error_type() {
    // `nextr::IntoErrorResponse` errors: the compiler checks the trait, the analysis the shape.
    for ret in [
        "Result<(), ApiError>",
        "Result<(), notes::ApiError>",
        "std::result::Result<(), crate::errors::ApiError>",
        "Result<(), nextr::ErrorResponse>",
    ] {
        ok(&format!(
            "pub async fn handler(req: &mut NextApiRequest, res: &mut NextApiResponse) -> {ret} {{ Ok(()) }}\n"
        ));
    }
    ok("use notes::ApiError as E;\ntype Out = Result<(), E>;\npub async fn handler(req: &mut NextApiRequest, res: &mut NextApiResponse) -> Out { Ok(()) }\n");
    assert_eq!(
        problems("pub async fn handler(req: &mut NextApiRequest, res: &mut NextApiResponse) -> Result<Note, ApiError> { Err(ApiError) }\n"),
        [(
            "api/x.rs:1:78".into(),
            Problem::HandlerReturn("`Result<Note, ApiError>`".into())
        )]
    );
}

#[test]
fn renames_and_type_aliases_are_followed() {
    ok(
        r#"use nextr::{NextApiRequest as Req, NextApiResponse as Res};
type Out = nextr::Result<()>;
pub async fn handler(req: &mut Req, res: &mut Res) -> Out { Ok(()) }
"#,
    );
    assert_eq!(
        problems("pub async fn handler(a: &mut NextApiRequest<String>, b: &mut NextApiResponse) -> Result { Ok(()) }\n")[0].1,
        Problem::HandlerParam {
            position: 1,
            expected: "NextApiRequest",
            found: "&mut NextApiRequest<String>".into()
        }
    );
    let p = problems(
        "use std::string::String as Req;\npub async fn handler(req: &mut Req, res: &mut NextApiResponse) -> Result { Ok(()) }\n",
    );
    assert_eq!(
        p,
        [(
            "api/x.rs:2:27".into(),
            Problem::HandlerParam {
                position: 1,
                expected: "NextApiRequest",
                found: "&mut Req".into()
            }
        )]
    );
}

#[test]
fn a_missing_handler_is_reported_at_the_top() {
    assert_eq!(
        problems("// nothing here\nfn main() {}\n"),
        [("api/x.rs:1:1".into(), Problem::MissingHandler)]
    );
    assert_eq!(
        problems("pub use crate::shared::handler;\n"),
        [(
            "api/x.rs:1:24".into(),
            Problem::HandlerNotFn("an import (define it here, calling the shared code)")
        )]
    );
    assert_eq!(
        problems("pub const handler: u8 = 1;\n"),
        [("api/x.rs:1:11".into(), Problem::HandlerNotFn("a constant"))]
    );
}

#[test]
fn every_signature_problem_is_reported() {
    let p = problems("fn handler(req: NextApiRequest) {}\n");
    assert_eq!(
        p,
        [
            ("api/x.rs:1:1".into(), Problem::HandlerNotPublic),
            ("api/x.rs:1:1".into(), Problem::HandlerNotAsync),
            ("api/x.rs:1:11".into(), Problem::HandlerArity(1)),
        ]
    );
    let p = problems(
        "pub async fn handler(res: &mut NextApiResponse, req: &NextApiRequest) -> anyhow::Result<String> { Ok(String::new()) }\n",
    );
    assert_eq!(
        p,
        [
            (
                "api/x.rs:1:27".into(),
                Problem::HandlerParam {
                    position: 1,
                    expected: "NextApiRequest",
                    found: "&mut NextApiResponse".into()
                }
            ),
            (
                "api/x.rs:1:54".into(),
                Problem::HandlerParam {
                    position: 2,
                    expected: "NextApiResponse",
                    found: "&NextApiRequest".into()
                }
            ),
            (
                "api/x.rs:1:74".into(),
                Problem::HandlerReturn("`anyhow::Result<String>`".into())
            ),
        ]
    );
    let p = problems(
        "pub async unsafe fn handler<T>(a: &mut NextApiRequest, b: &mut NextApiResponse) -> Result { Ok(()) }\n",
    );
    assert_eq!(
        p,
        [
            ("api/x.rs:1:11".into(), Problem::HandlerQualifier("unsafe")),
            ("api/x.rs:1:28".into(), Problem::HandlerGeneric),
        ]
    );
    assert_eq!(
        problems("pub(self) async fn handler(a: &mut NextApiRequest, b: &mut NextApiResponse) -> Result { Ok(()) }\n"),
        [("api/x.rs:1:17".into(), Problem::HandlerNotPublic)]
    );
}

#[test]
fn config_values_of_every_key() {
    let c = config_of(
        r#"max_duration: 30, memory: 128, body_parser: false, response_limit: "8mb", external_resolver: true,"#,
    );
    assert_eq!(c.max_duration, Some(30));
    assert_eq!(c.memory, Some(128));
    assert_eq!(c.body_parser, BodyParser::Disabled(Disabled));
    assert_eq!(
        c.response_limit,
        ResponseLimit::Limit(SizeLimit::Text("8mb".into()))
    );
    assert!(c.external_resolver);

    let c = config_of("body_parser: true, response_limit: false, memory: 10240, max_duration: 1");
    assert_eq!(c.body_parser, BodyParser::default());
    assert_eq!(c.response_limit, ResponseLimit::Disabled(Disabled));
    assert_eq!((c.memory, c.max_duration), (Some(10240), Some(1)));

    let c = config_of("body_parser: { size_limit: 4096 }, response_limit: 1000");
    assert_eq!(
        c.body_parser,
        BodyParser::Enabled {
            size_limit: Some(SizeLimit::Bytes(4096))
        }
    );
    assert_eq!(
        c.response_limit,
        ResponseLimit::Limit(SizeLimit::Bytes(1000))
    );
    assert_eq!(
        config_of("body_parser: {}").body_parser,
        BodyParser::default()
    );
    assert_eq!(
        config_of("response_limit: true").response_limit,
        ResponseLimit::Default
    );
    assert_eq!(config_of("").max_duration, None);

    // The bare macro name and parentheses are the same macro.
    let a = ok(&format!("config!(max_duration: 3);\n{HANDLER}"));
    assert_eq!(a.config.max_duration, Some(3));
    assert!(a.declares_config);
}

#[test]
fn config_problems_are_located() {
    let p = config_problems("maxDuration: 10");
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].0, "api/x.rs:1:18");
    assert!(matches!(
        &p[0].1,
        Problem::ConfigUnknownKey { key, suggestion: Some("max_duration"), table: "config!", .. } if key == "maxDuration"
    ));
    assert!(matches!(
        &config_problems("colour: 1")[0].1,
        Problem::ConfigUnknownKey {
            suggestion: None,
            ..
        }
    ));
    assert_eq!(
        config_problems("memory: 512, memory: 256"),
        [(
            "api/x.rs:1:31".into(),
            Problem::ConfigDuplicateKey("memory".into())
        )]
    );
    assert_eq!(
        config_problems("max_duration: \"10\""),
        [(
            "api/x.rs:1:32".into(),
            Problem::ConfigWrongType {
                key: "max_duration".into(),
                expected: "an integer number of seconds",
                found: "a string"
            }
        )]
    );
    let range = |key: &str, value: &str, min, max, unit| Problem::ConfigOutOfRange {
        key: key.into(),
        value: value.into(),
        min,
        max,
        unit,
    };
    assert_eq!(
        config_problems("max_duration: 0")[0].1,
        range("max_duration", "0", 1, 900, "seconds")
    );
    assert_eq!(
        config_problems("max_duration: 901")[0].1,
        range("max_duration", "901", 1, 900, "seconds")
    );
    assert_eq!(
        config_problems("max_duration: -5")[0].1,
        range("max_duration", "-5", 1, 900, "seconds")
    );
    assert_eq!(
        config_problems("memory: 64")[0].1,
        range("memory", "64", 128, 10240, "MB")
    );
    assert_eq!(
        config_problems("memory: 99999999999999999999")[0].1,
        range("memory", "99999999999999999999", 128, 10240, "MB")
    );
    assert_eq!(
        config_problems("max_duration: 1.5")[0].1,
        Problem::ConfigWrongType {
            key: "max_duration".into(),
            expected: "an integer number of seconds",
            found: "a decimal number"
        }
    );
    assert_eq!(
        config_problems("max_duration: TIMEOUT")[0].1,
        Problem::ConfigNotLiteral("max_duration".into())
    );
    assert_eq!(
        config_problems("max_duration: 5 * 60")[0].1,
        Problem::ConfigNotLiteral("max_duration".into())
    );
    assert_eq!(
        config_problems("external_resolver: 1")[0].1,
        Problem::ConfigWrongType {
            key: "external_resolver".into(),
            expected: "`true` or `false`",
            found: "an integer"
        }
    );
    assert_eq!(
        config_problems("body_parser: \"1mb\"")[0].1,
        Problem::ConfigWrongType {
            key: "body_parser".into(),
            expected: "`true`, `false` or `{ size_limit: … }`",
            found: "a string"
        }
    );
    assert!(matches!(
        &config_problems("body_parser: { sizeLimit: \"1mb\" }")[0].1,
        Problem::ConfigUnknownKey {
            table: "body_parser",
            suggestion: Some("size_limit"),
            ..
        }
    ));
    assert_eq!(
        config_problems("body_parser: { size_limit: \"lots\" }")[0].1,
        Problem::ConfigBadSize {
            key: "size_limit".into(),
            value: "lots".into()
        }
    );
    assert_eq!(
        config_problems("response_limit: -1")[0].1,
        Problem::ConfigBadSize {
            key: "response_limit".into(),
            value: "-1".into()
        }
    );
    assert_eq!(
        config_problems("max_duration 10"),
        [(
            "api/x.rs:1:31".into(),
            Problem::ConfigSyntax("expected `:`".into())
        )]
    );
    // Every problem of one invocation is reported, not just the first.
    assert_eq!(
        config_problems("memory: 1, max_duration: 0, nope: 1").len(),
        3
    );
}

#[test]
fn a_second_config_is_an_error() {
    let p = problems(&format!(
        "nextr::config! {{ memory: 256 }}\nconfig! {{ memory: 512 }}\n{HANDLER}"
    ));
    assert_eq!(p, [("api/x.rs:2:1".into(), Problem::ConfigRepeated)]);
}

#[test]
fn config_inside_a_function_or_another_macro_is_ignored() {
    let a = ok(&format!(
        "other::config! {{ whatever }}\nfn f() {{ config! {{ memory: 1 }} }}\n{HANDLER}"
    ));
    assert!(!a.declares_config);
}

#[test]
fn invalid_rust_is_reported_where_syn_says() {
    let p = problems("pub async fn handler( {\n");
    assert_eq!(p.len(), 1);
    assert!(matches!(p[0].1, Problem::Syntax(_)));
}

#[test]
fn locations_count_characters_not_bytes() {
    let p = problems("// é€😀\nconst Ω: u8 = 1; pub fn handler() {}\n");
    // `Ω` is one character but two bytes.
    assert_eq!(p[0].0, "api/x.rs:2:22");
    let p = problems("\u{feff}fn handler(a: &mut NextApiRequest, b: &mut NextApiResponse) -> Result { Ok(()) }\n");
    assert_eq!(
        p,
        [
            ("api/x.rs:1:1".into(), Problem::HandlerNotPublic),
            ("api/x.rs:1:1".into(), Problem::HandlerNotAsync)
        ]
    );
}

#[test]
fn all_files_are_analysed_and_all_problems_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let write = |f: &str, t: &str| {
        let p = tmp.path().join(f);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, t).unwrap();
    };
    write("api/hello.rs", HANDLER);
    write(
        "api/post/[pid].rs",
        "use nextr::prelude::*;\n\nnextr::config! {\n    maxDuration: 10,\n    memory: 64,\n}\n\npub fn handler(req: &mut NextApiRequest, res: &NextApiResponse) -> Result<()> {\n    Ok(())\n}\n",
    );
    write("api/broken.rs", "pub async fn handler(\n");
    write("api/latin1.rs", "");
    std::fs::write(tmp.path().join("api/latin1.rs"), b"// caf\xe9\n").unwrap();
    let table = RouteTable::from_files([
        "api/hello.rs",
        "api/post/[pid].rs",
        "api/broken.rs",
        "api/latin1.rs",
        "api/missing.rs",
    ])
    .unwrap();
    let report = analyze_routes(tmp.path(), &table, |_| Front::default()).unwrap_err();
    assert_eq!(report.to_string(), "7 problems in 4 route files");
    let locations: Vec<String> = report.diagnostics.iter().map(|d| d.location()).collect();
    assert_eq!(
        locations,
        [
            "api/broken.rs:1:21",
            "api/latin1.rs:1:1",
            "api/missing.rs:1:1",
            "api/post/[pid].rs:4:5",
            "api/post/[pid].rs:5:13",
            "api/post/[pid].rs:8:5",
            "api/post/[pid].rs:8:47",
        ]
    );
    insta::assert_snapshot!("report", plain(&report));

    let table = RouteTable::from_files(["api/hello.rs"]).unwrap();
    let analyses = analyze_routes(tmp.path(), &table, |_| Front::default()).unwrap();
    assert_eq!(analyses.len(), 1);
    assert_eq!(analyses[0].file, "api/hello.rs");
}

#[test]
fn a_partial_analysis_keeps_the_good_files_and_splits_the_report_by_file() {
    let tmp = tempfile::tempdir().unwrap();
    let write = |f: &str, t: &str| {
        let p = tmp.path().join(f);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, t).unwrap();
    };
    write("api/hello.rs", HANDLER);
    write("api/new.rs", "");
    write(
        "api/two.rs",
        "nextr::config! { memory: 64 }\nfn handler(a: &mut NextApiRequest, b: &mut NextApiResponse) -> nextr::Result<()> { Ok(()) }\n",
    );
    write("api/zzz.rs", HANDLER);
    let table =
        RouteTable::from_files(["api/hello.rs", "api/new.rs", "api/two.rs", "api/zzz.rs"]).unwrap();
    let (analyses, report) = analyze_routes_partially(tmp.path(), &table, |_| Front::default());
    let files: Vec<&str> = analyses.iter().map(|a| a.file.as_str()).collect();
    assert_eq!(files, ["api/hello.rs", "api/zzz.rs"]);
    let report = report.unwrap();
    assert_eq!(report.to_string(), "4 problems in 2 route files");

    let split = report.split_by_file();
    let summary: Vec<(&str, String, usize)> = split
        .iter()
        .map(|(f, r)| (f.as_str(), r.to_string(), r.diagnostics.len()))
        .collect();
    assert_eq!(
        summary,
        [
            ("api/new.rs", "1 problem in 1 route file".to_owned(), 1),
            ("api/two.rs", "3 problems in 1 route file".to_owned(), 3),
        ]
    );
    // Each part renders only its own file's problems.
    let new = plain(&split[0].1);
    assert!(new.contains("[api/new.rs:1:1]"), "{new}");
    assert!(
        new.contains("the route file has no `pub async fn handler`"),
        "{new}"
    );
    assert!(!new.contains("api/two.rs"), "{new}");
    let two = plain(&split[1].1);
    assert!(two.contains("api/two.rs:1:"), "{two}");
    assert!(!two.contains("api/new.rs"), "{two}");

    // Without problems there is no report.
    let table = RouteTable::from_files(["api/hello.rs"]).unwrap();
    let (analyses, report) = analyze_routes_partially(tmp.path(), &table, |_| Front::default());
    assert_eq!(analyses.len(), 1);
    assert!(report.is_none());
}

#[test]
fn handler_reports_render_with_frames() {
    let d = analyze_source(
        "api/x.rs",
        "use nextr::prelude::*;\n\nasync fn handler(req: &mut NextApiRequest) -> String {\n    String::new()\n}\n",
        Router::Pages,
        Front::default(),
    )
    .unwrap_err();
    let report = AnalysisReport { diagnostics: d };
    insta::assert_snapshot!("handler_report", plain(&report));
}

#[test]
fn config_reports_render_with_frames() {
    let d = analyze_source(
        "api/x.rs",
        "nextr::config! {\n    max_duration: 10,\n    max_duration: 20,\n    bodyParser: false,\n    response_limit: \"huge\",\n}\nnextr::config! {}\npub async fn handler(a: &mut NextApiRequest, b: &mut NextApiResponse) -> Result { Ok(()) }\n",
        Router::Pages,
        Front::default(),
    )
    .unwrap_err();
    let report = AnalysisReport { diagnostics: d };
    insta::assert_snapshot!("config_report", plain(&report));
}

#[test]
fn max_duration_past_the_gateway_is_refused_at_its_line() {
    let found = problems(&format!(
        "nextr::config! {{\n    max_duration: 60,\n}}\n{HANDLER}"
    ));
    assert_eq!(found.len(), 1, "{found:?}");
    let (at, problem) = &found[0];
    assert_eq!(at, "api/x.rs:2:19");
    let text = problem.to_string();
    assert!(
        text.contains("an API Gateway HTTP API ends every integration after 30 s"),
        "{text}"
    );
    assert!(text.contains("lower max_duration to 30 or less"), "{text}");
    // The gateway's own limit is fine.
    assert_eq!(config_of("max_duration: 30").max_duration, Some(30));
}

#[cfg(unix)]
#[test]
fn a_route_file_linked_out_of_the_app_is_never_read() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(
        outside.path().join("passwd"),
        "root:x:0:0:root:/root:/bin/sh\n",
    )
    .unwrap();
    let app = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(app.path().join("api")).unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("passwd"),
        app.path().join("api/leak.rs"),
    )
    .unwrap();
    let table = RouteTable::from_files(["api/leak.rs"]).unwrap();
    let report = analyze_routes(app.path(), &table, |_| Front::default()).unwrap_err();
    let text = plain(&report);
    assert!(!text.contains("root:x"), "{text}");
    assert!(text.contains("outside the app's folder"), "{text}");
    assert!(text.contains("passwd"), "{text}");
}

#[test]
fn max_duration_is_bounded_by_the_routes_front() {
    use nextr::manifest::{GatewayKind, ResponseMode};
    let text = |s: u32| format!("nextr::config! {{ max_duration: {s} }}\n{HANDLER}");
    let front = |gateway, mode, function_url| Front {
        gateway,
        mode,
        function_url,
    };
    let check = |s: u32, f: Front| analyze_source("api/x.rs", &text(s), Router::Pages, f);

    // A streaming REST route and a route with a function URL may run 900 s.
    assert!(check(900, front(GatewayKind::Rest, ResponseMode::Stream, false)).is_ok());
    assert!(check(900, front(GatewayKind::Http, ResponseMode::Stream, true)).is_ok());

    // Behind an HTTP API, 31 s names the ways out: a REST API, or a function URL.
    let d = check(31, Front::default()).unwrap_err();
    let message = match &d[0].problem {
        Problem::MaxDurationOverGateway { value: 31, reason } => reason.clone(),
        other => panic!("{other:?}"),
    };
    assert!(message.contains("an API Gateway HTTP API ends every integration after 30 s"));
    assert!(message.contains("`gateway = \"rest\"`"), "{message}");
    assert!(message.contains("`function_url = true`"), "{message}");
    assert_eq!(d[0].location(), "api/x.rs:1:32");

    // A buffered REST route: 29 s, and the way out is streaming it.
    let d = check(30, front(GatewayKind::Rest, ResponseMode::Buffered, false)).unwrap_err();
    let Problem::MaxDurationOverGateway { reason, .. } = &d[0].problem else {
        panic!("{:?}", d[0].problem)
    };
    assert!(
        reason
            .contains("an API Gateway REST API (buffered mode) ends every integration after 29 s"),
        "{reason}"
    );
    assert!(reason.contains("`response = \"stream\"`"), "{reason}");
}

#[test]
fn every_documented_return_form_is_accepted() {
    for ret in [
        "",
        " -> ()",
        " -> ( )",
        " -> nextr::Result<()>",
        " -> Result<(), ApiError>",
    ] {
        ok(&format!(
            "pub async fn handler(req: &mut NextApiRequest, res: &mut NextApiResponse){ret} {{}}\n"
        ));
    }
    assert_eq!(
        problems(
            "pub async fn handler(req: &mut NextApiRequest, res: &mut NextApiResponse) -> u8 { 1 }\n"
        ),
        [(
            "api/x.rs:1:78".into(),
            Problem::HandlerReturn("`u8`".into())
        )]
    );
}
