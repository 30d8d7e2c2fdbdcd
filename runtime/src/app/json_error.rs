//! `request.json()`'s errors: a body that is not JSON fails with the `SyntaxError` V8's
//! `JSON.parse` throws (Node 20, V8 11.3: the message a Next handler would catch and log),
//! and a JSON body that does not fit the handler's type fails naming the field, as the Pages
//! Router's `req.json()` does.
//!
//! serde_json parses; only when it fails does [`json_syntax_error`] walk the text the way V8's
//! parser does, to find V8's first error and its position (in UTF-16 code units, as
//! JavaScript counts). A body V8 would accept but serde cannot turn into `T` (a wrong shape,
//! a duplicate field, a number beyond `f64`, a lone surrogate escape such as `"\ud800"`, or
//! nesting deeper than serde_json's 128 levels) is a [`JsonShapeError`], which Next has no
//! equivalent for.

use serde::de::DeserializeOwned;

/// Why `request.json::<T>()` failed.
#[derive(Debug, thiserror::Error)]
pub enum JsonBodyError {
    /// The body is not JSON (`JSON.parse` throws).
    #[error(transparent)]
    Syntax(#[from] JsonSyntaxError),
    /// The body is JSON, but not a `T` (nextr's typed parsing; Next has no such error).
    #[error(transparent)]
    Shape(#[from] JsonShapeError),
}

impl JsonBodyError {
    /// The JavaScript error name: `SyntaxError` for a syntax error, `TypeError` for a shape
    /// error (the name a JavaScript handler validating its input would typically throw).
    pub fn name(&self) -> &'static str {
        match self {
            JsonBodyError::Syntax(e) => e.name(),
            JsonBodyError::Shape(_) => "TypeError",
        }
    }
}

/// V8's `SyntaxError` for a body that is not JSON; `Display` is its message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct JsonSyntaxError {
    message: String,
}

impl JsonSyntaxError {
    /// The message, e.g. `Unexpected end of JSON input`.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The error's name, `SyntaxError`.
    pub fn name(&self) -> &'static str {
        "SyntaxError"
    }
}

/// A JSON body of the wrong shape for the handler's type, naming the field:
/// ``Invalid body: at `user.age`: invalid type: string "x", expected u32``.
#[derive(Debug, thiserror::Error)]
#[error("Invalid body: {}{source}", at(path))]
pub struct JsonShapeError {
    /// The path of the field (`.` for the whole body).
    pub path: String,
    /// serde's description.
    pub source: serde_json::Error,
}

fn at(path: &str) -> String {
    if path == "." {
        String::new()
    } else {
        format!("at `{path}`: ")
    }
}

impl From<serde_path_to_error::Error<serde_json::Error>> for JsonShapeError {
    fn from(e: serde_path_to_error::Error<serde_json::Error>) -> Self {
        JsonShapeError {
            path: e.path().to_string(),
            source: e.into_inner(),
        }
    }
}

/// `await request.json()` into a `T`: the body is decoded as UTF-8 (a BOM dropped, bad bytes
/// as U+FFFD, as `fetch` decodes it), whatever the Content-Type, and an empty body is an
/// error (`Unexpected end of JSON input`), unlike the Pages Router's `{}`.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, JsonBodyError> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let text = String::from_utf8_lossy(body);
    let mut de = serde_json::Deserializer::from_str(&text);
    let parsed = serde_path_to_error::deserialize(&mut de)
        .map_err(JsonShapeError::from)
        .and_then(|value| {
            de.end().map(|()| value).map_err(|source| JsonShapeError {
                path: ".".into(),
                source,
            })
        });
    parsed.map_err(|shape| match json_syntax_error(&text) {
        Some(syntax) => JsonBodyError::Syntax(syntax),
        None => JsonBodyError::Shape(shape),
    })
}

/// The `SyntaxError` V8's `JSON.parse(text)` throws, or `None` when V8 accepts the text.
pub fn json_syntax_error(text: &str) -> Option<JsonSyntaxError> {
    let src: Vec<u16> = text.encode_utf16().collect();
    let mut parser = V8Json { src: &src, pos: 0 };
    parser
        .run()
        .err()
        .map(|message| JsonSyntaxError { message })
}

