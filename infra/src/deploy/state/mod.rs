//! What exists: the resources of one app and stage, read from AWS by their tags and names.
//! Only `Get…`/`List…` calls here, so observing never changes anything.
//!
//! | module | what it reads |
//! |---|---|
//! | this one | the roles (the app's and the functions' own), the functions (aliases, versions, policies), the HTTP APIs |
//! | `rest` | the REST APIs: resources, methods, integrations, stages, deployments |
//! | `function_url` | each function's URL |
//! | `logs` | the log groups of the functions and the gateway's access log group |
//! | `domain` | the custom domains: the manifest's and the stage's, with their mappings |

mod domain;
mod function_url;
mod logs;
mod rest;

pub use domain::observe_domains;
pub use domain::{ObservedDomain, ObservedMapping};
pub use function_url::ObservedUrl;
pub use rest::{
    ObservedDeployment, ObservedMethod, ObservedResource, ObservedRestApi, ObservedRestIntegration,
    ObservedRestStage,
};

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;

use aws_sdk_lambda::types::FunctionConfiguration;
use futures_util::stream::{self, StreamExt, TryStreamExt};
use nextr::manifest::{Cors, Throttle};

use super::desired::{Target, ALIAS, PERMISSION_SID};
use super::failure::AwsFailure;
use super::rest::{REST_PERMISSION_SID, URL_PERMISSION_SIDS};
use super::{AwsClients, DeployError};

/// How many reads run at once: enough to hide latency, few enough not to be throttled.
const READ_CONCURRENCY: usize = 8;

/// Every item of a paginated listing: `page(token)` reads one page and returns its items
/// and the token of the next page (`None` after the last).
async fn all_pages<T, F, Fut>(mut page: F) -> Result<Vec<T>, DeployError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<String>), DeployError>>,
{
    let mut all = Vec::new();
    let mut token = None;
    loop {
        let (items, next) = page(token).await?;
        all.extend(items);
        match next {
            Some(next) => token = Some(next),
            None => return Ok(all),
        }
    }
}

/// The creation time API Gateway reports (seconds, nanoseconds), to order APIs by.
type Created = Option<(i64, u32)>;

/// APIs of either kind oldest first (then by id), so every run keeps the same one if there
/// ever are several.
fn oldest_first<A>(mut apis: Vec<(Created, A)>, id: impl Fn(&A) -> &str) -> Vec<A> {
    apis.sort_by(|a, b| (a.0, id(&a.1)).cmp(&(b.0, id(&b.1))));
    apis.into_iter().map(|(_, a)| a).collect()
}

/// Everything of one app and stage that exists in AWS.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observed {
    /// The managed execution role, when it exists.
    pub role: Option<ObservedRole>,
    /// The functions' own roles (under `Target::own_role_path`) by name; read with the
    /// managed role only.
    pub own_roles: BTreeMap<String, ObservedRole>,
    /// The app's functions by name.
    pub functions: BTreeMap<String, ObservedFunction>,
    /// The app's HTTP APIs, the one deploy keeps first; more than one only after a failure
    /// elsewhere.
    pub apis: Vec<ObservedApi>,
    /// The app's REST APIs, the one deploy keeps first (as for `apis`).
    pub rest_apis: Vec<ObservedRestApi>,
    /// The app's log groups (its functions' and its access log group) by name, with their
    /// retention in days (`None`: events never expire).
    pub log_groups: BTreeMap<String, Option<i32>>,
    /// The CloudWatch role of the account's API Gateway settings (which a REST API's access
    /// logs need); read for a deploy only. `None` when unset or not read.
    pub gateway_logs_role: Option<String>,
    /// The custom domains: the manifest's (whoever owns it) and the stage's (by tags).
    pub domains: Vec<ObservedDomain>,
}

impl Observed {
    /// The API deploy keeps: the one the functions' invoke permissions point at (it is the
    /// one serving traffic), then the oldest.
    pub fn api(&self) -> Option<&ObservedApi> {
        self.apis.first()
    }

    /// The REST API deploy keeps.
    pub fn rest_api(&self) -> Option<&ObservedRestApi> {
        self.rest_apis.first()
    }

    /// The URL the app answers on: the kept REST API's stage when it has one (REST is the
    /// kind an app switches to for streaming), else the HTTP API's endpoint.
    pub fn url(&self, region: &str, stage: &str) -> Option<String> {
        self.rest_api()
            .and_then(|a| a.url(region, stage))
            .or_else(|| self.api().and_then(|a| a.endpoint.clone()))
    }

