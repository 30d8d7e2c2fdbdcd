//! The REST API resource tree of a route table: the resources (and their `ANY` methods) that
//! make API Gateway's resource matching pick Next's route for every request path.
//!
//! # What a REST API does (the facts this module relies on)
//!
//! * Resources form a tree; each has a path part: a literal, a variable `{name}` (one
//!   segment) or a greedy `{name+}` (one or more segments, only as the last part). At one
//!   level AWS refuses two variable siblings (`{id}` beside `{name}`); a greedy sibling of a
//!   variable is treated the same way here (conservative), so a resource has at most one
//!   variable-or-greedy child.
//! * A request walks the tree from the root, segment by segment, preferring the literal child
//!   equal to the segment, then the variable child, then the greedy child, and is served by
//!   the method of the resource where it ends. Whether AWS backtracks when a preferred branch
//!   later fails is not documented; the tree built here has **no dead ends**, so no branch ever
//!   fails and both readings agree: every resource has an `ANY` method, and every resource has
//!   a variable or a greedy child that takes every segment no literal child takes.
//! * Literal path parts: AWS's own error says "only allow a-zA-Z0-9._- and curly braces"; the
//!   known-issues page also lists `,` and `:`, and the console is seen accepting `:`
//!   (aws/aws-cdk#22477). nextr accepts ASCII letters, digits and `. _ - :` and refuses
//!   everything else (`,` and `~` included) with a diagnostic naming the file and the segment.
//!
//! # Next's precedence as a walk
//!
//! Next picks the first route, in its sorted order, whose pattern fully matches the path
//! (`RouteTable::resolve`). That order is the depth-first order of the route trie visiting at
//! each node: its own route, its static children, `[slug]`, `[...rest]`, then `[[...opt]]`.
//! So for a path `s1/…/sk` the DFS explores branches in a fixed order, and a branch is one of:
//!
//! * a trie node `n` reached by consuming `s1…si` exactly (`Item::Node`), which matches the
//!   whole path iff `i = k` and `n` has a route, or an optional catch-all child with a route;
//! * a catch-all (required or optional) that consumed `s(j)…` with at least one segment
//!   (`Item::CatchAll`), which matches every longer path too.
//!
//! Let `L(s1…si)` be the ordered list of live branches after `i` segments; `L() = [root]` and
//! `L(…, s)` is, for each item in order: a node `n` gives `n.statics[s]` (if any), then
//! `n.dynamic`, then `n.catch_all`, then `n.optional` (the last two as catch-alls that consumed
//! `s`); a catch-all gives itself. This is exactly the DFS order, so **Next's route for `p` is
//! the first item of `L(p)` that ends there**, or none (404: the fallback function).
//!
//! `L(…, s)` depends on `s` only through *which static names of the live nodes equal `s`*:
//! for an `s` that is none of them, every node contributes only its dynamic and catch-all
//! children. So one REST resource per list is enough:
//!
//! 1. The resource's `ANY` goes to the first item of its list that ends there, else to the
//!    fallback function.
//! 2. If the first item is a catch-all, it wins for every longer path too (items derived
//!    from earlier items stay earlier): a greedy child `{name+}` goes to it, and nothing else
//!    is needed below.
//! 3. Otherwise one literal child per static name of the live nodes (REST picks the literal
//!    child for exactly those segments), each with `L(…, name)`; and one child for every
//!    other segment, with the list `L(…, other)` shared by all of them: a variable child
//!    `{name}`, built the same way, except when that list is empty (a greedy child going to
//!    the fallback) or starts with a catch-all (a greedy child going to it, by 2.).
//!
//! Every resource then has `ANY` and a variable or greedy child (none below a greedy one,
//! which takes every longer path), so there are no dead ends, at most one variable-or-greedy
//! child per resource, and greedy parts only last. Along any request path the REST walk
//! visits the resource of `L(prefix)` for each prefix (literal child iff the segment is one
//! of the live static names, else the variable or greedy child, whose list is the same), and
//! ends at the resource whose `ANY` goes to the first item of `L(path)` that ends: Next's
//! route. The recursion ends because each variable or literal step descends one level in the
//! trie for every node item, and a list without nodes is empty or starts with a catch-all.
//!
//! Variable names do not matter to a function (the runtime matches its own Next pattern
//! against the path): each level takes the name of the first live node's `[slug]` there, or
//! the first catch-all's, else `proxy`, made an identifier and unique along the path.

use std::collections::BTreeSet;
use std::fmt;

use nextr::limits::REST_API_RESOURCES;
use nextr::routing::{RouteTable, Segment};

use super::super::http_api::route_keys::{
    unreachable_segment, variable_name, KeySegment, RouteKey,
};

/// Where a resource's `ANY` method sends requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    /// The route with this index in Next's order (the manifest's).
    Route(usize),
    /// The fallback function (the manifest's `fallback`): Next has no route there.
    Fallback,
}

