use super::*;

/// `[{text, error}]` recorded from Node 20's `JSON.parse` (V8 11.3, the V8 of the recorded
/// Next): handwritten cases and random mutations of valid documents (`error: null` = valid;
/// `v8_cases.js` makes them).
const V8_CASES: &str = include_str!("v8_cases.json");

#[derive(serde::Deserialize)]
struct Case {
    text: String,
    error: Option<String>,
}

fn check_cases(json: &str) {
    let cases: Vec<Case> = serde_json::from_str(json).unwrap();
    let mut wrong = Vec::new();
    for case in &cases {
        let got = json_syntax_error(&case.text).map(|e| e.message);
        if got != case.error {
            wrong.push(format!(
                "{:?}: V8 {:?}, nextr {:?}",
                case.text, case.error, got
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

#[test]
fn messages_match_v8() {
    check_cases(V8_CASES);
}

/// More cases from a file (`V8_JSON_CASES=/tmp/cases.json`), generated the same way.
#[test]
fn messages_match_v8_from_env() {
    if let Ok(path) = std::env::var("V8_JSON_CASES") {
        check_cases(&std::fs::read_to_string(path).unwrap());
    }
}

#[test]
fn recorded_cases() {
    // q-json-valid, q-json-scalar
    let v: serde_json::Value =
        parse_json(b"{\"a\":1,\"b\":[true,null],\"s\":\"\xc3\xa9\"}").unwrap();
    assert_eq!(v, serde_json::json!({"a": 1, "b": [true, null], "s": "é"}));
    assert_eq!(parse_json::<serde_json::Value>(b"42").unwrap(), 42);
    // q-json-invalid, q-json-empty, q-json-uncaught-invalid
    let e = parse_json::<serde_json::Value>(br#"{"a":Invalid}"#).unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"Unexpected token 'I', "{"a":Invalid}" is not valid JSON"#
    );
    assert_eq!(e.name(), "SyntaxError");
    let e = parse_json::<serde_json::Value>(b"").unwrap_err();
    assert_eq!(e.to_string(), "Unexpected end of JSON input");
    let e = parse_json::<serde_json::Value>(b"not json").unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"Unexpected token 'o', "not json" is not valid JSON"#
    );
}

#[test]
fn bom_and_bad_utf8() {
    let v: serde_json::Value = parse_json(b"\xEF\xBB\xBF[1]").unwrap();
    assert_eq!(v, serde_json::json!([1]));
    // a bad byte becomes U+FFFD, inside a string it is kept, outside it is the token
    let v: String = parse_json(b"\"a\xFFb\"").unwrap();
    assert_eq!(v, "a\u{fffd}b");
    let e = parse_json::<serde_json::Value>(b"[\xFF]").unwrap_err();
    assert_eq!(
        e.to_string(),
        "Unexpected token '\u{fffd}', \"[\u{fffd}]\" is not valid JSON"
    );
}

#[derive(Debug, serde::Deserialize)]
#[allow(dead_code)] // read through Debug only
struct User {
    name: String,
    age: u32,
}

#[test]
fn shape_errors_name_the_field() {
    let e = parse_json::<User>(br#"{"name":"Ada","age":"x"}"#).unwrap_err();
    assert!(matches!(e, JsonBodyError::Shape(_)), "{e:?}");
    assert_eq!(
        e.to_string(),
        "Invalid body: at `age`: invalid type: string \"x\", expected u32 at line 1 column 23"
    );
    let e = parse_json::<User>(b"[]").unwrap_err();
    assert!(
        e.to_string().starts_with("Invalid body: invalid length 0"),
        "{e}"
    );
    // a syntax error wins over a shape error found earlier in the text
    let e = parse_json::<User>(br#"{"name":1, oops}"#).unwrap_err();
    assert_eq!(e.name(), "SyntaxError");
    assert_eq!(
        e.to_string(),
        "Expected double-quoted property name in JSON at position 11"
    );
}

#[test]
fn what_v8_accepts_but_serde_cannot_hold_is_a_shape_error() {
    // V8 reads 1e400 as Infinity; serde_json cannot.
    let e = parse_json::<serde_json::Value>(b"1e400").unwrap_err();
    assert!(matches!(e, JsonBodyError::Shape(_)), "{e:?}");
    // Deeper than serde_json's recursion limit.
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    assert!(json_syntax_error(&deep).is_none());
    assert!(matches!(
        parse_json::<serde_json::Value>(deep.as_bytes()),
        Err(JsonBodyError::Shape(_))
    ));
}

#[test]
fn deep_nesting_does_not_overflow() {
    let deep = "[".repeat(1_000_000);
    assert_eq!(
        json_syntax_error(&deep).unwrap().message(),
        "Unexpected end of JSON input"
    );
}

/// Pieces of JSON syntax, so random texts reach every error.
fn json_piece() -> impl proptest::strategy::Strategy<Value = &'static str> {
    proptest::sample::select(vec![
        "{", "}", "[", "]", ":", ",", "\"", "\\", "u", "0", "1", "-", ".", "e", "+", "t", "r", "n",
        "f", "x", " ", "\n", "\u{1}", "é", "😀",
    ])
}

proptest::proptest! {
    /// The walker never panics, and agrees with serde_json on what is JSON (both follow
    /// RFC 8259; serde's extra limits are not reached by these short texts).
    #[test]
    fn agrees_with_serde_on_validity(pieces in proptest::collection::vec(json_piece(), 0..30)) {
        let text = pieces.concat();
        let serde = serde_json::from_str::<serde_json::Value>(&text);
        // V8 reads `1e999` as Infinity; serde refuses it (these pieces cannot spell a lone
        // surrogate escape, the other text V8 takes and serde refuses).
        let out_of_range = serde.as_ref().is_err_and(|e| e.to_string().contains("out of range"));
        proptest::prop_assume!(!out_of_range);
        let v8_ok = json_syntax_error(&text).is_none();
        proptest::prop_assert_eq!(v8_ok, serde.is_ok(), "{:?}", text);
    }
}
