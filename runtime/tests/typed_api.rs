//! The typed surface route code leans on: the prelude next to `serde_json`'s names, statuses as
//! `u16` or `StatusCode`, header names as anything `TryInto<HeaderName>`, and a handler's own
//! error type deciding its response.

/// `serde_json::Value` and the prelude together: a glob import of each must not collide.
mod prelude_and_serde_json {
    use nextr::prelude::*;
    use serde_json::*;

    pub fn value() -> Value {
        json!({ "query": QueryValue::One("a".into()) })
    }
}

#[test]
fn the_prelude_leaves_value_to_serde_json() {
    assert_eq!(prelude_and_serde_json::value()["query"], "a");
}
