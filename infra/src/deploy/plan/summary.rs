//! An action as people read it: whether it creates, changes or deletes, the kind and name of
//! the resource, and what happens to it. The engine gives these as facts; how they are laid
//! out (the CLI's tables) is up to the caller.

use std::fmt;

use super::Action;
use crate::deploy::desired::API_STAGE;

/// Whether an action creates, changes or deletes its resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Something new.
    Create,
    /// Something existing, changed.
    Change,
    /// Something deleted.
    Delete,
}

impl Effect {
    /// `+`, `~` or `-`, as diffs mark them.
    pub fn sign(self) -> char {
        match self {
            Effect::Create => '+',
            Effect::Change => '~',
            Effect::Delete => '-',
        }
    }
}

/// The kind of AWS resource an action touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResourceKind {
    /// The IAM execution role.
    Role,
    /// The API Gateway HTTP API.
    HttpApi,
    /// A Lambda function (`$LATEST`).
    Function,
    /// A published version of a function.
    Version,
    /// A function's `live` alias.
    Alias,
    /// An API Gateway integration.
    Integration,
    /// The invoke permission on an alias.
    Permission,
    /// An API Gateway route.
    Route,
    /// The API's stage.
    Stage,
    /// The API Gateway REST API.
    RestApi,
    /// A REST API resource (a path).
    Resource,
    /// A REST resource's method and its integration.
    Method,
    /// A REST API deployment.
    Deployment,
    /// A function URL.
    FunctionUrl,
    /// A CloudWatch Logs log group.
    LogGroup,
    /// The account's API Gateway settings.
    Account,
    /// A custom domain name.
    Domain,
    /// A custom domain's mapping to a stage.
    DomainMapping,
}

impl ResourceKind {
    /// The kind in words ("http api").
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::Role => "role",
            ResourceKind::HttpApi => "http api",
            ResourceKind::Function => "function",
            ResourceKind::Version => "version",
            ResourceKind::Alias => "alias",
            ResourceKind::Integration => "integration",
            ResourceKind::Permission => "permission",
            ResourceKind::Route => "route",
            ResourceKind::Stage => "stage",
            ResourceKind::RestApi => "rest api",
            ResourceKind::Resource => "resource",
            ResourceKind::Method => "method",
            ResourceKind::Deployment => "deployment",
            ResourceKind::FunctionUrl => "function url",
            ResourceKind::LogGroup => "log group",
            ResourceKind::Account => "api gateway account",
            ResourceKind::Domain => "domain",
            ResourceKind::DomainMapping => "domain mapping",
        }
    }
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The facts of one action, for whatever shows a plan to people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionSummary {
    /// Create, change or delete.
    pub effect: Effect,
    /// What kind of resource.
    pub kind: ResourceKind,
    /// Which one: a name, route key, `function:live` or id.
    pub name: String,
    /// What happens to it ("update code 1a2b… → 3c4d…").
    pub what: String,
}

impl fmt::Display for ActionSummary {
    /// `+ function app-hello-dev: create`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ActionSummary {
            effect,
            kind,
            name,
            what,
        } = self;
        write!(f, "{} {kind} {name}: {what}", effect.sign())
    }
}

