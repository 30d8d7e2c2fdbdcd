//! Property: every `Location` nextr emits (the 308s for `\`, `//` and trailing slashes, made by
//! `routing::normalize` for `nextr dev`, the route functions and the `$default` function) is a
//! path of the same origin, whatever the request path holds: control characters, encoded and
//! raw slashes and backslashes, repeated separators, dots, and mixes of them, raw (as Next
//! sees a request line) or decoded (as API Gateway hands the path over).
//!
//! The check is an independent model of how a browser reads a `Location`: it drops ASCII tab,
//! LF and CR anywhere and leading C0 controls and spaces, reads `\` as `/`, and goes to
//! another origin when what is left starts with two slashes.

use nextr::routing::{normalize, Normalized};
use proptest::prelude::*;

const PIECES: [&str; 20] = [
    "/", "\\", "\t", "\n", "\r", "\x0b", "\x0c", " ", "%2f", "%2F", "%5c", "%09", "%0a", ".", "..",
    "%2e", "evil.com", "a", "?x=1", "#f",
];

fn browser_goes_elsewhere(location: &str) -> bool {
    let cleaned: String = location
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let trimmed = cleaned.trim_start_matches(|c: char| c <= ' ');
    let slashes = trimmed.replace('\\', "/");
    slashes.starts_with("//") || !slashes.starts_with('/')
}

/// What API Gateway hands over for a path: percent-escapes decoded once.
fn decoded(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() + 1 {
            if let (Some(h), Some(l)) = (
                bytes.get(i + 1).and_then(|b| hex(*b)),
                bytes.get(i + 2).and_then(|b| hex(*b)),
            ) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

    #[test]
    fn every_location_stays_on_the_origin(pieces in prop::collection::vec(0..PIECES.len(), 0..10)) {
        let raw: String = std::iter::once("/")
            .chain(pieces.iter().map(|&i| PIECES[i]))
            .collect();
        for target in [raw.clone(), decoded(&raw)] {
            if let Ok(Normalized::Redirect(location)) = normalize(&target) {
                prop_assert!(
                    !browser_goes_elsewhere(&location),
                    "{target:?} → Location {location:?}"
                );
                prop_assert!(
                    nextr::routing::is_same_origin_path(&location),
                    "{target:?} → Location {location:?}"
                );
            }
        }
    }
}

#[test]
fn the_probes_of_the_report() {
    for target in [
        "/\t/evil.com/",
        "/\n/evil.com/",
        "/\r/evil.com/",
        "/\t\\evil.com/",
    ] {
        match normalize(target) {
            Ok(Normalized::Redirect(location)) => {
                assert!(
                    !browser_goes_elsewhere(&location),
                    "{target:?} → {location:?}"
                )
            }
            other => panic!("{target:?}: {other:?}"),
        }
    }
}
