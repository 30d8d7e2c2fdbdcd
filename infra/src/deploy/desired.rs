//! What the manifest asks for: the desired resources of one app and stage, with their AWS
//! names. Everything here is read from the manifest; nothing about routes is re-derived.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use nextr::manifest::{
    Access, Architecture, Function, FunctionUrlAuth, GatewayKind, Manifest, PolicyStatement,
    Profile, ResponseMode, MANIFEST_FILE,
};
use sha2::{Digest, Sha256};

use super::rest::{self, RestResource};
use super::rewrite::InvokeTargets;
use super::state::Observed;
use super::DeployError;

/// Tag key holding the app name on every resource deploy creates.
pub const TAG_APP: &str = "nextr:app";
/// Tag key holding the stage name on every resource deploy creates.
pub const TAG_STAGE: &str = "nextr:stage";
/// The tag CloudFormation puts on the resources of a stack.
pub const CLOUDFORMATION_TAG: &str = "aws:cloudformation:stack-id";
/// The alias every integration targets.
pub const ALIAS: &str = "live";
/// The statement id of the API Gateway invoke permission on each alias.
pub const PERMISSION_SID: &str = "nextr-apigw";
pub use crate::gateway::http_api::{DEFAULT_ROUTE, INTEGRATION_TIMEOUT_MS, STAGE as API_STAGE};
/// The managed policy of the execution role, after `arn:<partition>:iam::aws:policy/`.
pub const BASIC_EXECUTION_POLICY: &str = "service-role/AWSLambdaBasicExecutionRole";

/// One app deployed to one stage: the identity every resource is named and tagged with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    app: String,
    stage: String,
}

impl Target {
    /// Validates both names: they become parts of AWS resource names and tag values.
    pub fn new(app: &str, stage: &str) -> Result<Self, DeployError> {
        crate::names::check_app(app)?;
        crate::names::check_stage(stage)?;
        Ok(Target {
            app: app.to_string(),
            stage: stage.to_string(),
        })
    }

    /// The app name.
    pub fn app(&self) -> &str {
        &self.app
    }

    /// The stage name.
    pub fn stage(&self) -> &str {
        &self.stage
    }

    /// The tags every created resource carries.
    pub fn tags(&self) -> HashMap<String, String> {
        HashMap::from([
            (TAG_APP.to_string(), self.app.clone()),
            (TAG_STAGE.to_string(), self.stage.clone()),
        ])
    }

    /// Whether a resource's tags say it is this app's and stage's, as created by deploy: a
    /// resource of a CloudFormation stack made from `.nextr/template.json` carries the same
    /// tags, but belongs to its stack.
    pub fn owns(&self, tags: Option<&HashMap<String, String>>) -> bool {
        tags.is_some_and(|t| {
            t.get(TAG_APP) == Some(&self.app)
                && t.get(TAG_STAGE) == Some(&self.stage)
                && !t.contains_key(CLOUDFORMATION_TAG)
        })
    }

    /// The Lambda function name of a manifest function in this stage
    /// ([`nextr::manifest::deployed_function_name`], the rule the functions themselves use to
    /// find each other).
    pub fn function_name(&self, manifest_name: &str) -> String {
        nextr::manifest::deployed_function_name(manifest_name, Some(&self.stage))
    }

    /// The execution role's name.
    pub fn role_name(&self) -> String {
        nextr::manifest::fit_name(&format!("{}-{}-nextr", self.app, self.stage), 64)
    }

    /// The role of a function whose route has permissions or secrets of its own (see
    /// [`super::access`]): named after the function, so it is found again from it.
    pub fn own_role_name(&self, function: &str) -> String {
        nextr::manifest::fit_name(&format!("{function}-nextr"), 64)
    }

    /// The IAM path of the functions' own roles, `/nextr/<app>/<stage>/`: every one of them
    /// is listed by it (`ListRoles` returns no tags), including those of functions gone.
    pub fn own_role_path(&self) -> String {
        format!("/nextr/{}/{}/", self.app, self.stage)
    }

    /// The HTTP API's name, and the REST API's (the two kinds have separate namespaces).
    pub fn api_name(&self) -> String {
        format!("{}-{}", self.app, self.stage)
    }

    /// The start of every function description deploy writes; `ListFunctions` returns
    /// descriptions but not tags, so this finds candidates in one call per 50 functions.
    pub fn description_prefix(&self) -> String {
        format!("nextr {}/{} ", self.app, self.stage)
    }
}

