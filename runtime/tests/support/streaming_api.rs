//! A fake Lambda Runtime API that also accepts the streaming response protocol: it hands out
//! events, and reports what the function posts back as it arrives — a buffered response
//! whole, a streamed one chunk by chunk (each HTTP chunk of the POST body with the `Instant` it
//! was read), so that tests can see when each write reached the Runtime API.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the fake Runtime API saw of one invocation's response, as it happened.
#[derive(Debug)]
pub enum Seen {
    /// A response POST started: the request id and its headers (names lowercased).
    Post {
        id: String,
        headers: HashMap<String, String>,
    },
    /// One HTTP chunk of a chunked (streamed) POST body.
    Chunk { bytes: Vec<u8>, at: Instant },
    /// The end of a chunked body.
    End { at: Instant },
    /// A whole (Content-Length) body.
    Whole { body: Vec<u8> },
    /// An invocation error POST.
    Error { id: String, body: Vec<u8> },
}

/// The fake API: a listener on 127.0.0.1 and its two channels.
pub struct RuntimeApi {
    pub addr: SocketAddr,
    events: Sender<(String, String)>,
    seen: Mutex<Receiver<Seen>>,
}

/// How long a test waits for the function before failing (never an assertion of speed).
pub const PATIENCE: Duration = Duration::from_secs(20);

impl RuntimeApi {
    /// Listens on a free port; each connection is served on its own thread.
    pub fn start() -> RuntimeApi {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (events_tx, events_rx) = channel::<(String, String)>();
        let (seen_tx, seen_rx) = channel::<Seen>();
        let events_rx = Arc::new(Mutex::new(events_rx));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let events = Arc::clone(&events_rx);
                let seen = seen_tx.clone();
                std::thread::spawn(move || serve_connection(stream, &events, &seen));
            }
        });
        RuntimeApi {
            addr,
            events: events_tx,
            seen: Mutex::new(seen_rx),
        }
    }

    /// Queues one event for the function's next `GET /invocation/next`.
    pub fn send_event(&self, id: &str, event: &str) {
        self.events
            .send((id.to_owned(), event.to_owned()))
            .expect("queue the event");
    }

    /// The next thing seen, or `None` after [`PATIENCE`].
    pub fn next_seen(&self) -> Option<Seen> {
        let seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.recv_timeout(PATIENCE).ok()
    }

    /// Reads one whole response: the POST and everything up to its end.
    pub fn response(&self) -> Response {
        let Some(Seen::Post { id, headers }) = self.next_seen() else {
            panic!("expected a response POST");
        };
        let mut chunks = Vec::new();
        loop {
            match self.next_seen().expect("the response went on") {
                Seen::Chunk { bytes, at } => chunks.push((bytes, at)),
                Seen::End { at } => {
                    return Response::Streamed(Streamed {
                        id,
                        headers,
                        chunks,
                        end: at,
                    })
                }
                Seen::Whole { body } => {
                    return Response::Buffered {
                        id,
                        body: serde_json::from_slice(&body).expect("a JSON payload"),
                    }
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }
}

/// One response as the function posted it.
#[derive(Debug)]
pub enum Response {
    /// A buffered response: the event-format JSON payload.
    Buffered { id: String, body: serde_json::Value },
    /// A streamed response.
    Streamed(Streamed),
}

/// A streamed response: the POST's headers and each chunk with its arrival.
#[derive(Debug)]
pub struct Streamed {
    pub id: String,
    pub headers: HashMap<String, String>,
    pub chunks: Vec<(Vec<u8>, Instant)>,
    pub end: Instant,
}

impl Streamed {
    /// Every byte of the POST body.
    pub fn bytes(&self) -> Vec<u8> {
        self.chunks.iter().flat_map(|(c, _)| c.clone()).collect()
    }

    /// The prelude (parsed) and the body after the eight NUL bytes.
    pub fn split(&self) -> (serde_json::Value, Vec<u8>) {
        let all = self.bytes();
        let at = all
            .windows(8)
            .position(|w| w == [0u8; 8])
            .expect("the prelude delimiter");
        let prelude = serde_json::from_slice(&all[..at]).expect("a JSON prelude");
        (prelude, all[at + 8..].to_vec())
    }
}

impl Response {
    /// The streamed response, or a panic naming what came instead.
    pub fn streamed(self) -> Streamed {
        match self {
            Response::Streamed(s) => s,
            other => panic!("expected a streamed response, got {other:?}"),
        }
    }

    /// The buffered payload, or a panic naming what came instead.
    pub fn buffered(self) -> serde_json::Value {
        match self {
            Response::Buffered { body, .. } => body,
            other => panic!("expected a buffered response, got {other:?}"),
        }
    }
}

fn serve_connection(
    stream: TcpStream,
    events: &Mutex<Receiver<(String, String)>>,
    seen: &Sender<Seen>,
) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (Some(method), Some(path)) = (parts.next(), parts.next()) else {
            return;
        };
        let (method, path) = (method.to_owned(), path.to_owned());
        let mut headers = HashMap::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
            }
        }
        if method == "GET" && path.ends_with("/runtime/invocation/next") {
            let next = events.lock().unwrap_or_else(|e| e.into_inner()).recv();
            let Ok((id, event)) = next else {
                return;
            };
            let _ = writer.write_all(crate::support::next_event_response(&id, &event).as_bytes());
            continue;
        }
        let segments: Vec<&str> = path.split('/').collect();
        let id = segments
            .get(segments.len().saturating_sub(2))
            .copied()
            .unwrap_or_default()
            .to_owned();
        let chunked = headers
            .get("transfer-encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
        let is_error = path.ends_with("/error");
        if !is_error {
            let _ = seen.send(Seen::Post {
                id: id.clone(),
                headers: headers.clone(),
            });
        }
        let body = if chunked {
            let mut whole = Vec::new();
            loop {
                let mut size = String::new();
                if reader.read_line(&mut size).unwrap_or(0) == 0 {
                    return;
                }
                let size = size.trim_end();
                let hex = size.split(';').next().unwrap_or_default();
                let Ok(n) = usize::from_str_radix(hex.trim(), 16) else {
                    return;
                };
                if n == 0 {
                    // Trailers, up to the empty line.
                    loop {
                        let mut t = String::new();
                        if reader.read_line(&mut t).unwrap_or(0) == 0 || t.trim_end().is_empty() {
                            break;
                        }
                    }
                    if !is_error {
                        let _ = seen.send(Seen::End { at: Instant::now() });
                    }
                    break;
                }
                let mut bytes = vec![0; n + 2];
                if reader.read_exact(&mut bytes).is_err() {
                    return;
                }
                bytes.truncate(n);
                if is_error {
                    whole.extend_from_slice(&bytes);
                } else {
                    let _ = seen.send(Seen::Chunk {
                        bytes,
                        at: Instant::now(),
                    });
                }
            }
            whole
        } else {
            let length = headers
                .get("content-length")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0usize);
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_err() {
                return;
            }
            if !is_error {
                let _ = seen.send(Seen::Whole { body: body.clone() });
            }
            body
        };
        if is_error {
            let _ = seen.send(Seen::Error { id, body });
        }
        let _ = write!(writer, "HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n");
    }
}
