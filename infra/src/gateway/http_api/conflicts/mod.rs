//! Next's route precedence versus API Gateway's route selection, and the route keys that make
//! the deployed HTTP API pick the function Next would pick, for every request path.
//!
//! # API Gateway's selection: what is documented, what nextr relies on
//!
//! "Routing API requests" in
//! <https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html>:
//! "API Gateway selects the route with the most-specific match, using the following
//! priorities: 1. Full match for a route and method. 2. Match for a route and method with a
//! greedy path variable (`{proxy+}`). 3. The `$default` route." Its worked example, with the
//! routes `GET /pets/dog/1`, `GET /pets/dog/{id}`, `GET /pets/{proxy+}`, `ANY /{proxy+}` and
//! `$default`: `GET /pets/dog/1` → `GET /pets/dog/1` ("fully matches this static route", over
//! `GET /pets/dog/{id}` which fully matches too); `GET /pets/dog/2` → `GET /pets/dog/{id}`;
//! `GET /pets/cat/1` → `GET /pets/{proxy+}` (over `ANY /{proxy+}`); `POST /test/5` →
//! `ANY /{proxy+}`.
//!
//! nextr's model of that, used by the analysis and by the [`Router`] `nextr dev` routes with:
//!
//! 1. Tiers, documented: a full match (a key without `{x+}` of the path's length) beats a
//!    greedy match, which beats `$default`.
//! 2. Within a tier, the winner is the key whose set of matched paths is contained in the set
//!    of every other matching key: "most-specific" read as set inclusion, the one reading any
//!    notion of specificity must respect. For full keys this is "a literal where the other has
//!    a `{var}`, the same elsewhere" — the documented `/pets/dog/1` over `/pets/dog/{id}`. For
//!    greedy keys it is "a prefix at least as long and at least as literal", which the example
//!    shows as `/pets/{proxy+}` over `/{proxy+}`; that pair also differs in method (`GET` vs
//!    `ANY`), so the longer-prefix rule is the one inference here that the documentation does
//!    not isolate (independent simulators report it as observed behaviour). nextr writes only
//!    `ANY` keys, so method precedence never matters.
//! 3. When no matching key is contained in all the others (crossing parameters such as
//!    `/api/{a}/x` and `/api/x/{b}`, or greedy keys like `/api/{a}/x/{r+}` and
//!    `/api/x/{s+}`), API Gateway's choice is **undocumented**. The analysis never leaves such
//!    a tie reachable by a path: it adds the key of their intersection (which is contained in
//!    both) for the route Next picks there, or reports an error.
//!
//! # Next's side
//!
//! For a normalised path, Next serves the first route in `getSortedRoutes` order whose pattern
//! matches ([`RouteTable`] is the ground truth; its order is used as is). Two exceptions are
//! handled apart: a request spelling a dynamic route's own pattern (`/api/post/[pid]`) is
//! looked up before matching (reported as a known deviation, see [`Warning::LiteralPattern`]);
//! and requests that are not normalised (trailing slash, `//`, `\`) are answered by whichever
//! function receives them with Next's 308, identically, so they need no key.
//!
//! # The analysis
//!
//! Each route owns its pattern's keys (an optional catch-all owns two: its parent path as a
//! full key, and a greedy key). Every pair of overlapping keys is examined through the closure
//! of the keys under intersection ("meet"): for full keys of length L, the route's own full
//! keys plus every greedy key truncated to length L (its prefix followed by `{var}`s); for
//! greedy keys, the greedy keys themselves. For an element `m` of such a closure, the paths
//! matched by `m` and by no strictly smaller element form its *region*. On a region, the set of
//! original keys matching a path is constant (exactly those containing `m`), so Next's winner
//! is constant too: the first route, in Next's order, among the routes owning them. Elements
//! are visited from the most general to the most specific, so when `m` is visited every key
//! that can match a path of its region is final; then:
//!
//! * if the keys containing `m` have a unique most-specific one and it belongs to Next's
//!   winner, API Gateway already agrees;
//! * otherwise a key of shape `m` is added for Next's winner. It matches exactly the paths
//!   both contested keys match, it is contained in every key matching the region, so by rule 2
//!   API Gateway picks it there and nowhere else it is not already contained in a key of the
//!   same route's choice. The winner's function serves it correctly because `m` lies inside
//!   one of the winner's own keys (its pattern matches every such path) and the runtime
//!   re-matches params from the raw path.
//!
//! Under [`KeyPolicy::StaticOnly`] only keys without variables may be added (the design's
//! "finite set of static paths" rule: a region is finite exactly when `m` has no variable);
//! anything else is an error naming both files, an example path and the reason, unless the
//! app accepts that pair's risk ([`AcceptedConflict`]), which turns it into a warning and
//! leaves the keys as they are. Under [`KeyPolicy::Parametrised`] (the default) a key with
//! variables may be added too, so every overlap is resolved: the design's example,
//! `api/users/[...path].rs` versus `api/[resource]/[id].rs` at `/api/users/42`, gets
//! `ANY /api/users/{path}` for the catch-all, which API Gateway prefers to
//! `ANY /api/{resource}/{id}` by the documented literal-over-variable rule.
//!
//! A greedy region needs a key only if some of its paths reach the greedy tier, i.e. are not
//! matched by any full key; that is checked path length by path length.
//!
//! The disagreement classes this covers, each with a unit test below: a literal against a
//! `{var}` at the same position (agreement, no key), crossing parameters (intersection key),
//! a full key against a greedy one where Next prefers the catch-all (a more specific full key
//! for the catch-all), greedy against greedy (agreement when one prefix contains the other,
//! an intersection key when they cross), an optional catch-all's parent key against index and
//! static routes (agreement: Next's tree forbids the clashing cases), finite overlaps resolved
//! by static keys, and accepted risks.

