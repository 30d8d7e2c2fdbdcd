//! Every applicable case of `fixtures/helpers.json` (recorded on Next 16.4.6), each JavaScript
//! handler translated into a Rust route, driven through `nextr::testing` (the same pipeline the
//! Lambda entry point runs) and compared with Next's status, headers and body.
//!
//! Translation table (Next file → Rust handler below): `echo.js` → `echo` (and the `limit*`
//! variants with their configs), `noparse.js` → `noparse`, `cookies.js` → `cookies`,
//! `send-*.js` / `json-*.js` / `ct-preset-*.js` / `custom-etag.js` / `status-*.js` /
//! `redirect-*.js` / `throw*.js` / `no-end.js` / `external.js` / `write-end.js` / `large*.js`
//! / `methods.js` / `req-props.js` / `[dyn].js` / `revalidate.js` → the function of the same
//! name. Cases not applicable to nextr are listed in `NOT_APPLICABLE` with the reason.

use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use nextr::config::{BodyParser, RouteConfig, SizeLimit};
use nextr::prelude::*;
use nextr::testing::{TestResponse, TestRoute};
use serde_json::Value as Json;

// ---------------------------------------------------------------------------------------------
// The Rust translations of the JavaScript handlers.

/// `describe(body)` of the echo handlers.
fn describe(body: &Body, out: &mut serde_json::Map<String, Json>) {
    match body {
        Body::Raw(b) => {
            out.insert("bodyType".into(), json!("buffer"));
            out.insert("bodyLength".into(), json!(b.len()));
        }
        Body::Text(s) if s.encode_utf16().count() > 200 => {
            out.insert("bodyType".into(), json!("string"));
            out.insert("bodyLength".into(), json!(s.encode_utf16().count()));
        }
        other => {
            out.insert("bodyType".into(), json!(other.js_type()));
            out.insert("body".into(), other.to_value());
        }
    }
}

/// `res.status(200).json({ method, url, query, ...describe(req.body) })`
async fn echo(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    let mut out = serde_json::Map::new();
    out.insert("method".into(), json!(req.method.as_str()));
    out.insert("url".into(), json!(req.url));
    out.insert("query".into(), serde_json::to_value(&req.query)?);
    describe(&req.body, &mut out);
    res.status(200).json(&out)
}

mod limit10b {
    nextr::config! { body_parser: { size_limit: "10b" } }
}
mod limit1kb {
    nextr::config! { body_parser: { size_limit: "1kb" } }
}
mod limit1_5kb {
    nextr::config! { body_parser: { size_limit: "1.5kb" } }
}
mod limitnum {
    nextr::config! { body_parser: { size_limit: 5 } }
}
/// `sizeLimit: 'abc'`: `nextr::config!` rejects such a size at compile time; a config that
/// carries it anyway (for instance from JSON) gets Next's behaviour, no limit at all.
fn limitbad() -> RouteConfig {
    RouteConfig {
        body_parser: BodyParser::Enabled {
            size_limit: Some(SizeLimit::Text("abc".into())),
        },
        ..Default::default()
    }
}

mod noparse_config {
    nextr::config! { body_parser: false }
}
/// Reads the raw body (Next: `for await (const c of req)`).
async fn noparse(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    let raw = req.raw_body().clone();
    let mut out = serde_json::Map::new();
    out.insert(
        "bodyWasUndefined".into(),
        json!(matches!(req.body, Body::Raw(_))),
    );
    out.insert("rawLength".into(), json!(raw.len()));
    if raw.len() < 200 {
        out.insert("raw".into(), json!(String::from_utf8_lossy(&raw)));
    }
    res.status(200).json(&out)
}

async fn cookies(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.status(200).json(&req.cookies)
}

async fn send_string(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.send("hello")
}
async fn send_empty_string(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.send("")
}
async fn send_object(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.send(json!({ "a": 1 }))
}
async fn send_array(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.send(json!([1, "two"]))
}
async fn send_number(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.send(42)
}
async fn send_bool(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.send(false)
}
async fn send_buffer(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.send(b"buf".to_vec())
}
/// `res.send(Readable.from(['a', 'b']))`: a stream gets `application/octet-stream` and is
/// piped; in Rust, the same response is written chunk by chunk.
async fn send_stream(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    if res.get_header("content-type").is_none() {
        res.set_header("content-type", "application/octet-stream")?;
    }
    res.write("a")?;
    res.write("b")?;
    res.end()
}
async fn send_null(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.send(None::<&str>)
}
async fn send_undefined(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.send(())
}

