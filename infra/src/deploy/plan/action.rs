//! The plan's vocabulary: one variant per change to one AWS resource.

use std::fmt;

use std::collections::BTreeMap;

use nextr::manifest::{Cors, FunctionUrlAuth, GatewayKind, ResponseMode, Throttle};

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
    /// Put the role's inline policy [`nextr-invoke`](crate::deploy::rewrite::POLICY_NAME):
    /// the app's functions may invoke each other's `live` aliases (a `proxy.rs`'s rewrites to
    /// another route). Replaces the one there.
    PutInvokePolicy {
        /// Role name.
        role: String,
        /// The functions (or patterns) it names.
        targets: crate::deploy::rewrite::InvokeTargets,
    },
    /// Put the role's inline policy [`nextr-logs`](crate::deploy::logs::POLICY_NAME): the
    /// functions may write to their own log groups. Replaces the one there.
    PutLogsPolicy {
        /// Role name.
        role: String,
        /// The functions (or name patterns) whose log groups it names.
        targets: crate::deploy::rewrite::InvokeTargets,
    },
    /// Put the role's inline policy [`nextr-access`](crate::deploy::access::POLICY_NAME):
    /// `nextr.toml`'s permissions and the reads of its secrets. Replaces the one there.
    PutAccessPolicy {
        /// Role name.
        role: String,
        /// The statements, placeholders unfilled (apply fills them from the role's ARN).
        statements: Vec<nextr::manifest::PolicyStatement>,
        /// The statements it adds, described (`Allow s3:GetObject on arn:…`).
        added: Vec<String>,
        /// The statements it removes, described.
        removed: Vec<String>,
    },
    /// Delete the role's inline policy `nextr-access` (no statement left, or the role goes).
    DeleteAccessPolicy {
        /// Role name.
        role: String,
    },
    /// Delete the role's inline policy `nextr-logs` (the role goes).
    DeleteLogsPolicy {
        /// Role name.
        role: String,
    },
    /// Create a log group (tagged as the app's) with its retention.
    CreateLogGroup {
        /// Log group name.
        name: String,
        /// Days its events are kept.
        retention_days: u32,
    },
    /// Set a log group's retention (`PutRetentionPolicy`).
    SetLogRetention {
        /// Log group name.
        name: String,
        /// The retention now (`None`: never expire).
        from: Option<i32>,
        /// The retention wanted.
        to: u32,
    },
    /// Delete a log group with its events.
    DeleteLogGroup {
        /// Log group name.
        name: String,
    },
    /// Give the account's API Gateway settings a CloudWatch role (`nextr-apigateway-logs`,
    /// created when missing), without which a REST API cannot write access logs. Account-wide
    /// and shared with every REST API of the account in the region: never removed.
    SetGatewayLogsRole {
        /// The role's name.
        role: String,
    },
    /// Point the HTTP API stage's access logs at the access log group (`UpdateStage`).
    SetStageAccessLogs,
    /// Point the REST stage's access logs at the access log group (`UpdateStage` patches).
    SetRestAccessLogs {
        /// Stage name.
        stage: String,
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
        /// When the role differs: the role it runs as now and the one it moves to (names,
        /// or the ARN of a role nextr does not manage).
        role: Option<(String, String)>,
    },
    /// Upload new code (with the manifest's architecture: Lambda changes a function's
    /// architecture only together with its code).
    UpdateFunctionCode {
        /// Function name.
        function: String,
        /// The deployed `CodeSha256`.
        from: Option<String>,
        /// The manifest's, as base64.
        to: String,
        /// `(deployed, manifest's)` when the architecture changes too.
        architecture: Option<(String, String)>,
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
    /// Delete published versions older than those kept (the live one and the previous
    /// `keep_versions`); after the alias moved.
    DeleteVersions {
        /// Function name.
        function: String,
        /// The versions.
        versions: Vec<u64>,
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
    /// Set the HTTP API's `CorsConfiguration` (`UpdateApi`), or remove it
    /// (`DeleteCorsConfiguration`) when `None`.
    SetApiCors {
        /// The configuration wanted.
        cors: Option<Cors>,
    },
    /// Set the stage's throttling (`UpdateStage`): its default route settings' and these
    /// routes' (by route key).
    SetStageThrottle {
        /// The stage's default (`None`: no throttling set).
        default: Option<Throttle>,
        /// Per route key, the routes whose settings change.
        routes: BTreeMap<String, Throttle>,
    },
    /// Remove one route's settings from the stage (`DeleteRouteSettings`).
    DeleteRouteSettings {
        /// Route key.
        key: String,
    },
    /// Create the `$default` stage with auto-deploy (and the throttling wanted).
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
    /// Create the REST API.
    CreateRestApi {
        /// API name.
        name: String,
    },
    /// Add the binary media types the REST API lacks (an API created by hand, or by an
    /// older nextr): without them bodies are mangled as text.
    AddBinaryMediaTypes {
        /// API id.
        id: String,
        /// The media types to add.
        types: Vec<String>,
    },
    /// Allow the REST API to invoke the alias (replacing a statement scoped to another API).
    AddRestPermission {
        /// Function name.
        function: String,
        /// Whether a stale statement is removed first.
        replace: bool,
    },
    /// Create the function URL of the alias (`InvokeMode: RESPONSE_STREAM`).
    CreateFunctionUrl {
        /// Function name.
        function: String,
        /// Its `AuthType`.
        auth: FunctionUrlAuth,
    },
    /// Give the function URL the manifest's `AuthType` and `RESPONSE_STREAM` again.
    UpdateFunctionUrl {
        /// Function name.
        function: String,
        /// Its `AuthType`.
        auth: FunctionUrlAuth,
    },
    /// Add the statements a public (`AuthType: NONE`) function URL needs.
    AddUrlPermissions {
        /// Function name.
        function: String,
    },
    /// Create a REST resource (its parent exists or is created before).
    CreateResource {
        /// Its full path.
        path: String,
    },
    /// Create the resource's `ANY` method (authorization `NONE`).
    PutMethod {
        /// Resource path.
        path: String,
        /// Function name.
        function: String,
    },
    /// Create or replace the Lambda proxy integration of the resource's `ANY` method.
    PutIntegration {
        /// Resource path.
        path: String,
        /// Function name.
        function: String,
        /// Buffered or streamed.
        mode: ResponseMode,
    },
    /// Create the resource's `OPTIONS` method answering CORS preflights with a `MOCK`
    /// integration (`[cors]` behind a REST API); `replace` deletes the one there first (a
    /// method cannot be put over, and its responses are simplest made again).
    PutPreflight {
        /// Resource path.
        path: String,
        /// The fixed answer.
        preflight: crate::deploy::rest::Preflight,
        /// Whether an `OPTIONS` method with other settings is there.
        replace: bool,
    },
    /// Delete the resource's `OPTIONS` preflight method (`[cors]` removed). Not destructive:
    /// it is the gateway's CORS answer, as an HTTP API's `CorsConfiguration` is, never a
    /// route (routes are served through `ANY`).
    DeletePreflight {
        /// Resource path.
        path: String,
    },
    /// Delete a method nextr does not want (another verb, or one on an intermediate
    /// resource, or one with other settings before it is put again).
    DeleteMethod {
        /// Resource path.
        path: String,
        /// HTTP method.
        method: String,
    },
    /// Delete a resource no key names (after its children).
    DeleteResource {
        /// Resource id.
        id: String,
        /// Its path.
        path: String,
    },
    /// Snapshot the REST API's resources in a deployment.
    CreateDeployment {
        /// `nextr <fingerprint>`.
        description: String,
    },
    /// Create the stage on the new deployment.
    CreateRestStage {
        /// Stage name.
        stage: String,
    },
    /// Point the stage at the new deployment.
    UpdateRestStage {
        /// Stage name.
        stage: String,
    },
    /// Set and remove REST stage method settings' throttles (`UpdateStage` patches), by
    /// settings key (`*/*`, `~1api~1login/*`).
    SetRestThrottle {
        /// Stage name.
        stage: String,
        /// Throttles to set.
        set: BTreeMap<String, Throttle>,
        /// Method settings to remove.
        remove: Vec<String>,
    },
    /// Delete deployments no stage serves any more (after the stage moved): the stage's
    /// history is the functions' versions, not old snapshots.
    DeleteDeployments {
        /// Deployment ids.
        ids: Vec<String>,
    },
    /// Delete a function URL the manifest no longer has.
    DeleteFunctionUrl {
        /// Function name.
        function: String,
    },
    /// Remove a statement of nextr's from the alias policy (the other kind of API's, or a
    /// function URL's that is no longer public).
    RemovePermission {
        /// Function name.
        function: String,
        /// Statement id.
        sid: String,
    },
    /// Delete a REST API with everything in it.
    DeleteRestApi {
        /// API id.
        id: String,
        /// API name.
        name: String,
    },
    /// Delete the role's inline policy `nextr-invoke` (the app has no `proxy.rs` any more, or
    /// the role goes).
    DeleteInvokePolicy {
        /// Role name.
        role: String,
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
    /// Create the custom domain (regional, TLS 1.2, tagged as the stage's) through the API
    /// of this gateway kind.
    CreateDomainName {
        /// The host name.
        name: String,
        /// Its ACM certificate.
        certificate_arn: String,
        /// The API Gateway API that creates it.
        via: GatewayKind,
    },
    /// Give the custom domain another certificate (`UpdateDomainName`; its DNS target stays).
    SetDomainCertificate {
        /// The host name.
        name: String,
        /// The API Gateway API that changes it.
        via: GatewayKind,
        /// The certificate now.
        from: Option<String>,
        /// The certificate wanted.
        to: String,
    },
    /// Map the custom domain's root to the stage of the kept API of this kind.
    CreateDomainMapping {
        /// The host name.
        domain: String,
        /// The kind of API mapped to (and the API Gateway API that maps it).
        via: GatewayKind,
        /// The stage mapped to.
        stage: String,
    },
    /// Delete one mapping of a custom domain.
    DeleteDomainMapping {
        /// The host name.
        domain: String,
        /// The API Gateway API that lists it.
        via: GatewayKind,
        /// The mapping's id (a REST base path).
        id: String,
        /// The API it maps to.
        api_id: String,
    },
    /// Delete a custom domain of the stage (its DNS record then points nowhere).
    DeleteDomainName {
        /// The host name.
        name: String,
        /// The API Gateway APIs that list it.
        via: Vec<GatewayKind>,
    },
}

impl Action {
    /// Whether the action deletes something the app serves (old versions are deploy's own
    /// rollback history: pruning them needs no confirmation).
    pub fn is_destructive(&self) -> bool {
        matches!(
            self,
            Action::DeleteRoute { .. }
                | Action::DeleteIntegration { .. }
                | Action::DeleteFunction { .. }
                | Action::DeleteApi { .. }
                | Action::DeleteMethod { .. }
                | Action::DeleteResource { .. }
                | Action::DeleteFunctionUrl { .. }
                | Action::RemovePermission { .. }
                | Action::DeleteRestApi { .. }
                | Action::DeleteLogGroup { .. }
                | Action::DeleteLogsPolicy { .. }
                | Action::DeleteAccessPolicy { .. }
                | Action::DetachRolePolicy { .. }
                | Action::DeleteRole { .. }
                | Action::DeleteDomainMapping { .. }
                | Action::DeleteDomainName { .. }
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
            | Action::DeleteVersions { function, .. }
            | Action::CreateIntegration { function }
            | Action::UpdateIntegration { function, .. }
            | Action::AddPermission { function, .. }
            | Action::AddRestPermission { function, .. }
            | Action::CreateFunctionUrl { function, .. }
            | Action::UpdateFunctionUrl { function, .. }
            | Action::AddUrlPermissions { function } => Some(function),
            _ => None,
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.summary())
    }
}