/// Lowercase hex of bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Lambda's `CodeSha256` for a manifest digest: base64 of the same 32 bytes.
pub fn code_sha256(hex_digest: &str) -> Option<String> {
    if hex_digest.len() != 64 {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..32)
        .map(|i| u8::from_str_radix(hex_digest.get(2 * i..2 * i + 2)?, 16).ok())
        .collect();
    Some(base64::engine::general_purpose::STANDARD.encode(bytes?))
}

/// Deploy inputs that are not in the manifest: the command line's.
#[derive(Debug, Clone, Default)]
pub struct DeploySettings {
    /// The stage (`dev`, `prod`, …).
    pub stage: String,
    /// Use this execution role instead of creating one.
    pub role_arn: Option<String>,
}

/// The execution role: created by deploy, or given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleChoice {
    /// Deploy creates and owns a role of this name, with basic logging only.
    Managed {
        /// The role's name.
        name: String,
    },
    /// The user's role (`--role`); deploy neither changes nor deletes it.
    External {
        /// Its ARN.
        arn: String,
    },
}

impl RoleChoice {
    /// Whether a function's `Role` ARN is this role.
    pub fn matches(&self, role_arn: &str) -> bool {
        match self {
            RoleChoice::Managed { name } => role_arn.ends_with(&format!("/{name}")),
            RoleChoice::External { arn } => role_arn == arn,
        }
    }
}

/// The configuration of one function, as Lambda stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionSpec {
    /// `provided.al2023`.
    pub runtime: String,
    /// `bootstrap`.
    pub handler: String,
    /// CPU architecture.
    pub architecture: Architecture,
    /// Timeout in seconds.
    pub timeout_s: u32,
    /// Memory in MB.
    pub memory_mb: u32,
    /// Environment variables.
    pub env: BTreeMap<String, String>,
    /// The description that marks it as this app's and stage's.
    pub description: String,
}

/// One function deploy wants, with its AWS name and what routes to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredFunction {
    /// The Lambda function name (manifest name + stage).
    pub name: String,
    /// The route's page pattern; `None` for the fallback.
    pub page: Option<String>,
    /// The gateway's keys served by this function: HTTP API route keys, or REST resource keys
    /// (`ANY /path`).
    pub route_keys: Vec<String>,
    /// Whether it streams where its front can (REST API, function URL).
    pub response_mode: ResponseMode,
    /// The `AuthType` of its function URL, when it has one.
    pub function_url: Option<FunctionUrlAuth>,
    /// The zip on disk.
    pub bundle: PathBuf,
    /// Hex sha256 of the zip (the manifest's).
    pub sha256: String,
    /// The same digest as Lambda reports it (base64).
    pub code_sha256: String,
    /// Function configuration.
    pub spec: FunctionSpec,
    /// How many days its log group keeps events.
    pub log_retention_days: u32,
    /// Its own role's name, when its route has permissions or secrets of its own (a managed
    /// role only); `None`: the app's role.
    pub own_role: Option<String>,
}

impl DesiredFunction {
    /// The label used in plans and errors: the page, or `$default` for the fallback.
    pub fn label(&self) -> &str {
        self.page.as_deref().unwrap_or(DEFAULT_ROUTE)
    }
}

/// Everything deploy wants for one app and stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    /// App and stage.
    pub target: Target,
    /// The execution role.
    pub role: RoleChoice,
    /// Route functions in precedence order, then the fallback.
    pub functions: Vec<DesiredFunction>,
    /// Hex sha256 of the manifest file.
    pub manifest_sha256: String,
    /// The nextr version that wrote the manifest.
    pub nextr_version: String,
    /// Things worth telling the user that do not stop the deploy.
    pub warnings: Vec<String>,
    /// Versions of each function kept besides the live one.
    pub keep_versions: u32,
    /// The kind of API Gateway in front of the functions.
    pub gateway: GatewayKind,
    /// CORS and throttling, from the manifest.
    pub protections: Protections,
    /// For an app with a `proxy.rs`, whose functions invoke each other (a rewrite to another
    /// route): the `live` aliases the execution role may invoke (see [`super::rewrite`]).
    pub invoke: Option<InvokeTargets>,
    /// The functions whose log groups the app's execution role may write (those without a
    /// role of their own; see [`super::logs`]).
    pub log_writers: InvokeTargets,
    /// The app role's [`nextr-access`](super::access::POLICY_NAME) statements: the app-wide
    /// permissions and secrets, placeholders unfilled.
    pub access: Vec<PolicyStatement>,
    /// The roles of functions whose routes have permissions or secrets of their own.
    pub own_roles: Vec<OwnRole>,
    /// How many days the gateway's access log group keeps events.
    pub log_retention_days: u32,
    /// The API's custom domain, when the manifest has one.
    pub domain: Option<nextr::manifest::Domain>,
}

