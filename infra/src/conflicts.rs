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
//! nextr's model of that, used by the analysis and by [`Analysis::select`]:
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

use std::collections::{HashMap, HashSet};
use std::fmt;

use nextr::routing::{
    normalize, path_segments, Normalized, Route, RoutePattern, RouteTable, Segment,
};
use serde::{Deserialize, Serialize};

use crate::route_keys::{route_keys, unreachable_segment, KeyError, RouteKey, Shape};

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

/// What the deployed API Gateway does with one request path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatewayChoice<'a> {
    /// This route's function, through this key.
    Route {
        /// The route.
        route: &'a RouteKeys,
        /// The selected key.
        key: &'a RouteKey,
    },
    /// An undocumented tie: reachable only where the app accepted that risk.
    Undocumented(Vec<(&'a RouteKeys, &'a RouteKey)>),
    /// `$default`: nextr's built-in function (Next's 308 for non-normalised paths, else 404).
    Default,
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

    /// API Gateway's documented selection over the final keys, for a raw request path (no
    /// query). Paths with an empty segment (`//`, a trailing `/`) go to `$default`, where
    /// nextr answers them as Next does; `nextr dev` uses this to pick a function.
    pub fn select(&self, path: &str) -> GatewayChoice<'_> {
        let body = path.strip_prefix('/').unwrap_or(path);
        let segments: Vec<&str> = if body.is_empty() {
            Vec::new()
        } else {
            body.split('/').collect()
        };
        if segments.iter().any(|s| s.is_empty()) {
            return GatewayChoice::Default;
        }
        let keys: Vec<(Shape, usize, &RouteKey)> = self
            .routes
            .iter()
            .enumerate()
            .flat_map(|(i, r)| r.keys().map(move |k| (k.shape(), i, k)))
            .collect();
        let shapes: Vec<&Shape> = keys.iter().map(|k| &k.0).collect();
        match select_shapes(&shapes, &segments) {
            Pick::Key(i) => GatewayChoice::Route {
                route: &self.routes[keys[i].1],
                key: keys[i].2,
            },
            Pick::Tie(ties) => GatewayChoice::Undocumented(
                ties.into_iter()
                    .map(|i| (&self.routes[keys[i].1], keys[i].2))
                    .collect(),
            ),
            Pick::Default => GatewayChoice::Default,
        }
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

/// One key of the deployed API during the analysis.
#[derive(Debug, Clone)]
struct KeyRec {
    shape: Shape,
    owner: usize,
    key: RouteKey,
}

/// API Gateway's choice among shapes (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Pick {
    Key(usize),
    Tie(Vec<usize>),
    Default,
}

fn select_shapes(shapes: &[&Shape], path: &[&str]) -> Pick {
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
fn most_specific<'s>(
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

/// Closure of `base` under meet, or the size reached past [`MAX_CLOSURE`].
fn closure(base: &[Shape]) -> Result<Vec<Shape>, usize> {
    let mut set: HashSet<Shape> = base.iter().cloned().collect();
    let mut queue: Vec<Shape> = set.iter().cloned().collect();
    while let Some(x) = queue.pop() {
        for b in base {
            if let Some(m) = x.meet(b) {
                if !set.contains(&m) {
                    set.insert(m.clone());
                    if set.len() > MAX_CLOSURE {
                        return Err(set.len());
                    }
                    queue.push(m);
                }
            }
        }
    }
    Ok(set.into_iter().collect())
}

struct Outcome {
    routes: Vec<RouteKeys>,
    warnings: Vec<Warning>,
    errors: Vec<ConflictError>,
    disagreements: Vec<Disagreement>,
}

struct Engine<'t> {
    routes: &'t [Route],
    refs: Vec<RouteRef>,
    accepted: &'t [AcceptedConflict],
    used: Vec<bool>,
    policy: KeyPolicy,
    keys: Vec<KeyRec>,
    own_count: usize,
    added: Vec<Vec<AddedKey>>,
    warnings: Vec<Warning>,
    errors: Vec<ConflictError>,
    disagreements: Vec<Disagreement>,
    /// A segment value equal to no literal of the app, for example paths.
    fresh: String,
}

