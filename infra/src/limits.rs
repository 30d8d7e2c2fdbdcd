//! Lambda's and API Gateway's quotas, checked against the manifest before anything is
//! deployed, so that a route is never deployed with a limit AWS would refuse or silently cut.
//!
//! The numbers themselves live in [`nextr::limits`].
//!
//! Counting: every key of every route is one API Gateway route and the `$default` route is
//! one more; every route with at least one key is one integration (one per function, however
//! many keys point at it) and nextr's built-in `$default` function is one more.

use std::fmt;

use nextr::limits::{
    DEFAULT_TIMEOUT_S, HTTP_API_INTEGRATIONS as INTEGRATIONS_PER_API,
    HTTP_API_ROUTES as ROUTES_PER_API, LAMBDA_MEMORY_MB, LAMBDA_TIMEOUT_S,
    LAMBDA_UNZIPPED_BYTES as UNZIPPED_LIMIT_BYTES, LAMBDA_ZIP_BYTES as ZIP_LIMIT_BYTES,
};
use nextr::manifest::{Front, GatewayKind, Manifest, ManifestRoute, ResponseMode};

/// The per-API quotas in force (the routes quota can be raised on request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quotas {
    /// Routes per API, `$default` included.
    pub routes_per_api: usize,
}

impl Default for Quotas {
    fn default() -> Self {
        Quotas {
            routes_per_api: ROUTES_PER_API,
        }
    }
}

/// Where a memory size was declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemorySource {
    /// The route's `config!` (`memory:`).
    Config,
    /// The built function (`memory_mb` in the manifest).
    Function,
}

impl fmt::Display for MemorySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MemorySource::Config => "its config! declares memory:",
            MemorySource::Function => "its function is built with memory_mb",
        })
    }
}

/// Why a route's `max_duration` cannot work behind its `front`, with the ways out; `None`
/// when it can. `nextr build` reports it at the `config!` line, deploy as a [`LimitError`].
pub fn over_gateway(max_duration_s: u32, front: Front) -> Option<String> {
    let limit = front.max_duration_s();
    (max_duration_s > limit).then(|| {
        let longer = match (front.gateway, front.mode) {
            (GatewayKind::Http, _) => format!(
                ", set `gateway = \"rest\"` in nextr.toml (a REST API streams, and waits up to \
                 {} s for a streaming route), or give this route a function URL \
                 (`function_url = true` under its `[routes.\"<page>\"]`)",
                GatewayKind::Rest.timeout_s(ResponseMode::Stream)
            ),
            (GatewayKind::Rest, ResponseMode::Buffered) => format!(
                ", or stream the route (`response = \"stream\"` under its \
                 `[routes.\"<page>\"]` in nextr.toml; a streaming route may run {} s)",
                GatewayKind::Rest.timeout_s(ResponseMode::Stream)
            ),
            (GatewayKind::Rest, ResponseMode::Stream) => String::new(),
        };
        format!(
            "{} ends every integration after {limit} s (a hard quota), so its clients would get \
             an error while the function is still running; lower max_duration to {limit} or \
             less{longer}, or move the long work out of the request (start it asynchronously \
             and let the client poll for the result)",
            front.describe()
        )
    })
}

/// What the manifest says stands in front of a route's function.
fn front_of(manifest: &Manifest, route: &ManifestRoute) -> Front {
    let function = route.function.as_ref();
    Front {
        gateway: manifest.gateway.kind,
        mode: function.map(|f| f.response_mode).unwrap_or_default(),
        function_url: function.is_some_and(|f| f.function_url.is_some()),
    }
}

