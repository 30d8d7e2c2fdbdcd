use super::*;

/// The recorded cases' body (`q-form-multipart`).
const RECORDED: &str = "------oracleBoundary7MA4YWxk\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nhello world\r\n------oracleBoundary7MA4YWxk\r\nContent-Disposition: form-data; name=\"tag\"\r\n\r\na\r\n------oracleBoundary7MA4YWxk\r\nContent-Disposition: form-data; name=\"tag\"\r\n\r\nb\r\n------oracleBoundary7MA4YWxk\r\nContent-Disposition: form-data; name=\"upload\"; filename=\"notes.txt\"\r\nContent-Type: text/plain\r\n\r\nline one\nline two\n\r\n------oracleBoundary7MA4YWxk\r\nContent-Disposition: form-data; name=\"blob\"; filename=\"data.bin\"\r\n\r\nXYZ\r\n------oracleBoundary7MA4YWxk--\r\n";
const RECORDED_CT: &str = "multipart/form-data; boundary=----oracleBoundary7MA4YWxk";

fn parse(ct: Option<&str>, body: &str) -> Result<FormData, FormError> {
    let body = Bytes::from(body.to_owned());
    futures_executor_block_on(FormData::parse(ct, body))
}

/// The body is in memory, so the future never waits: one poll with a no-op waker finishes it.
fn futures_executor_block_on<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = Context::from_waker(std::task::Waker::noop());
    match f.as_mut().poll(&mut cx) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("form parsing waited on an in-memory body"),
    }
}

/// What the recorded handler reports for each entry.
fn report(fd: &FormData) -> serde_json::Value {
    let entries: Vec<serde_json::Value> = fd
        .iter()
        .map(|(name, v)| match v {
            FormValue::Text(t) => serde_json::json!({"name": name, "value": t}),
            FormValue::File(f) => serde_json::json!({"name": name, "file": {
                "name": f.name, "type": f.content_type, "size": f.size(), "text": f.text()}}),
        })
        .collect();
    let tags: Vec<_> = fd.get_all("tag").collect();
    serde_json::json!({
        "ok": true,
        "entries": entries,
        "tagAll": tags,
        "has": {"title": fd.has("title"), "missing": fd.has("missing")},
    })
}

#[test]
fn recorded_urlencoded() {
    let fd = parse(
        Some("application/x-www-form-urlencoded"),
        "title=hello+world&tag=a&tag=b&enc=%E2%9C%93&empty=&flag",
    )
    .unwrap();
    assert_eq!(
        report(&fd),
        serde_json::json!({"ok": true, "entries": [
            {"name": "title", "value": "hello world"},
            {"name": "tag", "value": "a"},
            {"name": "tag", "value": "b"},
            {"name": "enc", "value": "✓"},
            {"name": "empty", "value": ""},
            {"name": "flag", "value": ""},
        ], "tagAll": ["a", "b"], "has": {"title": true, "missing": false}})
    );
    assert_eq!(fd.text("title"), Some("hello world"));
    assert_eq!(fd.len(), 6);
}

#[test]
fn recorded_multipart() {
    let fd = parse(Some(RECORDED_CT), RECORDED).unwrap();
    assert_eq!(
        report(&fd),
        serde_json::json!({"ok": true, "entries": [
            {"name": "title", "value": "hello world"},
            {"name": "tag", "value": "a"},
            {"name": "tag", "value": "b"},
            {"name": "upload", "file": {"name": "notes.txt", "type": "text/plain", "size": 18,
                "text": "line one\nline two\n"}},
            {"name": "blob", "file": {"name": "data.bin", "type": "text/plain", "size": 3,
                "text": "XYZ"}},
        ], "tagAll": ["a", "b"], "has": {"title": true, "missing": false}})
    );
    assert_eq!(
        fd.file("upload").map(|f| &f.bytes[..]),
        Some(&b"line one\nline two\n"[..])
    );
    assert_eq!(fd.file("title"), None);
    assert_eq!(fd.text("upload"), None);
}

#[test]
fn recorded_errors() {
    let form = |ct| parse(ct, "a=1").unwrap_err();
    assert_eq!(form(Some("application/json")), FormError::ContentType);
    assert_eq!(form(None), FormError::ContentType);
    assert_eq!(
        FormError::ContentType.to_string(),
        "Content-Type was not one of \"multipart/form-data\" or \"application/x-www-form-urlencoded\"."
    );
    // q-form-multipart-bad-boundary
    let bad = parse(Some("multipart/form-data; boundary=other"), RECORDED).unwrap_err();
    assert_eq!(bad, FormError::Parse);
    assert_eq!(bad.to_string(), "Failed to parse body as FormData.");
    assert_eq!(bad.name(), "TypeError");
}