/// `res.json({ a: 1, u: undefined })`: an `Option` skipped when `None`.
async fn json_object(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    #[derive(Serialize)]
    struct Out {
        a: i32,
        #[serde(skip_serializing_if = "Option::is_none")]
        u: Option<i32>,
    }
    res.json(&Out { a: 1, u: None })
}
/// `res.json(undefined)`: the JSON content type and no body.
async fn json_undefined(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.set_header("content-type", "application/json; charset=utf-8")?;
    res.end()
}
async fn json_string(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.json("Hello world!")
}
async fn json_null(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.json(&None::<()>)
}
async fn json_bool(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.json(&true)
}
/// `new Date(0)` serialises as its ISO string.
async fn json_date(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.json(&json!({ "d": "1970-01-01T00:00:00.000Z" }))
}
async fn ct_preset_object(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.set_header("Content-Type", "text/html")?;
    res.send(json!({ "a": 1 }))
}
async fn ct_preset_string(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.set_header("Content-Type", "text/html")?;
    res.send("<b>x</b>")
}
async fn ct_preset_buffer(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.set_header("Content-Type", "image/png")?;
    res.send(vec![1u8, 2, 3])
}
async fn custom_etag(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.set_header("ETag", "\"custom\"")?;
    res.send("etagged")
}
async fn status_no_call(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.json(&json!({ "default": true }))
}
async fn status_201(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.status(201).json(&json!({ "created": true }))
}
async fn status_204(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.status(204).send("ignored")
}
async fn status_204_json(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.status(204).json(&json!({ "a": 1 }))
}
async fn status_304(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.status(304).send("ignored")
}
async fn status_1000(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.status(1000).json(&json!({ "a": 1 }))
}
async fn status_99(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.status(99).json(&json!({ "a": 1 }))
}
async fn status_999(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.status(999).json(&json!({ "a": 1 }))
}
/// `res.status('202')`: the string is parsed.
async fn status_string(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.status("202".parse::<u16>()?).json(&json!({ "a": 1 }))
}
async fn redirect_default(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.redirect("/somewhere?x=1")
}
async fn redirect_301(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.redirect_with(301, "/somewhere")
}
/// `res.redirect('/somewhere', 301)`: the number is ignored by Next; Rust's types only allow
/// the meaningful call.
async fn redirect_swapped(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.redirect("/somewhere")
}
/// `res.redirect(null)`: an invalid argument is an error in the handler.
async fn redirect_null(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    let url: Option<&str> = None;
    let url = url.ok_or_else(|| nextr::Error::msg("Invalid redirect arguments. Please use a single argument URL, e.g. res.redirect('/destination') or use a status code and URL, e.g. res.redirect(307, '/destination')."))?;
    res.redirect(url)
}
async fn redirect_abs(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.redirect_with(308, "https://example.com/x?y=1")
}
async fn redirect_status_first(
    _: &mut NextApiRequest,
    res: &mut NextApiResponse,
) -> nextr::Result<()> {
    res.status(302).redirect("/a")
}
async fn throw(_: &mut NextApiRequest, _: &mut NextApiResponse) -> nextr::Result<()> {
    Err(nextr::Error::msg("boom"))
}
async fn throw_async(_: &mut NextApiRequest, _: &mut NextApiResponse) -> nextr::Result<()> {
    tokio::time::sleep(Duration::from_millis(10)).await;
    Err(nextr::Error::msg("boom async"))
}
async fn throw_after_status(
    _: &mut NextApiRequest,
    res: &mut NextApiResponse,
) -> nextr::Result<()> {
    res.status(418);
    res.set_header("x-custom", "1")?;
    Err(nextr::Error::msg("boom"))
}
async fn throw_string(_: &mut NextApiRequest, _: &mut NextApiResponse) -> nextr::Result<()> {
    Err(nextr::Error::msg("a string"))
}
async fn throw_after_send(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.status(200).json(&json!({ "sent": true }))?;
    Err(nextr::Error::msg("late"))
}
async fn no_end(_: &mut NextApiRequest, _: &mut NextApiResponse) -> nextr::Result<()> {
    Ok(())
}
mod external_config {
    nextr::config! { external_resolver: true }
}
/// `setTimeout(() => res.end('late ok'), 50)`: the handler awaits instead of returning early
/// (a Rust handler cannot touch `res` after returning).
async fn external(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    tokio::time::sleep(Duration::from_millis(50)).await;
    res.end_with("late ok")
}
async fn write_end(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.write("a")?;
    res.end_with("b")
}
async fn large(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.send("x".repeat(5 * 1024 * 1024))
}
async fn large_exact_4mb(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.send("x".repeat(4 * 1024 * 1024))
}
async fn large_under_4mb(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.send("x".repeat(4 * 1024 * 1024 - 1))
}
mod large_nolimit_config {
    nextr::config! { response_limit: false }
}
mod large_limit_1kb_config {
    nextr::config! { response_limit: "1kb" }
}
async fn large_limit_1kb(_: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.send("x".repeat(2048))
}
async fn methods(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    let method = req.method.as_str().to_owned();
    res.set_header("x-method", &method)?;
    res.status(200).json(&json!({ "method": method }))
}
async fn req_props(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    let h = |n: &str| req.header(n).map(str::to_owned);
    res.json(&json!({
        "url": req.url,
        "hasQuery": true,
        "hasCookies": true,
        "hasBody": true,
        "preview": null,
        "headersHost": h("host"),
        "xfh": h("x-forwarded-host"),
        "xfp": h("x-forwarded-proto"),
        "xfport": h("x-forwarded-port"),
        "xff": h("x-forwarded-for"),
    }))
}
async fn dyn_route(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.json(&json!({ "query": req.query, "url": req.url }))
}

