//! Route files on disk: finding `api/` and reading route file names.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use nextr::routing::RouteTable;

use super::ProjectError;

/// Every file under `<root>/api`, relative to `root`, `/`-separated, sorted.
///
/// Folders whose names start with `_` or `.` are skipped: nothing below them is a route.
pub fn scan_api(root: &Path) -> Result<Vec<String>, ProjectError> {
    let api = root.join("api");
    if !api.is_dir() {
        return Err(ProjectError::NoApiDir(root.to_path_buf()));
    }
    let mut files = Vec::new();
    let mut seen = HashSet::new();
    walk(&api, "api", &mut files, &mut seen)?;
    files.sort();
    Ok(files)
}

fn walk(
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
    if !seen.insert(fs::canonicalize(dir).map_err(io)?) {
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
        let child = format!("{rel}/{name}");
        if path.is_dir() {
            walk(&path, &child, files, seen)?;
        } else {
            files.push(child);
        }
    }
    Ok(())
}

/// The validated route table of the app at `root`.
pub fn route_table(root: &Path) -> Result<RouteTable, ProjectError> {
    let files = scan_api(root)?;
    RouteTable::from_files(&files).map_err(|error| ProjectError::Tree {
        api: root.join("api"),
        error,
    })
}
