//! Identifiers and timestamps in the shapes AWS uses: Lambda request ids (UUIDs), API Gateway
//! request ids, X-Ray trace ids, and the two date formats of events and logs.
//!
//! The ids only need to be unique within one `nextr dev` session, so a counter mixed by
//! splitmix64 is enough: no locking and no random-number crate on the request path.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

static COUNTER: AtomicU64 = AtomicU64::new(0);
static SEED: OnceLock<u64> = OnceLock::new();

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// 64 fresh pseudo-random bits, distinct for every call in this process.
pub fn next_u64() -> u64 {
    let seed = *SEED.get_or_init(|| {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        splitmix64(nanos ^ (u64::from(std::process::id()) << 32))
    });
    splitmix64(
        seed ^ COUNTER
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(0x2545_F491_4F6C_DD1D),
    )
}

/// A Lambda request id: a version-4 UUID such as `8476a536-e9f4-41e8-9739-2dfe598c3fcd`.
pub fn request_id() -> String {
    let (a, b) = (next_u64(), next_u64());
    let hi = (a & 0xFFFF_FFFF_FFFF_0FFF) | 0x4000;
    let lo = (b & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000;
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xFFFF,
        hi & 0xFFFF,
        lo >> 48,
        lo & 0xFFFF_FFFF_FFFF
    )
}

/// An API Gateway request id: 11 bytes in standard base64, as `ATfSmjLgPHcESJw=`.
pub fn apigw_request_id() -> String {
    use base64::Engine;
    let (a, b) = (next_u64().to_be_bytes(), next_u64().to_be_bytes());
    let mut bytes = [0u8; 11];
    bytes[..8].copy_from_slice(&a);
    bytes[8..].copy_from_slice(&b[..3]);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// An X-Ray trace header root: `Root=1-<8 hex seconds>-<24 hex>`.
pub fn trace_root(now: SystemTime) -> String {
    let secs = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!(
        "Root=1-{:08x}-{:016x}{:08x}",
        secs & 0xFFFF_FFFF,
        next_u64(),
        next_u64() & 0xFFFF_FFFF
    )
}

/// 32 hex digits, as in a Lambda log stream name.
pub fn hex32() -> String {
    format!("{:016x}{:016x}", next_u64(), next_u64())
}

/// Milliseconds since the Unix epoch.
pub fn epoch_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// A UTC calendar time split into its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utc {
    /// Year.
    pub year: i64,
    /// Month, 1–12.
    pub month: u32,
    /// Day of the month, 1–31.
    pub day: u32,
    /// Hour.
    pub hour: u32,
    /// Minute.
    pub minute: u32,
    /// Second.
    pub second: u32,
    /// Millisecond.
    pub milli: u32,
}

impl Utc {
    /// Splits a time (before 1970 clamps to the epoch).
    pub fn from_system(t: SystemTime) -> Self {
        let d = t.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
        let secs = d.as_secs() as i64;
        let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        Utc {
            year,
            month,
            day,
            hour: (rem / 3600) as u32,
            minute: (rem / 60 % 60) as u32,
            second: (rem % 60) as u32,
            milli: d.subsec_millis(),
        }
    }

    /// API Gateway's `requestContext.time`: `12/Mar/2020:19:03:58 +0000`.
    pub fn clf(&self) -> String {
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let month = MONTHS[(self.month as usize).clamp(1, 12) - 1];
        format!(
            "{:02}/{month}/{:04}:{:02}:{:02}:{:02} +0000",
            self.day, self.year, self.hour, self.minute, self.second
        )
    }

    /// ISO 8601 with milliseconds, as Lambda's log lines: `2020-03-12T19:03:58.123Z`.
    pub fn iso(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second, self.milli
        )
    }

    /// `YYYY/MM/DD`, the date part of a Lambda log stream name.
    pub fn slash_date(&self) -> String {
        format!("{:04}/{:02}/{:02}", self.year, self.month, self.day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        // 1583348638390 ms is 2020-03-04T19:03:58.390Z.
        let t = UNIX_EPOCH + Duration::from_millis(1_583_348_638_390);
        let u = Utc::from_system(t);
        assert_eq!(u.clf(), "04/Mar/2020:19:03:58 +0000");
        assert_eq!(u.iso(), "2020-03-04T19:03:58.390Z");
        assert_eq!(u.slash_date(), "2020/03/04");
        let leap = Utc::from_system(UNIX_EPOCH + Duration::from_secs(951_782_400));
        assert_eq!(leap.iso(), "2000-02-29T00:00:00.000Z");
        assert_eq!(
            Utc::from_system(UNIX_EPOCH).clf(),
            "01/Jan/1970:00:00:00 +0000"
        );
    }

    #[test]
    fn id_shapes() {
        let id = request_id();
        let parts: Vec<&str> = id.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('4'));
        assert!(matches!(&parts[3][..1], "8" | "9" | "a" | "b"));
        assert_ne!(request_id(), id);
        let gw = apigw_request_id();
        assert_eq!(gw.len(), 16);
        assert!(gw.ends_with('='));
        let root = trace_root(UNIX_EPOCH + Duration::from_secs(0x5bef_4de7));
        assert!(root.starts_with("Root=1-5bef4de7-"), "{root}");
        assert_eq!(root.len(), "Root=1-".len() + 8 + 1 + 24);
        assert_eq!(hex32().len(), 32);
    }
}
