//! Next.js file routing, exactly: file names → route patterns, tree validation, Next's
//! precedence, and request resolution as `next start` does it.
//!
//! Pure: no I/O and no Lambda. The CLI uses it to scan and validate an app and to answer
//! `nextr routes --match`; `nextr dev` uses it to pick a function; every route's runtime uses
//! [`complete`] (Pages) or [`complete_app`] (App) to rebuild the request's params, query and
//! URL from the raw path against its own pattern.

mod complete;
mod error;
mod file;
mod ordered;
mod pattern;
mod query;
mod router;
mod search;
mod table;
mod target;

pub use complete::{complete, path_segments, Matched};
pub use error::{RouteError, TreeError, TreeProblem};
pub use file::{file_for_page, route_for_file};
#[cfg(feature = "lambda")]
pub(crate) use ordered::OrderedMap;
pub use pattern::{
    decode_uri_component, MalformedEscape, Param, ParamKind, Params, RawCapture, RouteKind,
    RoutePattern, Segment,
};
pub use query::{is_internal_key, Query, QueryValue};
pub use router::Router;
pub use search::{complete_app, AppMatched, SearchParams};
pub use table::{MatchedView, Resolution, Route, RouteMatch, RouteSummary, RouteTable};
pub use target::{
    encode_uri_component, escape_decoded_path, is_same_origin_path, normalize, InvalidTarget,
    Normalized,
};

#[cfg(test)]
mod table_tests;
