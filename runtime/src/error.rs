//! `nextr::Error` and `nextr::Result`: what handlers return, and [`IntoErrorResponse`] for an
//! app's own error type.

use std::error::Error as StdError;
use std::fmt;

use http::header::HeaderName;
use http::HeaderMap;
use serde::Serialize;

use crate::response::{header_name, header_value, IntoStatus, ResponseError};

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

    /// The status this error answers with, when it carries one ([`Error::http`], or an
    /// [`ErrorResponse`] it was made from).
    pub fn status(&self) -> Option<u16> {
        self.answer().map(|(status, _)| status)
    }

    /// The status and body of the answer this error carries, if any: an [`HttpError`] or a
    /// well-formed [`ErrorResponse`].
    pub(crate) fn answer(&self) -> Option<(u16, &str)> {
        if let Some(e) = self.downcast_ref::<HttpError>() {
            return Some((e.status, &e.message));
        }
        self.error_response().map(|r| (r.status, r.body.as_str()))
    }

    /// The [`ErrorResponse`] this error was made from, if it was built without a problem.
    pub(crate) fn error_response(&self) -> Option<&ErrorResponse> {
        self.downcast_ref::<ErrorResponse>()
            .filter(|r| r.problem.is_none())
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

/// An app's error type that describes its own answer, so a handler can return `Result<(), E>`
/// and let `?` turn any `E` into that answer instead of sending it by hand.
///
/// ```
/// use nextr::prelude::*;
///
/// enum ApiError {
///     NotFound(String),
///     Storage(std::io::Error),
/// }
///
/// impl IntoErrorResponse for ApiError {
///     fn into_error_response(self) -> ErrorResponse {
///         match self {
///             ApiError::NotFound(what) => {
///                 ErrorResponse::json(StatusCode::NOT_FOUND, &json!({ "error": format!("{what} not found") }))
///             }
///             ApiError::Storage(e) => {
///                 eprintln!("storage: {e}"); // the runtime does not log answers it could send
///                 ErrorResponse::json(500, &json!({ "error": "Internal Server Error" }))
///                     .header("retry-after", "5")
///             }
///         }
///     }
/// }
///
/// pub async fn handler(req: &mut NextApiRequest, res: &mut NextApiResponse) -> Result<(), ApiError> {
///     let id = req.query.str("id").unwrap_or_default();
///     Err(ApiError::NotFound(format!("note {id}")))
/// }
/// ```
///
/// The runtime sends the answer as `res.status(status).json(body)` would, with the answer's
/// headers replacing any the handler set under the same names. When the handler already
/// started the body (`res.write`) or ended the response, the answer cannot be sent: it is
/// logged, and the body, if still open, ends with the answer's body, as for
/// [`Error::http`]. An `E` that is also a `std::error::Error` takes this path too, not the 500
/// (converted into [`Error`] by hand, it is an ordinary error again).
pub trait IntoErrorResponse {
    /// The answer this error calls for.
    fn into_error_response(self) -> ErrorResponse;
}

/// The answer an [`IntoErrorResponse`] error describes: a status, headers and a JSON body.
///
/// Building never fails: an invalid header or a body that cannot be serialised is kept and
/// reported when the runtime would send the answer (logged; the client gets Next's 500), as
/// an invalid status is.
#[derive(Debug)]
pub struct ErrorResponse {
    status: u16,
    headers: HeaderMap,
    /// The body as JSON text, serialised once as `res.json` would.
    body: String,
    /// The first problem met while building.
    problem: Option<ResponseError>,
}

impl ErrorResponse {
    /// An answer with `status` (a `u16` or a `StatusCode`) and `body` serialised as JSON.
    pub fn json<T: Serialize + ?Sized>(status: impl IntoStatus, body: &T) -> Self {
        let (body, problem) = match serde_json::to_string(body) {
            Ok(text) => (text, None),
            Err(e) => (String::new(), Some(ResponseError::Json(e))),
        };
        ErrorResponse {
            status: status.into_status(),
            headers: HeaderMap::new(),
            body,
            problem,
        }
    }

    /// Adds a header value (several values of one name make several header lines). The name
    /// is text or a `HeaderName`.
    pub fn header<K>(mut self, name: K, value: impl AsRef<str>) -> Self
    where
        K: TryInto<HeaderName> + Clone + fmt::Debug,
    {
        match header_name(name).and_then(|n| Ok((n, header_value(value.as_ref())?))) {
            Ok((name, value)) => {
                self.headers.append(name, value);
            }
            Err(e) => {
                self.problem.get_or_insert(e);
            }
        }
        self
    }

    /// The status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The headers added.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The JSON body, as sent.
    pub fn body(&self) -> &str {
        &self.body
    }
}

impl IntoErrorResponse for ErrorResponse {
    fn into_error_response(self) -> ErrorResponse {
        self
    }
}

impl fmt::Display for ErrorResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.problem {
            None => write!(f, "error response {}: {}", self.status, self.body),
            Some(p) => write!(f, "error response {} could not be built: {p}", self.status),
        }
    }
}

impl StdError for ErrorResponse {}
