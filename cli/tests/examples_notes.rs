//! `examples/notes` served by `nextr dev`, end to end over HTTP: create, list, get, replace,
//! patch, delete, validation errors (400), unknown notes (404), other methods (405), and notes
//! that outlive the `nextr dev` process, in the folder `NOTES_DATA_DIR` points at; and its
//! `proxy.rs`, which runs in each function: writes need a bearer token (401 from the proxy
//! otherwise, the route never runs), and the signed-in user reaches the routes in a request
//! header no client can forge.

mod support;

use serde_json::{json, Value};
use support::dev::Dev;
use support::http::Reply;
use support::workspace_root;

const JSON: Option<&str> = Some("application/json; charset=utf-8");

fn start(data: &std::path::Path) -> Dev {
    let notes = workspace_root().join("examples/notes");
    // nextr.toml declares NOTES_DATA_DIR; the developer's value wins under `nextr dev`.
    Dev::start_in(&notes, &["."], &[("NOTES_DATA_DIR", data.as_os_str())])
}

/// alice's token (`nextr.toml` lists its SHA-256).
const ALICE: (&str, &str) = ("authorization", "Bearer demo-token-alice");

/// Sends a request with a JSON body (or none), signed in as alice.
fn call(dev: &Dev, method: &str, path: &str, body: Option<&str>) -> Reply {
    call_as(dev, &[ALICE], method, path, body)
}

/// Sends a request with a JSON body (or none) and these headers.
fn call_as(
    dev: &Dev,
    headers: &[(&str, &str)],
    method: &str,
    path: &str,
    body: Option<&str>,
) -> Reply {
    let mut headers = headers.to_vec();
    if body.is_some() {
        headers.push(("content-type", "application/json"));
    }
    dev.request(method, path, &headers, body.unwrap_or_default().as_bytes())
}

/// Asserts the status, the JSON content type and the exact body bytes.
#[track_caller]
fn expect(reply: &Reply, status: u16, body: &str) {
    assert_eq!(
        (
            reply.status,
            reply.header("content-type"),
            reply.text().as_str()
        ),
        (status, JSON, body),
    );
}

fn note(id: &str, title: &str, body: &str) -> String {
    json!({ "id": id, "title": title, "body": body, "author": "alice" }).to_string()
}

