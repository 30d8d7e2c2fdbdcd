//! Shared by the infra integration tests; each test file does `mod support;` and uses its
//! part: [`route_trees`] for the gateway property tests, [`moto`] for the deploy tests.

#![allow(dead_code)] // each test binary uses a different part of this module

pub mod moto;
pub mod route_trees;
