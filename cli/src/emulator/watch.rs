//! Watches what a rebuild depends on — `api/`, `app/`, `src/`, `Cargo.toml`, `nextr.toml`, the
//! `.env` files, `proxy.rs` and `middleware.rs` — and the route manifest itself, and reports debounced changes to a callback.
//! What to do about them (rebuild, then swap the workers) is the caller's: see `nextr dev`.
//!
//! One save must give one rebuild. The debouncer reports each event once it is older than the
//! debounce time, not once a path has been quiet for it, so the several events of one save (an
//! editor truncates, writes, maybe writes again, renames, changes permissions) can straddle
//! one of its ticks and arrive as two batches; the caller has begun a rebuild on the first by
//! the time the second comes, and would rebuild again. So a source path is reported only when
//! its state (existence, length, modification time and a digest of its content) differs from
//! the state last reported for it: the second batch of a save finds the file as the first
//! reported it. A path never reported and absent now (an editor's temporary file, gone
//! already) is no change either. A `touch` still is one, as for the build's fingerprint.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hasher};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, SystemTime};

use notify_debouncer_full::notify::{RecommendedWatcher, RecursiveMode};
use notify_debouncer_full::{new_debouncer, DebounceEventResult, Debouncer, RecommendedCache};

use crate::project::{DOTENV_FILES, PROXY_FILES, ROUTE_DIRS};

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

/// The files at the app root a build reads (the root itself is watched non-recursively, so a
/// proxy file created or deleted while serving is seen too).
const ROOT_FILES: [&str; 4] = ["Cargo.toml", "nextr.toml", PROXY_FILES[0], PROXY_FILES[1]];

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
        file if ROOT_FILES.contains(&file) => parts.next().is_none(),
        _ => false,
    };
    is_source.then(|| Change::Sources(vec![rel.to_path_buf()]))
}

/// Files larger than this are compared by length and modification time only (a source is
/// far smaller; reading a large data file on each event would cost more than it saves).
const DIGEST_LIMIT: u64 = 8 * 1024 * 1024;

/// What a source path is now, as far as a rebuild is concerned.
#[derive(Debug, Clone)]
enum PathState {
    /// Not there (or unreadable).
    Missing,
    /// A folder: its own events (an entry added or removed) are its files' changes, reported
    /// with those files.
    Folder,
    /// A file.
    File {
        len: u64,
        modified: Option<SystemTime>,
        /// `None` when not read: the state recorded at start, or a file over [`DIGEST_LIMIT`].
        digest: Option<u64>,
    },
}

impl PartialEq for PathState {
    /// The same length and modification time, and the same content when both were read.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (PathState::Missing, PathState::Missing) | (PathState::Folder, PathState::Folder) => {
                true
            }
            (
                PathState::File {
                    len,
                    modified,
                    digest,
                },
                PathState::File {
                    len: len2,
                    modified: modified2,
                    digest: digest2,
                },
            ) => {
                len == len2
                    && modified == modified2
                    && (digest.is_none() || digest2.is_none() || digest == digest2)
            }
            _ => false,
        }
    }
}

impl PathState {
    /// The path's state; its content's digest too when `read` (and the file is not large).
    fn of(path: &Path, read: bool) -> Self {
        let Ok(meta) = std::fs::metadata(path) else {
            return PathState::Missing;
        };
        if meta.is_dir() {
            return PathState::Folder;
        }
        let digest = (read && meta.len() <= DIGEST_LIMIT)
            .then(|| digest(path))
            .flatten();
        PathState::File {
            len: meta.len(),
            modified: meta.modified().ok(),
            digest,
        }
    }
}

/// A digest of a file's content (not a cryptographic one: it tells a file from its previous
/// state, no adversary involved).
fn digest(path: &Path) -> Option<u64> {
    let mut file = std::fs::File::open(path).ok()?;
    let mut hasher = DefaultHasher::new();
    let mut buf = [0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf).ok()?;
        if n == 0 {
            return Some(hasher.finish());
        }
        hasher.write(&buf[..n]);
    }
}

/// The state last reported of each source path (paths relative to the app).
#[derive(Debug, Default)]
struct Reported(HashMap<PathBuf, PathState>);