impl<'t> Engine<'t> {
    fn run(table: &'t RouteTable, accepted: &'t [AcceptedConflict], policy: KeyPolicy) -> Outcome {
        let routes = table.routes();
        let literals: HashSet<&str> = routes
            .iter()
            .flat_map(|r| r.pattern.segments())
            .filter_map(|s| match s {
                Segment::Static(s) => Some(s.as_str()),
                _ => None,
            })
            .collect();
        let fresh = (1u32..)
            .map(|n| n.to_string())
            .find(|n| !literals.contains(n.as_str()))
            .unwrap_or_default();
        let mut engine = Engine {
            routes,
            refs: routes
                .iter()
                .map(|r| RouteRef {
                    page: r.page().to_owned(),
                    file: r.file.clone(),
                })
                .collect(),
            accepted,
            used: vec![false; accepted.len()],
            policy,
            keys: Vec::new(),
            own_count: 0,
            added: vec![Vec::new(); routes.len()],
            warnings: Vec::new(),
            errors: Vec::new(),
            disagreements: Vec::new(),
            fresh,
        };
        let keyless = engine.own_keys();
        if engine
            .errors
            .iter()
            .all(|e| !matches!(e, ConflictError::Key(KeyError::Duplicate { .. })))
        {
            if let Err(size) = engine.full_tier().and_then(|()| engine.greedy_tier()) {
                engine.errors.push(ConflictError::TooComplex {
                    size,
                    limit: MAX_CLOSURE,
                });
            }
        }
        engine.keyless_routes(&keyless);
        engine.literal_patterns();
        for (i, a) in accepted.iter().enumerate() {
            if !engine.used[i] {
                engine.warnings.push(Warning::UnusedAcceptance(a.clone()));
            }
        }
        let mut own: Vec<Vec<RouteKey>> = vec![Vec::new(); routes.len()];
        for k in &engine.keys[..engine.own_count] {
            own[k.owner].push(k.key.clone());
        }
        Outcome {
            routes: engine
                .refs
                .iter()
                .cloned()
                .zip(own)
                .zip(engine.added)
                .map(|((route, own), added)| RouteKeys { route, own, added })
                .collect(),
            warnings: engine.warnings,
            errors: engine.errors,
            disagreements: engine.disagreements,
        }
    }

    /// Collects each route's own keys; returns the routes Next serves but that have no key
    /// because of a character API Gateway refuses.
    fn own_keys(&mut self) -> Vec<(usize, String, char)> {
        let mut keyless = Vec::new();
        let mut seen: HashMap<Shape, usize> = HashMap::new();
        for (i, route) in self.routes.iter().enumerate() {
            if let Some(segment) = unreachable_segment(&route.pattern) {
                self.warnings.push(Warning::Unreachable {
                    route: self.refs[i].clone(),
                    segment: segment.to_owned(),
                });
                continue;
            }
            match route_keys(&route.pattern) {
                Ok(keys) => {
                    for key in keys {
                        let shape = key.shape();
                        if let Some(&first) = seen.get(&shape) {
                            // Next's tree validation makes this impossible; kept as API
                            // Gateway's own rule so a bad table never reaches AWS.
                            self.errors.push(ConflictError::Key(KeyError::Duplicate {
                                key: key.to_string(),
                                first: self.refs[first].file.clone(),
                                second: self.refs[i].file.clone(),
                            }));
                            continue;
                        }
                        seen.insert(shape.clone(), i);
                        self.keys.push(KeyRec {
                            shape,
                            owner: i,
                            key,
                        });
                    }
                }
                Err(error) => {
                    keyless.push((i, error.segment.clone(), error.character));
                    self.errors.push(ConflictError::Key(KeyError::Unsupported {
                        file: route.file.clone(),
                        error,
                    }));
                }
            }
        }
        self.own_count = self.keys.len();
        keyless
    }

    fn full_tier(&mut self) -> Result<(), usize> {
        let own: Vec<KeyRec> = self.keys[..self.own_count].to_vec();
        let mut lengths: Vec<usize> = own
            .iter()
            .filter(|k| !k.shape.greedy)
            .map(|k| k.shape.fixed.len())
            .collect();
        lengths.sort_unstable();
        lengths.dedup();
        for len in lengths {
            // (shape, owner, is an actual full key) — truncated greedy keys are not keys.
            let mut base: Vec<(Shape, usize, bool)> = Vec::new();
            for k in &own {
                if !k.shape.greedy && k.shape.fixed.len() == len {
                    base.push((k.shape.clone(), k.owner, true));
                } else if k.shape.greedy && k.shape.fixed.len() < len {
                    let mut fixed = k.shape.fixed.clone();
                    fixed.resize(len, None);
                    base.push((Shape::full(fixed), k.owner, false));
                }
            }
            let shapes: Vec<Shape> = base.iter().map(|b| b.0.clone()).collect();
            let mut elements = closure(&shapes)?;
            elements.sort_by(|a, b| a.statics().cmp(&b.statics()).then_with(|| a.cmp(b)));
            for m in elements {
                let containing: Vec<&(Shape, usize, bool)> =
                    base.iter().filter(|b| b.0.includes(&m)).collect();
                if !containing.iter().any(|b| b.2) {
                    // Only catch-alls match here: the greedy tier decides.
                    continue;
                }
                // The routes matching a path of m's region are exactly those containing m,
                // so Next's first match there is the earliest of them in Next's order.
                let Some(winner) = containing.iter().map(|b| b.1).min() else {
                    continue;
                };
                let via_catch_all = !containing.iter().any(|b| b.2 && b.1 == winner);
                let example = self.witness(&m, len);
                self.decide(&m, winner, via_catch_all, example);
            }
        }
        Ok(())
    }

