//! A matcher's `source` compiled as Next compiles it: path-to-regexp 6 (`parse` then
//! `tokensToRegexp` with its default options: delimiters `/#?`, not strict, anchored), written
//! here token by token so every error can say where it is.

use super::MatcherError;

/// One token of path-to-regexp's lexer.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Lex {
    Char(char),
    Escaped(char),
    Name(String),
    Pattern(String),
    Modifier(char),
    Open,
    Close,
}

impl Lex {
    /// path-to-regexp's name of the token kind, for its "Unexpected X at i" message.
    fn kind(&self) -> &'static str {
        match self {
            Lex::Char(_) => "CHAR",
            Lex::Escaped(_) => "ESCAPED_CHAR",
            Lex::Name(_) => "NAME",
            Lex::Pattern(_) => "PATTERN",
            Lex::Modifier(_) => "MODIFIER",
            Lex::Open => "OPEN",
            Lex::Close => "CLOSE",
        }
    }
}

/// path-to-regexp's lexer; positions are char indexes, as its messages give them.
fn lex(source: &str) -> Result<Vec<(usize, Lex)>, MatcherError> {
    let chars: Vec<char> = source.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '*' | '+' | '?' => {
                out.push((i, Lex::Modifier(c)));
                i += 1;
            }
            '\\' => {
                // A trailing backslash escapes nothing; path-to-regexp reads `undefined` there,
                // which becomes the text "undefined": refuse it instead.
                let Some(&next) = chars.get(i + 1) else {
                    return Err(MatcherError::Syntax(format!("Trailing escape at {i}")));
                };
                out.push((i, Lex::Escaped(next)));
                i += 2;
            }
            '{' => {
                out.push((i, Lex::Open));
                i += 1;
            }
            '}' => {
                out.push((i, Lex::Close));
                i += 1;
            }
            ':' => {
                let mut j = i + 1;
                let mut name = String::new();
                while let Some(&n) = chars.get(j) {
                    if n.is_ascii_alphanumeric() || n == '_' {
                        name.push(n);
                        j += 1;
                    } else {
                        break;
                    }
                }
                if name.is_empty() {
                    return Err(MatcherError::Syntax(format!(
                        "Missing parameter name at {i}"
                    )));
                }
                out.push((i, Lex::Name(name)));
                i = j;
            }
            '(' => {
                let (pattern, end) = group(&chars, i)?;
                out.push((i, Lex::Pattern(pattern)));
                i = end;
            }
            _ => {
                out.push((i, Lex::Char(c)));
                i += 1;
            }
        }
    }
    Ok(out)
}

/// The regex group opening at `start`: its pattern and the index after its `)`.
fn group(chars: &[char], start: usize) -> Result<(String, usize), MatcherError> {
    let mut depth = 1;
    let mut pattern = String::new();
    let mut j = start + 1;
    if chars.get(j) == Some(&'?') {
        return Err(MatcherError::Syntax(format!(
            "Pattern cannot start with \"?\" at {j}"
        )));
    }
    while j < chars.len() {
        match chars[j] {
            '\\' => {
                pattern.push('\\');
                if let Some(&n) = chars.get(j + 1) {
                    pattern.push(n);
                }
                j += 2;
                continue;
            }
            ')' => {
                depth -= 1;
                if depth == 0 {
                    j += 1;
                    break;
                }
            }
            '(' => {
                depth += 1;
                // Capturing groups would shift the parameters' numbering.
                if chars.get(j + 1) != Some(&'?') {
                    return Err(MatcherError::Syntax(format!(
                        "Capturing groups are not allowed at {j}"
                    )));
                }
            }
            _ => {}
        }
        pattern.push(chars[j]);
        j += 1;
    }
    if depth != 0 {
        return Err(MatcherError::Syntax(format!(
            "Unbalanced pattern at {start}"
        )));
    }
    if pattern.is_empty() {
        return Err(MatcherError::Syntax(format!("Missing pattern at {start}")));
    }
    Ok((pattern, j))
}

/// A parameter token of path-to-regexp's `parse`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Param {
    prefix: String,
    suffix: String,
    /// `None`: a `{…}` group without a parameter (its text, optionally repeated).
    pattern: Option<Pattern>,
    modifier: Option<char>,
}

/// A parameter's pattern: the default one segment, or a regex written in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Pattern {
    Segment,
    Custom(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Text(String),
    Param(Param),
}

