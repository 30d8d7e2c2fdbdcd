//! Assembling the route manifest from what the build found (routes, their config, their built
//! functions) and writing it to `.nextr/routes-manifest.json`.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

use nextr::config::DEFAULT_MAX_DURATION_S;
use nextr::manifest::{
    Architecture, Function, Manifest, ManifestRoute, MANIFEST_FILE, MANIFEST_VERSION,
};
use nextr::routing::RouteTable;
use nextr_infra::conflicts::Analysis;

use crate::analysis::RouteAnalysis;
use crate::persist;

/// Lambda's timeout range in seconds.
pub const TIMEOUT_RANGE_S: std::ops::RangeInclusive<u32> = 1..=900;
/// Lambda's memory range in MB.
pub const MEMORY_RANGE_MB: std::ops::RangeInclusive<u32> = 128..=10240;
/// The runtime every function is deployed with.
pub const LAMBDA_RUNTIME: &str = "provided.al2023";
/// The handler name of a custom runtime: the binary in the zip.
pub const LAMBDA_HANDLER: &str = "bootstrap";

/// One route's built function: its name and its zip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltFunction {
    /// The page pattern it serves.
    pub page: String,
    /// The function name.
    pub name: String,
    /// Hex sha256 of the zip.
    pub sha256: String,
    /// Size of the zip in bytes.
    pub bytes: u64,
}

/// Everything a manifest is assembled from.
#[derive(Debug, Clone)]
pub struct ManifestInput<'a> {
    /// The app name.
    pub app: &'a str,
    /// The routes, in precedence order.
    pub table: &'a RouteTable,
    /// The API Gateway route keys of every route (own keys plus those added so the gateway
    /// picks Next's winner).
    pub gateway: &'a Analysis,
    /// The analysis of every route file.
    pub analyses: &'a [RouteAnalysis],
    /// The function of every route.
    pub functions: &'a [BuiltFunction],
    /// The architecture every function was built for.
    pub architecture: Architecture,
    /// Memory of routes whose config sets none (`nextr.toml`'s `memory`, or 1024).
    pub default_memory_mb: u32,
}

/// Why a manifest could not be assembled or written.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// A route has no analysis: the build's steps disagree on the routes.
    #[error("internal: no analysis for route file {0}")]
    MissingAnalysis(String),
    /// A route has no route keys.
    #[error("internal: no route keys for route {0}")]
    MissingKeys(String),
    /// A route has no built function.
    #[error("internal: no built function for route {0}")]
    MissingFunction(String),
    /// A timeout outside Lambda's range.
    #[error("{file}: max_duration {value} s is outside Lambda's range of 1–900 s")]
    Timeout {
        /// The route file.
        file: String,
        /// The value.
        value: u32,
    },
    /// A memory size outside Lambda's range.
    #[error("{file}: memory {value} MB is outside Lambda's range of 128–10240 MB")]
    Memory {
        /// The route file.
        file: String,
        /// The value.
        value: u32,
    },
    /// The manifest could not be written.
    #[error("cannot write {}", .path.display())]
    Write {
        /// The manifest's path.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
}

/// Builds the manifest: routes in precedence order with their params, route keys, declared
/// config, and function (timeout from `max_duration`, default 5 s; memory from `memory`, else
/// the app default).
pub fn assemble(input: &ManifestInput<'_>) -> Result<Manifest, ManifestError> {
    let analyses: HashMap<&str, &RouteAnalysis> = input
        .analyses
        .iter()
        .map(|a| (a.file.as_str(), a))
        .collect();
    let functions: HashMap<&str, &BuiltFunction> = input
        .functions
        .iter()
        .map(|f| (f.page.as_str(), f))
        .collect();
    let mut routes = Vec::with_capacity(input.table.routes().len());
    for route in input.table.routes() {
        let analysis = analyses
            .get(route.file.as_str())
            .ok_or_else(|| ManifestError::MissingAnalysis(route.file.clone()))?;
        let function = functions
            .get(route.page())
            .ok_or_else(|| ManifestError::MissingFunction(route.page().to_owned()))?;
        let route_keys = input
            .gateway
            .route(route.page())
            .ok_or_else(|| ManifestError::MissingKeys(route.page().to_owned()))?
            .key_strings();
        let timeout_s = analysis
            .config
            .max_duration
            .unwrap_or(DEFAULT_MAX_DURATION_S);
        if !TIMEOUT_RANGE_S.contains(&timeout_s) {
            return Err(ManifestError::Timeout {
                file: route.file.clone(),
                value: timeout_s,
            });
        }
        let memory_mb = analysis.config.memory.unwrap_or(input.default_memory_mb);
        if !MEMORY_RANGE_MB.contains(&memory_mb) {
            return Err(ManifestError::Memory {
                file: route.file.clone(),
                value: memory_mb,
            });
        }
        routes.push(ManifestRoute {
            page: route.page().to_owned(),
            file: route.file.clone(),
            kind: route.kind(),
            segments: route
                .pattern
                .segments()
                .iter()
                .map(|s| s.as_written().into_owned())
                .collect(),
            params: route.pattern.params().collect(),
            route_keys,
            config: analysis.config.clone(),
            function: Some(Function {
                name: function.name.clone(),
                bundle: format!("functions/{}.zip", function.name),
                sha256: function.sha256.clone(),
                bytes: function.bytes,
                runtime: LAMBDA_RUNTIME.to_owned(),
                handler: LAMBDA_HANDLER.to_owned(),
                architecture: input.architecture,
                timeout_s,
                memory_mb,
            }),
        });
    }
    Ok(Manifest {
        version: MANIFEST_VERSION,
        app: input.app.to_owned(),
        nextr_version: env!("CARGO_PKG_VERSION").to_owned(),
        routes,
        // The `$default` fallback function is not built yet (the runtime provides it); deploy
        // says so and creates no `$default` route until it is.
        fallback: None,
    })
}