impl Action {
    /// What the action does, as facts.
    pub fn summary(&self) -> ActionSummary {
        use Effect::{Change, Create, Delete};
        use ResourceKind as Kind;
        let alias = |function: &str| format!("{function}:live");
        let (effect, kind, name, what) = match self {
            Action::CreateRole { name } => (Create, Kind::Role, name.clone(), "create".into()),
            Action::AttachRolePolicy { role, policy_arn } => (
                Change,
                Kind::Role,
                role.clone(),
                format!("attach {}", short_policy(policy_arn)),
            ),
            Action::PutInvokePolicy { role, targets } => (
                Change,
                Kind::Role,
                role.clone(),
                format!(
                    "allow invoking the app's {} (inline policy {}, for proxy.rs rewrites)",
                    targets.describe(),
                    crate::deploy::rewrite::POLICY_NAME
                ),
            ),
            Action::DeleteInvokePolicy { role } => (
                Delete,
                Kind::Role,
                role.clone(),
                format!(
                    "remove the inline policy {}",
                    crate::deploy::rewrite::POLICY_NAME
                ),
            ),
            Action::PutLogsPolicy { role, targets } => (
                Change,
                Kind::Role,
                role.clone(),
                format!(
                    "allow writing {} (inline policy {})",
                    crate::deploy::logs::describe(targets),
                    crate::deploy::logs::POLICY_NAME
                ),
            ),
            Action::PutAccessPolicy {
                role,
                statements,
                added,
                removed,
            } => {
                let changes: Vec<String> = added
                    .iter()
                    .map(|s| format!("+ {s}"))
                    .chain(removed.iter().map(|s| format!("- {s}")))
                    .collect();
                (
                    Change,
                    Kind::Role,
                    role.clone(),
                    format!(
                        "inline policy {} ({} statement{}){}{}",
                        crate::deploy::access::POLICY_NAME,
                        statements.len(),
                        if statements.len() == 1 { "" } else { "s" },
                        if changes.is_empty() { "" } else { ": " },
                        changes.join("; ")
                    ),
                )
            }
            Action::DeleteAccessPolicy { role } => (
                Delete,
                Kind::Role,
                role.clone(),
                format!(
                    "remove the inline policy {}",
                    crate::deploy::access::POLICY_NAME
                ),
            ),
            Action::DeleteLogsPolicy { role } => (
                Delete,
                Kind::Role,
                role.clone(),
                format!(
                    "remove the inline policy {}",
                    crate::deploy::logs::POLICY_NAME
                ),
            ),
            Action::CreateLogGroup {
                name,
                retention_days,
            } => (
                Create,
                Kind::LogGroup,
                name.clone(),
                format!("create (retention {})", days(*retention_days)),
            ),
            Action::SetLogRetention { name, from, to } => (
                Change,
                Kind::LogGroup,
                name.clone(),
                format!(
                    "retention {} → {}",
                    match from {
                        Some(d) => days(u32::try_from(*d).unwrap_or_default()),
                        None => "never expire".to_owned(),
                    },
                    days(*to)
                ),
            ),
            Action::DeleteLogGroup { name } => (
                Delete,
                Kind::LogGroup,
                name.clone(),
                "delete (with its events)".into(),
            ),
            Action::SetGatewayLogsRole { role } => (
                Change,
                Kind::Account,
                "CloudWatch role".into(),
                format!("set to {role} (REST access logs need one; shared by the account's REST APIs, kept by nextr remove)"),
            ),
            Action::SetStageAccessLogs => (
                Change,
                Kind::Stage,
                API_STAGE.into(),
                "access logs to the access log group".into(),
            ),
            Action::SetRestAccessLogs { stage } => (
                Change,
                Kind::Stage,
                stage.clone(),
                "access logs to the access log group".into(),
            ),
            Action::CreateApi { name } => (Create, Kind::HttpApi, name.clone(), "create".into()),
            Action::CreateFunction { function } => {
                (Create, Kind::Function, function.clone(), "create".into())
            }
            Action::UpdateFunctionConfiguration {
                function,
                fields,
                role,
            } => (
                Change,
                Kind::Function,
                function.clone(),
                format!(
                    "update configuration ({}){}",
                    fields.join(", "),
                    role.as_ref()
                        .map(|(from, to)| format!(", role {from} → {to}"))
                        .unwrap_or_default()
                ),
            ),
            Action::UpdateFunctionCode {
                function,
                from,
                to,
                architecture,
            } => (
                Change,
                Kind::Function,
                function.clone(),
                format!(
                    "update code {} → {}{}",
                    from.as_deref().map_or("none", short_sha),
                    short_sha(to),
                    architecture
                        .as_ref()
                        .map(|(from, to)| format!(", architecture {from} → {to}"))
                        .unwrap_or_default()
                ),
            ),
            Action::PublishVersion { function } => {
                (Create, Kind::Version, function.clone(), "publish".into())
            }
            Action::CreateAlias { function } => {
                (Create, Kind::Alias, alias(function), "create".into())
            }
            Action::UpdateAlias { function, from } => (
                Change,
                Kind::Alias,
                alias(function),
                format!(
                    "point to the new version (was {})",
                    from.as_deref().unwrap_or("none")
                ),
            ),
            Action::DeleteVersions { function, versions } => (
                Delete,
                Kind::Version,
                function.clone(),
                format!(
                    "delete old version{} {}",
                    if versions.len() == 1 { "" } else { "s" },
                    versions
                        .iter()
                        .map(u64::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
            Action::CreateIntegration { function } => {
                (Create, Kind::Integration, function.clone(), "create".into())
            }
            Action::UpdateIntegration { id, function } => (
                Change,
                Kind::Integration,
                function.clone(),
                format!("fix settings of {id}"),
            ),
            Action::AddPermission {
                function,
                replace: true,
            } => (
                Change,
                Kind::Permission,
                alias(function),
                "re-scope to this API".into(),
            ),
            Action::AddPermission {
                function,
                replace: false,
            } => (
                Create,
                Kind::Permission,
                alias(function),
                "allow the API to invoke".into(),
            ),
            Action::CreateRoute { key, function } => (
                Create,
                Kind::Route,
                key.clone(),
                format!("create → {function}"),
            ),
            Action::UpdateRoute { key, function, .. } => (
                Change,
                Kind::Route,
                key.clone(),
                format!("retarget → {function}"),
            ),
            Action::SetApiCors { cors: Some(c) } => (
                Change,
                Kind::HttpApi,
                "CORS".into(),
                format!(
                    "set (origins {}{}{})",
                    c.allow_origins.join(", "),
                    if c.allow_methods.is_empty() {
                        String::new()
                    } else {
                        format!("; methods {}", c.allow_methods.join(", "))
                    },
                    if c.allow_credentials {
                        "; credentials"
                    } else {
                        ""
                    }
                ),
            ),
            Action::SetApiCors { cors: None } => {
                (Delete, Kind::HttpApi, "CORS".into(), "remove".into())
            }
            Action::SetStageThrottle { default, routes } => {
                let rate =
                    |t: &nextr::manifest::Throttle| format!("{}/s burst {}", t.rate, t.burst);
                let mut parts = vec![match default {
                    Some(t) => format!("stage {}", rate(t)),
                    None => "stage unthrottled".to_owned(),
                }];
                parts.extend(routes.iter().map(|(k, t)| format!("{k} {}", rate(t))));
                (
                    Change,
                    Kind::Stage,
                    API_STAGE.into(),
                    format!("throttle {}", parts.join("; ")),
                )
            }
            Action::SetRestThrottle { stage, set, remove } => {
                let mut parts: Vec<String> = set
                    .iter()
                    .map(|(k, t)| format!("{k} {}/s burst {}", t.rate, t.burst))
                    .collect();
                parts.extend(remove.iter().map(|k| format!("{k} removed")));
                (
                    Change,
                    Kind::Stage,
                    stage.clone(),
                    format!("throttle {}", parts.join("; ")),
                )
            }
            Action::DeleteRouteSettings { key } => (
                Delete,
                Kind::Stage,
                API_STAGE.into(),
                format!("remove the throttle of {key}"),
            ),
            Action::CreateStage => (
                Create,
                Kind::Stage,
                API_STAGE.into(),
                "create (auto-deploy)".into(),
            ),
            Action::UpdateStage => (
                Change,
                Kind::Stage,
                API_STAGE.into(),
                "turn on auto-deploy".into(),
            ),
            Action::DeleteRoute { key, .. } => (Delete, Kind::Route, key.clone(), "delete".into()),
            Action::DeleteIntegration { id, uri } => (
                Delete,
                Kind::Integration,
                id.clone(),
                format!("delete (→ {uri})"),
            ),
            Action::DeleteFunction { function } => (
                Delete,
                Kind::Function,
                function.clone(),
                "delete (with versions, alias, permission)".into(),
            ),
            Action::DeleteApi { id, name } => (
                Delete,
                Kind::HttpApi,
                format!("{name} ({id})"),
                "delete (with routes, integrations, stages)".into(),
            ),
            Action::CreateRestApi { name } => {
                (Create, Kind::RestApi, name.clone(), "create".into())
            }
            Action::AddBinaryMediaTypes { id, types } => (
                Change,
                Kind::RestApi,
                id.clone(),
                format!("add binary media types {}", types.join(", ")),
            ),
            Action::AddRestPermission { function, replace } => (
                if *replace { Change } else { Create },
                Kind::Permission,
                alias(function),
                if *replace {
                    "re-scope to this REST API".into()
                } else {
                    "allow the REST API to invoke".into()
                },
            ),
            Action::CreateFunctionUrl { function, auth } => (
                Create,
                Kind::FunctionUrl,
                alias(function),
                format!("create (auth {}, streaming)", auth.aws_name()),
            ),
            Action::UpdateFunctionUrl { function, auth } => (
                Change,
                Kind::FunctionUrl,
                alias(function),
                format!("set auth {}, streaming", auth.aws_name()),
            ),
            Action::AddUrlPermissions { function } => (
                Create,
                Kind::Permission,
                alias(function),
                "allow public calls of the function URL".into(),
            ),
            Action::CreateResource { path } => {
                (Create, Kind::Resource, path.clone(), "create".into())
            }
            Action::PutMethod { path, function } => (
                Create,
                Kind::Method,
                format!("ANY {path}"),
                format!("create → {function}"),
            ),
            Action::PutIntegration {
                path,
                function,
                mode,
            } => (
                Change,
                Kind::Method,
                format!("ANY {path}"),
                format!("integrate → {function} ({mode})"),
            ),
            Action::PutPreflight {
                path,
                preflight,
                replace,
            } => (
                if *replace { Change } else { Create },
                Kind::Method,
                format!("{} {path}", crate::deploy::rest::PREFLIGHT_METHOD),
                format!("CORS preflight (MOCK, origin {})", preflight.origin()),
            ),
            Action::DeletePreflight { path } => (
                Delete,
                Kind::Method,
                format!("{} {path}", crate::deploy::rest::PREFLIGHT_METHOD),
                "remove the CORS preflight".into(),
            ),
            Action::DeleteMethod { path, method } => (
                Delete,
                Kind::Method,
                format!("{method} {path}"),
                "delete".into(),
            ),
            Action::DeleteResource { path, .. } => {
                (Delete, Kind::Resource, path.clone(), "delete".into())
            }
            Action::CreateDeployment { description } => (
                Create,
                Kind::Deployment,
                description.clone(),
                "snapshot the resources".into(),
            ),
            Action::CreateRestStage { stage } => (
                Create,
                Kind::Stage,
                stage.clone(),
                "create on the new deployment".into(),
            ),
            Action::UpdateRestStage { stage } => (
                Change,
                Kind::Stage,
                stage.clone(),
                "point to the new deployment".into(),
            ),
            Action::DeleteDeployments { ids } => (
                Delete,
                Kind::Deployment,
                ids.join(", "),
                "delete (no stage serves it)".into(),
            ),
            Action::DeleteFunctionUrl { function } => {
                (Delete, Kind::FunctionUrl, alias(function), "delete".into())
            }
            Action::RemovePermission { function, sid } => (
                Delete,
                Kind::Permission,
                alias(function),
                format!("remove statement {sid}"),
            ),
            Action::DeleteRestApi { id, name } => (
                Delete,
                Kind::RestApi,
                format!("{name} ({id})"),
                "delete (with resources, methods, stages)".into(),
            ),
            Action::DetachRolePolicy { role, policy_arn } => (
                Delete,
                Kind::Role,
                role.clone(),
                format!("detach {}", short_policy(policy_arn)),
            ),
            Action::DeleteRole { name } => (Delete, Kind::Role, name.clone(), "delete".into()),
            Action::CreateDomainName {
                name,
                certificate_arn,
                ..
            } => (
                Create,
                Kind::Domain,
                name.clone(),
                format!("create (regional, TLS 1.2, certificate {certificate_arn})"),
            ),
            Action::SetDomainCertificate { name, from, to, .. } => (
                Change,
                Kind::Domain,
                name.clone(),
                format!(
                    "certificate {} → {to}",
                    from.as_deref().unwrap_or("(none)")
                ),
            ),
            Action::CreateDomainMapping { domain, via, stage } => (
                Create,
                Kind::DomainMapping,
                format!("{domain}/"),
                format!("map to the {} API's stage {stage}", kind_word(*via)),
            ),
            Action::DeleteDomainMapping { domain, api_id, .. } => (
                Delete,
                Kind::DomainMapping,
                format!("{domain}/"),
                format!("delete (mapped to API {api_id})"),
            ),
            Action::DeleteDomainName { name, .. } => (
                Delete,
                Kind::Domain,
                name.clone(),
                "delete (its DNS record then points nowhere)".into(),
            ),
        };
        ActionSummary {
            effect,
            kind,
            name,
            what,
        }
    }
}

/// `HTTP` or `REST`.
fn kind_word(kind: nextr::manifest::GatewayKind) -> &'static str {
    match kind {
        nextr::manifest::GatewayKind::Http => "HTTP",
        nextr::manifest::GatewayKind::Rest => "REST",
    }
}

/// `30 days`, `1 day`.
fn days(n: u32) -> String {
    format!("{n} day{}", if n == 1 { "" } else { "s" })
}

fn short_sha(b64: &str) -> &str {
    b64.get(..12).unwrap_or(b64)
}

fn short_policy(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_action_reads_as_sign_kind_name_and_change() {
        let code = Action::UpdateFunctionCode {
            function: "demo-a-dev".into(),
            from: None,
            to: "0123456789abcdef".into(),
            architecture: None,
        };
        assert_eq!(
            code.to_string(),
            "~ function demo-a-dev: update code none → 0123456789ab"
        );
        let arch = Action::UpdateFunctionCode {
            function: "demo-a-dev".into(),
            from: Some("fedcba9876543210".into()),
            to: "0123456789abcdef".into(),
            architecture: Some(("x86_64".into(), "arm64".into())),
        };
        assert_eq!(
            arch.to_string(),
            "~ function demo-a-dev: update code fedcba987654 → 0123456789ab, architecture \
             x86_64 → arm64"
        );
        let permission = Action::AddPermission {
            function: "demo-a-dev".into(),
            replace: false,
        }
        .summary();
        assert_eq!(permission.effect, Effect::Create);
        assert_eq!(permission.kind.as_str(), "permission");
        assert_eq!(permission.name, "demo-a-dev:live");
        let integrate = Action::PutIntegration {
            path: "/api/{id}".into(),
            function: "demo-a-dev".into(),
            mode: nextr::manifest::ResponseMode::Stream,
        };
        assert_eq!(
            integrate.to_string(),
            "~ method ANY /api/{id}: integrate → demo-a-dev (stream)"
        );
        let url = Action::CreateFunctionUrl {
            function: "demo-a-dev".into(),
            auth: nextr::manifest::FunctionUrlAuth::Iam,
        };
        assert_eq!(
            url.to_string(),
            "+ function url demo-a-dev:live: create (auth AWS_IAM, streaming)"
        );
        let detach = Action::DetachRolePolicy {
            role: "r".into(),
            policy_arn: "arn:aws:iam::aws:policy/service-role/Basic".into(),
        };
        assert_eq!(detach.to_string(), "- role r: detach Basic");
    }
}