/// What the fake Next.js site saw on the last revalidation (Next's `globalThis.__revalHeaders`).
static REVAL_HEADERS: Mutex<Option<Json>> = Mutex::new(None);

async fn revalidate(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    *REVAL_HEADERS
        .lock()
        .map_err(|_| nextr::Error::msg("poisoned"))? = None;
    let p = req.query.str("p").unwrap_or_default().to_owned();
    let result = res.revalidate(&p).await;
    let seen = REVAL_HEADERS
        .lock()
        .map_err(|_| nextr::Error::msg("poisoned"))?
        .clone();
    match result {
        Ok(()) => res.json(&json!({ "ok": true, "targetSawHeaders": seen })),
        Err(e) => res
            .status(500)
            .json(&json!({ "ok": false, "error": e.to_string(), "targetSawHeaders": seen })),
    }
}

// ---------------------------------------------------------------------------------------------
// The table: Next's handler file → the route (pattern, config, handler).

fn route_for(file: &str) -> Option<TestRoute> {
    let page: &'static str = match file {
        "pages/api/h/[dyn].js" => "/api/h/[dyn]",
        f => Box::leak(
            f.trim_start_matches("pages")
                .trim_end_matches(".js")
                .to_owned()
                .into_boxed_str(),
        ),
    };
    let (handler, config): (nextr::Handler, RouteConfig) = match file {
        "pages/api/h/echo.js" => (nextr::handler!(echo), RouteConfig::default()),
        "pages/api/h/limit10b.js" => (nextr::handler!(echo), limit10b::config()),
        "pages/api/h/limit1kb.js" => (nextr::handler!(echo), limit1kb::config()),
        "pages/api/h/limit1_5kb.js" => (nextr::handler!(echo), limit1_5kb::config()),
        "pages/api/h/limitnum.js" => (nextr::handler!(echo), limitnum::config()),
        "pages/api/h/limitbad.js" => (nextr::handler!(echo), limitbad()),
        "pages/api/h/noparse.js" => (nextr::handler!(noparse), noparse_config::config()),
        "pages/api/h/cookies.js" => (nextr::handler!(cookies), RouteConfig::default()),
        "pages/api/h/send-string.js" => (nextr::handler!(send_string), RouteConfig::default()),
        "pages/api/h/send-empty-string.js" => {
            (nextr::handler!(send_empty_string), RouteConfig::default())
        }
        "pages/api/h/send-object.js" => (nextr::handler!(send_object), RouteConfig::default()),
        "pages/api/h/send-array.js" => (nextr::handler!(send_array), RouteConfig::default()),
        "pages/api/h/send-number.js" => (nextr::handler!(send_number), RouteConfig::default()),
        "pages/api/h/send-bool.js" => (nextr::handler!(send_bool), RouteConfig::default()),
        "pages/api/h/send-buffer.js" => (nextr::handler!(send_buffer), RouteConfig::default()),
        "pages/api/h/send-stream.js" => (nextr::handler!(send_stream), RouteConfig::default()),
        "pages/api/h/send-null.js" => (nextr::handler!(send_null), RouteConfig::default()),
        "pages/api/h/send-undefined.js" => {
            (nextr::handler!(send_undefined), RouteConfig::default())
        }
        "pages/api/h/json-object.js" => (nextr::handler!(json_object), RouteConfig::default()),
        "pages/api/h/json-undefined.js" => {
            (nextr::handler!(json_undefined), RouteConfig::default())
        }
        "pages/api/h/json-string.js" => (nextr::handler!(json_string), RouteConfig::default()),
        "pages/api/h/json-null.js" => (nextr::handler!(json_null), RouteConfig::default()),
        "pages/api/h/json-bool.js" => (nextr::handler!(json_bool), RouteConfig::default()),
        "pages/api/h/json-date.js" => (nextr::handler!(json_date), RouteConfig::default()),
        "pages/api/h/ct-preset-object.js" => {
            (nextr::handler!(ct_preset_object), RouteConfig::default())
        }
        "pages/api/h/ct-preset-string.js" => {
            (nextr::handler!(ct_preset_string), RouteConfig::default())
        }
        "pages/api/h/ct-preset-buffer.js" => {
            (nextr::handler!(ct_preset_buffer), RouteConfig::default())
        }
        "pages/api/h/custom-etag.js" => (nextr::handler!(custom_etag), RouteConfig::default()),
        "pages/api/h/status-no-call.js" => {
            (nextr::handler!(status_no_call), RouteConfig::default())
        }
        "pages/api/h/status-201.js" => (nextr::handler!(status_201), RouteConfig::default()),
        "pages/api/h/status-204.js" => (nextr::handler!(status_204), RouteConfig::default()),
        "pages/api/h/status-204-json.js" => {
            (nextr::handler!(status_204_json), RouteConfig::default())
        }
        "pages/api/h/status-304.js" => (nextr::handler!(status_304), RouteConfig::default()),
        "pages/api/h/status-1000.js" => (nextr::handler!(status_1000), RouteConfig::default()),
        "pages/api/h/status-99.js" => (nextr::handler!(status_99), RouteConfig::default()),
        "pages/api/h/status-999.js" => (nextr::handler!(status_999), RouteConfig::default()),
        "pages/api/h/status-string.js" => (nextr::handler!(status_string), RouteConfig::default()),
        "pages/api/h/redirect-default.js" => {
            (nextr::handler!(redirect_default), RouteConfig::default())
        }
        "pages/api/h/redirect-301.js" => (nextr::handler!(redirect_301), RouteConfig::default()),
        "pages/api/h/redirect-swapped.js" => {
            (nextr::handler!(redirect_swapped), RouteConfig::default())
        }
        "pages/api/h/redirect-null.js" => (nextr::handler!(redirect_null), RouteConfig::default()),
        "pages/api/h/redirect-abs.js" => (nextr::handler!(redirect_abs), RouteConfig::default()),
        "pages/api/h/redirect-status-first.js" => (
            nextr::handler!(redirect_status_first),
            RouteConfig::default(),
        ),
        "pages/api/h/throw.js" => (nextr::handler!(throw), RouteConfig::default()),
        "pages/api/h/throw-async.js" => (nextr::handler!(throw_async), RouteConfig::default()),
        "pages/api/h/throw-after-status.js" => {
            (nextr::handler!(throw_after_status), RouteConfig::default())
        }
        "pages/api/h/throw-string.js" => (nextr::handler!(throw_string), RouteConfig::default()),
        "pages/api/h/throw-after-send.js" => {
            (nextr::handler!(throw_after_send), RouteConfig::default())
        }
        "pages/api/h/no-end.js" => (nextr::handler!(no_end), RouteConfig::default()),
        "pages/api/h/external.js" => (nextr::handler!(external), external_config::config()),
        "pages/api/h/write-end.js" => (nextr::handler!(write_end), RouteConfig::default()),
        "pages/api/h/large.js" => (nextr::handler!(large), RouteConfig::default()),
        "pages/api/h/large-exact-4mb.js" => {
            (nextr::handler!(large_exact_4mb), RouteConfig::default())
        }
        "pages/api/h/large-under-4mb.js" => {
            (nextr::handler!(large_under_4mb), RouteConfig::default())
        }
        "pages/api/h/large-nolimit.js" => (nextr::handler!(large), large_nolimit_config::config()),
        "pages/api/h/large-limit-1kb.js" => (
            nextr::handler!(large_limit_1kb),
            large_limit_1kb_config::config(),
        ),
        "pages/api/h/methods.js" => (nextr::handler!(methods), RouteConfig::default()),
        "pages/api/h/req-props.js" => (nextr::handler!(req_props), RouteConfig::default()),
        "pages/api/h/[dyn].js" => (nextr::handler!(dyn_route), RouteConfig::default()),
        "pages/api/h/revalidate.js" => (nextr::handler!(revalidate), RouteConfig::default()),
        _ => return None,
    };
    Some(TestRoute::new(page, handler).with_config(config))
}

