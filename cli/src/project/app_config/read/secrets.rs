//! `[secrets]` and `[routes."<page>".secrets]`: environment variables whose values live in SSM
//! Parameter Store or Secrets Manager, named by where they live (`ssm:/shop/{stage}/db-url`,
//! `secretsmanager:shop/stripe`, or either's full ARN), never by what they hold.

use std::ops::Range;

use nextr::manifest::access::STAGE_PLACEHOLDER;
use nextr::manifest::{SecretRef, SecretStore};
use toml::de::DeValue;

use super::{Reader, Value};
use crate::project::app_config::report::ConfigDiagnostic;

/// What a secret's value is written as, for error messages.
const FORMS: &str =
    "\"ssm:/path/name\", \"secretsmanager:name\", or the parameter's or secret's ARN";

/// One secret as read, with where its key is (for problems found once the whole file is
/// read, such as an `[env]` variable of the same name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadSecret {
    /// The reference.
    pub secret: SecretRef,
    /// The key's span.
    pub span: Range<usize>,
}

impl Reader<'_> {
    /// A `[secrets]` table (`key` is `secrets` or `routes."<page>".secrets`).
    pub(super) fn secrets(&mut self, key: &str, value: &Value<'_>) -> Vec<ReadSecret> {
        let mut out = Vec::new();
        let Some(table) = self.table(
            key,
            value,
            "a table of secrets, such as `[secrets]` followed by `DATABASE_URL = \"ssm:/shop/{stage}/db-url\"`",
        ) else {
            return out;
        };
        for (name_key, value) in table.iter() {
            let env = name_key.get_ref().as_ref();
            let Some(full) = self.variable_name(key, name_key) else {
                continue;
            };
            let text = match value.get_ref() {
                DeValue::String(s) => s.as_ref(),
                other => {
                    let d = self.type_diagnostic(&full, value, FORMS, other);
                    self.push(d);
                    continue;
                }
            };
            match parse_secret(text) {
                Ok((store, name)) => out.push(ReadSecret {
                    secret: SecretRef {
                        env: env.to_owned(),
                        store,
                        name,
                    },
                    span: name_key.span(),
                }),
                Err((message, help)) => {
                    let d = self
                        .bad_diagnostic(&full, value, message, "not a secret's place")
                        .with_help(help);
                    self.push(d);
                }
            }
        }
        out
    }

    /// A secret whose env name is also set in plain text (`[env]`, the route's `env`): an
    /// error, since which one the function would see is a surprise either way.
    pub(super) fn secret_shadows(&mut self, key: &str, secret: &ReadSecret, plain: &str) {
        let full = format!("{key}.{}", secret.secret.env);
        self.push(
            ConfigDiagnostic::at(
                self.file,
                "nextr::toml::secret_env",
                secret.span.clone(),
                format!(
                    "`{full}`: {} is also set in `{plain}`; a variable is either a secret or a plain value",
                    secret.secret.env
                ),
                "set twice",
            )
            .with_key(&full)
            .with_help(format!(
                "remove it from `{plain}` (or from [secrets]); for a local value in `nextr dev`, put {}=… in .env.local",
                secret.secret.env
            )),
        );
    }
}

