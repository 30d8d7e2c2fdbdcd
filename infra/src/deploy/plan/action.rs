//! The plan's vocabulary: one variant per change to one AWS resource.

use std::fmt;

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
    /// Whether the action deletes something the app serves (old versions are deploy's own
    /// rollback history: pruning them needs no confirmation).
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
            | Action::DeleteVersions { function, .. }
            | Action::CreateIntegration { function }
            | Action::UpdateIntegration { function, .. }
            | Action::AddPermission { function, .. } => Some(function),
            _ => None,
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.summary())
    }
}
