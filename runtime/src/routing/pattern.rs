//! Route patterns: what one route file's path means as a URL, and matching one pattern.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::error::RouteError;
use super::query::QueryValue;

/// One `/`-separated piece of a route pattern, classified the way Next classifies it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Segment {
    /// A literal segment, compared byte for byte with the raw (still encoded) request path.
    /// Brackets that do not span the whole segment (`post-[id]`, `[id].json`, `[]`) are literal.
    Static(String),
    /// `[name]`: exactly one path segment.
    Dynamic(String),
    /// `[...name]`: one or more trailing segments.
    CatchAll(String),
    /// `[[...name]]`: zero or more trailing segments.
    OptionalCatchAll(String),
}

impl Segment {
    /// The parameter this segment captures, if any.
    pub fn param(&self) -> Option<Param> {
        let (name, kind) = match self {
            Segment::Static(_) => return None,
            Segment::Dynamic(n) => (n, ParamKind::Single),
            Segment::CatchAll(n) => (n, ParamKind::CatchAll),
            Segment::OptionalCatchAll(n) => (n, ParamKind::OptionalCatchAll),
        };
        Some(Param {
            name: name.clone(),
            kind,
        })
    }

    /// The segment as it is spelled in a page pattern (`about`, `[id]`, `[...slug]`).
    pub fn as_written(&self) -> Cow<'_, str> {
        match self {
            Segment::Static(s) => Cow::Borrowed(s),
            Segment::Dynamic(n) => Cow::Owned(format!("[{n}]")),
            Segment::CatchAll(n) => Cow::Owned(format!("[...{n}]")),
            Segment::OptionalCatchAll(n) => Cow::Owned(format!("[[...{n}]]")),
        }
    }
}

/// How a route parameter captures the path: the `kind` field of the manifest's params.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamKind {
    /// `[name]` → a string.
    Single,
    /// `[...name]` → a non-empty list of strings.
    CatchAll,
    /// `[[...name]]` → a list of strings, or absent.
    OptionalCatchAll,
}

/// A named parameter of a route pattern, as listed in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Param {
    /// The key under which the value appears in `req.query` (verbatim, e.g. `foo-bar`).
    pub name: String,
    /// How the value is captured.
    pub kind: ParamKind,
}

/// The kind of a whole route, shown by `nextr routes` and written to the manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RouteKind {
    /// Only literal segments.
    Static,
    /// At least one `[param]`, no catch-all.
    Dynamic,
    /// Ends in `[...param]`.
    CatchAll,
    /// Ends in `[[...param]]`.
    OptionalCatchAll,
}

impl RouteKind {
    /// The lower-case name used in tables and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            RouteKind::Static => "static",
            RouteKind::Dynamic => "dynamic",
            RouteKind::CatchAll => "catch-all",
            RouteKind::OptionalCatchAll => "optional catch-all",
        }
    }
}

impl fmt::Display for RouteKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a bracketed (or not) file-name segment says, before any tree-wide rule is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SegmentSyntax {
    Static,
    Dynamic(String),
    CatchAll(String),
    OptionalCatchAll(String),
}

/// Classifies one raw segment with Next's rules (`UrlNode._insert` in `sorted-routes.ts`),
/// returning the per-segment errors E5, E8, E9 and E10.
pub(crate) fn classify_segment(raw: &str) -> Result<SegmentSyntax, RouteError> {
    // `[]` has nothing between the brackets: Next's dynamic-route test needs one character,
    // so it is a literal (observed: `api/i/[].rs` answers only at `/api/i/[]`).
    if !(raw.len() > 2 && raw.starts_with('[') && raw.ends_with(']')) {
        return Ok(SegmentSyntax::Static);
    }
    let mut name = &raw[1..raw.len() - 1];
    let mut optional = false;
    if name.len() >= 2 && name.starts_with('[') && name.ends_with(']') {
        name = &name[1..name.len() - 1];
        optional = true;
    }
    if name.starts_with('…') {
        return Err(RouteError::ThreeDotCharacter(name.to_owned()));
    }
    let mut catch_all = false;
    if let Some(rest) = name.strip_prefix("...") {
        name = rest;
        catch_all = true;
    }
    if name.starts_with('[') || name.ends_with(']') {
        return Err(RouteError::ExtraBrackets(name.to_owned()));
    }
    if name.starts_with('.') {
        return Err(RouteError::ErroneousPeriods(name.to_owned()));
    }
    if name.is_empty() {
        return Err(RouteError::EmptyParamName(raw.to_owned()));
    }
    match (catch_all, optional) {
        (false, false) => Ok(SegmentSyntax::Dynamic(name.to_owned())),
        (false, true) => Err(RouteError::OptionalNotCatchAll(raw.to_owned())),
        (true, false) => Ok(SegmentSyntax::CatchAll(name.to_owned())),
        (true, true) => Ok(SegmentSyntax::OptionalCatchAll(name.to_owned())),
    }
}

