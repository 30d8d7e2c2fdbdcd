//! A static App Router route's two lives, as `nextr build` and Lambda run its bootstrap:
//! `run_app` with `NEXTR_PRERENDER_OUT` set prerenders the GET handler with Next's synthetic
//! request and writes the response file; without it, a static route whose bundle lacks the
//! file fails at start, naming the route and the fix. One test, since both read the process's
//! environment.

use std::sync::atomic::{AtomicU32, Ordering};

use nextr::app::{AppHandlers, AppRoute, PrerenderedFile};
use nextr::config::{Dynamic, RouteConfig};
use nextr::manifest::PRERENDER_OUT_ENV;
use nextr::RouteSpec;

mod route {
    use super::*;
    use nextr::app::prelude::*;

    pub static CALLS: AtomicU32 = AtomicU32::new(0);

    /// What the synthetic request looks like from inside.
    pub async fn get(req: NextRequest) -> Response {
        CALLS.fetch_add(1, Ordering::SeqCst);
        Response::json(&json!({
            "url": req.url(),
            "search": req.next_url().search(),
            "headers": req.headers().len(),
            "cookies": req.cookies().len(),
        }))
        .header("x-built", "yes")
    }
}

fn spec(page: &'static str) -> RouteSpec {
    RouteSpec {
        page,
        file: "app/api/static/route.rs",
        config: RouteConfig {
            dynamic: Some(Dynamic::ForceStatic),
            ..RouteConfig::default()
        },
    }
}

fn app() -> AppRoute {
    AppRoute {
        handlers: AppHandlers {
            get: Some(nextr::app_handler!(route::get, req)),
            ..AppHandlers::default()
        },
        pages_router: false,
    }
}

#[tokio::test(flavor = "current_thread")]
async fn prerender_writes_the_file_and_serving_needs_it() {
    let dir = std::env::temp_dir().join(format!("nextr-prerender-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("prerendered.json");
    std::env::set_var(PRERENDER_OUT_ENV, &out);

    nextr::lambda::run_app(spec("/api/static"), app())
        .await
        .unwrap();
    assert_eq!(route::CALLS.load(Ordering::SeqCst), 1);
    let file: PrerenderedFile = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(file.status, 200);
    assert!(file
        .headers
        .contains(&("content-type".into(), "application/json".into())));
    assert!(file.headers.contains(&("x-built".into(), "yes".into())));
    use base64::Engine as _;
    let body = base64::engine::general_purpose::STANDARD
        .decode(&file.body_base64)
        .unwrap();
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({
            "url": "http://localhost:3000/api/static", "search": "", "headers": 0, "cookies": 0
        })
    );

    // A dynamic pattern has nothing to prerender.
    let e = nextr::lambda::run_app(spec("/api/static/[id]"), app())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("generateStaticParams"), "{e}");

    // Serving: the bundle's prerendered.json sits beside the executable; here it does not.
    std::env::remove_var(PRERENDER_OUT_ENV);
    for (var, value) in [
        ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9"),
        ("AWS_LAMBDA_FUNCTION_NAME", "static"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
    ] {
        std::env::set_var(var, value);
    }
    let e = nextr::lambda::run_app(spec("/api/static"), app())
        .await
        .unwrap_err()
        .to_string();
    // `start_app` prints it after the route: `nextr: route /api/static: cannot read …`.
    assert!(
        e.starts_with("cannot read the prerendered response "),
        "{e}"
    );
    assert!(e.contains("prerendered.json"), "{e}");
    assert!(e.ends_with("run `nextr build`"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}