/// The role of one function whose route has permissions or secrets of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnRole {
    /// The role's name ([`Target::own_role_name`]).
    pub name: String,
    /// The function running as it.
    pub function: String,
    /// Its [`nextr-access`](super::access::POLICY_NAME) statements: the app's and the
    /// route's, placeholders unfilled.
    pub access: Vec<PolicyStatement>,
}

/// A role deploy manages, as the plan needs it: the app's or a function's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedRole {
    /// Its name.
    pub name: String,
    /// Whether it is a function's own (created under [`Target::own_role_path`]).
    pub own: bool,
    /// The functions whose log groups it may write.
    pub log_writers: InvokeTargets,
    /// Its `nextr-access` statements (empty: no such policy).
    pub access: Vec<PolicyStatement>,
}

impl Desired {
    /// The role a function runs as: the user's, its own, or the app's.
    pub fn role_of(&self, f: &DesiredFunction) -> RoleChoice {
        match (&self.role, &f.own_role) {
            (RoleChoice::Managed { .. }, Some(own)) => RoleChoice::Managed { name: own.clone() },
            (choice, _) => choice.clone(),
        }
    }

    /// Every role deploy manages for this app and stage, the app's first; none with `--role`.
    pub fn managed_roles(&self) -> Vec<ManagedRole> {
        let RoleChoice::Managed { name } = &self.role else {
            return Vec::new();
        };
        let mut roles = vec![ManagedRole {
            name: name.clone(),
            own: false,
            log_writers: self.log_writers.clone(),
            access: self.access.clone(),
        }];
        roles.extend(self.own_roles.iter().map(|r| ManagedRole {
            name: r.name.clone(),
            own: true,
            log_writers: InvokeTargets::Each(vec![r.function.clone()]),
            access: r.access.clone(),
        }));
        roles
    }

    /// Refuses a custom domain whose certificate is in another region than `region` (the
    /// deploy's): a regional domain name needs one in the API's region. Checked before any
    /// call, since `nextr.toml` cannot know the region the SDK's chain picks.
    pub fn check_region(&self, region: &str) -> Result<(), DeployError> {
        match &self.domain {
            Some(d) if d.certificate_region().is_some_and(|r| r != region) => {
                Err(DeployError::CertificateRegion {
                    domain: d.name.clone(),
                    certificate: d.certificate_region().unwrap_or_default().to_owned(),
                    region: region.to_owned(),
                })
            }
            _ => Ok(()),
        }
    }

    /// Refuses a role whose inline policies (`nextr-logs`, `nextr-invoke`, `nextr-access`)
    /// would exceed IAM's limit, before any call changes anything: `PutRolePolicy` would
    /// otherwise fail mid-deploy. Counted in the app's partition and account (`aws` and a
    /// 12-digit account before anything exists), as IAM counts: without whitespace.
    pub fn check_policy_sizes(&self, region: &str, observed: &Observed) -> Result<(), DeployError> {
        let (partition, account) = observed
            .partition_and_account()
            .unwrap_or(("aws", "123456789012"));
        let chars = |doc: &serde_json::Value| {
            doc.to_string()
                .chars()
                .filter(|c| !c.is_whitespace())
                .count()
        };
        for role in self.managed_roles() {
            let mut policies = vec![super::logs::POLICY_NAME];
            let mut total = chars(&super::logs::policy(
                partition,
                region,
                account,
                &role.log_writers,
            ));
            if let Some(targets) = &self.invoke {
                policies.push(super::rewrite::POLICY_NAME);
                total += chars(&super::rewrite::policy(partition, region, account, targets));
            }
            if !role.access.is_empty() {
                policies.push(super::access::POLICY_NAME);
                let places = super::access::Placeholders {
                    partition: partition.to_owned(),
                    region: region.to_owned(),
                    account: account.to_owned(),
                    app: self.target.app().to_owned(),
                    stage: self.target.stage().to_owned(),
                };
                total += chars(&super::access::document(&role.access, &places));
            }
            if total > super::rewrite::INLINE_POLICY_CHARS {
                let runs = match self
                    .functions
                    .iter()
                    .find(|f| f.own_role.as_ref() == Some(&role.name))
                {
                    Some(f) if role.own => format!("route {}'s own", f.label()),
                    _ => "the app's role, of every function without permissions of its own"
                        .to_owned(),
                };
                return Err(DeployError::PolicyTooLarge {
                    role: role.name,
                    runs,
                    chars: total,
                    policies: policies.join(", "),
                    limit: super::rewrite::INLINE_POLICY_CHARS,
                });
            }
        }
        Ok(())
    }

