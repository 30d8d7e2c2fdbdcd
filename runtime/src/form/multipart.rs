//! undici's `multipart/form-data` parser (Node 20's `fetch`, undici 6), which Next's
//! `request.formData()` runs. It is far stricter than general-purpose readers such as
//! `multer`: exact `Content-Disposition: form-data; name="…"` syntax, nothing but blank
//! lines around the parts, a CRLF before every boundary. `form/undici_cases.json` holds what
//! undici answered on 300 bodies, and the tests check this parser against it.

use bytes::Bytes;

use super::{File, FormValue};

/// What the `Content-Disposition` and the other part headers say.
struct PartHeaders {
    name: String,
    filename: Option<String>,
    content_type: Option<String>,
    encoding: Option<String>,
}

/// The entries of `input`, or `None` where undici returns failure.
pub(super) fn parse(input: &Bytes, boundary: &str) -> Option<Vec<(String, FormValue)>> {
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    let mut pos = 0;
    // undici's addition: leading and trailing CRLFs are allowed.
    while input[pos..].starts_with(b"\r\n") {
        pos += 2;
    }
    let mut end = input.len();
    while end >= 2 && input[..end].ends_with(b"\r\n") {
        end -= 2;
    }
    let input = input.slice(..end.max(pos.min(input.len())));
    let len = input.len();
    let mut entries = Vec::new();
    loop {
        if !input[pos..].starts_with(delimiter) {
            return None;
        }
        pos += delimiter.len();
        let rest = &input[pos..];
        if (pos + 2 == len && rest.starts_with(b"--")) || (pos + 4 == len && rest == b"--\r\n") {
            return Some(entries);
        }
        if !rest.starts_with(b"\r\n") {
            return None;
        }
        pos += 2;
        let headers = part_headers(&input, &mut pos)?;
        pos += 2; // the blank line after the headers
        let found = find(&input[pos.min(len)..], boundary.as_bytes())? + pos;
        // The body ends 4 bytes (CRLF `--`) before the boundary, unchecked, as in undici.
        let body_end = found.saturating_sub(4).max(pos);
        let mut body = input.slice(pos.min(len)..body_end.min(len));
        pos += body.len();
        if headers.encoding.as_deref() == Some("base64") {
            body = Bytes::from(lenient_base64(&body));
        }
        if !input[pos.min(len)..].starts_with(b"\r\n") {
            return None;
        }
        pos += 2;
        let value = match headers.filename {
            Some(name) => {
                let content_type = headers.content_type.unwrap_or_else(|| "text/plain".into());
                FormValue::File(File {
                    name,
                    content_type: file_type(&content_type),
                    bytes: body,
                })
            }
            None => FormValue::Text(super::utf8_decode(&body)),
        };
        entries.push((headers.name, value));
    }
}

/// "Parse multipart/form-data headers", up to (not past) the blank line.
fn part_headers(input: &[u8], pos: &mut usize) -> Option<PartHeaders> {
    let mut name = None;
    let mut filename = None;
    let mut content_type = None;
    let mut encoding = None;
    loop {
        if rest(input, *pos).starts_with(b"\r\n") {
            return Some(PartHeaders {
                name: name?,
                filename,
                content_type,
                encoding,
            });
        }
        let header = collect(input, pos, |b| !matches!(b, b'\n' | b'\r' | b':'));
        let header = trim_tabs_spaces(header, true);
        if !is_token(header) || input.get(*pos) != Some(&b':') {
            return None;
        }
        *pos += 1;
        collect(input, pos, |b| b == b' ' || b == b'\t');
        match header.to_ascii_lowercase().as_slice() {
            b"content-disposition" => {
                filename = None;
                const FORM_DATA: &[u8] = b"form-data; name=\"";
                if !rest(input, *pos).starts_with(FORM_DATA) {
                    return None;
                }
                *pos += FORM_DATA.len();
                name = Some(quoted_name(input, pos)?);
                if rest(input, *pos).starts_with(b"; filename") {
                    let mut check = *pos + b"; filename".len();
                    if input.get(check) == Some(&b'*') {
                        *pos += 1;
                        check += 1;
                    }
                    if input.get(check..check + 2) != Some(b"=\"") {
                        return None;
                    }
                    *pos += b"; filename=\"".len();
                    filename = Some(quoted_name(input, pos)?);
                }
            }
            b"content-type" => {
                let value = collect(input, pos, |b| b != b'\n' && b != b'\r');
                content_type = Some(isomorphic_decode(trim_tabs_spaces(value, false)));
            }
            b"content-transfer-encoding" => {
                let value = collect(input, pos, |b| b != b'\n' && b != b'\r');
                encoding = Some(isomorphic_decode(trim_tabs_spaces(value, false)));
            }
            _ => {
                collect(input, pos, |b| b != b'\n' && b != b'\r');
            }
        }
        // undici tests `!== CR && !== LF` here, so only a line ending in neither byte fails.
        let at = |i: usize| input.get(*pos + i).copied();
        if at(0) != Some(b'\r') && at(1) != Some(b'\n') {
            return None;
        }
        *pos += 2;
    }
}

