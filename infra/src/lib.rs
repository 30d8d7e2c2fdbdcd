//! nextr-infra: turns the route manifest into AWS resources.
//!
//! The pure analysis core: [`mod@route_keys`] maps route patterns to API Gateway HTTP API route
//! keys and validates them as API Gateway would; [`conflicts`] compares Next's route
//! precedence with API Gateway's route selection and adds the keys that make them agree (or
//! reports why it cannot); [`limits`] checks the manifest against Lambda's and API Gateway's
//! quotas. On these, [`deploy`] puts a built app on AWS Lambda behind one HTTP API by plan
//! and apply, idempotently, and [`template`] renders the same resources as a CloudFormation
//! template.

#![warn(missing_docs)]

pub mod conflicts;
pub mod deploy;
pub mod limits;
pub mod route_keys;
pub mod template;
#[cfg(feature = "testing")]
pub mod testing;

pub use conflicts::{
    analyze, disagreements, AcceptedConflict, Analysis, ConflictError, ConflictErrors,
    Disagreement, KeyPolicy, RouteKeys, Warning,
};
pub use limits::{check_limits, LimitError, LimitErrors, Quotas};
pub use route_keys::{route_keys, validate_api, validate_manifest, KeyError, KeySegment, RouteKey};
