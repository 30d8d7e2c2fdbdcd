//! What the links routes share: the link types and their validation, and the store
//! (`app/api/links/route.rs` and `app/api/links/[id]/route.rs` are separate Lambda functions;
//! both link this library as `links::…`).
//!
//! The store keeps one JSON file per link in a folder (`LINKS_DATA_DIR`), so links survive
//! between invocations, processes and functions in `nextr dev`. On AWS, Lambda's `/tmp` is
//! private to one instance, so a deployed app would back [`Store`] with DynamoDB or S3, with
//! the same methods; the routes would not change.

use std::fs;
use std::io;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// The variable naming the folder links and uploads are kept in.
pub const DATA_DIR_VAR: &str = "LINKS_DATA_DIR";
/// The longest title, in characters.
pub const MAX_TITLE: usize = 200;
/// The most tags on one link.
pub const MAX_TAGS: usize = 10;

/// A stored link, as the API returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// 16 lowercase hex digits, increasing with creation time.
    pub id: String,
    /// An `http` or `https` URL.
    pub url: String,
    /// A non-empty title.
    pub title: String,
    /// Lower-case tags, possibly none.
    pub tags: Vec<String>,
}

/// The body of `POST /api/links`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewLink {
    /// Required.
    pub url: String,
    /// Required.
    pub title: String,
    /// Optional, none by default.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// The body of `PATCH /api/links/[id]`: the fields to change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkPatch {
    /// A new title.
    pub title: Option<String>,
    /// New tags (replacing the old ones).
    pub tags: Option<Vec<String>>,
}

impl NewLink {
    /// The link's fields cleaned up, or why they are not acceptable (a message for a 400).
    pub fn validate(self) -> Result<NewLink, String> {
        Ok(NewLink {
            url: check_url(&self.url)?,
            title: check_title(&self.title)?,
            tags: check_tags(self.tags)?,
        })
    }
}

impl LinkPatch {
    /// The patch cleaned up, or why it is not acceptable.
    pub fn validate(self) -> Result<LinkPatch, String> {
        Ok(LinkPatch {
            title: self.title.as_deref().map(check_title).transpose()?,
            tags: self.tags.map(check_tags).transpose()?,
        })
    }
}

fn check_url(url: &str) -> Result<String, String> {
    let url = url.trim();
    let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
    if !scheme_ok || url.len() < "http://x".len() || url.chars().any(char::is_whitespace) {
        return Err(format!("url must be an http or https URL, not {url:?}"));
    }
    Ok(url.to_owned())
}

fn check_title(title: &str) -> Result<String, String> {
    let title = title.trim();
    if title.is_empty() {
        return Err("title must not be empty".into());
    }
    if title.chars().count() > MAX_TITLE {
        return Err(format!("title must be at most {MAX_TITLE} characters"));
    }
    Ok(title.to_owned())
}

fn check_tags(tags: Vec<String>) -> Result<Vec<String>, String> {
    if tags.len() > MAX_TAGS {
        return Err(format!("at most {MAX_TAGS} tags"));
    }
    let mut out: Vec<String> = Vec::with_capacity(tags.len());
    for tag in tags {
        let tag = tag.trim().to_lowercase();
        if tag.is_empty() || !tag.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(format!("tags are letters, digits and '-', not {tag:?}"));
        }
        if !out.contains(&tag) {
            out.push(tag);
        }
    }
    Ok(out)
}