    /// The partition and account the app lives in, from its role or any of its functions.
    pub fn partition_and_account(&self) -> Option<(&str, &str)> {
        self.role
            .iter()
            .chain(self.own_roles.values())
            .find_map(|r| super::rewrite::partition_and_account(&r.arn))
            .or_else(|| {
                self.functions
                    .values()
                    .find_map(ObservedFunction::partition_and_account)
            })
    }

    /// Whether nothing of the app and stage exists.
    pub fn is_empty(&self) -> bool {
        self.role.is_none()
            && self.own_roles.is_empty()
            && self.functions.is_empty()
            && self.apis.is_empty()
            && self.rest_apis.is_empty()
            && self.log_groups.is_empty()
            && !self.domains.iter().any(|d| d.owned)
    }
}

/// The managed execution role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedRole {
    /// Its name.
    pub name: String,
    /// Its ARN.
    pub arn: String,
    /// Managed policy ARNs attached to it.
    pub attached: Vec<String>,
    /// The document of its inline policy [`nextr-invoke`](super::rewrite::POLICY_NAME) (an
    /// app with a `proxy.rs`), when it has one (`Value::Null` when it cannot be read).
    pub invoke_policy: Option<serde_json::Value>,
    /// The document of its inline policy [`nextr-logs`](super::logs::POLICY_NAME), when it
    /// has one (as for `invoke_policy`).
    pub logs_policy: Option<serde_json::Value>,
    /// The document of its inline policy [`nextr-access`](super::access::POLICY_NAME), when
    /// it has one (as for `invoke_policy`).
    pub access_policy: Option<serde_json::Value>,
}

impl Observed {
    /// The managed role of that name: the app's or a function's own.
    pub fn managed_role(&self, name: &str) -> Option<&ObservedRole> {
        self.role
            .as_ref()
            .filter(|r| r.name == name)
            .or_else(|| self.own_roles.get(name))
    }
}

/// A function's configuration as Lambda reports it (for `$LATEST` or one version).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FunctionConfig {
    /// Runtime id.
    pub runtime: Option<String>,
    /// Handler.
    pub handler: Option<String>,
    /// Timeout in seconds.
    pub timeout_s: Option<i32>,
    /// Memory in MB.
    pub memory_mb: Option<i32>,
    /// `x86_64` or `arm64`.
    pub architecture: String,
    /// Execution role ARN.
    pub role: Option<String>,
    /// Environment variables.
    pub env: BTreeMap<String, String>,
    /// Description.
    pub description: String,
    /// Base64 sha256 of the code.
    pub code_sha256: Option<String>,
    /// `$LATEST` or a version number.
    pub version: Option<String>,
    /// `Pending`, `Active`, `Inactive`, `Failed`.
    pub state: Option<String>,
    /// `InProgress`, `Successful`, `Failed`.
    pub last_update_status: Option<String>,
}

/// Reads the fields nextr manages from any Lambda output shaped like a
/// `FunctionConfiguration` (GetFunctionConfiguration, CreateFunction, PublishVersion, …).
macro_rules! function_config {
    ($c:expr) => {{
        let c = $c;
        $crate::deploy::state::FunctionConfig {
            runtime: c.runtime().map(|r| r.as_str().to_string()),
            handler: c.handler().map(str::to_string),
            timeout_s: c.timeout(),
            memory_mb: c.memory_size(),
            architecture: c
                .architectures()
                .first()
                .map_or("x86_64", |a| a.as_str())
                .to_string(),
            role: c.role().map(str::to_string),
            env: c
                .environment()
                .and_then(|e| e.variables())
                .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default(),
            description: c.description().unwrap_or_default().to_string(),
            code_sha256: c.code_sha256().map(str::to_string),
            version: c.version().map(str::to_string),
            state: c.state().map(|s| s.as_str().to_string()),
            last_update_status: c.last_update_status().map(|s| s.as_str().to_string()),
        }
    }};
}
pub(crate) use function_config;

impl FunctionConfig {
    /// Reads the fields nextr manages.
    pub fn from_sdk(c: &FunctionConfiguration) -> Self {
        function_config!(c)
    }

    /// Whether Lambda is still working on a create or an update.
    pub fn is_busy(&self) -> bool {
        self.state.as_deref() == Some("Pending")
            || self.last_update_status.as_deref() == Some("InProgress")
    }
}

