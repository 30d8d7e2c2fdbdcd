//! Desired (from the manifest) against observed (from AWS) → an ordered list of actions.
//!
//! The plan is a pure function of the two states, so a no-change deploy plans nothing and a
//! re-run after an interruption plans exactly what is still missing. The order is the order
//! of application: role, API, then per function (code, version, alias, integration,
//! permission), then routes and stage, and deletions last, children before parents, so every
//! prefix of the plan leaves a working API.

use std::collections::BTreeSet;
use std::fmt;

use super::aws::partition;
use super::desired::{
    Desired, DesiredFunction, FunctionSpec, RoleChoice, API_STAGE, BASIC_EXECUTION_POLICY,
    INTEGRATION_TIMEOUT_MS,
};
use super::state::{FunctionConfig, Observed, ObservedApi, ObservedIntegration};

/// One change to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Create the execution role.
    CreateRole {
        /// Role name.
        name: String,
    },
    /// Attach the basic-execution managed policy to the role.
    AttachRolePolicy {
        /// Role name.
        role: String,
        /// Policy ARN.
        policy_arn: String,
    },
    /// Create the HTTP API.
    CreateApi {
        /// API name.
        name: String,
    },
    /// Create a function (with its code).
    CreateFunction {
        /// Function name.
        function: String,
    },
    /// Change a function's configuration.
    UpdateFunctionConfiguration {
        /// Function name.
        function: String,
        /// What differs.
        fields: Vec<&'static str>,
    },
    /// Upload new code.
    UpdateFunctionCode {
        /// Function name.
        function: String,
        /// The deployed `CodeSha256`.
        from: Option<String>,
        /// The manifest's, as base64.
        to: String,
    },
    /// Publish a version of `$LATEST`.
    PublishVersion {
        /// Function name.
        function: String,
    },
    /// Create the `live` alias.
    CreateAlias {
        /// Function name.
        function: String,
    },
    /// Point the `live` alias at the version just published.
    UpdateAlias {
        /// Function name.
        function: String,
        /// The version it points to now.
        from: Option<String>,
    },
    /// Create the integration of a function.
    CreateIntegration {
        /// Function name.
        function: String,
    },
    /// Fix an integration's settings.
    UpdateIntegration {
        /// Integration id.
        id: String,
        /// Function name.
        function: String,
    },
    /// Allow the API to invoke the alias (replacing a statement scoped to another API).
    AddPermission {
        /// Function name.
        function: String,
        /// Whether a stale statement is removed first.
        replace: bool,
    },
    /// Create a route.
    CreateRoute {
        /// Route key.
        key: String,
        /// Function name.
        function: String,
    },
    /// Point a route at the right integration.
    UpdateRoute {
        /// Route id.
        id: String,
        /// Route key.
        key: String,
        /// Function name.
        function: String,
    },
    /// Create the `$default` stage with auto-deploy.
    CreateStage,
    /// Turn auto-deploy on.
    UpdateStage,
    /// Delete a route.
    DeleteRoute {
        /// Route id.
        id: String,
        /// Route key.
        key: String,
    },
    /// Delete an integration.
    DeleteIntegration {
        /// Integration id.
        id: String,
        /// What it targeted.
        uri: String,
    },
    /// Delete a function with its versions, alias and permission.
    DeleteFunction {
        /// Function name.
        function: String,
    },
    /// Delete an HTTP API with everything in it.
    DeleteApi {
        /// API id.
        id: String,
        /// API name.
        name: String,
    },
    /// Detach a managed policy from the role.
    DetachRolePolicy {
        /// Role name.
        role: String,
        /// Policy ARN.
        policy_arn: String,
    },
    /// Delete the role.
    DeleteRole {
        /// Role name.
        name: String,
    },
}

impl Action {
    /// Whether the action deletes something.
    pub fn is_destructive(&self) -> bool {
        matches!(
            self,
            Action::DeleteRoute { .. }
                | Action::DeleteIntegration { .. }
                | Action::DeleteFunction { .. }
                | Action::DeleteApi { .. }
                | Action::DetachRolePolicy { .. }
                | Action::DeleteRole { .. }
        )
    }