/// True for a string that can be a link id (so nothing else reaches the file system).
pub fn is_valid_id(id: &str) -> bool {
    id.len() == 16 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// One JSON file per link under `$LINKS_DATA_DIR/links`, uploads under `…/uploads`.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    /// The store in `$LINKS_DATA_DIR` (or the system's temp folder), created when missing.
    pub fn open() -> io::Result<Self> {
        let root = std::env::var_os(DATA_DIR_VAR)
            .map(PathBuf::from)
            .unwrap_or_else(|| std::env::temp_dir().join("nextr-links"));
        Self::at(root)
    }

    /// The store in `root`.
    pub fn at(root: impl Into<PathBuf>) -> io::Result<Self> {
        let dir: PathBuf = root.into();
        fs::create_dir_all(dir.join("links"))?;
        fs::create_dir_all(dir.join("uploads"))?;
        Ok(Store { dir })
    }

    fn path(&self, id: &str) -> PathBuf {
        self.dir.join("links").join(format!("{id}.json"))
    }

    /// Every link, oldest first; with `tag`, only those carrying it.
    pub fn list(&self, tag: Option<&str>) -> io::Result<Vec<Link>> {
        let mut ids: Vec<String> = fs::read_dir(self.dir.join("links"))?
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().to_str()?.strip_suffix(".json").map(str::to_owned))
            .filter(|id| is_valid_id(id))
            .collect();
        ids.sort();
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            // A link deleted since the listing is simply not there.
            if let Some(link) = self.get(&id)? {
                if tag.is_none_or(|t| link.tags.iter().any(|x| x == t)) {
                    out.push(link);
                }
            }
        }
        Ok(out)
    }

    /// One link, `None` when there is none with this id.
    pub fn get(&self, id: &str) -> io::Result<Option<Link>> {
        if !is_valid_id(id) {
            return Ok(None);
        }
        match fs::read(self.path(id)) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Stores a new link under a fresh id.
    pub fn create(&self, new: NewLink) -> io::Result<Link> {
        loop {
            let link = Link {
                id: format!("{:016x}", now_nanos()),
                url: new.url.clone(),
                title: new.title.clone(),
                tags: new.tags.clone(),
            };
            // `create_new` never overwrites a link made in the same nanosecond elsewhere.
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(self.path(&link.id))
            {
                Ok(file) => {
                    serde_json::to_writer(file, &link)
                        .map_err(|e| io::Error::new(io::ErrorKind::Other, e))?;
                    return Ok(link);
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Applies `patch`; `None` when there is no such link.
    pub fn update(&self, id: &str, patch: LinkPatch) -> io::Result<Option<Link>> {
        let Some(mut link) = self.get(id)? else {
            return Ok(None);
        };
        if let Some(title) = patch.title {
            link.title = title;
        }
        if let Some(tags) = patch.tags {
            link.tags = tags;
        }
        // Written aside and renamed, so a reader never sees half a file.
        let temp = self.dir.join("links").join(format!(".{id}.tmp"));
        fs::write(&temp, serde_json::to_vec(&link)?)?;
        fs::rename(temp, self.path(id))?;
        Ok(Some(link))
    }

    /// Deletes a link; false when there was none.
    pub fn delete(&self, id: &str) -> io::Result<bool> {
        if !is_valid_id(id) {
            return Ok(false);
        }
        match fs::remove_file(self.path(id)) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Keeps an uploaded file under a fresh name and returns that name.
    pub fn save_upload(&self, bytes: &[u8]) -> io::Result<String> {
        let name = format!("{:016x}", now_nanos());
        fs::write(self.dir.join("uploads").join(&name), bytes)?;
        Ok(name)
    }
}

fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation() {
        let ok = NewLink {
            url: " https://nextjs.org/docs ".into(),
            title: " Docs ".into(),
            tags: vec!["Next".into(), "next".into(), "docs".into()],
        };
        let v = ok.validate().unwrap();
        assert_eq!(v.url, "https://nextjs.org/docs");
        assert_eq!(v.title, "Docs");
        assert_eq!(v.tags, ["next", "docs"]);
        let bad_url = NewLink { url: "javascript:alert(1)".into(), title: "x".into(), tags: vec![] };
        assert!(bad_url.validate().unwrap_err().contains("http or https"));
        let bad_tag = NewLink { url: "https://a.b".into(), title: "x".into(), tags: vec!["a b".into()] };
        assert!(bad_tag.validate().is_err());
    }

    #[test]
    fn store_round_trip() {
        let dir = std::env::temp_dir().join(format!("links-test-{}", now_nanos()));
        let store = Store::at(&dir).unwrap();
        let new = NewLink { url: "https://a.b".into(), title: "A".into(), tags: vec!["x".into()] };
        let a = store.create(new.clone()).unwrap();
        let b = store.create(NewLink { tags: vec![], ..new }).unwrap();
        assert_eq!(store.list(None).unwrap(), [a.clone(), b.clone()]);
        assert_eq!(store.list(Some("x")).unwrap(), [a.clone()]);
        let patched = store
            .update(&a.id, LinkPatch { title: Some("B".into()), tags: None })
            .unwrap()
            .unwrap();
        assert_eq!(patched.title, "B");
        assert!(store.delete(&a.id).unwrap());
        assert!(!store.delete(&a.id).unwrap());
        assert_eq!(store.get("../../etc/passwd").unwrap(), None);
        fs::remove_dir_all(dir).unwrap();
    }
}
