//! `nextr build` as a pipeline: discover (the app, its `proxy.rs`) → scan → analyse (route
//! files and the proxy) → generate → one cargo build → check every binary → zip (each with
//! `proxy.json` when the app has a proxy) → manifest. Nothing under the output folder is
//! touched until every binary has been built and checked, so a failed build leaves the
//! previous bundles and manifest as they were.
//!
//! `nextr dev`'s builds isolate route errors ([`BuildOptions::isolate_route_errors`]): a route
//! whose file fails analysis or compilation is left out of the bundle crate (or its binary is
//! not zipped) and recorded in the manifest with its diagnostic, so one broken file does not
//! stop the others from reloading. Errors that are not one route's (the app's lib, `Cargo.toml`,
//! `nextr.toml`, the route table, `proxy.rs`, which every function includes) fail the build as
//! in `nextr build`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nextr::limits::DEFAULT_TIMEOUT_S;
use nextr::manifest::{
    layout, Architecture, GatewayKind, Manifest, ManifestProxy, Profile, Source, PRERENDERED_FILE,
    PROXY_FILE,
};
use nextr::routing::Router;

use nextr_infra::conflicts::{self, ConflictErrors};
use nextr_infra::gateway::rest_api::{default_resource_tree, ResourceErrors};
use nextr_infra::template;

use crate::analysis::{
    analyze_proxy_file, analyze_routes_partially, AnalysisReport, ProxyAnalysis, RouteAnalysis,
};
use crate::bundle::cargo::{BuildEvent, CargoBuild, CargoError, PartialBuild};
use crate::bundle::codegen::{
    self, BundleEntry, BundleProxy, BundleRoute, BundleSpec, CodegenError, Profiles,
};
use crate::bundle::elf::{self, ElfError};
use crate::bundle::prerender::{self, PrerenderError, PrerenderJob};
use crate::bundle::toolchain::{HostTools, Toolchain, ToolchainError};
use crate::bundle::zip::{self, ZipCache, ZipError};
use crate::bundle::{function_name, function_names, NameCollision};
use crate::fingerprint;
use crate::manifest::{
    self as route_manifest, BuiltFunction, GatewayKeys, ManifestError, ManifestInput,
};
use crate::project::{
    find_proxy, route_table, AppConfig, AppConfigError, DotEnv, DotEnvError, EnvMode, Project,
    ProjectError,
};
use crate::report::{render, ReportStyle};

/// The page name of the app's `$default` function in messages and function names.
pub const FALLBACK_PAGE: &str = "$default";

/// The zip cache's file in the bundle crate's folder (see [`ZipCache`]).
const ZIP_CACHE: &str = "nextr-zips.json";

/// Test hook: abort the process (as `kill -9` would) once this many zips have been written,
/// so tests can interrupt a real `nextr build` in its zip phase.
const ABORT_HOOK: &str = "NEXTR_TEST_ABORT_AFTER_ZIPS";

/// What `nextr build` was asked to do.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The app folder.
    pub dir: PathBuf,
    /// Release, or debug (`--debug`, and `nextr dev`).
    pub profile: Profile,
    /// Which `.env` files the functions' environment takes: production for `nextr build`,
    /// development for `nextr dev` and `nextr invoke`, whatever the profile.
    pub env_mode: EnvMode,
    /// `--arch`; `nextr.toml`'s `architecture`, then x86_64, when absent.
    pub arch: Option<Architecture>,
    /// `NEXTR_ZIGBUILD`: link with cargo-zigbuild for the host's own architecture too (a
    /// build for the other architecture always does).
    pub zigbuild: bool,
    /// The build folder; `<app>/.nextr` when absent.
    pub out: Option<PathBuf>,
    /// The cargo to run.
    pub cargo: PathBuf,
    /// Colours in compiler diagnostics.
    pub color: bool,
    /// `nextr dev`: a route whose file fails analysis or compilation is left out and recorded
    /// in the manifest as not building (with its diagnostic) instead of failing the build.
    /// `nextr build` never sets it: deploy takes only whole builds.
    pub isolate_route_errors: bool,
}