/// path-to-regexp's `parse` (prefixes `./`).
fn parse(source: &str) -> Result<Vec<Token>, MatcherError> {
    let lexed = lex(source)?;
    let mut tokens = Vec::new();
    let mut i = 0;
    let mut path = String::new();
    let unexpected = |i: usize, expected: &str| -> MatcherError {
        match lexed.get(i) {
            Some((at, t)) => MatcherError::Syntax(format!(
                "Unexpected {} at {at}, expected {expected}",
                t.kind()
            )),
            None => MatcherError::Syntax(format!(
                "Unexpected END at {}, expected {expected}",
                source.chars().count()
            )),
        }
    };
    let modifier = |i: &mut usize| match lexed.get(*i) {
        Some((_, Lex::Modifier(m))) => {
            *i += 1;
            Some(*m)
        }
        _ => None,
    };
    while i < lexed.len() {
        let char = match lexed.get(i) {
            Some((_, Lex::Char(c))) => {
                i += 1;
                Some(*c)
            }
            _ => None,
        };
        let name = match lexed.get(i) {
            Some((_, Lex::Name(_))) => {
                i += 1;
                true
            }
            _ => false,
        };
        let pattern = match lexed.get(i) {
            Some((_, Lex::Pattern(p))) => {
                i += 1;
                Some(p.clone())
            }
            _ => None,
        };
        if name || pattern.is_some() {
            let mut prefix = String::new();
            if let Some(c) = char {
                // Only `.` and `/` attach to the parameter (and become optional with it).
                if c == '/' || c == '.' {
                    prefix.push(c);
                } else {
                    path.push(c);
                }
            }
            if !path.is_empty() {
                tokens.push(Token::Text(std::mem::take(&mut path)));
            }
            tokens.push(Token::Param(Param {
                prefix,
                suffix: String::new(),
                pattern: Some(pattern.map_or(Pattern::Segment, Pattern::Custom)),
                modifier: modifier(&mut i),
            }));
            continue;
        }
        if let Some(c) = char {
            path.push(c);
            continue;
        }
        if let Some((_, Lex::Escaped(c))) = lexed.get(i) {
            path.push(*c);
            i += 1;
            continue;
        }
        if !path.is_empty() {
            tokens.push(Token::Text(std::mem::take(&mut path)));
        }
        if let Some((_, Lex::Open)) = lexed.get(i) {
            i += 1;
            let prefix = text(&lexed, &mut i);
            let name = matches!(lexed.get(i), Some((_, Lex::Name(_))));
            if name {
                i += 1;
            }
            let custom = match lexed.get(i) {
                Some((_, Lex::Pattern(p))) => {
                    i += 1;
                    Some(p.clone())
                }
                _ => None,
            };
            let suffix = text(&lexed, &mut i);
            if !matches!(lexed.get(i), Some((_, Lex::Close))) {
                return Err(unexpected(i, "CLOSE"));
            }
            i += 1;
            let pattern = match (name, custom) {
                (_, Some(p)) => Some(Pattern::Custom(p)),
                (true, None) => Some(Pattern::Segment),
                (false, None) => None,
            };
            tokens.push(Token::Param(Param {
                prefix,
                suffix,
                pattern,
                modifier: modifier(&mut i),
            }));
            continue;
        }
        return Err(unexpected(i, "END"));
    }
    if !path.is_empty() {
        tokens.push(Token::Text(path));
    }
    Ok(tokens)
}

/// path-to-regexp's `consumeText`: characters and escaped characters.
fn text(lexed: &[(usize, Lex)], i: &mut usize) -> String {
    let mut out = String::new();
    while let Some((_, Lex::Char(c) | Lex::Escaped(c))) = lexed.get(*i) {
        out.push(*c);
        *i += 1;
    }
    out
}

/// The default parameter pattern: one segment (path-to-regexp's `[^\/#\?]+?`), byte-wise so
/// that a decoded path that is not UTF-8 (`%FF`) still has segments.
const SEGMENT: &str = "(?-u:[^/#?])+?";

/// A source compiled: the path regex, and the lookahead it may start with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SourceRegex {
    /// The anchored regex, without the lookahead.
    pub(super) path: String,
    /// A lookahead at a fixed position (after literal text only), as a separate regex.
    pub(super) guard: Option<Guard>,
}

/// `(?!X)` or `(?=X)` at a fixed offset `L` of the path: the regex `^L(?:X)` must not (or
/// must) match. The regex crate has no lookaround; at a fixed offset this is the same test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Guard {
    /// `(?!…)`: the path matches only when `regex` does not.
    pub(super) negative: bool,
    /// `^L(?:X)`, anchored at the start only (a lookahead reads ahead, not to the end).
    pub(super) regex: String,
}

