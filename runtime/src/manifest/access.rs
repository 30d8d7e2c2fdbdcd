//! Who may read what: `nextr.toml`'s `[secrets]` and `[[permissions]]`, app-wide and per
//! route, as the manifest records them. Build writes them; deploy turns them into each
//! function's role and the secret references it runs with, `nextr dev` resolves the secrets
//! locally, and the runtime fetches them at start. Values never appear here: a secret is
//! named by where it lives, never by what it holds.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The environment variable through which deploy (and the template, and `nextr dev`) tell a
/// function which secrets to read at start: a JSON array of [`SecretRef`]s whose `{stage}` is
/// already replaced ([`SecretRef::for_stage`]). References only, never values.
pub const SECRETS_ENV: &str = "NEXTR_SECRETS";

/// [`SECRETS_ENV`]'s value for these secrets: their JSON array (`None` for no secret, when
/// the variable is left unset).
pub fn secrets_env(secrets: &[SecretRef]) -> Option<String> {
    if secrets.is_empty() {
        return None;
    }
    // A list of plain strings always serializes.
    serde_json::to_string(secrets).ok()
}

/// The placeholder a secret's name or a permission's resource may hold for the stage being
/// deployed (`/shop/{stage}/db-url`), so one `nextr.toml` serves every stage.
pub const STAGE_PLACEHOLDER: &str = "{stage}";

/// The app's secrets and permissions, and each route's own.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Access {
    /// Secrets every function reads at start (`[secrets]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<SecretRef>,
    /// IAM statements every function's role holds (`[[permissions]]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub permissions: Vec<PolicyStatement>,
    /// A route's own, keyed by its page pattern (`[routes."<page>".secrets]`,
    /// `[[routes."<page>".permissions]]`), added to the app's.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub routes: BTreeMap<String, RouteAccess>,
}

/// One route's own secrets and permissions, over the app's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteAccess {
    /// Secrets only this route's function reads; one with the env name of an app-wide secret
    /// replaces it for this route.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<SecretRef>,
    /// IAM statements only this route's function's role holds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub permissions: Vec<PolicyStatement>,
}

impl RouteAccess {
    /// Whether the route asks for nothing of its own.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty() && self.permissions.is_empty()
    }
}

impl Access {
    /// Whether `nextr.toml` names no secret and no permission (the manifest then omits it).
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty() && self.permissions.is_empty() && self.routes.is_empty()
    }

    /// The route's own, if it has any (`None` for the `$default` function).
    pub fn route(&self, page: Option<&str>) -> Option<&RouteAccess> {
        page.and_then(|p| self.routes.get(p))
            .filter(|r| !r.is_empty())
    }

    /// The secrets a function reads at start: the app's, with the route's own added and
    /// replacing an app-wide one of the same env name; sorted by env name. `page` is the
    /// route's page pattern, `None` for the `$default` function.
    pub fn secrets_of(&self, page: Option<&str>) -> Vec<SecretRef> {
        let mut by_env: BTreeMap<&str, &SecretRef> =
            self.secrets.iter().map(|s| (s.env.as_str(), s)).collect();
        if let Some(own) = self.route(page) {
            by_env.extend(own.secrets.iter().map(|s| (s.env.as_str(), s)));
        }
        by_env.into_values().cloned().collect()
    }

    /// [`Access::secrets_of`] as a function deployed to `stage` reads them
    /// ([`SecretRef::for_stage`]).
    pub fn secrets_for_stage(&self, page: Option<&str>, stage: &str) -> Vec<SecretRef> {
        self.secrets_of(page)
            .iter()
            .map(|s| s.for_stage(stage))
            .collect()
    }

    /// The IAM statements a function's role holds besides logging (and a proxy's invoke):
    /// the app's, then the route's own.
    pub fn permissions_of(&self, page: Option<&str>) -> Vec<PolicyStatement> {
        let mut all = self.permissions.clone();
        if let Some(own) = self.route(page) {
            all.extend(own.permissions.iter().cloned());
        }
        all
    }
}

