//! Route bundles: the generated crate with one binary per route, the ELF check of each built
//! binary, and the deterministic zip Lambda receives.

use sha2::{Digest, Sha256};

pub mod cargo;
pub(crate) mod codegen;
pub mod elf;
pub mod prerender;
pub mod toolchain;
pub(crate) mod zip;

/// Lambda's limit on function names.
pub const MAX_FUNCTION_NAME: usize = 64;

/// Hex digits of the page hash in a function name: 32 bits tell 300 routes apart with a
/// collision chance below one in ten thousand, and [`function_names`] checks anyway.
const HASH_LEN: usize = 8;

/// The Lambda function (and binary) name of a route: `<app>-<slug>-<hash>`.
///
/// The slug is the page made readable (`/api/post/[pid]` → `post-pid`, `/api` → `index`;
/// an App route outside `/api` keeps its first segment, `/hooks/deliver/[id]` →
/// `hooks-deliver-id`, and `/` is `index` too), cut to fit Lambda's 64 characters; the hash is the first 8 hex digits of the page's
/// sha256, so routes that slugify alike (`[id]` and `id`, `hello world` and `hello-world`)
/// still get distinct names, and a name only changes when its page does. `app` is expected
/// to be a valid app name (see [`crate::project::check_app_name`]).
pub fn function_name(app: &str, page: &str) -> String {
    let hash = hex(&Sha256::digest(page.as_bytes()));
    let hash = &hash[..HASH_LEN];
    let mut slug = String::new();
    let segments = page.trim_start_matches('/').split('/');
    // `/api/…` is every Pages route's prefix: it tells nothing apart. (`/apiary` keeps it.)
    let segments = segments.skip(usize::from(page.split('/').nth(1) == Some("api")));
    for segment in segments {
        for c in segment.chars() {
            if c.is_ascii_alphanumeric() {
                slug.push(c.to_ascii_lowercase());
            } else if !slug.is_empty() && !slug.ends_with('-') {
                slug.push('-');
            }
        }
        if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_matches('-');
    let slug = if slug.is_empty() { "index" } else { slug };
    let budget = MAX_FUNCTION_NAME.saturating_sub(app.len() + HASH_LEN + 2);
    let slug = slug[..slug.len().min(budget)].trim_end_matches('-');
    if slug.is_empty() {
        format!("{app}-{hash}")
    } else {
        format!("{app}-{slug}-{hash}")
    }
}

/// Two routes whose function names came out equal (a hash collision; never seen).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("routes {first} and {second} would both be deployed as the function {name}; rename one of the files")]
pub struct NameCollision {
    /// The shared name.
    pub name: String,
    /// One page.
    pub first: String,
    /// The other page.
    pub second: String,
}

/// The function names of all routes of an app, in the given order, checked to be distinct.
pub fn function_names<'p>(
    app: &str,
    pages: impl IntoIterator<Item = &'p str>,
) -> Result<Vec<String>, NameCollision> {
    let mut seen = std::collections::HashMap::new();
    let mut names = Vec::new();
    for page in pages {
        let name = function_name(app, page);
        if let Some(first) = seen.insert(name.clone(), page) {
            return Err(NameCollision {
                name,
                first: first.to_owned(),
                second: page.to_owned(),
            });
        }
        names.push(name);
    }
    Ok(names)
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid(name: &str) -> bool {
        !name.is_empty()
            && name.len() <= MAX_FUNCTION_NAME
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    }

    #[test]
    fn names_are_readable_and_stable() {
        assert_eq!(
            function_name("docs", "/api/post/[pid]"),
            format!(
                "docs-post-pid-{}",
                &hex(&Sha256::digest(b"/api/post/[pid]"))[..8]
            )
        );
        assert!(function_name("docs", "/api").starts_with("docs-index-"));
        assert!(function_name("docs", "/api/note/[[...slug]]").starts_with("docs-note-slug-"));
        assert!(function_name("docs", "/api/Hello World/ünï").starts_with("docs-hello-world-n-"));
        // Deterministic: the same inputs give the same name.
        assert_eq!(
            function_name("docs", "/api/post/[pid]"),
            function_name("docs", "/api/post/[pid]")
        );
    }

    #[test]
    fn routes_that_slugify_alike_get_distinct_names() {
        let pages = [
            "/api/[id]",
            "/api/id",
            "/api/hello world",
            "/api/hello-world",
            "/api/post/[...slug]",
            "/api/post/[slug]",
            "/api/post/slug",
        ];
        let names = function_names("app", pages).unwrap();
        let unique: std::collections::HashSet<_> = names.iter().collect();
        assert_eq!(unique.len(), pages.len());
        assert!(names[0].starts_with("app-id-") && names[1].starts_with("app-id-"));
    }

    #[test]
    fn names_fit_lambda_for_any_page() {
        let app = "a".repeat(crate::project::MAX_APP_NAME);
        for page in [
            "/api",
            "/api/[[...x]]",
            "/api/%20/~",
            "/api/日本語",
            &format!("/api/{}", "very-long-segment/".repeat(20)),
        ] {
            let name = function_name(&app, page);
            assert!(valid(&name), "{name:?} for {page:?}");
            let name = function_name("x", page);
            assert!(valid(&name), "{name:?} for {page:?}");
        }
    }

    #[test]
    fn app_routes_anywhere_get_valid_unique_stable_names() {
        // App routes serve any path, `/` included, beside Pages routes under `/api`.
        let pages = [
            "/",
            "/api",
            "/hooks/deliver/[id]",
            "/api/hooks/deliver/[id]",
            "/apiary",
            "/api/mix/[id]",
            "/api/mix/fixed",
            "/_escaped/[[...rest]]",
        ];
        let names = function_names("shop", pages).unwrap();
        let unique: std::collections::HashSet<_> = names.iter().collect();
        assert_eq!(unique.len(), pages.len(), "{names:?}");
        assert!(names.iter().all(|n| valid(n)), "{names:?}");
        assert!(names[0].starts_with("shop-index-"), "{}", names[0]);
        assert!(
            names[2].starts_with("shop-hooks-deliver-id-"),
            "{}",
            names[2]
        );
        assert!(names[4].starts_with("shop-apiary-"), "{}", names[4]);
        assert!(names[7].starts_with("shop-escaped-rest-"), "{}", names[7]);
        // Stable: a Pages route keeps the name it always had.
        assert_eq!(
            function_name("docs", "/api/post/[pid]"),
            format!(
                "docs-post-pid-{}",
                &hex(&Sha256::digest(b"/api/post/[pid]"))[..8]
            )
        );
        assert_eq!(function_name("shop", "/"), names[0]);
    }

    #[test]
    fn a_collision_is_an_error_not_a_silent_overwrite() {
        let err = function_names("app", ["/api/a", "/api/a"]).unwrap_err();
        assert_eq!(err.first, "/api/a");
        assert!(err.to_string().contains("rename one of the files"));
    }
}