/// Cases that do not apply to nextr, with the reason (spec/README.md decisions).
const NOT_APPLICABLE: &[(&str, &str)] = &[
    ("setPreviewData", "decision 7: no preview mode"),
    ("setPreviewData-maxAge-path", "decision 7: no preview mode"),
    ("setDraftMode-enable", "decision 7: no draft mode"),
    ("setDraftMode-disable", "decision 7: no draft mode"),
    ("clearPreviewData", "decision 7: no preview mode"),
    (
        "draft-state-no-cookie",
        "decision 7: no req.preview/draftMode",
    ),
    (
        "draft-state-bogus-cookie",
        "decision 7: the __prerender_bypass side effect is not reproduced",
    ),
    (
        "draft-state-with-cookie-from-draft",
        "decision 7: no draft mode",
    ),
    (
        "preview-state-with-cookies-from-preview",
        "decision 7: no preview mode",
    ),
    ("edge-runtime-api", "decision 9: no edge runtime"),
    (
        "404-unknown-api-path",
        "no route: answered by the $default function, not a route runtime",
    ),
    (
        "404-unknown-api-path-sec-fetch-dest-image",
        "no route: answered by the $default function",
    ),
    (
        "404-unknown-api-path-POST",
        "no route: answered by the $default function",
    ),
];