use std::fmt;

use nextr::routing::RouteTable;
use serde::{Deserialize, Serialize};

use super::route_keys::{KeyError, RouteKey};
use super::select::Router;
use engine::Engine;

mod engine;
#[cfg(test)]
mod tests;

/// Largest closure the analysis computes before giving up (a pathological tree of crossing
/// parameters; real apps stay in the tens).
pub const MAX_CLOSURE: usize = 20_000;

/// A pair of routes (page patterns) whose Next-versus-API-Gateway disagreement the app
/// accepts; read from `nextr.toml`. The order of `a` and `b` does not matter.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcceptedConflict {
    /// One page pattern, e.g. `/api/users/[...path]`.
    pub a: String,
    /// The other page pattern, e.g. `/api/[resource]/[id]`.
    pub b: String,
}

impl AcceptedConflict {
    /// True when this acceptance names the two pages, in either order.
    pub fn covers(&self, x: &str, y: &str) -> bool {
        (self.a == x && self.b == y) || (self.a == y && self.b == x)
    }
}

/// Which keys the analysis may add for Next's winner.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum KeyPolicy {
    /// Keys with `{variables}` too, whenever API Gateway's documented rules then pick them.
    #[default]
    Parametrised,
    /// Only static keys (finite overlaps); any other disagreement is an error or an accepted risk.
    StaticOnly,
}

/// A route named by its page pattern and file.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RouteRef {
    /// Page pattern, e.g. `/api/post/[pid]`.
    pub page: String,
    /// Route file, e.g. `api/post/[pid].rs`.
    pub file: String,
}

impl fmt::Display for RouteRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)
    }
}

/// A key added to a route so that API Gateway picks it where Next does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddedKey {
    /// The key.
    pub key: RouteKey,
    /// The routes API Gateway would otherwise pick (or hesitate between) on these paths.
    pub instead_of: Vec<RouteRef>,
    /// A path the key decides.
    pub example: String,
}

/// Every key one route owns on the deployed API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteKeys {
    /// The route.
    pub route: RouteRef,
    /// The keys of its own pattern (none for a route Next can never serve).
    pub own: Vec<RouteKey>,
    /// Keys added by the conflict analysis.
    pub added: Vec<AddedKey>,
}

impl RouteKeys {
    /// Own keys, then added keys.
    pub fn keys(&self) -> impl Iterator<Item = &RouteKey> {
        self.own.iter().chain(self.added.iter().map(|a| &a.key))
    }