// V8's message templates; `%` is the position.
const NON_WHITESPACE_AFTER: &str = "Unexpected non-whitespace character after JSON at position %";
const PROPERTY_NAME_OR_BRACE: &str = "Expected property name or '}' in JSON at position %";
const DOUBLE_QUOTED_NAME: &str = "Expected double-quoted property name in JSON at position %";
const COLON_AFTER_NAME: &str = "Expected ':' after property name in JSON at position %";
const COMMA_OR_BRACE: &str = "Expected ',' or '}' after property value in JSON at position %";
const COMMA_OR_BRACKET: &str = "Expected ',' or ']' after array element in JSON at position %";
const UNTERMINATED_STRING: &str = "Unterminated string in JSON at position %";
const BAD_CONTROL: &str = "Bad control character in string literal in JSON at position %";
const BAD_ESCAPE: &str = "Bad escaped character in JSON at position %";
const BAD_UNICODE: &str = "Bad Unicode escape in JSON at position %";
const NO_NUMBER_AFTER_MINUS: &str = "No number after minus sign in JSON at position %";
const UNTERMINATED_FRACTION: &str = "Unterminated fractional number in JSON at position %";
const EXPONENT_MISSING: &str = "Exponent part is missing a number in JSON at position %";

/// How much source V8 quotes on each side of an unexpected token.
const CONTEXT: usize = 10;

/// V8's one-character token classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    String,
    Number,
    Literal,
    LBrace,
    RBrace,
    LBrack,
    RBrack,
    Colon,
    Comma,
    Illegal,
    End,
}

#[derive(Clone, Copy)]
enum Frame {
    Array,
    Object,
}

/// A validator that fails where and how V8's `JsonParser` fails (iterative, so deep nesting
/// cannot overflow the stack). Errors are the final message.
struct V8Json<'a> {
    src: &'a [u16],
    pos: usize,
}

type Step = Result<(), String>;