/// One of the app's functions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObservedFunction {
    /// Its name.
    pub name: String,
    /// Its unqualified ARN.
    pub arn: String,
    /// `$LATEST`.
    pub latest: FunctionConfig,
    /// The version the `live` alias points to, when the alias exists (not read for functions
    /// deploy is going to delete).
    pub live: Option<FunctionConfig>,
    /// The `SourceArn` of the HTTP API's invoke permission on the alias, when present.
    pub permission_source: Option<String>,
    /// The `SourceArn` of the REST API's invoke permission on the alias, when present.
    pub rest_permission_source: Option<String>,
    /// Which of the public function URL statements the alias policy has.
    pub url_statements: BTreeSet<String>,
    /// The function URL of the alias (read only for functions deploy keeps).
    pub url: Option<ObservedUrl>,
    /// Its published versions, oldest first (not read for functions deploy is going to
    /// delete).
    pub versions: Vec<u64>,
}

impl ObservedFunction {
    /// `arn:partition:lambda:region:account:function:name` → (partition, account).
    pub fn partition_and_account(&self) -> Option<(&str, &str)> {
        let mut parts = self.arn.split(':');
        let _arn = parts.next()?;
        let partition = parts.next()?;
        let _service = parts.next()?;
        let _region = parts.next()?;
        let account = parts.next()?;
        Some((partition, account))
    }
}

/// One of the app's HTTP APIs with what is inside it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObservedApi {
    /// API id.
    pub id: String,
    /// Name.
    pub name: String,
    /// `https://{id}.execute-api.{region}.amazonaws.com`.
    pub endpoint: Option<String>,
    /// Integrations (read for the kept API only).
    pub integrations: Vec<ObservedIntegration>,
    /// Routes (read for the kept API only).
    pub routes: Vec<ObservedRoute>,
    /// Stages (read for the kept API only).
    pub stages: Vec<ObservedStage>,
    /// Its `CorsConfiguration`.
    pub cors: Option<Cors>,
}

/// An integration of the API.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObservedIntegration {
    /// Integration id.
    pub id: String,
    /// Target URI (an alias ARN for nextr's).
    pub uri: Option<String>,
    /// `AWS_PROXY` for nextr's.
    pub integration_type: Option<String>,
    /// `2.0` for nextr's.
    pub payload_format_version: Option<String>,
    /// Timeout in milliseconds.
    pub timeout_ms: Option<i32>,
}

impl ObservedIntegration {
    /// The function name when the URI is a `live` alias ARN.
    pub fn function_name(&self) -> Option<&str> {
        let uri = self.uri.as_deref()?;
        let rest = uri.split(":function:").nth(1)?;
        let (name, qualifier) = rest.split_once(':')?;
        (qualifier == ALIAS).then_some(name)
    }
}

/// A route of the API.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObservedRoute {
    /// Route id.
    pub id: String,
    /// Route key.
    pub key: String,
    /// `integrations/{id}`.
    pub target: Option<String>,
}

impl ObservedRoute {
    /// The integration id of the target.
    pub fn integration_id(&self) -> Option<&str> {
        self.target.as_deref()?.strip_prefix("integrations/")
    }
}

/// A stage of the API.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObservedStage {
    /// Stage name.
    pub name: String,
    /// Whether changes deploy automatically.
    pub auto_deploy: bool,
    /// The throttling of its default route settings.
    pub throttle: Option<Throttle>,
    /// The throttling of each route with route settings, by route key.
    pub route_throttles: BTreeMap<String, Throttle>,
    /// Its access log settings: destination ARN and format.
    pub access_logs: Option<(String, String)>,
}

/// Reads what exists for `target`.
///
/// `role`: the managed role's name (`None` when the user brings a role). `wanted`: the
/// functions deploy keeps, whose alias and permission are read too (a function with one of
/// these names that is not tagged as ours is an error). `api_children`: read the kept API's
/// integrations, routes and stages.
pub async fn observe(
    clients: &AwsClients,
    target: &Target,
    role: Option<&str>,
    wanted: &BTreeSet<String>,
    api_children: bool,
) -> Result<Observed, DeployError> {
    let ((role, own_roles), functions, apis, rest_apis) = tokio::try_join!(
        // The app's role, then the functions' own: one IAM call at a time. With refused
        // credentials, a second IAM call in flight has been seen (against moto, in CI) to
        // fail as a closed connection, which then hid the refusal and its help.
        async {
            match role {
                Some(name) => Ok((
                    observe_role(clients, target, name).await?,
                    observe_own_roles(clients, target).await?,
                )),
                None => Ok((None, BTreeMap::new())),
            }
        },
        observe_functions(clients, target, wanted),
        observe_apis(clients, target),
        rest::observe_rest_apis(clients, target),
    )?;
    let mut apis = keep_serving_api_first(
        apis,
        &functions,
        |api| &api.id,
        |f| f.permission_source.as_deref(),
    );
    let mut rest_apis = keep_serving_api_first(
        rest_apis,
        &functions,
        |api| &api.id,
        |f| f.rest_permission_source.as_deref(),
    );
    if api_children {
        if let Some(api) = rest_apis.first_mut() {
            rest::read_children(clients, api).await?;
        }
    }
    let mut named: BTreeSet<String> = wanted.clone();
    named.extend(functions.keys().cloned());
    let log_groups = logs::observe_log_groups(clients, target, &named).await?;
    let gateway_logs_role = if api_children {
        read_gateway_logs_role(clients).await?
    } else {
        None
    };
    if api_children {
        if let Some(api) = apis.first_mut() {
            let (integrations, routes, stages) = tokio::try_join!(
                read_integrations(clients, &api.id),
                read_routes(clients, &api.id),
                read_stages(clients, &api.id),
            )?;
            api.integrations = integrations;
            api.routes = routes;
            api.stages = stages;
        }
    }
    Ok(Observed {
        role,
        own_roles,
        functions,
        apis,
        rest_apis,
        log_groups,
        gateway_logs_role,
        domains: Vec::new(),
    })
}

