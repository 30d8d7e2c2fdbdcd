//! Uploads in the Pages Router: `req.form_data()` (fields and files, both body parser
//! settings) and the streaming `req.multipart()` reader, with their 400/415 answers.

use nextr::config::{BodyParser, Disabled, RouteConfig, SizeLimit};
use nextr::form::FormValue;
use nextr::prelude::*;
use nextr::testing::TestRoute;
use serde_json::Value as Json;

const BOUNDARY: &str = "----nextrBoundary42";

/// A multipart body with a text field, a file with bytes that are not UTF-8, and a file part
/// without a Content-Type.
fn upload_body() -> Vec<u8> {
    let mut body = Vec::new();
    let part = |body: &mut Vec<u8>, headers: &str, data: &[u8]| {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n{headers}\r\n\r\n").as_bytes());
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    };
    part(
        &mut body,
        "Content-Disposition: form-data; name=\"title\"",
        "Grüße".as_bytes(),
    );
    part(
        &mut body,
        "Content-Disposition: form-data; name=\"photo\"; filename=\"a.png\"\r\nContent-Type: image/png",
        b"\x89PNG\r\n\x1a\n\x00\xff",
    );
    part(
        &mut body,
        "Content-Disposition: form-data; name=\"notes\"; filename=\"n.txt\"",
        b"hi",
    );
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn multipart_type() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}

fn no_parser() -> RouteConfig {
    RouteConfig {
        body_parser: BodyParser::Disabled(Disabled),
        ..Default::default()
    }
}

/// Reports every entry, with each file's length and first bytes.
async fn upload(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    let form = req.form_data().await?;
    let entries: Vec<Json> = form
        .iter()
        .map(|(name, value)| match value {
            FormValue::Text(t) => json!({ "name": name, "value": t }),
            FormValue::File(f) => json!({
                "name": name,
                "file": f,
                "head": f.bytes.iter().take(4).collect::<Vec<_>>(),
            }),
        })
        .collect();
    res.json(&json!({ "entries": entries, "body": req.body.js_type() }))
}

#[tokio::test]
async fn form_data_reads_fields_and_files_with_and_without_the_body_parser() {
    for config in [RouteConfig::default(), no_parser()] {
        let route = TestRoute::new("/api/upload", nextr::handler!(upload)).with_config(config);
        let res = route
            .post("/api/upload")
            .header("content-type", multipart_type())
            .body(upload_body())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status, 200, "{}", res.text());
        let got = res.json::<Json>().unwrap();
        assert_eq!(
            got["entries"],
            json!([
                { "name": "title", "value": "Grüße" },
                { "name": "photo", "file": { "name": "a.png", "type": "image/png", "size": 10 },
                  "head": [0x89, b'P', b'N', b'G'] },
                { "name": "notes", "file": { "name": "n.txt", "type": "text/plain", "size": 2 },
                  "head": [b'h', b'i'] },
            ])
        );
    }
}

#[tokio::test]
async fn form_data_reads_urlencoded_in_order() {
    // With the parser on, `req.body` holds Next's grouped parse; form_data keeps the order.
    let route = TestRoute::new("/api/upload", nextr::handler!(upload));
    let res = route
        .post("/api/upload")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("tag=a&title=x+y&tag=b&flag")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status, 200, "{}", res.text());
    let got = res.json::<Json>().unwrap();
    assert_eq!(
        got,
        json!({ "entries": [
            { "name": "tag", "value": "a" },
            { "name": "title", "value": "x y" },
            { "name": "tag", "value": "b" },
            { "name": "flag", "value": "" },
        ], "body": "object" })
    );
}

#[tokio::test]
async fn form_data_errors() {
    let route = TestRoute::new("/api/upload", nextr::handler!(upload)).with_config(no_parser());
    let json = route
        .post("/api/upload")
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(json.status, 415);
    assert_eq!(
        json.text(),
        "Unsupported Media Type: expected a form body (`multipart/form-data` or \
         `application/x-www-form-urlencoded`), got Content-Type `application/json`"
    );
    let wrong_boundary = route
        .post("/api/upload")
        .header("content-type", "multipart/form-data; boundary=other")
        .body(upload_body())
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_boundary.status, 400);
    assert_eq!(wrong_boundary.text(), "Failed to parse body as FormData.");
    let mut truncated = upload_body();
    truncated.truncate(truncated.len() - 10);
    let truncated = route
        .post("/api/upload")
        .header("content-type", multipart_type())
        .body(truncated)
        .send()
        .await
        .unwrap();
    assert_eq!(truncated.status, 400);
}

#[tokio::test]
async fn the_body_parser_limit_applies_before_form_data() {
    let small = RouteConfig {
        body_parser: BodyParser::Enabled {
            size_limit: Some(SizeLimit::Text("10b".into())),
        },
        ..Default::default()
    };
    let route = TestRoute::new("/api/upload", nextr::handler!(upload)).with_config(small);
    let res = route
        .post("/api/upload")
        .header("content-type", multipart_type())
        .body(upload_body())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status, 413);
}

/// Streams each field: name, file name, Content-Type header, and its size read chunk by chunk.
async fn stream(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    let mut multipart = req.multipart()?;
    let mut fields = Vec::new();
    while let Some(mut field) = multipart.next_field().await? {
        let name = field.name().map(str::to_owned);
        let file_name = field.file_name().map(str::to_owned);
        let content_type = field.content_type().map(ToString::to_string);
        let mut size = 0;
        while let Some(chunk) = field.chunk().await? {
            size += chunk.len();
        }
        fields.push(json!({ "name": name, "file": file_name, "type": content_type, "size": size }));
    }
    res.json(&fields)
}

#[tokio::test]
async fn multipart_streams_fields() {
    let route = TestRoute::new("/api/stream", nextr::handler!(stream)).with_config(no_parser());
    let res = route
        .post("/api/stream")
        .header("content-type", multipart_type())
        .body(upload_body())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        res.json::<Json>().unwrap(),
        json!([
            { "name": "title", "file": null, "type": null, "size": 7 },
            { "name": "photo", "file": "a.png", "type": "image/png", "size": 10 },
            { "name": "notes", "file": "n.txt", "type": null, "size": 2 },
        ])
    );
}

#[tokio::test]
async fn multipart_errors() {
    let route = TestRoute::new("/api/stream", nextr::handler!(stream)).with_config(no_parser());
    let urlencoded = route
        .post("/api/stream")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("a=1")
        .send()
        .await
        .unwrap();
    assert_eq!(urlencoded.status, 415, "{}", urlencoded.text());
    let no_boundary = route
        .post("/api/stream")
        .header("content-type", "multipart/form-data")
        .body(upload_body())
        .send()
        .await
        .unwrap();
    assert_eq!(no_boundary.status, 400);
    // A truncated body fails while streaming: multer's error, a 500 unless the handler maps it.
    let mut truncated = upload_body();
    truncated.truncate(truncated.len() - 10);
    let broken = route
        .post("/api/stream")
        .header("content-type", multipart_type())
        .body(truncated)
        .send()
        .await
        .unwrap();
    assert_eq!(broken.status, 500);
}
