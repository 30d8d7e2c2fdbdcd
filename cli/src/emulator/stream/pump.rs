//! Reads a runtime's streamed `POST …/invocation/{id}/response` as it arrives: the prelude
//! first (the client's outcome is sent the moment it is complete), then every chunk on to the
//! client as it comes, then the trailers, where a runtime reports an error it hit mid-stream
//! (`Lambda-Runtime-Function-Error-Type` / `-Body`).
//!
//! There is no size limit: Lambda's 6 MB limit is for buffered responses only (streams are
//! limited by bandwidth and the function's timeout, which the driver enforces).

use base64::Engine;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue};
use http_body_util::BodyExt;
use hyper::body::Body;
use tokio::sync::mpsc;

use super::prelude::{self, Prelude, PreludeError, PreludeReader};
use super::{Chunk, StreamEnd, StreamGrant, Streamed, CHANNEL_CHUNKS};
use crate::emulator::pool::{posted_error, FailureKind, FunctionError, Outcome};

/// `Content-Type` of a stream that carries a prelude.
pub const HTTP_INTEGRATION: &str = "application/vnd.awslambda.http-integration-response";

/// What the stream's body holds.
#[derive(Debug, Clone)]
pub enum BodyKind {
    /// A prelude, 8 NULs, the body (`application/vnd.awslambda.http-integration-response`).
    HttpIntegration,
    /// Only the body, of this content type.
    Raw(Option<HeaderValue>),
}

impl BodyKind {
    /// From the runtime's `Content-Type`.
    pub fn of(content_type: Option<&HeaderValue>) -> Self {
        let is_integration = content_type
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case(HTTP_INTEGRATION));
        if is_integration {
            BodyKind::HttpIntegration
        } else {
            BodyKind::Raw(content_type.cloned())
        }
    }
}

/// Where the pump is in the stream.
enum State {
    /// Reading the prelude.
    Prelude(PreludeReader),
    /// Forwarding; `None` once the client has gone away (the rest is read and dropped).
    Forwarding(Option<mpsc::Sender<Chunk>>),
    /// The prelude was malformed and the client has its error: the rest is dropped.
    Discarding,
}

/// Streams `body` to the client through `grant`, and reports how the stream ended.
pub async fn pump<B>(body: B, kind: BodyKind, grant: StreamGrant)
where
    B: Body<Data = Bytes> + Unpin,
{
    let StreamGrant { reply, end } = grant;
    let start = |prelude: Prelude| {
        let (tx, rx) = mpsc::channel(CHANNEL_CHUNKS);
        reply.send(Outcome::Streamed(Streamed { prelude, body: rx }));
        tx
    };
    let mut state = match kind {
        BodyKind::HttpIntegration => State::Prelude(PreludeReader::default()),
        BodyKind::Raw(content_type) => State::Forwarding(Some(start(prelude::raw(content_type)))),
    };
    let mut body = body;
    let mut trailers = None;
    let outcome = loop {
        let frame = match body.frame().await {
            None => break Ok(()),
            // The runtime's connection broke: its process died or was killed. Dropping the
            // sender without `End` cuts the client's response.
            Some(Err(_)) => break Err(StreamEnd::Broken),
            Some(Ok(frame)) => frame,
        };
        let data = match frame.into_data() {
            Ok(data) => data,
            Err(frame) => {
                if let Ok(t) = frame.into_trailers() {
                    trailers = Some(t);
                }
                continue;
            }
        };
        let mut malformed_prelude = None;
        state = match state {
            State::Prelude(mut reader) => match reader.push(&data) {
                Ok(None) => State::Prelude(reader),
                Ok(Some((prelude, rest))) => {
                    let tx = start(prelude);
                    State::Forwarding(forward(Some(tx), rest).await)
                }
                Err(e) => {
                    reply.send(malformed(&e));
                    malformed_prelude = Some(e);
                    State::Discarding
                }
            },
            State::Forwarding(tx) => State::Forwarding(forward(tx, data).await),
            State::Discarding => State::Discarding,
        };
        if let Some(e) = malformed_prelude {
            break Err(StreamEnd::Malformed(e));
        }
    };
    let result = match outcome {
        Err(StreamEnd::Malformed(e)) => {
            // Read the rest so that the runtime's POST completes and it can take the next
            // invocation; the client already has its error.
            while let Some(Ok(_)) = body.frame().await {}
            StreamEnd::Malformed(e)
        }
        Err(other) => other,
        Ok(()) => match trailers.as_ref().and_then(error_trailers) {
            Some((error_type, error_body)) => {
                if matches!(state, State::Prelude(_)) {
                    let error = posted_error(
                        FailureKind::Function,
                        Some(error_type.clone()),
                        Bytes::from(error_body.clone()),
                        "Runtime.Unknown",
                    );
                    reply.send(Outcome::Failed(error));
                }
                StreamEnd::FunctionError {
                    error_type,
                    body: error_body,
                }
            }
            None => match &mut state {
                State::Prelude(_) => {
                    let e = PreludeError::MissingDelimiter;
                    reply.send(malformed(&e));
                    StreamEnd::Malformed(e)
                }
                State::Forwarding(tx) => {
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(Chunk::End).await;
                    }
                    StreamEnd::Complete
                }
                State::Discarding => StreamEnd::Complete,
            },
        },
    };
    // Dropping the state drops the sender: without `End` sent, the client's body is cut.
    drop(state);
    let _ = end.send(result);
}

/// Hands one chunk on; `None` once the client is gone.
async fn forward(tx: Option<mpsc::Sender<Chunk>>, data: Bytes) -> Option<mpsc::Sender<Chunk>> {
    let tx = tx?;
    if data.is_empty() {
        return Some(tx);
    }
    tx.send(Chunk::Data(data)).await.ok().map(|()| tx)
}

