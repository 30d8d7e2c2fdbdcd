//! API Gateway HTTP API route keys for nextr routes, validated the way API Gateway validates
//! them (test servers such as moto accept anything, so nextr must not rely on them).
//!
//! # What API Gateway documents, and what nextr does with it
//!
//! * A route key is `METHOD /path` or `$default`; a path variable is `{name}`, a greedy one
//!   `{name+}`, and "the greedy path variable must be at the end of the resource path"
//!   (<https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html>,
//!   "Working with path variables"). nextr writes only `ANY` keys: Next API routes see every
//!   method.
//! * Characters: the only documented list is in "Amazon API Gateway important notes"
//!   (<https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-known-issues.html>):
//!   "Path segments can only contain alphanumeric characters, underscores, hyphens, periods,
//!   commas, colons, and curly braces. Path parameters must be separate path segments." It
//!   sits in the REST API section; HTTP APIs document no list of their own, and API Gateway v2
//!   is seen rejecting `{eventId}.json` with "One or more path parts appear to be invalid"
//!   (serverless/serverless#10423), which is the same rule. nextr applies that list to HTTP API
//!   keys: ASCII letters and digits, `_ - . , :`. A static segment with any other character is
//!   an error naming the file and the character; there is no `$default` fallback, because the
//!   `$default` route is served by one built-in function that cannot run another route's code.
//! * Static segments Next itself can never match are not errors: Next compares static segments
//!   with the raw, normalised request path, so a segment containing a character the URL parser
//!   percent-encodes (space, non-ASCII, `"`, `<`, `>`, `` ` ``, `{`, `}`, controls), a `?` or
//!   `#`, a backslash, or a dot segment is unreachable in Next (`hello world.rs`, `café.rs`;
//!   spec §3.2 step 4). Such a route gets no key at all, exactly as unreachable as in Next.
//!   `[]`, `post-[id]` and `a+b` are reachable in Next (raw `[`, `]` and `+` survive URL
//!   parsing) and refused by API Gateway, so they are errors; `x.json` is fine.
//! * Variable names: API Gateway documents no grammar for them and every AWS example is an
//!   identifier. Next allows any name (`[foo-bar]`, `[123]`). The runtime re-matches params
//!   from the raw path against the Next pattern and never reads `pathParameters`, so the name
//!   is free: identifiers are kept, anything else is mapped to one deterministically (word
//!   characters kept, a `p` prefix when empty or starting with a digit, a `_2`, `_3`… suffix
//!   when the result is already used in the same key).

use std::fmt;

use nextr::manifest::Manifest;
use nextr::routing::{normalize, Normalized, RoutePattern, Segment};

/// The only method nextr writes: Next API routes receive every method.
pub const METHOD: &str = "ANY";

/// One segment of a route key's path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeySegment {
    /// A literal segment.
    Static(String),
    /// `{name}`: exactly one non-empty segment.
    Var(String),
    /// `{name+}`: one or more trailing segments.
    Greedy(String),
}

/// A validated `ANY /path` route key of an HTTP API.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RouteKey {
    segments: Vec<KeySegment>,
}

/// What a route key matches, without variable names: API Gateway treats keys that differ
/// only in variable names as the same route (it refuses the second with a conflict).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Shape {
    /// The fixed positions: `Some(literal)` or `None` for `{var}`.
    pub(crate) fixed: Vec<Option<String>>,
    /// True when a `{name+}` follows the fixed positions.
    pub(crate) greedy: bool,
}

