//! Form bodies, both routers: `application/x-www-form-urlencoded` and `multipart/form-data`
//! (fields and files), parsed as Next's `request.formData()` parses them, with its errors.
//!
//! Next's `formData()` is undici's (Node's `fetch`): the Content-Type's essence picks the
//! parser, urlencoded bodies follow `URLSearchParams`, multipart bodies undici's own strict
//! parser, which `multipart` reproduces (a general reader such as `multer` accepts, and reads
//! differently, about one body in five that undici refuses). `multer` serves the Pages
//! Router's streaming `req.multipart()` instead.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

mod mime;
mod multipart;

/// A parsed form body: its entries in order, repeated names kept (Next's `FormData`).
///
/// Serialises as its entries, `[{"name": …, "value": …}, …]`, a file's value being
/// `{"name", "type", "size"}` (what a handler usually reports back).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormData {
    entries: Vec<(String, FormValue)>,
}

/// One entry's value: a string field or a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormValue {
    /// A string field.
    Text(String),
    /// A file part.
    File(File),
}

/// An uploaded file (Next's `File`): name, type, bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    /// The part's `filename`.
    pub name: String,
    /// The part's Content-Type (`text/plain` when the part has none, as in Next).
    pub content_type: String,
    /// The file's bytes.
    pub bytes: Bytes,
}

/// Why a body is not a form, in Next's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    /// Neither urlencoded nor multipart.
    #[error("Content-Type was not one of \"multipart/form-data\" or \"application/x-www-form-urlencoded\".")]
    ContentType,
    /// A multipart body that does not parse (wrong boundary, truncated).
    #[error("Failed to parse body as FormData.")]
    Parse,
}

impl FormError {
    /// The JavaScript error's name (`TypeError`, as Next throws both).
    pub fn name(&self) -> &'static str {
        "TypeError"
    }
}

const URLENCODED: &str = "application/x-www-form-urlencoded";
const MULTIPART: &str = "multipart/form-data";

impl FormData {
    /// Parses `body` according to its `content_type` (the request's `Content-Type` header).
    pub async fn parse(content_type: Option<&str>, body: Bytes) -> Result<FormData, FormError> {
        let mime = content_type
            .and_then(mime::parse_header)
            .ok_or(FormError::ContentType)?;
        match mime.essence.as_str() {
            URLENCODED => Ok(Self::parse_urlencoded(&body)),
            MULTIPART => {
                let boundary = mime.param("boundary").ok_or(FormError::Parse)?;
                Self::parse_multipart(boundary, body)
            }
            _ => Err(FormError::ContentType),
        }
    }

    /// `new URLSearchParams(body.toString())`: the text is decoded first (bad UTF-8 becomes
    /// U+FFFD before any `%` escape is read), one leading `?` is dropped.
    fn parse_urlencoded(body: &[u8]) -> FormData {
        let text = String::from_utf8_lossy(body);
        let text = text.strip_prefix('?').unwrap_or(&text);
        let entries = form_urlencoded::parse(text.as_bytes())
            .map(|(k, v)| (k.into_owned(), FormValue::Text(v.into_owned())))
            .collect();
        FormData { entries }
    }

    fn parse_multipart(boundary: &str, body: Bytes) -> Result<FormData, FormError> {
        let entries = multipart::parse(&body, boundary).ok_or(FormError::Parse)?;
        Ok(FormData { entries })
    }

    /// The first value under `name` (`formData.get(name)`).
    pub fn get(&self, name: &str) -> Option<&FormValue> {
        self.entries.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// Every value under `name`, in order (`formData.getAll(name)`).
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a FormValue> + 'a {
        self.entries
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v)
    }

    /// The first value under `name` when it is a string field.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(FormValue::as_text)
    }

    /// The first value under `name` when it is a file.
    pub fn file(&self, name: &str) -> Option<&File> {
        self.get(name).and_then(FormValue::as_file)
    }

    /// True when some entry has that name (`formData.has(name)`).
    pub fn has(&self, name: &str) -> bool {
        self.entries.iter().any(|(k, _)| k == name)
    }

    /// The entries in order.
    pub fn entries(&self) -> &[(String, FormValue)] {
        &self.entries
    }

    /// The entries as `(name, value)` pairs, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &FormValue)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The number of entries (a repeated name counts each time).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the form has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl<'a> IntoIterator for &'a FormData {
    type Item = &'a (String, FormValue);
    type IntoIter = std::slice::Iter<'a, (String, FormValue)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter()
    }
}

impl IntoIterator for FormData {
    type Item = (String, FormValue);
    type IntoIter = std::vec::IntoIter<(String, FormValue)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl FormValue {
    /// The string of a text field.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            FormValue::Text(s) => Some(s),
            FormValue::File(_) => None,
        }
    }

    /// The file of a file part.
    pub fn as_file(&self) -> Option<&File> {
        match self {
            FormValue::File(f) => Some(f),
            FormValue::Text(_) => None,
        }
    }
}

impl File {
    /// The size in bytes (`file.size`).
    pub fn size(&self) -> usize {
        self.bytes.len()
    }

    /// The contents as text (`await file.text()`: UTF-8, bad bytes as U+FFFD).
    pub fn text(&self) -> String {
        utf8_decode(&self.bytes)
    }
}

impl Serialize for FormValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            FormValue::Text(t) => s.serialize_str(t),
            FormValue::File(f) => f.serialize(s),
        }
    }
}

impl Serialize for File {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(3))?;
        map.serialize_entry("name", &self.name)?;
        map.serialize_entry("type", &self.content_type)?;
        map.serialize_entry("size", &self.size())?;
        map.end()
    }
}

impl Serialize for FormData {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Entry<'a> {
            name: &'a str,
            value: &'a FormValue,
        }
        s.collect_seq(self.iter().map(|(name, value)| Entry { name, value }))
    }
}

/// A `multer` reader over a whole `multipart/form-data` body (the Pages Router's
/// `req.multipart()`): [`FormError::ContentType`] for another type, [`FormError::Parse`]
/// without a boundary.
pub(crate) fn multipart_reader(
    content_type: Option<&str>,
    body: Bytes,
) -> Result<multer::Multipart<'static>, FormError> {
    let mime = content_type
        .and_then(mime::parse_header)
        .filter(|m| m.essence == MULTIPART)
        .ok_or(FormError::ContentType)?;
    let boundary = mime.param("boundary").ok_or(FormError::Parse)?;
    Ok(multer::Multipart::new(Once(Some(body)), boundary))
}

/// WHATWG "UTF-8 decode": one leading BOM dropped, bad bytes as U+FFFD.
pub(crate) fn utf8_decode(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    String::from_utf8_lossy(bytes).into_owned()
}

/// The whole body as a one-item stream, which is what `multer` reads.
struct Once(Option<Bytes>);

impl futures_core::Stream for Once {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Ready(self.0.take().map(Ok))
    }
}

#[cfg(test)]
mod tests;