/// The parameter name Next's `PARAMETER_PATTERN` finds inside a literal segment such as
/// `post-[id]` or `[id].json` (a `[`, at least one character, then `]`); `None` for `[]` and
/// for segments without brackets.
pub(crate) fn param_inside_segment(segment: &str) -> Option<&str> {
    let open = segment.find('[')?;
    let after = &segment[open + 1..];
    if let Some(rest) = after.strip_prefix('[') {
        if let Some(close) = rest.find(']') {
            if rest[close + 1..].starts_with(']') {
                return Some(&after[..close + 2]);
            }
        }
    }
    let close = after.find(']')?;
    (close > 0).then(|| &after[..close])
}

/// Removes what JavaScript's `\W` matches, as Next does to compare slug names.
pub(crate) fn word_chars(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// Checks a new slug name against the names already used along the same path (E2, E3).
pub(crate) fn check_repeated_slug(previous: &[String], next: &str) -> Result<(), RouteError> {
    let next_word = word_chars(next);
    for slug in previous {
        if slug == next {
            return Err(RouteError::RepeatedSlug(next.to_owned()));
        }
        if word_chars(slug) == next_word {
            return Err(RouteError::SlugsDifferOnlyByNonWord(
                slug.clone(),
                next.to_owned(),
            ));
        }
    }
    Ok(())
}

/// A validated route pattern such as `/api/post/[pid]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RoutePattern {
    page: String,
    segments: Vec<Segment>,
}

impl RoutePattern {
    /// Parses a page pattern (`/api/post/[...slug]`), applying every rule that concerns one
    /// path alone (E2–E5, E8–E10). Rules that span sibling routes live in [`super::RouteTable`].
    pub fn parse(page: &str) -> Result<Self, RouteError> {
        let Some(rest) = page.strip_prefix('/') else {
            return Err(RouteError::NotAbsolute(page.to_owned()));
        };
        let mut segments = Vec::new();
        let mut slugs: Vec<String> = Vec::new();
        let mut after_catch_all = false;
        if !rest.is_empty() {
            for raw in rest.split('/') {
                if after_catch_all {
                    return Err(RouteError::CatchAllNotLast);
                }
                if raw.is_empty() {
                    return Err(RouteError::EmptySegment(page.to_owned()));
                }
                let segment = match classify_segment(raw)? {
                    SegmentSyntax::Static => Segment::Static(raw.to_owned()),
                    SegmentSyntax::Dynamic(n) => Segment::Dynamic(n),
                    SegmentSyntax::CatchAll(n) => Segment::CatchAll(n),
                    SegmentSyntax::OptionalCatchAll(n) => Segment::OptionalCatchAll(n),
                };
                if let Some(param) = segment.param() {
                    check_repeated_slug(&slugs, &param.name)?;
                    slugs.push(param.name);
                    after_catch_all = param.kind != ParamKind::Single;
                }
                segments.push(segment);
            }
        }
        Ok(RoutePattern {
            page: page.to_owned(),
            segments,
        })
    }

    /// The pattern as Next writes it: `/api/post/[pid]`.
    pub fn page(&self) -> &str {
        &self.page
    }

