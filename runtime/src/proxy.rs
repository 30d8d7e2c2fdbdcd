//! Support for `proxy.rs` (Next 16's middleware). So far: the [`matcher`], which decides for
//! which requests the proxy runs.

pub mod matcher;
