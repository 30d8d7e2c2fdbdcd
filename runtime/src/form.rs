//! Form bodies, both routers: `application/x-www-form-urlencoded` and `multipart/form-data`
//! (fields and files), parsed as Next's `request.formData()` parses them, with its errors.

use bytes::Bytes;

/// A parsed form body: its entries in order, repeated names kept (Next's `FormData`).
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

impl FormData {
    /// Parses `body` according to its `content_type`.
    pub async fn parse(content_type: Option<&str>, body: Bytes) -> Result<FormData, FormError> {
        let _ = (content_type, body);
        todo!("form parsing")
    }

    /// The entries in order.
    pub fn entries(&self) -> &[(String, FormValue)] {
        &self.entries
    }
}