    /// Refuses a custom domain that exists without this stage's tags: deploy did not create
    /// it, so it neither changes nor (at `nextr remove`) deletes it.
    pub fn check_domain(&self, observed: &Observed) -> Result<(), DeployError> {
        let Some(domain) = &self.domain else {
            return Ok(());
        };
        match observed.domains.iter().find(|d| d.name == domain.name) {
            Some(d) if !d.owned => {
                let mapped = if d.mappings.is_empty() {
                    "it maps to no API".to_owned()
                } else {
                    let apis: Vec<String> = d
                        .mappings
                        .iter()
                        .map(|m| format!("API {} stage {}", m.api_id, m.stage))
                        .collect();
                    format!("it maps to {}", apis.join(", "))
                };
                Err(DeployError::DomainTaken {
                    domain: domain.name.clone(),
                    mapped,
                })
            }
            _ => Ok(()),
        }
    }

    /// Every log group deploy wants, with its retention in days: each function's, then the
    /// gateway's access log group.
    pub fn log_groups(&self) -> BTreeMap<String, u32> {
        let mut groups: BTreeMap<String, u32> = self
            .functions
            .iter()
            .map(|f| {
                (
                    super::logs::function_log_group(&f.name),
                    f.log_retention_days,
                )
            })
            .collect();
        groups.insert(
            super::logs::access_log_group(&self.target),
            self.log_retention_days,
        );
        groups
    }
}

/// The gateway's CORS and throttling, from the manifest's `gateway.cors`,
/// `gateway.throttle` and `routes[].throttle`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Protections {
    /// The API's CORS configuration.
    pub cors: Option<nextr::manifest::Cors>,
    /// The stage's default throttling.
    pub throttle: Option<nextr::manifest::Throttle>,
    /// Throttling per route key (every key of a throttled route).
    pub route_throttles: BTreeMap<String, nextr::manifest::Throttle>,
}

impl Protections {
    /// The REST stage's method settings throttles: `*/*` for the stage, `~1api~1login/*` for
    /// a route's resource (all its methods), as `UpdateStage` patch paths name them.
    pub fn rest_method_throttles(&self) -> BTreeMap<String, nextr::manifest::Throttle> {
        let mut out: BTreeMap<String, _> = self
            .route_throttles
            .iter()
            .map(|(k, t)| {
                (
                    format!("{}/*", crate::deploy::rest::method_settings_path(k)),
                    *t,
                )
            })
            .collect();
        if let Some(t) = self.throttle {
            out.insert("*/*".to_owned(), t);
        }
        out
    }

    /// A REST API's `MOCK` preflight, from `[cors]`: `None` without CORS (or with a policy
    /// a MOCK cannot answer, which loading the manifest refuses).
    pub fn rest_preflight(&self) -> Option<crate::deploy::rest::Preflight> {
        self.cors
            .as_ref()
            .and_then(|c| crate::deploy::rest::Preflight::of(c).ok())
    }

    /// What the manifest sets.
    pub fn of(manifest: &Manifest) -> Self {
        let route_throttles = manifest
            .routes
            .iter()
            .filter_map(|r| Some((r, r.throttle?)))
            .flat_map(|(r, t)| r.route_keys.iter().map(move |k| (k.clone(), t)))
            .collect();
        Protections {
            cors: manifest.gateway.cors.clone(),
            throttle: manifest.gateway.throttle,
            route_throttles,
        }
    }
}

impl Desired {
    /// Reads the manifest of the build folder `out` and builds the desired state.
    pub fn load(out: &Path, settings: &DeploySettings) -> Result<Self, DeployError> {
        let path = out.join(MANIFEST_FILE);
        let bad = |reason: String| DeployError::Manifest {
            path: path.clone(),
            reason,
        };
        let text = fs::read_to_string(&path).map_err(|e| bad(e.to_string()))?;
        let manifest = Manifest::from_json(&text).map_err(|e| bad(e.to_string()))?;
        if manifest.profile != Profile::Release {
            return Err(DeployError::DebugBuild { path });
        }
        let sha = hex(&Sha256::digest(text.as_bytes()));
        Self::from_manifest(&manifest, out, &sha, settings)
    }