/// One quota a route or the whole API exceeds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    /// A route may run longer than its gateway waits.
    #[error("{file}: route `{page}` declares max_duration: {max_duration_s} s, but {}", over_gateway(*.max_duration_s, *.front).unwrap_or_default())]
    MaxDurationOverGateway {
        /// Page pattern.
        page: String,
        /// Route file.
        file: String,
        /// The declared maximum duration.
        max_duration_s: u32,
        /// What is in front of it.
        front: Front,
    },
    /// `max_duration` outside Lambda's 1–900 s.
    #[error("{file}: route `{page}` declares max_duration: {max_duration_s} s; Lambda allows 1 to 900 s")]
    MaxDurationOutOfRange {
        /// Page pattern.
        page: String,
        /// Route file.
        file: String,
        /// The declared maximum duration.
        max_duration_s: u32,
    },
    /// The function's timeout outside Lambda's 1–900 s.
    #[error("{file}: the function of route `{page}` has a {timeout_s} s timeout; Lambda allows 1 to 900 s")]
    TimeoutOutOfRange {
        /// Page pattern.
        page: String,
        /// Route file.
        file: String,
        /// The function's timeout.
        timeout_s: u32,
    },
    /// Memory outside Lambda's 128–10,240 MB.
    #[error("{file}: route `{page}`: {declared_in} {memory_mb} MB; Lambda allows 128 to 10240 MB")]
    MemoryOutOfRange {
        /// Page pattern.
        page: String,
        /// Route file.
        file: String,
        /// The memory size.
        memory_mb: u32,
        /// Where it was declared.
        declared_in: MemorySource,
    },
    /// A zip too large for a direct upload.
    #[error("{file}: the bundle of route `{page}` is {bytes} bytes zipped; Lambda accepts at most {ZIP_LIMIT_BYTES} bytes (50 MiB) in a direct upload")]
    ZipTooLarge {
        /// Page pattern.
        page: String,
        /// Route file.
        file: String,
        /// Zip size.
        bytes: u64,
    },
    /// Code too large once unzipped.
    #[error("{file}: the bundle of route `{page}` is {bytes} bytes unzipped; Lambda allows at most {UNZIPPED_LIMIT_BYTES} bytes (250 MiB)")]
    UnzippedTooLarge {
        /// Page pattern.
        page: String,
        /// Route file.
        file: String,
        /// Unzipped size.
        bytes: u64,
    },
    /// More API Gateway routes than the quota.
    #[error("the app needs {count} API Gateway routes ($default included); an HTTP API allows {limit} (this quota can be raised for one API through AWS Support)")]
    TooManyRoutes {
        /// Routes needed.
        count: usize,
        /// The quota.
        limit: usize,
    },
    /// More integrations than the hard quota.
    #[error("the app needs {count} API Gateway integrations (one per routed function plus $default); an HTTP API allows {limit}, a hard quota: split the app")]
    TooManyIntegrations {
        /// Integrations needed.
        count: usize,
        /// The quota.
        limit: usize,
    },
}

/// Every quota exceeded, in manifest order, then the API-wide ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LimitErrors(pub Vec<LimitError>);

impl fmt::Display for LimitErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(
            f,
            "the app exceeds {n} AWS limit{}",
            if n == 1 { "" } else { "s" }
        )?;
        for e in &self.0 {
            write!(f, "\n  {e}")?;
        }
        Ok(())
    }
}

/// What the app uses of the per-API quotas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// API Gateway routes, `$default` included.
    pub routes: usize,
    /// API Gateway integrations, the `$default` function included.
    pub integrations: usize,
}

