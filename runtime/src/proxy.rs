//! Support for `proxy.rs` (Next 16's middleware). So far: the [`matcher`], which decides for
//! which requests the proxy runs, and `invoke`, a rewrite to another route's function.

#[cfg(feature = "lambda")]
// Called by the proxy's execution in each function (the `start_*_proxied` entry points).
#[allow(dead_code)]
pub(crate) mod invoke;
pub mod matcher;