/// A route key that API Gateway would refuse (or that nextr never writes).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeySyntaxError {
    /// Not `ANY /…`.
    #[error("route key `{0}` must be `ANY /path`: nextr writes only ANY keys")]
    Method(String),
    /// The path does not start with `/`.
    #[error("route key `{0}`: the path must start with `/`")]
    NotAbsolute(String),
    /// `//` or a trailing `/`.
    #[error("route key `{0}`: the path has an empty segment (`//` or a trailing `/`)")]
    EmptySegment(String),
    /// `{id}.json`, `a{b}`, or an unbalanced brace.
    #[error("route key `{key}`: `{segment}` is not a whole `{{variable}}`; API Gateway needs path parameters to be separate path segments")]
    PartialVariable {
        /// The key.
        key: String,
        /// The offending segment.
        segment: String,
    },
    /// `{x+}` before the end.
    #[error("route key `{key}`: the greedy variable `{segment}` must be the last segment")]
    GreedyNotLast {
        /// The key.
        key: String,
        /// The greedy segment.
        segment: String,
    },
    /// A variable name that is not an identifier.
    #[error("route key `{key}`: variable name `{name}` is not an identifier (letters, digits and `_`, not starting with a digit)")]
    VariableName {
        /// The key.
        key: String,
        /// The name.
        name: String,
    },
    /// The same variable twice in one key.
    #[error("route key `{key}`: variable `{name}` appears twice")]
    RepeatedVariable {
        /// The key.
        key: String,
        /// The repeated name.
        name: String,
    },
    /// A static segment with a character outside API Gateway's documented set.
    #[error("route key `{key}`: static segment `{segment}` contains `{character}`, which API Gateway does not accept in a route path")]
    Character {
        /// The key.
        key: String,
        /// The segment.
        segment: String,
        /// The first character API Gateway refuses.
        character: char,
    },
}

/// A route whose static segment API Gateway cannot express.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the route `{page}` has the static segment `{segment}` with `{character}`, which API Gateway does not accept in a route path (only ASCII letters, digits and `_ - . , :`); Next matches that segment literally, so rename the file or folder")]
pub struct UnsupportedCharacter {
    /// The page pattern.
    pub page: String,
    /// The static segment.
    pub segment: String,
    /// The first character API Gateway refuses.
    pub character: char,
}

/// Why a set of route keys cannot be deployed as one HTTP API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// A route file whose static segment API Gateway cannot express.
    #[error("{file}: {error}")]
    Unsupported {
        /// The route file.
        file: String,
        /// What is wrong.
        error: UnsupportedCharacter,
    },
    /// A key string API Gateway would refuse.
    #[error("{file}: {error}")]
    Syntax {
        /// The route file owning the key.
        file: String,
        /// What is wrong.
        error: KeySyntaxError,
    },
    /// Two keys API Gateway considers the same route.
    #[error("duplicate route key `{key}` (variable names do not distinguish routes): owned by {first} and {second}")]
    Duplicate {
        /// The second key as written.
        key: String,
        /// The file owning the first one.
        first: String,
        /// The file owning the second one.
        second: String,
    },
}

/// The documented character set of path segments (see the module docs).
pub fn is_supported_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ',' | ':')
}

/// The first character of a static segment that API Gateway does not accept, if any.
pub fn unsupported_char(segment: &str) -> Option<char> {
    segment.chars().find(|c| !is_supported_char(*c))
}

/// True when `name` can be used as-is as a `{variable}` name.
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// True when a request path can contain `segment` verbatim after Next's normalisation, i.e.
/// when Next's literal comparison can ever succeed for it.
pub fn is_reachable_segment(segment: &str) -> bool {
    let path = format!("/{segment}");
    matches!(normalize(&path), Ok(Normalized::Path { pathname, .. }) if pathname == path)
}

/// The first static segment of a pattern that no normalised request path can contain: Next
/// can never serve that route.
pub fn unreachable_segment(pattern: &RoutePattern) -> Option<&str> {
    pattern.segments().iter().find_map(|s| match s {
        Segment::Static(s) if !is_reachable_segment(s) => Some(s.as_str()),
        _ => None,
    })
}

/// The API Gateway route keys of a pattern: `[id]` → `{id}`, `[...s]` → `{s+}`, and an
/// optional catch-all gives two keys (its parent path and the greedy one). A route Next can
/// never serve (see [`unreachable_segment`]) gets none.
pub fn route_keys(pattern: &RoutePattern) -> Result<Vec<RouteKey>, UnsupportedCharacter> {
    if unreachable_segment(pattern).is_some() {
        return Ok(Vec::new());
    }
    for segment in pattern.segments() {
        if let Segment::Static(s) = segment {
            if let Some(character) = unsupported_char(s) {
                return Err(UnsupportedCharacter {
                    page: pattern.page().to_owned(),
                    segment: s.clone(),
                    character,
                });
            }
        }
    }
    Ok(pattern_shapes(pattern)
        .iter()
        .map(|shape| RouteKey::for_owner(shape, pattern))
        .collect())
}