/// A secret a function reads at start: the environment variable it becomes, and where it
/// lives. Serialized as `{"env": "DB_URL", "store": "ssm", "name": "/shop/{stage}/db-url"}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretRef {
    /// The environment variable the handler reads it from (`std::env::var`).
    pub env: String,
    /// The service holding it.
    pub store: SecretStore,
    /// The parameter's name (`/shop/prod/db-url`) or the secret's name (`shop/stripe`), or
    /// either's full ARN; may hold [`STAGE_PLACEHOLDER`].
    pub name: String,
}

impl SecretRef {
    /// The same reference with [`STAGE_PLACEHOLDER`] replaced by `stage`: what a deployed
    /// function of that stage (or `nextr dev`) reads.
    pub fn for_stage(&self, stage: &str) -> SecretRef {
        SecretRef {
            env: self.env.clone(),
            store: self.store,
            name: self.name.replace(STAGE_PLACEHOLDER, stage),
        }
    }
}

/// Where a secret lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum SecretStore {
    /// An SSM Parameter Store parameter (`String` or `SecureString`, read with decryption):
    /// `nextr.toml`'s `ssm:/name`.
    #[serde(rename = "ssm")]
    Ssm,
    /// A Secrets Manager secret (its current `SecretString`): `nextr.toml`'s
    /// `secretsmanager:name`.
    #[serde(rename = "secretsmanager")]
    SecretsManager,
}

impl SecretStore {
    /// The prefix naming the store in `nextr.toml` (`ssm`, `secretsmanager`).
    pub fn as_str(self) -> &'static str {
        match self {
            SecretStore::Ssm => "ssm",
            SecretStore::SecretsManager => "secretsmanager",
        }
    }
}

/// One IAM policy statement, as `nextr.toml` writes it. Resources may hold the placeholders
/// `{partition}`, `{region}`, `{account}`, `{app}` and [`STAGE_PLACEHOLDER`], which deploy
/// replaces with the deployed stage's values (the template with `${AWS::…}` references).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyStatement {
    /// `Allow` (the default) or `Deny`.
    #[serde(default)]
    pub effect: Effect,
    /// IAM actions (`dynamodb:GetItem`, `s3:Get*`).
    pub actions: Vec<String>,
    /// Resource ARNs (or `*`), placeholders unreplaced.
    pub resources: Vec<String>,
}

/// A statement's effect.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Effect {
    /// Grants the actions.
    #[default]
    Allow,
    /// Refuses them, over any grant.
    Deny,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(env: &str, store: SecretStore, name: &str) -> SecretRef {
        SecretRef {
            env: env.into(),
            store,
            name: name.into(),
        }
    }

    #[test]
    fn a_routes_secret_replaces_the_apps_of_the_same_name() {
        let mut access = Access {
            secrets: vec![
                secret("DB", SecretStore::Ssm, "/app/{stage}/db"),
                secret("KEY", SecretStore::SecretsManager, "app/key"),
            ],
            ..Access::default()
        };
        access.routes.insert(
            "/api/pay".into(),
            RouteAccess {
                secrets: vec![secret("KEY", SecretStore::Ssm, "/pay/key")],
                permissions: Vec::new(),
            },
        );
        let pay = access.secrets_of(Some("/api/pay"));
        assert_eq!(pay.len(), 2);
        assert_eq!(pay[1], secret("KEY", SecretStore::Ssm, "/pay/key"));
        assert_eq!(access.secrets_of(None).len(), 2);
        assert_eq!(
            access.secrets_of(Some("/api/other"))[1].store,
            SecretStore::SecretsManager
        );
        assert_eq!(pay[0].for_stage("prod").name, "/app/prod/db");
    }

    #[test]
    fn json_shape() {
        let s = secret("DB", SecretStore::Ssm, "/x");
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"{"env":"DB","store":"ssm","name":"/x"}"#
        );
        let p: PolicyStatement =
            serde_json::from_str(r#"{"actions":["s3:GetObject"],"resources":["*"]}"#).unwrap();
        assert_eq!(p.effect, Effect::Allow);
        assert!(Access::default().is_empty());
    }
}