#[test]
fn content_type_is_read_as_fetch_reads_it() {
    let ok = |ct| parse(Some(ct), "a=1").map(|fd| fd.text("a").map(str::to_owned));
    assert_eq!(
        ok("Application/X-WWW-Form-Urlencoded; charset=latin1"),
        Ok(Some("1".into()))
    );
    assert_eq!(
        ok("application/x-www-form-urlencoded;"),
        Ok(Some("1".into()))
    );
    assert_eq!(ok("garbage"), Err(FormError::ContentType));
    assert_eq!(ok("text/plain"), Err(FormError::ContentType));
    // multipart without a boundary cannot be parsed
    assert_eq!(ok("multipart/form-data"), Err(FormError::Parse));
}

#[test]
fn multipart_framing_errors() {
    let ct = Some(RECORDED_CT);
    // truncated before the close delimiter
    assert_eq!(
        parse(ct, &RECORDED[..RECORDED.len() - 40]),
        Err(FormError::Parse)
    );
    // a preamble or an epilogue (undici accepts only blank lines there)
    assert_eq!(
        parse(ct, &format!("junk\r\n{RECORDED}")),
        Err(FormError::Parse)
    );
    assert_eq!(parse(ct, &format!("{RECORDED}junk")), Err(FormError::Parse));
    assert_eq!(parse(ct, ""), Err(FormError::Parse));
    // blank lines around are fine
    let padded = parse(ct, &format!("\r\n\r\n{RECORDED}\r\n")).unwrap();
    assert_eq!(padded.len(), 5);
    // a part without a name
    let nameless = "--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--";
    assert_eq!(
        parse(Some("multipart/form-data; boundary=b"), nameless),
        Err(FormError::Parse)
    );
}

#[test]
fn multipart_edges() {
    let ct = Some("multipart/form-data; boundary=\"b b\"");
    // an empty form, a BOM dropped from a text field, a file type lower-cased
    assert!(parse(ct, "--b b--").unwrap().is_empty());
    let body = "--b b\r\nContent-Disposition: form-data; name=\"t\"\r\n\r\n\u{feff}x\r\n--b b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"\"\r\nContent-Type: Image/PNG \r\n\r\n\u{feff}\r\n--b b--";
    let fd = parse(ct, body).unwrap();
    assert_eq!(fd.text("t"), Some("x"));
    let f = fd.file("f").unwrap();
    assert_eq!(
        (f.name.as_str(), f.content_type.as_str(), f.size()),
        ("", "image/png", 3)
    );
    assert_eq!(
        serde_json::to_value(&fd).unwrap(),
        serde_json::json!([
            {"name": "t", "value": "x"},
            {"name": "f", "value": {"name": "", "type": "image/png", "size": 3}},
        ])
    );
}

#[test]
fn urlencoded_edges() {
    let ct = Some("application/x-www-form-urlencoded");
    let fd = parse(ct, "?a=1&&=x&b=%zz&c=%C3").unwrap();
    let pairs: Vec<_> = fd.iter().map(|(k, v)| (k, v.as_text().unwrap())).collect();
    assert_eq!(
        pairs,
        [("a", "1"), ("", "x"), ("b", "%zz"), ("c", "\u{fffd}")]
    );
    // raw invalid UTF-8 is replaced before escapes are decoded: no merging with `%9C%93`
    let raw = futures_executor_block_on(FormData::parse(ct, Bytes::from_static(b"k=\xE2%9C%93")));
    assert_eq!(raw.unwrap().text("k"), Some("\u{fffd}\u{fffd}\u{fffd}"));
    assert!(parse(ct, "").unwrap().is_empty());
}

