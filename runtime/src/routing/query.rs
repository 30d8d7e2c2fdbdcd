//! `req.query`: the query string parsed as Next parses it, plus the route params.

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

use super::ordered::OrderedMap;

/// One `req.query` value: a string, or a list for repeated keys and catch-all params.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum QueryValue {
    /// A key seen once, or a `[param]`.
    One(String),
    /// A repeated key, or a catch-all param.
    Many(Vec<String>),
}

impl QueryValue {
    /// The value as one string: the string itself, or the first element of a list.
    pub fn first(&self) -> Option<&str> {
        match self {
            QueryValue::One(s) => Some(s),
            QueryValue::Many(v) => v.first().map(String::as_str),
        }
    }

    /// Every string of the value, in order.
    pub fn all(&self) -> &[String] {
        match self {
            QueryValue::One(s) => std::slice::from_ref(s),
            QueryValue::Many(v) => v,
        }
    }

    fn push(&mut self, next: String) {
        match self {
            QueryValue::One(first) => {
                let first = std::mem::take(first);
                *self = QueryValue::Many(vec![first, next]);
            }
            QueryValue::Many(v) => v.push(next),
        }
    }
}

impl Serialize for QueryValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            QueryValue::One(v) => s.serialize_str(v),
            QueryValue::Many(v) => {
                let mut seq = s.serialize_seq(Some(v.len()))?;
                for x in v {
                    seq.serialize_element(x)?;
                }
                seq.end()
            }
        }
    }
}

/// An ordered `req.query`: keys in first-appearance order, as Next's JSON shows them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query(OrderedMap<QueryValue>);

impl Query {
    /// Parses a raw query string (without `?`) with WHATWG `URLSearchParams` rules: `&` only,
    /// `+` is a space, bad escapes kept literally, invalid UTF-8 becomes U+FFFD, empty pairs
    /// skipped. Repeated keys collect into a list.
    pub fn parse(raw: &str) -> Self {
        let mut query = Query::default();
        for (k, v) in form_urlencoded::parse(raw.as_bytes()) {
            query.append(k.into_owned(), v.into_owned());
        }
        query
    }

    /// Parses like [`Query::parse`] and drops the keys Next reserves for itself
    /// (`nextInternalLocale`, and `nxtP…`/`nxtI…` longer than the bare prefix).
    pub fn parse_public(raw: &str) -> Self {
        let mut query = Query::default();
        for (k, v) in form_urlencoded::parse(raw.as_bytes()) {
            if !is_internal_key(&k) {
                query.append(k.into_owned(), v.into_owned());
            }
        }
        query
    }

    /// Adds a value, turning an existing key into a list.
    pub fn append(&mut self, key: String, value: String) {
        match self.0.get_mut(&key) {
            Some(existing) => existing.push(value),
            None => self.0.push_new(key, QueryValue::One(value)),
        }
    }

    /// Sets a key, replacing any value but keeping the key's position (how `{...query,
    /// ...params}` behaves in JavaScript).
    pub fn set(&mut self, key: String, value: QueryValue) {
        self.0.set(key, value);
    }

    /// Removes a key, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<QueryValue> {
        self.0.remove(key)
    }

    /// The value of a key.
    pub fn get(&self, key: &str) -> Option<&QueryValue> {
        self.0.get(key)
    }

    /// The value of a key as one string (the first when it is a list).
    pub fn str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(QueryValue::first)
    }

    /// Every value of a key (empty when absent).
    pub fn all(&self, key: &str) -> &[String] {
        self.get(key).map(QueryValue::all).unwrap_or_default()
    }

    /// True when the key is present.
    pub fn contains(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// The keys and values in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &QueryValue)> {
        self.0.entries().iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are no keys.
    pub fn is_empty(&self) -> bool {
        self.0.len() == 0
    }

    /// Serialises as `URLSearchParams.toString()` would after Next rebuilt it from the object:
    /// each key's values together, `application/x-www-form-urlencoded` escaping. Keys for
    /// which `skip` is true are left out.
    pub fn to_search_string(&self, skip: impl Fn(&str) -> bool) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (k, v) in self.0.entries() {
            if skip(k) {
                continue;
            }
            for value in v.all() {
                out.append_pair(k, value);
            }
        }
        out.finish()
    }
}