    /// The keys as strings, as written to the manifest.
    pub fn key_strings(&self) -> Vec<String> {
        self.keys().map(ToString::to_string).collect()
    }
}

/// What API Gateway does with a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatewayPick {
    /// It selects this route through this key.
    Route {
        /// The route.
        route: RouteRef,
        /// The key.
        key: RouteKey,
    },
    /// Several matching keys, none documented to win.
    Undocumented {
        /// The tied keys and their routes.
        candidates: Vec<(RouteRef, RouteKey)>,
    },
    /// No key matches: the `$default` route (nextr's built-in 404).
    Default,
}

/// Why API Gateway's pick differs from Next's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// Next's route matches through its catch-all; API Gateway prefers any full match.
    FullBeatsGreedy,
    /// API Gateway documents no order between the matching keys.
    NoDocumentedOrder,
    /// Next's route has no key: a static segment with a character API Gateway refuses.
    NoKey {
        /// The segment.
        segment: String,
        /// The character.
        character: char,
    },
    /// The request spells a dynamic route's pattern, which Next looks up before matching.
    LiteralPattern,
    /// API Gateway picks a more specific key of another route.
    MoreSpecific,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::FullBeatsGreedy => {
                f.write_str("API Gateway prefers any full match to a greedy {…+} match")
            }
            Reason::NoDocumentedOrder => f.write_str(
                "API Gateway documents no order between these keys: neither is more specific",
            ),
            Reason::NoKey { segment, character } => write!(
                f,
                "Next's route has no API Gateway key (`{character}` in `{segment}`)"
            ),
            Reason::LiteralPattern => f.write_str("the path spells the route's own pattern"),
            Reason::MoreSpecific => f.write_str("API Gateway picks the more specific key"),
        }
    }
}

/// How a disagreement affects deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// `nextr deploy` refuses the app until it is resolved or accepted.
    Blocking,
    /// The app accepts this risk in `nextr.toml`.
    AcceptedRisk,
    /// A documented deviation nextr does not fix (requests spelling a pattern).
    KnownDeviation,
}

/// A path where the deployed API Gateway would not pick the route Next picks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disagreement {
    /// The route Next serves.
    pub next: RouteRef,
    /// Why Next picks it over the gateway's choice.
    pub next_rule: String,
    /// What API Gateway does.
    pub gateway: GatewayPick,
    /// A path where this happens.
    pub example: String,
    /// Why the gateway differs.
    pub reason: Reason,
    /// What it means for deployment.
    pub status: Status,
}

impl Disagreement {
    /// The routes of the gateway's side (one, several for a tie, none for `$default`).
    pub fn gateway_routes(&self) -> Vec<&RouteRef> {
        match &self.gateway {
            GatewayPick::Route { route, .. } => vec![route],
            GatewayPick::Undocumented { candidates } => {
                let mut out: Vec<&RouteRef> = Vec::new();
                for (r, _) in candidates {
                    if !out.contains(&r) {
                        out.push(r);
                    }
                }
                out
            }
            GatewayPick::Default => Vec::new(),
        }
    }
}

impl fmt::Display for Disagreement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: Next serves {} ({}), ",
            self.example, self.next.file, self.next_rule
        )?;
        match &self.gateway {
            GatewayPick::Route { route, key } => {
                write!(f, "API Gateway would pick {} ({key})", route.file)?
            }
            GatewayPick::Undocumented { candidates } => {
                f.write_str("API Gateway would choose between ")?;
                for (i, (route, key)) in candidates.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" and ")?;
                    }
                    write!(f, "{} ({key})", route.file)?;
                }
            }
            GatewayPick::Default => f.write_str("API Gateway would answer with $default (404)")?,
        }
        write!(f, ": {}", self.reason)
    }
}

