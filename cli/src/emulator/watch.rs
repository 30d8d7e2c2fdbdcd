//! Watches what a rebuild depends on — `api/`, `app/`, `src/`, `Cargo.toml`, `nextr.toml`, the
//! `.env` files — and the route manifest itself, and reports debounced changes to a callback.
//! What to do about them (rebuild, then swap the workers) is the caller's: see `nextr dev`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use notify_debouncer_full::notify::{RecommendedWatcher, RecursiveMode};
use notify_debouncer_full::{new_debouncer, DebounceEventResult, Debouncer, RecommendedCache};

use crate::project::{DOTENV_FILES, ROUTE_DIRS};

/// A debounced batch of changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Source files changed (paths relative to the app root): a rebuild is needed.
    Sources(Vec<PathBuf>),
    /// The route manifest was rewritten (by a build): the workers can be swapped.
    Manifest,
}

/// Why watching could not start.
#[derive(Debug, thiserror::Error)]
#[error("cannot watch {} for changes", .path.display())]
pub struct WatchError {
    /// The path that could not be watched.
    pub path: PathBuf,
    /// The watcher's error.
    #[source]
    pub source: notify_debouncer_full::notify::Error,
}

/// Keeps watching until dropped.
pub struct Watcher {
    _debouncer: Arc<Mutex<AppDebouncer>>,
}

type AppDebouncer = Debouncer<RecommendedWatcher, RecommendedCache>;

/// The folders watched recursively: the route folders and `src/`.
fn source_dirs() -> impl Iterator<Item = &'static str> {
    ROUTE_DIRS.into_iter().chain(["src"])
}

/// What a changed path means, if anything.
pub fn classify(app_dir: &Path, manifest: &Path, path: &Path) -> Option<Change> {
    if path == manifest {
        return Some(Change::Manifest);
    }
    let rel = path.strip_prefix(app_dir).ok()?;
    let name = rel.file_name()?.to_str()?;
    // `.env` files are dotfiles, but sources of every function's environment.
    if rel.components().count() == 1 && DOTENV_FILES.contains(&name) {
        return Some(Change::Sources(vec![rel.to_path_buf()]));
    }
    // Editors' swap and backup files are not sources.
    if name.starts_with('.') || name.ends_with('~') || name.ends_with(".swp") {
        return None;
    }
    let mut parts = rel.components();
    let first = parts.next()?.as_os_str().to_str()?;
    let is_source = match first {
        "src" => true,
        dir if ROUTE_DIRS.contains(&dir) => true,
        "Cargo.toml" | "nextr.toml" => parts.next().is_none(),
        _ => false,
    };
    is_source.then(|| Change::Sources(vec![rel.to_path_buf()]))
}

