//! The route manifest (`.nextr/routes-manifest.json`): the contract between build, dev and
//! deploy. Build writes it; everything downstream reads it and re-derives nothing: which path
//! goes to which function (the gateway's route keys), each function's bundle, timeout,
//! memory, architecture and merged environment, the build profile, the gateway kind and its
//! warnings, and the deploy defaults. Paths inside are relative to the manifest's folder, so
//! a build folder can be moved, served (`nextr dev DIR`) and deployed (`nextr deploy DIR`).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::config::RouteConfig;
use crate::routing::{Param, RouteKind};

/// The schema version this crate reads and writes. Version 2 added `profile`, `gateway`,
/// `deploy`, `source`, each function's `env`, and made `fallback` required.
pub const MANIFEST_VERSION: u32 = 2;

/// The manifest's file name inside the build folder.
pub const MANIFEST_FILE: &str = "routes-manifest.json";

/// Where things live: the one home of the `.nextr` layout.
pub mod layout {
    /// `nextr build`'s folder, next to the app's `Cargo.toml`: what deploy ships.
    pub const OUT_DIR: &str = ".nextr";
    /// `nextr dev`'s and `nextr invoke`'s own build, inside [`OUT_DIR`]; deploy never takes
    /// it, because it is debug by default and rebuilt at every edit.
    pub const DEV_DIR: &str = ".nextr/dev";
    /// The bundles' folder inside a build folder.
    pub const FUNCTIONS_DIR: &str = "functions";
    /// The CloudFormation template's file inside a build folder.
    pub const TEMPLATE_FILE: &str = "template.json";
    /// Where `nextr dev` unpacks the bundles of the build folder it serves (one folder per
    /// sha256).
    pub const UNPACKED_DIR: &str = "unpacked";

    /// How many hex digits of a zip's sha256 its file name carries: 64 bits, so two bundles
    /// of one function never share a name in practice.
    pub const BUNDLE_SHA_DIGITS: usize = 16;

    /// Whether `dir` is a build folder (it holds a route manifest), rather than an app: every
    /// command taking a `DIR` tells the two apart this way.
    pub fn is_build_folder(dir: &std::path::Path) -> bool {
        dir.join(super::MANIFEST_FILE).is_file()
    }

    /// A function's zip with this sha256, relative to the build folder:
    /// `functions/<function>-<first 16 hex digits of the sha256>.zip`. Content-addressed so
    /// that a build never overwrites a zip the manifest on disk lists: the manifest and its
    /// bundles agree at every instant, even while a build is interrupted.
    pub fn bundle(function: &str, sha256: &str) -> String {
        let short = sha256.get(..BUNDLE_SHA_DIGITS).unwrap_or(sha256);
        format!("{FUNCTIONS_DIR}/{function}-{short}.zip")
    }

    /// The record of the last deploy of `stage`, relative to the build folder.
    pub fn deploy_record(stage: &str) -> String {
        format!("deploy-{stage}.json")
    }
}

/// The whole manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Always [`MANIFEST_VERSION`].
    pub version: u32,
    /// The app name (from `nextr.toml` or the package name).
    pub app: String,
    /// The nextr version that wrote the manifest.
    pub nextr_version: String,
    /// The cargo profile the bundles were compiled with; deploy ships only release builds.
    pub profile: Profile,
    /// The gateway in front of the functions, and what the build found about it.
    pub gateway: Gateway,
    /// Deploy's defaults from `nextr.toml`, so deploy needs nothing but the build folder.
    pub deploy: DeployDefaults,
    /// What the build was made from: lets `nextr dev` prove nothing changed without cargo.
    pub source: Source,
    /// Routes in precedence order.
    pub routes: Vec<ManifestRoute>,
    /// The function behind the gateway's `$default` route: API Gateway sends it every request
    /// no route key takes, and it answers as Next would there (308 for trailing-slash and
    /// `//` paths, 404 otherwise). An ordinary function: dev runs it, deploy ships it.
    pub fallback: Function,
}

/// The cargo profile of every bundle of a build.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// Optimised: what `nextr build` makes and `nextr deploy` ships.
    #[default]
    Release,
    /// Unoptimised, fast to compile: `nextr build --debug` and `nextr dev`.
    Debug,
}