/// The shapes of a pattern's own keys (one, or two for an optional catch-all).
pub(crate) fn pattern_shapes(pattern: &RoutePattern) -> Vec<Shape> {
    let mut fixed = Vec::new();
    for segment in pattern.segments() {
        match segment {
            Segment::Static(s) => fixed.push(Some(s.clone())),
            Segment::Dynamic(_) => fixed.push(None),
            Segment::CatchAll(_) => return vec![Shape::greedy(fixed)],
            Segment::OptionalCatchAll(_) => {
                return vec![Shape::full(fixed.clone()), Shape::greedy(fixed)];
            }
        }
    }
    vec![Shape::full(fixed)]
}

impl Shape {
    pub(crate) fn full(fixed: Vec<Option<String>>) -> Self {
        Shape {
            fixed,
            greedy: false,
        }
    }

    pub(crate) fn greedy(fixed: Vec<Option<String>>) -> Self {
        Shape {
            fixed,
            greedy: true,
        }
    }

    /// True when the shape has no variable at all (it matches exactly one path).
    pub(crate) fn is_static(&self) -> bool {
        !self.greedy && self.fixed.iter().all(Option::is_some)
    }

    /// Number of literal positions (the sort key that puts supersets first).
    pub(crate) fn statics(&self) -> usize {
        self.fixed.iter().filter(|s| s.is_some()).count()
    }

    /// True when this shape matches the path segments.
    pub(crate) fn matches(&self, path: &[&str]) -> bool {
        let n = self.fixed.len();
        let len_ok = if self.greedy {
            path.len() > n
        } else {
            path.len() == n
        };
        len_ok
            && self.fixed.iter().zip(path).all(|(f, p)| match f {
                Some(s) => s == p,
                None => !p.is_empty(),
            })
            && (!self.greedy || path[n..].iter().all(|p| !p.is_empty()))
    }

    /// True when every path `small` matches is matched by `self` (set inclusion).
    pub(crate) fn includes(&self, small: &Shape) -> bool {
        let prefix_ok = |n: usize| {
            self.fixed[..n]
                .iter()
                .zip(&small.fixed[..n])
                .all(|(b, s)| b.is_none() || b == s)
        };
        match (self.greedy, small.greedy) {
            (false, false) => self.fixed.len() == small.fixed.len() && prefix_ok(self.fixed.len()),
            (true, false) => small.fixed.len() > self.fixed.len() && prefix_ok(self.fixed.len()),
            (true, true) => small.fixed.len() >= self.fixed.len() && prefix_ok(self.fixed.len()),
            (false, true) => false,
        }
    }

    /// The shape matching exactly the paths both match, if they share any.
    pub(crate) fn meet(&self, other: &Shape) -> Option<Shape> {
        let (long, short) = if self.fixed.len() >= other.fixed.len() {
            (self, other)
        } else {
            (other, self)
        };
        let same_len = self.fixed.len() == other.fixed.len();
        let greedy = match (self.greedy, other.greedy) {
            (false, false) if same_len => false,
            (true, true) => true,
            // A full key meets a greedy one only where it is longer than the greedy prefix.
            (false, true) if self.fixed.len() > other.fixed.len() => false,
            (true, false) if other.fixed.len() > self.fixed.len() => false,
            _ => return None,
        };
        let mut fixed = long.fixed.clone();
        for (slot, s) in fixed.iter_mut().zip(&short.fixed) {
            match (slot.as_ref(), s) {
                (_, None) => {}
                (None, Some(s)) => *slot = Some(s.clone()),
                (Some(a), Some(b)) if a == b => {}
                _ => return None,
            }
        }
        Some(Shape { fixed, greedy })
    }
}

impl RouteKey {
    /// Builds a key from segments, checking everything [`RouteKey::parse`] checks.
    pub fn new(segments: Vec<KeySegment>) -> Result<Self, KeySyntaxError> {
        let key = RouteKey { segments };
        key.validate()?;
        Ok(key)
    }