impl V8Json<'_> {
    fn peek(&self) -> Option<u16> {
        self.src.get(self.pos).copied()
    }

    fn token(&self) -> Token {
        let Some(c) = self.peek() else {
            return Token::End;
        };
        match u8::try_from(c).map(char::from) {
            Ok('"') => Token::String,
            Ok('-' | '0'..='9') => Token::Number,
            Ok('t' | 'f' | 'n') => Token::Literal,
            Ok('{') => Token::LBrace,
            Ok('}') => Token::RBrace,
            Ok('[') => Token::LBrack,
            Ok(']') => Token::RBrack,
            Ok(':') => Token::Colon,
            Ok(',') => Token::Comma,
            _ => Token::Illegal,
        }
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(0x20 | 0x09 | 0x0a | 0x0d)) {
            self.pos += 1;
        }
    }

    fn is_digit(&self) -> bool {
        matches!(self.peek(), Some(c) if (u16::from(b'0')..=u16::from(b'9')).contains(&c))
    }

    fn is(&self, c: u8) -> bool {
        self.peek() == Some(u16::from(c))
    }

    /// A failure with an explicit template, at the cursor.
    fn fail(&self, template: &str) -> String {
        template.replace('%', &self.pos.to_string())
    }

    /// A failure without a template: the message depends on the token at the cursor.
    fn unexpected(&self) -> String {
        let pos = self.pos;
        match self.token() {
            Token::End => "Unexpected end of JSON input".into(),
            Token::Number => format!("Unexpected number in JSON at position {pos}"),
            Token::String => format!("Unexpected string in JSON at position {pos}"),
            _ => {
                let source = String::from_utf16_lossy(self.src);
                if ["NaN", "Infinity", "undefined", "[object Object]"].contains(&source.as_str()) {
                    return format!("\"{source}\" is not valid JSON");
                }
                let token = String::from_utf16_lossy(&self.src[pos..=pos]);
                let len = self.src.len();
                let slice = |a: usize, b: usize| String::from_utf16_lossy(&self.src[a..b]);
                let quoted = if len <= 2 * CONTEXT {
                    format!("\"{source}\"")
                } else if pos < CONTEXT {
                    format!("\"{}\"...", slice(0, pos + CONTEXT))
                } else if pos < len - CONTEXT {
                    format!("...\"{}\"...", slice(pos - CONTEXT, pos + CONTEXT))
                } else {
                    format!("...\"{}\"", slice(pos - CONTEXT, len))
                };
                format!("Unexpected token '{token}', {quoted} is not valid JSON")
            }
        }
    }

    /// V8's `Check`: skips whitespace, consumes `token` if it is next.
    fn check(&mut self, token: Token) -> bool {
        self.skip_whitespace();
        let found = self.token() == token;
        if found {
            self.pos += 1;
        }
        found
    }

    /// V8's `Expect` with a message (whitespace already skipped).
    fn expect(&mut self, token: Token, template: &str) -> Step {
        if self.token() == token {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.fail(template))
        }
    }

    /// A property name (whitespace first), then `:`. V8 names the missing `:` only after
    /// an object's first name; after a later one the error is about the token found.
    fn property_name(&mut self, first: bool) -> Step {
        self.skip_whitespace();
        if self.token() != Token::String {
            let template = if first {
                PROPERTY_NAME_OR_BRACE
            } else {
                DOUBLE_QUOTED_NAME
            };
            return Err(self.fail(template));
        }
        self.string()?;
        self.skip_whitespace();
        if first {
            self.expect(Token::Colon, COLON_AFTER_NAME)
        } else if self.token() == Token::Colon {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn run(&mut self) -> Step {
        let mut stack: Vec<Frame> = Vec::new();
        'value: loop {
            self.skip_whitespace();
            match self.token() {
                Token::String => self.string()?,
                Token::Number => self.number()?,
                Token::Literal => self.literal()?,
                Token::LBrace => {
                    self.pos += 1;
                    if !self.check(Token::RBrace) {
                        self.property_name(true)?;
                        stack.push(Frame::Object);
                        continue 'value;
                    }
                }
                Token::LBrack => {
                    self.pos += 1;
                    if !self.check(Token::RBrack) {
                        stack.push(Frame::Array);
                        continue 'value;
                    }
                }
                _ => return Err(self.unexpected()),
            }
            // After a value: continue or close the enclosing containers.
            loop {
                match stack.last() {
                    None => {
                        self.skip_whitespace();
                        if self.token() != Token::End {
                            return Err(self.fail(NON_WHITESPACE_AFTER));
                        }
                        return Ok(());
                    }
                    Some(Frame::Array) => {
                        if self.check(Token::Comma) {
                            continue 'value;
                        }
                        self.expect(Token::RBrack, COMMA_OR_BRACKET)?;
                    }
                    Some(Frame::Object) => {
                        if self.check(Token::Comma) {
                            self.property_name(false)?;
                            continue 'value;
                        }
                        self.expect(Token::RBrace, COMMA_OR_BRACE)?;
                    }
                }
                stack.pop();
            }
        }
    }

    /// A string, from its opening quote.
    fn string(&mut self) -> Step {
        self.pos += 1;
        loop {
            let Some(c) = self.peek() else {
                return Err(self.fail(UNTERMINATED_STRING));
            };
            match c {
                0x22 => {
                    self.pos += 1;
                    return Ok(());
                }
                0x5c => {
                    self.pos += 1;
                    match self.peek().and_then(|e| u8::try_from(e).ok()) {
                        None if self.peek().is_none() => return Err(self.unexpected()),
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                            self.pos += 1
                        }
                        Some(b'u') => {
                            self.pos += 1;
                            for _ in 0..4 {
                                match self.peek().and_then(|h| char::from_u32(h.into())) {
                                    Some(h) if h.is_ascii_hexdigit() => self.pos += 1,
                                    _ => return Err(self.fail(BAD_UNICODE)),
                                }
                            }
                        }
                        _ => return Err(self.fail(BAD_ESCAPE)),
                    }
                }
                c if c < 0x20 => return Err(self.fail(BAD_CONTROL)),
                _ => self.pos += 1,
            }
        }
    }

    /// `true`, `false` or `null`, from its first letter (V8's `ScanLiteral`).
    fn literal(&mut self) -> Step {
        let word: &[u8] = match self.peek().map(|c| c as u8) {
            Some(b't') => b"true",
            Some(b'f') => b"false",
            _ => b"null",
        };
        let remaining = self.src.len() - self.pos;
        let matches = |i: usize| self.src.get(self.pos + i) == Some(&u16::from(word[i]));
        if remaining >= word.len() && (1..word.len()).all(matches) {
            self.pos += word.len();
            return Ok(());
        }
        self.pos += 1;
        for &expected in &word[1..word.len().min(remaining)] {
            if self.peek() != Some(u16::from(expected)) {
                return Err(self.unexpected());
            }
            self.pos += 1;
        }
        Err(self.unexpected())
    }

    /// A number, from its sign or first digit (V8's `ParseJsonNumber`).
    fn number(&mut self) -> Step {
        if self.is(b'-') {
            self.pos += 1;
        }
        if self.is(b'0') {
            self.pos += 1;
            if self.is_digit() {
                return Err(self.unexpected());
            }
        } else {
            let start = self.pos;
            while self.is_digit() {
                self.pos += 1;
            }
            if start == self.pos {
                return Err(self.fail(NO_NUMBER_AFTER_MINUS));
            }
        }
        if self.is(b'.') {
            self.pos += 1;
            if !self.is_digit() {
                return Err(self.fail(UNTERMINATED_FRACTION));
            }
            while self.is_digit() {
                self.pos += 1;
            }
        }
        if self.is(b'e') || self.is(b'E') {
            self.pos += 1;
            if self.is(b'+') || self.is(b'-') {
                self.pos += 1;
            }
            if !self.is_digit() {
                return Err(self.fail(EXPONENT_MISSING));
            }
            while self.is_digit() {
                self.pos += 1;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
