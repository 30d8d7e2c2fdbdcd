//! The metadata prelude of a streamed HTTP response, as Lambda reads it from a runtime that
//! posts `Content-Type: application/vnd.awslambda.http-integration-response`: a JSON object
//! (`statusCode`, `headers`, `multiValueHeaders`, `cookies`), then eight NUL bytes, then the
//! body. The runtime writes it in whatever pieces it likes, so it is read incrementally: the
//! delimiter may be split across chunks, and the bytes after it are the body's first chunk.

use bytes::Bytes;
use http::HeaderValue;

use nextr_infra::gateway::rest_api::response::MalformedResponse;
/// The prelude's JSON is the gateway model's: one parser for dev's function URLs and its
/// REST API, the same the REST API's model documents.
pub use nextr_infra::gateway::rest_api::response::Prelude;
pub use nextr_infra::gateway::rest_api::response::PRELUDE_DELIMITER as DELIMITER;

/// A prelude larger than this without its delimiter is malformed (it only carries a status
/// and headers; without a bound a runtime that never sends the delimiter would make the
/// emulator hold its whole stream).
pub const MAX_PRELUDE_BYTES: usize = 1024 * 1024;

/// Headers of the prelude that describe the function's hop, not the response: the client's
/// response is chunked by the front, so a length or an encoding of the function's own would
/// contradict it.
const DROPPED: [&str; 4] = [
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
];

/// Why a streamed response's prelude is unusable; Lambda treats it as a function error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PreludeError {
    /// The stream ended before the eight NUL bytes.
    #[error("the streamed response ended before the prelude's 8-NUL delimiter")]
    MissingDelimiter,
    /// Too many bytes without the delimiter.
    #[error(
        "the streamed response's prelude is over {MAX_PRELUDE_BYTES} bytes without its delimiter"
    )]
    TooLong,
    /// The prelude's JSON is not a valid prelude.
    #[error("the streamed response's prelude: {0}")]
    Malformed(#[from] MalformedResponse),
}

/// The prelude of a stream that is not an HTTP integration response: the whole body is the
/// payload, 200 with the runtime's content type, as Lambda passes it through.
pub fn raw(content_type: Option<HeaderValue>) -> Prelude {
    let content_type =
        content_type.unwrap_or_else(|| HeaderValue::from_static("application/octet-stream"));
    Prelude {
        status: http::StatusCode::OK,
        headers: vec![(http::header::CONTENT_TYPE, content_type)],
    }
}

/// The prelude before the delimiter, without the hop-by-hop headers.
fn parse(json: &[u8]) -> Result<Prelude, PreludeError> {
    let mut prelude = Prelude::parse(json)?;
    prelude
        .headers
        .retain(|(name, _)| !DROPPED.contains(&name.as_str()));
    Ok(prelude)
}

/// Reads a prelude from the stream's first chunks.
#[derive(Debug, Default)]
pub struct PreludeReader {
    buf: Vec<u8>,
}

impl PreludeReader {
    /// Adds a chunk; once the delimiter has arrived, the prelude and the body bytes that came
    /// after it in the same chunk.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Option<(Prelude, Bytes)>, PreludeError> {
        // Only the new bytes, and the last 7 before them, can complete the delimiter.
        let from = self.buf.len().saturating_sub(DELIMITER.len() - 1);
        self.buf.extend_from_slice(chunk);
        let found = self.buf[from..]
            .windows(DELIMITER.len())
            .position(|w| w == DELIMITER);
        match found {
            Some(i) => {
                let end = from + i;
                let prelude = parse(&self.buf[..end])?;
                let rest = Bytes::copy_from_slice(&self.buf[end + DELIMITER.len()..]);
                self.buf = Vec::new();
                Ok(Some((prelude, rest)))
            }
            None if self.buf.len() > MAX_PRELUDE_BYTES => Err(PreludeError::TooLong),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderName, StatusCode};

