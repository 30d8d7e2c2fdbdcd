//! The route manifest (`.nextr/routes-manifest.json`): the contract between build, dev and
//! deploy. Build writes it; everything downstream reads it and re-derives nothing.

use serde::{Deserialize, Serialize};

use crate::config::RouteConfig;
use crate::routing::{Param, RouteKind};

/// The schema version this crate reads and writes.
pub const MANIFEST_VERSION: u32 = 1;

/// The manifest's file name inside the output directory.
pub const MANIFEST_FILE: &str = "routes-manifest.json";

/// The whole manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`MANIFEST_VERSION`].
    pub version: u32,
    /// The app name (from `nextr.toml` or the package name).
    pub app: String,
    /// The nextr version that wrote the manifest.
    pub nextr_version: String,
    /// Routes in precedence order.
    pub routes: Vec<ManifestRoute>,
    /// The built-in function behind API Gateway's `$default` route: it answers trailing-slash
    /// and `//` requests with Next's 308 and everything else with 404. Absent in manifests
    /// written before it existed (deploy then creates no `$default` route, and says so).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<Function>,
}

/// One route of the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestRoute {
    /// Page pattern, e.g. `/api/post/[pid]`.
    pub page: String,
    /// Route file relative to the app root.
    pub file: String,
    /// Route kind.
    pub kind: RouteKind,
    /// The pattern's segments as written (`["api", "post", "[pid]"]`).
    pub segments: Vec<String>,
    /// Parameters in path order.
    pub params: Vec<Param>,
    /// API Gateway HTTP API route keys (`ANY /api/post/{pid}`).
    pub route_keys: Vec<String>,
    /// The route's configuration as declared.
    pub config: RouteConfig,
    /// The built Lambda function; absent until `nextr build` has produced the bundle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<Function>,
}

/// The Lambda function that serves one route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Function {
    /// Deterministic function name derived from app and route.
    pub name: String,
    /// The zip, relative to the manifest's directory (`functions/<name>.zip`).
    pub bundle: String,
    /// Hex sha256 of the zip.
    pub sha256: String,
    /// Size of the zip in bytes.
    pub bytes: u64,
    /// Always `provided.al2023`.
    pub runtime: String,
    /// Always `bootstrap`.
    pub handler: String,
    /// CPU architecture.
    pub architecture: Architecture,
    /// Lambda timeout in seconds.
    pub timeout_s: u32,
    /// Lambda memory in MB.
    pub memory_mb: u32,
}

/// Lambda CPU architecture.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Architecture {
    /// x86-64.
    #[default]
    #[serde(rename = "x86_64")]
    X86_64,
    /// Graviton.
    #[serde(rename = "arm64")]
    Arm64,
}

/// Why a manifest could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// Not valid JSON for the schema.
    #[error("the route manifest is not valid: {0}")]
    Invalid(#[from] serde_json::Error),
    /// Written by an incompatible nextr.
    #[error("the route manifest has version {found}, this nextr reads version {MANIFEST_VERSION}; run `nextr build` again")]
    Version {
        /// The version found in the file.
        found: u32,
    },
}

impl Manifest {
    /// Parses a manifest, refusing other schema versions.
    pub fn from_json(text: &str) -> Result<Self, ManifestError> {
        #[derive(Deserialize)]
        struct Probe {
            version: u32,
        }
        let probe: Probe = serde_json::from_str(text)?;
        if probe.version != MANIFEST_VERSION {
            return Err(ManifestError::Version {
                found: probe.version,
            });
        }
        Ok(serde_json::from_str(text)?)
    }

    /// Pretty JSON with a trailing newline, as written to disk.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routing::ParamKind;

    #[test]
    fn version_is_checked_and_round_trips() {
        let m = Manifest {
            version: 1,
            app: "demo".into(),
            nextr_version: "0.1.0".into(),
            routes: vec![ManifestRoute {
                page: "/api/post/[pid]".into(),
                file: "api/post/[pid].rs".into(),
                kind: RouteKind::Dynamic,
                segments: vec!["api".into(), "post".into(), "[pid]".into()],
                params: vec![Param {
                    name: "pid".into(),
                    kind: ParamKind::Single,
                }],
                route_keys: vec!["ANY /api/post/{pid}".into()],
                config: RouteConfig::default(),
                function: None,
            }],
            fallback: None,
        };
        let text = m.to_json();
        assert_eq!(Manifest::from_json(&text).unwrap(), m);
        let v2 = text.replace("\"version\": 1", "\"version\": 2");
        assert!(matches!(
            Manifest::from_json(&v2),
            Err(ManifestError::Version { found: 2 })
        ));
    }

    #[test]
    fn fallback_is_optional_and_round_trips() {
        let old = r#"{"version":1,"app":"demo","nextr_version":"0.1.0","routes":[]}"#;
        let m = Manifest::from_json(old).unwrap();
        assert_eq!(m.fallback, None);
        assert!(!m.to_json().contains("fallback"));
        let with = Manifest {
            fallback: Some(Function {
                name: "demo-default".into(),
                bundle: "functions/demo-default.zip".into(),
                sha256: "00".repeat(32),
                bytes: 10,
                runtime: "provided.al2023".into(),
                handler: "bootstrap".into(),
                architecture: Architecture::Arm64,
                timeout_s: 3,
                memory_mb: 128,
            }),
            ..m
        };
        assert_eq!(Manifest::from_json(&with.to_json()).unwrap(), with);
    }
}
