//! Small pieces of Next's (and Node's) behaviour that several modules share.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

/// Next's `fnv1a52` (`server/lib/etag.ts`) over UTF-16 code units, as JavaScript's
/// `charCodeAt` sees the string.
pub(crate) fn fnv1a52(units: impl Iterator<Item = u16>) -> u64 {
    let (mut v0, mut v1, mut v2, mut v3): (u64, u64, u64, u64) = (0x2325, 0x8422, 0x9ce4, 0xcbf2);
    for unit in units {
        v0 ^= unit as u64;
        let t0 = v0 * 435;
        let mut t1 = v1 * 435;
        let mut t2 = v2 * 435;
        let mut t3 = v3 * 435;
        t2 += v0 << 8;
        t3 += v1 << 8;
        t1 += t0 >> 16;
        v0 = t0 & 65535;
        t2 += t1 >> 16;
        v1 = t1 & 65535;
        v3 = (t3 + (t2 >> 16)) & 65535;
        v2 = t2 & 65535;
    }
    (v3 & 15) * 281_474_976_710_656 + v2 * 4_294_967_296 + v1 * 65536 + (v0 ^ (v3 >> 4))
}

/// Next's strong ETag of a payload string: `"` + base36(hash) + base36(UTF-16 length) + `"`.
pub(crate) fn etag_of_str(payload: &str) -> String {
    let hash = fnv1a52(payload.encode_utf16());
    let len = payload.encode_utf16().count() as u64;
    format!("\"{}{}\"", base36(hash), base36(len))
}

/// The ETag Next computes for a `Buffer`: over `JSON.stringify(buffer)`, i.e.
/// `{"type":"Buffer","data":[1,2,3]}`.
pub(crate) fn etag_of_bytes(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(24 + bytes.len() * 4);
    s.push_str("{\"type\":\"Buffer\",\"data\":[");
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        push_decimal(&mut s, *b);
    }
    s.push_str("]}");
    etag_of_str(&s)
}

fn push_decimal(s: &mut String, b: u8) {
    if b >= 100 {
        s.push((b'0' + b / 100) as char);
    }
    if b >= 10 {
        s.push((b'0' + (b / 10) % 10) as char);
    }
    s.push((b'0' + b % 10) as char);
}

/// `Number.prototype.toString(36)` for non-negative integers.
pub(crate) fn base36(mut n: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    if n == 0 {
        return "0".into();
    }
    let mut out = Vec::with_capacity(13);
    while n > 0 {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// The `bytes` package's `format`: `4194304` → `4MB`, `1024` → `1KB`, `1536` → `1.5KB`.
pub(crate) fn format_bytes(n: u64) -> String {
    const UNITS: [(&str, u64); 5] = [
        ("PB", 1 << 50),
        ("TB", 1 << 40),
        ("GB", 1 << 30),
        ("MB", 1 << 20),
        ("KB", 1 << 10),
    ];
    let (unit, value) = UNITS
        .iter()
        .find(|(_, size)| n >= *size)
        .map(|(u, size)| (*u, n as f64 / *size as f64))
        .unwrap_or(("B", n as f64));
    let mut s = format!("{value:.2}");
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    s.push_str(unit);
    s
}

/// A future that turns a panic while polling into `Err(message)`.
pub(crate) struct CatchUnwind<F>(pub(crate) F);

impl<F: Future + Unpin> Future for CatchUnwind<F> {
    type Output = Result<F::Output, String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = &mut self.0;
        match catch_unwind(AssertUnwindSafe(|| Pin::new(&mut *inner).poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Err(payload) => Poll::Ready(Err(panic_message(payload.as_ref()))),
        }
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-string payload".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_match_next() {
        assert_eq!(etag_of_str("hello"), "\"2caikvdqo85\"");
        assert_eq!(etag_of_str(""), "\"78p3gz236i0\"");
        assert_eq!(etag_of_str("{\"a\":1}"), "\"147uiiad94i7\"");
        assert_eq!(etag_of_bytes(b"buf"), "\"x2yvc5omeu11\"");
        assert_eq!(etag_of_bytes(&[1, 2, 3]), "\"kptswdn584w\"");
    }

    #[test]
    fn bytes_format_like_the_bytes_package() {
        assert_eq!(format_bytes(4 * 1024 * 1024), "4MB");
        assert_eq!(format_bytes(1024), "1KB");
        assert_eq!(format_bytes(1536), "1.5KB");
        assert_eq!(format_bytes(500), "500B");
        assert_eq!(format_bytes(5 * 1024 * 1024), "5MB");
    }
}
