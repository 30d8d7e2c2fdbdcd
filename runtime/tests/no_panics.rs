//! Bad input never panics the router: arbitrary bytes (lossily made UTF-8) as request targets,
//! file names, page patterns and query strings, plus structured inputs that reach the deeper
//! code paths (brackets, dots, percent signs, slashes).

use nextr::routing::{
    complete, decode_uri_component, normalize, route_for_file, MatchedView, Normalized, Query,
    Resolution, RoutePattern, RouteTable,
};
use proptest::prelude::*;

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A tree with every kind of route, the shape most requests can reach deep into.
fn table() -> RouteTable {
    RouteTable::from_files([
        "api/index.rs",
        "api/hello.rs",
        "api/post/create.rs",
        "api/post/[pid].rs",
        "api/post/[pid]/[comment].rs",
        "api/post/[...slug].rs",
        "api/note/[[...slug]].rs",
        "api/[org]/[repo]/settings.rs",
        "api/[org]/[repo]/[...path].rs",
        "api/t07/[foo-bar].rs",
        "api/t07/post-[id].rs",
        "api/v9/[]/[x].rs",
    ])
    .unwrap()
}

/// Exercises everything a resolution hands out.
fn use_resolution(r: Resolution<'_>) {
    let status = r.status();
    assert!([200, 308, 400, 404, 500].contains(&status));
    match r {
        Resolution::Route(m) => {
            assert!(m.url().starts_with('/'), "{}", m.url());
            match &m.view {
                MatchedView::Pages(p) => serde_json::to_string(&p.query).unwrap(),
                MatchedView::App(a) => {
                    assert!(a.pathname.starts_with('/'), "{}", a.pathname);
                    serde_json::to_string(&(&a.params, &a.search_params)).unwrap()
                }
            };
        }
        Resolution::Redirect(location) => assert!(!location.is_empty()),
        Resolution::NotFound | Resolution::BadRequest | Resolution::ServerError => {}
    }
}

/// Request-target-like strings: the characters the normaliser and matcher care about.
fn target_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("/".to_string()),
        Just("//".to_string()),
        Just("\\".to_string()),
        Just(".".to_string()),
        Just("..".to_string()),
        Just("%2e".to_string()),
        Just("%2E%2e".to_string()),
        Just("%".to_string()),
        Just("%2F".to_string()),
        Just("%ZZ".to_string()),
        Just("%C3".to_string()),
        Just("%F0%9F%98%80".to_string()),
        Just("?".to_string()),
        Just("#".to_string()),
        Just("&".to_string()),
        Just("=".to_string()),
        Just("+".to_string()),
        Just("[pid]".to_string()),
        Just("[...slug]".to_string()),
        Just("[[...slug]]".to_string()),
        Just("index".to_string()),
        Just("api".to_string()),
        Just("post".to_string()),
        Just("note".to_string()),
        Just("pid=".to_string()),
        Just("slug=".to_string()),
        Just(" ".to_string()),
        Just("\t".to_string()),
        Just("\u{0}".to_string()),
        Just("é".to_string()),
        Just(".rsc".to_string()),
        "[a-zA-Z0-9]{1,3}",
        any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..24).prop_map(|p| p.concat())
}

