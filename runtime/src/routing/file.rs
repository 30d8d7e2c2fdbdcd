//! Route files → page patterns, for both routers: `api/**.rs` (Pages) and `app/**/route.rs`
//! (App), with each router's rules for which files and folders are routes.

use super::router::Router;

/// The file name of an App Router route handler.
const APP_ROUTE_FILE: &str = "route.rs";

/// The router and page pattern of a route file, or `None` when the file is not a route.
///
/// `file` is relative to the app root with `/` separators. Pages: see [`pages_page`]. App: the
/// folder path under `app/` of a `route.rs` file, with route groups `(name)` removed; a folder
/// starting with `_` (private) hides itself and everything below; a folder starting with `%5F`
/// serves a segment starting with `_`; `app/route.rs` serves `/`; `index` stays literal.
pub fn route_for_file(file: &str) -> Option<(Router, String)> {
    if let Some(page) = pages_page(file) {
        return Some((Router::Pages, page));
    }
    app_page(file, false).map(|page| (Router::App, page))
}

/// A route file for a page, the inverse of [`route_for_file`] (`nextr build`'s `proxy.json`
/// lists pages, not files): `api/<page>/index.rs` for the Pages Router (`/api` →
/// `api/index.rs`), `app/<page>/route.rs` for the App Router with a segment starting with `_`
/// written `%5F` (a private folder otherwise). A page its router cannot have gives a file
/// that [`route_for_file`] does not map back to it.
pub fn file_for_page(router: Router, page: &str) -> String {
    let rest = page.trim_start_matches('/');
    match router {
        Router::Pages => match rest.strip_prefix("api") {
            Some("") => "api/index.rs".to_owned(),
            _ => format!("{rest}/index.rs"),
        },
        Router::App => {
            let mut file = String::from("app/");
            for segment in rest.split('/').filter(|s| !s.is_empty()) {
                match segment.strip_prefix('_') {
                    Some(tail) => {
                        file.push_str("%5F");
                        file.push_str(tail);
                    }
                    None => file.push_str(segment),
                }
                file.push('/');
            }
            file.push_str(APP_ROUTE_FILE);
            file
        }
    }
}

/// The route's name as Next lists it (and as `nextr routes --match` reports it): the page
/// pattern, except that an App folder named `%5F…` keeps that spelling although it serves a
/// URL segment starting with `_`.
pub(crate) fn route_name(router: Router, file: &str, page: &str) -> String {
    match router {
        Router::App => app_page(file, true),
        Router::Pages => None,
    }
    .unwrap_or_else(|| page.to_owned())
}

/// The Pages Router pattern of `api/**.rs`: any file or folder whose name starts with `_` or
/// `.` is not a route (that is where shared modules live); one trailing `index` is dropped, so
/// `api/index.rs` is `/api` while a folder named `index` stays literal.
fn pages_page(file: &str) -> Option<String> {
    let stem = file.strip_suffix(".rs")?;
    let mut parts = stem.split('/');
    if parts.next() != Some("api") {
        return None;
    }
    let mut any = false;
    for part in parts {
        if part.is_empty() || part.starts_with('_') || part.starts_with('.') {
            return None;
        }
        any = true;
    }
    if !any {
        return None;
    }
    let page = stem.strip_suffix("/index").unwrap_or(stem);
    Some(format!("/{page}"))
}

/// The App Router pattern of `app/**/route.rs` (Next's `normalizeAppPath` plus its private
/// folder rule); with `keep_escapes`, `%5F` folders keep their spelling (Next's name for the
/// route) instead of serving `_`.
fn app_page(file: &str, keep_escapes: bool) -> Option<String> {
    let rest = file.strip_prefix("app/")?;
    let folders: Vec<&str> = if rest == APP_ROUTE_FILE {
        Vec::new()
    } else {
        let path = rest.strip_suffix(APP_ROUTE_FILE)?.strip_suffix('/')?;
        path.split('/').collect()
    };
    let mut page = String::new();
    for folder in folders {
        if folder.is_empty() || folder.starts_with('_') || folder.starts_with('.') {
            return None;
        }
        if is_group(folder) {
            continue;
        }
        page.push('/');
        match escaped_underscore(folder).filter(|_| !keep_escapes) {
            Some(tail) => {
                page.push('_');
                page.push_str(tail);
            }
            None => page.push_str(folder),
        }
    }
    if page.is_empty() {
        page.push('/');
    }
    Some(page)
}

/// `(name)`: a route group, which organises files without adding a URL segment.
fn is_group(folder: &str) -> bool {
    folder.len() >= 2 && folder.starts_with('(') && folder.ends_with(')')
}

/// The rest of a folder named `%5F…` (either case): Next's way to serve a URL segment that
/// starts with `_` without making the folder private.
fn escaped_underscore(folder: &str) -> Option<&str> {
    folder
        .strip_prefix("%5F")
        .or_else(|| folder.strip_prefix("%5f"))
}

