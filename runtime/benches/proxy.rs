//! What `proxy.rs` costs per invocation: one API Gateway HTTP API (payload 2.0) event →
//! response payload for an App Router hello route, without a proxy, and with a pass-through
//! proxy whose matcher takes the request (`/api/:path*`; the proxy returns
//! `NextResponse::next()`), in the same run. The difference is the proxy's cost: the matcher,
//! the proxy's `NextRequest` (headers copied, `x-forwarded-*`, cookies, URL), the boxed call
//! under the deadline and the panic guard. Also with a proxy that adds a response header (the
//! usual `NextResponse::next().header(…)`), and with one whose matcher does not take the
//! request (only the matcher runs). None includes the Runtime API round trip.

use criterion::{criterion_group, criterion_main, Criterion};
use nextr::app::{AppHandlers, AppRoute};
use nextr::manifest::{ProxyBundle, ProxyRoute};
use nextr::proxy::matcher::MatcherSpec;
use nextr::proxy::prelude::*;
use nextr::routing::Router;
use nextr::testing::TestRoute;

/// An API Gateway HTTP API (payload 2.0) event for `GET /api/hello?name=world&x=1&x=2`,
/// shared by the runtime's benchmarks.
const EVENT: &str = include_str!("fixtures/hello-event.json");

async fn hello() -> Response {
    Response::json(&json!({ "message": "Hello from Next.js!" }))
}

async fn pass_through(_req: NextRequest) -> NextResponse {
    NextResponse::next()
}

async fn tagging(req: NextRequest) -> NextResponse {
    NextResponse::next().header("x-proxy-ran", req.next_url().pathname())
}

fn route() -> TestRoute {
    TestRoute::app(
        "/api/hello",
        AppRoute {
            handlers: AppHandlers {
                get: Some(nextr::app_handler!(hello, none)),
                ..AppHandlers::default()
            },
            pages_router: false,
        },
    )
}

fn bundle(source: &str) -> ProxyBundle {
    ProxyBundle {
        file: "proxy.rs".into(),
        matcher: Some(vec![MatcherSpec::source(source)]),
        pages_router: false,
        routes: vec![ProxyRoute {
            page: "/api/hello".into(),
            router: Router::App,
            function: Some("api-hello".into()),
        }],
        fallback: "default".into(),
    }
}

fn proxy(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let plain = route();
    let proxied = route()
        .with_proxy(nextr::proxy_handler!(pass_through), &bundle("/api/:path*"))
        .unwrap();
    let tagged = route()
        .with_proxy(nextr::proxy_handler!(tagging), &bundle("/api/:path*"))
        .unwrap();
    let unmatched = route()
        .with_proxy(nextr::proxy_handler!(tagging), &bundle("/admin/:path*"))
        .unwrap();

    let answer = |route: &TestRoute| rt.block_on(route.invoke_event_raw(EVENT)).unwrap();
    assert!(answer(&plain).contains("Hello from Next.js!"));
    assert_eq!(answer(&proxied), answer(&plain));
    assert!(answer(&tagged).contains(r#""x-proxy-ran":"/api/hello""#));
    assert_eq!(answer(&unmatched), answer(&plain));

    let mut group = c.benchmark_group("proxy");
    for (name, route) in [
        ("app hello, no proxy", &plain),
        ("app hello, pass-through proxy", &proxied),
        ("app hello, proxy adding a header", &tagged),
        ("app hello, proxy not matched", &unmatched),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| rt.block_on(route.invoke_event_raw(std::hint::black_box(EVENT))))
        });
    }
    group.finish();
}

criterion_group!(benches, proxy);
criterion_main!(benches);
