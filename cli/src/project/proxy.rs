//! The app's interceptor file: Next 16's `proxy.rs`, or `middleware.rs`, its deprecated name,
//! at the app root beside `api/` and `app/` (next-app-semantics §1.1).
//!
//! Next also looks in `src/`. nextr does not: an app's `src/` is its Cargo library, whose
//! modules the routes `use`, so a `src/proxy.rs` there is library code (a module of `lib.rs`),
//! and treating it as the proxy as well would compile it twice, once as the app's proxy and
//! once as the library's module.

use std::path::{Path, PathBuf};

use nextr::proxy::matcher::{Condition, MatcherSpec};

use super::ProjectError;
use crate::report::Shown;

/// The interceptor's file names at the app root: Next 16's `proxy`, and `middleware`, its
/// deprecated name.
pub const PROXY_FILES: [&str; 2] = [
    ProxyConvention::Proxy.file(),
    ProxyConvention::Middleware.file(),
];

/// Next's page on the rename, which its proxy errors and warning link to.
pub const MIDDLEWARE_TO_PROXY: &str = "https://nextjs.org/docs/messages/middleware-to-proxy";

/// Which of Next's two names the app's interceptor has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProxyConvention {
    /// `proxy.rs` exporting `pub async fn proxy`: Next 16's name.
    Proxy,
    /// `middleware.rs` exporting `pub async fn middleware`: deprecated, still accepted with
    /// Next's warning.
    Middleware,
}

impl ProxyConvention {
    /// The file at the app root: `proxy.rs` or `middleware.rs`.
    pub const fn file(self) -> &'static str {
        match self {
            ProxyConvention::Proxy => "proxy.rs",
            ProxyConvention::Middleware => "middleware.rs",
        }
    }

    /// The function the file must export, which the generated `main`s call.
    pub const fn function(self) -> &'static str {
        match self {
            ProxyConvention::Proxy => "proxy",
            ProxyConvention::Middleware => "middleware",
        }
    }

    /// The name Next's messages give the file's kind: "Proxy", "Middleware".
    pub const fn title(self) -> &'static str {
        match self {
            ProxyConvention::Proxy => "Proxy",
            ProxyConvention::Middleware => "Middleware",
        }
    }

    /// The page Next's messages name the file by: `/proxy`, `/middleware`.
    pub const fn page(self) -> &'static str {
        match self {
            ProxyConvention::Proxy => "/proxy",
            ProxyConvention::Middleware => "/middleware",
        }
    }

    /// The convention of a file name relative to the app root (`proxy.rs`, `middleware.rs`).
    pub fn of_file(file: &str) -> Option<Self> {
        [ProxyConvention::Proxy, ProxyConvention::Middleware]
            .into_iter()
            .find(|c| c.file() == file)
    }

    /// Next's deprecation warning for `middleware.rs` (with its hint adapted to Rust), which
    /// `nextr build` and `nextr dev` print; none for `proxy.rs`.
    pub fn deprecation(self) -> Option<String> {
        match self {
            ProxyConvention::Proxy => None,
            ProxyConvention::Middleware => Some(format!(
                "The \"middleware\" file convention is deprecated. Please use \"proxy\" instead.\n  \
                 rename middleware.rs to proxy.rs and its `middleware` function to `proxy`. Learn more: {MIDDLEWARE_TO_PROXY}"
            )),
        }
    }
}

/// The app's interceptor file, found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyFile {
    /// Which name it has.
    pub convention: ProxyConvention,
    /// Its path: the app root joined with [`ProxyConvention::file`].
    pub path: PathBuf,
}

impl ProxyFile {
    /// The file relative to the app root (`proxy.rs`), as messages and the manifest name it.
    pub fn file(&self) -> &'static str {
        self.convention.file()
    }
}

/// The proxy file at the app root `root`, if there is one: `proxy.rs` or `middleware.rs`
/// (regular files, or links to one inside the app). Both at once is Next's error
/// ([`ProjectError::ProxyAndMiddleware`]).
pub fn find_proxy(root: &Path) -> Result<Option<ProxyFile>, ProjectError> {
    let found: Vec<ProxyFile> = [ProxyConvention::Proxy, ProxyConvention::Middleware]
        .into_iter()
        .map(|convention| ProxyFile {
            convention,
            path: root.join(convention.file()),
        })
        .filter(|f| f.path.is_file())
        .collect();
    if found.len() > 1 {
        return Err(ProjectError::ProxyAndMiddleware);
    }
    let Some(file) = found.into_iter().next() else {
        return Ok(None);
    };
    // Its text is compiled into every function and shown in diagnostics: as for route files,
    // a link out of the app is refused.
    let app = std::fs::canonicalize(root).map_err(|source| ProjectError::Io {
        path: root.to_path_buf(),
        source,
    })?;
    super::inside_app(&app, &file.path)?;
    Ok(Some(file))
}

/// The proxy's line under `nextr build`'s and `nextr routes`' tables: Next's `ƒ Proxy
/// (Middleware)`, then the file and the requests its matcher covers.
pub fn proxy_summary(file: &str, matcher: Option<&[MatcherSpec]>) -> String {
    let covers = match matcher {
        None => "every request (no matcher)".to_owned(),
        Some([]) => "no request (an empty matcher)".to_owned(),
        Some(entries) => {
            let entries: Vec<String> = entries.iter().map(describe_entry).collect();
            format!("matcher: {}", entries.join(", "))
        }
    };
    format!("ƒ Proxy (Middleware)  {}  {covers}", Shown(file))
}

