//! The function's stdout and stderr: read without blocking, split into lines for the log.

use std::os::fd::OwnedFd;

use tokio::net::unix::pipe;

/// One of the process's output pipes, read without blocking.
pub(super) struct Pipe {
    rx: pipe::Receiver,
    partial: Vec<u8>,
    open: bool,
}

impl Pipe {
    pub(super) fn new(fd: OwnedFd) -> std::io::Result<Self> {
        Ok(Pipe {
            rx: pipe::Receiver::from_owned_fd(fd)?,
            partial: Vec::new(),
            open: true,
        })
    }

    fn push(&mut self, bytes: &[u8], lines: &mut Vec<String>) {
        self.partial.extend_from_slice(bytes);
        while let Some(i) = self.partial.iter().position(|&b| b == b'\n') {
            let mut line: Vec<u8> = self.partial.drain(..=i).collect();
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            lines.push(String::from_utf8_lossy(&line).into_owned());
        }
    }

    fn finish(&mut self, lines: &mut Vec<String>) {
        if !self.partial.is_empty() {
            let rest = std::mem::take(&mut self.partial);
            lines.push(String::from_utf8_lossy(&rest).into_owned());
        }
    }

    fn close(&mut self, lines: &mut Vec<String>) {
        self.open = false;
        self.finish(lines);
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
                    self.push(&buf[..n], &mut lines);
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
                Ok(n) => self.push(&buf[..n], lines),
                Err(rustix::io::Errno::INTR) => {}
                Err(rustix::io::Errno::AGAIN) => break,
                Err(_) => self.open = false,
            }
        }
        if end || !self.open {
            self.finish(lines);
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
