//! Who may write notes: bearer tokens, known to the app only by their SHA-256 hashes.
//!
//! `NOTES_TOKENS_SHA256` (set in `nextr.toml`'s `[env]`) lists `user:hex` pairs separated by
//! commas, `hex` being the SHA-256 of the user's token. Configuration, the manifest and the
//! functions' environment then hold no secret: a leaked hash does not let anyone sign in.

use sha2::{Digest, Sha256};

/// The variable listing the users and their tokens' hashes.
pub const TOKENS_VAR: &str = "NOTES_TOKENS_SHA256";
/// The request header through which the proxy tells the routes who is signed in.
pub const USER_HEADER: &str = "x-notes-user";
/// What a write without a valid token is told.
pub const SIGN_IN: &str = "sign in first: send `Authorization: Bearer <token>`";

/// The signed-in user the proxy named for this request (`None`: nobody).
pub fn signed_in(req: &nextr::NextApiRequest) -> Option<&str> {
    req.header(USER_HEADER).filter(|u| !u.is_empty())
}

/// The known users and their tokens' hashes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tokens(Vec<(String, [u8; 32])>);

impl Tokens {
    /// The tokens `NOTES_TOKENS_SHA256` lists (none when it is unset; malformed pairs are
    /// skipped with a log line, so one typo does not lock everybody out).
    pub fn from_env() -> Self {
        Self::parse(&std::env::var(TOKENS_VAR).unwrap_or_default())
    }

    /// Parses `user:hex,user:hex`.
    pub fn parse(list: &str) -> Self {
        let mut tokens = Vec::new();
        for pair in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match pair.split_once(':').and_then(|(u, h)| Some((u, hex32(h)?))) {
                Some((user, hash)) if !user.is_empty() => tokens.push((user.to_owned(), hash)),
                _ => eprintln!(
                    "notes: {TOKENS_VAR}: {pair:?} is not `user:<64 hex digits>`; ignored"
                ),
            }
        }
        Tokens(tokens)
    }

    /// The user an `Authorization` header value signs in, if any (`Bearer <token>`, the
    /// scheme case-insensitive as RFC 9110 says).
    pub fn user_of(&self, authorization: &str) -> Option<&str> {
        let (scheme, token) = authorization.trim().split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
            return None;
        }
        let hash: [u8; 32] = Sha256::digest(token.trim().as_bytes()).into();
        // Every entry is compared whole, so the time taken does not tell which user matched.
        let mut found = None;
        for (user, known) in &self.0 {
            let same = known.iter().zip(hash).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
            if same && found.is_none() {
                found = Some(user.as_str());
            }
        }
        found
    }
}

/// 64 hex digits as 32 bytes.
fn hex32(text: &str) -> Option<[u8; 32]> {
    let text = text.trim();
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash_of(token: &str) -> String {
        Sha256::digest(token.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    #[test]
    fn a_listed_token_signs_its_user_in() {
        let tokens = Tokens::parse(&format!(
            "alice:{}, bob:{}",
            hash_of("demo-token-alice"),
            hash_of("b")
        ));
        assert_eq!(tokens.user_of("Bearer demo-token-alice"), Some("alice"));
        assert_eq!(tokens.user_of("bearer b"), Some("bob"));
        assert_eq!(tokens.user_of("Bearer nope"), None);
        assert_eq!(tokens.user_of("Basic demo-token-alice"), None);
        assert_eq!(tokens.user_of("Bearer "), None);
    }

    #[test]
    fn malformed_pairs_are_skipped() {
        let tokens = Tokens::parse(&format!("nocolon, :{}, eve:12, ok:{}", hash_of("x"), hash_of("y")));
        assert_eq!(tokens.0.len(), 1);
        assert_eq!(tokens.user_of("Bearer y"), Some("ok"));
        assert_eq!(Tokens::parse("").user_of("Bearer y"), None);
    }
}
