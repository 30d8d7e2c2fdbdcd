//! The plan's vocabulary: one variant per change to one AWS resource.

use std::fmt;

use crate::deploy::desired::API_STAGE;

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
