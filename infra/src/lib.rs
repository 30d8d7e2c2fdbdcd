//! nextr-infra: turns the route manifest into AWS resources.
//!
//! Route patterns map to API Gateway HTTP API route keys (here); [`deploy`] puts a built app
//! on AWS Lambda behind one HTTP API by plan and apply, idempotently; [`template`] renders
//! the same resources as a CloudFormation template.

pub mod deploy;
pub mod template;
#[cfg(feature = "testing")]
pub mod testing;

use nextr::routing::{RoutePattern, Segment};

/// The API Gateway HTTP API route keys of a pattern: `[id]` → `{id}`, `[...s]` → `{s+}`, and
/// an optional catch-all gives two keys (its parent path and the greedy one).
pub fn route_keys(pattern: &RoutePattern) -> Vec<String> {
    let mut path = String::new();
    for segment in pattern.segments() {
        match segment {
            Segment::Static(s) => {
                path.push('/');
                path.push_str(s);
            }
            Segment::Dynamic(n) => path.push_str(&format!("/{{{n}}}")),
            Segment::CatchAll(n) => path.push_str(&format!("/{{{n}+}}")),
            Segment::OptionalCatchAll(n) => {
                let parent = if path.is_empty() { "/" } else { path.as_str() };
                return vec![format!("ANY {parent}"), format!("ANY {path}/{{{n}+}}")];
            }
        }
    }
    if path.is_empty() {
        path.push('/');
    }
    vec![format!("ANY {path}")]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        let k = |p: &str| route_keys(&RoutePattern::parse(p).unwrap());
        assert_eq!(k("/api/hello"), ["ANY /api/hello"]);
        assert_eq!(k("/api/post/[pid]"), ["ANY /api/post/{pid}"]);
        assert_eq!(k("/api/post/[...slug]"), ["ANY /api/post/{slug+}"]);
        assert_eq!(
            k("/api/note/[[...slug]]"),
            ["ANY /api/note", "ANY /api/note/{slug+}"]
        );
    }
}
