//! A REST API's resource matching over the manifest's keys: what `nextr dev` routes with.
//! It reads only the keys (the routes' `route_keys` and `gateway.fallback_keys`), never the
//! route table, so dev serves what the build recorded.
//!
//! The walk (see [`super::resources`] for the facts): from the root, each segment takes the
//! literal child equal to it, else the variable child, else the greedy child (which takes the
//! rest of the path); the request is served by the `ANY` of the resource where it ends.
//! [`Router::new`] refuses key sets with a dead end (a resource without `ANY`, or without a
//! variable or greedy child), two variable children of one resource, or a literal REST
//! refuses, so the walk never fails and never needs to backtrack.

use std::collections::HashMap;

use super::super::http_api::route_keys::{KeySegment, KeySyntaxError, RouteKey};
use super::resources::{is_path_part_char, Target};

#[derive(Debug, Clone, Default)]
struct Node {
    /// Index into `Router::keys` of this resource's `ANY`.
    method: Option<usize>,
    statics: HashMap<String, Node>,
    variable: Option<(String, Box<Node>)>,
    greedy: Option<(String, usize)>,
}

/// The resources of one deployed REST API, each with its owner.
#[derive(Debug, Clone, Default)]
pub struct Router {
    keys: Vec<(RouteKey, Target)>,
    root: Node,
}

/// Key sets a REST API would refuse, or that would leave a path without a method.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouterError {
    /// A key that does not parse.
    #[error("{owner}: {source}")]
    Syntax {
        /// Who owns the key.
        owner: Owner,
        /// Why.
        #[source]
        source: KeySyntaxError,
    },
    /// A literal path part with a character a REST API refuses.
    #[error("resource `{key}`: the path part `{segment}` contains `{character}`, which a REST API does not accept")]
    Character {
        /// The key.
        key: String,
        /// The path part.
        segment: String,
        /// The refused character.
        character: char,
    },
    /// One resource listed twice.
    #[error("resource `{0}` is listed twice")]
    Duplicate(String),
    /// Two variable (or greedy) children of one resource.
    #[error("resources `{first}` and `{second}` are two variable path parts at one level, which a REST API refuses")]
    TwoVariables {
        /// The first key.
        first: String,
        /// The second key.
        second: String,
    },
    /// A resource with no `ANY`, or no child for the segments its literals do not take.
    #[error("resource `{0}` is a dead end (no ANY method, or no variable or greedy child); run `nextr build` again")]
    DeadEnd(String),
}

/// Who owns a key in the manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// The route with this index.
    Route(usize),
    /// The fallback function (`gateway.fallback_keys`).
    Fallback,
}

impl std::fmt::Display for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Owner::Route(i) => write!(f, "route #{i}"),
            Owner::Fallback => f.write_str("the fallback's keys"),
        }
    }
}

/// Where the REST API sends one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Selection<'a> {
    /// The function.
    pub target: Target,
    /// The resource whose `ANY` serves it.
    pub key: &'a RouteKey,
}

impl Router {
    /// The router of routes in Next's order (each with its key strings) and the fallback's
    /// key strings.
    pub fn new<'k, R, K>(
        routes: R,
        fallback: impl IntoIterator<Item = &'k str>,
    ) -> Result<Self, RouterError>
    where
        R: IntoIterator<Item = K>,
        K: IntoIterator<Item = &'k str>,
    {
        let mut keys = Vec::new();
        let owned = routes
            .into_iter()
            .enumerate()
            .flat_map(|(i, r)| r.into_iter().map(move |k| (k, Owner::Route(i))));
        for (text, owner) in owned.chain(fallback.into_iter().map(|k| (k, Owner::Fallback))) {
            let key =
                RouteKey::parse(text).map_err(|source| RouterError::Syntax { owner, source })?;
            let target = match owner {
                Owner::Route(i) => Target::Route(i),
                Owner::Fallback => Target::Fallback,
            };
            keys.push((key, target));
        }
        Self::from_keys(keys)
    }

    /// The router of parsed keys with their targets.
    pub fn from_keys(keys: Vec<(RouteKey, Target)>) -> Result<Self, RouterError> {
        let mut root = Node::default();
        for (index, (key, _)) in keys.iter().enumerate() {
            let text = key.to_string();
            let mut node = &mut root;
            for segment in key.segments() {
                node = match segment {
                    KeySegment::Static(s) => {
                        if let Some(character) = s.chars().find(|c| !is_path_part_char(*c)) {
                            return Err(RouterError::Character {
                                key: text,
                                segment: s.clone(),
                                character,
                            });
                        }
                        node.statics.entry(s.clone()).or_default()
                    }
                    KeySegment::Var(name) => {
                        if let Some((_, other)) = &node.greedy {
                            return Err(RouterError::TwoVariables {
                                first: keys[*other].0.to_string(),
                                second: text,
                            });
                        }
                        match &mut node.variable {
                            Some((existing, _)) if existing != name => {
                                return Err(RouterError::TwoVariables {
                                    first: format!("{{{existing}}}"),
                                    second: text,
                                });
                            }
                            slot => {
                                &mut slot.get_or_insert_with(|| (name.clone(), Box::default())).1
                            }
                        }
                    }
                    KeySegment::Greedy(name) => {
                        if let Some((existing, _)) = &node.variable {
                            return Err(RouterError::TwoVariables {
                                first: format!("{{{existing}}}"),
                                second: text,
                            });
                        }
                        if let Some((_, other)) = node.greedy {
                            return Err(RouterError::Duplicate(keys[other].0.to_string()));
                        }
                        node.greedy = Some((name.clone(), index));
                        break;
                    }
                };
            }
            if !key.is_greedy() {
                if node.method.is_some() {
                    return Err(RouterError::Duplicate(text));
                }
                node.method = Some(index);
            }
        }
        check(&root, "")?;
        Ok(Router { keys, root })
    }

    /// Every key with its target, in the manifest's order.
    pub fn keys(&self) -> &[(RouteKey, Target)] {
        &self.keys
    }

    /// The resource a path's segments (still percent-encoded, no empty segment) end at.
    pub fn select(&self, segments: &[&str]) -> Selection<'_> {
        let mut node = &self.root;
        for segment in segments {
            if let Some(child) = node.statics.get(*segment) {
                node = child;
            } else if let Some((_, child)) = &node.variable {
                node = child;
            } else if let Some((_, index)) = node.greedy {
                return self.selection(index);
            } else {
                // Unreachable: `check` proved every resource has a variable or greedy child.
                break;
            }
        }
        // `check` proved every resource has `ANY`; index 0 is the root's, a safe answer.
        self.selection(node.method.unwrap_or_default())
    }

    fn selection(&self, index: usize) -> Selection<'_> {
        let (key, target) = &self.keys[index];
        Selection {
            target: *target,
            key,
        }
    }
}

/// No dead ends: every resource has `ANY` and a variable or greedy child.
fn check(node: &Node, path: &str) -> Result<(), RouterError> {
    let shown = || {
        if path.is_empty() {
            "ANY /".to_owned()
        } else {
            format!("ANY {path}")
        }
    };
    if node.method.is_none() || (node.variable.is_none() && node.greedy.is_none()) {
        return Err(RouterError::DeadEnd(shown()));
    }
    for (name, child) in &node.statics {
        check(child, &format!("{path}/{name}"))?;
    }
    if let Some((name, child)) = &node.variable {
        check(child, &format!("{path}/{{{name}}}"))?;
    }
    Ok(())
}