/// One resource with its `ANY` method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// The resource path as a key: `ANY /api/post/{pid}`.
    pub key: RouteKey,
    /// Where its `ANY` goes.
    pub target: Target,
}

/// The resources of a whole API, parents before children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceTree {
    /// Every resource, the root (`ANY /`) first.
    pub resources: Vec<Resource>,
}

impl ResourceTree {
    /// The key strings of the route with this index (the manifest's `route_keys`).
    pub fn route_keys(&self, route: usize) -> Vec<String> {
        self.keys_of(Target::Route(route))
    }

    /// The key strings of the fallback function (the manifest's `gateway.fallback_keys`).
    pub fn fallback_keys(&self) -> Vec<String> {
        self.keys_of(Target::Fallback)
    }

    fn keys_of(&self, target: Target) -> Vec<String> {
        self.resources
            .iter()
            .filter(|r| r.target == target)
            .map(|r| r.key.to_string())
            .collect()
    }
}

/// Why a route table cannot be served by a REST API as Next serves it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResourceError {
    /// A static segment a REST resource path part cannot hold.
    #[error("{file}: the static segment `{segment}` of `{page}` contains `{character}`, which an API Gateway REST API does not accept in a resource path (only ASCII letters, digits and `. _ - :`); Next matches that segment literally (e.g. at {example}), so rename the file or folder")]
    Character {
        /// The route file.
        file: String,
        /// The page pattern.
        page: String,
        /// The segment.
        segment: String,
        /// The first refused character.
        character: char,
        /// A request path that reaches the segment.
        example: String,
    },
    /// More resources than the REST API quota.
    #[error("the routes need {count} REST API resources (the root included), over the quota of {limit} resources per API; ask AWS to raise the \"Resources per API\" quota of API Gateway (Service Quotas), or merge routes (a catch-all route takes any number of paths with one resource)")]
    TooManyResources {
        /// How many the tree needs (at least; counting stops far past the limit).
        count: usize,
        /// The quota.
        limit: usize,
    },
}

/// All the problems of one table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ResourceErrors(pub Vec<ResourceError>);

impl fmt::Display for ResourceErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(
            f,
            "the routes cannot be deployed behind one API Gateway REST API: {n} problem{}",
            if n == 1 { "" } else { "s" }
        )?;
        for e in &self.0 {
            write!(f, "\n  {e}")?;
        }
        Ok(())
    }
}

/// Whether a REST API accepts this character in a literal path part (see the module docs).
pub fn is_path_part_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':')
}

/// A trie node (Next's tree, over the routes Next can reach).
#[derive(Debug, Default)]
struct Node {
    route: Option<usize>,
    statics: std::collections::BTreeMap<String, Node>,
    dynamic: Option<(String, Box<Node>)>,
    catch_all: Option<(String, usize)>,
    optional: Option<(String, usize)>,
}

/// A live branch of Next's DFS (see the module docs).
#[derive(Debug, Clone, Copy)]
enum Item<'t> {
    Node(&'t Node),
    CatchAll { route: usize, name: &'t str },
}

impl Item<'_> {
    /// The route this branch gives when the path ends here.
    fn ends(&self) -> Option<usize> {
        match self {
            Item::Node(n) => n.route.or(n.optional.as_ref().map(|(_, r)| *r)),
            Item::CatchAll { route, .. } => Some(*route),
        }
    }
}

/// Counting stops here: far past any quota AWS grants, and it bounds the work on
/// pathological trees.
const COUNT_CAP: usize = 100 * REST_API_RESOURCES;

/// The resource tree of a (valid) route table, checked against `limit` resources (the
/// `REST_API_RESOURCES` quota, or a raised one). Every problem is reported.
pub fn resource_tree(table: &RouteTable, limit: usize) -> Result<ResourceTree, ResourceErrors> {
    let mut root = Node::default();
    let mut errors = Vec::new();
    for (index, route) in table.routes().iter().enumerate() {
        // A route Next can never reach (a segment no normalised path holds) gets no
        // resource, exactly as unreachable as in Next.
        if unreachable_segment(&route.pattern).is_some() {
            continue;
        }
        let mut bad = None;
        for segment in route.pattern.segments() {
            if let Segment::Static(s) = segment {
                if let Some(c) = s.chars().find(|c| !is_path_part_char(*c)) {
                    bad = Some((s.clone(), c));
                    break;
                }
            }
        }
        if let Some((segment, character)) = bad {
            errors.push(ResourceError::Character {
                file: route.file.clone(),
                page: route.page().to_owned(),
                segment,
                character,
                example: example_path(route.pattern.segments()),
            });
            continue;
        }
        insert(&mut root, route.pattern.segments(), index);
    }
    if !errors.is_empty() {
        return Err(ResourceErrors(errors));
    }
    let mut out = Vec::new();
    let mut walk = Walk {
        out: &mut out,
        overflow: false,
    };
    walk.resource(vec![Item::Node(&root)], Vec::new(), Vec::new());
    if walk.overflow || out.len() > limit {
        return Err(ResourceErrors(vec![ResourceError::TooManyResources {
            count: out.len(),
            limit,
        }]));
    }
    Ok(ResourceTree { resources: out })
}