/// Starts watching the app at `app_dir` (its sources) and the manifest file `manifest`.
pub fn watch(
    app_dir: &Path,
    manifest: &Path,
    debounce: Duration,
    on_change: impl Fn(Change) + Send + 'static,
) -> Result<Watcher, WatchError> {
    let app_dir = app_dir
        .canonicalize()
        .unwrap_or_else(|_| app_dir.to_path_buf());
    let manifest = match (manifest.parent(), manifest.file_name()) {
        (Some(dir), Some(name)) => dir
            .canonicalize()
            .map(|d| d.join(name))
            .unwrap_or_else(|_| manifest.to_path_buf()),
        _ => manifest.to_path_buf(),
    };
    let root = app_dir.clone();
    let manifest_file = manifest.clone();
    // The debouncer, for the handler to watch a source folder created while serving (an app
    // that gains `app/`); weak, so that dropping the [`Watcher`] stops it.
    let handle: Arc<OnceLock<Weak<Mutex<AppDebouncer>>>> = Arc::new(OnceLock::new());
    let handle_in = handle.clone();
    let debouncer = new_debouncer(debounce, None, move |result: DebounceEventResult| {
        let Ok(events) = result else { return };
        let mut sources = Vec::new();
        let mut manifest_changed = false;
        for event in events {
            if event.kind.is_access() {
                continue;
            }
            for path in &event.paths {
                match classify(&root, &manifest_file, path) {
                    Some(Change::Manifest) => manifest_changed = true,
                    Some(Change::Sources(p)) => sources.extend(p),
                    None => {}
                }
            }
        }
        sources.sort();
        sources.dedup();
        for new_dir in sources
            .iter()
            .filter(|p| source_dirs().any(|d| Path::new(d) == p.as_path()))
            .map(|p| root.join(p))
            .filter(|p| p.is_dir())
        {
            if let Some(debouncer) = handle_in.get().and_then(Weak::upgrade) {
                if let Ok(mut debouncer) = debouncer.lock() {
                    // Watching a folder again is harmless; a failure leaves it unwatched.
                    let _ = debouncer.watch(&new_dir, RecursiveMode::Recursive);
                }
            }
        }
        if !sources.is_empty() {
            on_change(Change::Sources(sources));
        }
        if manifest_changed {
            on_change(Change::Manifest);
        }
    })
    .map_err(|source| WatchError {
        path: app_dir.clone(),
        source,
    })?;
    let mut targets = vec![(app_dir.clone(), RecursiveMode::NonRecursive)];
    for sub in source_dirs() {
        let p = app_dir.join(sub);
        if p.is_dir() {
            targets.push((p, RecursiveMode::Recursive));
        }
    }
    if let Some(dir) = manifest.parent() {
        if dir.is_dir() {
            targets.push((dir.to_path_buf(), RecursiveMode::NonRecursive));
        }
    }
    let debouncer = Arc::new(Mutex::new(debouncer));
    {
        let mut guard = debouncer.lock().map_err(|_| WatchError {
            path: app_dir.clone(),
            source: notify_debouncer_full::notify::Error::generic("the watcher is poisoned"),
        })?;
        for (path, mode) in targets {
            guard
                .watch(&path, mode)
                .map_err(|source| WatchError { path, source })?;
        }
    }
    let _ = handle.set(Arc::downgrade(&debouncer));
    Ok(Watcher {
        _debouncer: debouncer,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_paths() {
        let app = Path::new("/app");
        let manifest = Path::new("/app/.nextr/routes-manifest.json");
        let c = |p: &str| classify(app, manifest, Path::new(p));
        assert_eq!(
            c("/app/.nextr/routes-manifest.json"),
            Some(Change::Manifest)
        );
        assert_eq!(
            c("/app/api/post/[pid].rs"),
            Some(Change::Sources(vec!["api/post/[pid].rs".into()]))
        );
        assert_eq!(
            c("/app/app/hooks/[id]/route.rs"),
            Some(Change::Sources(vec!["app/hooks/[id]/route.rs".into()]))
        );
        assert_eq!(
            c("/app/src/lib.rs"),
            Some(Change::Sources(vec!["src/lib.rs".into()]))
        );
        assert_eq!(
            c("/app/Cargo.toml"),
            Some(Change::Sources(vec!["Cargo.toml".into()]))
        );
        assert!(c("/app/nextr.toml").is_some());
        assert_eq!(
            c("/app/.env.local"),
            Some(Change::Sources(vec![".env.local".into()]))
        );
        assert!(c("/app/.env.development").is_some());
        assert_eq!(c("/app/.env.local.swp"), None);
        assert_eq!(c("/app/api/.env"), None);
        assert_eq!(c("/app/target/debug/x"), None);
        assert_eq!(c("/app/.nextr/functions/a.zip"), None);
        assert_eq!(c("/app/api/.hello.rs.swp"), None);
        assert_eq!(c("/app/api/hello.rs~"), None);
        assert_eq!(c("/app/README.md"), None);
        assert_eq!(c("/elsewhere/api/x.rs"), None);
    }

    #[test]
    fn reports_changes() {
        let tmp = tempfile::tempdir().unwrap();
        let app = tmp.path();
        std::fs::create_dir_all(app.join("api")).unwrap();
        std::fs::create_dir_all(app.join(".nextr")).unwrap();
        let manifest = app.join(".nextr/routes-manifest.json");
        std::fs::write(&manifest, "{}").unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let _w = watch(app, &manifest, Duration::from_millis(50), move |c| {
            let _ = tx.send(c);
        })
        .unwrap();
        let wait_for = |wanted: Change| {
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while std::time::Instant::now() < deadline {
                if rx.recv_timeout(Duration::from_millis(200)).ok() == Some(wanted.clone()) {
                    return true;
                }
            }
            false
        };
        std::fs::write(app.join("api/hello.rs"), "// x").unwrap();
        assert!(wait_for(Change::Sources(vec!["api/hello.rs".into()])));
        std::fs::write(&manifest, "{\"v\":2}").unwrap();
        assert!(wait_for(Change::Manifest));

        // `app/` created while watching: the folder itself, then files deep inside it.
        std::fs::create_dir(app.join("app")).unwrap();
        assert!(wait_for(Change::Sources(vec!["app".into()])));
        std::fs::create_dir_all(app.join("app/hooks/[id]")).unwrap();
        std::thread::sleep(Duration::from_millis(300));
        std::fs::write(app.join("app/hooks/[id]/route.rs"), "// x").unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let route = PathBuf::from("app/hooks/[id]/route.rs");
        let mut seen = false;
        while !seen && std::time::Instant::now() < deadline {
            seen = matches!(
                rx.recv_timeout(Duration::from_millis(200)),
                Ok(Change::Sources(paths)) if paths.contains(&route)
            );
        }
        assert!(seen, "an edit inside the new app/ was not seen");
    }
}
