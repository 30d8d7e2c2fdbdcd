//! `examples/app` (the App Router example) served by `nextr dev`, end to end over HTTP: the
//! links API (create, list with a tag filter, get, patch, delete, 400s naming the problem,
//! `notFound()`'s bare 404), Next's automatic OPTIONS/HEAD and 405, a multipart upload, the
//! prerendered route, the route group, the event stream and the Pages route beside them.

mod support;

use serde_json::{json, Value};
use support::dev::Dev;
use support::http::Reply;
use support::workspace_root;

fn start(data: &std::path::Path) -> Dev {
    let app = workspace_root().join("examples/app");
    // nextr.toml declares LINKS_DATA_DIR; the developer's value wins under `nextr dev`.
    Dev::start_in(&app, &["."], &[("LINKS_DATA_DIR", data.as_os_str())])
}

fn post_json(dev: &Dev, method: &str, path: &str, body: &str) -> Reply {
    dev.request(
        method,
        path,
        &[("content-type", "application/json")],
        body.as_bytes(),
    )
}

#[track_caller]
fn expect_json(reply: &Reply, status: u16, body: Value) {
    assert_eq!(
        (reply.status, reply.header("content-type"), reply.json()),
        (status, Some("application/json"), body),
        "{}",
        reply.text()
    );
}

#[test]
fn links_api_uploads_and_static_routes() {
    let data = tempfile::tempdir().unwrap();
    let dev = start(data.path());

    expect_json(&dev.get("/api/links"), 200, json!([]));

    // Create: 201, the link cleaned up, its Location.
    let created = post_json(
        &dev,
        "POST",
        "/api/links",
        r#"{"url":" https://nextjs.org/docs ","title":"Docs","tags":["Next","docs"]}"#,
    );
    let link = created.json();
    let id = link["id"].as_str().unwrap().to_owned();
    expect_json(
        &created,
        201,
        json!({"id": id, "url": "https://nextjs.org/docs", "title": "Docs", "tags": ["next", "docs"]}),
    );
    assert_eq!(
        created.header("location"),
        Some(format!("/api/links/{id}").as_str())
    );
    let other = post_json(
        &dev,
        "POST",
        "/api/links",
        r#"{"url":"https://www.rust-lang.org","title":"Rust"}"#,
    )
    .json();

    // List, and filter by tag through searchParams.
    assert_eq!(dev.get("/api/links").json(), json!([link, other]));
    assert_eq!(dev.get("/api/links?tag=next").json(), json!([link]));

    // Bad bodies: V8's JSON message, serde's shape message, the app's validation.
    expect_json(
        &post_json(&dev, "POST", "/api/links", r#"{"a":Invalid}"#),
        400,
        json!({"error": "Unexpected token 'I', \"{\"a\":Invalid}\" is not valid JSON"}),
    );
    let shape = post_json(&dev, "POST", "/api/links", r#"{"title":"x"}"#);
    assert_eq!(shape.status, 400);
    assert!(
        shape.json()["error"].as_str().unwrap().contains("url"),
        "{}",
        shape.text()
    );
    let scheme = post_json(
        &dev,
        "POST",
        "/api/links",
        r#"{"url":"javascript:alert(1)","title":"x"}"#,
    );
    assert_eq!(scheme.status, 400);
    assert!(scheme.text().contains("http or https"), "{}", scheme.text());

    // One link: get, patch, delete; unknown ids are notFound()'s bare 404.
    expect_json(&dev.get(&format!("/api/links/{id}")), 200, link.clone());
    let patched = post_json(
        &dev,
        "PATCH",
        &format!("/api/links/{id}"),
        r#"{"title":"Next.js docs"}"#,
    );
    assert_eq!(patched.json()["title"], "Next.js docs");
    let deleted = dev.request("DELETE", &format!("/api/links/{id}"), &[], b"");
    assert_eq!((deleted.status, deleted.body.len()), (204, 0));
    let gone = dev.get(&format!("/api/links/{id}"));
    assert_eq!((gone.status, gone.body.len()), (404, 0));
    assert_eq!(dev.get("/api/links/not-an-id").status, 404);

    // Next's automatic answers for the methods a file does not export.
    let options = dev.request("OPTIONS", "/api/links", &[], b"");
    assert_eq!(
        (options.status, options.header("allow")),
        (204, Some("GET, HEAD, OPTIONS, POST"))
    );
    let put = dev.request("PUT", "/api/links", &[], b"");
    assert_eq!(
        (put.status, put.header("allow"), put.body.len()),
        (405, None, 0)
    );
    let head = dev.request("HEAD", "/api/links", &[], b"");
    assert_eq!(
        (head.status, head.header("content-type"), head.body.len()),
        (200, Some("application/json"), 0)
    );

    // A multipart upload through request.formData().
    let boundary = "nextr-example-boundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\
         Content-Type: text/plain\r\n\r\nsome text\r\n--{boundary}--\r\n"
    );
    let ct = format!("multipart/form-data; boundary={boundary}");
    let upload = dev.request(
        "POST",
        "/api/upload",
        &[("content-type", &ct)],
        body.as_bytes(),
    );
    assert_eq!(upload.status, 201, "{}", upload.text());
    let answer = upload.json();
    assert_eq!(
        (&answer["file"], &answer["fields"]),
        (
            &json!({"name": "a.txt", "type": "text/plain", "size": 9}),
            &json!({"note": "hello"})
        )
    );
    let stored = data
        .path()
        .join("uploads")
        .join(answer["stored"].as_str().unwrap());
    assert_eq!(std::fs::read(stored).unwrap(), b"some text");
    let not_form = post_json(&dev, "POST", "/api/upload", "{}");
    assert_eq!(not_form.status, 400);
    assert!(not_form
        .text()
        .contains("TypeError: Content-Type was not one of"));

    // The prerendered route: the build-time body, Next's cache headers, the prerendered 405.
    let health = dev.get("/api/health");
    assert_eq!(
        (
            health.status,
            health.header("x-nextjs-cache"),
            health.header("cache-control")
        ),
        (200, Some("HIT"), Some("s-maxage=31536000"))
    );
    assert_eq!(health.json(), json!({"status": "ok", "app": "links"}));
    // Next sends two `Allow` lines; an HTTP API (payload 2.0) has one value per header name
    // and joins them, as the deployed API will.
    let post_health = dev.request("POST", "/api/health", &[], b"");
    assert_eq!(
        (
            post_health.status,
            post_health.all("allow"),
            post_health.text()
        ),
        (405, vec!["GET, HEAD"], "Method Not Allowed".to_owned())
    );

    // The route group is not in the URL; its spelling is a 404.
    expect_json(&dev.get("/api/stats"), 200, json!({"links": 1, "tags": {}}));
    assert_eq!(dev.get("/api/(admin)/stats").status, 404);

    // The event stream (buffered through the HTTP API: the same bytes, at once).
    let events = dev.get("/api/events?count=3");
    assert_eq!(events.header("content-type"), Some("text/event-stream"));
    assert_eq!(
        events.text(),
        "id: 0\ndata: {\"tick\":0}\n\nid: 1\ndata: {\"tick\":1}\n\nid: 2\ndata: {\"tick\":2}\n\n"
    );
    assert!(
        dev.output().contains(".lambda-url.localhost:"),
        "the events route's function URL is printed:\n{}",
        dev.output()
    );

    // The Pages route beside them.
    assert_eq!(
        dev.get("/api/hello").json(),
        json!({"message": "Hello from the Pages Router"})
    );
}