    /// The desired state of a parsed manifest whose bundles are relative to `manifest_dir`.
    pub fn from_manifest(
        manifest: &Manifest,
        manifest_dir: &Path,
        manifest_sha256: &str,
        settings: &DeploySettings,
    ) -> Result<Self, DeployError> {
        // Before anything else: a build with a route left out must not replace a whole one.
        manifest.check_complete()?;
        let target = Target::new(&manifest.app, &settings.stage)?;
        let role = match &settings.role_arn {
            Some(arn) => {
                let ok =
                    arn.starts_with("arn:") && arn.contains(":iam::") && arn.contains(":role/");
                if !ok {
                    return Err(DeployError::InvalidRoleArn(arn.clone()));
                }
                RoleChoice::External { arn: arn.clone() }
            }
            None => RoleChoice::Managed {
                name: target.role_name(),
            },
        };
        // Test servers accept keys and sizes AWS refuses: check both before any call.
        match manifest.gateway.kind {
            GatewayKind::Http => {
                crate::route_keys::validate_manifest(manifest).map_err(|errors| {
                    DeployError::RouteKeys(errors.iter().map(|e| format!("\n  {e}")).collect())
                })?;
            }
            GatewayKind::Rest => {
                validate_rest_keys(manifest)?;
                // nextr.toml refuses several origins with a REST API; a hand-made manifest
                // could still carry them, and deploying a preflight for none of them would
                // break the app's cross-origin calls.
                if let Some(Err(why)) = manifest.gateway.cors.as_ref().map(rest::Preflight::of) {
                    return Err(DeployError::Manifest {
                        path: manifest_dir.join(MANIFEST_FILE),
                        reason: format!("gateway.cors: {why}; list one origin, or answer CORS in the routes with `nextr::cors`"),
                    });
                }
            }
        }
        crate::limits::check_limits(manifest, &crate::limits::Quotas::default(), |_| None)?;
        // A proxy's rewrite invokes the target by its deployed name, from the stage.
        let stage_env = manifest.proxy.as_ref().map(|_| target.stage());
        // What each function reads at start: references for this stage, never values.
        let secrets = |page: Option<&str>| manifest.access.secrets_for_stage(page, target.stage());
        let mut functions = Vec::new();
        for route in &manifest.routes {
            let function = route
                .function
                .as_ref()
                .ok_or_else(|| DeployError::NotBuilt {
                    page: route.page.clone(),
                })?;
            let mut desired = desired_function(
                &target,
                function,
                Some(&route.page),
                route.route_keys.clone(),
                manifest_dir,
                stage_env,
                &secrets(Some(&route.page)),
            )?;
            desired.log_retention_days = route
                .log_retention_days
                .unwrap_or(manifest.deploy.log_retention_days);
            functions.push(desired);
        }
        // An HTTP API's fallback is its `$default` route; a REST API has none, so the build
        // lists the resources the fallback function serves.
        let fallback_keys = match manifest.gateway.kind {
            GatewayKind::Http => vec![DEFAULT_ROUTE.to_string()],
            GatewayKind::Rest => manifest.gateway.fallback_keys.clone(),
        };
        let mut fallback = desired_function(
            &target,
            &manifest.fallback,
            None,
            fallback_keys,
            manifest_dir,
            stage_env,
            &secrets(None),
        )?;
        fallback.log_retention_days = manifest.deploy.log_retention_days;
        functions.push(fallback);
        let managed = matches!(role, RoleChoice::Managed { .. });
        let mut own_roles = Vec::new();
        for f in &mut functions {
            let page = f.page.as_deref();
            if managed && manifest.access.route(page).is_some() {
                let name = target.own_role_name(&f.name);
                f.own_role = Some(name.clone());
                own_roles.push(OwnRole {
                    name,
                    function: f.name.clone(),
                    access: super::access::statements(&manifest.access, page, target.stage()),
                });
            }
        }
        let mut warnings = manifest.gateway.warnings.clone();
        let invoke = manifest.proxy.as_ref().map(|_| {
            let names: Vec<String> = functions.iter().map(|f| f.name.clone()).collect();
            InvokeTargets::of(target.app(), target.stage(), &names)
        });
        let log_writers = {
            let names: Vec<String> = functions
                .iter()
                .filter(|f| f.own_role.is_none())
                .map(|f| f.name.clone())
                .collect();
            InvokeTargets::of(target.app(), target.stage(), &names)
        };
        if let (Some(invoke), RoleChoice::External { arn }) = (&invoke, &role) {
            warnings.push(format!(
                "the app has a proxy.rs, whose rewrites invoke other routes' functions: the role {arn} needs lambda:InvokeFunction on the {} of this stage (nextr deploy does not change a role it did not create)",
                invoke.describe()
            ));
        }
        if let RoleChoice::External { arn } = &role {
            if let Some(w) = external_role_warning(arn, &manifest.access, &functions, &target) {
                warnings.push(w);
            }
        }
        let app_access = super::access::statements(&manifest.access, None, target.stage());
        Ok(Desired {
            target,
            role,
            functions,
            manifest_sha256: manifest_sha256.to_string(),
            nextr_version: manifest.nextr_version.clone(),
            warnings,
            keep_versions: manifest.deploy.keep_versions,
            gateway: manifest.gateway.kind,
            protections: Protections::of(manifest),
            invoke,
            log_writers,
            access: app_access,
            own_roles,
            log_retention_days: manifest.deploy.log_retention_days,
            domain: manifest.gateway.domain.clone(),
        })
    }