    /// The function a per-function action belongs to.
    pub(crate) fn function_group(&self) -> Option<&str> {
        match self {
            Action::CreateFunction { function }
            | Action::UpdateFunctionConfiguration { function, .. }
            | Action::UpdateFunctionCode { function, .. }
            | Action::PublishVersion { function }
            | Action::CreateAlias { function }
            | Action::UpdateAlias { function, .. }
            | Action::CreateIntegration { function }
            | Action::UpdateIntegration { function, .. }
            | Action::AddPermission { function, .. } => Some(function),
            _ => None,
        }
    }

    /// `(sign, resource kind, name, what happens)` for tables: `+` create, `~` change, `-`
    /// delete.
    pub fn row(&self) -> (char, &'static str, String, String) {
        match self {
            Action::CreateRole { name } => ('+', "role", name.clone(), "create".into()),
            Action::AttachRolePolicy { role, policy_arn } => (
                '~',
                "role",
                role.clone(),
                format!("attach {}", short_policy(policy_arn)),
            ),
            Action::CreateApi { name } => ('+', "http api", name.clone(), "create".into()),
            Action::CreateFunction { function } => {
                ('+', "function", function.clone(), "create".into())
            }
            Action::UpdateFunctionConfiguration { function, fields } => (
                '~',
                "function",
                function.clone(),
                format!("update configuration ({})", fields.join(", ")),
            ),
            Action::UpdateFunctionCode { function, from, to } => (
                '~',
                "function",
                function.clone(),
                format!(
                    "update code {} → {}",
                    from.as_deref().map_or("none", short_sha),
                    short_sha(to)
                ),
            ),
            Action::PublishVersion { function } => {
                ('+', "version", function.clone(), "publish".into())
            }
            Action::CreateAlias { function } => {
                ('+', "alias", format!("{function}:live"), "create".into())
            }
            Action::UpdateAlias { function, from } => (
                '~',
                "alias",
                format!("{function}:live"),
                format!(
                    "point to the new version (was {})",
                    from.as_deref().unwrap_or("none")
                ),
            ),
            Action::CreateIntegration { function } => {
                ('+', "integration", function.clone(), "create".into())
            }
            Action::UpdateIntegration { id, function } => (
                '~',
                "integration",
                function.clone(),
                format!("fix settings of {id}"),
            ),
            Action::AddPermission { function, replace } => (
                if *replace { '~' } else { '+' },
                "permission",
                format!("{function}:live"),
                if *replace {
                    "re-scope to this API".into()
                } else {
                    "allow the API to invoke".into()
                },
            ),
            Action::CreateRoute { key, function } => {
                ('+', "route", key.clone(), format!("create → {function}"))
            }
            Action::UpdateRoute { key, function, .. } => {
                ('~', "route", key.clone(), format!("retarget → {function}"))
            }
            Action::CreateStage => (
                '+',
                "stage",
                API_STAGE.into(),
                "create (auto-deploy)".into(),
            ),
            Action::UpdateStage => ('~', "stage", API_STAGE.into(), "turn on auto-deploy".into()),
            Action::DeleteRoute { key, .. } => ('-', "route", key.clone(), "delete".into()),
            Action::DeleteIntegration { id, uri } => {
                ('-', "integration", id.clone(), format!("delete (→ {uri})"))
            }
            Action::DeleteFunction { function } => (
                '-',
                "function",
                function.clone(),
                "delete (with versions, alias, permission)".into(),
            ),
            Action::DeleteApi { id, name } => (
                '-',
                "http api",
                format!("{name} ({id})"),
                "delete (with routes, integrations, stages)".into(),
            ),
            Action::DetachRolePolicy { role, policy_arn } => (
                '-',
                "role",
                role.clone(),
                format!("detach {}", short_policy(policy_arn)),
            ),
            Action::DeleteRole { name } => ('-', "role", name.clone(), "delete".into()),
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (sign, kind, name, what) = self.row();
        write!(f, "{sign} {kind} {name}: {what}")
    }
}

fn short_sha(b64: &str) -> &str {
    b64.get(..12).unwrap_or(b64)
}

fn short_policy(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// An ordered list of actions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// In the order they are applied.
    pub actions: Vec<Action>,
}

impl Plan {
    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    /// How many actions delete something.
    pub fn destructive(&self) -> usize {
        self.actions.iter().filter(|a| a.is_destructive()).count()
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for a in &self.actions {
            writeln!(f, "{a}")?;
        }
        Ok(())
    }
}

/// The managed policy ARN of basic logging in a partition.
pub fn basic_execution_policy(partition: &str) -> String {
    format!("arn:{partition}:iam::aws:policy/{BASIC_EXECUTION_POLICY}")
}

/// The invoke permission's `SourceArn`: any route and stage of this API.
pub fn api_source_arn(partition: &str, region: &str, account: &str, api_id: &str) -> String {
    format!("arn:{partition}:execute-api:{region}:{account}:{api_id}/*")
}

/// Configuration fields of `$LATEST` that differ from the spec (architecture goes with the
/// code, so it is compared there).
pub fn config_diff(
    spec: &FunctionSpec,
    role: &RoleChoice,
    c: &FunctionConfig,
) -> Vec<&'static str> {
    let mut fields = Vec::new();
    if c.runtime.as_deref() != Some(spec.runtime.as_str()) {
        fields.push("runtime");
    }
    if c.handler.as_deref() != Some(spec.handler.as_str()) {
        fields.push("handler");
    }
    if c.timeout_s != i32::try_from(spec.timeout_s).ok() {
        fields.push("timeout");
    }
    if c.memory_mb != i32::try_from(spec.memory_mb).ok() {
        fields.push("memory");
    }
    if !c.role.as_deref().is_some_and(|r| role.matches(r)) {
        fields.push("role");
    }
    if c.env != spec.env {
        fields.push("environment");
    }
    if c.description != spec.description {
        fields.push("description");
    }
    fields
}