    /// The classified segments (without the leading empty one).
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// The parameters in path order.
    pub fn params(&self) -> impl Iterator<Item = Param> + '_ {
        self.segments.iter().filter_map(Segment::param)
    }

    /// True when any segment captures a parameter.
    pub fn is_dynamic(&self) -> bool {
        self.segments
            .iter()
            .any(|s| !matches!(s, Segment::Static(_)))
    }

    /// The kind of the route: its most general segment.
    pub fn kind(&self) -> RouteKind {
        match self.segments.last() {
            Some(Segment::CatchAll(_)) => RouteKind::CatchAll,
            Some(Segment::OptionalCatchAll(_)) => RouteKind::OptionalCatchAll,
            _ if self.is_dynamic() => RouteKind::Dynamic,
            _ => RouteKind::Static,
        }
    }

    /// Matches the raw (normalised, still percent-encoded) path segments against this pattern,
    /// exactly as Next's route regex would, returning the raw captures in parameter order.
    pub fn match_segments<'p>(&self, path: &[&'p str]) -> Option<Vec<RawCapture<'p>>> {
        let mut captures = Vec::new();
        for (i, segment) in self.segments.iter().enumerate() {
            match segment {
                Segment::Static(s) => {
                    if path.get(i) != Some(&s.as_str()) {
                        return None;
                    }
                }
                Segment::Dynamic(_) => captures.push(RawCapture::One(path.get(i)?)),
                Segment::CatchAll(_) => {
                    let rest = path.get(i..).filter(|r| !r.is_empty())?;
                    captures.push(RawCapture::Many(rest.to_vec()));
                    return Some(captures);
                }
                Segment::OptionalCatchAll(_) => {
                    let rest = path.get(i..).unwrap_or_default();
                    captures.push(if rest.is_empty() {
                        RawCapture::Absent
                    } else {
                        RawCapture::Many(rest.to_vec())
                    });
                    return Some(captures);
                }
            }
        }
        (path.len() == self.segments.len()).then_some(captures)
    }

    /// Decodes raw captures into `req.query` params the way Next does: `decodeURIComponent`
    /// on a single value, catch-alls split on `/` first (so `%2F` stays inside a value), an
    /// optional catch-all of exactly `["index"]` treated as absent.
    pub fn decode_params(&self, captures: &[RawCapture<'_>]) -> Result<Params, MalformedEscape> {
        self.decode(captures, true)
    }

    /// Like [`RoutePattern::decode_params`] but an optional catch-all of `["index"]` is kept:
    /// what Next's matcher gives for a request of the literal pattern string, which it does not
    /// normalise.
    pub(crate) fn decode_raw_params(
        &self,
        captures: &[RawCapture<'_>],
    ) -> Result<Params, MalformedEscape> {
        self.decode(captures, false)
    }

    fn decode(
        &self,
        captures: &[RawCapture<'_>],
        drop_index: bool,
    ) -> Result<Params, MalformedEscape> {
        let mut params = Params::default();
        for (param, capture) in self.params().zip(captures) {
            let value = match capture {
                RawCapture::Absent => continue,
                RawCapture::One(raw) => QueryValue::One(decode_uri_component(raw)?),
                RawCapture::Many(raws) => {
                    let decoded = raws
                        .iter()
                        .map(|r| decode_uri_component(r))
                        .collect::<Result<Vec<_>, _>>()?;
                    if drop_index
                        && param.kind == ParamKind::OptionalCatchAll
                        && decoded.len() == 1
                        && decoded[0] == "index"
                    {
                        continue;
                    }
                    QueryValue::Many(decoded)
                }
            };
            params.0.push((param.name, value));
        }
        Ok(params)
    }
}

impl fmt::Display for RoutePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.page)
    }
}

