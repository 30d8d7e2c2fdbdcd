//! The function's stdout and stderr: read without blocking, split into lines for the log.
//!
//! Splitting is linear in the output and bounded in memory: each read is scanned once, and a
//! line longer than [`MAX_LOG_EVENT_BYTES`] is cut into events of that size, as Lambda cuts
//! what it sends to CloudWatch Logs (256 KB, CloudWatch's largest event). A function writing
//! hundreds of megabytes without a newline costs the emulator nothing more than their copy.

use std::os::fd::OwnedFd;

use tokio::net::unix::pipe;

/// CloudWatch Logs' largest event, 256 KB: a longer line becomes several log lines.
pub(super) const MAX_LOG_EVENT_BYTES: usize = 256 * 1024;

/// One of the process's output pipes, read without blocking.
pub(super) struct Pipe {
    rx: pipe::Receiver,
    lines: Lines,
    open: bool,
}

/// Output split into log lines: the unfinished line so far (never a full event).
#[derive(Debug, Default)]
struct Lines {
    partial: Vec<u8>,
}

impl Lines {
    fn push(&mut self, mut bytes: &[u8], lines: &mut Vec<String>) {
        // Only the new bytes are searched: what `partial` holds has no newline.
        while let Some(i) = bytes.iter().position(|&b| b == b'\n') {
            self.extend(&bytes[..i], lines);
            let mut line = std::mem::take(&mut self.partial);
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            lines.push(String::from_utf8_lossy(&line).into_owned());
            bytes = &bytes[i + 1..];
        }
        self.extend(bytes, lines);
    }

    /// Adds bytes of an unfinished line, cutting off full events as they fill up.
    fn extend(&mut self, mut bytes: &[u8], lines: &mut Vec<String>) {
        while self.partial.len() + bytes.len() >= MAX_LOG_EVENT_BYTES {
            let take = MAX_LOG_EVENT_BYTES - self.partial.len();
            self.partial.extend_from_slice(&bytes[..take]);
            let event = std::mem::take(&mut self.partial);
            lines.push(String::from_utf8_lossy(&event).into_owned());
            bytes = &bytes[take..];
        }
        self.partial.extend_from_slice(bytes);
    }

    fn finish(&mut self, lines: &mut Vec<String>) {
        if !self.partial.is_empty() {
            let rest = std::mem::take(&mut self.partial);
            lines.push(String::from_utf8_lossy(&rest).into_owned());
        }
    }
}

impl Pipe {
    pub(super) fn new(fd: OwnedFd) -> std::io::Result<Self> {
        Ok(Pipe {
            rx: pipe::Receiver::from_owned_fd(fd)?,
            lines: Lines::default(),
            open: true,
        })
    }

    fn close(&mut self, lines: &mut Vec<String>) {
        self.open = false;
        self.lines.finish(lines);
    }

    /// Waits for output and returns the complete lines read (cancel-safe: nothing is read
    /// before the wait completes, and nothing is awaited after reading).
    async fn read_lines(&mut self) -> Vec<String> {
        let mut lines = Vec::new();
        let mut buf = [0u8; 16 * 1024];
        loop {
            if self.rx.readable().await.is_err() {
                self.close(&mut lines);
                return lines;
            }
            match self.rx.try_read(&mut buf) {
                Ok(0) => {
                    self.close(&mut lines);
                    return lines;
                }
                Ok(n) => {
                    self.lines.push(&buf[..n], &mut lines);
                    return lines;
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted
                    ) => {}
                Err(_) => {
                    self.close(&mut lines);
                    return lines;
                }
            }
        }
    }

    /// Reads whatever is in the pipe right now, without waiting, so that the output a
    /// function wrote before it answered is printed before `END`. (A direct read: the
    /// reactor may not have seen that data yet.)
    pub(super) fn drain_now(&mut self, lines: &mut Vec<String>, end: bool) {
        let mut buf = [0u8; 16 * 1024];
        while self.open {
            match rustix::io::read(&self.rx, &mut buf) {
                Ok(0) => self.open = false,
                Ok(n) => self.lines.push(&buf[..n], lines),
                Err(rustix::io::Errno::INTR) => {}
                Err(rustix::io::Errno::AGAIN) => break,
                Err(_) => self.open = false,
            }
        }
        if end || !self.open {
            self.lines.finish(lines);
        }
    }
}

/// The next lines of a pipe; never ready once it is closed or missing.
pub(super) async fn read_pipe(pipe: &mut Option<Pipe>) -> Vec<String> {
    match pipe {
        Some(p) if p.open => p.read_lines().await,
        _ => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_across_reads_and_crlf() {
        let mut p = Lines::default();
        let mut lines = Vec::new();
        p.push(b"one\r\ntw", &mut lines);
        p.push(b"o\nthree", &mut lines);
        assert_eq!(lines, ["one", "two"]);
        p.finish(&mut lines);
        assert_eq!(lines, ["one", "two", "three"]);
    }

    #[test]
    fn a_line_without_end_is_cut_into_256_kb_events_and_memory_stays_bounded() {
        let mut p = Lines::default();
        let mut lines = Vec::new();
        let chunk = vec![b'x'; 16 * 1024];
        // 5 MB without a newline, in reads of 16 KB, as the probe wrote it.
        for _ in 0..320 {
            p.push(&chunk, &mut lines);
            assert!(p.partial.len() < MAX_LOG_EVENT_BYTES);
        }
        assert_eq!(lines.len(), 5 * 1024 * 1024 / MAX_LOG_EVENT_BYTES);
        assert!(lines.iter().all(|l| l.len() == MAX_LOG_EVENT_BYTES));
        p.push(b"tail\nnext", &mut lines);
        assert_eq!(lines.last().map(String::as_str), Some("tail"));
        assert_eq!(p.partial, b"next");
    }
}