/// The manifest's path inside the output folder.
pub fn manifest_path(out: &Path) -> PathBuf {
    out.join(MANIFEST_FILE)
}

/// Writes `<out>/routes-manifest.json` atomically, unless it already holds the same text.
/// Returns whether it wrote.
pub fn write(out: &Path, manifest: &Manifest) -> Result<bool, ManifestError> {
    let path = manifest_path(out);
    persist::write_if_changed(&path, manifest.to_json().as_bytes())
        .map_err(|source| ManifestError::Write { path, source })
}

#[cfg(test)]
mod tests {
    use super::*;
    use nextr::config::RouteConfig;

    fn gateway(table: &RouteTable) -> Analysis {
        nextr_infra::conflicts::analyze(table, &[], Default::default()).unwrap()
    }

    fn docs_table() -> RouteTable {
        RouteTable::from_files([
            "api/hello.rs",
            "api/note/[[...slug]].rs",
            "api/post/[...slug].rs",
            "api/post/[pid].rs",
            "api/post/create.rs",
        ])
        .unwrap()
    }

    fn inputs(table: &RouteTable) -> (Vec<RouteAnalysis>, Vec<BuiltFunction>) {
        let analyses = table
            .routes()
            .iter()
            .map(|r| RouteAnalysis {
                file: r.file.clone(),
                config: if r.page() == "/api/post/[pid]" {
                    RouteConfig {
                        max_duration: Some(10),
                        memory: Some(512),
                        ..RouteConfig::default()
                    }
                } else {
                    RouteConfig::default()
                },
                declares_config: r.page() == "/api/post/[pid]",
            })
            .collect();
        let functions = table
            .routes()
            .iter()
            .enumerate()
            .map(|(i, r)| BuiltFunction {
                page: r.page().to_owned(),
                name: crate::bundle::function_name("docs", r.page()),
                sha256: format!("{i:064x}"),
                bytes: 1000 + i as u64,
            })
            .collect();
        (analyses, functions)
    }

    #[test]
    fn the_docs_app_manifest() {
        let table = docs_table();
        let (analyses, functions) = inputs(&table);
        let manifest = assemble(&ManifestInput {
            app: "docs",
            table: &table,
            gateway: &gateway(&table),
            analyses: &analyses,
            functions: &functions,
            architecture: Architecture::Arm64,
            default_memory_mb: 256,
        })
        .unwrap();
        let pages: Vec<&str> = manifest.routes.iter().map(|r| r.page.as_str()).collect();
        assert_eq!(
            pages,
            [
                "/api/hello",
                "/api/note/[[...slug]]",
                "/api/post/create",
                "/api/post/[pid]",
                "/api/post/[...slug]"
            ]
        );
        let pid = &manifest.routes[3];
        let f = pid.function.as_ref().unwrap();
        assert_eq!((f.timeout_s, f.memory_mb), (10, 512));
        let hello = manifest.routes[0].function.as_ref().unwrap();
        assert_eq!((hello.timeout_s, hello.memory_mb), (5, 256));
        assert_eq!(
            manifest.routes[1].route_keys,
            ["ANY /api/note", "ANY /api/note/{slug+}"]
        );
        // What is written reads back with the runtime's own reader.
        assert_eq!(Manifest::from_json(&manifest.to_json()).unwrap(), manifest);
        let json = manifest
            .to_json()
            .replace(env!("CARGO_PKG_VERSION"), "<version>");
        insta::assert_snapshot!("docs_manifest", json);
    }

    #[test]
    fn missing_pieces_and_bad_values_are_errors() {
        let table = docs_table();
        let (mut analyses, functions) = inputs(&table);
        let keys = gateway(&table);
        let input = |analyses: &[RouteAnalysis], functions: &[BuiltFunction], memory| {
            assemble(&ManifestInput {
                app: "docs",
                table: &table,
                gateway: &keys,
                analyses,
                functions,
                architecture: Architecture::X86_64,
                default_memory_mb: memory,
            })
        };
        assert!(matches!(
            input(&analyses, &functions[1..], 1024),
            Err(ManifestError::MissingFunction(p)) if p == "/api/hello"
        ));
        assert!(matches!(
            input(&analyses[1..], &functions, 1024),
            Err(ManifestError::MissingAnalysis(f)) if f == "api/hello.rs"
        ));
        assert!(matches!(
            input(&analyses, &functions, 64),
            Err(ManifestError::Memory { value: 64, .. })
        ));
        analyses[0].config.max_duration = Some(901);
        assert!(matches!(
            input(&analyses, &functions, 1024),
            Err(ManifestError::Timeout { value: 901, .. })
        ));
    }

    #[test]
    fn the_manifest_is_written_atomically_and_only_when_changed() {
        let table = docs_table();
        let (analyses, functions) = inputs(&table);
        let manifest = assemble(&ManifestInput {
            app: "docs",
            table: &table,
            gateway: &gateway(&table),
            analyses: &analyses,
            functions: &functions,
            architecture: Architecture::X86_64,
            default_memory_mb: nextr::config::DEFAULT_MEMORY_MB,
        })
        .unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join(".nextr");
        assert!(write(&out, &manifest).unwrap());
        assert!(!write(&out, &manifest).unwrap());
        let text = std::fs::read_to_string(manifest_path(&out)).unwrap();
        assert_eq!(Manifest::from_json(&text).unwrap(), manifest);
        let entries: Vec<_> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(entries, ["routes-manifest.json"]);
    }
}