/// What the pipeline reports while it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// The routes are known and the build is about to start.
    Planned {
        /// The app name.
        app: String,
        /// `(page, function)` of every route, in precedence order.
        routes: Vec<(String, String)>,
        /// The target architecture.
        arch: Architecture,
        /// Native or zigbuild.
        toolchain: Toolchain,
    },
    /// Something cargo reported.
    Cargo(BuildEvent),
    /// A warning about the app (e.g. an accepted route conflict) that does not stop the build.
    Warning(String),
    /// A route does not build and was left out (only with
    /// [`BuildOptions::isolate_route_errors`]); the manifest records it with its diagnostic.
    LeftOut {
        /// The route's page.
        page: String,
        /// The route file.
        file: String,
        /// Its diagnostic to show now, in the build's colours; `None` when it was already
        /// shown (compiler errors come as [`BuildEvent::Diagnostic`]s).
        shown: Option<String>,
    },
    /// An App route was prerendered: its bundle serves this response built at build time.
    Prerendered {
        /// The route's page.
        page: String,
        /// The response's size in bytes (the JSON file).
        bytes: usize,
    },
}

/// Why the build failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The app could not be read.
    #[error(transparent)]
    Project(#[from] ProjectError),
    /// A `.env` file could not be read.
    #[error(transparent)]
    DotEnv(#[from] DotEnvError),
    /// Route files have problems (rendered with code frames by the caller).
    #[error(transparent)]
    Analysis(#[from] AnalysisReport),
    /// API Gateway would route some paths differently from Next.js, and nextr cannot fix it.
    #[error(transparent)]
    Conflicts(#[from] ConflictErrors),
    /// The routes cannot be REST API resources (a refused character, too many resources).
    #[error(transparent)]
    Resources(#[from] ResourceErrors),
    /// Two routes would get the same function name.
    #[error(transparent)]
    Names(#[from] NameCollision),
    /// The bundle crate could not be generated.
    #[error(transparent)]
    Codegen(#[from] CodegenError),
    /// The machine lacks what a build for the architecture needs.
    #[error(transparent)]
    Toolchain(#[from] ToolchainError),
    /// cargo failed.
    #[error(transparent)]
    Cargo(#[from] CargoError),
    /// Route files that do not compile; rustc's errors, which point into them, were reported
    /// as they came.
    #[error("the build failed with {errors} compiler error{} in {}{}", if *.errors == 1 { "" } else { "s" }, .files.join(", "), if .stderr.is_empty() { String::new() } else { format!("\n{}", .stderr) })]
    RouteCompile {
        /// The route files at fault (`api/post/[pid].rs`).
        files: Vec<String>,
        /// How many compiler errors were reported in all.
        errors: usize,
        /// What cargo said besides naming the generated binaries (for instance, that the
        /// app's own lib failed too).
        stderr: String,
    },
    /// Binaries that would not start on Lambda, all of them.
    #[error("{} binar{} would not start on Lambda:\n{}", .0.len(), if .0.len() == 1 { "y" } else { "ies" }, .0.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
    Elf(Vec<ElfError>),
    /// An App route could not be prerendered.
    #[error(transparent)]
    Prerender(#[from] PrerenderError),
    /// A zip could not be written.
    #[error(transparent)]
    Zip(#[from] ZipError),
    /// The manifest could not be assembled or written.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// The CloudFormation template could not be written.
    #[error("cannot write the CloudFormation template into {}", .out.display())]
    Template {
        /// The output folder.
        out: PathBuf,
        /// Why.
        #[source]
        source: template::TemplateError,
    },
    /// A stale bundle could not be removed.
    #[error("cannot remove the stale bundle {}", .path.display())]
    Stale {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// What a successful build produced.
#[derive(Debug, Clone)]
pub struct BuildOutcome {
    /// The manifest written.
    pub manifest: Manifest,
    /// The output folder.
    pub out: PathBuf,
    /// How many zips were new or changed.
    pub zips_written: usize,
    /// Zips of routes that are gone, removed.
    pub zips_removed: usize,
}

/// The app's proxy as the manifest records it (file and matcher), found at the app root
/// `root` and checked as a build checks it, without building: what `nextr routes` shows.
/// `None` without a proxy file.
pub fn read_proxy(root: &Path) -> Result<Option<ManifestProxy>, BuildError> {
    let Some(file) = find_proxy(root)? else {
        return Ok(None);
    };
    let proxy =
        analyze_proxy_file(root, &file).map_err(|diagnostics| AnalysisReport { diagnostics })?;
    Ok(Some(ManifestProxy {
        file: proxy.file,
        matcher: proxy.matchers,
    }))
}

/// Runs the whole build.
pub fn build(
    options: &BuildOptions,
    mut progress: impl FnMut(Progress),
) -> Result<BuildOutcome, BuildError> {
    let mut project = Project::discover(&options.dir)?;
    let proxy_file = find_proxy(&project.root)?;
    if let Some(warning) = proxy_file.as_ref().and_then(|p| p.convention.deprecation()) {
        progress(Progress::Warning(warning));
    }
    let dotenv = DotEnv::load(&project.root, options.env_mode)?;
    // A `.local` file's secret stand-in is dev's, never deployed: no warning for it.
    let mut shadowed = project.config.env.clone();
    for secret in project.config.access_secrets_all() {
        shadowed.insert(secret.env, String::new());
    }
    for warning in dotenv.warnings(&shadowed) {
        progress(Progress::Warning(warning));
    }
    project.config.dotenv = dotenv.values;
    // The inputs as they are before anything is compiled: an edit made during the build
    // changes the digest, and the next start rebuilds.
    let arch = options
        .arch
        .or(project.config.architecture)
        .unwrap_or_default();
    let toolchain = Toolchain::for_build(arch, std::env::consts::ARCH, options.zigbuild);
    // A zigbuild needs tools a plain cargo build does not; looking for them runs four
    // commands, which overlap with the analysis. A native build looks for nothing.
    let host_tools = (toolchain != Toolchain::Native).then(|| {
        let cargo = options.cargo.clone();
        std::thread::spawn(move || HostTools::detect(&cargo))
    });
    let inputs = fingerprint::inputs(&project.package);
    let digest = fingerprint::digest(&inputs, options.profile, arch);
    let table = route_table(&project.root)?;
    project
        .config
        .check_routes(&table)
        .map_err(|e: AppConfigError| BuildError::Project(e.into()))?;
    let (analyses, report) =
        analyze_routes_partially(&project.root, &table, |page| project.config.front(page));
    // The proxy is a module of every function, so its problems are never one route's: they
    // fail the build (dev's too), reported with the route files' problems.
    let proxy: Option<ProxyAnalysis> = match proxy_file
        .as_ref()
        .map(|file| analyze_proxy_file(&project.root, file))
        .transpose()
    {
        Ok(proxy) => proxy,
        Err(mut problems) => {
            let mut diagnostics = report.map(|r| r.diagnostics).unwrap_or_default();
            diagnostics.append(&mut problems);
            return Err(AnalysisReport { diagnostics }.into());
        }
    };
    // Each left-out route's diagnostic as plain text, by route file (the manifest's
    // `build_error`).
    let mut left_out: BTreeMap<String, String> = BTreeMap::new();
    match report {
        None => {}
        Some(report) if options.isolate_route_errors => {
            let style = if options.color {
                ReportStyle::Color
            } else {
                ReportStyle::Plain
            };
            for (file, report) in report.split_by_file() {
                progress(Progress::LeftOut {
                    page: page_of(&table, &file),
                    file: file.clone(),
                    shown: Some(render(&report, style)),
                });
                left_out.insert(file, render(&report, ReportStyle::Plain));
            }
        }
        Some(report) => return Err(report.into()),
    }
    // Before the long compile: a tree API Gateway cannot serve as Next does fails fast.
    let gateway = match project.config.gateway {
        GatewayKind::Http => GatewayKeys::Http(conflicts::analyze(
            &table,
            &project.config.accepted_conflicts,
            project.config.conflict_keys,
        )?),
        GatewayKind::Rest => GatewayKeys::Rest(default_resource_tree(&table)?),
    };
    for warning in gateway.warnings() {
        progress(Progress::Warning(warning));
    }
    let names = function_names(&project.app, table.routes().iter().map(|r| r.page()))?;
    // The `$default` function: API Gateway's answer for paths no route key matches.
    let fallback = function_name(&project.app, FALLBACK_PAGE);
    // Before anything compiles: all that a cross build lacks is named at once.
    if let Some(probe) = host_tools {
        let tools = probe
            .join()
            .unwrap_or_else(|_| HostTools::detect(&options.cargo));
        tools.check(arch, &toolchain)?;
    }

    // Next answers a malformed escape 400 in an app with a Pages Router, whichever router
    // matched: every App route needs to know.
    let pages_router = table.routes().iter().any(|r| r.router == Router::Pages);
    // The routes to compile, each with its analysis (a route left out has none).
    let by_file: HashMap<&str, &RouteAnalysis> =
        analyses.iter().map(|a| (a.file.as_str(), a)).collect();
    let (mut routes, mut route_analyses): (Vec<BundleRoute>, Vec<&RouteAnalysis>) = table
        .routes()
        .iter()
        .zip(&names)
        .filter_map(|(route, name)| Some((route, by_file.get(route.file.as_str())?, name)))
        .map(|(route, analysis, name)| {
            let bundle = BundleRoute {
                page: route.page().to_owned(),
                file: route.file.clone(),
                function: name.clone(),
                declares_config: analysis.declares_config,
                entry: match route.router {
                    Router::Pages => BundleEntry::Pages,
                    Router::App => BundleEntry::App {
                        methods: analysis.methods.clone(),
                        pages_router,
                    },
                },
            };
            (bundle, *analysis)
        })
        .unzip();
    let profiles = Profiles::bundles();
    let bundle_proxy = proxy.as_ref().map(|p| BundleProxy {
        file: p.file.clone(),
        function: p.convention.function().to_owned(),
    });
    let krate = codegen::generate(&BundleSpec {
        app: &project.app,
        app_root: &project.root,
        package: &project.package,
        routes: &routes,
        profiles: &profiles,
        fallback: Some(&fallback),
        proxy: bundle_proxy.as_ref(),
        secrets: project.config.has_secrets(),
    })?;
    let dir = codegen::bundle_dir(&project.package, &project.app);
    // Held until the bundles are zipped, at the end of this function.
    let _lock = codegen::lock_bundle_dir(&dir, |lock| {
        progress(Progress::Warning(format!(
            "another nextr build of {} holds {}: waiting for it to finish",
            project.app,
            lock.display()
        )))
    })?;
    krate.write(&dir)?;
    codegen::seed_lockfile(&project.package, &dir)?;

    progress(Progress::Planned {
        app: project.app.clone(),
        routes: routes
            .iter()
            .map(|r| (r.page.clone(), r.function.clone()))
            .collect(),
        arch,
        toolchain: toolchain.clone(),
    });
    let target_dir = project.package.target_dir.join("nextr").join("target");
    let bins: Vec<String> = routes
        .iter()
        .map(|r| r.function.clone())
        .chain([fallback.clone()])
        .collect();
    let built = CargoBuild {
        cargo: &options.cargo,
        manifest: &dir.join("Cargo.toml"),
        target_dir: &target_dir,
        bins: &bins,
        release: options.profile == Profile::Release,
        toolchain: &toolchain,
        color: options.color,
        keep_going: options.isolate_route_errors,
    }
    .run(|event| progress(Progress::Cargo(event)));
    let binaries = match built {
        Ok(binaries) => binaries,
        Err(e) => {
            let partial = options
                .isolate_route_errors
                .then(|| e.partial(&bins, std::slice::from_ref(&fallback)))
                .flatten();
            let Some(PartialBuild { binaries, failed }) = partial else {
                let proxy = proxy.as_ref().map(|p| p.file.as_str());
                return Err(in_route_terms(e, &routes, &fallback, proxy, &project.root));
            };
            // The routes whose binaries did not compile are left out from here on.
            let mut kept = (Vec::new(), Vec::new());
            for (route, analysis) in routes.into_iter().zip(route_analyses) {
                match failed.get(&route.function) {
                    Some(errors) => {
                        progress(Progress::LeftOut {
                            page: route.page.clone(),
                            file: route.file.clone(),
                            shown: None,
                        });
                        // rustc names route files by absolute path (the bundle crate
                        // includes them so); the manifest's text stays movable.
                        let root = format!("{}/", project.root.display());
                        left_out.insert(route.file.clone(), errors.replace(&root, ""));
                    }
                    None => {
                        kept.0.push(route);
                        kept.1.push(analysis);
                    }
                }
            }
            (routes, route_analyses) = kept;
            binaries
        }
    };

    // Every binary is checked before anything is written, and every failure is reported.
    let mut failures = Vec::new();
    for route in &routes {
        let Some(binary) = binaries.get(&route.function) else {
            return Err(CargoError::MissingBinary(route.function.clone()).into());
        };
        if let Err(e) = elf::check(binary, &route.page, arch) {
            failures.push(e);
        }
    }
    let Some(fallback_binary) = binaries.get(&fallback) else {
        return Err(CargoError::MissingBinary(fallback.clone()).into());
    };
    if let Err(e) = elf::check(fallback_binary, FALLBACK_PAGE, arch) {
        failures.push(e);
    }
    if !failures.is_empty() {
        return Err(BuildError::Elf(failures));
    }

    // Before anything is written: a route that cannot be prerendered fails the build.
    let prerendered = prerender_routes(&routes, &route_analyses, &binaries, arch, &project.config)?;
    for route in &routes {
        if let Some(response) = prerendered.get(&route.function) {
            progress(Progress::Prerendered {
                page: route.page.clone(),
                bytes: response.len(),
            });
        }
    }

    let out = options
        .out
        .clone()
        .unwrap_or_else(|| project.root.join(layout::OUT_DIR));
    let out = std::path::absolute(&out).unwrap_or(out);
    let mut functions = Vec::with_capacity(routes.len());
    let mut zips_written = 0;
    let mut zip_cache = ZipCache::load(&dir.join(ZIP_CACHE));
    let mut zips = Vec::with_capacity(routes.len());
    let abort_after = std::env::var(ABORT_HOOK)
        .ok()
        .and_then(|v| v.parse::<usize>().ok());
    // Every function of an app with a proxy carries the same `proxy.json`: the routes as the
    // manifest will list them (a route left out has no function).
    let proxy_json = proxy
        .as_ref()
        .map(|p| route_manifest::proxy_bundle(p, &table, &names, &left_out, &fallback).to_json());
    let proxy_data: Vec<(&str, &[u8])> = proxy_json
        .as_deref()
        .map(|json| (PROXY_FILE, json.as_bytes()))
        .into_iter()
        .collect();
    for route in &routes {
        let binary = &binaries[&route.function];
        let zipped = match prerendered.get(&route.function) {
            // Never from the cache: the same binary may prerender another response.
            Some(response) => {
                let mut data = proxy_data.clone();
                data.push((PRERENDERED_FILE, response));
                zip::write_bundle_with(&out, &route.function, binary, &data)?
            }
            None => zip::write_bundle_cached(
                &out,
                &route.function,
                binary,
                &proxy_data,
                &mut zip_cache,
            )?,
        };
        zips.push(zipped.path.clone());
        zips_written += usize::from(zipped.written);
        if abort_after.is_some_and(|n| zips_written >= n) {
            std::process::abort();
        }
        functions.push(BuiltFunction {
            page: route.page.clone(),
            name: route.function.clone(),
            sha256: zipped.sha256,
            bytes: zipped.bytes,
        });
    }
    let zipped = zip::write_bundle_cached(
        &out,
        &fallback,
        fallback_binary,
        &proxy_data,
        &mut zip_cache,
    )?;
    zips.push(zipped.path.clone());
    zips_written += usize::from(zipped.written);
    let fallback_function = BuiltFunction {
        page: FALLBACK_PAGE.to_owned(),
        name: fallback.clone(),
        sha256: zipped.sha256,
        bytes: zipped.bytes,
    };
    let manifest = route_manifest::assemble(&ManifestInput {
        app: &project.app,
        table: &table,
        gateway: &gateway,
        analyses: &analyses,
        functions: &functions,
        left_out: &left_out,
        fallback: &fallback_function,
        proxy: proxy.as_ref(),
        architecture: arch,
        profile: options.profile,
        config: &project.config,
        source: Source {
            app_root: fingerprint::relative(&out, &project.root),
            inputs: inputs
                .iter()
                .map(|i| fingerprint::relative(&out, i))
                .collect(),
            fingerprint: digest,
        },
    })?;
    // Read before the swap: its bundles stay one more build (see `remove_stale_zips`).
    let previous = route_manifest::read(&out);
    // The zips above are all in place; only now does the manifest name them.
    route_manifest::write(&out, &manifest)?;
    if manifest.check_complete().is_ok() {
        // The same resources as `nextr deploy`, for users who deploy with their own tooling.
        template::write(&out, &manifest).map_err(|source| BuildError::Template {
            out: out.clone(),
            source,
        })?;
    } else {
        // A dev build with routes left out: no template describes it (deploy refuses it
        // too), and the last one no longer matches the manifest.
        let _ = fs::remove_file(out.join(layout::TEMPLATE_FILE));
    }
    let zips_removed = remove_stale_zips(&out, &manifest, previous.as_ref())?;
    // Only an optimisation: a cache that cannot be saved means zipping again next time.
    zip_cache.retain(&zips);
    let _ = zip_cache.save();
    Ok(BuildOutcome {
        manifest,
        out,
        zips_written,
        zips_removed,
    })
}

/// Runs the binary of every App route that prerenders (see [`prerender::prerenders`]) with
/// its manifest environment, bounded by its timeout; the responses by function name.
fn prerender_routes(
    routes: &[BundleRoute],
    analyses: &[&RouteAnalysis],
    binaries: &BTreeMap<String, PathBuf>,
    arch: Architecture,
    config: &AppConfig,
) -> Result<HashMap<String, Vec<u8>>, BuildError> {
    let mut names = Vec::new();
    let mut jobs = Vec::new();
    for (route, analysis) in routes.iter().zip(analyses) {
        if !prerender::prerenders(&analysis.config, &analysis.methods) {
            continue;
        }
        let Some(binary) = binaries.get(&route.function) else {
            return Err(CargoError::MissingBinary(route.function.clone()).into());
        };
        let timeout = analysis.config.max_duration.unwrap_or(DEFAULT_TIMEOUT_S);
        names.push(route.function.clone());
        jobs.push(PrerenderJob {
            file: &route.file,
            binary,
            env: route_manifest::route_runtime_env(config, &route.page),
            timeout: Duration::from_secs(timeout.into()),
        });
    }
    let responses = prerender::prerender_all(&jobs, arch)?;
    Ok(names.into_iter().zip(responses).collect())
}

/// The page of the route whose file is `file` (the file itself should none have it).
fn page_of(table: &nextr::routing::RouteTable, file: &str) -> String {
    table
        .routes()
        .iter()
        .find(|r| r.file == file)
        .map_or_else(|| file.to_owned(), |r| r.page().to_owned())
}

/// A failed build whose errors are in route files, told by route file: cargo names the
/// generated binaries (`could not compile … (bin "app-hello-8a32a984")`), which the user never
/// wrote. When the `$default` binary (`fallback`) failed in an app with a proxy (`proxy`, its
/// file), the proxy is at fault: it is the only app file that binary includes, and every
/// binary fails with it, so a route file is named only when its own errors point into it.
fn in_route_terms(
    error: CargoError,
    routes: &[BundleRoute],
    fallback: &str,
    proxy: Option<&str>,
    root: &Path,
) -> BuildError {
    let CargoError::Failed {
        errors,
        stderr,
        bins,
        built,
        rendered,
    } = error
    else {
        return error.into();
    };
    if bins.is_empty() {
        return CargoError::Failed {
            errors,
            stderr,
            bins,
            built,
            rendered,
        }
        .into();
    }
    let proxy_failed = proxy.filter(|_| bins.iter().any(|b| b == fallback));
    let mut files: Vec<String> = Vec::new();
    for bin in &bins {
        let file = match (routes.iter().find(|r| &r.function == bin), proxy_failed) {
            (Some(route), Some(_)) => {
                let path = root.join(&route.file).display().to_string();
                if !rendered.get(bin).is_some_and(|text| text.contains(&path)) {
                    continue;
                }
                route.file.clone()
            }
            (Some(route), None) => route.file.clone(),
            (None, Some(proxy)) if bin == fallback => proxy.to_owned(),
            (None, _) => bin.clone(),
        };
        if !files.contains(&file) {
            files.push(file);
        }
    }
    let stderr = stderr
        .lines()
        .filter(|line| {
            let names_a_bin = line.contains("could not compile")
                && bins
                    .iter()
                    .any(|b| line.contains(&format!("(bin \"{b}\")")));
            !names_a_bin && !line.starts_with("warning: build failed, waiting for other jobs")
        })
        .collect::<Vec<_>>()
        .join("\n");
    BuildError::RouteCompile {
        files,
        errors,
        stderr,
    }
}

/// Once the new manifest is in place, removes from `functions/` every zip that neither it nor
/// the manifest it replaced lists (older builds' bundles, routes that are gone, zips of an
/// interrupted build), and the temporary files an interrupted write left. The replaced
/// manifest's bundles stay until the next build, so that a `nextr dev` (or a deploy) that read
/// it just before the swap still finds them.
fn remove_stale_zips(
    out: &Path,
    manifest: &Manifest,
    previous: Option<&Manifest>,
) -> Result<usize, BuildError> {
    let keep: BTreeSet<PathBuf> = [Some(manifest), previous]
        .into_iter()
        .flatten()
        .flat_map(Manifest::functions)
        .map(|f| out.join(&f.bundle))
        .collect();
    let dir = out.join(layout::FUNCTIONS_DIR);
    let Ok(entries) = fs::read_dir(&dir) else {
        return Ok(0);
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let zip = name.ends_with(".zip");
        // `persist::write_atomic`'s temporary files: a killed build never renamed them.
        let orphan = name.starts_with(".nextr-") && name.ends_with(".tmp");
        let path = entry.path();
        if (zip || orphan) && !keep.contains(&path) {
            fs::remove_file(&path).map_err(|source| BuildError::Stale { path, source })?;
            removed += usize::from(zip);
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(page: &str, file: &str, function: &str) -> BundleRoute {
        BundleRoute {
            page: page.into(),
            file: file.into(),
            function: function.into(),
            declares_config: false,
            entry: BundleEntry::Pages,
        }
    }

    /// cargo's failure of these binaries, each with its rendered errors.
    fn failed(bins: &[(&str, &str)]) -> CargoError {
        CargoError::Failed {
            errors: bins.len(),
            stderr: String::new(),
            bins: bins.iter().map(|(b, _)| (*b).to_owned()).collect(),
            built: BTreeMap::new(),
            rendered: bins
                .iter()
                .map(|(b, r)| ((*b).to_owned(), (*r).to_owned()))
                .collect(),
        }
    }

    fn files(error: BuildError) -> Vec<String> {
        match error {
            BuildError::RouteCompile { files, .. } => files,
            other => panic!("expected a route compile error, got {other}"),
        }
    }

    #[test]
    fn compile_errors_are_told_by_route_file_or_by_the_proxy() {
        let root = Path::new("/app");
        let routes = [
            route("/api/a", "api/a.rs", "app-a"),
            route("/api/b", "api/b.rs", "app-b"),
        ];
        let proxy_error = "error[E0425]: cannot find value `x`\n --> /app/proxy.rs:3:5\n";
        let a_error = "error[E0308]: mismatched types\n --> /app/api/a.rs:1:1\n";
        // Without a proxy: the failed routes' files.
        let e = failed(&[("app-a", a_error)]);
        assert_eq!(
            files(in_route_terms(e, &routes, "app-default", None, root)),
            ["api/a.rs"]
        );
        // A broken proxy fails every binary: the proxy is named, not the routes.
        let e = failed(&[
            ("app-a", proxy_error),
            ("app-b", proxy_error),
            ("app-default", proxy_error),
        ]);
        assert_eq!(
            files(in_route_terms(
                e,
                &routes,
                "app-default",
                Some("proxy.rs"),
                root
            )),
            ["proxy.rs"]
        );
        // With a route's own errors beside the proxy's, both.
        let both = format!("{a_error}{proxy_error}");
        let e = failed(&[
            ("app-a", &both),
            ("app-b", proxy_error),
            ("app-default", proxy_error),
        ]);
        assert_eq!(
            files(in_route_terms(
                e,
                &routes,
                "app-default",
                Some("proxy.rs"),
                root
            )),
            ["api/a.rs", "proxy.rs"]
        );
        // A proxy that compiles: a route's failure is the route's.
        let e = failed(&[("app-b", "error\n --> /app/api/b.rs:2:2\n")]);
        assert_eq!(
            files(in_route_terms(
                e,
                &routes,
                "app-default",
                Some("proxy.rs"),
                root
            )),
            ["api/b.rs"]
        );
    }
}
