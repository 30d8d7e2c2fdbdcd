//! Which of Next's two routers a route file belongs to.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The router a route file belongs to: the Pages Router (`api/**.rs`, Next's `pages/api`) or
/// the App Router (`app/**/route.rs`). Each keeps its own request and response behaviour.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Router {
    /// `api/**.rs`: `handler(req, res)` with Next's API-route helpers.
    #[default]
    Pages,
    /// `app/**/route.rs`: one function per HTTP method returning a response.
    App,
}

impl Router {
    /// `"pages"` or `"app"`, as in the manifest and `nextr routes --match`.
    pub fn as_str(self) -> &'static str {
        match self {
            Router::Pages => "pages",
            Router::App => "app",
        }
    }
}

impl fmt::Display for Router {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
