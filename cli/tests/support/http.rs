//! HTTP/1.1 to a server on 127.0.0.1, written by hand over TCP: the request target reaches the
//! server byte for byte (no client normalises `//`, `\`, `..`, `%2e` or brackets on the way),
//! and the whole response is read back as a [`Reply`].

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::{Arc, Barrier};
use std::time::Duration;

use serde_json::Value;

/// How long one read of an answer may wait (a guard against hangs).
const READ_LIMIT: Duration = Duration::from_secs(60);

/// A response, read whole.
#[derive(Debug, Clone)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Headers, lower-case names, in order (repeated names repeated).
    pub headers: Vec<(String, String)>,
    /// Body bytes (de-chunked).
    pub body: Vec<u8>,
}

impl Reply {
    /// The first value of a header (`name` in lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a header (`name` in lower case).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The body as JSON; panics with the status and the body when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}), status {}: {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One HTTP/1.1 exchange over a new TCP connection to 127.0.0.1:`port`: the request line holds
/// `method` and `target` exactly as given, then `Host: 127.0.0.1:PORT`, `headers` in order
/// (repeated names repeated), and `Content-Length` when there is a body or the method takes
/// one (POST, PUT, PATCH). No redirect is followed; every status is returned as is.
pub fn request(
    port: u16,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    let mut req = Vec::new();
    req.extend_from_slice(method.as_bytes());
    req.push(b' ');
    req.extend_from_slice(target.as_bytes());
    req.extend_from_slice(format!(" HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n").as_bytes());
    for (k, v) in headers {
        req.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    if !body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH") {
        req.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    req.extend_from_slice(b"\r\n");
    req.extend_from_slice(body);
    exchange(port, method, target, &req)
}

/// One HTTP/1.1 exchange over a new TCP connection to 127.0.0.1:`port`: `raw` (the whole
/// request, head and body, written as is), then the answer, read as `method`'s (`target`
/// names the request in failure messages).
pub fn exchange(port: u16, method: &str, target: &str, raw: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .unwrap_or_else(|e| panic!("{method} {target}: connecting to port {port}: {e}"));
    stream
        .set_read_timeout(Some(READ_LIMIT))
        .expect("a read timeout can be set");
    // A server may answer (413, 400) and close before it has read the whole request: what it
    // answered counts, the failed write only explains a missing answer.
    let written = stream.write_all(raw);
    read_reply(&mut BufReader::new(stream), method).unwrap_or_else(|e| match written {
        Ok(()) => panic!("{method} {target}: reading the answer: {e}"),
        Err(w) => panic!("{method} {target}: writing the request: {w}; reading the answer: {e}"),
    })
}

/// `GET target` (see [`request`]).
pub fn get(port: u16, target: &str) -> Reply {
    request(port, "GET", target, &[], b"")
}

/// `GET target` from `n` threads at once (released together), each on its own connection; the
/// replies, in thread order.
pub fn get_concurrently(port: u16, n: usize, target: &str) -> Vec<Reply> {
    let barrier = Arc::new(Barrier::new(n));
    let threads: Vec<_> = (0..n)
        .map(|_| {
            let barrier = barrier.clone();
            let target = target.to_owned();
            std::thread::spawn(move || {
                barrier.wait();
                get(port, &target)
            })
        })
        .collect();
    threads
        .into_iter()
        .map(|t| t.join().expect("a request thread panicked"))
        .collect()
}

/// Percent-encodes everything but unreserved characters (for building raw query strings).
pub fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn invalid(what: impl Into<String>) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what.into())
}

/// One CRLF- (or LF-) terminated line, without its terminator; an error at the end of the
/// stream.
fn read_line(r: &mut impl BufRead) -> std::io::Result<Vec<u8>> {
    let mut line = Vec::new();
    if r.read_until(b'\n', &mut line)? == 0 {
        return Err(invalid("the connection closed"));
    }
    while matches!(line.last(), Some(b'\n' | b'\r')) {
        line.pop();
    }
    Ok(line)
}

/// Reads one response: the head (after any 1xx), then the body as its framing says (chunked,
/// `Content-Length`, or up to the end of the connection).
fn read_reply(r: &mut impl BufRead, method: &str) -> std::io::Result<Reply> {
    let (status, headers) = loop {
        let line = read_line(r)?;
        let status_line = String::from_utf8_lossy(&line).into_owned();
        let status: u16 = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| invalid(format!("not an HTTP status line: {status_line:?}")))?;
        let mut headers = Vec::new();
        loop {
            let line = read_line(r)?;
            if line.is_empty() {
                break;
            }
            let line = String::from_utf8_lossy(&line);
            if let Some((k, v)) = line.split_once(':') {
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
            }
        }
        if !(100..200).contains(&status) || status == 101 {
            break (status, headers);
        }
    };
    let value = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let mut body = Vec::new();
    if method == "HEAD" || status == 204 || status == 304 {
        // No body, whatever the headers say.
    } else if value("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        loop {
            let line = read_line(r)?;
            let size_text = String::from_utf8_lossy(&line);
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| invalid(format!("not a chunk size: {size_text:?}")))?;
            if size == 0 {
                // Trailers, up to the empty line.
                while !read_line(r)?.is_empty() {}
                break;
            }
            let start = body.len();
            body.resize(start + size, 0);
            r.read_exact(&mut body[start..])?;
            read_line(r)?;
        }
    } else if let Some(length) = value("content-length") {
        let length: usize = length
            .parse()
            .map_err(|_| invalid(format!("not a content length: {length:?}")))?;
        body.resize(length, 0);
        r.read_exact(&mut body)?;
    } else {
        r.read_to_end(&mut body)?;
    }
    Ok(Reply {
        status,
        headers,
        body,
    })
}
