//! The client's side of a streamed response: an HTTP body that yields each chunk the moment
//! the pump hands it on (hyper writes it as one HTTP/1.1 chunk and flushes), ends with the
//! terminating chunk only when the function ended its stream normally, and otherwise fails,
//! which makes hyper close the connection without the terminating chunk: the client sees an
//! incomplete body, as it does when Lambda cuts a stream.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame};
use tokio::sync::mpsc;
use tokio::time::Sleep;

use super::Chunk;
use crate::emulator::logs::Logger;

/// Why a streamed response was cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StreamCut {
    /// The function's stream failed (an error, a crash, a timeout).
    #[error("the function's stream failed")]
    Function,
    /// No chunk within the gateway's idle timeout.
    #[error("no data within the stream's idle timeout")]
    Idle,
}

/// Who to tell when the idle timeout closes a stream.
#[derive(Clone)]
pub struct IdleLog {
    /// The log.
    pub logger: Logger,
    /// The route, as log lines name it.
    pub route: String,
}

/// A streamed response body.
pub struct ClientBody {
    rx: mpsc::Receiver<Chunk>,
    idle: Option<(Duration, Pin<Box<Sleep>>, IdleLog)>,
    done: bool,
}

impl ClientBody {
    /// The body of `rx`'s chunks; with `idle`, the stream is closed when no chunk arrives for
    /// that long (API Gateway REST APIs' idle timeout for streamed responses).
    pub fn new(rx: mpsc::Receiver<Chunk>, idle: Option<(Duration, IdleLog)>) -> Self {
        ClientBody {
            rx,
            idle: idle.map(|(d, log)| (d, Box::pin(tokio::time::sleep(d)), log)),
            done: false,
        }
    }
}

impl Body for ClientBody {
    type Data = Bytes;
    type Error = StreamCut;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, StreamCut>>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        match this.rx.poll_recv(cx) {
            Poll::Ready(Some(Chunk::Data(data))) => {
                if let Some((d, sleep, _)) = &mut this.idle {
                    sleep.as_mut().reset(tokio::time::Instant::now() + *d);
                }
                return Poll::Ready(Some(Ok(Frame::data(data))));
            }
            Poll::Ready(Some(Chunk::End)) => {
                this.done = true;
                return Poll::Ready(None);
            }
            Poll::Ready(None) => {
                this.done = true;
                return Poll::Ready(Some(Err(StreamCut::Function)));
            }
            Poll::Pending => {}
        }
        if let Some((d, sleep, log)) = &mut this.idle {
            if sleep.as_mut().poll(cx).is_ready() {
                this.done = true;
                log.logger.route(
                    &log.route,
                    &format!(
                        "nextr: no data for {} s; API Gateway closes the stream (REST API idle timeout)",
                        d.as_secs_f64()
                    ),
                );
                // Dropping the receiver (with the body) stops the forwarding; the invocation
                // still runs to its end.
                return Poll::Ready(Some(Err(StreamCut::Idle)));
            }
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.done
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::logs::{LambdaLines, LogWriter, Sink};
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn chunks_then_end() {
        let (tx, rx) = mpsc::channel(4);
        let mut body = ClientBody::new(rx, None);
        tx.send(Chunk::Data(Bytes::from_static(b"a")))
            .await
            .unwrap();
        tx.send(Chunk::End).await.unwrap();
        let f = body.frame().await.unwrap().unwrap();
        assert_eq!(f.into_data().unwrap(), Bytes::from_static(b"a"));
        assert!(body.frame().await.is_none());
    }

    #[tokio::test]
    async fn a_closed_channel_without_end_is_a_cut() {
        let (tx, rx) = mpsc::channel(4);
        let mut body = ClientBody::new(rx, None);
        drop(tx);
        assert_eq!(
            body.frame().await.unwrap().unwrap_err(),
            StreamCut::Function
        );
    }

    #[tokio::test]
    async fn the_idle_timeout_closes_a_silent_stream_and_data_resets_it() {
        let (_writer, logger) = LogWriter::start(Sink::Stderr, LambdaLines::Shown);
        let log = IdleLog {
            logger,
            route: "/api/x".into(),
        };
        let (tx, rx) = mpsc::channel(4);
        let mut body = ClientBody::new(rx, Some((Duration::from_millis(200), log)));
        let started = std::time::Instant::now();
        tokio::spawn(async move {
            for _ in 0..3 {
                tokio::time::sleep(Duration::from_millis(100)).await;
                let _ = tx.send(Chunk::Data(Bytes::from_static(b"x"))).await;
            }
            // Then silence, with the channel still open.
            tokio::time::sleep(Duration::from_secs(5)).await;
        });
        for _ in 0..3 {
            assert!(body.frame().await.unwrap().is_ok());
        }
        assert_eq!(body.frame().await.unwrap().unwrap_err(), StreamCut::Idle);
        let elapsed = started.elapsed();
        assert!(
            elapsed >= Duration::from_millis(450) && elapsed < Duration::from_secs(3),
            "{elapsed:?}"
        );
    }
}
