//! A string-keyed map that keeps first-insertion order: the shape of `req.query` and
//! `req.cookies`. The index makes each lookup constant time, so parsing a header or query
//! string with many keys stays linear (a plain list made it quadratic).

use std::collections::HashMap;

/// Entries in insertion order, plus an index from key to position.
#[derive(Clone)]
pub(crate) struct OrderedMap<V> {
    entries: Vec<(String, V)>,
    index: HashMap<String, usize>,
}

impl<V> Default for OrderedMap<V> {
    fn default() -> Self {
        OrderedMap {
            entries: Vec::new(),
            index: HashMap::new(),
        }
    }
}

impl<V> OrderedMap<V> {
    /// The value of a key.
    pub(crate) fn get(&self, key: &str) -> Option<&V> {
        self.index.get(key).map(|&i| &self.entries[i].1)
    }

    /// The value of a key, mutably.
    pub(crate) fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        self.index.get(key).map(|&i| &mut self.entries[i].1)
    }

    /// True when the key is present.
    #[cfg(feature = "lambda")]
    pub(crate) fn contains(&self, key: &str) -> bool {
        self.index.contains_key(key)
    }

    /// Adds a key known to be absent at the end.
    pub(crate) fn push_new(&mut self, key: String, value: V) {
        debug_assert!(!self.index.contains_key(&key));
        self.index.insert(key.clone(), self.entries.len());
        self.entries.push((key, value));
    }

    /// Sets a key, keeping its position when present, else adding it at the end.
    pub(crate) fn set(&mut self, key: String, value: V) {
        match self.get_mut(&key) {
            Some(existing) => *existing = value,
            None => self.push_new(key, value),
        }
    }

    /// Removes a key, keeping the others' order. Linear: only route params are removed.
    pub(crate) fn remove(&mut self, key: &str) -> Option<V> {
        let i = self.index.remove(key)?;
        let (_, value) = self.entries.remove(i);
        for (k, _) in &self.entries[i..] {
            if let Some(pos) = self.index.get_mut(k.as_str()) {
                *pos -= 1;
            }
        }
        Some(value)
    }

    /// The entries in order.
    pub(crate) fn entries(&self) -> &[(String, V)] {
        &self.entries
    }

    /// Number of keys.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

// Equality and debug output are the entries' (the index follows from them).
impl<V: PartialEq> PartialEq for OrderedMap<V> {
    fn eq(&self, other: &Self) -> bool {
        self.entries == other.entries
    }
}

impl<V: Eq> Eq for OrderedMap<V> {}

impl<V: std::fmt::Debug> std::fmt::Debug for OrderedMap<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.entries.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remove_keeps_order_and_index() {
        let mut m = OrderedMap::default();
        for k in ["a", "b", "c", "d"] {
            m.push_new(k.to_owned(), k.to_uppercase());
        }
        assert_eq!(m.remove("b").as_deref(), Some("B"));
        assert_eq!(m.get("c").map(String::as_str), Some("C"));
        assert_eq!(m.get("d").map(String::as_str), Some("D"));
        m.set("a".into(), "A2".into());
        m.set("e".into(), "E".into());
        let keys: Vec<&str> = m.entries().iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["a", "c", "d", "e"]);
        assert_eq!(m.get("a").map(String::as_str), Some("A2"));
        assert_eq!(m.remove("zz"), None);
    }
}