impl Reported {
    /// The sources as they are when watching starts (length and modification time only: a
    /// file is read when an event names it), so that a file deleted before any edit is a
    /// change and an editor's temporary file, created and gone between two batches, is not.
    fn at_start(root: &Path) -> Self {
        let mut reported = Reported::default();
        for name in ROOT_FILES {
            reported.record(root, Path::new(name));
        }
        let mut folders: Vec<PathBuf> = source_dirs().map(PathBuf::from).collect();
        while let Some(rel) = folders.pop() {
            let Ok(entries) = std::fs::read_dir(root.join(&rel)) else {
                continue;
            };
            reported.0.insert(rel.clone(), PathState::Folder);
            for entry in entries.flatten() {
                let path = rel.join(entry.file_name());
                // Symbolic links are recorded as what they lead to, but not walked into: a
                // link to a parent folder would never end.
                match entry.file_type() {
                    Ok(t) if t.is_dir() => folders.push(path),
                    Ok(_) => reported.record(root, &path),
                    Err(_) => {}
                }
            }
        }
        reported
    }

    fn record(&mut self, root: &Path, path: &Path) {
        let state = PathState::of(&root.join(path), false);
        if !matches!(state, PathState::Missing) {
            self.0.insert(path.to_path_buf(), state);
        }
    }

    /// Whether `path` (relative to `root`) changed since it was last reported; records its
    /// state when it did.
    fn changed(&mut self, root: &Path, path: &Path) -> bool {
        let now = PathState::of(&root.join(path), true);
        let before = self.0.get(path).unwrap_or(&PathState::Missing);
        if *before == now {
            return false;
        }
        self.0.insert(path.to_path_buf(), now);
        true
    }
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
    let mut reported = Reported::at_start(&app_dir);
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
        sources.retain(|p| reported.changed(&root, p));
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
            c("/app/proxy.rs"),
            Some(Change::Sources(vec!["proxy.rs".into()]))
        );
        assert!(c("/app/middleware.rs").is_some());
        // Only at the root: elsewhere they are routes or library code, seen as such.
        assert_eq!(c("/app/other.rs"), None);
        assert_eq!(c("/app/target/proxy.rs"), None);
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
    fn a_path_is_reported_once_per_state() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::create_dir_all(root.join("api")).unwrap();
        std::fs::write(root.join("api/old.rs"), "// old").unwrap();
        std::fs::write(root.join("Cargo.toml"), "[package]").unwrap();
        let mut reported = Reported::at_start(root);
        let rel = Path::new;
        // Untouched since the start: an event on it (permissions, a reopen) is no change.
        assert!(!reported.changed(root, rel("api/old.rs")));
        assert!(!reported.changed(root, rel("Cargo.toml")));
        // An edit is one change, however many batches report it.
        std::fs::write(root.join("api/old.rs"), "// new").unwrap();
        assert!(reported.changed(root, rel("api/old.rs")));
        assert!(!reported.changed(root, rel("api/old.rs")));
        let file = std::fs::File::open(root.join("api/old.rs")).unwrap();
        file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .unwrap();
        assert!(!reported.changed(root, rel("api/old.rs")));
        // The same length and time but another content (two saves within the clock's step).
        let modified = std::fs::metadata(root.join("api/old.rs"))
            .unwrap()
            .modified()
            .unwrap();
        std::fs::write(root.join("api/old.rs"), "// xyz").unwrap();
        file.set_modified(modified).unwrap();
        assert!(reported.changed(root, rel("api/old.rs")));
        // A file there at the start, deleted: a change; a file that came and went: none.
        std::fs::remove_file(root.join("Cargo.toml")).unwrap();
        assert!(reported.changed(root, rel("Cargo.toml")));
        assert!(!reported.changed(root, rel("api/.tmp-4913")));
        // A folder appearing is a change; its later events are its files'.
        std::fs::create_dir(root.join("app")).unwrap();
        assert!(reported.changed(root, rel("app")));
        assert!(!reported.changed(root, rel("app")));
        assert!(!reported.changed(root, rel("api")));
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

        // A proxy created, edited and deleted while serving.
        for write in ["// v1", "// v2"] {
            std::fs::write(app.join("proxy.rs"), write).unwrap();
            assert!(wait_for(Change::Sources(vec!["proxy.rs".into()])));
        }
        std::fs::remove_file(app.join("proxy.rs")).unwrap();
        assert!(wait_for(Change::Sources(vec!["proxy.rs".into()])));

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