fn arch(spec: &FunctionSpec) -> &'static str {
    match spec.architecture {
        nextr::manifest::Architecture::X86_64 => "x86_64",
        nextr::manifest::Architecture::Arm64 => "arm64",
    }
}

/// Whether a published version runs exactly what the manifest asks for (the description is
/// metadata and does not count).
pub fn version_matches(f: &DesiredFunction, role: &RoleChoice, v: &FunctionConfig) -> bool {
    v.code_sha256.as_deref() == Some(f.code_sha256.as_str())
        && v.architecture == arch(&f.spec)
        && config_diff(&f.spec, role, v)
            .iter()
            .all(|field| *field == "description")
}

/// Whether an integration has nextr's settings.
fn integration_ok(i: &ObservedIntegration) -> bool {
    i.integration_type.as_deref() == Some("AWS_PROXY")
        && i.payload_format_version.as_deref() == Some("2.0")
        && i.timeout_ms.is_none_or(|t| t == INTEGRATION_TIMEOUT_MS)
}

/// The integration deploy keeps for a function: one targeting its alias, preferably one a
/// route of the function already uses, so nothing has to be re-pointed.
pub fn kept_integration<'a>(
    api: &'a ObservedApi,
    f: &DesiredFunction,
) -> Option<&'a ObservedIntegration> {
    let candidates: Vec<&ObservedIntegration> = api
        .integrations
        .iter()
        .filter(|i| i.function_name() == Some(f.name.as_str()))
        .collect();
    candidates
        .iter()
        .find(|i| {
            api.routes
                .iter()
                .any(|r| r.integration_id() == Some(i.id.as_str()) && f.route_keys.contains(&r.key))
        })
        .or_else(|| candidates.first())
        .copied()
}

