//! nextr-infra: everything between the route manifest and AWS.
//!
//! The pure core: [`gateway`] is the model of the API Gateway in front of the functions (HTTP
//! API route keys and the conflict analysis against Next's precedence, or the REST API
//! resource tree that follows it; request selection, events and responses), used alike by
//! `nextr build`, `nextr dev` and deploy; [`limits`] checks the
//! manifest against Lambda's and API Gateway's quotas; [`names`] holds the rules for app and
//! stage names; [`ids`] makes ids and timestamps in AWS's shapes. On these, [`deploy`] puts a
//! built app on AWS Lambda behind its gateway by plan and apply, idempotently (the only module
//! that talks to AWS), and [`template`] renders the same resources as a CloudFormation
//! template.

#![warn(missing_docs)]

pub mod deploy;
pub mod gateway;
pub mod ids;
pub mod limits;
pub mod names;
pub mod template;
#[cfg(feature = "testing")]
pub mod testing;

pub use gateway::http_api::conflicts::{
    self, analyze, disagreements, AcceptedConflict, Analysis, ConflictError, ConflictErrors,
    Disagreement, KeyPolicy, RouteKeys, Warning,
};
pub use gateway::http_api::route_keys::{
    self, route_keys, validate_api, validate_manifest, KeyError, KeySegment, RouteKey,
};
pub use limits::{check_limits, LimitError, LimitErrors, Quotas};