/// One matcher entry: its source, then its conditions in brackets.
fn describe_entry(entry: &MatcherSpec) -> String {
    let conditions: Vec<String> = [("has", &entry.has), ("missing", &entry.missing)]
        .into_iter()
        .flat_map(|(word, list)| list.iter().map(move |c| describe_condition(word, c)))
        .collect();
    let source = Shown(&entry.source);
    if conditions.is_empty() {
        source.to_string()
    } else {
        format!("{source} ({})", conditions.join(", "))
    }
}

/// `has header x-go = yes`, `missing cookie skip`, `has host = example\.com`.
fn describe_condition(word: &str, condition: &Condition) -> String {
    let (key, value) = match condition {
        Condition::Header { key, value }
        | Condition::Query { key, value }
        | Condition::Cookie { key, value } => (Some(key), value),
        Condition::Host { value } => (None, value),
    };
    let mut s = format!("{word} {}", condition.kind());
    if let Some(key) = key {
        s.push_str(&format!(" {}", Shown(key)));
    }
    if let Some(value) = value {
        s.push_str(&format!(" = {}", Shown(value)));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn app(files: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("api")).unwrap();
        for f in files {
            let path = dir.path().join(f);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, "pub async fn proxy() {}\n").unwrap();
        }
        dir
    }

    #[test]
    fn proxy_rs_or_middleware_rs_at_the_root() {
        let none = app(&["api/hello.rs"]);
        assert_eq!(find_proxy(none.path()).unwrap(), None);

        let proxy = app(&["proxy.rs"]);
        let found = find_proxy(proxy.path()).unwrap().unwrap();
        assert_eq!(found.convention, ProxyConvention::Proxy);
        assert_eq!(found.path, proxy.path().join("proxy.rs"));
        assert_eq!(found.file(), "proxy.rs");
        assert_eq!(found.convention.deprecation(), None);

        let middleware = app(&["middleware.rs"]);
        let found = find_proxy(middleware.path()).unwrap().unwrap();
        assert_eq!(found.convention, ProxyConvention::Middleware);
        assert_eq!(found.convention.function(), "middleware");
        assert!(found.convention.deprecation().unwrap().starts_with(
            "The \"middleware\" file convention is deprecated. Please use \"proxy\" instead.\n"
        ));
    }

    #[test]
    fn src_and_route_folders_hold_no_proxy() {
        // `src/` is the app's library (Next would look there), and `api/proxy.rs` is a route.
        let dir = app(&["src/proxy.rs", "src/middleware.rs", "api/proxy.rs"]);
        assert_eq!(find_proxy(dir.path()).unwrap(), None);
        // A folder named like the file is not the file.
        fs::create_dir(dir.path().join("proxy.rs")).unwrap();
        assert_eq!(find_proxy(dir.path()).unwrap(), None);
    }

    #[test]
    fn both_files_are_nexts_error() {
        let dir = app(&["proxy.rs", "middleware.rs"]);
        let err = find_proxy(dir.path()).unwrap_err();
        assert!(matches!(err, ProjectError::ProxyAndMiddleware), "{err:?}");
        insta::assert_snapshot!("proxy_and_middleware", err.to_string());
    }

    #[test]
    fn the_summary_line_says_what_the_matcher_covers() {
        assert_eq!(
            proxy_summary("proxy.rs", None),
            "ƒ Proxy (Middleware)  proxy.rs  every request (no matcher)"
        );
        assert_eq!(
            proxy_summary("middleware.rs", Some(&[])),
            "ƒ Proxy (Middleware)  middleware.rs  no request (an empty matcher)"
        );
        let matcher = [
            MatcherSpec::source("/api/:path*"),
            MatcherSpec {
                source: "/m3/:p*".into(),
                has: vec![Condition::Header {
                    key: "x-go".into(),
                    value: Some("yes".into()),
                }],
                missing: vec![
                    Condition::Cookie {
                        key: "skip".into(),
                        value: None,
                    },
                    Condition::Host {
                        value: Some("a\\.b".into()),
                    },
                ],
            },
            MatcherSpec::source("/esc\u{1b}[31m"),
        ];
        assert_eq!(
            proxy_summary("proxy.rs", Some(&matcher)),
            "ƒ Proxy (Middleware)  proxy.rs  matcher: /api/:path*, /m3/:p* (has header x-go = yes, \
             missing cookie skip, missing host = a\\.b), /esc\\u{1b}[31m"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_link_out_of_the_app_is_refused() {
        let outside = tempfile::tempdir().unwrap();
        fs::write(
            outside.path().join("secret.rs"),
            "pub async fn proxy() {}\n",
        )
        .unwrap();
        let dir = app(&[]);
        std::os::unix::fs::symlink(
            outside.path().join("secret.rs"),
            dir.path().join("proxy.rs"),
        )
        .unwrap();
        assert!(matches!(
            find_proxy(dir.path()),
            Err(ProjectError::OutsideApp { .. })
        ));
        // A link inside the app is the file it leads to.
        let dir = app(&["shared/guard.rs"]);
        std::os::unix::fs::symlink(
            dir.path().join("shared/guard.rs"),
            dir.path().join("proxy.rs"),
        )
        .unwrap();
        assert!(find_proxy(dir.path()).unwrap().is_some());
    }
}