    /// The REST API's resource tree: every path a key names (with its function) and every
    /// parent of one (with `None` when no key names it), the root included. Empty for an
    /// HTTP API.
    pub fn rest_resources(&self) -> BTreeMap<String, Option<RestResource>> {
        let mut tree = BTreeMap::new();
        if self.gateway != GatewayKind::Rest {
            return tree;
        }
        for f in &self.functions {
            for key in &f.route_keys {
                // Checked when loading: a bad key never gets here.
                let Ok(path) = rest::key_path(key) else {
                    continue;
                };
                for p in rest::with_ancestors(path) {
                    tree.entry(p).or_insert(None);
                }
                tree.insert(
                    path.to_string(),
                    Some(RestResource {
                        function: f.name.clone(),
                        mode: f.response_mode,
                        timeout_ms: rest::timeout_ms(f.spec.timeout_s, f.response_mode),
                    }),
                );
            }
        }
        tree
    }

    /// Checks that every bundle exists and still has the manifest's sha256, so a deploy
    /// never uploads something other than what was built (and fails before changing
    /// anything).
    pub fn verify_bundles(&self) -> Result<(), DeployError> {
        for f in &self.functions {
            read_bundle(f)?;
        }
        Ok(())
    }

    /// The function serving a route key.
    pub fn function_for_key(&self, key: &str) -> Option<&DesiredFunction> {
        self.functions
            .iter()
            .find(|f| f.route_keys.iter().any(|k| k == key))
    }

    /// The function of a given Lambda name.
    pub fn function(&self, name: &str) -> Option<&DesiredFunction> {
        self.functions.iter().find(|f| f.name == name)
    }
}

fn desired_function(
    target: &Target,
    function: &Function,
    page: Option<&str>,
    route_keys: Vec<String>,
    manifest_dir: &Path,
    stage_env: Option<&str>,
    secrets: &[nextr::manifest::SecretRef],
) -> Result<DesiredFunction, DeployError> {
    let bundle = manifest_dir.join(&function.bundle);
    let code_sha256 = code_sha256(&function.sha256).ok_or_else(|| DeployError::Bundle {
        path: bundle.clone(),
        reason: format!(
            "the manifest's sha256 `{}` is not 64 hex digits",
            function.sha256
        ),
    })?;
    let what = page.unwrap_or("$default fallback");
    let mut description = format!("{}{what}", target.description_prefix());
    if description.len() > 256 {
        let mut cut = 256;
        while !description.is_char_boundary(cut) {
            cut -= 1;
        }
        description.truncate(cut);
    }
    let mut env = function.runtime_env_reading(secrets);
    if let Some(stage) = stage_env {
        env.insert(nextr::manifest::STAGE_ENV.to_owned(), stage.to_owned());
    }
    Ok(DesiredFunction {
        name: target.function_name(&function.name),
        page: page.map(str::to_string),
        route_keys,
        response_mode: function.response_mode,
        function_url: function.function_url.as_ref().map(|u| u.auth),
        bundle,
        sha256: function.sha256.to_ascii_lowercase(),
        code_sha256,
        spec: FunctionSpec {
            runtime: function.runtime.clone(),
            handler: function.handler.clone(),
            architecture: function.architecture,
            timeout_s: function.timeout_s,
            memory_mb: function.memory_mb,
            env,
            description,
        },
        log_retention_days: nextr::limits::DEFAULT_LOG_RETENTION_DAYS,
        own_role: None,
    })
}

