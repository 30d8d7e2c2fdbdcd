//! Route files on disk: finding `api/` (Pages Router) and `app/` (App Router) and reading
//! route file names.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use nextr::routing::RouteTable;

use super::ProjectError;

/// The folders route files live in: `api/` for the Pages Router, `app/` for the App Router.
pub const ROUTE_DIRS: [&str; 2] = ["api", "app"];

/// Every file under `<root>/api` and `<root>/app`, relative to `root`, `/`-separated, sorted.
///
/// Each folder is optional, but one of them must exist. Folders whose names start with `_`
/// (private) or `.` are skipped: nothing below them is a route (a `%5F…` folder is not
/// private: it serves a URL segment starting with `_`). A symlink may point anywhere inside
/// the app; one that leads out of it is an error (a route file is compiled into the app and
/// its text shows in error messages).
pub fn scan_routes(root: &Path) -> Result<Vec<String>, ProjectError> {
    let dirs: Vec<(&str, PathBuf)> = ROUTE_DIRS
        .iter()
        .map(|d| (*d, root.join(d)))
        .filter(|(_, path)| path.is_dir())
        .collect();
    if dirs.is_empty() {
        return Err(ProjectError::NoRouteDir(root.to_path_buf()));
    }
    let app = canonical(root)?;
    let mut files = Vec::new();
    let mut seen = HashSet::new();
    for (name, dir) in dirs {
        inside_app(&app, &dir)?;
        walk(&app, &dir, name, &mut files, &mut seen)?;
    }
    files.sort();
    Ok(files)
}

/// Refuses `path` when it resolves (through symlinks, its own or its folders') to a place
/// outside the app folder `app` (canonical). Returns the resolved path.
pub fn inside_app(app: &Path, path: &Path) -> Result<PathBuf, ProjectError> {
    let target = canonical(path)?;
    if target.starts_with(app) {
        Ok(target)
    } else {
        Err(ProjectError::OutsideApp {
            link: path.to_path_buf(),
            target,
        })
    }
}

fn canonical(path: &Path) -> Result<PathBuf, ProjectError> {
    fs::canonicalize(path).map_err(|source| ProjectError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn walk(
    app: &Path,
    dir: &Path,
    rel: &str,
    files: &mut Vec<String>,
    seen: &mut HashSet<PathBuf>,
) -> Result<(), ProjectError> {
    let io = |source| ProjectError::Io {
        path: dir.to_path_buf(),
        source,
    };
    // A symlinked folder that points back up would otherwise recurse forever.
    if !seen.insert(canonical(dir)?) {
        return Ok(());
    }
    for entry in fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let path = entry.path();
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            return Err(ProjectError::NotUtf8(path));
        };
        if name.starts_with('_') || name.starts_with('.') {
            continue;
        }
        if entry.file_type().map_err(io)?.is_symlink() {
            inside_app(app, &path)?;
        }
        let child = format!("{rel}/{name}");
        if path.is_dir() {
            walk(app, &path, &child, files, seen)?;
        } else {
            files.push(child);
        }
    }
    Ok(())
}

/// The validated route table of the app at `root`.
pub fn route_table(root: &Path) -> Result<RouteTable, ProjectError> {
    let files = scan_routes(root)?;
    RouteTable::from_files(&files).map_err(|error| ProjectError::Tree {
        root: root.to_path_buf(),
        error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(root: &Path, rel: &str) {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, "").unwrap();
    }

    #[test]
    fn both_folders_are_scanned_and_either_is_enough() {
        let app = tempfile::tempdir().unwrap();
        for rel in [
            "app/route.rs",
            "app/api/%5Funder/route.rs",
            "app/api/_private/route.rs",
            "app/.cache/route.rs",
            "app/(g)/x/route.rs",
            "app/api/helper.rs",
        ] {
            touch(app.path(), rel);
        }
        assert_eq!(
            scan_routes(app.path()).unwrap(),
            [
                "app/(g)/x/route.rs",
                "app/api/%5Funder/route.rs",
                "app/api/helper.rs",
                "app/route.rs"
            ]
        );
        touch(app.path(), "api/hello.rs");
        touch(app.path(), "api/_lib/x.rs");
        let files = scan_routes(app.path()).unwrap();
        assert_eq!(files.first().map(String::as_str), Some("api/hello.rs"));
        assert_eq!(files.len(), 5);
        let table = route_table(app.path()).unwrap();
        let pages: Vec<&str> = table.routes().iter().map(|r| r.page()).collect();
        assert_eq!(pages, ["/", "/api/_under", "/api/hello", "/x"]);

        let none = tempfile::tempdir().unwrap();
        let err = scan_routes(none.path()).unwrap_err();
        assert!(matches!(err, ProjectError::NoRouteDir(_)), "{err:?}");
        assert!(err.to_string().contains("`app/**/route.rs`"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_out_of_the_app_are_refused() {
        use std::os::unix::fs::symlink;
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.rs"), "first line of a secret\n").unwrap();
        let app = tempfile::tempdir().unwrap();
        let api = app.path().join("api");
        std::fs::create_dir_all(api.join("real")).unwrap();
        std::fs::write(api.join("real/a.rs"), "").unwrap();
        std::fs::create_dir_all(app.path().join("shared")).unwrap();
        std::fs::write(app.path().join("shared/b.rs"), "").unwrap();
        // Links inside the app stay.
        symlink(api.join("real/a.rs"), api.join("alias.rs")).unwrap();
        symlink(app.path().join("shared"), api.join("shared")).unwrap();
        assert_eq!(
            scan_routes(app.path()).unwrap(),
            ["api/alias.rs", "api/real/a.rs", "api/shared/b.rs"]
        );

        // A file link out of the app.
        let link = api.join("leak.rs");
        symlink(outside.path().join("secret.rs"), &link).unwrap();
        let err = scan_routes(app.path()).unwrap_err();
        let target = fs::canonicalize(outside.path().join("secret.rs")).unwrap();
        assert!(
            matches!(&err, ProjectError::OutsideApp { link: l, target: t } if *l == link && *t == target),
            "{err:?}"
        );
        let message = err.to_string();
        assert!(
            message.contains("leak.rs") && message.contains("secret.rs"),
            "{message}"
        );
        assert!(!message.contains("first line"), "{message}");
        fs::remove_file(&link).unwrap();

        // A folder link out of the app, and `api` itself.
        symlink(outside.path(), api.join("out")).unwrap();
        assert!(matches!(
            scan_routes(app.path()),
            Err(ProjectError::OutsideApp { .. })
        ));
        fs::remove_file(api.join("out")).unwrap();
        let other = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(other.path().join("api")).unwrap();
        fs::remove_dir_all(&api).unwrap();
        symlink(other.path().join("api"), &api).unwrap();
        assert!(matches!(
            scan_routes(app.path()),
            Err(ProjectError::OutsideApp { .. })
        ));
    }
}