/// Something the app should know but that does not block deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// A disagreement the app accepts in `nextr.toml`.
    AcceptedRisk(Disagreement),
    /// A route Next can never serve; it gets no key.
    Unreachable {
        /// The route.
        route: RouteRef,
        /// The segment no normalised request path can contain.
        segment: String,
    },
    /// A request spelling a dynamic pattern reaches another function than in Next.
    LiteralPattern(Disagreement),
    /// An acceptance in `nextr.toml` that matches no disagreement (or names an unknown page).
    UnusedAcceptance(AcceptedConflict),
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::AcceptedRisk(d) => write!(f, "accepted risk: {d}"),
            Warning::Unreachable { route, segment } => write!(
                f,
                "{}: Next can never serve `{}` (requests always encode `{segment}`), so it gets no API Gateway route",
                route.file, route.page
            ),
            Warning::LiteralPattern(d) => write!(f, "known deviation: {d}"),
            Warning::UnusedAcceptance(a) => write!(
                f,
                "nextr.toml accepts a conflict between `{}` and `{}`, but there is none",
                a.a, a.b
            ),
        }
    }
}

/// Why the app's routes cannot be deployed behind one HTTP API as they are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConflictError {
    /// A key API Gateway cannot take.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// A disagreement nextr cannot fix under the key policy and the app does not accept.
    #[error("{0}; fix the routes, or accept the risk in nextr.toml with a = \"{page_a}\" and b = \"{page_b}\"", page_a = .0.next.page, page_b = first_gateway_page(.0))]
    Unresolved(Disagreement),
    /// The closure of crossing keys exceeds [`MAX_CLOSURE`].
    #[error("the route tree has too many crossing parameters to analyse ({size} overlapping shapes, limit {limit})")]
    TooComplex {
        /// Shapes reached.
        size: usize,
        /// The limit.
        limit: usize,
    },
}

/// The first route of the gateway's side other than Next's, for the acceptance hint.
fn first_gateway_page(d: &Disagreement) -> &str {
    d.gateway_routes()
        .into_iter()
        .find(|r| **r != d.next)
        .map(|r| r.page.as_str())
        .unwrap_or("")
}

/// Every problem found: keys API Gateway cannot take (in route order), then unresolved
/// disagreements (full matches by path length, then greedy ones).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConflictErrors(pub Vec<ConflictError>);

impl fmt::Display for ConflictErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(
            f,
            "the routes cannot be deployed behind one API Gateway HTTP API: {n} problem{}",
            if n == 1 { "" } else { "s" }
        )?;
        for e in &self.0 {
            write!(f, "\n  {e}")?;
        }
        Ok(())
    }
}

/// The deployable result: every route's keys, in Next's order, and the warnings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analysis {
    /// Every route of the table, in Next's order.
    pub routes: Vec<RouteKeys>,
    /// Non-blocking findings.
    pub warnings: Vec<Warning>,
}

impl Analysis {
    /// The total number of route keys, `$default` excluded.
    pub fn key_count(&self) -> usize {
        self.routes
            .iter()
            .map(|r| r.own.len() + r.added.len())
            .sum()
    }

    /// The keys of one page, if it is a route.
    pub fn route(&self, page: &str) -> Option<&RouteKeys> {
        self.routes.iter().find(|r| r.route.page == page)
    }

    /// The deployed API's routes, as `nextr dev` selects among them.
    pub fn router(&self) -> Router {
        Router::from_keys(
            self.routes
                .iter()
                .enumerate()
                .flat_map(|(i, r)| r.keys().map(move |k| (i, k.clone()))),
        )
    }
}

/// The keys every route owns on the deployed HTTP API, or every problem at once.
pub fn analyze(
    table: &RouteTable,
    accepted: &[AcceptedConflict],
    policy: KeyPolicy,
) -> Result<Analysis, ConflictErrors> {
    let outcome = Engine::run(table, accepted, policy);
    if outcome.errors.is_empty() {
        Ok(Analysis {
            routes: outcome.routes,
            warnings: outcome.warnings,
        })
    } else {
        Err(ConflictErrors(outcome.errors))
    }
}

/// Every path class where the deployed gateway would pick differently from Next, for
/// `nextr dev`'s start-up warnings: blocking ones (deploy would refuse), accepted risks and
/// known deviations. Same analysis as [`analyze`]; disagreements it fixes with added keys are
/// not listed, because the deployed gateway agrees with Next there.
pub fn disagreements(
    table: &RouteTable,
    accepted: &[AcceptedConflict],
    policy: KeyPolicy,
) -> Vec<Disagreement> {
    Engine::run(table, accepted, policy).disagreements
}