/// The App route file's path as Next names it in "Conflicting routes" errors: the path under
/// `app/` with its groups, without the extension (`/(g1)/api/id/route`).
pub(crate) fn app_route_path(file: &str) -> &str {
    let path = file.strip_prefix("app").unwrap_or(file);
    path.strip_suffix(".rs").unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_map_back_to_their_files() {
        for (router, page) in [
            (Router::Pages, "/api"),
            (Router::Pages, "/api/hello"),
            (Router::Pages, "/api/t08/index"),
            (Router::Pages, "/api/post/[pid]"),
            (Router::Pages, "/api/[[...slug]]"),
            (Router::App, "/"),
            (Router::App, "/api/px/target/[id]"),
            (Router::App, "/api/r04/_escaped"),
            (Router::App, "/hooks/index"),
        ] {
            let file = file_for_page(router, page);
            assert_eq!(
                route_for_file(&file),
                Some((router, page.to_owned())),
                "{file}"
            );
        }
        // Pages that their router cannot have do not map back.
        for (router, page) in [(Router::Pages, "/x"), (Router::Pages, "/api/_lib")] {
            let file = file_for_page(router, page);
            assert_ne!(
                route_for_file(&file),
                Some((router, page.to_owned())),
                "{file}"
            );
        }
    }

    #[test]
    fn pages_files() {
        let cases = [
            ("api/index.rs", Some("/api")),
            ("api/hello.rs", Some("/api/hello")),
            ("api/notes/index.rs", Some("/api/notes")),
            ("api/t08/index/index.rs", Some("/api/t08/index")),
            ("api/t08/index/[id].rs", Some("/api/t08/index/[id]")),
            ("api/post/[...slug].rs", Some("/api/post/[...slug]")),
            ("api/foo.test.rs", Some("/api/foo.test")),
            ("api/x.rs.rs", Some("/api/x.rs")),
            ("api/_shared.rs", None),
            ("api/_lib/x.rs", None),
            ("api/.hidden.rs", None),
            ("api/.git/x.rs", None),
            ("api/data.json", None),
            ("api/README.md", None),
            ("src/lib.rs", None),
            ("api.rs", None),
            ("api//x.rs", None),
        ];
        for (file, page) in cases {
            let got = route_for_file(file);
            assert_eq!(got.as_ref().map(|(_, p)| p.as_str()), page, "{file}");
            if let Some((router, _)) = got {
                assert_eq!(router, Router::Pages, "{file}");
            }
        }
    }

    #[test]
    fn app_files() {
        let cases = [
            ("app/route.rs", Some("/")),
            ("app/api/r01/route.rs", Some("/api/r01")),
            ("app/api/r01/[id]/edit/route.rs", Some("/api/r01/[id]/edit")),
            ("app/(outer)/api/r03/outer/route.rs", Some("/api/r03/outer")),
            (
                "app/api/r03/(a)/(b)/deep/[id]/route.rs",
                Some("/api/r03/deep/[id]"),
            ),
            ("app/(g)/route.rs", Some("/")),
            ("app/api/r04/_private/route.rs", None),
            ("app/api/r04/_lib/inner/route.rs", None),
            ("app/_lib/route.rs", None),
            ("app/api/r04/%5Fescaped/route.rs", Some("/api/r04/_escaped")),
            ("app/api/r04/%5fescaped/route.rs", Some("/api/r04/_escaped")),
            ("app/api/r09/index/route.rs", Some("/api/r09/index")),
            ("app/api/r09/data.json/route.rs", Some("/api/r09/data.json")),
            (
                "app/hooks/deliver/[id]/route.rs",
                Some("/hooks/deliver/[id]"),
            ),
            ("app/.git/route.rs", None),
            ("app/api/helper.rs", None),
            ("app/api/r01/route.rs.bak", None),
            ("app/api/r01/myroute.rs", None),
            ("app//route.rs", None),
            ("app/api/route.js", None),
            ("application/route.rs", None),
            ("src/app/route.rs", None),
        ];
        for (file, page) in cases {
            let got = route_for_file(file);
            assert_eq!(got.as_ref().map(|(_, p)| p.as_str()), page, "{file}");
            if let Some((router, _)) = got {
                assert_eq!(router, Router::App, "{file}");
            }
        }
    }

    #[test]
    fn names_keep_escaped_underscores() {
        let file = "app/api/r04/%5Fescaped/route.rs";
        let name = route_name(Router::App, file, "/api/r04/_escaped");
        assert_eq!(name, "/api/r04/%5Fescaped");
        assert_eq!(route_name(Router::App, "app/(g)/x/route.rs", "/x"), "/x");
        assert_eq!(
            route_name(Router::Pages, "api/x/index.rs", "/api/x"),
            "/api/x"
        );
    }

    #[test]
    fn conflict_paths_keep_groups() {
        assert_eq!(
            app_route_path("app/(g1)/api/id/route.rs"),
            "/(g1)/api/id/route"
        );
        assert_eq!(app_route_path("app/route.rs"), "/route");
    }
}