/// What one parameter captured from the raw path, before decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawCapture<'p> {
    /// A `[param]` segment.
    One(&'p str),
    /// The segments a catch-all took.
    Many(Vec<&'p str>),
    /// An optional catch-all that took nothing.
    Absent,
}

/// Decoded route parameters in path order: what Next merges over `req.query`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(pub Vec<(String, QueryValue)>);

impl Serialize for Params {
    /// As a JSON object, in path order: what `context.params` resolves to.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl Params {
    /// The value of one parameter.
    pub fn get(&self, name: &str) -> Option<&QueryValue> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
}

/// A percent escape that `decodeURIComponent` rejects; Next answers 400 for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed percent-encoding in a route parameter")]
pub struct MalformedEscape;

/// JavaScript's `decodeURIComponent`: every `%XX` decoded, the bytes must form UTF-8
/// (overlong forms and surrogates rejected), a `%` not followed by two hex digits is an error.
pub fn decode_uri_component(raw: &str) -> Result<String, MalformedEscape> {
    if !raw.contains('%') {
        return Ok(raw.to_owned());
    }
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hi = bytes.get(i + 1).and_then(|b| hex_value(*b));
            let lo = bytes.get(i + 2).and_then(|b| hex_value(*b));
            match (hi, lo) {
                (Some(h), Some(l)) => out.push(h << 4 | l),
                _ => return Err(MalformedEscape),
            }
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| MalformedEscape)
}

fn hex_value(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_classification() {
        use SegmentSyntax::*;
        assert_eq!(classify_segment("about"), Ok(Static));
        assert_eq!(classify_segment("[]"), Ok(Static));
        assert_eq!(classify_segment("post-[id]"), Ok(Static));
        assert_eq!(classify_segment("[id].json"), Ok(Static));
        assert_eq!(classify_segment("[id]"), Ok(Dynamic("id".into())));
        assert_eq!(classify_segment("[...a_b]"), Ok(CatchAll("a_b".into())));
        assert_eq!(
            classify_segment("[[...slug]]"),
            Ok(OptionalCatchAll("slug".into()))
        );
        assert_eq!(
            classify_segment("[[id]]"),
            Err(RouteError::OptionalNotCatchAll("[[id]]".into()))
        );
        assert_eq!(
            classify_segment("[..id]"),
            Err(RouteError::ErroneousPeriods("..id".into()))
        );
        assert_eq!(
            classify_segment("[....id]"),
            Err(RouteError::ErroneousPeriods(".id".into()))
        );
        assert_eq!(
            classify_segment("[[...id]"),
            Err(RouteError::ExtraBrackets("[...id".into()))
        );
        assert_eq!(
            classify_segment("[...id]]"),
            Err(RouteError::ExtraBrackets("id]".into()))
        );
        assert_eq!(
            classify_segment("[[[...id]]]"),
            Err(RouteError::ExtraBrackets("[...id]".into()))
        );
        assert_eq!(
            classify_segment("[…id]"),
            Err(RouteError::ThreeDotCharacter("…id".into()))
        );
    }

    #[test]
    fn decode_matches_decode_uri_component() {
        assert_eq!(decode_uri_component("a+b").unwrap(), "a+b");
        assert_eq!(decode_uri_component("a%2Fb").unwrap(), "a/b");
        assert_eq!(decode_uri_component("%E2%9C%93").unwrap(), "✓");
        assert_eq!(decode_uri_component("a%00b").unwrap(), "a\0b");
        for bad in ["%ZZ", "%C3", "%E0%A4%A", "100%", "%C0%AF", "%ED%A0%80", "%"] {
            assert!(decode_uri_component(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn pattern_matching_and_decoding() {
        let p = RoutePattern::parse("/api/opt/[[...slug]]").unwrap();
        assert_eq!(p.kind(), RouteKind::OptionalCatchAll);
        let caps = p.match_segments(&["api", "opt"]).unwrap();
        assert_eq!(p.decode_params(&caps).unwrap(), Params::default());
        let caps = p.match_segments(&["api", "opt", "index"]).unwrap();
        assert_eq!(p.decode_params(&caps).unwrap(), Params::default());
        let caps = p.match_segments(&["api", "opt", "a%2Fb", "c"]).unwrap();
        assert_eq!(
            p.decode_params(&caps).unwrap().get("slug"),
            Some(&QueryValue::Many(vec!["a/b".into(), "c".into()]))
        );
        assert!(p.match_segments(&["api"]).is_none());
        let p = RoutePattern::parse("/api/[...s]").unwrap();
        assert!(p.match_segments(&["api"]).is_none());
        assert!(RoutePattern::parse("/api/[...s]/x").is_err());
        assert!(RoutePattern::parse("/api/[id]/[id]").is_err());
    }
}
