//! The `nextr` command's machinery, as a library: project discovery, route-file analysis,
//! bundle building and the local emulator. The binary (`main.rs` and `commands/`) parses the
//! command line, resolves settings and renders reports; only what it uses is public.
#![warn(missing_docs)]

pub(crate) mod analysis;
pub mod build;
pub mod bundle;
pub mod emulator;
pub mod fingerprint;
pub(crate) mod manifest;
pub(crate) mod persist;
pub mod project;
pub mod report;
pub mod table;