#[test]
fn notes_api_end_to_end() {
    let data = tempfile::tempdir().unwrap();
    let dev = start(data.path());

    // Empty at first.
    expect(&call(&dev, "GET", "/api/notes", None), 200, "[]");

    // Create: 201, the note, its Location.
    let created = call(
        &dev,
        "POST",
        "/api/notes",
        Some(r#"{"title":"First","body":"hello"}"#),
    );
    let first: Value = serde_json::from_slice(&created.body).unwrap();
    let id1 = first["id"].as_str().unwrap().to_owned();
    assert!(
        id1.len() == 16 && id1.bytes().all(|b| b.is_ascii_hexdigit()),
        "{id1}"
    );
    expect(&created, 201, &note(&id1, "First", "hello"));
    let location = format!("/api/notes/{id1}");
    assert_eq!(created.header("location"), Some(location.as_str()));

    // The title is trimmed; the body is optional.
    let created = call(
        &dev,
        "POST",
        "/api/notes",
        Some(r#"{"title":"  Second  "}"#),
    );
    let id2 = serde_json::from_slice::<Value>(&created.body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    expect(&created, 201, &note(&id2, "Second", ""));
    assert!(id1 < id2, "ids increase: {id1} {id2}");

    // List (oldest first) and get, from the other route's function.
    expect(
        &call(&dev, "GET", "/api/notes", None),
        200,
        &format!(
            "[{},{}]",
            note(&id1, "First", "hello"),
            note(&id2, "Second", "")
        ),
    );
    expect(
        &call(&dev, "GET", &location, None),
        200,
        &note(&id1, "First", "hello"),
    );

    // Replace (PUT) and patch (PATCH).
    expect(
        &call(
            &dev,
            "PUT",
            &location,
            Some(r#"{"title":"First, edited","body":"changed"}"#),
        ),
        200,
        &note(&id1, "First, edited", "changed"),
    );
    let second = format!("/api/notes/{id2}");
    expect(
        &call(&dev, "PATCH", &second, Some(r#"{"body":"added"}"#)),
        200,
        &note(&id2, "Second", "added"),
    );
    expect(
        &call(&dev, "GET", &second, None),
        200,
        &note(&id2, "Second", "added"),
    );

    // Validation: 400 with a JSON error naming the problem.
    let bad = [
        (
            "POST",
            "/api/notes",
            "{}",
            "Invalid body: missing field `title`",
        ),
        (
            "POST",
            "/api/notes",
            r#"{"title":""}"#,
            "title must not be empty",
        ),
        (
            "POST",
            "/api/notes",
            r#"{"title":"   "}"#,
            "title must not be empty",
        ),
        (
            "POST",
            "/api/notes",
            r#"{"title":5}"#,
            "Invalid body: at `title`: invalid type: integer `5`, expected a string",
        ),
        (
            "POST",
            "/api/notes",
            r#"{"title":"x","tags":[]}"#,
            "Invalid body: at `tags`: unknown field `tags`, expected `title` or `body`",
        ),
        (
            "PUT",
            &location,
            r#"{"body":"no title"}"#,
            "Invalid body: missing field `title`",
        ),
        (
            "PATCH",
            &second,
            r#"{"title":" "}"#,
            "title must not be empty",
        ),
    ];
    let long_title = format!(r#"{{"title":"{}"}}"#, "x".repeat(201));
    for (method, path, body, message) in bad.into_iter().chain([(
        "POST",
        "/api/notes",
        long_title.as_str(),
        "title must be at most 200 characters",
    )]) {
        let reply = call(&dev, method, path, Some(body));
        assert_eq!(
            (reply.status, reply.header("content-type"), reply.text()),
            (400, JSON, json!({ "error": message }).to_string()),
            "{method} {path} {body}"
        );
    }
    // Malformed JSON never reaches the handler: Next's body parser answers 400 itself.
    let reply = call(&dev, "POST", "/api/notes", Some("{not json"));
    assert_eq!((reply.status, reply.text().as_str()), (400, "Invalid JSON"));
    // A body not declared JSON, as a cross-site form could send it: 415.
    let reply = dev.request(
        "POST",
        "/api/notes",
        &[("content-type", "text/plain"), ALICE],
        br#"{"title":"x"}"#,
    );
    expect(
        &reply,
        415,
        &json!({ "error": "Unsupported Media Type: expected a JSON body (`application/json`), got Content-Type `text/plain`" })
            .to_string(),
    );
    // Nothing was stored by the failed requests.
    let listed: Vec<Value> =
        serde_json::from_slice(&call(&dev, "GET", "/api/notes", None).body).unwrap();
    assert_eq!(listed.len(), 2);

    // Unknown notes: 404, whatever the method; ids that are not ids never reach the disk.
    // API Gateway decodes the path before it routes: `..%2F..%2Fetc%2Fpasswd` becomes several
    // segments, which `ANY /api/notes/{id}` does not match, so `$default` answers 404 and the
    // notes function never sees the path.
    let reply = call(&dev, "GET", "/api/notes/..%2F..%2Fetc%2Fpasswd", None);
    assert_eq!(reply.status, 404, "{}", reply.text());
    assert_eq!(reply.text(), r#"{"message":"Not Found"}"#);

    for (method, path, body) in [
        ("GET", "/api/notes/0000000000000000", None),
        (
            "PUT",
            "/api/notes/0000000000000000",
            Some(r#"{"title":"x"}"#),
        ),
        ("PATCH", "/api/notes/0000000000000000", Some("{}")),
        ("DELETE", "/api/notes/0000000000000000", None),
        ("GET", "/api/notes/nope", None),
    ] {
        let reply = call(&dev, method, path, body);
        assert_eq!(reply.status, 404, "{method} {path}: {}", reply.text());
        assert_eq!(reply.header("content-type"), JSON, "{method} {path}");
        assert!(
            reply.text().starts_with(r#"{"error":"note "#)
                && reply.text().ends_with(r#" not found"}"#),
            "{method} {path}: {}",
            reply.text()
        );
    }
    expect(
        &call(&dev, "GET", "/api/notes/0000000000000000", None),
        404,
        r#"{"error":"note 0000000000000000 not found"}"#,
    );

    // Other methods: 405 with Allow.
    let reply = call(&dev, "DELETE", "/api/notes", None);
    expect(&reply, 405, r#"{"error":"Method DELETE Not Allowed"}"#);
    assert_eq!(reply.header("allow"), Some("GET, POST"));
    let reply = call(&dev, "POST", &location, Some(r#"{"title":"x"}"#));
    expect(&reply, 405, r#"{"error":"Method POST Not Allowed"}"#);
    assert_eq!(reply.header("allow"), Some("GET, PUT, PATCH, DELETE"));

    // Delete: 204 with no body, then gone.
    let reply = call(&dev, "DELETE", &location, None);
    assert_eq!(
        (reply.status, reply.header("content-type"), reply.body.len()),
        (204, None, 0)
    );
    assert_eq!(call(&dev, "GET", &location, None).status, 404);
    assert_eq!(call(&dev, "DELETE", &location, None).status, 404);

    // The notes live in the configured folder, one file each.
    let mut files: Vec<String> = std::fs::read_dir(data.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    assert_eq!(files, [format!("{id2}.json")]);

    // And they outlive the process: a new `nextr dev` serves them.
    drop(dev);
    let dev = start(data.path());
    expect(
        &call(&dev, "GET", "/api/notes", None),
        200,
        &format!("[{}]", note(&id2, "Second", "added")),
    );
}

#[test]
fn the_proxy_guards_writes_and_names_the_author() {
    let data = tempfile::tempdir().unwrap();
    let dev = start(data.path());
    let unauthorized = r#"{"error":"sign in first: send `Authorization: Bearer <token>`"}"#;

    // No token, a wrong one, another scheme: the proxy answers 401 before any route runs,
    // whatever the method and path under /api/notes (also where no note exists).
    for headers in [
        &[][..],
        &[("authorization", "Bearer demo-token-mallory")][..],
        &[("authorization", "Basic ZGVtbzpkZW1v")][..],
    ] {
        for (method, path) in [
            ("POST", "/api/notes"),
            ("PUT", "/api/notes/0000000000000000"),
            ("PATCH", "/api/notes/0000000000000000"),
            ("DELETE", "/api/notes/0000000000000000"),
            ("DELETE", "/api/notes"),
        ] {
            let reply = call_as(&dev, headers, method, path, Some(r#"{"title":"x"}"#));
            assert_eq!(
                (
                    reply.status,
                    reply.text().as_str(),
                    reply.header("www-authenticate")
                ),
                (401, unauthorized, Some("Bearer")),
                "{method} {path} with {headers:?}"
            );
        }
    }
    assert!(std::fs::read_dir(data.path()).unwrap().next().is_none());

    // Reading needs no token.
    expect(&call_as(&dev, &[], "GET", "/api/notes", None), 200, "[]");

    // The author is who the token names: bob's token with a forged `x-notes-user` header is
    // bob's note; a reader's forged header never reaches the route either.
    let reply = call_as(
        &dev,
        &[
            ("authorization", "bearer demo-token-bob"),
            ("x-notes-user", "mallory"),
        ],
        "POST",
        "/api/notes",
        Some(r#"{"title":"By bob"}"#),
    );
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(reply.json()["author"], "bob");
    let listed = call_as(
        &dev,
        &[("x-notes-user", "mallory")],
        "GET",
        "/api/notes",
        None,
    );
    assert_eq!(listed.json()[0]["author"], "bob");

    // A front end on the allowed origin may send the token: the gateway answers its preflight
    // (before any function or proxy), `authorization` among the allowed headers.
    let preflight = call_as(
        &dev,
        &[
            ("origin", "http://localhost:5173"),
            ("access-control-request-method", "POST"),
            (
                "access-control-request-headers",
                "authorization,content-type",
            ),
        ],
        "OPTIONS",
        "/api/notes",
        None,
    );
    assert_eq!(preflight.status, 204, "{}", preflight.text());
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some("http://localhost:5173")
    );
    // The configured list, as an HTTP API answers it.
    assert_eq!(
        preflight.header("access-control-allow-headers"),
        Some("content-type,authorization")
    );

    // A signed-in request that is not a write of these routes passes through the proxy to the
    // route, which answers as before.
    let reply = call(&dev, "DELETE", "/api/notes", None);
    assert_eq!(reply.status, 405);
}