/// The CloudWatch role ARN of the account's API Gateway settings, when one is set.
async fn read_gateway_logs_role(clients: &AwsClients) -> Result<Option<String>, DeployError> {
    let out = clients.rest.get_account().send().await.map_err(|e| {
        DeployError::aws(
            "reading",
            "the API Gateway account settings",
            AwsFailure::of(&e),
        )
    })?;
    Ok(out
        .cloudwatch_role_arn()
        .filter(|a| !a.is_empty())
        .map(str::to_owned))
}

/// An inline policy of the role, parsed (`Value::Null` when unreadable), or `None` when the
/// role has no policy of that name.
async fn read_inline_policy(
    clients: &AwsClients,
    role: &str,
    policy: &str,
) -> Result<Option<serde_json::Value>, DeployError> {
    match clients
        .iam
        .get_role_policy()
        .role_name(role)
        .policy_name(policy)
        .send()
        .await
    {
        Ok(out) => Ok(Some(
            super::rewrite::parse_document(out.policy_document())
                .unwrap_or(serde_json::Value::Null),
        )),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_no_such_entity_exception()) =>
        {
            Ok(None)
        }
        Err(e) => Err(DeployError::aws(
            "reading an inline policy of",
            format!("IAM role {role} ({policy})"),
            AwsFailure::of(&e),
        )),
    }
}

async fn observe_role(
    clients: &AwsClients,
    target: &Target,
    name: &str,
) -> Result<Option<ObservedRole>, DeployError> {
    let resource = || format!("IAM role {name}");
    let out = match clients.iam.get_role().role_name(name).send().await {
        Ok(out) => out,
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_no_such_entity_exception()) =>
        {
            return Ok(None)
        }
        Err(e) => return Err(DeployError::aws("reading", resource(), AwsFailure::of(&e))),
    };
    let role = out
        .role()
        .ok_or_else(|| DeployError::incomplete("reading", resource(), "Role"))?;
    let tags: HashMap<String, String> = role
        .tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect();
    if !target.owns(Some(&tags)) {
        return Err(DeployError::NotOwned {
            kind: "IAM role",
            name: name.to_string(),
            app: target.app().to_string(),
            stage: target.stage().to_string(),
        });
    }
    let attached = all_pages(|marker| async move {
        let out = clients
            .iam
            .list_attached_role_policies()
            .role_name(name)
            .set_marker(marker)
            .send()
            .await
            .map_err(|e| DeployError::aws("reading policies of", resource(), AwsFailure::of(&e)))?;
        let arns = out
            .attached_policies()
            .iter()
            .filter_map(|p| p.policy_arn().map(str::to_string))
            .collect();
        let next = out.marker().filter(|_| out.is_truncated());
        Ok((arns, next.map(str::to_string)))
    })
    .await?;
    let (invoke_policy, logs_policy, access_policy) = tokio::try_join!(
        read_inline_policy(clients, name, super::rewrite::POLICY_NAME),
        read_inline_policy(clients, name, super::logs::POLICY_NAME),
        read_inline_policy(clients, name, super::access::POLICY_NAME),
    )?;
    Ok(Some(ObservedRole {
        name: name.to_string(),
        arn: role.arn().to_string(),
        attached,
        invoke_policy,
        logs_policy,
        access_policy,
    }))
}

