//! Assembling the route manifest from what the build found (routes, their config, their built
//! functions) and writing it to `.nextr/routes-manifest.json`.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

use std::collections::BTreeMap;

use nextr::limits::{
    DEFAULT_TIMEOUT_S, FALLBACK_MEMORY_MB, FALLBACK_TIMEOUT_S, LAMBDA_MEMORY_MB, LAMBDA_TIMEOUT_S,
};
use nextr::manifest::{
    layout, Architecture, DeployDefaults, Function, Gateway, Manifest, ManifestProxy,
    ManifestRoute, Profile, ProxyBundle, ProxyRoute, ResponseMode, Source, MANIFEST_FILE,
};
use nextr::routing::{Route, RouteTable, Router};
use nextr_infra::conflicts::{Analysis, Warning};
use nextr_infra::gateway::rest_api::ResourceTree;

use crate::analysis::{ProxyAnalysis, RouteAnalysis};
use crate::persist;
use crate::project::AppConfig;

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
    /// The gateway's keys of every route and of the fallback.
    pub gateway: &'a GatewayKeys,
    /// The analysis of every route file.
    pub analyses: &'a [RouteAnalysis],
    /// The function of every route but those left out.
    pub functions: &'a [BuiltFunction],
    /// The routes left out of a `nextr dev` build: their diagnostic by route file.
    pub left_out: &'a BTreeMap<String, String>,
    /// The app's `$default` function.
    pub fallback: &'a BuiltFunction,
    /// The app's proxy file, analysed.
    pub proxy: Option<&'a ProxyAnalysis>,
    /// The architecture every function was built for.
    pub architecture: Architecture,
    /// The cargo profile every function was built with.
    pub profile: Profile,
    /// `nextr.toml`: default memory, environment, gateway, deploy defaults.
    pub config: &'a AppConfig,
    /// What the build was made from.
    pub source: Source,
}

/// What the gateway analysis gave the build: each route's keys and the fallback's.
#[derive(Debug, Clone)]
pub enum GatewayKeys {
    /// An HTTP API: each route's own keys plus those the conflict analysis added so the
    /// gateway picks Next's winner; the fallback takes `$default`.
    Http(Analysis),
    /// A REST API: the resource tree, whose resources go to Next's route or the fallback.
    Rest(ResourceTree),
}

impl GatewayKeys {
    /// The keys of the route with this index (in Next's order) and page.
    fn route_keys(&self, index: usize, page: &str) -> Option<Vec<String>> {
        match self {
            GatewayKeys::Http(a) => a.route(page).map(|r| r.key_strings()),
            GatewayKeys::Rest(tree) => Some(tree.route_keys(index)),
        }
    }

    /// The fallback function's keys (`gateway.fallback_keys`).
    fn fallback_keys(&self) -> Vec<String> {
        match self {
            GatewayKeys::Http(_) => vec![nextr_infra::gateway::http_api::DEFAULT_ROUTE.to_owned()],
            GatewayKeys::Rest(tree) => tree.fallback_keys(),
        }
    }

