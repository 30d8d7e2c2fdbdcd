//! Code shared by the routes of the docs example: the stand-ins for the functions the Next.js
//! docs call but do not show (`someAsyncOperation`, `handleFormInputAsync`), JavaScript's
//! `parseInt`, the authors of the tutorial example, and webhook signature checking.
//!
//! Route files are separate binaries (one Lambda function each); they reach this library as
//! `docs::…`.

use std::fmt;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// Why a stand-in operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationError(pub String);

impl fmt::Display for OperationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for OperationError {}

/// The docs' `someAsyncOperation()`: resolves to a result, or fails when `fail` is set (the
/// routes pass `?fail=1` through, so that both branches of the docs' `try`/`catch` can be
/// seen).
pub async fn some_async_operation(fail: bool) -> Result<String, OperationError> {
    if fail {
        Err(OperationError("the upstream service is unavailable".into()))
    } else {
        Ok("done".into())
    }
}

/// The fields of the docs' form (`const { name, message } = req.body`); a missing field is
/// `undefined` in JavaScript, an empty string here.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct FormInput {
    /// `name`.
    pub name: String,
    /// `message`.
    pub message: String,
}

/// The docs' `handleFormInputAsync({ name, message })`: accepts a form with both fields.
pub async fn handle_form_input_async(input: &FormInput) -> Result<(), OperationError> {
    if input.name.trim().is_empty() || input.message.trim().is_empty() {
        return Err(OperationError("a name and a message are required".into()));
    }
    Ok(())
}

/// JavaScript's `parseInt(s, 10)`: leading whitespace, an optional sign, then as many digits as
/// there are; `None` where JavaScript gives `NaN`.
pub fn parse_int(s: &str) -> Option<i64> {
    let t = s.trim_start();
    let (negative, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    let value: i64 = digits[..end].parse().ok()?;
    Some(if negative { -value } else { value })
}

/// `${n}` of a `parseInt` result: the number, or `NaN`.
pub fn js_number(n: Option<i64>) -> String {
    n.map_or_else(|| "NaN".to_owned(), |n| n.to_string())
}

/// An author of the tutorial example (`api/authors/[id].rs`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Author {
    /// The id, as it appears in the URL.
    pub id: String,
    /// The author's name.
    pub name: String,
}

/// The authors the example knows (a real app would read a database here; see
/// `examples/notes` for state that survives between invocations).
pub fn find_author(id: &str) -> Option<Author> {
    let name = match id {
        "1" => "Ada Lovelace",
        "2" => "Grace Hopper",
        "3" => "Margaret Hamilton",
        _ => return None,
    };
    Some(Author {
        id: id.to_owned(),
        name: name.to_owned(),
    })
}

/// The body of `POST`/`PUT /api/authors/[id]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthorInput {
    /// The author's name.
    pub name: String,
}

/// Checks a GitHub-style webhook signature: `sha256=` and the hex HMAC-SHA256 of the raw body
/// under `secret`, compared in constant time.
pub fn verify_signature(secret: &[u8], body: &[u8], header: &str) -> bool {
    let Some(signature) = header.strip_prefix("sha256=").and_then(decode_hex) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&signature).is_ok()
}

/// `sha256=<hex>` for `body` under `secret`: what a sender puts in `X-Hub-Signature-256`.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(mac) => mac,
        // HMAC takes keys of any length.
        Err(_) => return String::new(),
    };
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    let digit = |b: u8| char::from(b).to_digit(16);
    s.as_bytes()
        .chunks(2)
        .map(|pair| match *pair {
            [hi, lo] => Some(u8::try_from(digit(hi)? << 4 | digit(lo)?).ok()?),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_int_like_javascript() {
        assert_eq!(parse_int("42"), Some(42));
        assert_eq!(parse_int("  -7px"), Some(-7));
        assert_eq!(parse_int("12abc"), Some(12));
        assert_eq!(parse_int("abc"), None);
        assert_eq!(parse_int(""), None);
        assert_eq!(js_number(parse_int("x")), "NaN");
    }

    /// The test vector of GitHub's "Validating webhook deliveries".
    #[test]
    fn github_test_vector() {
        let secret = b"It's a Secret to Everybody";
        let expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert_eq!(sign(secret, b"Hello, World!"), expected);
        assert!(verify_signature(secret, b"Hello, World!", expected));
        assert!(!verify_signature(secret, b"Hello, World?", expected));
        assert!(!verify_signature(secret, b"Hello, World!", "sha256=zz"));
        assert!(!verify_signature(secret, b"Hello, World!", "sha1=abc"));
    }
}