/// File-path-like strings: what a scan of `api/` could hand to the table.
fn file_like() -> impl Strategy<Value = String> {
    let segment = prop_oneof![
        Just("index".to_string()),
        Just("[id]".to_string()),
        Just("[pid]".to_string()),
        Just("[...slug]".to_string()),
        Just("[[...slug]]".to_string()),
        Just("[[id]]".to_string()),
        Just("[..id]".to_string()),
        Just("[…id]".to_string()),
        Just("[]".to_string()),
        Just("[...]".to_string()),
        Just("[[...]]".to_string()),
        Just("[[[...x]]]".to_string()),
        Just("post-[id]".to_string()),
        Just("[a]b[c]".to_string()),
        Just("_x".to_string()),
        Just(".x".to_string()),
        Just("(g)".to_string()),
        Just("%5Fx".to_string()),
        Just("".to_string()),
        "[a-z\\[\\]._…-]{0,8}",
    ];
    (
        prop::collection::vec(segment, 0..5),
        prop::bool::weighted(0.9),
        prop::bool::ANY,
    )
        .prop_map(|(segs, rs, app)| {
            // Half the files are App Router route handlers, so trees mix both routers.
            let mut f = String::from(if app { "app" } else { "api" });
            for s in segs {
                f.push('/');
                f.push_str(&s);
            }
            if app {
                f.push_str("/route");
            }
            if rs {
                f.push_str(".rs");
            }
            f
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn resolve_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let table = table();
        let target = lossy(&bytes);
        use_resolution(table.resolve(&target));
        use_resolution(table.resolve(&format!("/api/post/{target}")));
        use_resolution(table.resolve(&format!("/api/note/{target}")));
    }

    #[test]
    fn resolve_never_panics_on_target_like_strings(target in target_like()) {
        let table = table();
        use_resolution(table.resolve(&target));
        use_resolution(table.resolve(&format!("/api/{target}")));
        use_resolution(table.resolve(&format!("/api/post/{target}")));
        use_resolution(table.resolve(&format!("/api/o/r/{target}")));
        if let Ok(Normalized::Path { pathname, query }) = normalize(&target) {
            for route in table.routes() {
                for literal in [false, true] {
                    if let Some(Ok(m)) = complete(&route.pattern, &pathname, query, literal) {
                        serde_json::to_string(&m.query).unwrap();
                    }
                }
            }
        }
    }

    #[test]
    fn table_never_panics_on_byte_file_names(
        files in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 0..12),
    ) {
        let files: Vec<String> = files.iter().map(|f| lossy(f)).collect();
        for f in &files {
            let _ = route_for_file(f);
            let _ = route_for_file(&format!("api/{f}"));
            let _ = route_for_file(&format!("app/{f}/route.rs"));
        }
        let _ = RouteTable::from_files(&files);
        let prefixed: Vec<String> = files.iter().map(|f| format!("api/{f}.rs")).collect();
        if let Ok(table) = RouteTable::from_files(&prefixed) {
            for route in table.routes() {
                use_resolution(table.resolve(route.page()));
            }
        }
    }

    #[test]
    fn table_never_panics_on_file_like_trees(files in prop::collection::vec(file_like(), 0..12)) {
        match RouteTable::from_files(&files) {
            Ok(table) => {
                for route in table.routes() {
                    use_resolution(table.resolve(route.page()));
                    use_resolution(table.resolve(&format!("{}/x/y", route.page())));
                    use_resolution(table.resolve(&format!("{}?a=1", route.page())));
                }
                let _ = table.summaries();
            }
            Err(e) => {
                // Every problem names at least one file, and the report renders.
                prop_assert!(!e.problems.is_empty());
                for p in &e.problems {
                    prop_assert!(!p.files.is_empty(), "{}", p);
                }
                let _ = e.to_string();
            }
        }
    }

    #[test]
    fn patterns_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..60), page in file_like()) {
        let text = lossy(&bytes);
        let _ = RoutePattern::parse(&text);
        let _ = RoutePattern::parse(&format!("/{text}"));
        if let Some((_, page)) = route_for_file(&page) {
            if let Ok(p) = RoutePattern::parse(&page) {
                let _ = p.kind();
                let _ = p.params().count();
                if let Some(Ok(m)) = complete(&p, &page, &text, true) {
                    serde_json::to_string(&m.query).unwrap();
                }
            }
        }
    }

    #[test]
    fn query_parsing_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let raw = lossy(&bytes);
        for q in [Query::parse(&raw), Query::parse_public(&raw)] {
            let s = q.to_search_string(|k| k.len() == 1);
            // What the serialiser writes parses back to the same keys.
            let again = Query::parse(&q.to_search_string(|_| false));
            prop_assert_eq!(again.len(), q.len(), "{:?} -> {:?}", raw, s);
            serde_json::to_string(&q).unwrap();
        }
        let _ = decode_uri_component(&raw);
        let _ = normalize(&raw);
    }
}