    /// The warnings worth telling at every build and `nextr dev` start.
    pub fn warnings(&self) -> Vec<String> {
        match self {
            GatewayKeys::Http(a) => gateway_warnings(a),
            // The resource tree follows Next's precedence: nothing to warn about.
            GatewayKeys::Rest(_) => Vec::new(),
        }
    }
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
    #[error("{file}: max_duration {value} s is outside Lambda's range of {}–{} s", LAMBDA_TIMEOUT_S.start(), LAMBDA_TIMEOUT_S.end())]
    Timeout {
        /// The route file.
        file: String,
        /// The value.
        value: u32,
    },
    /// A memory size outside Lambda's range.
    #[error("{file}: memory {value} MB is outside Lambda's range of {}–{} MB", LAMBDA_MEMORY_MB.start(), LAMBDA_MEMORY_MB.end())]
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
/// the app default; environment merged from `nextr.toml`), the fallback, the gateway and its
/// warnings, and deploy's defaults.
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
    for (index, route) in input.table.routes().iter().enumerate() {
        let route_keys = input
            .gateway
            .route_keys(index, route.page())
            .ok_or_else(|| ManifestError::MissingKeys(route.page().to_owned()))?;
        if let Some(error) = input.left_out.get(&route.file) {
            // It keeps its keys, so its paths stay its own (dev answers them 500), and the
            // config it declared when its file could be read.
            routes.push(ManifestRoute {
                function: None,
                build_error: Some(error.clone()),
                ..manifest_route(route, route_keys, analyses.get(route.file.as_str()))
            });
            continue;
        }
        let analysis = analyses
            .get(route.file.as_str())
            .ok_or_else(|| ManifestError::MissingAnalysis(route.file.clone()))?;
        let function = functions
            .get(route.page())
            .ok_or_else(|| ManifestError::MissingFunction(route.page().to_owned()))?;
        let timeout_s = analysis.config.max_duration.unwrap_or(DEFAULT_TIMEOUT_S);
        if !LAMBDA_TIMEOUT_S.contains(&timeout_s) {
            return Err(ManifestError::Timeout {
                file: route.file.clone(),
                value: timeout_s,
            });
        }
        let memory_mb = analysis
            .config
            .memory
            .unwrap_or(input.config.default_memory_mb());
        if !LAMBDA_MEMORY_MB.contains(&memory_mb) {
            return Err(ManifestError::Memory {
                file: route.file.clone(),
                value: memory_mb,
            });
        }
        routes.push(ManifestRoute {
            function: Some(route_function(
                input.config,
                route.page(),
                function,
                input.architecture,
                (timeout_s, memory_mb),
            )),
            ..manifest_route(route, route_keys, Some(analysis))
        });
    }
    let warnings = input.gateway.warnings();
    let mut manifest = Manifest::new(
        input.app,
        function_of(
            input.fallback,
            input.architecture,
            (FALLBACK_TIMEOUT_S, FALLBACK_MEMORY_MB),
            input.config.app_env(),
        ),
    );
    manifest.profile = input.profile;
    manifest.gateway = Gateway {
        kind: input.config.gateway,
        warnings,
        fallback_keys: input.gateway.fallback_keys(),
        cors: input.config.cors.clone(),
        throttle: Some(input.config.stage_throttle()),
        domain: input.config.domain.clone(),
    };
    // `[routes."<page>".throttle]` and `log_retention_days`, carried per route so that dev
    // and deploy read them there.
    for route in &mut routes {
        let settings = input.config.routes.get(&route.page);
        route.throttle = settings.and_then(|r| r.throttle);
        route.log_retention_days = settings.and_then(|r| r.log_retention_days);
    }
    // `[[permissions]]` and each route's own: deploy turns them into the functions' roles.
    manifest.access.permissions = input.config.permissions.clone();
    for (page, settings) in &input.config.routes {
        if !settings.permissions.is_empty() {
            manifest
                .access
                .routes
                .entry(page.clone())
                .or_default()
                .permissions = settings.permissions.clone();
        }
    }
    manifest.deploy = DeployDefaults {
        stage: input.config.default_stage().to_owned(),
        region: input.config.region.clone(),
        keep_versions: input
            .config
            .keep_versions
            .unwrap_or(nextr::manifest::DEFAULT_KEEP_VERSIONS),
        log_retention_days: input.config.log_retention_days(),
    };
    // `[secrets]`, app-wide and per route: references only.
    input.config.fill_secrets(&mut manifest.access);
    manifest.source = input.source.clone();
    manifest.routes = routes;
    manifest.proxy = input.proxy.map(|p| ManifestProxy {
        file: p.file.clone(),
        matcher: p.matchers.clone(),
    });
    Ok(manifest)
}