impl Profile {
    /// The name cargo and the manifest use.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Release => "release",
            Profile::Debug => "debug",
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kind of API Gateway in front of the functions: it decides route keys, request
/// selection, the event format and the limits (see `nextr_infra::gateway`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GatewayKind {
    /// An HTTP API (API Gateway v2) with payload format 2.0.
    #[default]
    Http,
}

impl GatewayKind {
    /// The name `nextr.toml` and the manifest use.
    pub fn as_str(self) -> &'static str {
        match self {
            GatewayKind::Http => "http",
        }
    }

    /// The longest the gateway waits for a function, in seconds: a route's `max_duration`
    /// may not exceed it.
    pub fn timeout_s(self) -> u32 {
        match self {
            GatewayKind::Http => crate::limits::HTTP_API_TIMEOUT_S,
        }
    }

    /// The largest request the gateway accepts, in bytes.
    pub fn max_request_bytes(self) -> usize {
        match self {
            GatewayKind::Http => crate::limits::HTTP_API_PAYLOAD_BYTES,
        }
    }

    /// The largest request line plus header values the gateway accepts, in bytes.
    pub fn max_header_bytes(self) -> usize {
        match self {
            GatewayKind::Http => crate::limits::HTTP_API_HEADER_BYTES,
        }
    }

    /// How the gateway is named in messages.
    pub fn describe(self) -> &'static str {
        match self {
            GatewayKind::Http => "an API Gateway HTTP API",
        }
    }
}

impl fmt::Display for GatewayKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The gateway of a build.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gateway {
    /// Which gateway.
    pub kind: GatewayKind,
    /// Where the deployed gateway picks another function than Next would (risks the app
    /// accepted in `nextr.toml`), as the build reported them; `nextr dev` repeats them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Deploy's defaults, from `nextr.toml`; `nextr deploy`'s flags win over them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeployDefaults {
    /// The stage when `--stage` names none.
    pub stage: String,
    /// The region when `--region` names none (else the AWS SDK's chain decides).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// How many versions of each function deploy keeps besides the live one (for a
    /// rollback); older ones are deleted.
    #[serde(default = "default_keep_versions")]
    pub keep_versions: u32,
}

/// Versions kept besides the live one, by default.
pub const DEFAULT_KEEP_VERSIONS: u32 = 3;

fn default_keep_versions() -> u32 {
    DEFAULT_KEEP_VERSIONS
}

/// What a build was made from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// The app's folder (the one holding `Cargo.toml`), relative to the manifest's folder.
    pub app_root: String,
    /// Folders and files whose contents the bundles were built from (the app and its path
    /// dependencies), relative to the manifest's folder.
    pub inputs: Vec<String>,
    /// A digest of the inputs' names, sizes and modification times, of the `nextr` that
    /// built them, and of the build's settings; equal digests mean an identical build.
    pub fingerprint: String,
}

/// One route of the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
    /// The gateway's route keys for this route (HTTP API: `ANY /api/post/{pid}`), including
    /// those the conflict analysis added so that the gateway picks Next's route.
    pub route_keys: Vec<String>,
    /// The route's configuration as declared.
    pub config: RouteConfig,
    /// The built Lambda function; absent until `nextr build` has produced the bundle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<Function>,
}

/// The Lambda function that serves one route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Function {
    /// Deterministic function name derived from app and route.
    pub name: String,
    /// The zip, relative to the manifest's directory (`functions/<name>-<sha256 prefix>.zip`,
    /// see [`layout::bundle`]).
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
    /// The function's environment variables: `nextr.toml`'s `[env]` with its route's
    /// `[routes."<page>".env]` over it, merged once, here.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
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

impl Architecture {
    /// Every architecture Lambda runs.
    pub const ALL: [Architecture; 2] = [Architecture::X86_64, Architecture::Arm64];

    /// The name Lambda, `nextr.toml`, `--arch` and the manifest use.
    pub fn as_str(self) -> &'static str {
        match self {
            Architecture::X86_64 => "x86_64",
            Architecture::Arm64 => "arm64",
        }
    }

    /// The machine name a host of this architecture reports (`uname -m`, Rust's
    /// `std::env::consts::ARCH`).
    pub fn machine(self) -> &'static str {
        match self {
            Architecture::X86_64 => "x86_64",
            Architecture::Arm64 => "aarch64",
        }
    }

    /// The Rust target triple of bundles for it (glibc, as `provided.al2023` runs them).
    pub fn target_triple(self) -> &'static str {
        match self {
            Architecture::X86_64 => "x86_64-unknown-linux-gnu",
            Architecture::Arm64 => "aarch64-unknown-linux-gnu",
        }
    }
}