    /// A key of segments the caller built from validated parts (the REST resource tree's
    /// literals and identifier names), without checking them again.
    pub(crate) fn from_segments_unchecked(segments: Vec<KeySegment>) -> Self {
        RouteKey { segments }
    }

    /// Parses and validates `ANY /path` as API Gateway would.
    pub fn parse(text: &str) -> Result<Self, KeySyntaxError> {
        let Some(path) = text.strip_prefix("ANY ") else {
            return Err(KeySyntaxError::Method(text.to_owned()));
        };
        let Some(body) = path.strip_prefix('/') else {
            return Err(KeySyntaxError::NotAbsolute(text.to_owned()));
        };
        let mut segments = Vec::new();
        if !body.is_empty() {
            for raw in body.split('/') {
                if raw.is_empty() {
                    return Err(KeySyntaxError::EmptySegment(text.to_owned()));
                }
                let segment = match raw.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
                    Some(inner) if !inner.contains(['{', '}']) => match inner.strip_suffix('+') {
                        Some(name) => KeySegment::Greedy(name.to_owned()),
                        None => KeySegment::Var(inner.to_owned()),
                    },
                    _ if raw.contains(['{', '}']) => {
                        return Err(KeySyntaxError::PartialVariable {
                            key: text.to_owned(),
                            segment: raw.to_owned(),
                        })
                    }
                    _ => KeySegment::Static(raw.to_owned()),
                };
                segments.push(segment);
            }
        }
        let key = RouteKey { segments };
        key.validate_as(text)?;
        Ok(key)
    }

    fn validate(&self) -> Result<(), KeySyntaxError> {
        self.validate_as(&self.to_string())
    }

    fn validate_as(&self, text: &str) -> Result<(), KeySyntaxError> {
        let mut names: Vec<&str> = Vec::new();
        let last = self.segments.len().saturating_sub(1);
        for (i, segment) in self.segments.iter().enumerate() {
            match segment {
                KeySegment::Static(s) => {
                    if s.is_empty() {
                        return Err(KeySyntaxError::EmptySegment(text.to_owned()));
                    }
                    if let Some(character) = unsupported_char(s) {
                        return Err(KeySyntaxError::Character {
                            key: text.to_owned(),
                            segment: s.clone(),
                            character,
                        });
                    }
                }
                KeySegment::Var(name) | KeySegment::Greedy(name) => {
                    if matches!(segment, KeySegment::Greedy(_)) && i != last {
                        return Err(KeySyntaxError::GreedyNotLast {
                            key: text.to_owned(),
                            segment: format!("{{{name}+}}"),
                        });
                    }
                    if !is_identifier(name) {
                        return Err(KeySyntaxError::VariableName {
                            key: text.to_owned(),
                            name: name.clone(),
                        });
                    }
                    if names.contains(&name.as_str()) {
                        return Err(KeySyntaxError::RepeatedVariable {
                            key: text.to_owned(),
                            name: name.clone(),
                        });
                    }
                    names.push(name);
                }
            }
        }
        Ok(())
    }

    /// The key's path segments.
    pub fn segments(&self) -> &[KeySegment] {
        &self.segments
    }

    /// True when the key ends in a greedy `{name+}`.
    pub fn is_greedy(&self) -> bool {
        matches!(self.segments.last(), Some(KeySegment::Greedy(_)))
    }

    /// The path part, e.g. `/api/post/{pid}`.
    pub fn path(&self) -> String {
        if self.segments.is_empty() {
            return "/".to_owned();
        }
        let mut out = String::new();
        for segment in &self.segments {
            out.push('/');
            match segment {
                KeySegment::Static(s) => out.push_str(s),
                KeySegment::Var(n) => {
                    out.push('{');
                    out.push_str(n);
                    out.push('}');
                }
                KeySegment::Greedy(n) => {
                    out.push('{');
                    out.push_str(n);
                    out.push_str("+}");
                }
            }
        }
        out
    }

    /// True when API Gateway's path matching accepts these (normalised) path segments.
    pub fn matches(&self, path: &[&str]) -> bool {
        self.shape().matches(path)
    }

    /// The path parameters API Gateway gives a function for a decoded path this key matches
    /// (`{id}`: one segment, `{path+}`: the rest joined by `/`); `None` when it does not match.
    pub fn path_parameters(&self, path: &str) -> Option<Vec<(String, String)>> {
        let body = path.strip_prefix('/').unwrap_or(path);
        let parts: Vec<&str> = if body.is_empty() {
            Vec::new()
        } else {
            body.split('/').collect()
        };
        if !self.matches(&parts) {
            return None;
        }
        let mut params = Vec::new();
        for (i, segment) in self.segments.iter().enumerate() {
            match segment {
                KeySegment::Static(_) => {}
                KeySegment::Var(name) => params.push((name.clone(), parts[i].to_owned())),
                KeySegment::Greedy(name) => params.push((name.clone(), parts[i..].join("/"))),
            }
        }
        Some(params)
    }

    pub(crate) fn shape(&self) -> Shape {
        let mut fixed = Vec::with_capacity(self.segments.len());
        for segment in &self.segments {
            match segment {
                KeySegment::Static(s) => fixed.push(Some(s.clone())),
                KeySegment::Var(_) => fixed.push(None),
                KeySegment::Greedy(_) => return Shape::greedy(fixed),
            }
        }
        Shape::full(fixed)
    }

    /// The key of `shape` for the route `owner`, with variables named after the owner's
    /// params at the same positions (the names are free: see the module docs).
    pub(crate) fn for_owner(shape: &Shape, owner: &RoutePattern) -> RouteKey {
        let segments = owner.segments();
        // Positions past a catch-all belong to it: name them after it.
        let name_at = |i: usize| -> String {
            let tail = segments
                .iter()
                .position(|s| matches!(s, Segment::CatchAll(_) | Segment::OptionalCatchAll(_)));
            let at = match tail {
                Some(t) if i >= t => segments.get(t),
                _ => segments.get(i),
            };
            match at {
                Some(Segment::Dynamic(n) | Segment::CatchAll(n) | Segment::OptionalCatchAll(n)) => {
                    n.clone()
                }
                _ => format!("p{i}"),
            }
        };
        let mut taken: Vec<String> = Vec::new();
        let mut out = Vec::with_capacity(shape.fixed.len() + 1);
        for (i, f) in shape.fixed.iter().enumerate() {
            out.push(match f {
                Some(s) => KeySegment::Static(s.clone()),
                None => KeySegment::Var(variable_name(&name_at(i), &mut taken)),
            });
        }
        if shape.greedy {
            let n = shape.fixed.len();
            out.push(KeySegment::Greedy(variable_name(&name_at(n), &mut taken)));
        }
        RouteKey { segments: out }
    }
}

