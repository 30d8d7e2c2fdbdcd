//! The matcher's sources against an independent model of path-to-regexp: a backtracking
//! matcher over the tokens (`/lit`, `/:p`, `/:p?`, `/:p*`, `/:p+`) that shares nothing with the
//! implementation (no regex). Random sources and random paths from a small alphabet, so
//! matches are frequent; the paths go to the matcher percent-encoded in places, the model sees
//! them decoded. Also Next's lookahead idiom against a prefix test.

use nextr::proxy::matcher::{Matcher, MatcherSpec, RequestParts};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Tok {
    Lit(String),
    /// A parameter and its modifier: `None`, `?`, `*`, `+`.
    Param(Option<char>),
}

fn source(tokens: &[Tok]) -> String {
    let mut s = String::new();
    for (i, t) in tokens.iter().enumerate() {
        match t {
            Tok::Lit(l) => s.push_str(&format!("/{l}")),
            Tok::Param(m) => {
                s.push_str(&format!("/:p{i}"));
                s.extend(*m);
            }
        }
    }
    s
}

/// The delimiters a parameter's segment cannot contain (path-to-regexp's defaults).
fn delimiter(c: char) -> bool {
    matches!(c, '/' | '#' | '?')
}

/// Does `path` match the tokens, followed by at most one trailing delimiter?
fn model(tokens: &[Tok], path: &[char]) -> bool {
    let Some((first, rest)) = tokens.split_first() else {
        return path.is_empty() || (path.len() == 1 && delimiter(path[0]));
    };
    match first {
        Tok::Lit(l) => {
            let lit: Vec<char> = std::iter::once('/').chain(l.chars()).collect();
            path.starts_with(&lit) && model(rest, &path[lit.len()..])
        }
        Tok::Param(m) => {
            let (min, max) = match m {
                None => (1, 1),
                Some('?') => (0, 1),
                Some('*') => (0, usize::MAX),
                _ => (1, usize::MAX),
            };
            repeat(rest, path, 0, min, max)
        }
    }
}

/// `n` segments of a parameter taken so far; try stopping here or taking one more.
fn repeat(rest: &[Tok], path: &[char], n: usize, min: usize, max: usize) -> bool {
    if n >= min && model(rest, path) {
        return true;
    }
    if n == max || path.first() != Some(&'/') {
        return false;
    }
    (1..path.len())
        .take_while(|&k| !delimiter(path[k]))
        .any(|k| repeat(rest, &path[k + 1..], n + 1, min, max))
}

fn token() -> impl Strategy<Value = Tok> {
    prop_oneof![
        prop::sample::select(vec!["a", "b", "ab"]).prop_map(|l| Tok::Lit(l.to_owned())),
        prop::sample::select(vec![None, Some('?'), Some('*'), Some('+')]).prop_map(Tok::Param),
    ]
}

/// A decoded path and how it travels: each character plain, or percent-encoded. It starts
/// with `/`, as every path the gateway hands over.
fn path() -> impl Strategy<Value = Vec<(char, bool)>> {
    let rest = prop::collection::vec(
        (
            prop::sample::select(vec!['/', '/', '/', 'a', 'a', 'b', '#', '?']),
            prop::bool::weighted(0.15),
        ),
        0..10,
    );
    rest.prop_map(|rest| std::iter::once(('/', false)).chain(rest).collect())
}

fn raw(path: &[(char, bool)]) -> String {
    path.iter()
        .map(|&(c, encode)| {
            // `#` and `?` cannot travel plain in a path: they are always encoded.
            if encode || matches!(c, '#' | '?') {
                format!("%{:02X}", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn matcher_agrees_with_the_model(
        tokens in prop::collection::vec(token(), 1..5),
        path in path(),
    ) {
        let source = source(&tokens);
        let matcher = Matcher::compile(&[MatcherSpec::source(source.clone())]).unwrap();
        let decoded: Vec<char> = path.iter().map(|(c, _)| *c).collect();
        let raw = raw(&path);
        let got = matcher.matches(&RequestParts { path: &raw, ..RequestParts::default() });
        prop_assert_eq!(got, model(&tokens, &decoded), "source {} path {}", source, raw);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Next's idiom `/((?!a|b).*)`: everything but the paths whose rest starts with one of
    /// the alternatives (the model: a prefix test on the decoded path).
    #[test]
    fn the_lookahead_idiom_agrees_with_a_prefix_test(
        excluded in prop::collection::vec(prop::sample::select(vec!["a", "b", "ab", "a/b", "b#"]), 1..3),
        path in path(),
    ) {
        let source = format!("/((?!{}).*)", excluded.join("|"));
        let matcher = Matcher::compile(&[MatcherSpec::source(source.clone())]).unwrap();
        let decoded: String = path.iter().map(|(c, _)| *c).collect();
        let expected = !excluded.iter().any(|x| decoded[1..].starts_with(x));
        let raw = raw(&path);
        let got = matcher.matches(&RequestParts { path: &raw, ..RequestParts::default() });
        prop_assert_eq!(got, expected, "source {} path {}", source, raw);
    }
}

#[test]
fn the_model_knows_the_documented_cases() {
    let api = [Tok::Lit("api".into()), Tok::Param(Some('*'))];
    let chars = |s: &str| s.chars().collect::<Vec<_>>();
    assert!(model(&api, &chars("/api")));
    assert!(model(&api, &chars("/api/x/y")));
    assert!(!model(&api, &chars("/apix")));
    let plus = [Tok::Lit("a".into()), Tok::Param(Some('+'))];
    assert!(!model(&plus, &chars("/a")));
    assert!(model(&plus, &chars("/a/x/y/")));
}