/// Where nextr deliberately answers differently; the test checks nextr's answer instead.
enum Deviation {
    /// Decision 4: 500 with the whole `Internal Server Error` body and no stale headers.
    InvalidStatus,
    /// Decision 3: the response is sent as built (200, empty) with Next's dev warning.
    NoResponse,
    /// Decision 10: the 400's body is nextr's own.
    StatusOnly,
    /// The platform's forwarding headers: Lambda is reached over https on 443, not
    /// `next start`'s http on its own port.
    ForwardedProto,
    /// Decision 8: the site revalidated is another process; it sees the revalidate header,
    /// not Next's in-process forwarding headers.
    RevalidateTarget,
}

fn deviation(name: &str) -> Option<Deviation> {
    Some(match name {
        "status-1000" | "status-99" => Deviation::InvalidStatus,
        "no-response-hangs" => Deviation::NoResponse,
        "400-bad-escape-in-dynamic" => Deviation::StatusOnly,
        "req-props" => Deviation::ForwardedProto,
        "revalidate-api-target-200" | "revalidate-target-404" | "revalidate-nonexistent-path" => {
            Deviation::RevalidateTarget
        }
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------------
// Running a case.

fn cases() -> &'static Vec<Json> {
    static CASES: OnceLock<Vec<Json>> = OnceLock::new();
    CASES.get_or_init(|| {
        let text = include_str!("fixtures/helpers.json");
        serde_json::from_str(text).expect("helpers.json parses")
    })
}

fn case(name: &str) -> &'static Json {
    cases()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no case {name}"))
}

fn request_body(body: &Json) -> Vec<u8> {
    match body {
        Json::Null => Vec::new(),
        Json::String(s) => s.as_bytes().to_vec(),
        Json::Object(o) => {
            if let Some(hex) = o.get("hex").and_then(Json::as_str) {
                (0..hex.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
                    .collect()
            } else {
                let fill = o["fill"].as_str().expect("fill").as_bytes()[0];
                vec![fill; o["bytes"].as_u64().expect("bytes") as usize]
            }
        }
        other => panic!("unexpected body {other}"),
    }
}

async fn run_case(name: &str) -> (TestResponse, &'static Json) {
    fake_site();
    let case = case(name);
    let file = case["handler_file"].as_str().expect("handler file");
    let route = route_for(file).unwrap_or_else(|| panic!("no translation for {file}"));
    let req = &case["request"];
    let method: Method = req["method"]
        .as_str()
        .expect("method")
        .parse()
        .expect("method");
    let mut test = route.request(method, req["path"].as_str().expect("path"));
    if let Some(headers) = req["headers"].as_object() {
        for (k, v) in headers {
            test = test.header(k, v.as_str().expect("header value"));
        }
    }
    let res = test
        .body(request_body(&req["body"]))
        .send()
        .await
        .expect("valid request");
    (res, case)
}

/// Compares nextr's response with Next's recording.
fn compare(name: &str, res: &TestResponse, case: &Json) {
    let expected = &case["response"];
    let dev = deviation(name);
    match dev {
        Some(Deviation::InvalidStatus) => {
            assert_eq!(res.status, 500, "{name}");
            assert_eq!(res.text(), "Internal Server Error", "{name}");
            assert!(res.header("content-length").is_none(), "{name}");
            return;
        }
        Some(Deviation::NoResponse) => {
            assert_eq!(res.status, 200, "{name}");
            assert!(res.body.is_empty(), "{name}");
            assert!(
                res.logs
                    .iter()
                    .any(|l| l
                        .starts_with("API resolved without sending a response for /api/h/no-end")),
                "{name}: {:?}",
                res.logs
            );
            return;
        }
        Some(Deviation::StatusOnly) => {
            assert_eq!(
                res.status as u64,
                expected["status"].as_u64().expect("status"),
                "{name}"
            );
            return;
        }
        _ => {}
    }
    assert_eq!(
        res.status as u64,
        expected["status"].as_u64().expect("status"),
        "{name}"
    );
    let exp_headers = expected["headers"].as_object().expect("headers");
    // Headers Next sets itself; `vary` (compression middleware) and `transfer-encoding`
    // (Node's chunking) are not part of an API Gateway response.
    for h in [
        "content-type",
        "etag",
        "location",
        "content-length",
        "x-custom",
        "x-method",
    ] {
        let ours = res.header(h);
        match exp_headers.get(h).and_then(Json::as_str) {
            Some(theirs)
                if matches!(
                    dev,
                    Some(Deviation::ForwardedProto | Deviation::RevalidateTarget)
                ) && h == "etag" =>
            {
                assert!(
                    ours.is_some_and(|e| e.starts_with('"') && e.ends_with('"')),
                    "{name}: etag shape {ours:?} vs {theirs}"
                );
            }
            Some(theirs)
                if matches!(
                    dev,
                    Some(Deviation::ForwardedProto | Deviation::RevalidateTarget)
                ) && h == "content-length" =>
            {
                assert!(ours.is_some(), "{name}: content-length {theirs}");
            }
            Some(theirs) => assert_eq!(ours, Some(theirs), "{name}: header {h}"),
            None => assert_eq!(ours, None, "{name}: header {h} should be absent"),
        }
    }
    let set_cookie: Vec<&str> = res
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let exp_cookies: Vec<&str> = match exp_headers.get("set-cookie") {
        Some(Json::Array(a)) => a.iter().filter_map(Json::as_str).collect(),
        Some(Json::String(s)) => vec![s.as_str()],
        _ => vec![],
    };
    assert_eq!(set_cookie, exp_cookies, "{name}: set-cookie");
    if let Some(len) = expected["bodyLength"].as_u64() {
        if !matches!(
            dev,
            Some(Deviation::ForwardedProto | Deviation::RevalidateTarget)
        ) {
            assert_eq!(res.body.len() as u64, len, "{name}: body length");
        }
    }
    if expected.get("json").is_some() {
        let ours: Json = res
            .json()
            .unwrap_or_else(|e| panic!("{name}: body is not JSON: {e}: {}", res.text()));
        let mut theirs = expected["json"].clone();
        match dev {
            Some(Deviation::ForwardedProto) => {
                theirs["xfp"] = json!("https");
                theirs["xfport"] = json!("443");
            }
            Some(Deviation::RevalidateTarget) => {
                let seen = &ours["targetSawHeaders"];
                if theirs["targetSawHeaders"].is_null() {
                    assert!(seen.is_null(), "{name}");
                } else {
                    assert_eq!(
                        seen["x-prerender-revalidate"],
                        json!("5544cc9ecd6738ce738b2ab1a1feb18e"),
                        "{name}"
                    );
                }
                theirs["targetSawHeaders"] = seen.clone();
            }
            _ => {}
        }
        assert_eq!(ours, theirs, "{name}: body");
    } else if let Some(body) = expected.get("body").and_then(Json::as_str) {
        assert_eq!(res.text(), body, "{name}: body");
    } else if let Some(snippet) = expected.get("bodySnippet").and_then(Json::as_str) {
        assert!(res.text().starts_with(snippet), "{name}: body snippet");
    }
    // The response-size warning, word for word.
    if let Some(log) = case["server_log"].as_array() {
        for line in log.iter().filter_map(Json::as_str) {
            if line.starts_with("API response for") {
                assert!(
                    res.logs.iter().any(|l| l == line),
                    "{name}: missing warning {line}: {:?}",
                    res.logs
                );
            }
        }
    }
    if name == "response-4mb-minus-1" || name == "response-5mb-responseLimit-false" {
        assert!(
            !res.logs.iter().any(|l| l.starts_with("API response for")),
            "{name}"
        );
    }
}

/// A stand-in for the Next.js site `res.revalidate` talks to: 200 for `/api/h/reval-target`,
/// 404 for anything else; it records the headers it saw, as the recorded target did.
fn fake_site() {
    static SITE: OnceLock<()> = OnceLock::new();
    SITE.get_or_init(|| {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        std::env::set_var("NEXTR_REVALIDATE_ORIGIN", format!("http://{addr}"));
        std::env::set_var(
            "NEXTR_REVALIDATE_SECRET",
            "5544cc9ecd6738ce738b2ab1a1feb18e",
        );
        std::thread::spawn(move || {
            use std::io::{Read, Write};
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut chunk) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&buf).into_owned();
                let mut lines = text.split("\r\n");
                let path = lines
                    .next()
                    .and_then(|l| l.split(' ').nth(1))
                    .unwrap_or("/")
                    .to_owned();
                let status = if path == "/api/h/reval-target" {
                    "200 OK"
                } else {
                    "404 Not Found"
                };
                if path.starts_with("/api/h/reval-target") {
                    let mut seen = serde_json::Map::new();
                    for line in lines {
                        if let Some((k, v)) = line.split_once(':') {
                            if k.eq_ignore_ascii_case("x-prerender-revalidate") {
                                seen.insert(k.to_ascii_lowercase(), json!(v.trim()));
                            }
                        }
                    }
                    *REVAL_HEADERS.lock().expect("lock") = Some(Json::Object(seen));
                }
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
            }
        });
    });
}