/// Plans a deploy of `desired` over `observed` in `region`.
pub fn plan_deploy(desired: &Desired, observed: &Observed, region: &str) -> Plan {
    let mut actions = Vec::new();
    let api = observed.api();

    if let RoleChoice::Managed { name } = &desired.role {
        let part = observed
            .role
            .as_ref()
            .and_then(|r| r.arn.split(':').nth(1))
            .unwrap_or_else(|| partition(region));
        let policy_arn = basic_execution_policy(part);
        match &observed.role {
            None => {
                actions.push(Action::CreateRole { name: name.clone() });
                actions.push(Action::AttachRolePolicy {
                    role: name.clone(),
                    policy_arn,
                });
            }
            Some(role) if !role.attached.contains(&policy_arn) => {
                actions.push(Action::AttachRolePolicy {
                    role: name.clone(),
                    policy_arn,
                });
            }
            Some(_) => {}
        }
    }
    if api.is_none() {
        actions.push(Action::CreateApi {
            name: desired.target.api_name(),
        });
    }

    let mut kept_integrations = BTreeSet::new();
    for f in &desired.functions {
        let function = f.name.clone();
        let existing = observed.functions.get(&f.name);
        let mut alias_exists = false;
        match existing {
            None => {
                actions.push(Action::CreateFunction {
                    function: function.clone(),
                });
                actions.push(Action::PublishVersion {
                    function: function.clone(),
                });
                actions.push(Action::CreateAlias {
                    function: function.clone(),
                });
            }
            Some(o) => {
                let fields = config_diff(&f.spec, &desired.role, &o.latest);
                let config_changed = !fields.is_empty();
                if config_changed {
                    actions.push(Action::UpdateFunctionConfiguration {
                        function: function.clone(),
                        fields,
                    });
                }
                let code_changed = o.latest.code_sha256.as_deref() != Some(f.code_sha256.as_str())
                    || o.latest.architecture != arch(&f.spec);
                if code_changed {
                    actions.push(Action::UpdateFunctionCode {
                        function: function.clone(),
                        from: o.latest.code_sha256.clone(),
                        to: f.code_sha256.clone(),
                    });
                }
                let live_ok = o
                    .live
                    .as_ref()
                    .is_some_and(|v| version_matches(f, &desired.role, v));
                // A version is published whenever the live one is not what the manifest
                // asks for, even if `$LATEST` already is: that is the state an interrupted
                // deploy leaves behind.
                let publish = config_changed || code_changed || !live_ok;
                if publish {
                    actions.push(Action::PublishVersion {
                        function: function.clone(),
                    });
                }
                match &o.live {
                    None => actions.push(Action::CreateAlias {
                        function: function.clone(),
                    }),
                    Some(v) if publish => actions.push(Action::UpdateAlias {
                        function: function.clone(),
                        from: v.version.clone(),
                    }),
                    Some(_) => {}
                }
                alias_exists = o.live.is_some();
            }
        }

        match api.and_then(|a| kept_integration(a, f)) {
            None => actions.push(Action::CreateIntegration {
                function: function.clone(),
            }),
            Some(i) => {
                kept_integrations.insert(i.id.clone());
                if !integration_ok(i) {
                    actions.push(Action::UpdateIntegration {
                        id: i.id.clone(),
                        function: function.clone(),
                    });
                }
            }
        }

        let wanted_source = match (api, existing) {
            (Some(api), Some(o)) => o
                .partition_and_account()
                .map(|(p, acct)| api_source_arn(p, region, acct, &api.id)),
            _ => None,
        };
        let current = existing.and_then(|o| o.permission_source.as_ref());
        match (alias_exists, current) {
            (true, Some(source)) if wanted_source.as_ref() == Some(source) => {}
            (true, Some(_)) => actions.push(Action::AddPermission {
                function: function.clone(),
                replace: true,
            }),
            _ => actions.push(Action::AddPermission {
                function: function.clone(),
                replace: false,
            }),
        }
    }

    // Routes: one per desired key, pointing at the kept integration of its function.
    let mut kept_routes = BTreeSet::new();
    for f in &desired.functions {
        let integration = api
            .and_then(|a| kept_integration(a, f))
            .map(|i| i.id.as_str());
        for key in &f.route_keys {
            let existing: Vec<_> = api
                .map(|a| a.routes.iter().filter(|r| &r.key == key).collect())
                .unwrap_or_default();
            let keep = existing
                .iter()
                .find(|r| integration.is_some() && r.integration_id() == integration)
                .or_else(|| existing.first());
            match keep {
                None => actions.push(Action::CreateRoute {
                    key: key.clone(),
                    function: f.name.clone(),
                }),
                Some(r) => {
                    kept_routes.insert(r.id.clone());
                    if integration.is_none() || r.integration_id() != integration {
                        actions.push(Action::UpdateRoute {
                            id: r.id.clone(),
                            key: key.clone(),
                            function: f.name.clone(),
                        });
                    }
                }
            }
        }
    }

    match api.and_then(|a| a.stages.iter().find(|s| s.name == API_STAGE)) {
        None => actions.push(Action::CreateStage),
        Some(s) if !s.auto_deploy => actions.push(Action::UpdateStage),
        Some(_) => {}
    }

    // Deletions, children first: routes, then integrations no route uses any more, then
    // functions, then any duplicate API.
    if let Some(api) = api {
        for r in &api.routes {
            if !kept_routes.contains(&r.id) {
                actions.push(Action::DeleteRoute {
                    id: r.id.clone(),
                    key: r.key.clone(),
                });
            }
        }
        for i in &api.integrations {
            if !kept_integrations.contains(&i.id) {
                actions.push(Action::DeleteIntegration {
                    id: i.id.clone(),
                    uri: i.uri.clone().unwrap_or_default(),
                });
            }
        }
    }
    for name in observed.functions.keys() {
        if desired.function(name).is_none() {
            actions.push(Action::DeleteFunction {
                function: name.clone(),
            });
        }
    }
    for extra in observed.apis.iter().skip(1) {
        actions.push(Action::DeleteApi {
            id: extra.id.clone(),
            name: extra.name.clone(),
        });
    }
    Plan { actions }
}

