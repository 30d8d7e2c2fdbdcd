//! `nextr::Error` and `nextr::Result`: what handlers return.

use std::error::Error as StdError;
use std::fmt;

use crate::response::IntoStatus;

/// `Result<T, nextr::Error>`, the return type of handlers and response helpers.
pub type Result<T = (), E = Error> = std::result::Result<T, E>;

/// Any error a handler returns. Every `std::error::Error + Send + Sync` converts with `?`.
///
/// By default the client gets Next's `500 Internal Server Error`. An error made with
/// [`Error::http`] answers with its own status and message instead (as Next's `ApiError`
/// does for the body parser: plain text, the message as the body).
pub struct Error {
    inner: Box<dyn StdError + Send + Sync + 'static>,
}

/// An error that carries the HTTP status and message the client should get.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct HttpError {
    /// The status to answer with.
    pub status: u16,
    /// The plain-text body (and reason phrase).
    pub message: String,
}

#[derive(Debug)]
struct Message(String);

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl StdError for Message {}

impl Error {
    /// An error from a message (logged; the client gets a 500).
    pub fn msg(message: impl fmt::Display) -> Self {
        Error {
            inner: Box::new(Message(message.to_string())),
        }
    }

    /// An error answered with `status` (`404` or `StatusCode::NOT_FOUND`) and `message` as a
    /// plain-text body.
    pub fn http(status: impl IntoStatus, message: impl Into<String>) -> Self {
        Error {
            inner: Box::new(HttpError {
                status: status.into_status(),
                message: message.into(),
            }),
        }
    }

    /// An error from an already boxed standard error.
    pub fn from_boxed(inner: Box<dyn StdError + Send + Sync + 'static>) -> Self {
        Error { inner }
    }

    /// The status this error answers with, when it was made with [`Error::http`].
    pub fn status(&self) -> Option<u16> {
        self.downcast_ref::<HttpError>().map(|e| e.status)
    }

    /// The underlying error, if it is a `T`.
    pub fn downcast_ref<T: StdError + 'static>(&self) -> Option<&T> {
        self.inner.downcast_ref::<T>()
    }

    /// The underlying error.
    pub fn as_std(&self) -> &(dyn StdError + Send + Sync + 'static) {
        &*self.inner
    }

    /// Converts into a boxed standard error.
    pub fn into_boxed(self) -> Box<dyn StdError + Send + Sync + 'static> {
        self.inner
    }
}

impl<E: StdError + Send + Sync + 'static> From<E> for Error {
    fn from(e: E) -> Self {
        Error { inner: Box::new(e) }
    }
}

impl From<Error> for Box<dyn StdError + Send + Sync + 'static> {
    fn from(e: Error) -> Self {
        e.inner
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.inner, f)?;
        let mut source = self.inner.source();
        while let Some(s) = source {
            write!(f, ": {s}")?;
            source = s.source();
        }
        Ok(())
    }
}
