//! API Gateway HTTP API's route selection: the one selector nextr has. The conflict analysis
//! reasons with it, `nextr dev` routes every request with it, and the differential property
//! test (`infra/tests/gateway_vs_next.rs`) checks it against an independent simulator and
//! Next's own router.
//!
//! The rules (documented in [`super::conflicts`]): a full match beats a greedy one, which
//! beats `$default`; within a tier, the key every other matching key includes wins; where no
//! key is included in all others, API Gateway's choice is undocumented ([`Selection::Tie`]).

use super::route_keys::{KeySyntaxError, RouteKey, Shape};

/// API Gateway's choice among shapes (see [`super::conflicts`]'s module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Pick {
    Key(usize),
    Tie(Vec<usize>),
    Default,
}

pub(crate) fn select_shapes(shapes: &[&Shape], path: &[&str]) -> Pick {
    for greedy in [false, true] {
        let cands: Vec<usize> = (0..shapes.len())
            .filter(|&i| shapes[i].greedy == greedy && shapes[i].matches(path))
            .collect();
        if cands.is_empty() {
            continue;
        }
        return match most_specific(&cands, |i| shapes[i]) {
            Ok(i) => Pick::Key(i),
            Err(ties) => Pick::Tie(ties),
        };
    }
    Pick::Default
}

/// The candidate contained in all others, or the minimal candidates when there is none.
pub(crate) fn most_specific<'s>(
    cands: &[usize],
    shape: impl Fn(usize) -> &'s Shape,
) -> Result<usize, Vec<usize>> {
    if let Some(&c) = cands
        .iter()
        .find(|&&c| cands.iter().all(|&d| shape(d).includes(shape(c))))
    {
        return Ok(c);
    }
    Err(cands
        .iter()
        .copied()
        .filter(|&c| !cands.iter().any(|&d| d != c && shape(c).includes(shape(d))))
        .collect())
}

/// The routes of one deployed HTTP API: every route key, with the index of the route (in
/// Next's order) that owns it.
#[derive(Debug, Clone, Default)]
pub struct Router {
    keys: Vec<(Shape, usize, RouteKey)>,
}

/// What the deployed HTTP API does with one decoded request path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection<'a> {
    /// The route with this index serves it, through this key.
    Route {
        /// The owning route's index.
        owner: usize,
        /// The selected key.
        key: &'a RouteKey,
    },
    /// No key is the most specific (possible only for conflicts the app accepted): AWS
    /// documents no choice. Owners in Next's order.
    Tie(Vec<(usize, &'a RouteKey)>),
    /// No key matches: the `$default` route.
    Default,
}

impl<'a> Selection<'a> {
    /// The route `nextr dev` serves: on a tie, the first in Next's order (what the app asked
    /// for when it accepted the conflict; the deployed API may pick another).
    pub fn served(self) -> Option<(usize, &'a RouteKey)> {
        match self {
            Selection::Route { owner, key } => Some((owner, key)),
            Selection::Tie(ties) => ties.into_iter().min_by_key(|(o, _)| *o),
            Selection::Default => None,
        }
    }
}

/// A route key that is not one API Gateway accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("route #{owner}: {source}")]
pub struct RouterError {
    /// The index of the route whose key is bad.
    pub owner: usize,
    /// Why.
    #[source]
    pub source: KeySyntaxError,
}

impl Router {
    /// The router of routes given in Next's order, each with its key strings (the manifest's
    /// `route_keys`).
    pub fn new<'k, R, K>(routes: R) -> Result<Self, RouterError>
    where
        R: IntoIterator<Item = K>,
        K: IntoIterator<Item = &'k str>,
    {
        let mut keys = Vec::new();
        for (owner, route) in routes.into_iter().enumerate() {
            for text in route {
                let key = RouteKey::parse(text).map_err(|source| RouterError { owner, source })?;
                keys.push((key.shape(), owner, key));
            }
        }
        Ok(Router { keys })
    }

    /// The router of parsed keys, each with its owner's index.
    pub fn from_keys(keys: impl IntoIterator<Item = (usize, RouteKey)>) -> Self {
        Router {
            keys: keys
                .into_iter()
                .map(|(owner, key)| (key.shape(), owner, key))
                .collect(),
        }
    }

    /// API Gateway's selection for a decoded request path (no query). A path with an empty
    /// segment (`//`, a trailing `/`) matches no key.
    pub fn select(&self, path: &str) -> Selection<'_> {
        let body = path.strip_prefix('/').unwrap_or(path);
        let segments: Vec<&str> = if body.is_empty() {
            Vec::new()
        } else {
            body.split('/').collect()
        };
        if segments.iter().any(|s| s.is_empty()) {
            return Selection::Default;
        }
        let shapes: Vec<&Shape> = self.keys.iter().map(|k| &k.0).collect();
        match select_shapes(&shapes, &segments) {
            Pick::Key(i) => Selection::Route {
                owner: self.keys[i].1,
                key: &self.keys[i].2,
            },
            Pick::Tie(ties) => {
                let mut ties: Vec<(usize, &RouteKey)> = ties
                    .into_iter()
                    .map(|i| (self.keys[i].1, &self.keys[i].2))
                    .collect();
                ties.sort_by_key(|(o, _)| *o);
                Selection::Tie(ties)
            }
            Pick::Default => Selection::Default,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(routes: &[&[&str]]) -> Router {
        Router::new(routes.iter().map(|r| r.iter().copied())).unwrap()
    }

    fn owner(r: &Router, path: &str) -> Option<usize> {
        r.select(path).served().map(|(o, _)| o)
    }

    #[test]
    fn follows_aws_worked_example() {
        let r = router(&[
            &["ANY /pets/dog/1"],
            &["ANY /pets/dog/{id}"],
            &["ANY /pets/{proxy+}"],
            &["ANY /{proxy+}"],
        ]);
        assert_eq!(owner(&r, "/pets/dog/1"), Some(0));
        assert_eq!(owner(&r, "/pets/dog/2"), Some(1));
        assert_eq!(owner(&r, "/pets/cat/1"), Some(2));
        assert_eq!(owner(&r, "/test/5"), Some(3));
        assert_eq!(r.select("/"), Selection::Default);
    }

    #[test]
    fn empty_segments_go_to_default() {
        let r = router(&[&["ANY /{proxy+}"], &["ANY /"]]);
        assert_eq!(r.select("/a//b"), Selection::Default);
        assert_eq!(r.select("/a/"), Selection::Default);
        assert_eq!(owner(&r, "/"), Some(1));
    }

    #[test]
    fn a_tie_is_reported_and_dev_serves_nexts_first() {
        let r = router(&[&["ANY /x/{b}"], &["ANY /{a}/x"]]);
        assert!(matches!(r.select("/x/x"), Selection::Tie(ref t) if t.len() == 2));
        assert_eq!(owner(&r, "/x/x"), Some(0));
        assert_eq!(owner(&r, "/y/x"), Some(1));
    }

    #[test]
    fn bad_keys_name_their_route() {
        let e = Router::new([vec!["ANY /a"], vec!["GET /b"]]).unwrap_err();
        assert_eq!(e.owner, 1);
    }
}