    fn greedy_tier(&mut self) -> Result<(), usize> {
        let base: Vec<(Shape, usize)> = self.keys[..self.own_count]
            .iter()
            .filter(|k| k.shape.greedy)
            .map(|k| (k.shape.clone(), k.owner))
            .collect();
        let shapes: Vec<Shape> = base.iter().map(|b| b.0.clone()).collect();
        let mut elements = closure(&shapes)?;
        elements.sort_by(|a, b| {
            (a.fixed.len(), a.statics())
                .cmp(&(b.fixed.len(), b.statics()))
                .then_with(|| a.cmp(b))
        });
        let full: Vec<Shape> = self
            .keys
            .iter()
            .filter(|k| !k.shape.greedy)
            .map(|k| k.shape.clone())
            .collect();
        let max_full = full.iter().map(|s| s.fixed.len()).max().unwrap_or(0);
        for m in &elements {
            let Some(winner) = base.iter().filter(|b| b.0.includes(m)).map(|b| b.1).min() else {
                continue;
            };
            // The region's paths are m's prefix plus 1..=ext more segments, where ext stops
            // at the shortest element that merely extends m with variables (longer paths
            // belong to it). Only lengths some full key does not cover reach the greedy tier.
            let n = m.fixed.len();
            let ext = elements
                .iter()
                .filter(|e| {
                    e.fixed.len() > n
                        && e.fixed[..n] == m.fixed[..]
                        && e.fixed[n..].iter().all(Option::is_none)
                })
                .map(|e| e.fixed.len())
                .min()
                .unwrap_or(usize::MAX);
            // Lengths past every full key are never covered, so n + 1 ..= max_full + 1 (and
            // at least n + 1) is enough to find one, if ext allows.
            let last = ext.min((max_full + 1).max(n + 1));
            let reaching = (n + 1..=last).find(|&len| {
                let mut fixed = m.fixed.clone();
                fixed.resize(len, None);
                let truncated = Shape::full(fixed);
                !full.iter().any(|f| f.includes(&truncated))
            });
            let Some(len) = reaching else {
                continue;
            };
            let example = self.witness(m, len);
            self.decide(m, winner, false, example);
        }
        Ok(())
    }

    /// A path of `len` segments in `m`'s region: m's literals, a fresh value elsewhere.
    fn witness(&self, m: &Shape, len: usize) -> String {
        let mut out = String::new();
        for i in 0..len {
            out.push('/');
            match m.fixed.get(i) {
                Some(Some(s)) => out.push_str(s),
                _ => out.push_str(&self.fresh),
            }
        }
        out
    }

    /// Makes API Gateway pick `winner` on the region of `m`, or reports why it cannot.
    fn decide(&mut self, m: &Shape, winner: usize, via_catch_all: bool, example: String) {
        // Keys are visited supersets first, so every key able to match a path of m's region
        // is already here: exactly the same-tier keys containing m.
        let cands: Vec<usize> = (0..self.keys.len())
            .filter(|&i| {
                let s = &self.keys[i].shape;
                s.greedy == m.greedy && s.includes(m)
            })
            .collect();
        let (pick, rivals) = match most_specific(&cands, |i| &self.keys[i].shape) {
            Ok(c) if self.keys[c].owner == winner => return,
            Ok(c) => (
                GatewayPick::Route {
                    route: self.refs[self.keys[c].owner].clone(),
                    key: self.keys[c].key.clone(),
                },
                vec![self.keys[c].owner],
            ),
            Err(ties) => (
                GatewayPick::Undocumented {
                    candidates: ties
                        .iter()
                        .map(|&i| {
                            (
                                self.refs[self.keys[i].owner].clone(),
                                self.keys[i].key.clone(),
                            )
                        })
                        .collect(),
                },
                ties.iter().map(|&i| self.keys[i].owner).collect(),
            ),
        };
        let mut rival_routes: Vec<usize> = Vec::new();
        for r in rivals {
            if r != winner && !rival_routes.contains(&r) {
                rival_routes.push(r);
            }
        }
        if m.is_static() || self.policy == KeyPolicy::Parametrised {
            let key = RouteKey::for_owner(m, &self.routes[winner].pattern);
            self.added[winner].push(AddedKey {
                key: key.clone(),
                instead_of: rival_routes.iter().map(|&r| self.refs[r].clone()).collect(),
                example,
            });
            self.keys.push(KeyRec {
                shape: m.clone(),
                owner: winner,
                key,
            });
            return;
        }
        let reason = match &pick {
            GatewayPick::Undocumented { .. } => Reason::NoDocumentedOrder,
            _ if via_catch_all => Reason::FullBeatsGreedy,
            _ => Reason::MoreSpecific,
        };
        let rule_against = rival_routes.first().copied().unwrap_or(winner);
        let mut disagreement = Disagreement {
            next: self.refs[winner].clone(),
            next_rule: next_rule(
                &self.routes[winner].pattern,
                &self.routes[rule_against].pattern,
            ),
            gateway: pick,
            example,
            reason,
            status: Status::Blocking,
        };
        let mut all_accepted = !rival_routes.is_empty();
        for &r in &rival_routes {
            match self.acceptance(winner, r) {
                Some(i) => self.used[i] = true,
                None => all_accepted = false,
            }
        }
        if all_accepted {
            disagreement.status = Status::AcceptedRisk;
            self.warnings
                .push(Warning::AcceptedRisk(disagreement.clone()));
        } else {
            self.errors
                .push(ConflictError::Unresolved(disagreement.clone()));
        }
        self.disagreements.push(disagreement);
    }

