//! The analysis engine: the closure of the keys under intersection, visited from the most
//! general to the most specific shape, adding a key for Next's winner wherever the deployed
//! gateway would pick another route (see the module docs of [`super`]).

use std::collections::{HashMap, HashSet};

use nextr::routing::{
    normalize, path_segments, Normalized, Route, RoutePattern, RouteTable, Segment,
};

use super::*;
use crate::gateway::http_api::route_keys::{route_keys, unreachable_segment, Shape};
use crate::gateway::http_api::select::{most_specific, select_shapes, Pick};

/// One key of the deployed API during the analysis.
#[derive(Debug, Clone)]
struct KeyRec {
    shape: Shape,
    owner: usize,
    key: RouteKey,
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

pub(super) struct Outcome {
    pub(super) routes: Vec<RouteKeys>,
    pub(super) warnings: Vec<Warning>,
    pub(super) errors: Vec<ConflictError>,
    pub(super) disagreements: Vec<Disagreement>,
}

pub(super) struct Engine<'t> {
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
    pub(super) fn run(
        table: &'t RouteTable,
        accepted: &'t [AcceptedConflict],
        policy: KeyPolicy,
    ) -> Outcome {
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