/// "Parse a multipart/form-data name", after its opening quote: up to the closing quote, no
/// CR or LF; `%0A`, `%0D` (any case) and `%22` turned back into their bytes.
fn quoted_name(input: &[u8], pos: &mut usize) -> Option<String> {
    let raw = collect(input, pos, |b| !matches!(b, b'\n' | b'\r' | b'"'));
    if input.get(*pos) != Some(&b'"') {
        return None;
    }
    *pos += 1;
    let text = super::utf8_decode(raw);
    Some(
        text.replace("%0A", "\n")
            .replace("%0a", "\n")
            .replace("%0D", "\r")
            .replace("%0d", "\r")
            .replace("%22", "\""),
    )
}

/// The input from `pos` (empty past the end: undici reads `undefined` there).
fn rest(input: &[u8], pos: usize) -> &[u8] {
    &input[pos.min(input.len())..]
}

/// "Collect a sequence of bytes" while `keep` holds, advancing `pos`.
fn collect<'a>(input: &'a [u8], pos: &mut usize, keep: impl Fn(u8) -> bool) -> &'a [u8] {
    let start = (*pos).min(input.len());
    let len = input[start..].iter().take_while(|&&b| keep(b)).count();
    *pos = start + len;
    &input[start..start + len]
}

fn trim_tabs_spaces(bytes: &[u8], leading: bool) -> &[u8] {
    let space = |b: &u8| *b == b' ' || *b == b'\t';
    let end = bytes.iter().rposition(|b| !space(b)).map_or(0, |i| i + 1);
    let bytes = &bytes[..end];
    if leading {
        let start = bytes.iter().position(|b| !space(b)).unwrap_or(bytes.len());
        &bytes[start..]
    } else {
        bytes
    }
}

/// undici's `HTTP_TOKEN_CODEPOINTS` (RFC 9110 token).
fn is_token(bytes: &[u8]) -> bool {
    !bytes.is_empty()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(b))
}

/// Bytes as Latin-1 characters.
fn isomorphic_decode(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// A `File`'s `type`: `""` unless printable ASCII, else lower-cased.
fn file_type(content_type: &str) -> String {
    if content_type.chars().all(|c| (' '..='~').contains(&c)) {
        content_type.to_ascii_lowercase()
    } else {
        String::new()
    }
}

/// The first index of `needle` in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Node's `Buffer.from(text, 'base64')`: both alphabets, other bytes skipped, stops at `=`.
fn lenient_base64(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in text {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            _ => continue,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_like_node() {
        assert_eq!(lenient_base64(b"aGk="), b"hi");
        assert_eq!(lenient_base64(b"aG\r\nk"), b"hi");
        assert_eq!(lenient_base64(b"-_8"), [0xfb, 0xff]);
        assert_eq!(lenient_base64(b"aGk=aGk="), b"hi");
    }

    #[test]
    fn header_lines_need_only_one_of_cr_lf() {
        // `Content-Type: x\r-` passes undici's `&&` check and skips two bytes.
        let body = Bytes::from_static(
            b"--b\r\nContent-Disposition: form-data; name=\"a\"; filename=\"f\"\r\nContent-Type: x\r-\r\nv\r\n--b--",
        );
        let entries = parse(&body, "b").unwrap();
        let FormValue::File(f) = &entries[0].1 else {
            panic!("not a file: {entries:?}")
        };
        assert_eq!((f.content_type.as_str(), &f.bytes[..]), ("x", &b"v"[..]));
    }
}
