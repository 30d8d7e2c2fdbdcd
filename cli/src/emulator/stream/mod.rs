//! Response streaming, from the runtime's `POST …/response` in streaming mode to the client.
//!
//! ```text
//! runtime ──chunked POST──▶ pump (runtime API side) ──Chunk channel──▶ ClientBody (front) ──▶ client
//!                            │ prelude → Outcome::Streamed
//!                            └ end of stream → StreamEnd → the instance's driver (REPORT, free)
//! ```
//!
//! Nothing is buffered beyond one chunk in flight per side: the channel is bounded, so a slow
//! client slows the function's writes, as Lambda's own stream does. A client that goes away
//! only stops the forwarding: the pump keeps reading (and dropping) what the function writes,
//! so the invocation completes and the instance is freed when the function's stream ends.
//!
//! | module | what it owns |
//! |---|---|
//! | `prelude` | the JSON prelude and its 8-NUL delimiter, read incrementally |
//! | `pump` | reading the runtime's streamed body, its error trailers, and handing chunks on |
//! | `body` | the client's chunked HTTP body, with the REST API's idle timeout |

pub mod body;
pub mod prelude;
pub(crate) mod pump;
#[cfg(test)]
mod tests;

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};

pub use prelude::{Prelude, PreludeError};

use base64::Engine;

use super::pool::{FailureKind, FunctionError, Outcome, Reply};

/// Chunks in flight between the pump and the client's body: small, so that the function's
/// writes reach the client as they are made and backpressure reaches the function.
pub const CHANNEL_CHUNKS: usize = 4;

/// What the pump hands the client's body.
#[derive(Debug)]
pub enum Chunk {
    /// Body bytes, as the function wrote them.
    Data(Bytes),
    /// The function ended its stream normally. A channel closed without this is a cut
    /// stream: the client must see an incomplete body.
    End,
}

/// A streamed response, as the front gets it once the prelude has arrived.
#[derive(Debug)]
pub struct Streamed {
    /// Status and headers.
    pub prelude: Prelude,
    /// The body's chunks.
    pub body: mpsc::Receiver<Chunk>,
}

impl Streamed {
    /// Reads the whole stream (`nextr invoke`) into a payload 2.0 response document
    /// (`statusCode`, `headers`, `cookies`, `body`, base64 unless UTF-8), or a function error
    /// when the stream was cut.
    pub async fn into_payload(mut self) -> Outcome {
        let mut body = Vec::new();
        let complete = loop {
            match self.body.recv().await {
                Some(Chunk::Data(d)) => body.extend_from_slice(&d),
                Some(Chunk::End) => break true,
                None => break false,
            }
        };
        if !complete {
            return Outcome::Failed(FunctionError::new(
                FailureKind::Function,
                "Runtime.StreamCut",
                "the function's response stream was cut (see the log)",
            ));
        }
        let mut headers = serde_json::Map::new();
        let mut cookies = Vec::new();
        for (name, value) in &self.prelude.headers {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            if name == http::header::SET_COOKIE {
                cookies.push(serde_json::Value::from(value));
            } else {
                headers.insert(name.as_str().to_owned(), value.into());
            }
        }
        let (body, base64) = match String::from_utf8(body) {
            Ok(text) => (text, false),
            Err(e) => (
                base64::engine::general_purpose::STANDARD.encode(e.into_bytes()),
                true,
            ),
        };
        let doc = serde_json::json!({
            "statusCode": self.prelude.status.as_u16(),
            "headers": headers,
            "cookies": cookies,
            "body": body,
            "isBase64Encoded": base64,
        });
        Outcome::Response(Bytes::from(doc.to_string()))
    }
}

/// How a function's stream ended, for the instance's driver (log, REPORT, next invocation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEnd {
    /// The runtime finished its POST normally.
    Complete,
    /// The runtime reported an error in the trailers (or before the prelude was complete).
    FunctionError {
        /// `Lambda-Runtime-Function-Error-Type`.
        error_type: String,
        /// `Lambda-Runtime-Function-Error-Body`, decoded from base64 when it is.
        body: String,
    },
    /// The prelude was malformed: the client got a function error.
    Malformed(PreludeError),
    /// The runtime's connection broke mid-stream (a crash, a kill): the process's exit or
    /// the deadline ends the invocation.
    Broken,
}

/// What the driver gives the Runtime API to stream an invocation's response.
pub struct StreamGrant {
    /// Where the client's outcome goes (shared with the driver, which answers the client
    /// itself if the process dies or times out before the prelude is complete).
    pub reply: Reply,
    /// Where the end of the stream is reported.
    pub end: oneshot::Sender<StreamEnd>,
}

impl std::fmt::Debug for StreamGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StreamGrant")
    }
}