/// The anchored regex of a source, as path-to-regexp's `tokensToRegexp` writes it, with the
/// written patterns run in `(?-u:…)` (ASCII `\d`, `\w`, `\s`, as JavaScript without the `u`
/// flag). Next's `/_next/data/<id>` prefix and `.json` suffix are left out (see the module docs).
pub(super) fn to_regex(source: &str) -> Result<SourceRegex, MatcherError> {
    let tokens = parse(source)?;
    let mut re = String::from("^");
    let mut guard = None;
    // The literal text before the current token, while nothing variable came before it.
    let mut fixed = Some(String::new());
    for token in &tokens {
        match token {
            Token::Text(t) => {
                re.push_str(&regex::escape(t));
                if let Some(f) = &mut fixed {
                    f.push_str(t);
                }
            }
            Token::Param(p) => {
                let prefix = regex::escape(&p.prefix);
                let suffix = regex::escape(&p.suffix);
                let modifier = p.modifier.map(String::from).unwrap_or_default();
                let Some(pattern) = &p.pattern else {
                    re.push_str(&format!("(?:{prefix}{suffix}){modifier}"));
                    fixed = None;
                    continue;
                };
                let pattern = match pattern {
                    Pattern::Segment => SEGMENT.to_owned(),
                    // Next's idiom `/((?!api|_next/static).*)`: a lookahead first in the first
                    // group, after literal text only, so its offset is known.
                    Pattern::Custom(c) => match (fixed.take(), p.modifier, lookahead(c)) {
                        (Some(f), None, Some((negative, ahead, rest))) => {
                            guard = Some(Guard {
                                negative,
                                regex: format!("^{}{prefix}(?-u:{ahead})", regex::escape(&f)),
                            });
                            format!("(?-u:{rest})")
                        }
                        _ => format!("(?-u:{c})"),
                    },
                };
                fixed = None;
                let repeated = matches!(p.modifier, Some('*' | '+'));
                re.push_str(&match (prefix.is_empty() && suffix.is_empty(), repeated) {
                    (false, true) => {
                        let optional = if p.modifier == Some('*') { "?" } else { "" };
                        format!(
                            "(?:{prefix}(?:(?:{pattern})(?:{suffix}{prefix}(?:{pattern}))*){suffix}){optional}"
                        )
                    }
                    (false, false) => format!("(?:{prefix}(?:{pattern}){suffix}){modifier}"),
                    (true, true) => format!("(?:(?:{pattern}){modifier})"),
                    (true, false) => format!("(?:{pattern}){modifier}"),
                });
            }
        }
    }
    // Not strict: one optional trailing delimiter.
    re.push_str("[/#?]?$");
    Ok(SourceRegex { path: re, guard })
}

/// A pattern that starts with `(?!X)` or `(?=X)`: (negative, X, the rest of the pattern).
fn lookahead(pattern: &str) -> Option<(bool, &str, &str)> {
    let negative = match pattern.get(..3)? {
        "(?!" => true,
        "(?=" => false,
        _ => return None,
    };
    let bytes = pattern.as_bytes();
    let mut depth = 1;
    let mut i = 3;
    let mut class = false;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'[' if !class => class = true,
            b']' if class => class = false,
            b'(' if !class => depth += 1,
            b')' if !class => {
                depth -= 1;
                if depth == 0 {
                    return Some((negative, &pattern[3..i], &pattern[i + 1..]));
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regexes_have_path_to_regexps_shape() {
        assert_eq!(
            to_regex("/api/:path*").unwrap().path,
            "^/api(?:/(?:(?:(?-u:[^/#?])+?)(?:/(?:(?-u:[^/#?])+?))*))?[/#?]?$"
        );
        assert_eq!(
            to_regex("/m2/(\\d{1,3})").unwrap().path,
            "^/m2(?:/(?:(?-u:\\d{1,3})))[/#?]?$"
        );
        assert_eq!(
            to_regex("/a/:id(\\d+)?").unwrap().path,
            "^/a(?:/(?:(?-u:\\d+)))?[/#?]?$"
        );
    }

    #[test]
    fn a_leading_lookahead_becomes_a_guard() {
        let r = to_regex("/((?!api|_next/static|fav\\)icon).*)").unwrap();
        assert_eq!(r.path, "^(?:/(?:(?-u:.*)))[/#?]?$");
        assert_eq!(
            r.guard,
            Some(Guard {
                negative: true,
                regex: "^/(?-u:api|_next/static|fav\\)icon)".into()
            })
        );
        // Not at a fixed offset: left in place (and refused by the regex crate).
        assert_eq!(to_regex("/:a/((?!x).*)").unwrap().guard, None);
        assert_eq!(to_regex("/((?!x).*)?").unwrap().guard, None);
    }

    #[test]
    fn syntax_errors_use_path_to_regexps_words() {
        let err = |s: &str| to_regex(s).unwrap_err().to_string();
        assert_eq!(err("/api/*"), "Unexpected MODIFIER at 5, expected END");
        assert_eq!(err("/a/:"), "Missing parameter name at 3");
        assert_eq!(err("/a/(\\d"), "Unbalanced pattern at 3");
        assert_eq!(err("/a/()"), "Missing pattern at 3");
        assert_eq!(err("/a/(?:x)"), "Pattern cannot start with \"?\" at 4");
        assert_eq!(err("/a/(a(b))"), "Capturing groups are not allowed at 5");
        assert_eq!(err("/a{/b"), "Unexpected END at 5, expected CLOSE");
    }
}