/// Maps a Next param name to a `{variable}` name unused in `taken`, and records it.
pub fn variable_name(name: &str, taken: &mut Vec<String>) -> String {
    let mut base = if is_identifier(name) {
        name.to_owned()
    } else {
        let word: String = name
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if word.is_empty() || word.starts_with(|c: char| c.is_ascii_digit()) {
            format!("p{word}")
        } else {
            word
        }
    };
    if taken.contains(&base) {
        let mut n = 2;
        while taken.contains(&format!("{base}_{n}")) {
            n += 1;
        }
        base = format!("{base}_{n}");
    }
    taken.push(base.clone());
    base
}

impl fmt::Display for RouteKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{METHOD} {}", self.path())
    }
}

/// Checks a whole API's keys as API Gateway would: each key parses and validates, and no two
/// keys are the same route (equal once variable names are ignored). `keys` pairs each key
/// string with the file of the route owning it; every problem is reported.
pub fn validate_api<'a, I>(keys: I) -> Result<Vec<RouteKey>, Vec<KeyError>>
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let mut errors = Vec::new();
    let mut seen: std::collections::HashMap<Shape, &str> = std::collections::HashMap::new();
    let mut out = Vec::new();
    for (text, file) in keys {
        match RouteKey::parse(text) {
            Ok(key) => {
                match seen.get(&key.shape()) {
                    Some(first) => errors.push(KeyError::Duplicate {
                        key: text.to_owned(),
                        first: (*first).to_owned(),
                        second: file.to_owned(),
                    }),
                    None => {
                        seen.insert(key.shape(), file);
                    }
                }
                out.push(key);
            }
            Err(error) => errors.push(KeyError::Syntax {
                file: file.to_owned(),
                error,
            }),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// [`validate_api`] over a manifest's recorded keys: what the deploy engine checks before
/// creating any route, since test servers accept keys AWS refuses.
pub fn validate_manifest(manifest: &Manifest) -> Result<Vec<RouteKey>, Vec<KeyError>> {
    validate_api(manifest.routes.iter().flat_map(|r| {
        r.route_keys
            .iter()
            .map(move |k| (k.as_str(), r.file.as_str()))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_keys_give_path_parameters() {
        let key = |k: &str| RouteKey::parse(k).unwrap();
        let pid = key("ANY /api/post/{pid}");
        assert_eq!(
            pid.path_parameters("/api/post/a b"),
            Some(vec![("pid".into(), "a b".into())])
        );
        assert_eq!(pid.path_parameters("/api/post"), None);
        assert_eq!(pid.path_parameters("/api/post/a/b"), None);
        let slug = key("ANY /api/post/{slug+}");
        assert_eq!(
            slug.path_parameters("/api/post/a/b/c"),
            Some(vec![("slug".into(), "a/b/c".into())])
        );
        assert_eq!(slug.path_parameters("/api/post"), None);
        assert_eq!(
            key("ANY /api/hello").path_parameters("/api/hello"),
            Some(vec![])
        );
        assert_eq!(key("ANY /").path_parameters("/"), Some(vec![]));
        assert_eq!(key("ANY /").path_parameters("/x"), None);
        assert_eq!(key("ANY /api/hello").to_string(), "ANY /api/hello");
    }

    fn keys(p: &str) -> Vec<String> {
        route_keys(&RoutePattern::parse(p).unwrap())
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn keys_of_each_kind() {
        assert_eq!(keys("/api/hello"), ["ANY /api/hello"]);
        assert_eq!(keys("/api"), ["ANY /api"]);
        assert_eq!(keys("/api/post/[pid]"), ["ANY /api/post/{pid}"]);
        assert_eq!(keys("/api/post/[...slug]"), ["ANY /api/post/{slug+}"]);
        assert_eq!(
            keys("/api/note/[[...slug]]"),
            ["ANY /api/note", "ANY /api/note/{slug+}"]
        );
        assert_eq!(keys("/api/x.json"), ["ANY /api/x.json"]);
        assert_eq!(keys("/api/a_b-c,d:e"), ["ANY /api/a_b-c,d:e"]);
    }

    #[test]
    fn app_router_pages_outside_api_and_the_root_get_valid_keys() {
        // `app/route.rs` serves `/`; route handlers may live anywhere, not only under `/api`.
        assert_eq!(keys("/"), ["ANY /"]);
        assert_eq!(keys("/hooks/deliver/[id]"), ["ANY /hooks/deliver/{id}"]);
        assert_eq!(keys("/[[...path]]"), ["ANY /", "ANY /{path+}"]);
        assert_eq!(keys("/[...path]"), ["ANY /{path+}"]);
        for key in ["ANY /", "ANY /hooks/deliver/{id}", "ANY /{path+}"] {
            let parsed = RouteKey::parse(key).unwrap();
            assert_eq!(parsed.to_string(), key);
        }
        assert!(RouteKey::parse("ANY /").unwrap().matches(&[]));
        assert!(!RouteKey::parse("ANY /").unwrap().matches(&["x"]));
    }

    #[test]
    fn param_names_are_mapped_to_identifiers_without_collisions() {
        assert_eq!(keys("/api/[foo-bar]"), ["ANY /api/{foobar}"]);
        assert_eq!(keys("/api/[123]"), ["ANY /api/{p123}"]);
        assert_eq!(keys("/api/[-]"), ["ANY /api/{p}"]);
        assert_eq!(keys("/api/[p123]/[123]"), ["ANY /api/{p123}/{p123_2}"]);
        assert_eq!(keys("/api/[123]/[p123]"), ["ANY /api/{p123}/{p123_2}"]);
        assert_eq!(keys("/api/[a]/[...a-b]"), ["ANY /api/{a}/{ab+}"]);
        for k in keys("/api/[p123]/[123]/[[...é]]") {
            RouteKey::parse(&k).unwrap();
        }
    }

    #[test]
    fn characters_api_gateway_refuses_are_errors_naming_the_character() {
        for (page, segment, character) in [
            ("/api/a+b", "a+b", '+'),
            ("/api/post-[id]", "post-[id]", '['),
            ("/api/[]", "[]", '['),
            ("/api/100%", "100%", '%'),
            ("/api/x/~me/[id]", "~me", '~'),
            ("/api/a=b", "a=b", '='),
        ] {
            let err = route_keys(&RoutePattern::parse(page).unwrap()).unwrap_err();
            assert_eq!(
                err,
                UnsupportedCharacter {
                    page: page.into(),
                    segment: segment.into(),
                    character
                }
            );
            assert!(err.to_string().contains(&format!("`{character}`")));
        }
    }

    #[test]
    fn segments_next_cannot_match_give_no_key() {
        for page in [
            "/api/hello world",
            "/api/café",
            "/api/a{b}",
            "/api/x/caf\u{e9}/[id]",
            "/api/..",
            "/api/.",
            "/api/%2e",
            "/api/a\\b",
            "/api/q?x",
        ] {
            let pattern = RoutePattern::parse(page).unwrap();
            assert!(unreachable_segment(&pattern).is_some(), "{page}");
            assert_eq!(route_keys(&pattern), Ok(vec![]), "{page}");
        }
        assert!(is_reachable_segment("a+b"));
        assert!(is_reachable_segment("[]"));
        assert!(is_reachable_segment("x.json"));
    }

    #[test]
    fn parse_validates_like_api_gateway() {
        let ok = ["ANY /", "ANY /api", "ANY /api/{id}/x", "ANY /api/{rest+}"];
        for k in ok {
            assert_eq!(RouteKey::parse(k).unwrap().to_string(), k);
        }
        let bad = [
            ("GET /api", "ANY"),
            ("ANY api", "start with"),
            ("ANY /api/", "empty segment"),
            ("ANY /api//x", "empty segment"),
            ("ANY /api/{id}.json", "separate path segments"),
            ("ANY /api/{id", "separate path segments"),
            ("ANY /api/{a+}/x", "must be the last"),
            ("ANY /api/{a}/{a}", "twice"),
            ("ANY /api/{foo-bar}", "not an identifier"),
            ("ANY /api/{1a}", "not an identifier"),
            ("ANY /api/{}", "not an identifier"),
            ("ANY /api/a b", "`a b`"),
            ("ANY /api/café", "`é`"),
        ];
        for (k, needle) in bad {
            let err = RouteKey::parse(k).unwrap_err().to_string();
            assert!(err.contains(needle), "{k}: {err}");
        }
    }

    #[test]
    fn new_validates_segments() {
        let ok = RouteKey::new(vec![
            KeySegment::Static("api".into()),
            KeySegment::Var("id".into()),
            KeySegment::Greedy("rest".into()),
        ])
        .unwrap();
        assert_eq!(ok.to_string(), "ANY /api/{id}/{rest+}");
        assert!(ok.is_greedy());
        assert!(ok.matches(&["api", "1", "2"]) && !ok.matches(&["api", "1"]));
        assert!(RouteKey::new(vec![
            KeySegment::Greedy("a".into()),
            KeySegment::Var("b".into())
        ])
        .is_err());
        assert!(RouteKey::new(vec![KeySegment::Static("a/b".into())]).is_err());
        assert!(RouteKey::new(vec![KeySegment::Static(String::new())]).is_err());
        assert_eq!(RouteKey::new(vec![]).unwrap().to_string(), "ANY /");
    }

    #[test]
    fn api_validation_reports_every_duplicate_and_syntax_error() {
        let errors = validate_api([
            ("ANY /api/{id}", "api/[id].rs"),
            ("ANY /api/{pid}", "api/[pid].rs"),
            ("ANY /api/{x+}", "api/[...x].rs"),
            ("ANY /api/{y+}", "api/[[...y]].rs"),
            ("ANY /api/ok", "api/ok.rs"),
            ("ANY /api/a b", "api/a b.rs"),
        ])
        .unwrap_err();
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(
            matches!(&errors[0], KeyError::Duplicate { first, second, .. }
            if first == "api/[id].rs" && second == "api/[pid].rs")
        );
        assert!(matches!(&errors[1], KeyError::Duplicate { .. }));
        assert!(matches!(&errors[2], KeyError::Syntax { file, .. } if file == "api/a b.rs"));
        assert_eq!(
            validate_api([("ANY /api/{id}", "a"), ("ANY /api/{id+}", "b")])
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn manifest_keys_are_validated_with_their_files() {
        use nextr::config::RouteConfig;
        use nextr::manifest::ManifestRoute;
        use nextr::routing::RouteKind;
        let route = |file: &str, keys: &[&str]| ManifestRoute {
            page: String::new(),
            file: file.into(),
            router: nextr::routing::Router::Pages,
            kind: RouteKind::Dynamic,
            segments: Vec::new(),
            params: Vec::new(),
            route_keys: keys.iter().map(|k| k.to_string()).collect(),
            config: RouteConfig::default(),
            function: None,
            build_error: None,
            throttle: None,
            log_retention_days: None,
        };
        let fallback: nextr::manifest::Function = serde_json::from_value(serde_json::json!({
            "name": "demo-default", "bundle": "functions/demo-default.zip", "sha256": "",
            "bytes": 0, "runtime": "provided.al2023", "handler": "bootstrap",
            "architecture": "x86_64", "timeout_s": 3, "memory_mb": 128
        }))
        .unwrap();
        let mut m = Manifest::new("demo", fallback);
        m.routes = vec![
            route("api/[id].rs", &["ANY /api/{id}"]),
            route("api/o/[[...s]].rs", &["ANY /api/o", "ANY /api/o/{s+}"]),
        ];
        assert_eq!(validate_manifest(&m).unwrap().len(), 3);
        m.routes
            .push(route("api/[x].rs", &["ANY /api/{x}", "GET /api/x"]));
        let errors = validate_manifest(&m).unwrap_err();
        assert_eq!(errors.len(), 2);
        assert!(errors[0].to_string().contains("api/[id].rs and api/[x].rs"));
        assert!(errors[1]
            .to_string()
            .starts_with("api/[x].rs: route key `GET /api/x`"));
    }

    #[test]
    fn shape_algebra() {
        let s = |k: &str| RouteKey::parse(k).unwrap().shape();
        assert!(s("ANY /a/{x}").includes(&s("ANY /a/b")));
        assert!(!s("ANY /a/b").includes(&s("ANY /a/{x}")));
        assert!(s("ANY /{p+}").includes(&s("ANY /a/{p+}")));
        assert!(s("ANY /{p+}").includes(&s("ANY /a/b")));
        assert!(!s("ANY /a/{p+}").includes(&s("ANY /a")));
        assert!(!s("ANY /a/{x}").includes(&s("ANY /a/{p+}")));
        assert_eq!(s("ANY /{a}/x").meet(&s("ANY /x/{b}")), Some(s("ANY /x/x")));
        assert_eq!(s("ANY /{a}/x").meet(&s("ANY /y/y")), None);
        assert_eq!(
            s("ANY /api/{a}/{b}").meet(&s("ANY /api/users/{p+}")),
            Some(s("ANY /api/users/{b}"))
        );
        assert_eq!(
            s("ANY /api/{a}").meet(&s("ANY /api/{p+}")),
            Some(s("ANY /api/{a}"))
        );
        assert_eq!(s("ANY /api").meet(&s("ANY /api/{p+}")), None);
        assert_eq!(s("ANY /api/{a}").meet(&s("ANY /api/{a}/{b}")), None);
        assert_eq!(
            s("ANY /api/{a}/x/{r+}").meet(&s("ANY /api/x/{p+}")),
            Some(s("ANY /api/x/x/{p+}"))
        );
        assert!(s("ANY /a/{p+}").matches(&["a", "b", "c"]));
        assert!(!s("ANY /a/{p+}").matches(&["a"]));
        assert!(!s("ANY /a/{x}").matches(&["a", ""]));
    }
}
