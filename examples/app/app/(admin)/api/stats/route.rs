//! `GET /api/stats`: the number of links and of links per tag. The folder `(admin)` is a
//! route group: it organises files and never appears in the URL.
use std::collections::BTreeMap;

use links::Store;
use nextr::app::prelude::*;

/// `GET /api/stats`.
pub async fn get() -> nextr::Result<Response> {
    let links = Store::open()?.list(None)?;
    let mut tags: BTreeMap<&str, usize> = BTreeMap::new();
    for tag in links.iter().flat_map(|l| l.tags.iter()) {
        *tags.entry(tag).or_default() += 1;
    }
    Ok(Response::json(&json!({ "links": links.len(), "tags": tags })))
}
