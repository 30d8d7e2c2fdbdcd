//! A streamed HTTP/1.1 response read chunk by chunk as it arrives, each chunk with the
//! `Instant` it was read at, over a hand-written request (any `Host`, so function URL hosts
//! such as `<name>.lambda-url.localhost:PORT` reach `nextr dev` on 127.0.0.1).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// How long one read may wait (a guard against hangs).
const READ_LIMIT: Duration = Duration::from_secs(60);

/// What the next read of a chunked body gave.
#[derive(Debug, PartialEq, Eq)]
pub enum Piece {
    /// A chunk's bytes.
    Data(Vec<u8>),
    /// The terminating chunk (and trailers): the body is complete.
    End,
    /// The connection closed (or broke) before the terminating chunk: the body is incomplete.
    Cut,
}

/// A response whose head has been read; its body is read with [`Streaming::next`].
pub struct Streaming {
    reader: BufReader<TcpStream>,
    /// When the request was written.
    pub sent: Instant,
    /// When the head was read.
    pub head_at: Instant,
    /// Status code.
    pub status: u16,
    /// Headers, lower-case names, in order.
    pub headers: Vec<(String, String)>,
}

impl Streaming {
    /// Sends `GET target` with `Host: host` and `headers` to 127.0.0.1:`port`, and reads the
    /// response's head.
    pub fn get(port: u16, host: &str, target: &str, headers: &[(&str, &str)]) -> Streaming {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connects");
        stream.set_read_timeout(Some(READ_LIMIT)).unwrap();
        stream.set_nodelay(true).unwrap();
        let mut req = format!("GET {target} HTTP/1.1\r\nHost: {host}\r\n");
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        stream
            .write_all(req.as_bytes())
            .expect("writes the request");
        let sent = Instant::now();
        let mut reader = BufReader::new(stream);
        let status_line = line(&mut reader).expect("a status line");
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("not a status line: {status_line:?}"));
        let mut headers = Vec::new();
        loop {
            let l = line(&mut reader).expect("a header line");
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
            }
        }
        Streaming {
            reader,
            sent,
            head_at: Instant::now(),
            status,
            headers,
        }
    }

    /// The first value of a header (`name` in lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a header.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The next chunk of a chunked body, and when it was read.
    pub fn next(&mut self) -> (Piece, Instant) {
        let r = self.read_chunk();
        (r, Instant::now())
    }

    fn read_chunk(&mut self) -> Piece {
        let Ok(size_line) = line(&mut self.reader) else {
            return Piece::Cut;
        };
        let Ok(size) = usize::from_str_radix(size_line.split(';').next().unwrap_or("").trim(), 16)
        else {
            panic!("not a chunk size: {size_line:?}");
        };
        if size == 0 {
            loop {
                match line(&mut self.reader) {
                    Ok(l) if l.is_empty() => return Piece::End,
                    Ok(_) => {}
                    Err(_) => return Piece::Cut,
                }
            }
        }
        let mut data = vec![0; size];
        if self.reader.read_exact(&mut data).is_err() || line(&mut self.reader).is_err() {
            return Piece::Cut;
        }
        Piece::Data(data)
    }

    /// Reads the whole rest of the body: the chunks' text, and how it ended.
    pub fn rest(&mut self) -> (String, Piece) {
        let mut text = String::new();
        loop {
            match self.next().0 {
                Piece::Data(d) => text.push_str(&String::from_utf8_lossy(&d)),
                end => return (text, end),
            }
        }
    }
}

/// One CRLF-terminated line without its terminator; an error at the end of the stream.
fn line(r: &mut impl BufRead) -> std::io::Result<String> {
    let mut l = Vec::new();
    if r.read_until(b'\n', &mut l)? == 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "the connection closed",
        ));
    }
    while matches!(l.last(), Some(b'\n' | b'\r')) {
        l.pop();
    }
    Ok(String::from_utf8_lossy(&l).into_owned())
}
