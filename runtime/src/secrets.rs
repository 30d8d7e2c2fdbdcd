//! `nextr.toml`'s `[secrets]` at function start: the SSM parameters and Secrets Manager
//! secrets a function reads, fetched once, before its first request, and given to the handler
//! as environment variables (`std::env::var("STRIPE_KEY")`) and through [`get`].
//!
//! - **Which**: [`SECRETS_ENV`] (`NEXTR_SECRETS`), a JSON array of
//!   [`SecretRef`](crate::manifest::SecretRef)s whose `{stage}` deploy already replaced:
//!   references only. Unset or empty, a function reads none and nothing here runs.
//! - **How**: signed calls from the function itself (feature `secrets`, the client
//!   [`crate::aws`] shares with `proxy`), all of the function's secrets concurrently: SSM's
//!   `GetParameter` (`WithDecryption`, so a `SecureString` arrives decrypted) and Secrets
//!   Manager's `GetSecretValue` (its current `SecretString`), both AWS JSON 1.1.
//! - **Where**: `https://ssm.{region}.amazonaws.com` and
//!   `https://secretsmanager.{region}.amazonaws.com` (an ARN's own region, else
//!   `AWS_REGION`), or the AWS-standard overrides `AWS_ENDPOINT_URL_SSM`,
//!   `AWS_ENDPOINT_URL_SECRETS_MANAGER`, then `AWS_ENDPOINT_URL` (moto in tests, `nextr dev
//!   --aws-secrets` with the developer's endpoint).
//! - **As whom**: the function's credentials (`AWS_ACCESS_KEY_ID`, … from the execution
//!   role, which deploy lets read exactly these ARNs).
//! - **When it fails**: the function does not start. The Lambda entry points log every
//!   failing secret — its env name, store and name, AWS's error and the fix — and exit with a
//!   failure code before polling the Runtime API, which Lambda reports as an init error
//!   (`Runtime.ExitError`) and `nextr dev` shows.
//!
//! A value is read once per execution environment: a rotated secret reaches a function at its
//! next cold start (deploy again, or wait for Lambda to recycle the environment).

#[cfg(feature = "secrets")]
mod fetch;
#[cfg(all(test, feature = "secrets"))]
mod tests;

use std::collections::BTreeMap;
use std::sync::OnceLock;

pub use crate::manifest::access::SECRETS_ENV;
use crate::manifest::SecretRef;

/// The values read at start, by env name (leaked once per process: they live as long as it).
static VALUES: OnceLock<BTreeMap<String, &'static str>> = OnceLock::new();

/// The value of the secret the function reads into the environment variable `env` (as
/// `nextr.toml`'s `[secrets]` names it), once the function has started; `None` for a name
/// that is not one of its secrets. Reading `std::env::var(env)` gives the same value.
pub fn get(env: &str) -> Option<&'static str> {
    VALUES.get().and_then(|v| v.get(env).copied())
}

/// Why a function could not read its secrets at start; each says what to do.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    /// [`SECRETS_ENV`] does not hold a JSON list of secret references.
    #[error("{SECRETS_ENV} is not a JSON list of secrets ({reason}); it is set by `nextr deploy` and `nextr dev` from nextr.toml's [secrets]: deploy again rather than editing it")]
    Invalid {
        /// serde's message.
        reason: String,
    },
    /// The bundle was built without the `secrets` feature.
    #[error("this function must read {count} secret(s) at start ({SECRETS_ENV}), but its bundle was built without nextr's `secrets` feature, which `nextr build` turns on for apps with [secrets] in nextr.toml: build the app again with `nextr build`")]
    NotBuiltIn {
        /// How many secrets it was told to read.
        count: usize,
    },
    /// Some secrets could not be read.
    #[error("cannot read {} of this function's secrets at start:{}", .0.len(), list(.0))]
    Failed(Vec<SecretFailure>),
}

fn list(failures: &[SecretFailure]) -> String {
    failures.iter().map(|f| format!("\n  - {f}")).collect()
}

/// One secret that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretFailure {
    /// The reference (its env name, store and name).
    pub secret: SecretRef,
    /// The region (or endpoint) asked.
    pub place: String,
    /// What went wrong, with the fix.
    pub problem: String,
}

impl std::fmt::Display for SecretFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "secret {} ({}:{}, {}): {}",
            self.secret.env,
            self.secret.store.as_str(),
            self.secret.name,
            self.place,
            self.problem
        )
    }
}

/// The secrets [`SECRETS_ENV`] names (none when it is unset or empty).
pub(crate) fn wanted() -> Result<Vec<SecretRef>, SecretsError> {
    let Some(text) = std::env::var(SECRETS_ENV)
        .ok()
        .filter(|t| !t.trim().is_empty())
    else {
        return Ok(Vec::new());
    };
    serde_json::from_str(&text).map_err(|e| SecretsError::Invalid {
        reason: e.to_string(),
    })
}

/// Reads every secret [`SECRETS_ENV`] names, concurrently: the values by env name. Runs on
/// the function's tokio runtime before the Lambda loop starts.
pub(crate) async fn read_at_start() -> Result<Vec<(String, String)>, SecretsError> {
    let wanted = wanted()?;
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    #[cfg(feature = "secrets")]
    {
        fetch::fetch_all(&fetch::Setup::from_env(), &wanted).await
    }
    #[cfg(not(feature = "secrets"))]
    {
        Err(SecretsError::NotBuiltIn {
            count: wanted.len(),
        })
    }
}

/// Makes the values the handler's: each becomes an environment variable and [`get`]'s.
///
/// Setting the environment is sound only while no other thread reads it: the Lambda entry
/// points call this on the main thread between the secrets' read and the Lambda loop, on a
/// current-thread tokio runtime with no task running (the only other threads, tokio's
/// blocking pool for DNS lookups, are idle then), and before the watchdog's thread starts.
pub(crate) fn install(values: Vec<(String, String)>) {
    if values.is_empty() {
        return;
    }
    let mut by_env = BTreeMap::new();
    for (env, value) in values {
        std::env::set_var(&env, &value);
        by_env.insert(env, &*Box::leak(value.into_boxed_str()));
    }
    let _ = VALUES.set(by_env);
}