fn malformed(e: &PreludeError) -> Outcome {
    Outcome::Failed(FunctionError::new(
        FailureKind::Function,
        "Runtime.MalformedStreamingResponse",
        &e.to_string(),
    ))
}

/// The error a runtime reported in its trailers: type and body (base64-decoded when it is
/// base64 of UTF-8 text, as runtimes send it).
fn error_trailers(trailers: &HeaderMap) -> Option<(String, String)> {
    let text = |name: &str| {
        trailers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    let error_type = text("lambda-runtime-function-error-type")?;
    let body = text("lambda-runtime-function-error-body").unwrap_or_default();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(body.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok());
    Some((error_type, decoded.unwrap_or(body)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::pool::Reply;
    use hyper::body::Frame;
    use tokio::sync::oneshot;

    type Frames = Vec<Result<Frame<Bytes>, std::io::Error>>;

    async fn run(frames: Frames, kind: BodyKind) -> (Option<Outcome>, Vec<Chunk>, StreamEnd) {
        let (reply, outcome) = Reply::new();
        let (end_tx, end_rx) = oneshot::channel();
        let body = TestBody(frames.into());
        let grant = StreamGrant { reply, end: end_tx };
        let pumping = tokio::spawn(pump(body, kind, grant));
        let outcome = outcome.await.ok();
        let mut chunks = Vec::new();
        let outcome = match outcome {
            Some(Outcome::Streamed(mut s)) => {
                while let Some(c) = s.body.recv().await {
                    chunks.push(c);
                }
                Some(Outcome::Streamed(s))
            }
            other => other,
        };
        pumping.await.unwrap();
        (outcome, chunks, end_rx.await.unwrap())
    }

    /// A body that yields the given frames, then ends.
    struct TestBody(std::collections::VecDeque<Result<Frame<Bytes>, std::io::Error>>);

    impl Body for TestBody {
        type Data = Bytes;
        type Error = std::io::Error;
        fn poll_frame(
            mut self: std::pin::Pin<&mut Self>,
            _cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
            std::task::Poll::Ready(self.0.pop_front())
        }
    }

    fn data(b: &'static [u8]) -> Result<Frame<Bytes>, std::io::Error> {
        Ok(Frame::data(Bytes::from_static(b)))
    }

    fn texts(chunks: &[Chunk]) -> Vec<String> {
        chunks
            .iter()
            .map(|c| match c {
                Chunk::Data(d) => String::from_utf8_lossy(d).into_owned(),
                Chunk::End => "<end>".into(),
            })
            .collect()
    }

    #[tokio::test]
    async fn chunks_follow_the_prelude_and_end_cleanly() {
        let (outcome, chunks, end) = run(
            vec![
                data(br#"{"statusCode":200,"he"#),
                data(b"aders\":{}}\0\0\0"),
                data(b"\0\0\0\0\0data: 0\n\n"),
                data(b"data: 1\n\n"),
            ],
            BodyKind::HttpIntegration,
        )
        .await;
        assert!(matches!(outcome, Some(Outcome::Streamed(_))));
        assert_eq!(texts(&chunks), ["data: 0\n\n", "data: 1\n\n", "<end>"]);
        assert_eq!(end, StreamEnd::Complete);
    }

    #[tokio::test]
    async fn a_missing_delimiter_is_a_function_error() {
        let (outcome, chunks, end) = run(
            vec![data(br#"{"statusCode":200}"#)],
            BodyKind::HttpIntegration,
        )
        .await;
        match outcome {
            Some(Outcome::Failed(e)) => assert_eq!(
                e.error_type().as_deref(),
                Some("Runtime.MalformedStreamingResponse")
            ),
            other => panic!("{other:?}"),
        }
        assert!(chunks.is_empty());
        assert_eq!(end, StreamEnd::Malformed(PreludeError::MissingDelimiter));
    }

    #[tokio::test]
    async fn an_error_trailer_cuts_the_stream() {
        let mut trailers = HeaderMap::new();
        trailers.insert(
            "lambda-runtime-function-error-type",
            HeaderValue::from_static("Runtime.StreamError"),
        );
        trailers.insert(
            "lambda-runtime-function-error-body",
            HeaderValue::from_static("Ym9vbQ=="),
        );
        let (_, chunks, end) = run(
            vec![
                data(b"{}\0\0\0\0\0\0\0\0one"),
                Ok(Frame::trailers(trailers)),
            ],
            BodyKind::HttpIntegration,
        )
        .await;
        // No `End`: the client's body is cut.
        assert_eq!(texts(&chunks), ["one"]);
        assert_eq!(
            end,
            StreamEnd::FunctionError {
                error_type: "Runtime.StreamError".into(),
                body: "boom".into()
            }
        );
    }

    #[tokio::test]
    async fn a_broken_connection_cuts_the_stream() {
        let (_, chunks, end) = run(
            vec![
                data(b"{}\0\0\0\0\0\0\0\0one"),
                Err(std::io::Error::other("reset")),
            ],
            BodyKind::HttpIntegration,
        )
        .await;
        assert_eq!(texts(&chunks), ["one"]);
        assert_eq!(end, StreamEnd::Broken);
    }

    #[tokio::test]
    async fn a_raw_stream_has_no_prelude() {
        let (outcome, chunks, end) = run(
            vec![data(b"plain")],
            BodyKind::of(Some(&HeaderValue::from_static("text/plain"))),
        )
        .await;
        match outcome {
            Some(Outcome::Streamed(s)) => {
                assert_eq!(
                    s.prelude,
                    prelude::raw(Some(HeaderValue::from_static("text/plain")))
                )
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(texts(&chunks), ["plain", "<end>"]);
        assert_eq!(end, StreamEnd::Complete);
    }
}