/// The functions' own roles of the app and stage: every role under its path, each read
/// (and its tags checked) as the app's role is.
async fn observe_own_roles(
    clients: &AwsClients,
    target: &Target,
) -> Result<BTreeMap<String, ObservedRole>, DeployError> {
    let path = target.own_role_path();
    let names = all_pages(|marker| {
        let path = &path;
        async move {
            let out = clients
                .iam
                .list_roles()
                .path_prefix(path)
                .set_marker(marker)
                .send()
                .await
                .map_err(|e| {
                    DeployError::aws(
                        "listing",
                        format!("IAM roles under {path}"),
                        AwsFailure::of(&e),
                    )
                })?;
            let names: Vec<String> = out
                .roles()
                .iter()
                // A prefix match: `/nextr/shop/prod/` is also the start of nothing else, but
                // IAM's own filter is checked again.
                .filter(|r| r.path() == path.as_str())
                .map(|r| r.role_name().to_string())
                .collect();
            let next = out.marker().filter(|_| out.is_truncated());
            Ok((names, next.map(str::to_string)))
        }
    })
    .await?;
    let found: Vec<Option<ObservedRole>> = stream::iter(names)
        .map(|name| async move { observe_role(clients, target, &name).await })
        .buffer_unordered(READ_CONCURRENCY)
        .try_collect()
        .await?;
    Ok(found
        .into_iter()
        .flatten()
        .map(|r| (r.name.clone(), r))
        .collect())
}

async fn observe_functions(
    clients: &AwsClients,
    target: &Target,
    wanted: &BTreeSet<String>,
) -> Result<BTreeMap<String, ObservedFunction>, DeployError> {
    let prefix = target.description_prefix();
    let names = all_pages(|marker| {
        let prefix = &prefix;
        async move {
            let out = clients
                .lambda
                .list_functions()
                .set_marker(marker)
                .max_items(50)
                .send()
                .await
                .map_err(|e| DeployError::aws("listing", "Lambda functions", AwsFailure::of(&e)))?;
            let names: Vec<String> = out
                .functions()
                .iter()
                .filter_map(|f| f.function_name().map(|name| (name, f.description())))
                .filter(|(name, description)| {
                    wanted.contains(*name)
                        || description.is_some_and(|d| d.starts_with(prefix.as_str()))
                })
                .map(|(name, _)| name.to_string())
                .collect();
            Ok((names, out.next_marker().map(str::to_string)))
        }
    })
    .await?;
    let candidates: BTreeSet<String> = names.into_iter().collect();
    let found: Vec<Option<ObservedFunction>> = stream::iter(candidates)
        .map(|name| observe_function(clients, target, name, wanted))
        .buffer_unordered(READ_CONCURRENCY)
        .try_collect()
        .await?;
    Ok(found
        .into_iter()
        .flatten()
        .map(|f| (f.name.clone(), f))
        .collect())
}

async fn observe_function(
    clients: &AwsClients,
    target: &Target,
    name: String,
    wanted: &BTreeSet<String>,
) -> Result<Option<ObservedFunction>, DeployError> {
    let resource = || format!("function {name}");
    let out = match clients
        .lambda
        .get_function()
        .function_name(&name)
        .send()
        .await
    {
        Ok(out) => out,
        // Deleted between the listing and now.
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            return Ok(None)
        }
        Err(e) => return Err(DeployError::aws("reading", resource(), AwsFailure::of(&e))),
    };
    if !target.owns(out.tags()) {
        if wanted.contains(&name) {
            return Err(DeployError::NotOwned {
                kind: "function",
                name,
                app: target.app().to_string(),
                stage: target.stage().to_string(),
            });
        }
        // Carries our description but not our tags: not ours to touch.
        return Ok(None);
    }
    let config = out
        .configuration()
        .ok_or_else(|| DeployError::incomplete("reading", resource(), "Configuration"))?;
    let arn = config
        .function_arn()
        .ok_or_else(|| DeployError::incomplete("reading", resource(), "FunctionArn"))?
        .to_string();
    let latest = FunctionConfig::from_sdk(config);
    let (live, policy, versions, url) = if wanted.contains(&name) {
        tokio::try_join!(
            read_live(clients, &name),
            read_policy(clients, &name),
            read_versions(clients, &name),
            function_url::read_url(clients, &name),
        )?
    } else {
        (None, None, Vec::new(), None)
    };
    let policy = policy.as_deref();
    Ok(Some(ObservedFunction {
        name,
        arn,
        latest,
        live,
        permission_source: policy.and_then(|p| statement_source(p, PERMISSION_SID)),
        rest_permission_source: policy.and_then(|p| statement_source(p, REST_PERMISSION_SID)),
        url_statements: URL_PERMISSION_SIDS
            .iter()
            .filter(|sid| policy.is_some_and(|p| has_statement(p, sid)))
            .map(|sid| sid.to_string())
            .collect(),
        url,
        versions,
    }))
}