macro_rules! cases {
    ($($test:ident => $name:literal,)*) => {
        $(
            #[tokio::test]
            async fn $test() {
                let (res, case) = run_case($name).await;
                compare($name, &res, case);
            }
        )*

        /// Every case of the fixture is either run above or listed as not applicable.
        #[test]
        fn every_case_is_accounted_for() {
            let run: &[&str] = &[$($name),*];
            for c in cases() {
                let name = c["name"].as_str().expect("name");
                assert!(
                    run.contains(&name) || NOT_APPLICABLE.iter().any(|(n, _)| *n == name),
                    "helpers.json case {name} is neither translated nor listed as not applicable"
                );
            }
        }
    };
}

cases! {
    get_no_body => "get-no-body",
    get_with_query_array => "get-with-query-array",
    json_valid => "json-valid",
    json_invalid => "json-invalid",
    json_empty_body => "json-empty-body",
    json_whitespace_body => "json-whitespace-body",
    json_literal_null => "json-literal-null",
    json_literal_string => "json-literal-string",
    json_literal_number => "json-literal-number",
    json_uppercase_type => "json-uppercase-type",
    ld_json => "ld-json",
    vnd_api_json_not_parsed => "vnd-api-json-not-parsed",
    problem_json_not_parsed => "problem-json-not-parsed",
    text_json_not_parsed => "text-json-not-parsed",
    urlencoded => "urlencoded",
    urlencoded_mixed_case => "urlencoded-mixed-case",
    urlencoded_brackets => "urlencoded-brackets",
    text_plain => "text-plain",
    no_content_type => "no-content-type",
    octet_stream => "octet-stream",
    garbage_content_type => "garbage-content-type",
    json_trailing_semicolon_content_type => "json-trailing-semicolon-content-type",
    json_utf16le_charset => "json-utf16le-charset",
    multipart_not_parsed => "multipart-not-parsed",
    unsupported_charset => "unsupported-charset",
    latin1_charset => "latin1-charset",
    put_json => "put-json",
    delete_json => "delete-json",
    get_with_json_body => "get-with-json-body",
    body_exactly_1mb => "body-exactly-1mb",
    body_1mb_plus_1 => "body-1mb-plus-1",
    body_2mb_json => "body-2mb-json",
    body_2mb_chunked_no_length => "body-2mb-chunked-no-length",
    limit_10b_ok => "limit-10b-ok",
    limit_10b_over => "limit-10b-over",
    limit_1kb_ok => "limit-1kb-ok",
    limit_1kb_over => "limit-1kb-over",
    limit_1_5kb_ok => "limit-1.5kb-ok",
    limit_1_5kb_over => "limit-1.5kb-over",
    limit_number_5_over => "limit-number-5-over",
    limit_invalid_string_2mb => "limit-invalid-string-2mb",
    body_parser_false => "bodyParser-false",
    body_parser_false_2mb => "bodyParser-false-2mb",
    cookies_none => "cookies-none",
    cookies_basic => "cookies-basic",
    cookies_dupes_and_edge_cases => "cookies-dupes-and-edge-cases",
    send_string_case => "send-string",
    send_empty_string_case => "send-empty-string",
    send_object_case => "send-object",
    send_array_case => "send-array",
    send_number_case => "send-number",
    send_bool_false => "send-bool-false",
    send_buffer_case => "send-buffer",
    send_stream_case => "send-stream",
    send_null_case => "send-null",
    send_undefined_case => "send-undefined",
    json_object_drops_undefined => "json-object-drops-undefined",
    json_undefined_case => "json-undefined",
    json_string_case => "json-string",
    json_null_case => "json-null",
    json_bool_case => "json-bool",
    json_date_case => "json-date",
    ct_preset_object_case => "ct-preset-object",
    ct_preset_string_case => "ct-preset-string",
    ct_preset_buffer_case => "ct-preset-buffer",
    custom_etag_overwritten => "custom-etag-overwritten",
    etag_if_none_match_get => "etag-if-none-match-get",
    etag_if_none_match_post => "etag-if-none-match-post",
    etag_if_none_match_star => "etag-if-none-match-star",
    etag_if_none_match_no_cache => "etag-if-none-match-no-cache",
    status_default_200 => "status-default-200",
    status_201_case => "status-201",
    status_204_send => "status-204-send",
    status_204_json_case => "status-204-json",
    status_304_send => "status-304-send",
    status_1000_case => "status-1000",
    status_99_case => "status-99",
    status_999_case => "status-999",
    status_string_202 => "status-string-202",
    redirect_default_case => "redirect-default",
    redirect_301_case => "redirect-301",
    redirect_url_then_status => "redirect-url-then-status",
    redirect_null_case => "redirect-null",
    redirect_absolute_308 => "redirect-absolute-308",
    redirect_after_status => "redirect-after-status",
    throw_sync => "throw-sync",
    throw_async_case => "throw-async",
    throw_after_status_case => "throw-after-status",
    throw_string_case => "throw-string",
    throw_after_send_case => "throw-after-send",
    no_response_hangs => "no-response-hangs",
    external_resolver => "external-resolver",
    write_then_end => "write-then-end",
    response_5mb_warns => "response-5mb-warns",
    response_exactly_4mb => "response-exactly-4mb",
    response_4mb_minus_1 => "response-4mb-minus-1",
    response_5mb_response_limit_false => "response-5mb-responseLimit-false",
    response_2kb_response_limit_1kb => "response-2kb-responseLimit-1kb",
    revalidate_api_target_200 => "revalidate-api-target-200",
    revalidate_target_404 => "revalidate-target-404",
    revalidate_nonexistent_path => "revalidate-nonexistent-path",
    revalidate_relative_path => "revalidate-relative-path",
    method_head => "method-HEAD",
    method_options => "method-OPTIONS",
    method_patch => "method-PATCH",
    method_delete => "method-DELETE",
    method_trace => "method-TRACE",
    method_propfind => "method-PROPFIND",
    req_props_case => "req-props",
    bad_escape_in_dynamic => "400-bad-escape-in-dynamic",
    dynamic_sibling_of_static => "dynamic-sibling-of-static",
}