/// What every bundle of an app with a proxy carries as `proxy.json`: the proxy's matcher and
/// the routes the manifest lists, in Next's order, each with the function [`assemble`] gives
/// it (`names`, in the table's order), none for a route `left_out`; `fallback` is the
/// `$default` function's name. Made before the zips, so before the manifest exists.
pub fn proxy_bundle(
    proxy: &ProxyAnalysis,
    table: &RouteTable,
    names: &[String],
    left_out: &BTreeMap<String, String>,
    fallback: &str,
) -> ProxyBundle {
    let routes = table
        .routes()
        .iter()
        .zip(names)
        .map(|(route, name)| ProxyRoute {
            page: route.page().to_owned(),
            router: route.router,
            function: (!left_out.contains_key(&route.file)).then(|| name.clone()),
        })
        .collect();
    ProxyBundle {
        file: proxy.file.clone(),
        matcher: proxy.matchers.clone(),
        pages_router: table.routes().iter().any(|r| r.router == Router::Pages),
        routes,
        fallback: fallback.to_owned(),
    }
}

/// A route's manifest entry without a function: what the route table, the gateway and the
/// analysis (when the file could be analysed) say about it.
fn manifest_route(
    route: &Route,
    route_keys: Vec<String>,
    analysis: Option<&&RouteAnalysis>,
) -> ManifestRoute {
    ManifestRoute {
        page: route.page().to_owned(),
        file: route.file.clone(),
        router: route.router,
        kind: route.kind(),
        segments: route
            .pattern
            .segments()
            .iter()
            .map(|s| s.as_written().into_owned())
            .collect(),
        params: route.pattern.params().collect(),
        route_keys,
        config: analysis.map(|a| a.config.clone()).unwrap_or_default(),
        function: None,
        build_error: None,
        throttle: None,
        log_retention_days: None,
    }
}

/// The gateway's warnings worth telling at every build and `nextr dev` start. Requests that
/// spell a dynamic pattern literally are a documented deviation (README), left out.
pub fn gateway_warnings(gateway: &Analysis) -> Vec<String> {
    gateway
        .warnings
        .iter()
        .filter(|w| !matches!(w, Warning::LiteralPattern(_)))
        .map(ToString::to_string)
        .collect()
}

/// The manifest entry of a route's built function: its environment, response mode and
/// function URL from `nextr.toml`.
fn route_function(
    config: &AppConfig,
    page: &str,
    built: &BuiltFunction,
    architecture: Architecture,
    sizes: (u32, u32),
) -> Function {
    Function {
        response_mode: config.front(page).mode,
        function_url: config.function_url(page),
        ..function_of(built, architecture, sizes, config.env_for(page))
    }
}

/// The environment the function of the route `page` runs with ([`Function::runtime_env`] of
/// the entry the manifest will list), known before its bundle exists: build-time
/// prerendering runs the function with it.
pub fn route_runtime_env(config: &AppConfig, page: &str) -> BTreeMap<String, String> {
    let unbuilt = BuiltFunction {
        page: page.to_owned(),
        name: String::new(),
        sha256: String::new(),
        bytes: 0,
    };
    route_function(config, page, &unbuilt, Architecture::default(), (0, 0)).runtime_env()
}

/// The manifest entry of a built function.
fn function_of(
    built: &BuiltFunction,
    architecture: Architecture,
    (timeout_s, memory_mb): (u32, u32),
    env: BTreeMap<String, String>,
) -> Function {
    Function {
        name: built.name.clone(),
        bundle: layout::bundle(&built.name, &built.sha256),
        sha256: built.sha256.clone(),
        bytes: built.bytes,
        runtime: LAMBDA_RUNTIME.to_owned(),
        handler: LAMBDA_HANDLER.to_owned(),
        architecture,
        timeout_s,
        memory_mb,
        env,
        response_mode: ResponseMode::Buffered,
        function_url: None,
    }
}

