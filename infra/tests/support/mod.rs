//! Shared by the infra integration tests.

pub mod route_trees;
