//! The `const fn`s `config!` checks its literals with (on their `stringify!`), and the
//! constructors of values from a literal the macro has validated. Public only for the
//! macro's expansion.

use super::{Disabled, Dynamic, Revalidate, SizeLimit};

/// `stringify!` of an unsuffixed integer literal → its value (digits and `_` only).
#[doc(hidden)]
pub const fn __int_literal(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.is_empty() {
        return None;
    }
    let mut i = 0;
    let mut v: u64 = 0;
    let mut digits = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'_' {
            i += 1;
            continue;
        }
        if !c.is_ascii_digit() {
            return None;
        }
        v = match v.checked_mul(10) {
            Some(x) => match x.checked_add((c - b'0') as u64) {
                Some(y) => y,
                None => return None,
            },
            None => return None,
        };
        digits += 1;
        i += 1;
    }
    if digits == 0 {
        None
    } else {
        Some(v)
    }
}

/// The integer literal's value, or 0.
#[doc(hidden)]
pub const fn __int_or_zero(s: &str) -> u64 {
    match __int_literal(s) {
        Some(v) => v,
        None => 0,
    }
}

/// True for an integer literal within `range` (one of [`crate::limits`]'s), and for anything
/// that is not an integer literal, which the type check reports instead.
#[doc(hidden)]
pub const fn __int_in_range(s: &str, range: &std::ops::RangeInclusive<u32>) -> bool {
    match __int_literal(s) {
        Some(v) => v >= *range.start() as u64 && v <= *range.end() as u64,
        None => true,
    }
}

/// `stringify!` of `true`/`false`.
#[doc(hidden)]
pub const fn __bool_literal(s: &str) -> Option<bool> {
    let b = s.as_bytes();
    if b.len() == 4 && b[0] == b't' && b[1] == b'r' && b[2] == b'u' && b[3] == b'e' {
        Some(true)
    } else if b.len() == 5
        && b[0] == b'f'
        && b[1] == b'a'
        && b[2] == b'l'
        && b[3] == b's'
        && b[4] == b'e'
    {
        Some(false)
    } else {
        None
    }
}

/// The boolean literal's value, or `false`.
#[doc(hidden)]
pub const fn __bool_or_false(s: &str) -> bool {
    matches!(__bool_literal(s), Some(true))
}

/// The inside of a plain string literal's `stringify!` (`"500kb"` → `500kb`), if it is one.
const fn string_literal_body(s: &str) -> Option<&[u8]> {
    let b = s.as_bytes();
    if b.len() >= 2 && b[0] == b'"' && b[b.len() - 1] == b'"' {
        let (_, rest) = b.split_at(1);
        let (body, _) = rest.split_at(rest.len() - 1);
        Some(body)
    } else {
        None
    }
}

/// True when a literal is a valid size: an integer number of bytes, or a string made of a
/// number, optional spaces and an optional unit among `b`, `kb`, `mb`, `gb`, `tb`, `pb` (any
/// case; a fraction only with a unit from `kb` up). Next would silently disable the limit for
/// other strings (`"abc"`); nextr rejects them instead.
#[doc(hidden)]
pub const fn __size_literal_ok(s: &str) -> bool {
    if __int_literal(s).is_some() {
        return true;
    }
    match string_literal_body(s) {
        Some(body) => size_text_ok(body),
        None => false,
    }
}

const fn size_text_ok(b: &[u8]) -> bool {
    let mut i = 0;
    let mut int_digits = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
        int_digits += 1;
    }
    if int_digits == 0 {
        return false;
    }
    let mut fraction = false;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let mut frac_digits = 0;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
            frac_digits += 1;
        }
        if frac_digits == 0 {
            return false;
        }
        fraction = true;
    }
    while i < b.len() && b[i] == b' ' {
        i += 1;
    }
    let unit_len = b.len() - i;
    if unit_len == 0 {
        return !fraction;
    }
    let first = b[i].to_ascii_lowercase();
    if unit_len == 1 {
        return first == b'b' && !fraction;
    }
    if unit_len == 2 {
        let second = b[i + 1].to_ascii_lowercase();
        return second == b'b' && matches!(first, b'k' | b'm' | b'g' | b't' | b'p');
    }
    false
}

/// `stringify!` of a string literal naming a [`Dynamic`] value (`"force-static"`) → it.
#[doc(hidden)]
pub const fn __dynamic_literal(s: &str) -> Option<Dynamic> {
    let Some(body) = string_literal_body(s) else {
        return None;
    };
    let mut i = 0;
    while i < Dynamic::ALL.len() {
        if bytes_eq(body, Dynamic::ALL[i].as_str().as_bytes()) {
            return Some(Dynamic::ALL[i]);
        }
        i += 1;
    }
    None
}

const fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// True for `false` and for an integer literal that fits in seconds (`u32`).
#[doc(hidden)]
pub const fn __revalidate_literal_ok(s: &str) -> bool {
    match __bool_literal(s) {
        Some(b) => !b,
        None => match __int_literal(s) {
            Some(v) => v <= u32::MAX as u64,
            None => false,
        },
    }
}

impl Revalidate {
    /// Builds a `revalidate` from the `stringify!` of a literal the macro has validated.
    #[doc(hidden)]
    pub fn __from_literal(s: &str) -> Revalidate {
        match __bool_literal(s) {
            Some(_) => Revalidate::Never(Disabled),
            None => Revalidate::Seconds(__int_or_zero(s) as u32),
        }
    }
}

impl SizeLimit {
    /// Builds a size from the `stringify!` of a literal the macro has validated.
    #[doc(hidden)]
    pub fn __from_literal(s: &str) -> SizeLimit {
        match string_literal_body(s) {
            Some(body) => SizeLimit::Text(String::from_utf8_lossy(body).into_owned()),
            None => SizeLimit::Bytes(__int_or_zero(s)),
        }
    }
}