    fn acceptance(&self, a: usize, b: usize) -> Option<usize> {
        let (a, b) = (self.routes[a].page(), self.routes[b].page());
        self.accepted.iter().position(|x| x.covers(a, b))
    }

    /// The gateway's pick among the final keys for path segments.
    fn gateway(&self, path: &[&str]) -> GatewayPick {
        let shapes: Vec<&Shape> = self.keys.iter().map(|k| &k.shape).collect();
        match select_shapes(&shapes, path) {
            Pick::Key(i) => GatewayPick::Route {
                route: self.refs[self.keys[i].owner].clone(),
                key: self.keys[i].key.clone(),
            },
            Pick::Tie(ties) => GatewayPick::Undocumented {
                candidates: ties
                    .iter()
                    .map(|&i| {
                        (
                            self.refs[self.keys[i].owner].clone(),
                            self.keys[i].key.clone(),
                        )
                    })
                    .collect(),
            },
            Pick::Default => GatewayPick::Default,
        }
    }

    /// For `nextr dev`: where Next serves a route that has no key, the gateway differs.
    fn keyless_routes(&mut self, keyless: &[(usize, String, char)]) {
        for (i, segment, character) in keyless {
            let pattern = &self.routes[*i].pattern;
            let mut path: Vec<&str> = Vec::new();
            for s in pattern.segments() {
                match s {
                    Segment::Static(s) => path.push(s),
                    Segment::Dynamic(_) | Segment::CatchAll(_) => path.push(&self.fresh),
                    Segment::OptionalCatchAll(_) => {}
                }
            }
            // Next's winner: the first route in order whose pattern matches.
            let next = self
                .routes
                .iter()
                .position(|r| r.pattern.match_segments(&path).is_some());
            if next != Some(*i) {
                continue;
            }
            let gateway = self.gateway(&path);
            let example = format!("/{}", path.join("/"));
            let rival = match &gateway {
                GatewayPick::Route { route, .. } => self.refs.iter().position(|r| r == route),
                _ => None,
            };
            self.disagreements.push(Disagreement {
                next: self.refs[*i].clone(),
                next_rule: match rival {
                    Some(r) => next_rule(pattern, &self.routes[r].pattern),
                    None => "the only route matching".to_owned(),
                },
                gateway,
                example,
                reason: Reason::NoKey {
                    segment: segment.clone(),
                    character: *character,
                },
                status: Status::Blocking,
            });
        }
    }

    /// Requests that spell a dynamic pattern (`/api/post/[pid]`) are looked up by Next before
    /// matching; where the gateway sends them elsewhere, that is a known deviation.
    fn literal_patterns(&mut self) {
        for (i, route) in self.routes.iter().enumerate() {
            let page = route.page();
            if !route.pattern.is_dynamic() || self.keys.iter().all(|k| k.owner != i) {
                continue;
            }
            if !matches!(normalize(page), Ok(Normalized::Path { pathname, .. }) if pathname == page)
            {
                continue;
            }
            let path = path_segments(page);
            // When the pattern string also matches this route first in Next's order, the
            // path is an ordinary one, already decided by the region analysis.
            let by_order = self
                .routes
                .iter()
                .position(|r| r.pattern.match_segments(&path).is_some());
            if by_order == Some(i) {
                continue;
            }
            let gateway = self.gateway(&path);
            let agrees =
                matches!(&gateway, GatewayPick::Route { route, .. } if *route == self.refs[i]);
            if agrees {
                continue;
            }
            let d = Disagreement {
                next: self.refs[i].clone(),
                next_rule: "an exact pattern string is looked up before matching".to_owned(),
                gateway,
                example: page.to_owned(),
                reason: Reason::LiteralPattern,
                status: Status::KnownDeviation,
            };
            self.warnings.push(Warning::LiteralPattern(d.clone()));
            self.disagreements.push(d);
        }
    }
}

