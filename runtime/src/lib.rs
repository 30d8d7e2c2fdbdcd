//! nextr: Next.js-style API routes for Rust, one AWS Lambda function per route file.
//!
//! The crate has two faces. The pure modules ([`routing`], [`manifest`], [`config`]) are shared
//! with the `nextr` CLI, which uses this crate with default features off. The runtime (request
//! and response helpers, the Lambda entry point) is what every route bundle links.

pub mod config;
pub mod manifest;
pub mod routing;