/// With `--role`, what the user's role must allow that `nextr.toml` asks for: deploy never
/// changes a role it did not create, so it says so rather than refusing (the role may well
/// grant it already, which deploy cannot check without IAM's policy simulator and rights to
/// it). `None` when `nextr.toml` names no permission and no secret.
fn external_role_warning(
    arn: &str,
    access: &Access,
    functions: &[DesiredFunction],
    target: &Target,
) -> Option<String> {
    if access.is_empty() {
        return None;
    }
    let mut needed: Vec<String> = Vec::new();
    for f in functions {
        for s in super::access::statements(access, f.page.as_deref(), target.stage()) {
            let line = format!(
                "\n  {} {} on {}",
                match s.effect {
                    nextr::manifest::Effect::Allow => "Allow",
                    nextr::manifest::Effect::Deny => "Deny",
                },
                s.actions.join(", "),
                s.resources
                    .iter()
                    .map(|r| r
                        .replace("{app}", target.app())
                        .replace("{stage}", target.stage()))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            if !needed.contains(&line) {
                needed.push(line);
            }
        }
    }
    Some(format!(
        "nextr.toml names permissions or secrets, and the role {arn} is yours (--role): nextr deploy does not change it, and every function runs as it, so it needs all of these (a route's own statements are not kept to its function):{}",
        needed.concat()
    ))
}

/// Checks every REST key (routes' and the fallback's): API Gateway's path rules, and no path
/// served by two functions.
fn validate_rest_keys(manifest: &Manifest) -> Result<(), DeployError> {
    let mut errors = Vec::new();
    let mut owner: BTreeMap<&str, &str> = BTreeMap::new();
    let routes = manifest
        .routes
        .iter()
        .map(|r| (r.file.as_str(), &r.route_keys));
    let fallback = std::iter::once(("the fallback", &manifest.gateway.fallback_keys));
    for (file, keys) in routes.chain(fallback) {
        for key in keys {
            match rest::key_path(key) {
                Err(e) => errors.push(format!("\n  {e} ({file})")),
                Ok(path) => {
                    if let Some(first) = owner.insert(path, file) {
                        if first != file {
                            errors
                                .push(format!("\n  `{key}` is served by both {first} and {file}"));
                        }
                    }
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(DeployError::RouteKeys(errors.concat()))
    }
}

/// The zip's bytes, checked against the manifest's digest.
pub(crate) fn read_bundle(f: &DesiredFunction) -> Result<Vec<u8>, DeployError> {
    let bytes = fs::read(&f.bundle).map_err(|e| DeployError::Bundle {
        path: f.bundle.clone(),
        reason: e.to_string(),
    })?;
    let actual = hex(&Sha256::digest(&bytes));
    if actual != f.sha256 {
        return Err(DeployError::Bundle {
            path: f.bundle.clone(),
            reason: format!(
                "its sha256 is {actual}, the manifest says {}: it changed after the build",
                f.sha256
            ),
        });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_sha256_is_base64_of_the_digest() {
        // sha256("") — Lambda reports it as 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=.
        let hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(
            code_sha256(hex).as_deref(),
            Some("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")
        );
        assert_eq!(code_sha256("abc"), None);
        assert_eq!(code_sha256(&"zz".repeat(32)), None);
    }

    /// A built function as the manifest names it.
    fn function(name: &str) -> Function {
        Function {
            name: name.into(),
            bundle: format!("functions/{name}.zip"),
            sha256: "ab".repeat(32),
            bytes: 22,
            runtime: "provided.al2023".into(),
            handler: "bootstrap".into(),
            architecture: nextr::manifest::Architecture::X86_64,
            timeout_s: 10,
            memory_mb: 256,
            env: Default::default(),
            response_mode: Default::default(),
            function_url: None,
        }
    }

    #[test]
    fn a_role_whose_inline_policies_would_not_fit_is_refused_before_any_call() {
        use nextr::manifest::{Access, PolicyStatement};
        let statement = |i: usize| {
            PolicyStatement {
            effect: Default::default(),
            actions: vec!["dynamodb:GetItem".into()],
            resources: vec![format!(
                "arn:{{partition}}:dynamodb:{{region}}:{{account}}:table/{{app}}-{{stage}}-table-{i}"
            )],
        }
        };
        let desired = |n: usize| {
            let mut manifest = Manifest::new("demo", function("demo-fallback"));
            manifest.access = Access {
                permissions: (0..n).map(statement).collect(),
                ..Access::default()
            };
            let settings = DeploySettings {
                stage: "dev".into(),
                ..DeploySettings::default()
            };
            Desired::from_manifest(&manifest, Path::new("/nowhere"), "00", &settings).unwrap()
        };
        let observed = Observed::default();
        assert!(desired(40)
            .check_policy_sizes("eu-west-1", &observed)
            .is_ok());
        let err = desired(120)
            .check_policy_sizes("eu-west-1", &observed)
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("the role demo-dev-nextr (the app's role, of every function without permissions of its own) would hold "),
            "{text}"
        );
        assert!(
            text.contains("(nextr-logs, nextr-access), and IAM allows 10240 per role"),
            "{text}"
        );
        assert!(text.contains("deploy with --role"), "{text}");
        // With --role, deploy changes no role and checks none.
        let mut external = desired(120);
        external.role = RoleChoice::External {
            arn: "arn:aws:iam::123456789012:role/mine".into(),
        };
        assert!(external.check_policy_sizes("eu-west-1", &observed).is_ok());
    }

    #[test]
    fn a_manifest_with_a_route_that_does_not_build_is_neither_deployed_nor_templated() {
        use nextr::manifest::ManifestRoute;
        let route = |page: &str, file: &str, built: bool| ManifestRoute {
            page: page.into(),
            file: file.into(),
            router: nextr::routing::Router::Pages,
            kind: nextr::routing::RouteKind::Static,
            segments: vec![],
            params: vec![],
            route_keys: vec![format!("ANY {page}")],
            config: Default::default(),
            function: built.then(|| function("demo-a")),
            build_error: (!built).then(|| "error: no handler".to_owned()),
            throttle: None,
            log_retention_days: None,
        };
        let manifest = Manifest {
            routes: vec![
                route("/api/a", "api/a.rs", true),
                route("/api/new", "api/new.rs", false),
            ],
            ..Manifest::new("demo", function("demo-fallback"))
        };
        let settings = DeploySettings {
            stage: "dev".into(),
            ..DeploySettings::default()
        };
        let e = Desired::from_manifest(&manifest, Path::new("/nowhere"), "00", &settings)
            .err()
            .unwrap();
        assert!(matches!(&e, DeployError::IncompleteBuild(b) if b.files == ["api/new.rs"]));
        assert!(
            e.to_string().starts_with("api/new.rs does not build"),
            "{e}"
        );

        let tmp = tempfile::tempdir().unwrap();
        let e = crate::template::write(tmp.path(), &manifest).unwrap_err();
        assert!(
            matches!(e, crate::template::TemplateError::Incomplete(_)),
            "{e}"
        );
        assert!(!tmp.path().join(crate::template::TEMPLATE_FILE).exists());
    }

    #[test]
    fn names_fit_aws_limits() {
        let t = Target::new("shop", "prod").unwrap();
        assert_eq!(t.function_name("shop-api-hello"), "shop-api-hello-prod");
        assert_eq!(t.role_name(), "shop-prod-nextr");
        assert_eq!(t.api_name(), "shop-prod");
        let long = "x".repeat(70);
        let a = t.function_name(&long);
        let b = t.function_name(&format!("{long}y"));
        assert_eq!(a.len(), 64);
        assert_ne!(a, b, "truncated names stay distinct");
    }

    #[test]
    fn stage_and_app_are_validated() {
        assert!(Target::new("shop", "dev").is_ok());
        assert!(Target::new("shop", "pr-42").is_ok());
        for bad in ["", "Prod", "a b", "-x", "x".repeat(17).as_str(), "a/b"] {
            assert!(
                matches!(
                    Target::new("shop", bad),
                    Err(DeployError::Name(crate::names::NameError::Stage(_)))
                ),
                "{bad:?}"
            );
        }
        assert!(matches!(
            Target::new("a/b", "dev"),
            Err(DeployError::Name(crate::names::NameError::App(_)))
        ));
    }

    #[test]
    fn ownership_needs_both_tags() {
        let t = Target::new("shop", "dev").unwrap();
        assert!(t.owns(Some(&t.tags())));
        let other = Target::new("shop", "prod").unwrap();
        assert!(!t.owns(Some(&other.tags())));
        assert!(!t.owns(None));
        let mut stack = t.tags();
        stack.insert(CLOUDFORMATION_TAG.into(), "arn:aws:cloudformation:…".into());
        assert!(!t.owns(Some(&stack)), "a stack's resource is the stack's");
    }
}