impl fmt::Display for Architecture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Architecture {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Architecture::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| format!("{s:?} is not an architecture: use \"x86_64\" or \"arm64\""))
    }
}

/// Why a manifest could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// Not valid JSON for the schema.
    #[error("the route manifest is not valid: {0}")]
    Invalid(#[from] serde_json::Error),
    /// Written by an incompatible nextr.
    #[error("the route manifest has schema version {found} and this nextr reads version {MANIFEST_VERSION}: run `nextr build` (or `nextr dev`) again to rewrite it")]
    Version {
        /// The version found in the file.
        found: u32,
    },
}

impl Manifest {
    /// A manifest of `app` with no routes and every other field at its default (a release
    /// build behind an HTTP API): where a build, or a test, starts.
    pub fn new(app: &str, fallback: Function) -> Self {
        Manifest {
            version: MANIFEST_VERSION,
            app: app.to_owned(),
            nextr_version: env!("CARGO_PKG_VERSION").to_owned(),
            profile: Profile::default(),
            gateway: Gateway::default(),
            deploy: DeployDefaults {
                stage: String::new(),
                region: None,
                keep_versions: DEFAULT_KEEP_VERSIONS,
            },
            source: Source::default(),
            routes: Vec::new(),
            fallback,
        }
    }

    /// Every function, the routes' in precedence order, then the fallback.
    pub fn functions(&self) -> impl Iterator<Item = &Function> {
        self.routes
            .iter()
            .filter_map(|r| r.function.as_ref())
            .chain(std::iter::once(&self.fallback))
    }

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

    fn function(name: &str) -> Function {
        Function {
            name: name.into(),
            bundle: layout::bundle(name, &"00".repeat(32)),
            sha256: "00".repeat(32),
            bytes: 10,
            runtime: "provided.al2023".into(),
            handler: "bootstrap".into(),
            architecture: Architecture::Arm64,
            timeout_s: 3,
            memory_mb: 128,
            env: BTreeMap::new(),
        }
    }

    fn manifest() -> Manifest {
        Manifest {
            version: MANIFEST_VERSION,
            app: "demo".into(),
            nextr_version: "0.1.0".into(),
            profile: Profile::Debug,
            gateway: Gateway {
                kind: GatewayKind::Http,
                warnings: vec!["a risk".into()],
            },
            deploy: DeployDefaults {
                stage: "dev".into(),
                region: Some("eu-west-1".into()),
                keep_versions: 2,
            },
            source: Source {
                app_root: "..".into(),
                inputs: vec!["..".into()],
                fingerprint: "ab".into(),
            },
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
                function: Some(Function {
                    env: BTreeMap::from([("A".into(), "1".into())]),
                    ..function("demo-post")
                }),
            }],
            fallback: function("demo-default"),
        }
    }

    #[test]
    fn round_trips() {
        let m = manifest();
        let text = m.to_json();
        assert!(text.contains("\"profile\": \"debug\""), "{text}");
        assert!(text.contains("\"kind\": \"http\""), "{text}");
        assert_eq!(Manifest::from_json(&text).unwrap(), m);
    }

    #[test]
    fn other_versions_are_refused_with_the_way_out() {
        let text = manifest()
            .to_json()
            .replace("\"version\": 2", "\"version\": 1");
        let e = Manifest::from_json(&text).unwrap_err();
        assert!(matches!(e, ManifestError::Version { found: 1 }));
        assert!(e.to_string().contains("run `nextr build`"), "{e}");
    }

    #[test]
    fn unknown_fields_are_refused() {
        let text = manifest()
            .to_json()
            .replace("\"profile\"", "\"colour\": 1, \"profile\"");
        assert!(Manifest::from_json(&text).is_err());
    }

    #[test]
    fn architecture_names() {
        for a in Architecture::ALL {
            assert_eq!(a.as_str().parse::<Architecture>(), Ok(a));
            assert_eq!(serde_json::to_string(&a).unwrap(), format!("\"{a}\""));
        }
        assert!("aarch64".parse::<Architecture>().is_err());
    }
}
