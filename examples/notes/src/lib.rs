//! What the notes routes share: the note types and their validation, the store, and the error
//! answers (`api/notes/index.rs` and `api/notes/[id].rs` are separate Lambda functions; both
//! link this library as `notes::…`).
//!
//! The store keeps one JSON file per note in a folder (`NOTES_DATA_DIR`), so notes survive
//! between invocations and between processes: `nextr dev` restarts, other instances of a
//! function, the other route's function. On AWS, Lambda's `/tmp` is private to one instance
//! and lost when it is recycled, so a deployed app would swap [`Store`] for one backed by
//! DynamoDB (a table keyed by `id`, through `aws-sdk-dynamodb`) or S3 (one object per note),
//! with the same methods; the routes would not change.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use nextr::deps::http::header::{ALLOW, WWW_AUTHENTICATE};
use nextr::prelude::*;

pub mod auth;

/// The variable naming the folder the notes are kept in.
pub const DATA_DIR_VAR: &str = "NOTES_DATA_DIR";
/// The longest title, in characters.
pub const MAX_TITLE: usize = 200;
/// The longest body, in characters.
pub const MAX_BODY: usize = 10_000;

/// A stored note, as the API returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// 16 lowercase hex digits, increasing with creation time.
    pub id: String,
    /// A non-empty title.
    pub title: String,
    /// The text (may be empty).
    pub body: String,
    /// Who created it: the user the proxy signed in (`proxy.rs`).
    #[serde(default)]
    pub author: String,
}

/// The body of `POST /api/notes` and `PUT /api/notes/[id]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewNote {
    /// Required.
    pub title: String,
    /// Optional, empty by default.
    #[serde(default)]
    pub body: String,
}

/// The body of `PATCH /api/notes/[id]`: the fields to change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotePatch {
    /// A new title.
    pub title: Option<String>,
    /// A new body.
    pub body: Option<String>,
}

impl NewNote {
    /// The note with its title trimmed, or why it is not acceptable.
    pub fn validate(self) -> Result<Self, ApiError> {
        Ok(NewNote {
            title: check_title(&self.title)?,
            body: check_body(self.body)?,
        })
    }
}

impl NotePatch {
    /// The patch with its title trimmed, or why it is not acceptable.
    pub fn validate(self) -> Result<Self, ApiError> {
        Ok(NotePatch {
            title: self.title.as_deref().map(check_title).transpose()?,
            body: self.body.map(check_body).transpose()?,
        })
    }
}

fn check_title(title: &str) -> Result<String, ApiError> {
    let title = title.trim();
    if title.is_empty() {
        return Err(ApiError::BadRequest("title must not be empty".into()));
    }
    if title.chars().count() > MAX_TITLE {
        return Err(ApiError::BadRequest(format!(
            "title must be at most {MAX_TITLE} characters"
        )));
    }
    Ok(title.to_owned())
}

fn check_body(body: String) -> Result<String, ApiError> {
    if body.chars().count() > MAX_BODY {
        return Err(ApiError::BadRequest(format!(
            "body must be at most {MAX_BODY} characters"
        )));
    }
    Ok(body)
}

/// An answer other than success, as `{"error": "..."}`: the routes return it and `?` converts
/// storage and body errors into it.
#[derive(Debug)]
pub enum ApiError {
    /// 400: the request body is not an acceptable note.
    BadRequest(String),
    /// 415: the request body is not declared JSON (`req.json()` refuses it).
    UnsupportedMediaType(String),
    /// 404: no such note.
    NotFound(String),
    /// 401: a write without a signed-in user (the proxy answers these first; the routes
    /// check again, so a matcher that misses a path cannot open it).
    Unauthorized,
    /// 405, with the methods the route accepts in `Allow`.
    MethodNotAllowed {
        /// The method received.
        method: String,
        /// `Allow`'s value.
        allow: &'static str,
    },
    /// 500: the store failed (logged; the client gets no details).
    Internal(String),
}

impl ApiError {
    /// 404 for a note id.
    pub fn note_not_found(id: &str) -> Self {
        if id.is_empty() {
            // An encoded `/` in the id: see "API Gateway decodes the path" in the README.
            ApiError::NotFound("note not found".into())
        } else {
            ApiError::NotFound(format!("note {id} not found"))
        }
    }

    /// 405 for `method`, naming the accepted methods.
    pub fn method_not_allowed(method: &Method, allow: &'static str) -> Self {
        ApiError::MethodNotAllowed {
            method: method.to_string(),
            allow,
        }
    }
}