/// Why Next ranks `winner` before `other`: the first segment where their kinds differ.
fn next_rule(winner: &RoutePattern, other: &RoutePattern) -> String {
    fn rank(s: &Segment) -> u8 {
        match s {
            Segment::Static(_) => 0,
            Segment::Dynamic(_) => 1,
            Segment::CatchAll(_) => 2,
            Segment::OptionalCatchAll(_) => 3,
        }
    }
    let (a, b) = (winner.segments(), other.segments());
    for i in 0..a.len().max(b.len()) {
        match (a.get(i), b.get(i)) {
            (Some(x), Some(y)) if rank(x) != rank(y) || x != y => {
                return format!(
                    "`{}` ranks before `{}` at segment {}",
                    x.as_written(),
                    y.as_written(),
                    i + 1
                );
            }
            (Some(_), Some(_)) => {}
            _ => break,
        }
    }
    "it comes first in Next's route order".to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(files: &[&str]) -> RouteTable {
        RouteTable::from_files(files).unwrap()
    }

    fn keys_of(a: &Analysis, page: &str) -> Vec<String> {
        a.route(page).unwrap().key_strings()
    }

    fn added_of(a: &Analysis, page: &str) -> Vec<String> {
        a.route(page)
            .unwrap()
            .added
            .iter()
            .map(|k| k.key.to_string())
            .collect()
    }

    fn picks(a: &Analysis, path: &str) -> Option<String> {
        match a.select(path) {
            GatewayChoice::Route { route, .. } => Some(route.route.file.clone()),
            GatewayChoice::Default => None,
            GatewayChoice::Undocumented(t) => panic!("undocumented tie at {path}: {t:?}"),
        }
    }

    fn next_picks(t: &RouteTable, path: &str) -> Option<String> {
        match t.resolve(path) {
            nextr::routing::Resolution::Route(m) => Some(m.route.file.clone()),
            _ => None,
        }
    }

    /// Both policies: the gateway picks Next's route on every listed path.
    fn assert_agrees(t: &RouteTable, a: &Analysis, paths: &[&str]) {
        for p in paths {
            assert_eq!(picks(a, p), next_picks(t, p), "{p}");
        }
    }

    #[test]
    fn static_beats_param_at_the_same_position_needs_no_key() {
        // API Gateway's own example: `/pets/dog/1` over `/pets/dog/{id}`.
        let t = table(&["api/pets/dog/1.rs", "api/pets/dog/[id].rs"]);
        for policy in [KeyPolicy::Parametrised, KeyPolicy::StaticOnly] {
            let a = analyze(&t, &[], policy).unwrap();
            assert_eq!(a.key_count(), 2);
            assert!(a.routes.iter().all(|r| r.added.is_empty()));
            assert_agrees(&t, &a, &["/api/pets/dog/1", "/api/pets/dog/2"]);
        }
        assert!(disagreements(&t, &[], KeyPolicy::StaticOnly).is_empty());
    }

    #[test]
    fn crossing_params_with_a_finite_overlap_get_a_static_key() {
        let t = table(&["api/[a]/x.rs", "api/x/[b].rs"]);
        // Next: at segment 2 the static `x` ranks before `[a]`, so `x/[b]` serves /api/x/x.
        assert_eq!(next_picks(&t, "/api/x/x").as_deref(), Some("api/x/[b].rs"));
        for policy in [KeyPolicy::Parametrised, KeyPolicy::StaticOnly] {
            let a = analyze(&t, &[], policy).unwrap();
            assert_eq!(added_of(&a, "/api/x/[b]"), ["ANY /api/x/x"]);
            let added = &a.route("/api/x/[b]").unwrap().added[0];
            assert_eq!(added.example, "/api/x/x");
            assert_eq!(added.instead_of[0].file, "api/[a]/x.rs");
            assert!(added_of(&a, "/api/[a]/x").is_empty());
            assert_agrees(&t, &a, &["/api/x/x", "/api/y/x", "/api/x/y", "/api/y/y"]);
        }
    }

    #[test]
    fn crossing_params_with_an_infinite_overlap() {
        let t = table(&["api/[a]/x/[c].rs", "api/x/[b]/[d].rs"]);
        // Overlap /api/x/x/* is infinite: a parametrised key, or an error naming both files.
        let a = analyze(&t, &[], KeyPolicy::Parametrised).unwrap();
        assert_eq!(added_of(&a, "/api/x/[b]/[d]"), ["ANY /api/x/x/{d}"]);
        assert_agrees(&t, &a, &["/api/x/x/1", "/api/y/x/1", "/api/x/y/1"]);

        let errors = analyze(&t, &[], KeyPolicy::StaticOnly).unwrap_err();
        assert_eq!(errors.0.len(), 1);
        let ConflictError::Unresolved(d) = &errors.0[0] else {
            panic!("{errors}")
        };
        assert_eq!(d.next.file, "api/x/[b]/[d].rs");
        assert_eq!(d.example, "/api/x/x/1");
        assert_eq!(d.reason, Reason::NoDocumentedOrder);
        assert_eq!(d.next_rule, "`x` ranks before `[a]` at segment 2");
        let files: Vec<&str> = d.gateway_routes().iter().map(|r| r.file.as_str()).collect();
        assert!(files.contains(&"api/[a]/x/[c].rs"), "{files:?}");
        let text = errors.to_string();
        assert!(text.contains("api/x/[b]/[d].rs") && text.contains("api/[a]/x/[c].rs"));
        assert!(text.contains("/api/x/x/1"), "{text}");
    }

    #[test]
    fn full_versus_greedy_where_next_prefers_the_catch_all() {
        // DESIGN.md's example.
        let t = table(&["api/users/[...path].rs", "api/[resource]/[id].rs"]);
        assert_eq!(
            next_picks(&t, "/api/users/42").as_deref(),
            Some("api/users/[...path].rs")
        );
        let a = analyze(&t, &[], KeyPolicy::Parametrised).unwrap();
        assert_eq!(
            keys_of(&a, "/api/users/[...path]"),
            ["ANY /api/users/{path+}", "ANY /api/users/{path}"]
        );
        assert_eq!(
            keys_of(&a, "/api/[resource]/[id]"),
            ["ANY /api/{resource}/{id}"]
        );
        assert_agrees(
            &t,
            &a,
            &[
                "/api/users/42",
                "/api/users/42/x",
                "/api/posts/42",
                "/api/users",
            ],
        );

        let errors = analyze(&t, &[], KeyPolicy::StaticOnly).unwrap_err();
        let [ConflictError::Unresolved(d)] = &errors.0[..] else {
            panic!("{errors}")
        };
        assert_eq!(d.reason, Reason::FullBeatsGreedy);
        assert_eq!(d.example, "/api/users/1");
        assert_eq!(
            d.next_rule,
            "`users` ranks before `[resource]` at segment 2"
        );
        assert!(matches!(&d.gateway, GatewayPick::Route { route, key }
            if route.file == "api/[resource]/[id].rs" && key.to_string() == "ANY /api/{resource}/{id}"));
        assert_eq!(
            errors.0[0].to_string(),
            "/api/users/1: Next serves api/users/[...path].rs (`users` ranks before `[resource]` at segment 2), \
             API Gateway would pick api/[resource]/[id].rs (ANY /api/{resource}/{id}): API Gateway prefers any \
             full match to a greedy {…+} match; fix the routes, or accept the risk in nextr.toml with \
             a = \"/api/users/[...path]\" and b = \"/api/[resource]/[id]\""
        );
    }

    #[test]
    fn full_versus_greedy_where_next_prefers_the_full_route_agrees() {
        let t = table(&["api/[...all].rs", "api/users/[id].rs", "api/users.rs"]);
        let a = analyze(&t, &[], KeyPolicy::StaticOnly).unwrap();
        assert_eq!(a.key_count(), 3);
        assert_agrees(
            &t,
            &a,
            &["/api/users", "/api/users/1", "/api/users/1/2", "/api/x"],
        );
    }

    #[test]
    fn a_catch_all_winning_a_single_path_gets_a_static_key_under_both_policies() {
        // /api/a/x: Next's static `a` ranks before `[b]`, so the catch-all serves it; the
        // gateway would prefer the full match `/api/{b}/x`. The overlap is one path.
        let t = table(&["api/a/[...p].rs", "api/[b]/x.rs"]);
        assert_eq!(
            next_picks(&t, "/api/a/x").as_deref(),
            Some("api/a/[...p].rs")
        );
        for policy in [KeyPolicy::Parametrised, KeyPolicy::StaticOnly] {
            let a = analyze(&t, &[], policy).unwrap();
            assert_eq!(added_of(&a, "/api/a/[...p]"), ["ANY /api/a/x"]);
            assert_agrees(&t, &a, &["/api/a/x", "/api/a/y", "/api/b/x", "/api/a/x/y"]);
        }
    }

    #[test]
    fn accepted_conflicts_read_from_config() {
        let a: AcceptedConflict =
            serde_json::from_str(r#"{"a": "/api/users/[...path]", "b": "/api/[resource]/[id]"}"#)
                .unwrap();
        assert!(a.covers("/api/[resource]/[id]", "/api/users/[...path]"));
        assert!(a.covers("/api/users/[...path]", "/api/[resource]/[id]"));
        assert!(!a.covers("/api/users/[...path]", "/api/users/[...path]"));
        assert!(
            serde_json::from_str::<AcceptedConflict>(r#"{"a": "/x", "b": "/y", "c": 1}"#).is_err()
        );
    }

    #[test]
    fn a_catch_all_winning_over_several_lengths_gets_one_key_per_length() {
        let t = table(&[
            "api/users/[...path].rs",
            "api/[a]/[b].rs",
            "api/[a]/[b]/[c].rs",
        ]);
        let a = analyze(&t, &[], KeyPolicy::Parametrised).unwrap();
        assert_eq!(
            added_of(&a, "/api/users/[...path]"),
            ["ANY /api/users/{path}", "ANY /api/users/{path}/{path_2}"]
        );
        assert_agrees(
            &t,
            &a,
            &[
                "/api/users/1",
                "/api/users/1/2",
                "/api/users/1/2/3",
                "/api/x/1/2",
            ],
        );
    }

    #[test]
    fn greedy_versus_greedy() {
        // One prefix contains the other: both sides agree (`/pets/{proxy+}` over `/{proxy+}`).
        let t = table(&["api/[...all].rs", "api/pets/[...rest].rs"]);
        let a = analyze(&t, &[], KeyPolicy::StaticOnly).unwrap();
        assert_eq!(a.key_count(), 2);
        assert_agrees(&t, &a, &["/api/pets/1", "/api/pets", "/api/cats/1"]);

        // Crossing prefixes: Next ranks `x` before `[a]`; the gateway's order is undocumented.
        let t = table(&["api/[a]/x/[...r].rs", "api/x/[...s].rs"]);
        let a = analyze(&t, &[], KeyPolicy::Parametrised).unwrap();
        assert_eq!(added_of(&a, "/api/x/[...s]"), ["ANY /api/x/x/{s+}"]);
        assert_agrees(
            &t,
            &a,
            &["/api/x/x/1", "/api/x/x/1/2", "/api/y/x/1", "/api/x/y"],
        );
        let errors = analyze(&t, &[], KeyPolicy::StaticOnly).unwrap_err();
        let [ConflictError::Unresolved(d)] = &errors.0[..] else {
            panic!("{errors}")
        };
        assert_eq!(d.reason, Reason::NoDocumentedOrder);
        assert_eq!(d.next.file, "api/x/[...s].rs");
        assert!(d.example.starts_with("/api/x/x/"), "{}", d.example);
    }

    #[test]
    fn greedy_crossing_whose_region_is_all_taken_by_full_keys_needs_nothing() {
        // `[a]/x/[...r]` and `x/[...s]` cross on /api/x/x/…; from five segments on,
        // `x/x/[c]/[...t]` (more specific than both) takes over, so the crossing region is the
        // four-segment paths only, and the full route `[a]/[b]/[c]` covers those.
        let t = table(&[
            "api/[a]/x/[...r].rs",
            "api/x/[...s].rs",
            "api/x/x/[c]/[...t].rs",
            "api/[a]/[b]/[c].rs",
        ]);
        let a = analyze(&t, &[], KeyPolicy::Parametrised).unwrap();
        let added: Vec<String> = a
            .routes
            .iter()
            .flat_map(|r| r.added.iter().map(|k| k.key.to_string()))
            .collect();
        assert!(added.iter().all(|k| !k.ends_with("+}")), "{added:?}");
        assert_eq!(
            added_of(&a, "/api/x/[...s]"),
            ["ANY /api/x/{s}/{s_2}", "ANY /api/x/x/{s}"]
        );
        assert_agrees(
            &t,
            &a,
            &[
                "/api/x/x/1",
                "/api/x/x/1/2",
                "/api/x/x/1/2/3",
                "/api/y/x/1",
                "/api/y/x/1/2",
            ],
        );
    }

    #[test]
    fn optional_catch_all_parent_key_against_index_and_static_routes() {
        let t = table(&[
            "api/docs/[[...slug]].rs",
            "api/[section]/index.rs",
            "api/about.rs",
            "api/index.rs",
        ]);
        let a = analyze(&t, &[], KeyPolicy::StaticOnly).unwrap();
        assert_eq!(
            keys_of(&a, "/api/docs/[[...slug]]"),
            ["ANY /api/docs", "ANY /api/docs/{slug+}"]
        );
        assert!(a.routes.iter().all(|r| r.added.is_empty()));
        assert_agrees(
            &t,
            &a,
            &[
                "/api",
                "/api/docs",
                "/api/docs/a/b",
                "/api/about",
                "/api/other",
                "/api/about/x",
            ],
        );

        // The optional catch-all at a dynamic folder: its parent key `/api/{x}` against a
        // static sibling, and its greedy key against a catch-all elsewhere.
        let t = table(&[
            "api/[x]/[[...rest]].rs",
            "api/static.rs",
            "api/static/[...s].rs",
        ]);
        let a = analyze(&t, &[], KeyPolicy::StaticOnly).unwrap();
        assert_agrees(
            &t,
            &a,
            &[
                "/api/static",
                "/api/static/1",
                "/api/other",
                "/api/other/1/2",
            ],
        );
    }

    #[test]
    fn optional_catch_all_greedy_key_loses_to_next_static_route_below_it() {
        // `/api/[[...slug]]` answers /api/a/b in Next only when no earlier route does.
        let t = table(&["api/[[...slug]].rs", "api/a/[b].rs"]);
        let a = analyze(&t, &[], KeyPolicy::StaticOnly).unwrap();
        assert_agrees(
            &t,
            &a,
            &["/api", "/api/a", "/api/a/b", "/api/a/b/c", "/api/z/b"],
        );
    }

    #[test]
    fn accepted_risks_become_warnings_and_leave_the_keys_alone() {
        let t = table(&["api/users/[...path].rs", "api/[resource]/[id].rs"]);
        let accepted = [AcceptedConflict {
            a: "/api/[resource]/[id]".into(),
            b: "/api/users/[...path]".into(),
        }];
        let a = analyze(&t, &accepted, KeyPolicy::StaticOnly).unwrap();
        assert_eq!(a.key_count(), 2);
        let [Warning::AcceptedRisk(d)] = &a.warnings[..] else {
            panic!("{:?}", a.warnings)
        };
        assert_eq!(d.status, Status::AcceptedRisk);
        assert_eq!(d.example, "/api/users/1");
        let listed = disagreements(&t, &accepted, KeyPolicy::StaticOnly);
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].status, Status::AcceptedRisk);
        // The accepted gateway really differs: that is the risk.
        assert_eq!(
            picks(&a, "/api/users/1").as_deref(),
            Some("api/[resource]/[id].rs")
        );

        // An acceptance that matches nothing is reported.
        let a = analyze(&t, &accepted, KeyPolicy::Parametrised).unwrap();
        assert_eq!(a.warnings, [Warning::UnusedAcceptance(accepted[0].clone())]);
        // Accepting another pair does not cover this one.
        let other = [AcceptedConflict {
            a: "/api/users/[...path]".into(),
            b: "/api/x".into(),
        }];
        assert!(analyze(&t, &other, KeyPolicy::StaticOnly).is_err());
    }

    #[test]
    fn all_errors_at_once_and_the_dev_listing() {
        let t = table(&[
            "api/users/[...path].rs",
            "api/[resource]/[id].rs",
            "api/a+b.rs",
            "api/post-[id].rs",
            "api/hello world.rs",
        ]);
        let errors = analyze(&t, &[], KeyPolicy::StaticOnly).unwrap_err();
        assert_eq!(errors.0.len(), 3, "{errors}");
        let text = errors.to_string();
        assert!(
            text.contains("api/a+b.rs: the route `/api/a+b` has the static segment `a+b` with `+`")
        );
        assert!(text.contains("api/post-[id].rs"));
        assert!(text.contains("`[`"));
        let listed = disagreements(&t, &[], KeyPolicy::StaticOnly);
        let no_key: Vec<&Disagreement> = listed
            .iter()
            .filter(|d| matches!(d.reason, Reason::NoKey { .. }))
            .collect();
        assert_eq!(no_key.len(), 2);
        // No key matches `/api/a+b` (two segments), so the gateway answers with $default.
        assert!(no_key
            .iter()
            .any(|d| d.example == "/api/a+b" && d.gateway == GatewayPick::Default));
        // The unreachable `hello world` is a warning in the parametrised analysis, not an error.
        let errors = analyze(&t, &[], KeyPolicy::Parametrised).unwrap_err();
        assert_eq!(errors.0.len(), 2, "{errors}");
    }

    #[test]
    fn unreachable_routes_get_no_key_and_a_warning() {
        let t = table(&["api/café.rs", "api/[id].rs"]);
        let a = analyze(&t, &[], KeyPolicy::StaticOnly).unwrap();
        assert!(keys_of(&a, "/api/café").is_empty());
        assert!(
            matches!(&a.warnings[..], [Warning::Unreachable { segment, .. }] if segment == "café")
        );
        assert_agrees(&t, &a, &["/api/caf%C3%A9", "/api/x"]);
    }

    #[test]
    fn literal_pattern_requests_are_known_deviations() {
        // Next serves /api/post/[...slug] (the pattern spelled out) by the catch-all; the
        // gateway's full key `{pid}` takes that one-segment path.
        let t = table(&["api/post/[pid].rs", "api/post/[...slug].rs"]);
        assert_eq!(
            next_picks(&t, "/api/post/[...slug]").as_deref(),
            Some("api/post/[...slug].rs")
        );
        let a = analyze(&t, &[], KeyPolicy::StaticOnly).unwrap();
        let [Warning::LiteralPattern(d)] = &a.warnings[..] else {
            panic!("{:?}", a.warnings)
        };
        assert_eq!(d.example, "/api/post/[...slug]");
        assert_eq!(d.status, Status::KnownDeviation);
        assert_eq!(
            disagreements(&t, &[], KeyPolicy::StaticOnly),
            std::slice::from_ref(d)
        );
    }

    #[test]
    fn selection_follows_the_documented_example() {
        // Our model of AWS's table (all keys ANY here, so only the paths matter).
        let t = table(&[
            "api/pets/dog/1.rs",
            "api/pets/dog/[id].rs",
            "api/pets/[...proxy].rs",
            "api/[...proxy].rs",
        ]);
        let a = analyze(&t, &[], KeyPolicy::StaticOnly).unwrap();
        assert_eq!(
            picks(&a, "/api/pets/dog/1").as_deref(),
            Some("api/pets/dog/1.rs")
        );
        assert_eq!(
            picks(&a, "/api/pets/dog/2").as_deref(),
            Some("api/pets/dog/[id].rs")
        );
        assert_eq!(
            picks(&a, "/api/pets/cat/1").as_deref(),
            Some("api/pets/[...proxy].rs")
        );
        assert_eq!(
            picks(&a, "/api/test/5").as_deref(),
            Some("api/[...proxy].rs")
        );
        assert_eq!(picks(&a, "/other"), None);
        assert_eq!(picks(&a, "/api/pets/"), None);
    }
}