/// The default quota: [`resource_tree`] with `REST_API_RESOURCES`.
pub fn default_resource_tree(table: &RouteTable) -> Result<ResourceTree, ResourceErrors> {
    resource_tree(table, REST_API_RESOURCES)
}

/// A request path that reaches a pattern: its literals, `x` for each parameter.
fn example_path(segments: &[Segment]) -> String {
    let parts: Vec<&str> = segments
        .iter()
        .map(|s| match s {
            Segment::Static(s) => s.as_str(),
            _ => "x",
        })
        .collect();
    format!("/{}", parts.join("/"))
}

fn insert(root: &mut Node, segments: &[Segment], index: usize) {
    let mut node = root;
    for segment in segments {
        node = match segment {
            Segment::Static(s) => node.statics.entry(s.clone()).or_default(),
            Segment::Dynamic(name) => {
                &mut node
                    .dynamic
                    .get_or_insert_with(|| (name.clone(), Box::default()))
                    .1
            }
            // Next validated the table: a catch-all is the last segment.
            Segment::CatchAll(name) => {
                node.catch_all = Some((name.clone(), index));
                return;
            }
            Segment::OptionalCatchAll(name) => {
                node.optional = Some((name.clone(), index));
                return;
            }
        };
    }
    node.route = Some(index);
}

/// `L(…, s)` for a segment `s`: `Some(name)` for a static name, `None` for any other.
fn step<'t>(items: &[Item<'t>], segment: Option<&str>) -> Vec<Item<'t>> {
    let mut out = Vec::new();
    for item in items {
        match *item {
            Item::Node(n) => {
                if let Some(child) = segment.and_then(|s| n.statics.get(s)) {
                    out.push(Item::Node(child));
                }
                if let Some((_, child)) = &n.dynamic {
                    out.push(Item::Node(child));
                }
                for (name, route) in [&n.catch_all, &n.optional].into_iter().flatten() {
                    out.push(Item::CatchAll {
                        route: *route,
                        name,
                    });
                }
            }
            catch_all @ Item::CatchAll { .. } => out.push(catch_all),
        }
    }
    out
}

struct Walk<'o> {
    out: &'o mut Vec<Resource>,
    overflow: bool,
}

impl Walk<'_> {
    fn emit(&mut self, path: &[KeySegment], target: Target) {
        if self.out.len() >= COUNT_CAP {
            self.overflow = true;
            return;
        }
        self.out.push(Resource {
            // Segments come from validated literals and identifier names.
            key: RouteKey::from_segments_unchecked(path.to_vec()),
            target,
        });
    }

    /// The resource at `path` whose live branches are `items` (never empty here), and
    /// everything below it.
    fn resource(&mut self, items: Vec<Item<'_>>, path: Vec<KeySegment>, taken: Vec<String>) {
        if self.overflow {
            return;
        }
        let target = items
            .iter()
            .find_map(Item::ends)
            .map_or(Target::Fallback, Target::Route);
        self.emit(&path, target);
        if let Some(Item::CatchAll { route, name }) = items.first() {
            self.greedy(&path, &taken, name, Target::Route(*route));
            return;
        }
        let names: BTreeSet<&String> = items
            .iter()
            .filter_map(|i| match i {
                Item::Node(n) => Some(n.statics.keys()),
                Item::CatchAll { .. } => None,
            })
            .flatten()
            .collect();
        for name in names {
            let mut child = path.clone();
            child.push(KeySegment::Static(name.clone()));
            self.resource(step(&items, Some(name)), child, taken.clone());
        }
        let other = step(&items, None);
        match other.first() {
            None => self.greedy(&path, &taken, "proxy", Target::Fallback),
            Some(Item::CatchAll { route, name }) => {
                self.greedy(&path, &taken, name, Target::Route(*route))
            }
            Some(Item::Node(_)) => {
                let name = items
                    .iter()
                    .find_map(|i| match i {
                        Item::Node(n) => n.dynamic.as_ref().map(|(name, _)| name.as_str()),
                        Item::CatchAll { .. } => None,
                    })
                    .unwrap_or("proxy");
                let mut taken = taken;
                let var = variable_name(name, &mut taken);
                let mut child = path;
                child.push(KeySegment::Var(var));
                self.resource(other, child, taken);
            }
        }
    }

    fn greedy(&mut self, path: &[KeySegment], taken: &[String], name: &str, target: Target) {
        let mut taken = taken.to_vec();
        let mut child = path.to_vec();
        child.push(KeySegment::Greedy(variable_name(name, &mut taken)));
        self.emit(&child, target);
    }
}
