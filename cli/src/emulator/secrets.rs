//! A function's secrets in `nextr dev` and `nextr invoke`: a local value when there is one
//! (the developer's shell, then the dev `.env` files: `.env.development.local`, `.env.local`,
//! `.env.development`, `.env`), else, with `nextr dev --aws-secrets`, read by the function at
//! start as on Lambda with the developer's AWS credentials; else the secret is missing, and
//! the function's requests are answered 500 naming it while the other routes serve.

use std::collections::BTreeMap;

use nextr::manifest::SecretRef;

/// How dev gives functions the secrets that have no local value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum AwsSecrets {
    /// They are missing (`nextr dev` without `--aws-secrets`).
    #[default]
    Off,
    /// The function reads them from AWS at start with these variables of the developer's
    /// environment (credentials, region, endpoints).
    Read(Vec<(String, String)>),
}

/// The developer's variables a function needs to read secrets from AWS itself: given to it
/// only with `--aws-secrets`.
pub const AWS_SECRETS_ENV: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_SSM",
    "AWS_ENDPOINT_URL_SECRETS_MANAGER",
];

impl AwsSecrets {
    /// `--aws-secrets` over the developer's environment.
    pub fn from_env(on: bool, developer_env: &BTreeMap<String, String>) -> Self {
        if !on {
            return AwsSecrets::Off;
        }
        AwsSecrets::Read(
            AWS_SECRETS_ENV
                .iter()
                .filter_map(|k| {
                    developer_env
                        .get(*k)
                        .filter(|v| !v.is_empty())
                        .map(|v| ((*k).to_owned(), v.clone()))
                })
                .collect(),
        )
    }
}

/// What a function gets for its secrets in dev.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecretValues {
    /// Secrets with a local value: plain variables (never fetched).
    pub local: Vec<(String, String)>,
    /// Secrets the function reads from AWS at start (`--aws-secrets`).
    pub read: Vec<SecretRef>,
    /// One line per secret with neither (what to do included).
    pub missing: Vec<String>,
}

/// Resolves the secrets of the function serving `page` (already for dev's stage).
pub fn resolve(
    page: &str,
    secrets: &[SecretRef],
    developer_env: &BTreeMap<String, String>,
    dotenv: &BTreeMap<String, String>,
    aws: &AwsSecrets,
) -> SecretValues {
    let mut out = SecretValues::default();
    for secret in secrets {
        let local = developer_env
            .get(&secret.env)
            .or_else(|| dotenv.get(&secret.env));
        match (local, aws) {
            (Some(value), _) => out.local.push((secret.env.clone(), value.clone())),
            (None, AwsSecrets::Read(_)) => out.read.push(secret.clone()),
            (None, AwsSecrets::Off) => out.missing.push(format!(
                "secret {} of {page} ({}:{}) has no local value: add {}=… to .env.local, or run nextr dev --aws-secrets",
                secret.env,
                secret.store.as_str(),
                secret.name,
                secret.env
            )),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use nextr::manifest::SecretStore;

    #[test]
    fn local_values_first_then_aws_then_missing() {
        let secrets = [
            SecretRef {
                env: "SHELL_ONE".into(),
                store: SecretStore::Ssm,
                name: "/a".into(),
            },
            SecretRef {
                env: "FILE_ONE".into(),
                store: SecretStore::Ssm,
                name: "/b".into(),
            },
            SecretRef {
                env: "STRIPE_KEY".into(),
                store: SecretStore::SecretsManager,
                name: "shop/stripe".into(),
            },
        ];
        let shell = BTreeMap::from([("SHELL_ONE".to_owned(), "s".to_owned())]);
        let dotenv = BTreeMap::from([
            ("SHELL_ONE".to_owned(), "file".to_owned()),
            ("FILE_ONE".to_owned(), "f".to_owned()),
        ]);
        let off = resolve("/api/pay", &secrets, &shell, &dotenv, &AwsSecrets::Off);
        assert_eq!(
            off.local,
            vec![
                ("SHELL_ONE".to_owned(), "s".to_owned()),
                ("FILE_ONE".to_owned(), "f".to_owned())
            ]
        );
        assert_eq!(
            off.missing,
            vec!["secret STRIPE_KEY of /api/pay (secretsmanager:shop/stripe) has no local value: add STRIPE_KEY=… to .env.local, or run nextr dev --aws-secrets"]
        );
        let env = BTreeMap::from([
            ("AWS_REGION".to_owned(), "eu-west-1".to_owned()),
            ("HOME".to_owned(), "/home/x".to_owned()),
        ]);
        let aws = AwsSecrets::from_env(true, &env);
        assert_eq!(
            aws,
            AwsSecrets::Read(vec![("AWS_REGION".into(), "eu-west-1".into())])
        );
        let on = resolve("/api/pay", &secrets, &shell, &dotenv, &aws);
        assert!(on.missing.is_empty());
        assert_eq!(on.read, vec![secrets[2].clone()]);
    }
}
