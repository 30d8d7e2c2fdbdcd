//! Fuzz-style properties: random bodies, content types, headers, cookies, query strings, paths
//! and whole Lambda events never make the runtime panic, and always produce a response.

use nextr::config::{BodyParser, RouteConfig, SizeLimit};
use nextr::prelude::*;
use nextr::testing::TestRoute;
use proptest::prelude::*;
use serde_json::Value as Json;

/// Touches everything a handler can read.
async fn everything(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    let typed = req.json::<Json>().is_ok();
    let headers: Vec<(String, String)> = req
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let first = req
        .query
        .iter()
        .next()
        .map(|(k, _)| k.to_owned())
        .unwrap_or_default();
    res.set_header("x-first-key", first.replace(|c: char| c.is_control(), ""))
        .ok();
    res.json(&json!({
        "url": req.url,
        "query": req.query,
        "cookies": req.cookies,
        "body": req.body,
        "typed": typed,
        "headers": headers,
        "js": req.body.js_type(),
    }))
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn routes() -> Vec<TestRoute> {
    let small = RouteConfig {
        body_parser: BodyParser::Enabled {
            size_limit: Some(SizeLimit::Text("64b".into())),
        },
        ..Default::default()
    };
    vec![
        TestRoute::new("/api/f/[id]", nextr::handler!(everything)),
        TestRoute::new("/api/f/[...all]", nextr::handler!(everything)).with_config(small),
        TestRoute::new("/api/f/[[...opt]]", nextr::handler!(everything)),
        TestRoute::new("/api/f/static", nextr::handler!(everything)),
    ]
}

fn content_type() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("application/json".to_owned()),
        Just("application/ld+json; charset=utf-8".to_owned()),
        Just("application/x-www-form-urlencoded".to_owned()),
        Just("text/plain; charset=latin1".to_owned()),
        Just("text/plain; charset=utf-16le".to_owned()),
        Just("text/plain; charset=shift_jis".to_owned()),
        Just("multipart/form-data; boundary=x".to_owned()),
        "[ -~]{0,40}",
        "(application|text)/[a-z+.-]{1,12}(; ?[a-z]{1,8}=(\"[ -~]{0,10}\"|[a-z0-9-]{1,10})){0,3};?",
    ]
}

fn path() -> impl Strategy<Value = String> {
    prop_oneof![
        "/api/f(/[a-zA-Z0-9%._~!$&'()*+,;=:@\\[\\]-]{0,12}){0,4}",
        "/api/f(/(%[0-9A-Fa-f]{0,2}|%ZZ|%E0%A4%A|%C3|%2[Ff]|\\.\\.|\\.|%2e)){0,5}/?",
        "/[^?#]{0,30}",
        "\\PC{0,30}",
    ]
}

fn query() -> impl Strategy<Value = String> {
    prop_oneof![
        "([a-z_\\[\\]]{0,4}(=[a-z0-9%+;&]{0,6})?&?){0,6}",
        "[ -~]{0,40}",
        "(nxtP[a-z]{0,3}|__proto__|nextInternalLocale)=[0-9]",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn requests_never_panic(
        method in prop_oneof![Just("GET"), Just("POST"), Just("HEAD"), Just("PROPFIND")],
        path in path(),
        query in query(),
        ct in content_type(),
        cookie in "[ -~]{0,60}",
        body in proptest::collection::vec(any::<u8>(), 0..200),
        inm in prop_oneof![Just(None), Just(Some("*".to_owned())), "\"[a-z0-9]{0,12}\"".prop_map(Some)],
        route in 0usize..4,
    ) {
        let routes = routes();
        let target = if query.is_empty() { path } else { format!("{path}?{query}") };
        let res = rt().block_on(async {
            let mut req = routes[route]
                .request(method.parse().unwrap(), &target)
                .header("content-type", ct.as_bytes())
                .header("cookie", cookie.as_bytes())
                .body(body);
            if let Some(v) = inm {
                req = req.header("if-none-match", v.as_bytes());
            }
            req.send().await
        });
        let res = res.expect("valid test request");
        prop_assert!((200..600).contains(&res.status), "{}", res.status);
    }

    #[test]
    fn lambda_events_never_panic(
        raw_path in prop_oneof![path(), "\\PC{0,20}"],
        raw_query in query(),
        stage in prop_oneof![Just("$default".to_owned()), "[a-z]{1,5}"],
        cookies in proptest::collection::vec("[ -~]{0,20}", 0..4),
        body in "\\PC{0,60}",
        b64 in any::<bool>(),
        header_name in "[a-zA-Z0-9-]{1,12}",
        header_value in "[ -~]{0,30}",
        v1 in any::<bool>(),
    ) {
        let route = TestRoute::new("/api/f/[[...opt]]", nextr::handler!(everything));
        let event = if v1 {
            json!({
                "resource": "/{proxy+}", "path": raw_path, "httpMethod": "POST",
                "headers": { header_name.clone(): header_value, "cookie": cookies.join("; ") },
                "multiValueHeaders": {},
                "queryStringParameters": { "q": raw_query },
                "multiValueQueryStringParameters": { "q": [raw_query, "x"], header_name: ["y"] },
                "requestContext": { "stage": stage, "httpMethod": "POST", "identity": { "sourceIp": "1.2.3.4" }, "requestId": "r" },
                "body": body, "isBase64Encoded": b64
            })
        } else {
            json!({
                "version": "2.0", "routeKey": "$default", "rawPath": raw_path, "rawQueryString": raw_query,
                "cookies": cookies,
                "headers": { header_name: header_value, "content-type": "application/json" },
                "requestContext": { "http": { "method": "POST", "path": "/", "sourceIp": "1.2.3.4" }, "stage": stage, "requestId": "r" },
                "body": body, "isBase64Encoded": b64
            })
        };
        let out = rt().block_on(route.invoke_event(&event.to_string()));
        let res = out.expect("an HTTP event always gets a response");
        let status = res["statusCode"].as_u64().unwrap_or_default();
        prop_assert!((200..600).contains(&status), "{res}");
    }

    #[test]
    fn cookie_headers_never_panic(header in "\\PC{0,80}") {
        let c = Cookies::parse(&header);
        prop_assert!(c.len() <= header.len());
    }
}