impl Serialize for Query {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0.entries() {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'a> IntoIterator for &'a Query {
    type Item = &'a (String, QueryValue);
    type IntoIter = std::slice::Iter<'a, (String, QueryValue)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.entries().iter()
    }
}

/// Query keys Next removes before the handler sees `req.query`.
pub fn is_internal_key(key: &str) -> bool {
    key == "nextInternalLocale"
        || ((key.starts_with("nxtP") || key.starts_with("nxtI")) && key.len() > 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(q: &Query) -> String {
        serde_json::to_string(q).unwrap()
    }

    #[test]
    fn url_search_params_rules() {
        assert_eq!(
            json(&Query::parse("a=1&a=2&b")),
            r#"{"a":["1","2"],"b":""}"#
        );
        assert_eq!(json(&Query::parse("a+b=c+d")), r#"{"a b":"c d"}"#);
        assert_eq!(json(&Query::parse("a=%ZZ&b=%2")), r#"{"a":"%ZZ","b":"%2"}"#);
        assert_eq!(
            json(&Query::parse("x=%C3")),
            r#"{"x":"\ufffd"}"#.replace("\\ufffd", "\u{fffd}")
        );
        assert_eq!(json(&Query::parse("a=1;b=2")), r#"{"a":"1;b=2"}"#);
        assert_eq!(json(&Query::parse("a=1&&b=2&")), r#"{"a":"1","b":"2"}"#);
        assert_eq!(json(&Query::parse("=v")), r#"{"":"v"}"#);
    }

    #[test]
    fn internal_keys() {
        let q = Query::parse_public("nxtPfoo=1&nxtP=2&nxtIbar=3&z=4&nextInternalLocale=fr");
        assert_eq!(json(&q), r#"{"nxtP":"2","z":"4"}"#);
    }

    #[test]
    fn search_string_groups_and_escapes() {
        let q = Query::parse("a=1&b=2&a=3&c=%ZZ&d[]=x y&e=1;f=2");
        assert_eq!(
            q.to_search_string(|_| false),
            "a=1&a=3&b=2&c=%25ZZ&d%5B%5D=x+y&e=1%3Bf%3D2"
        );
        assert_eq!(q.to_search_string(|k| k != "b"), "b=2");
    }

    #[test]
    fn many_keys_parse() {
        // 30,000 distinct keys once took seconds (a linear lookup per key).
        let raw: Vec<String> = (0..30_000).map(|i| format!("k{i}={i}")).collect();
        let q = Query::parse(&raw.join("&"));
        assert_eq!(q.len(), 30_000);
        assert_eq!(q.str("k29999"), Some("29999"));
        assert_eq!(q.iter().nth(12_345).map(|(k, _)| k), Some("k12345"));
    }

    /// What `URLSearchParams` → object gives: keys in first-appearance order, values in order.
    fn naive(pairs: &[(String, String)]) -> Vec<(String, Vec<String>)> {
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for (k, v) in pairs {
            match out.iter_mut().find(|(x, _)| x == k) {
                Some((_, vs)) => vs.push(v.clone()),
                None => out.push((k.clone(), vec![v.clone()])),
            }
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn matches_naive_model(
            pairs in proptest::collection::vec(("[a-e]{1,2}", "[a-z0-9]{0,3}"), 0..40),
            removed in "[a-e]{1,2}",
        ) {
            let raw: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let mut q = Query::parse(&raw.join("&"));
            let mut model = naive(&pairs);
            let got = |q: &Query| -> Vec<(String, Vec<String>)> {
                q.iter().map(|(k, v)| (k.to_owned(), v.all().to_vec())).collect()
            };
            proptest::prop_assert_eq!(got(&q), model.clone());
            for (k, vs) in &model {
                proptest::prop_assert_eq!(q.all(k), &vs[..]);
            }
            q.remove(&removed);
            model.retain(|(k, _)| *k != removed);
            proptest::prop_assert_eq!(got(&q), model.clone());
            for (k, vs) in &model {
                proptest::prop_assert_eq!(q.all(k), &vs[..]);
            }
        }
    }
}
