//! The `nextr` command's machinery, as a library: project discovery, route-file analysis and
//! bundle building. The binary (`main.rs`) parses the command line and makes the reports.
#![warn(missing_docs)]

pub mod analysis;
pub mod build;
pub mod bundle;
pub mod emulator;
pub mod fingerprint;
pub mod manifest;
pub mod persist;
pub mod project;
pub mod report;
pub mod table;