impl IntoErrorResponse for ApiError {
    fn into_error_response(self) -> ErrorResponse {
        let answer =
            |status, message: &str| ErrorResponse::json(status, &json!({ "error": message }));
        match self {
            ApiError::BadRequest(m) => answer(StatusCode::BAD_REQUEST, &m),
            ApiError::UnsupportedMediaType(m) => answer(StatusCode::UNSUPPORTED_MEDIA_TYPE, &m),
            ApiError::NotFound(m) => answer(StatusCode::NOT_FOUND, &m),
            ApiError::Unauthorized => answer(StatusCode::UNAUTHORIZED, auth::SIGN_IN)
                .header(WWW_AUTHENTICATE, "Bearer"),
            ApiError::MethodNotAllowed { method, allow } => answer(
                StatusCode::METHOD_NOT_ALLOWED,
                &format!("Method {method} Not Allowed"),
            )
            .header(ALLOW, allow),
            ApiError::Internal(cause) => {
                // The runtime does not log the answers it sends; function output goes to the
                // function's logs (CloudWatch on AWS).
                eprintln!("notes: {cause}");
                answer(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
            }
        }
    }
}

impl From<io::Error> for ApiError {
    fn from(e: io::Error) -> Self {
        ApiError::Internal(format!("storage: {e}"))
    }
}

impl From<nextr::Error> for ApiError {
    /// `req.json()`'s errors say what is wrong with the body: 400 for its content, 415 for a
    /// body not declared JSON. Others are 500s.
    fn from(e: nextr::Error) -> Self {
        match e.status() {
            Some(400) => ApiError::BadRequest(e.to_string()),
            Some(415) => ApiError::UnsupportedMediaType(e.to_string()),
            _ => ApiError::Internal(e.to_string()),
        }
    }
}

/// True for ids this API hands out (so that no other path ever reaches the file system).
pub fn is_valid_id(id: &str) -> bool {
    id.len() == 16 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The notes, one `<id>.json` file each in one folder.
///
/// Creating is atomic and never overwrites (the file is linked into place fully written);
/// updates replace the file atomically (write, then rename), so a reader sees the old or the
/// new note, never half of one; two concurrent updates of one note: the last one wins.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    /// The store in `$NOTES_DATA_DIR`, or `<temp dir>/nextr-notes` when it is not set.
    pub fn open() -> io::Result<Self> {
        let dir = std::env::var_os(DATA_DIR_VAR)
            .map(PathBuf::from)
            .unwrap_or_else(|| std::env::temp_dir().join("nextr-notes"));
        Store::at(dir)
    }

    /// The store in `dir` (created if needed).
    pub fn at(dir: impl Into<PathBuf>) -> io::Result<Self> {
        let dir = dir.into();
        fs::create_dir_all(&dir)?;
        Ok(Store { dir })
    }

    fn path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// Every note, oldest first.
    pub fn list(&self) -> io::Result<Vec<Note>> {
        let mut ids: Vec<String> = fs::read_dir(&self.dir)?
            .filter_map(|entry| {
                let name = entry.ok()?.file_name().into_string().ok()?;
                let id = name.strip_suffix(".json")?;
                is_valid_id(id).then(|| id.to_owned())
            })
            .collect();
        ids.sort();
        let mut notes = Vec::with_capacity(ids.len());
        for id in ids {
            // A note deleted since the listing is simply not there.
            if let Some(note) = self.get(&id)? {
                notes.push(note);
            }
        }
        Ok(notes)
    }

    /// One note; `None` when there is none with that id.
    pub fn get(&self, id: &str) -> io::Result<Option<Note>> {
        if !is_valid_id(id) {
            return Ok(None);
        }
        match fs::read(self.path(id)) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Stores a new note by `author` under a fresh id.
    pub fn create(&self, new: NewNote, author: &str) -> io::Result<Note> {
        let mut next = now_nanos();
        loop {
            let note = Note {
                id: format!("{next:016x}"),
                title: new.title.clone(),
                body: new.body.clone(),
                author: author.to_owned(),
            };
            let tmp = self.write_temp(&note)?;
            // `hard_link` fails when the target exists: the id is taken, try the next one.
            let linked = fs::hard_link(&tmp, self.path(&note.id));
            fs::remove_file(&tmp)?;
            match linked {
                Ok(()) => return Ok(note),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => next += 1,
                Err(e) => return Err(e),
            }
        }
    }

    /// Replaces a note's title and body; `None` when there is no such note.
    pub fn replace(&self, id: &str, new: NewNote) -> io::Result<Option<Note>> {
        self.update(
            id,
            NotePatch {
                title: Some(new.title),
                body: Some(new.body),
            },
        )
    }

    /// Changes the fields a patch names; `None` when there is no such note.
    pub fn update(&self, id: &str, patch: NotePatch) -> io::Result<Option<Note>> {
        let Some(mut note) = self.get(id)? else {
            return Ok(None);
        };
        if let Some(title) = patch.title {
            note.title = title;
        }
        if let Some(body) = patch.body {
            note.body = body;
        }
        let tmp = self.write_temp(&note)?;
        fs::rename(&tmp, self.path(id))?;
        Ok(Some(note))
    }

    /// Deletes a note; false when there was none.
    pub fn delete(&self, id: &str) -> io::Result<bool> {
        if !is_valid_id(id) {
            return Ok(false);
        }
        match fs::remove_file(self.path(id)) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Writes the note to a temporary file of its own in the store's folder.
    fn write_temp(&self, note: &Note) -> io::Result<PathBuf> {
        let tmp = self.dir.join(format!(
            ".{}.{}.{}.tmp",
            note.id,
            std::process::id(),
            now_nanos()
        ));
        fs::write(&tmp, serde_json::to_vec(note).map_err(io::Error::other)?)?;
        Ok(tmp)
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_round_trip() {
        let dir = std::env::temp_dir().join(format!("notes-test-{}", std::process::id()));
        let store = Store::at(&dir).unwrap();
        let a = store
            .create(NewNote {
                title: "a".into(),
                body: String::new(),
            }, "alice")
            .unwrap();
        let b = store
            .create(NewNote {
                title: "b".into(),
                body: "x".into(),
            }, "alice")
            .unwrap();
        assert!(a.id < b.id);
        assert_eq!(store.list().unwrap(), [a.clone(), b.clone()]);
        let patched = store
            .update(
                &a.id,
                NotePatch {
                    body: Some("new".into()),
                    ..NotePatch::default()
                },
            )
            .unwrap()
            .unwrap();
        assert_eq!(patched.body, "new");
        assert!(store.delete(&a.id).unwrap());
        assert!(!store.delete(&a.id).unwrap());
        assert_eq!(store.get(&a.id).unwrap(), None);
        assert_eq!(store.get("../../etc/passwd").unwrap(), None);
        assert_eq!(store.list().unwrap(), [b]);
        fs::remove_dir_all(dir).unwrap();
    }
}