/// A function's numbered versions, oldest first.
async fn read_versions(clients: &AwsClients, name: &str) -> Result<Vec<u64>, DeployError> {
    let mut versions: Vec<u64> = all_pages(|marker| async move {
        let out = clients
            .lambda
            .list_versions_by_function()
            .function_name(name)
            .set_marker(marker)
            .send()
            .await
            .map_err(|e| {
                DeployError::aws("listing", format!("versions of {name}"), AwsFailure::of(&e))
            })?;
        let numbers = out
            .versions()
            .iter()
            .filter_map(|v| v.version()?.parse::<u64>().ok())
            .collect();
        Ok((numbers, out.next_marker().map(str::to_string)))
    })
    .await?;
    versions.sort_unstable();
    Ok(versions)
}

async fn read_live(
    clients: &AwsClients,
    name: &str,
) -> Result<Option<FunctionConfig>, DeployError> {
    match clients
        .lambda
        .get_function_configuration()
        .function_name(name)
        .qualifier(ALIAS)
        .send()
        .await
    {
        Ok(out) => Ok(Some(function_config!(&out))),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            Ok(None)
        }
        Err(e) => Err(DeployError::aws(
            "reading",
            format!("alias {name}:{ALIAS}"),
            AwsFailure::of(&e),
        )),
    }
}

/// The resource policy document of the alias, when it has one.
async fn read_policy(clients: &AwsClients, name: &str) -> Result<Option<String>, DeployError> {
    let out = match clients
        .lambda
        .get_policy()
        .function_name(name)
        .qualifier(ALIAS)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            return Ok(None)
        }
        Err(e) => {
            return Err(DeployError::aws(
                "reading the policy of",
                format!("alias {name}:{ALIAS}"),
                AwsFailure::of(&e),
            ))
        }
    };
    Ok(out.policy().map(str::to_string))
}

/// The statement `sid` of a resource policy document.
fn statement(policy: &str, sid: &str) -> Option<serde_json::Value> {
    let doc: serde_json::Value = serde_json::from_str(policy).ok()?;
    let statements = doc.get("Statement")?.as_array()?;
    statements
        .iter()
        .find(|s| s.get("Sid").and_then(|v| v.as_str()) == Some(sid))
        .cloned()
}

/// Whether a resource policy document has the statement `sid`.
fn has_statement(policy: &str, sid: &str) -> bool {
    statement(policy, sid).is_some()
}

/// The `SourceArn` condition of the HTTP API's statement in a resource policy document.
#[cfg(test)]
pub(crate) fn permission_source(policy: &str) -> Option<String> {
    statement_source(policy, PERMISSION_SID)
}

/// The `SourceArn` condition of statement `sid` in a resource policy document.
pub(crate) fn statement_source(policy: &str, sid: &str) -> Option<String> {
    let ours = statement(policy, sid)?;
    let condition = ours.get("Condition");
    ["ArnLike", "ArnEquals", "StringLike", "StringEquals"]
        .iter()
        .find_map(|op| {
            condition?
                .get(op)?
                .get("AWS:SourceArn")?
                .as_str()
                .map(str::to_string)
        })
        // A statement without a source condition is not scoped: report it as something
        // else so the plan replaces it.
        .or_else(|| Some(String::new()))
}

/// Moves the API most of the functions' permissions are scoped to to the front, keeping the
/// oldest-first order otherwise: with duplicates (two deploys racing, or a copy made by
/// hand), the one already serving traffic keeps its URL, and creation dates, which some
/// servers round to whole seconds, only decide between APIs nothing points at. `id` gives
/// an API's id, `source` a function's permission scope for this kind of API.
fn keep_serving_api_first<A>(
    mut apis: Vec<A>,
    functions: &BTreeMap<String, ObservedFunction>,
    id: impl Fn(&A) -> &String,
    source: impl Fn(&ObservedFunction) -> Option<&str>,
) -> Vec<A> {
    if apis.len() < 2 {
        return apis;
    }
    let pointing_at = |api: &A| {
        let scope = format!(":{}/", id(api));
        functions
            .values()
            .filter(|f| source(f).is_some_and(|s| s.contains(&scope)))
            .count()
    };
    // Stable sort: ties keep the oldest-first order.
    apis.sort_by_key(|api| std::cmp::Reverse(pointing_at(api)));
    apis
}