/// The manifest's path inside the output folder.
pub fn manifest_path(out: &Path) -> PathBuf {
    out.join(MANIFEST_FILE)
}

/// The manifest in `out`, when there is one this nextr reads.
pub fn read(out: &Path) -> Option<Manifest> {
    let text = std::fs::read_to_string(manifest_path(out)).ok()?;
    Manifest::from_json(&text).ok()
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

    fn gateway(table: &RouteTable) -> GatewayKeys {
        GatewayKeys::Http(nextr_infra::conflicts::analyze(table, &[], Default::default()).unwrap())
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
                router: r.router,
                methods: Vec::new(),
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

    fn fallback() -> BuiltFunction {
        BuiltFunction {
            page: "$default".into(),
            name: "docs-default".into(),
            sha256: "f".repeat(64),
            bytes: 10,
        }
    }

    fn config(text: &str) -> AppConfig {
        AppConfig::parse(std::path::Path::new("nextr.toml"), text).unwrap()
    }

    /// The docs table's manifest behind an HTTP API, every route built, with `config`.
    fn docs_manifest(config: &AppConfig, architecture: Architecture, profile: Profile) -> Manifest {
        let table = docs_table();
        let (analyses, functions) = inputs(&table);
        assemble(&ManifestInput {
            app: "docs",
            table: &table,
            gateway: &gateway(&table),
            analyses: &analyses,
            functions: &functions,
            left_out: &BTreeMap::new(),
            fallback: &fallback(),
            proxy: None,
            architecture,
            profile,
            config,
            source: Source::default(),
        })
        .unwrap()
    }

    #[test]
    fn the_docs_app_manifest() {
        let config = config(
            "memory = 256\nstage = \"prod\"\n[env]\nAA = \"1\"\n[routes.\"/api/hello\".env]\nAA = \"2\"\n",
        );
        let manifest = docs_manifest(&config, Architecture::Arm64, Profile::Debug);
        // nextr.toml's env is merged once, here: the route's own over the app's.
        assert_eq!(manifest.routes[0].function.as_ref().unwrap().env["AA"], "2");
        assert_eq!(manifest.routes[1].function.as_ref().unwrap().env["AA"], "1");
        assert_eq!(manifest.fallback.env["AA"], "1");
        assert_eq!(manifest.deploy.stage, "prod");
        assert_eq!(manifest.profile, Profile::Debug);
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
    fn cors_and_throttles_go_into_the_manifest() {
        let config = config(
            "[cors]\nallow_origins = [\"*\"]\n[throttle]\nrate = 10\nburst = 5\n[routes.\"/api/hello\".throttle]\nrate = 1\nburst = 1\n",
        );
        let manifest = docs_manifest(&config, Architecture::Arm64, Profile::Debug);
        let cors = manifest.gateway.cors.as_ref().unwrap();
        assert_eq!(cors.allow_origins, ["*"]);
        let t = |rate, burst| Some(nextr::manifest::Throttle { rate, burst });
        assert_eq!(manifest.gateway.throttle, t(10, 5));
        assert_eq!(manifest.routes[0].page, "/api/hello");
        assert_eq!(manifest.routes[0].throttle, t(1, 1));
        assert_eq!(manifest.routes[1].throttle, None);
        assert_eq!(Manifest::from_json(&manifest.to_json()).unwrap(), manifest);
    }

    #[test]
    fn a_rest_manifest_has_resources_and_fallback_keys() {
        let table = docs_table();
        let (analyses, functions) = inputs(&table);
        let tree = nextr_infra::gateway::rest_api::default_resource_tree(&table).unwrap();
        let manifest = assemble(&ManifestInput {
            app: "docs",
            table: &table,
            gateway: &GatewayKeys::Rest(tree),
            analyses: &analyses,
            functions: &functions,
            left_out: &BTreeMap::new(),
            fallback: &fallback(),
            proxy: None,
            architecture: Architecture::Arm64,
            profile: Profile::Release,
            config: &config("gateway = \"rest\"\n"),
            source: Source::default(),
        })
        .unwrap();
        assert_eq!(manifest.gateway.kind, nextr::manifest::GatewayKind::Rest);
        assert_eq!(
            manifest.routes[1].route_keys,
            ["ANY /api/note", "ANY /api/note/{slug+}"]
        );
        assert!(manifest.gateway.fallback_keys.contains(&"ANY /".to_owned()));
        assert!(manifest.gateway.warnings.is_empty());
        // The gateway dev builds from it accepts it.
        assert!(nextr_infra::gateway::Gateway::new(&manifest).is_ok());
    }

    #[test]
    fn missing_pieces_and_bad_values_are_errors() {
        let table = docs_table();
        let (mut analyses, functions) = inputs(&table);
        let keys = gateway(&table);
        let plain = AppConfig::default();
        let fallback = fallback();
        let input = |analyses: &[RouteAnalysis], functions: &[BuiltFunction]| {
            assemble(&ManifestInput {
                app: "docs",
                table: &table,
                gateway: &keys,
                analyses,
                functions,
                left_out: &BTreeMap::new(),
                fallback: &fallback,
                proxy: None,
                architecture: Architecture::X86_64,
                profile: Profile::Release,
                config: &plain,
                source: Source::default(),
            })
        };
        assert!(matches!(
            input(&analyses, &functions[1..]),
            Err(ManifestError::MissingFunction(p)) if p == "/api/hello"
        ));
        assert!(matches!(
            input(&analyses[1..], &functions),
            Err(ManifestError::MissingAnalysis(f)) if f == "api/hello.rs"
        ));
        analyses[0].config.memory = Some(64);
        assert!(matches!(
            input(&analyses, &functions),
            Err(ManifestError::Memory { value: 64, .. })
        ));
        analyses[0].config.memory = None;
        analyses[0].config.max_duration = Some(901);
        assert!(matches!(
            input(&analyses, &functions),
            Err(ManifestError::Timeout { value: 901, .. })
        ));
    }

    #[test]
    fn routes_left_out_keep_their_keys_and_carry_their_diagnostic() {
        let table = docs_table();
        let (analyses, functions) = inputs(&table);
        // `api/hello.rs` failed analysis (no analysis), `api/post/[pid].rs` failed to
        // compile (analysed, with its config): neither has a function.
        let analyses: Vec<RouteAnalysis> = analyses
            .into_iter()
            .filter(|a| a.file != "api/hello.rs")
            .collect();
        let functions: Vec<BuiltFunction> = functions
            .into_iter()
            .filter(|f| f.page != "/api/hello" && f.page != "/api/post/[pid]")
            .collect();
        let left_out = BTreeMap::from([
            ("api/hello.rs".to_owned(), "no handler".to_owned()),
            ("api/post/[pid].rs".to_owned(), "error[E0308]".to_owned()),
        ]);
        let manifest = assemble(&ManifestInput {
            app: "docs",
            table: &table,
            gateway: &gateway(&table),
            analyses: &analyses,
            functions: &functions,
            left_out: &left_out,
            fallback: &fallback(),
            proxy: None,
            architecture: Architecture::X86_64,
            profile: Profile::Debug,
            config: &AppConfig::default(),
            source: Source::default(),
        })
        .unwrap();
        let hello = &manifest.routes[0];
        assert_eq!(hello.file, "api/hello.rs");
        assert_eq!(hello.function, None);
        assert_eq!(hello.build_error.as_deref(), Some("no handler"));
        assert_eq!(hello.route_keys, ["ANY /api/hello"]);
        assert_eq!(hello.config, RouteConfig::default());
        let pid = &manifest.routes[3];
        assert_eq!(pid.file, "api/post/[pid].rs");
        assert_eq!(pid.function, None);
        assert_eq!(pid.build_error.as_deref(), Some("error[E0308]"));
        assert_eq!(pid.config.memory, Some(512));
        // The others are built as ever.
        for r in [
            &manifest.routes[1],
            &manifest.routes[2],
            &manifest.routes[4],
        ] {
            assert!(r.function.is_some() && r.build_error.is_none(), "{r:?}");
        }
        assert_eq!(manifest.functions().count(), 4);
        // Written and read back, and never deployable.
        assert_eq!(Manifest::from_json(&manifest.to_json()).unwrap(), manifest);
        let e = manifest.check_complete().unwrap_err();
        assert_eq!(e.files, ["api/hello.rs", "api/post/[pid].rs"]);
        // The gateway dev builds still routes the left-out route's paths to it.
        let gw = nextr_infra::gateway::Gateway::new(&manifest).unwrap();
        assert!(matches!(
            gw.route("/api/hello"),
            nextr_infra::gateway::Routed::Route { owner: 0, .. }
        ));
    }

    #[test]
    fn the_proxy_goes_into_the_manifest_and_proxy_json_names_its_functions() {
        use nextr::proxy::matcher::MatcherSpec;
        let table = RouteTable::from_files([
            "api/hello.rs",
            "api/post/[pid].rs",
            "app/hooks/[id]/route.rs",
        ])
        .unwrap();
        let (analyses, functions) = inputs(&table);
        // `api/post/[pid].rs` did not build (a dev build): no function.
        let functions: Vec<BuiltFunction> = functions
            .into_iter()
            .filter(|f| f.page != "/api/post/[pid]")
            .collect();
        let left_out = BTreeMap::from([("api/post/[pid].rs".to_owned(), "error".to_owned())]);
        let proxy = ProxyAnalysis {
            file: "proxy.rs".into(),
            convention: crate::project::ProxyConvention::Proxy,
            matchers: Some(vec![MatcherSpec::source("/api/:path*")]),
        };
        let manifest = assemble(&ManifestInput {
            app: "docs",
            table: &table,
            gateway: &gateway(&table),
            analyses: &analyses,
            functions: &functions,
            left_out: &left_out,
            fallback: &fallback(),
            proxy: Some(&proxy),
            architecture: Architecture::X86_64,
            profile: Profile::Debug,
            config: &AppConfig::default(),
            source: Source::default(),
        })
        .unwrap();
        assert_eq!(
            manifest.proxy,
            Some(ManifestProxy {
                file: "proxy.rs".into(),
                matcher: Some(vec![MatcherSpec::source("/api/:path*")]),
            })
        );
        assert_eq!(Manifest::from_json(&manifest.to_json()).unwrap(), manifest);

        let names: Vec<String> = table
            .routes()
            .iter()
            .map(|r| crate::bundle::function_name("docs", r.page()))
            .collect();
        let bundle = proxy_bundle(&proxy, &table, &names, &left_out, "docs-default");
        // The routes as the manifest lists them, each with the manifest's function name.
        let listed: Vec<(String, Router, Option<String>)> = manifest
            .routes
            .iter()
            .map(|r| {
                let name = r.function.as_ref().map(|f| f.name.clone());
                (r.page.clone(), r.router, name)
            })
            .collect();
        let carried: Vec<(String, Router, Option<String>)> = bundle
            .routes
            .iter()
            .map(|r| (r.page.clone(), r.router, r.function.clone()))
            .collect();
        assert_eq!(carried, listed);
        assert_eq!(bundle.routes[1].function, None);
        assert_eq!(bundle.fallback, manifest.fallback.name);
        assert_eq!(bundle.matcher, proxy.matchers);
        assert!(bundle.pages_router);
        assert_eq!(bundle.file, "proxy.rs");
        // Without Pages routes, `pages_router` is false.
        let app_only = RouteTable::from_files(["app/hooks/[id]/route.rs"]).unwrap();
        let names = ["docs-hooks-id".to_owned()];
        let b = proxy_bundle(&proxy, &app_only, &names, &BTreeMap::new(), "docs-default");
        assert!(!b.pages_router);
        assert_eq!(b.routes[0].function.as_deref(), Some("docs-hooks-id"));
    }

    #[test]
    fn app_routes_at_the_root_and_outside_api_over_both_gateways() {
        use nextr::routing::Router;
        let table = RouteTable::from_files([
            "api/hello.rs",
            "app/route.rs",
            "app/hooks/deliver/[id]/route.rs",
            "app/api/mix/[id]/route.rs",
        ])
        .unwrap();
        let (analyses, functions) = inputs(&table);
        let names: std::collections::HashSet<&str> =
            functions.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names.len(), 4);
        let rest = nextr_infra::gateway::rest_api::default_resource_tree(&table).unwrap();
        for (gateway, config) in [
            (gateway(&table), AppConfig::default()),
            (GatewayKeys::Rest(rest), config("gateway = \"rest\"\n")),
        ] {
            let manifest = assemble(&ManifestInput {
                app: "docs",
                table: &table,
                gateway: &gateway,
                analyses: &analyses,
                functions: &functions,
                left_out: &BTreeMap::new(),
                fallback: &fallback(),
                proxy: None,
                architecture: Architecture::X86_64,
                profile: Profile::Release,
                config: &config,
                source: Source::default(),
            })
            .unwrap();
            let root = manifest.routes.iter().find(|r| r.page == "/").unwrap();
            assert_eq!(root.router, Router::App);
            assert_eq!(root.file, "app/route.rs");
            assert_eq!(root.route_keys, ["ANY /"]);
            let hook = manifest
                .routes
                .iter()
                .find(|r| r.page == "/hooks/deliver/[id]")
                .unwrap();
            assert_eq!(hook.route_keys, ["ANY /hooks/deliver/{id}"]);
            let hello = manifest
                .routes
                .iter()
                .find(|r| r.page == "/api/hello")
                .unwrap();
            assert_eq!(hello.router, Router::Pages);
            // The gateway dev builds from it takes each path to its route, not the fallback.
            let gw = nextr_infra::gateway::Gateway::new(&manifest).unwrap();
            for (target, page) in [
                ("/", "/"),
                ("/?q=1", "/"),
                ("/hooks/deliver/42", "/hooks/deliver/[id]"),
                ("/api/mix/7", "/api/mix/[id]"),
                ("/api/hello", "/api/hello"),
            ] {
                match gw.route(target) {
                    nextr_infra::gateway::Routed::Route { owner, .. } => {
                        assert_eq!(manifest.routes[owner].page, page, "{target}")
                    }
                    other => panic!("{target}: {other:?}"),
                }
            }
            assert!(Manifest::from_json(&manifest.to_json()).is_ok());
        }
    }

    #[test]
    fn a_routes_runtime_env_is_known_before_it_is_built() {
        let config = config(
            "gateway = \"rest\"\n[env]\nAA = \"1\"\n[routes.\"/hooks/[id]\"]\nresponse = \"buffered\"\n[routes.\"/hooks/[id]\".env]\nAA = \"2\"\n",
        );
        let env = route_runtime_env(&config, "/hooks/[id]");
        assert_eq!(env["AA"], "2");
        assert_eq!(env[nextr::manifest::RESPONSE_MODE_ENV], "buffered");
        // The REST gateway streams by default.
        assert_eq!(
            route_runtime_env(&config, "/")[nextr::manifest::RESPONSE_MODE_ENV],
            "stream"
        );
        assert_eq!(route_runtime_env(&config, "/")["AA"], "1");
    }

    #[test]
    fn the_manifest_is_written_atomically_and_only_when_changed() {
        let manifest = docs_manifest(
            &AppConfig::default(),
            Architecture::X86_64,
            Profile::Release,
        );
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