/// Checks every route of the manifest and the whole API against the quotas, reporting every
/// problem. `unzipped_bytes` gives a route's unzipped code size when known (the manifest
/// records only the zip's size).
pub fn check_limits(
    manifest: &Manifest,
    quotas: &Quotas,
    unzipped_bytes: impl Fn(&ManifestRoute) -> Option<u64>,
) -> Result<Usage, LimitErrors> {
    let mut errors = Vec::new();
    let mut usage = Usage {
        routes: 1,
        integrations: 1,
    };
    for route in &manifest.routes {
        let at = || (route.page.clone(), route.file.clone());
        let max_duration_s = route.config.max_duration.unwrap_or(DEFAULT_TIMEOUT_S);
        if !LAMBDA_TIMEOUT_S.contains(&max_duration_s) {
            let (page, file) = at();
            errors.push(LimitError::MaxDurationOutOfRange {
                page,
                file,
                max_duration_s,
            });
        } else if over_gateway(max_duration_s, front_of(manifest, route)).is_some()
            && !route.route_keys.is_empty()
        {
            let (page, file) = at();
            errors.push(LimitError::MaxDurationOverGateway {
                page,
                file,
                max_duration_s,
                front: front_of(manifest, route),
            });
        }
        if let Some(memory_mb) = route.config.memory {
            if !LAMBDA_MEMORY_MB.contains(&memory_mb) {
                let (page, file) = at();
                errors.push(LimitError::MemoryOutOfRange {
                    page,
                    file,
                    memory_mb,
                    declared_in: MemorySource::Config,
                });
            }
        }
        if let Some(function) = &route.function {
            if !LAMBDA_TIMEOUT_S.contains(&function.timeout_s) {
                let (page, file) = at();
                errors.push(LimitError::TimeoutOutOfRange {
                    page,
                    file,
                    timeout_s: function.timeout_s,
                });
            }
            if !LAMBDA_MEMORY_MB.contains(&function.memory_mb) {
                let (page, file) = at();
                errors.push(LimitError::MemoryOutOfRange {
                    page,
                    file,
                    memory_mb: function.memory_mb,
                    declared_in: MemorySource::Function,
                });
            }
            if function.bytes > ZIP_LIMIT_BYTES {
                let (page, file) = at();
                errors.push(LimitError::ZipTooLarge {
                    page,
                    file,
                    bytes: function.bytes,
                });
            }
            if let Some(bytes) = unzipped_bytes(route).filter(|b| *b > UNZIPPED_LIMIT_BYTES) {
                let (page, file) = at();
                errors.push(LimitError::UnzippedTooLarge { page, file, bytes });
            }
        }
        usage.routes += route.route_keys.len();
        if !route.route_keys.is_empty() {
            usage.integrations += 1;
        }
    }
    // A REST API's quota is on resources, which the build checks when it lays out the tree
    // (`gateway::rest_api::resources`); routes and integrations are HTTP API quotas.
    let http = manifest.gateway.kind == GatewayKind::Http;
    if http && usage.routes > quotas.routes_per_api {
        errors.push(LimitError::TooManyRoutes {
            count: usage.routes,
            limit: quotas.routes_per_api,
        });
    }
    if http && usage.integrations > INTEGRATIONS_PER_API {
        errors.push(LimitError::TooManyIntegrations {
            count: usage.integrations,
            limit: INTEGRATIONS_PER_API,
        });
    }
    if errors.is_empty() {
        Ok(usage)
    } else {
        Err(LimitErrors(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nextr::config::RouteConfig;
    use nextr::manifest::{Architecture, Function};
    use nextr::routing::RouteKind;

    fn route(page: &str, keys: usize) -> ManifestRoute {
        ManifestRoute {
            page: page.into(),
            file: format!("{}.rs", page.trim_start_matches('/')),
            router: nextr::routing::Router::Pages,
            kind: RouteKind::Static,
            segments: Vec::new(),
            params: Vec::new(),
            route_keys: (0..keys).map(|i| format!("ANY {page}/k{i}")).collect(),
            config: RouteConfig::default(),
            function: None,
            build_error: None,
            throttle: None,
            log_retention_days: None,
        }
    }

    fn function(timeout_s: u32, memory_mb: u32, bytes: u64) -> Function {
        Function {
            name: "demo-fn".into(),
            bundle: "functions/demo-fn.zip".into(),
            sha256: "0".repeat(64),
            bytes,
            runtime: "provided.al2023".into(),
            handler: "bootstrap".into(),
            architecture: Architecture::X86_64,
            timeout_s,
            memory_mb,
            env: Default::default(),
            response_mode: Default::default(),
            function_url: None,
        }
    }

    fn manifest(routes: Vec<ManifestRoute>) -> Manifest {
        Manifest {
            routes,
            ..Manifest::new("demo", function(3, 128, 10))
        }
    }

    fn errors(m: &Manifest) -> Vec<LimitError> {
        check_limits(m, &Quotas::default(), |_| None).unwrap_err().0
    }

    #[test]
    fn a_sound_manifest_reports_its_usage() {
        let mut a = route("/api/a", 2);
        a.config.max_duration = Some(30);
        a.function = Some(function(30, 128, ZIP_LIMIT_BYTES));
        let m = manifest(vec![a, route("/api/b", 1), route("/api/unreachable", 0)]);
        let usage = check_limits(&m, &Quotas::default(), |_| Some(UNZIPPED_LIMIT_BYTES)).unwrap();
        assert_eq!(
            usage,
            Usage {
                routes: 4,
                integrations: 3
            }
        );
    }

    #[test]
    fn max_duration_over_the_gateway_timeout_names_route_file_and_options() {
        let mut r = route("/api/slow", 1);
        r.config.max_duration = Some(31);
        let e = errors(&manifest(vec![r.clone()]));
        assert_eq!(
            e,
            [LimitError::MaxDurationOverGateway {
                page: "/api/slow".into(),
                file: "api/slow.rs".into(),
                max_duration_s: 31,
                front: Front::default(),
            }]
        );
        let text = e[0].to_string();
        assert!(text.starts_with("api/slow.rs: route `/api/slow` declares max_duration: 31 s, but an API Gateway HTTP API ends every integration after 30 s"), "{text}");
        assert!(text.contains("lower max_duration to 30 or less"));
        assert!(text.contains("asynchronously"));
        // A route behind no key is not behind the gateway.
        r.route_keys.clear();
        assert!(check_limits(&manifest(vec![r]), &Quotas::default(), |_| None).is_ok());
    }

    #[test]
    fn lambda_ranges_and_sizes_all_reported_at_once() {
        let mut r = route("/api/x", 1);
        r.config.max_duration = Some(901);
        r.config.memory = Some(127);
        r.function = Some(function(0, 10_241, ZIP_LIMIT_BYTES + 1));
        let mut z = route("/api/zero", 1);
        z.config.max_duration = Some(0);
        let e = check_limits(&manifest(vec![r, z]), &Quotas::default(), |r| {
            (r.page == "/api/x").then_some(UNZIPPED_LIMIT_BYTES + 1)
        })
        .unwrap_err();
        let kinds: Vec<&str> =
            e.0.iter()
                .map(|e| match e {
                    LimitError::MaxDurationOutOfRange { .. } => "duration",
                    LimitError::MemoryOutOfRange {
                        declared_in: MemorySource::Config,
                        ..
                    } => "config memory",
                    LimitError::MemoryOutOfRange { .. } => "function memory",
                    LimitError::TimeoutOutOfRange { .. } => "timeout",
                    LimitError::ZipTooLarge { .. } => "zip",
                    LimitError::UnzippedTooLarge { .. } => "unzipped",
                    _ => "other",
                })
                .collect();
        assert_eq!(
            kinds,
            [
                "duration",
                "config memory",
                "timeout",
                "function memory",
                "zip",
                "unzipped",
                "duration"
            ]
        );
        assert!(e.to_string().starts_with("the app exceeds 7 AWS limits"));
    }

    #[test]
    fn routes_and_integrations_per_api() {
        // 299 keys + $default = 300 routes: fine; one more key is one too many.
        let m = manifest(vec![route("/api/a", 299)]);
        assert_eq!(
            check_limits(&m, &Quotas::default(), |_| None)
                .unwrap()
                .routes,
            300
        );
        let m = manifest(vec![route("/api/a", 300)]);
        assert_eq!(
            errors(&m),
            [LimitError::TooManyRoutes {
                count: 301,
                limit: 300
            }]
        );
        let raised = Quotas {
            routes_per_api: 400,
        };
        assert!(check_limits(&m, &raised, |_| None).is_ok());
        // A REST API has no route quota (its resources are checked at build).
        let mut rest = m.clone();
        rest.gateway.kind = GatewayKind::Rest;
        assert!(check_limits(&rest, &Quotas::default(), |_| None).is_ok());

        let many: Vec<ManifestRoute> = (0..300).map(|i| route(&format!("/api/r{i}"), 1)).collect();
        let e = check_limits(&manifest(many), &raised, |_| None).unwrap_err();
        assert_eq!(
            e.0,
            [LimitError::TooManyIntegrations {
                count: 301,
                limit: 300
            }]
        );
    }
}