    const PRELUDE: &[u8] =
        br#"{"statusCode":201,"headers":{"content-type":"text/event-stream","x-a":"1","content-length":"9"},"multiValueHeaders":{"x-m":["a","b"]},"cookies":["s=1; Path=/","t=2"]}"#;

    fn stream() -> Vec<u8> {
        let mut s = PRELUDE.to_vec();
        s.extend_from_slice(&DELIMITER);
        s.extend_from_slice(b"data: 0\n\n");
        s
    }

    fn expected() -> Prelude {
        let h = |n: &'static str, v: &'static str| {
            (HeaderName::from_static(n), HeaderValue::from_static(v))
        };
        Prelude {
            status: StatusCode::CREATED,
            // The gateway model's order: `multiValueHeaders`, then `headers`; `content-length`
            // is dropped.
            headers: vec![
                h("x-m", "a"),
                h("x-m", "b"),
                h("content-type", "text/event-stream"),
                h("x-a", "1"),
                h("set-cookie", "s=1; Path=/"),
                h("set-cookie", "t=2"),
            ],
        }
    }

    #[test]
    fn a_prelude_in_one_chunk_and_the_body_after_it() {
        let mut r = PreludeReader::default();
        let (prelude, rest) = r.push(&stream()).unwrap().unwrap();
        assert_eq!(prelude, expected());
        assert_eq!(&rest[..], b"data: 0\n\n");
    }

    #[test]
    fn a_prelude_split_at_every_byte_boundary_even_inside_the_delimiter() {
        let all = stream();
        for cut in 0..all.len() {
            for second in cut..all.len() {
                let mut r = PreludeReader::default();
                let mut got = None;
                for part in [&all[..cut], &all[cut..second], &all[second..]] {
                    if let Some(done) = r.push(part).unwrap() {
                        assert!(got.is_none(), "the prelude completes once");
                        got = Some(done);
                        break;
                    }
                }
                let (prelude, rest) = got.unwrap_or_else(|| panic!("cut {cut} {second}"));
                assert_eq!(prelude, expected());
                // The rest is the part of the body within the completing chunk.
                assert!(b"data: 0\n\n".starts_with(&rest), "cut {cut} {second}");
            }
        }
    }

    #[test]
    fn one_byte_at_a_time() {
        let all = stream();
        let mut r = PreludeReader::default();
        let end = PRELUDE.len() + DELIMITER.len();
        for (i, b) in all[..end].iter().enumerate() {
            let got = r.push(std::slice::from_ref(b)).unwrap();
            assert_eq!(got.is_some(), i == end - 1, "byte {i}");
        }
    }

    #[test]
    fn seven_nuls_are_not_the_delimiter() {
        let mut r = PreludeReader::default();
        assert_eq!(r.push(b"{}\0\0\0\0\0\0\0").unwrap(), None);
        // The eighth completes it.
        let (prelude, rest) = r.push(b"\0body").unwrap().unwrap();
        assert_eq!(prelude.status, StatusCode::OK);
        assert_eq!(&rest[..], b"body");
    }

    #[test]
    fn malformed_preludes_are_typed_errors() {
        let parse = |s: &[u8]| {
            let mut v = s.to_vec();
            v.extend_from_slice(&DELIMITER);
            PreludeReader::default().push(&v).map(|o| o.map(|(p, _)| p))
        };
        for bad in [
            &b"not json"[..],
            b"[1]",
            br#"{"statusCode":99}"#,
            br#"{"headers":{"a b":"1"}}"#,
            br#"{"cookies":[1]}"#,
            br#"{"headers":{"x":"a\nb"}}"#,
        ] {
            assert!(
                matches!(parse(bad), Err(PreludeError::Malformed(_))),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn a_prelude_without_delimiter_is_bounded() {
        let mut r = PreludeReader::default();
        let chunk = vec![b' '; 64 * 1024];
        let mut result = Ok(None);
        for _ in 0..=(MAX_PRELUDE_BYTES / chunk.len()) {
            result = r.push(&chunk);
            if result.is_err() {
                break;
            }
        }
        assert_eq!(result, Err(PreludeError::TooLong));
    }
}