async fn observe_apis(
    clients: &AwsClients,
    target: &Target,
) -> Result<Vec<ObservedApi>, DeployError> {
    let apis = all_pages(|token| async move {
        let out = clients
            .apigw
            .get_apis()
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| DeployError::aws("listing", "HTTP APIs", AwsFailure::of(&e)))?;
        let ours = out
            .items()
            .iter()
            .filter(|api| target.owns(api.tags()))
            .filter_map(|api| {
                let created = api.created_date().map(|d| (d.secs(), d.subsec_nanos()));
                let api = ObservedApi {
                    id: api.api_id()?.to_string(),
                    name: api.name()?.to_string(),
                    endpoint: api.api_endpoint().map(str::to_string),
                    cors: api.cors_configuration().map(cors_of),
                    ..ObservedApi::default()
                };
                Some((created, api))
            })
            .collect();
        Ok((ours, out.next_token().map(str::to_string)))
    })
    .await?;
    Ok(oldest_first(apis, |a| &a.id))
}

/// An API's `CorsConfiguration` in the manifest's terms.
fn cors_of(c: &aws_sdk_apigatewayv2::types::Cors) -> Cors {
    Cors {
        allow_origins: c.allow_origins().to_vec(),
        allow_methods: c.allow_methods().to_vec(),
        allow_headers: c.allow_headers().to_vec(),
        expose_headers: c.expose_headers().to_vec(),
        allow_credentials: c.allow_credentials().unwrap_or(false),
        max_age_s: c.max_age().and_then(|a| u32::try_from(a).ok()),
    }
}

/// The throttling of route settings, when both limits are set (nextr sets both or none).
fn throttle_of(s: &aws_sdk_apigatewayv2::types::RouteSettings) -> Option<Throttle> {
    let rate = s.throttling_rate_limit()?;
    let burst = s.throttling_burst_limit()?;
    // Whole requests per second: what nextr.toml takes; a fractional rate set by hand reads
    // as different, so deploy sets nextr's again.
    let whole = rate.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&rate);
    Some(Throttle {
        rate: if whole { rate as u32 } else { u32::MAX },
        burst: u32::try_from(burst).unwrap_or(u32::MAX),
    })
}

async fn read_integrations(
    clients: &AwsClients,
    api: &str,
) -> Result<Vec<ObservedIntegration>, DeployError> {
    all_pages(|token| async move {
        let out = clients
            .apigw
            .get_integrations()
            .api_id(api)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| {
                DeployError::aws(
                    "listing",
                    format!("integrations of API {api}"),
                    AwsFailure::of(&e),
                )
            })?;
        let items = out
            .items()
            .iter()
            .filter_map(|i| {
                Some(ObservedIntegration {
                    id: i.integration_id()?.to_string(),
                    uri: i.integration_uri().map(str::to_string),
                    integration_type: i.integration_type().map(|t| t.as_str().to_string()),
                    payload_format_version: i.payload_format_version().map(str::to_string),
                    timeout_ms: i.timeout_in_millis(),
                })
            })
            .collect();
        Ok((items, out.next_token().map(str::to_string)))
    })
    .await
}

async fn read_routes(clients: &AwsClients, api: &str) -> Result<Vec<ObservedRoute>, DeployError> {
    all_pages(|token| async move {
        let out = clients
            .apigw
            .get_routes()
            .api_id(api)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| {
                DeployError::aws(
                    "listing",
                    format!("routes of API {api}"),
                    AwsFailure::of(&e),
                )
            })?;
        let items = out
            .items()
            .iter()
            .filter_map(|r| {
                Some(ObservedRoute {
                    id: r.route_id()?.to_string(),
                    key: r.route_key()?.to_string(),
                    target: r.target().map(str::to_string),
                })
            })
            .collect();
        Ok((items, out.next_token().map(str::to_string)))
    })
    .await
}