/// Plans the removal of everything observed: APIs (with their routes, integrations and
/// stages), functions (with versions, aliases and permissions), then the managed role.
pub fn plan_remove(observed: &Observed) -> Plan {
    let mut actions = Vec::new();
    for api in &observed.apis {
        actions.push(Action::DeleteApi {
            id: api.id.clone(),
            name: api.name.clone(),
        });
    }
    for name in observed.functions.keys() {
        actions.push(Action::DeleteFunction {
            function: name.clone(),
        });
    }
    if let Some(role) = &observed.role {
        for policy_arn in &role.attached {
            actions.push(Action::DetachRolePolicy {
                role: role.name.clone(),
                policy_arn: policy_arn.clone(),
            });
        }
        actions.push(Action::DeleteRole {
            name: role.name.clone(),
        });
    }
    Plan { actions }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use nextr::config::RouteConfig;
    use nextr::manifest::{Function, Manifest, ManifestRoute};
    use nextr::routing::RouteKind;

    use super::*;
    use crate::deploy::desired::DeploySettings;
    use crate::deploy::state::{
        ObservedFunction, ObservedIntegration, ObservedRole, ObservedRoute, ObservedStage,
    };

    const REGION: &str = "us-east-1";

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
        }
    }

    fn desired() -> Desired {
        let route = |page: &str, keys: &[&str], name: &str| ManifestRoute {
            page: page.into(),
            file: format!("{page}.rs"),
            kind: RouteKind::Static,
            segments: vec![],
            params: vec![],
            route_keys: keys.iter().map(|k| k.to_string()).collect(),
            config: RouteConfig::default(),
            function: Some(function(name)),
        };
        let manifest = Manifest {
            nextr_version: "0.1.0".into(),
            routes: vec![
                route("/api/a", &["ANY /api/a"], "demo-a"),
                route("/api/b", &["ANY /api/b", "ANY /api/b/{x+}"], "demo-b"),
            ],
            ..Manifest::new("demo", function("demo-fallback"))
        };
        let settings = DeploySettings {
            stage: "dev".into(),
            ..DeploySettings::default()
        };
        Desired::from_manifest(&manifest, Path::new("/nowhere"), "00", &settings).unwrap()
    }

    /// AWS exactly as the desired state asks.
    fn matching(d: &Desired) -> Observed {
        let mut o = Observed {
            role: Some(ObservedRole {
                name: "demo-dev-nextr".into(),
                arn: "arn:aws:iam::1:role/demo-dev-nextr".into(),
                attached: vec![basic_execution_policy("aws")],
            }),
            ..Observed::default()
        };
        let mut api = ObservedApi {
            id: "api1".into(),
            name: "demo-dev".into(),
            stages: vec![ObservedStage {
                name: "$default".into(),
                auto_deploy: true,
            }],
            ..ObservedApi::default()
        };
        for (n, f) in d.functions.iter().enumerate() {
            let config = FunctionConfig {
                runtime: Some(f.spec.runtime.clone()),
                handler: Some(f.spec.handler.clone()),
                timeout_s: Some(10),
                memory_mb: Some(256),
                architecture: "x86_64".into(),
                role: Some("arn:aws:iam::1:role/demo-dev-nextr".into()),
                env: f.spec.env.clone(),
                description: f.spec.description.clone(),
                code_sha256: Some(f.code_sha256.clone()),
                version: Some("1".into()),
                state: Some("Active".into()),
                last_update_status: Some("Successful".into()),
            };
            let arn = format!("arn:aws:lambda:{REGION}:1:function:{}", f.name);
            o.functions.insert(
                f.name.clone(),
                ObservedFunction {
                    name: f.name.clone(),
                    arn: arn.clone(),
                    latest: config.clone(),
                    live: Some(config),
                    permission_source: Some(api_source_arn("aws", REGION, "1", "api1")),
                },
            );
            api.integrations.push(ObservedIntegration {
                id: format!("i{n}"),
                uri: Some(format!("{arn}:live")),
                integration_type: Some("AWS_PROXY".into()),
                payload_format_version: Some("2.0".into()),
                timeout_ms: Some(30_000),
            });
            for (k, key) in f.route_keys.iter().enumerate() {
                api.routes.push(ObservedRoute {
                    id: format!("r{n}{k}"),
                    key: key.clone(),
                    target: Some(format!("integrations/i{n}")),
                });
            }
        }
        o.apis.push(api);
        o
    }

    #[test]
    fn nothing_to_do_when_aws_matches() {
        let d = desired();
        assert_eq!(plan_deploy(&d, &matching(&d), REGION), Plan::default());
    }

    #[test]
    fn everything_to_create_from_nothing_in_dependency_order() {
        let d = desired();
        let plan = plan_deploy(&d, &Observed::default(), REGION);
        let pos = |a: &Action| plan.actions.iter().position(|x| x == a).unwrap();
        let create = |f: &str| Action::CreateFunction { function: f.into() };
        assert_eq!(plan.actions.len(), 3 + 3 * 5 + 4 + 1);
        assert!(
            pos(&Action::CreateRole {
                name: "demo-dev-nextr".into()
            }) < pos(&create("demo-a-dev"))
        );
        assert!(
            pos(&create("demo-a-dev"))
                < pos(&Action::CreateRoute {
                    key: "ANY /api/a".into(),
                    function: "demo-a-dev".into()
                })
        );
        assert_eq!(plan.actions.last(), Some(&Action::CreateStage));
        assert_eq!(plan.destructive(), 0);
    }

    #[test]
    fn single_differences_give_single_fixes() {
        let d = desired();

        let mut o = matching(&d);
        if let Some(r) = o.role.as_mut() {
            r.attached.clear();
        }
        assert_eq!(
            plan_deploy(&d, &o, REGION).actions,
            vec![Action::AttachRolePolicy {
                role: "demo-dev-nextr".into(),
                policy_arn: basic_execution_policy("aws")
            }]
        );

        let mut o = matching(&d);
        o.apis[0].integrations[1].payload_format_version = Some("1.0".into());
        assert_eq!(
            plan_deploy(&d, &o, REGION).actions,
            vec![Action::UpdateIntegration {
                id: "i1".into(),
                function: "demo-b-dev".into()
            }]
        );

        let mut o = matching(&d);
        o.apis[0].routes[1].target = Some("integrations/i0".into());
        assert_eq!(
            plan_deploy(&d, &o, REGION).actions,
            vec![Action::UpdateRoute {
                id: "r10".into(),
                key: "ANY /api/b".into(),
                function: "demo-b-dev".into()
            }]
        );

        let mut o = matching(&d);
        o.apis[0].stages[0].auto_deploy = false;
        assert_eq!(
            plan_deploy(&d, &o, REGION).actions,
            vec![Action::UpdateStage]
        );

        let mut o = matching(&d);
        if let Some(f) = o.functions.get_mut("demo-a-dev") {
            f.permission_source = Some("arn:aws:execute-api:us-east-1:1:other/*".into());
        }
        assert_eq!(
            plan_deploy(&d, &o, REGION).actions,
            vec![Action::AddPermission {
                function: "demo-a-dev".into(),
                replace: true
            }]
        );

        // The state an interruption between upload and publish leaves.
        let mut o = matching(&d);
        if let Some(live) = o
            .functions
            .get_mut("demo-a-dev")
            .and_then(|f| f.live.as_mut())
        {
            live.code_sha256 = Some("old".into());
        }
        assert_eq!(
            plan_deploy(&d, &o, REGION).actions,
            vec![
                Action::PublishVersion {
                    function: "demo-a-dev".into()
                },
                Action::UpdateAlias {
                    function: "demo-a-dev".into(),
                    from: Some("1".into())
                }
            ]
        );
    }

    #[test]
    fn strays_are_deleted_children_first() {
        let d = desired();
        let mut o = matching(&d);
        let stray = o.functions["demo-a-dev"].clone();
        o.functions.insert(
            "demo-gone-dev".into(),
            ObservedFunction {
                name: "demo-gone-dev".into(),
                ..stray
            },
        );
        o.apis[0].integrations.push(ObservedIntegration {
            id: "igone".into(),
            uri: Some("arn:aws:lambda:us-east-1:1:function:demo-gone-dev:live".into()),
            ..ObservedIntegration::default()
        });
        o.apis[0].routes.push(ObservedRoute {
            id: "rgone".into(),
            key: "ANY /api/gone".into(),
            target: Some("integrations/igone".into()),
        });
        // A duplicate of a kept route.
        o.apis[0].routes.push(ObservedRoute {
            id: "rdup".into(),
            key: "ANY /api/a".into(),
            target: Some("integrations/i0".into()),
        });
        o.apis.push(ObservedApi {
            id: "api2".into(),
            name: "demo-dev".into(),
            ..ObservedApi::default()
        });
        assert_eq!(
            plan_deploy(&d, &o, REGION).actions,
            vec![
                Action::DeleteRoute {
                    id: "rgone".into(),
                    key: "ANY /api/gone".into()
                },
                Action::DeleteRoute {
                    id: "rdup".into(),
                    key: "ANY /api/a".into()
                },
                Action::DeleteIntegration {
                    id: "igone".into(),
                    uri: "arn:aws:lambda:us-east-1:1:function:demo-gone-dev:live".into()
                },
                Action::DeleteFunction {
                    function: "demo-gone-dev".into()
                },
                Action::DeleteApi {
                    id: "api2".into(),
                    name: "demo-dev".into()
                },
            ]
        );
    }
}