/// Where a secret lives, from its `nextr.toml` value; `Err` has the message and the help.
pub fn parse_secret(text: &str) -> Result<(SecretStore, String), (String, String)> {
    let (store, name) = if let Some(rest) = text.strip_prefix("arn:") {
        // arn:partition:service:region:account:resource
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        let service = parts.get(1).copied().unwrap_or_default();
        let resource = parts.get(4).copied().unwrap_or_default();
        let store = match (service, resource) {
            ("ssm", r) if r.starts_with("parameter/") => SecretStore::Ssm,
            ("secretsmanager", r) if r.starts_with("secret:") => SecretStore::SecretsManager,
            _ => {
                return Err((
                    format!("{text:?} is neither an SSM parameter's ARN nor a Secrets Manager secret's ARN"),
                    "write arn:aws:ssm:REGION:ACCOUNT:parameter/NAME or arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME, or \"ssm:/NAME\" / \"secretsmanager:NAME\"".to_owned(),
                ))
            }
        };
        if parts.len() < 5 || parts[2].is_empty() || parts[3].is_empty() {
            return Err((
                format!("{text:?} is not a complete ARN: it needs its region and account"),
                "copy the ARN from the console or `aws ssm get-parameter` / `aws secretsmanager describe-secret`".to_owned(),
            ));
        }
        (store, text.to_owned())
    } else if let Some(name) = text.strip_prefix("ssm:") {
        (SecretStore::Ssm, name.to_owned())
    } else if let Some(name) = text.strip_prefix("secretsmanager:") {
        (SecretStore::SecretsManager, name.to_owned())
    } else {
        let near = if text.starts_with("ssm/") || text.starts_with('/') {
            format!(
                " (did you mean \"ssm:{}\"?)",
                text.trim_start_matches("ssm/")
            )
        } else {
            String::new()
        };
        return Err((
            format!("{text:?} does not say where the secret lives{near}"),
            format!("write {FORMS}; the value itself never goes in nextr.toml"),
        ));
    };
    if let Some(problem) = name_problem(store, &name) {
        return Err((format!("{text:?}: {problem}"), name_help(store)));
    }
    Ok((store, name))
}

/// Why a parameter's or secret's name (not an ARN) is not one the service takes.
fn name_problem(store: SecretStore, name: &str) -> Option<String> {
    if name.starts_with("arn:") {
        return None;
    }
    // `{stage}` is the only placeholder; check the rest with it taken out.
    let plain = name.replace(STAGE_PLACEHOLDER, "stage");
    if plain.contains(['{', '}']) {
        return Some(format!(
            "the only placeholder a secret's name takes is {STAGE_PLACEHOLDER}"
        ));
    }
    if plain.is_empty() {
        return Some("the name is empty".to_owned());
    }
    match store {
        SecretStore::Ssm => {
            if !plain
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/'))
            {
                return Some(
                    "an SSM parameter's name holds only letters, digits and `_ . - /`".to_owned(),
                );
            }
            if plain.contains('/') && !plain.starts_with('/') {
                return Some("an SSM parameter's path starts with `/`".to_owned());
            }
            if plain.len() > 1011 {
                return Some("an SSM parameter's name is at most 1011 characters".to_owned());
            }
        }
        SecretStore::SecretsManager => {
            if !plain.chars().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '+' | '=' | '.' | '@' | '-')
            }) {
                return Some("a Secrets Manager secret's name holds only letters, digits and `/ _ + = . @ -`".to_owned());
            }
            if plain.len() > 512 {
                return Some(
                    "a Secrets Manager secret's name is at most 512 characters".to_owned(),
                );
            }
        }
    }
    None
}

fn name_help(store: SecretStore) -> String {
    match store {
        SecretStore::Ssm => {
            "such as \"ssm:/shop/{stage}/database-url\" or \"ssm:shop-db-url\"".to_owned()
        }
        SecretStore::SecretsManager => "such as \"secretsmanager:shop/{stage}/stripe\"".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_and_names() {
        assert_eq!(
            parse_secret("ssm:/shop/{stage}/db"),
            Ok((SecretStore::Ssm, "/shop/{stage}/db".to_owned()))
        );
        assert_eq!(
            parse_secret("secretsmanager:shop/stripe"),
            Ok((SecretStore::SecretsManager, "shop/stripe".to_owned()))
        );
        let arn = "arn:aws:ssm:eu-west-1:123456789012:parameter/shop/db";
        assert_eq!(parse_secret(arn), Ok((SecretStore::Ssm, arn.to_owned())));
        let arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop/k-AbCdEf";
        assert_eq!(
            parse_secret(arn).map(|p| p.0),
            Ok(SecretStore::SecretsManager)
        );
        for bad in [
            "plain-value",
            "ssm:/shop/{env}/db",
            "ssm:shop/db",
            "ssm:/shop db",
            "ssm:",
            "secretsmanager:shop#1",
            "arn:aws:s3:::bucket",
            "arn:aws:ssm:::parameter/x",
        ] {
            assert!(parse_secret(bad).is_err(), "{bad}");
        }
        assert!(parse_secret("/shop/db")
            .unwrap_err()
            .0
            .contains("did you mean \"ssm:/shop/db\"?"));
    }
}