async fn read_stages(clients: &AwsClients, api: &str) -> Result<Vec<ObservedStage>, DeployError> {
    all_pages(|token| async move {
        let out = clients
            .apigw
            .get_stages()
            .api_id(api)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| {
                DeployError::aws(
                    "listing",
                    format!("stages of API {api}"),
                    AwsFailure::of(&e),
                )
            })?;
        let items = out
            .items()
            .iter()
            .filter_map(|s| {
                Some(ObservedStage {
                    name: s.stage_name()?.to_string(),
                    auto_deploy: s.auto_deploy().unwrap_or(false),
                    throttle: s.default_route_settings().and_then(throttle_of),
                    route_throttles: s
                        .route_settings()
                        .map(|m| {
                            m.iter()
                                .filter_map(|(k, v)| Some((k.clone(), throttle_of(v)?)))
                                .collect()
                        })
                        .unwrap_or_default(),
                    access_logs: s.access_log_settings().and_then(|a| {
                        Some((a.destination_arn()?.to_owned(), a.format()?.to_owned()))
                    }),
                })
            })
            .collect();
        Ok((items, out.next_token().map(str::to_string)))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integration_function_name() {
        let i = |uri: &str| ObservedIntegration {
            uri: Some(uri.into()),
            ..Default::default()
        };
        assert_eq!(
            i("arn:aws:lambda:us-east-1:123:function:demo-hello-dev:live").function_name(),
            Some("demo-hello-dev")
        );
        assert_eq!(
            i("arn:aws:lambda:us-east-1:123:function:demo-hello-dev").function_name(),
            None
        );
        assert_eq!(
            i("arn:aws:lambda:us-east-1:123:function:demo-hello-dev:3").function_name(),
            None
        );
    }

    #[test]
    fn permission_source_reads_our_statement_only() {
        let policy = r#"{"Version":"2012-10-17","Statement":[
            {"Sid":"other","Condition":{"ArnLike":{"AWS:SourceArn":"x"}}},
            {"Sid":"nextr-apigw","Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:execute-api:r:1:abc/*"}}}]}"#;
        assert_eq!(
            permission_source(policy).as_deref(),
            Some("arn:aws:execute-api:r:1:abc/*")
        );
        assert_eq!(
            permission_source(r#"{"Statement":[{"Sid":"other"}]}"#),
            None
        );
        assert_eq!(
            permission_source(r#"{"Statement":[{"Sid":"nextr-apigw"}]}"#).as_deref(),
            Some("")
        );
    }

    #[test]
    fn partition_and_account_from_arn() {
        let f = ObservedFunction {
            name: "f".into(),
            arn: "arn:aws-cn:lambda:cn-north-1:123456789012:function:f".into(),
            latest: FunctionConfig::default(),
            live: None,
            permission_source: None,
            versions: Vec::new(),
            ..ObservedFunction::default()
        };
        assert_eq!(f.partition_and_account(), Some(("aws-cn", "123456789012")));
    }

    fn keep(
        apis: Vec<ObservedApi>,
        functions: &BTreeMap<String, ObservedFunction>,
    ) -> Vec<ObservedApi> {
        keep_serving_api_first(
            apis,
            functions,
            |a| &a.id,
            |f| f.permission_source.as_deref(),
        )
    }

    #[test]
    fn the_api_the_permissions_point_at_is_kept_before_the_oldest() {
        let api = |id: &str| ObservedApi {
            id: id.into(),
            name: "demo-dev".into(),
            ..ObservedApi::default()
        };
        let function = |name: &str, source: Option<&str>| {
            (
                name.to_string(),
                ObservedFunction {
                    name: name.into(),
                    arn: format!("arn:aws:lambda:us-east-1:1:function:{name}"),
                    latest: FunctionConfig::default(),
                    live: None,
                    permission_source: source.map(str::to_string),
                    versions: Vec::new(),
                    ..ObservedFunction::default()
                },
            )
        };
        let ids = |apis: Vec<ObservedApi>| apis.into_iter().map(|a| a.id).collect::<Vec<_>>();
        let oldest_first = || vec![api("old"), api("new"), api("newest")];
        let functions = BTreeMap::from([
            function("a", Some("arn:aws:execute-api:us-east-1:1:new/*/*")),
            function("b", Some("arn:aws:execute-api:us-east-1:1:new/*/*")),
            function("c", Some("arn:aws:execute-api:us-east-1:1:newest/*/*")),
            function("d", None),
        ]);
        assert_eq!(
            ids(keep(oldest_first(), &functions)),
            ["new", "newest", "old"]
        );
        // Nothing points anywhere: the oldest.
        assert_eq!(
            ids(keep(oldest_first(), &BTreeMap::new())),
            ["old", "new", "newest"]
        );
        // An id that is a prefix of another does not count for it.
        let functions = BTreeMap::from([function(
            "a",
            Some("arn:aws:execute-api:us-east-1:1:newest/*/*"),
        )]);
        assert_eq!(
            ids(keep(oldest_first(), &functions)),
            ["newest", "old", "new"]
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn all_pages_follows_the_tokens_to_the_last_page_and_stops_at_an_error() {
        let pages = |token: Option<String>| async move {
            match token.as_deref() {
                None => Ok((vec![1, 2], Some("b".to_string()))),
                Some("b") => Ok((vec![], Some("c".to_string()))),
                Some("c") => Ok((vec![3], None)),
                Some(other) => panic!("unexpected token {other}"),
            }
        };
        assert_eq!(all_pages(pages).await.unwrap(), [1, 2, 3]);
        let failing = |token: Option<String>| async move {
            match token {
                None => Ok((vec![1], Some("b".to_string()))),
                Some(_) => Err(DeployError::aws("listing", "HTTP APIs", "throttled")),
            }
        };
        assert!(all_pages(failing).await.is_err());
    }
}
