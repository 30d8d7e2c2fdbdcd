//! The WHATWG MIME type of a `Content-Type` header, as `fetch`'s body readers see it (the
//! Pages Router's body parser uses the stricter `content-type` package instead; see
//! `request::parse_content_type`).

/// A parsed MIME type: `type/subtype` lower-cased, and its parameters (first one wins).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MimeType {
    pub(crate) essence: String,
    params: Vec<(String, String)>,
}

impl MimeType {
    /// A parameter's value (names are lower-cased).
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// "Extract a MIME type" from a header value: the values split on commas outside quotes,
/// the last one that parses and is not `*/*` wins. `None` when none parses.
pub(crate) fn parse_header(header: &str) -> Option<MimeType> {
    split_values(header)
        .into_iter()
        .filter_map(|v| parse(&v))
        .rfind(|m| m.essence != "*/*")
}

fn is_http_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn is_quoted_string_char(c: char) -> bool {
    c == '\t' || (' '..='~').contains(&c) || ('\u{80}'..='\u{ff}').contains(&c)
}

/// "Get, decode, and split": commas inside a quoted string do not split.
fn split_values(header: &str) -> Vec<String> {
    let mut values = Vec::new();
    let mut current = String::new();
    let mut chars = header.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                current.push(c);
                while let Some(q) = chars.next() {
                    current.push(q);
                    if q == '\\' {
                        if let Some(escaped) = chars.next() {
                            current.push(escaped);
                        }
                    } else if q == '"' {
                        break;
                    }
                }
            }
            ',' => values.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    values.push(current);
    values
        .into_iter()
        .map(|v| v.trim_matches(|c| c == ' ' || c == '\t').to_owned())
        .collect()
}

/// "Parse a MIME type".
pub(crate) fn parse(input: &str) -> Option<MimeType> {
    let input = input.trim_matches(is_http_space);
    let (main, rest) = input.split_once('/')?;
    if !is_token(main) {
        return None;
    }
    let (sub, mut rest) = match rest.find(';') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let sub = sub.trim_end_matches(is_http_space);
    if !is_token(sub) {
        return None;
    }
    let mut mime = MimeType {
        essence: format!("{main}/{sub}").to_ascii_lowercase(),
        params: Vec::new(),
    };
    // `rest` is empty or starts with ';'.
    while let Some(after) = rest.strip_prefix(';') {
        let after = after.trim_start_matches(is_http_space);
        let name_end = after.find([';', '=']).unwrap_or(after.len());
        let name = after[..name_end].to_ascii_lowercase();
        rest = &after[name_end..];
        let Some(value_start) = rest.strip_prefix('=') else {
            continue; // a name without `=`, or the end
        };
        let value;
        if let Some(quoted) = value_start.strip_prefix('"') {
            let (v, consumed) = quoted_string(quoted);
            value = v;
            let tail = &quoted[consumed..];
            rest = &tail[tail.find(';').unwrap_or(tail.len())..];
        } else {
            let end = value_start.find(';').unwrap_or(value_start.len());
            value = value_start[..end]
                .trim_end_matches(is_http_space)
                .to_owned();
            rest = &value_start[end..];
            if value.is_empty() {
                continue;
            }
        }
        if is_token(&name)
            && value.chars().all(is_quoted_string_char)
            && mime.param(&name).is_none()
        {
            mime.params.push((name, value));
        }
    }
    Some(mime)
}

/// "Collect an HTTP quoted string" (extract-value), from after the opening quote: the value
/// and how many bytes were consumed (up to and including the closing quote, if any).
fn quoted_string(s: &str) -> (String, usize) {
    let mut value = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return (value, i + 1),
            '\\' => match chars.next() {
                Some((_, escaped)) => value.push(escaped),
                None => {
                    value.push('\\');
                    return (value, s.len());
                }
            },
            _ => value.push(c),
        }
    }
    (value, s.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn essence_and_params() {
        let m = parse(" Multipart/Form-Data ; Boundary=\"a;b\\\"c\" ; x=1").unwrap();
        assert_eq!(m.essence, "multipart/form-data");
        assert_eq!(m.param("boundary"), Some("a;b\"c"));
        assert_eq!(m.param("x"), Some("1"));
        let first_wins = parse("text/plain;charset=a;charset=b").unwrap();
        assert_eq!(first_wins.param("charset"), Some("a"));
    }

    #[test]
    fn failures() {
        assert_eq!(parse("garbage"), None);
        assert_eq!(parse("/x"), None);
        assert_eq!(parse("text/"), None);
        assert_eq!(parse("te xt/plain"), None);
        assert_eq!(parse(""), None);
    }

    #[test]
    fn odd_params_are_skipped() {
        let m = parse("a/b;;flag;=v;k=;ok=1;bad key=2").unwrap();
        assert_eq!(m.params, [("ok".to_owned(), "1".to_owned())]);
    }

    #[test]
    fn header_with_several_values_takes_the_last_valid() {
        let m = parse_header("application/json, multipart/form-data; boundary=\"x,y\"").unwrap();
        assert_eq!(m.essence, "multipart/form-data");
        assert_eq!(m.param("boundary"), Some("x,y"));
        let m = parse_header("text/plain, */*, garbage").unwrap();
        assert_eq!(m.essence, "text/plain");
        assert_eq!(parse_header("garbage"), None);
    }
}