/// An independent model of `URLSearchParams` parsing: split, `+`, `%XX`, lossy UTF-8.
fn model(body: &str) -> Vec<(String, String)> {
    fn decode(s: &str) -> String {
        let b = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            let hex = |j: usize| b.get(j).and_then(|c| (*c as char).to_digit(16));
            match (b[i], hex(i + 1), hex(i + 2)) {
                (b'%', Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                }
                (b'+', _, _) => {
                    out.push(b' ');
                    i += 1;
                }
                (c, _, _) => {
                    out.push(c);
                    i += 1;
                }
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    body.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.find('=') {
            Some(i) => (decode(&p[..i]), decode(&p[i + 1..])),
            None => (decode(p), String::new()),
        })
        .collect()
}

fn encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

proptest::proptest! {
    /// Serialised pairs parse back to themselves, in order, repeats kept.
    #[test]
    fn urlencoded_round_trip(
        pairs in proptest::collection::vec(("[a-c &=+%é✓]{0,4}", "[a-c &=+%é✓]{0,4}"), 0..12),
    ) {
        let body: Vec<String> = pairs.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
        let fd = parse(Some("application/x-www-form-urlencoded"), &body.join("&")).unwrap();
        let got: Vec<(String, String)> =
            fd.iter().map(|(k, v)| (k.to_owned(), v.as_text().unwrap().to_owned())).collect();
        // An empty pair (`=`) is kept: the serialised text is never empty.
        proptest::prop_assert_eq!(got, pairs);
    }

    /// Arbitrary text (stray `%`, `+`, `&`, `=`) parses as the model says.
    #[test]
    fn urlencoded_matches_model(body in "[ab=&+%2Fé]{0,24}") {
        proptest::prop_assume!(!body.starts_with('?'));
        let fd = parse(Some("application/x-www-form-urlencoded"), &body).unwrap();
        let got: Vec<(String, String)> =
            fd.iter().map(|(k, v)| (k.to_owned(), v.as_text().unwrap().to_owned())).collect();
        proptest::prop_assert_eq!(got, model(&body));
    }
}

/// `[{content_type, body, entries | error}]` recorded from Node 20's `Response.formData()`
/// (undici 6.24, what Next's `request.formData()` runs): handwritten edge cases and random
/// mutations of a multipart body (`undici_cases.js` makes them). Files carry their bytes
/// in base64.
const UNDICI_CASES: &str = include_str!("undici_cases.json");

#[derive(serde::Deserialize)]
struct UndiciCase {
    content_type: Option<String>,
    body: String,
    entries: Option<serde_json::Value>,
    error: Option<String>,
}

fn undici_view(fd: &FormData) -> serde_json::Value {
    use base64::Engine as _;
    let entries: Vec<_> = fd
        .iter()
        .map(|(name, v)| match v {
            FormValue::Text(t) => serde_json::json!({"name": name, "value": t}),
            FormValue::File(f) => serde_json::json!({"name": name, "file": {"name": f.name,
                "type": f.content_type,
                "bytes": base64::engine::general_purpose::STANDARD.encode(&f.bytes)}}),
        })
        .collect();
    serde_json::Value::Array(entries)
}

#[test]
fn matches_undici() {
    check_undici(UNDICI_CASES);
}

/// More cases from a file (`UNDICI_FORM_CASES=/tmp/cases.json`), generated the same way.
#[test]
fn matches_undici_from_env() {
    if let Ok(path) = std::env::var("UNDICI_FORM_CASES") {
        check_undici(&std::fs::read_to_string(path).unwrap());
    }
}

fn check_undici(json: &str) {
    let cases: Vec<UndiciCase> = serde_json::from_str(json).unwrap();
    let mut wrong = Vec::new();
    for case in &cases {
        let got = match parse(case.content_type.as_deref(), &case.body) {
            Ok(fd) => Ok(undici_view(&fd)),
            Err(e) => Err(e.to_string()),
        };
        let want = match (&case.entries, &case.error) {
            (Some(entries), _) => Ok(entries.clone()),
            (None, Some(error)) => Err(error.clone()),
            (None, None) => panic!("a case without a result"),
        };
        if got != want {
            wrong.push(format!(
                "{:?} {:?}:\n  undici {want:?}\n  nextr  {got:?}",
                case.content_type, case.body
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {}:\n{}",
        wrong.len(),
        cases.len(),
        wrong.join("\n")
    );
}

/// Pieces of multipart syntax, so random bodies get deep into the parser.
fn multipart_piece() -> impl proptest::strategy::Strategy<Value = &'static str> {
    proptest::sample::select(vec![
        "--b",
        "--b--",
        "\r\n",
        "\r",
        "\n",
        "Content-Disposition: form-data; name=\"",
        "\"",
        "; filename=\"",
        "; filename*=\"",
        "Content-Type: ",
        "Content-Transfer-Encoding: base64",
        ":",
        "x",
        "%22",
        "é",
        "b",
        "-",
        " ",
    ])
}

proptest::proptest! {
    /// No body makes the multipart parser panic, and what it accepts has the boundary framing.
    #[test]
    fn multipart_never_panics(pieces in proptest::collection::vec(multipart_piece(), 0..40)) {
        let body = pieces.concat();
        if let Ok(fd) = parse(Some("multipart/form-data; boundary=b"), &body) {
            let trimmed = body.trim_matches(|c| c == '\r' || c == '\n');
            proptest::prop_assert!(trimmed.starts_with("--b"), "{body:?} gave {fd:?}");
        }
    }

    /// Nor do arbitrary bytes, in either parser.
    #[test]
    fn arbitrary_bytes_never_panic(body in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
        let body = Bytes::from(body);
        for ct in ["multipart/form-data; boundary=b", "application/x-www-form-urlencoded"] {
            let _ = futures_executor_block_on(FormData::parse(Some(ct), body.clone()));
        }
    }
}
