//! What deploy knows about `nextr.toml`'s permissions and secrets as IAM, pure: which role
//! each function runs as, the statements of each role's inline policy [`POLICY_NAME`], how
//! their placeholders are filled, and how the plan shows a change to them.
//!
//! The role model: every function shares the app's role (`Target::role_name`) unless its
//! route has permissions or secrets of its own (`Access::route`), in which case it gets a
//! role of its own (`Target::own_role_name`), holding the app-wide statements and its own.
//! So a route's statements never leak to another function, and an app without per-route
//! access keeps one role. Every role may write exactly the log groups of the functions that
//! run as it (`deploy::logs`), and, with a `proxy.rs`, invoke the app's aliases
//! (`deploy::rewrite`).
//!
//! A secret's statement is computed from its reference (`SecretRef::for_stage`):
//! `ssm:GetParameter` on the parameter, `secretsmanager:GetSecretValue` on the secret (whose
//! ARN ends in six random characters, hence `-??????`); a reference by ARN is itself.

use nextr::manifest::{Access, Effect, PolicyStatement, SecretRef, SecretStore};
use serde_json::{json, Value};

/// The inline policy holding a role's statements from `nextr.toml` (and its secrets').
pub const POLICY_NAME: &str = "nextr-access";

/// What fills a statement's placeholders (`{partition}`, `{region}`, `{account}`, `{app}`,
/// `{stage}`): the deployed stage's values, or the template's `${AWS::…}` references.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholders {
    /// `aws`, `aws-cn`, … (or `${AWS::Partition}`).
    pub partition: String,
    /// The region (or `${AWS::Region}`).
    pub region: String,
    /// The account id (or `${AWS::AccountId}`).
    pub account: String,
    /// The app name.
    pub app: String,
    /// The stage.
    pub stage: String,
}

impl Placeholders {
    /// `text` with every placeholder filled.
    pub fn fill(&self, text: &str) -> String {
        text.replace("{partition}", &self.partition)
            .replace("{region}", &self.region)
            .replace("{account}", &self.account)
            .replace("{app}", &self.app)
            .replace(nextr::manifest::access::STAGE_PLACEHOLDER, &self.stage)
    }
}

/// The statements letting a function read `secrets` (already for its stage): one per store,
/// on exactly those parameters and secrets.
pub fn secret_statements(secrets: &[SecretRef]) -> Vec<PolicyStatement> {
    let of = |store: SecretStore| -> Vec<String> {
        secrets
            .iter()
            .filter(|s| s.store == store)
            .map(secret_resource)
            .collect()
    };
    [
        (SecretStore::Ssm, "ssm:GetParameter"),
        (SecretStore::SecretsManager, "secretsmanager:GetSecretValue"),
    ]
    .into_iter()
    .filter_map(|(store, action)| {
        // In the secrets' order (by env name): stable from one deploy to the next.
        let mut resources = of(store);
        let mut seen = std::collections::HashSet::new();
        resources.retain(|r| seen.insert(r.clone()));
        (!resources.is_empty()).then(|| PolicyStatement {
            effect: Effect::Allow,
            actions: vec![action.to_owned()],
            resources,
        })
    })
    .collect()
}

/// The resource a secret is read from, placeholders unfilled.
pub fn secret_resource(secret: &SecretRef) -> String {
    if secret.name.starts_with("arn:") {
        return secret.name.clone();
    }
    match secret.store {
        SecretStore::Ssm => format!(
            "arn:{{partition}}:ssm:{{region}}:{{account}}:parameter/{}",
            secret.name.trim_start_matches('/')
        ),
        SecretStore::SecretsManager => format!(
            "arn:{{partition}}:secretsmanager:{{region}}:{{account}}:secret:{}-??????",
            secret.name
        ),
    }
}

/// The statements of the role a function runs as (`page`: its route, `None` for
/// `$default`), or of the app's role with `None`: the permissions, then its secrets'; each
/// once.
pub fn statements(access: &Access, page: Option<&str>, stage: &str) -> Vec<PolicyStatement> {
    let secrets: Vec<SecretRef> = access
        .secrets_of(page)
        .iter()
        .map(|s| s.for_stage(stage))
        .collect();
    let mut all = access.permissions_of(page);
    all.extend(secret_statements(&secrets));
    let mut seen = std::collections::HashSet::new();
    all.retain(|s| seen.insert(s.clone()));
    all
}

/// One statement as IAM takes it, placeholders filled.
pub fn statement_json(s: &PolicyStatement, p: &Placeholders) -> Value {
    json!({
        "Effect": match s.effect { Effect::Allow => "Allow", Effect::Deny => "Deny" },
        "Action": s.actions,
        "Resource": s.resources.iter().map(|r| p.fill(r)).collect::<Vec<_>>()
    })
}

/// The policy document of [`POLICY_NAME`].
pub fn document(statements: &[PolicyStatement], p: &Placeholders) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": statements.iter().map(|s| statement_json(s, p)).collect::<Vec<_>>()
    })
}

/// The statements of a document as read from IAM (one object or an array).
fn statements_of(document: &Value) -> Vec<Value> {
    match document.get("Statement") {
        Some(Value::Array(list)) => list.clone(),
        Some(one @ Value::Object(_)) => vec![one.clone()],
        _ => Vec::new(),
    }
}

/// A statement in one line: `Allow dynamodb:GetItem on arn:aws:dynamodb:…:table/x`.
pub fn describe(statement: &Value) -> String {
    let list = |key: &str| match statement.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join(", "),
        Some(other) => other.to_string(),
        None => "?".to_owned(),
    };
    let effect = statement
        .get("Effect")
        .and_then(Value::as_str)
        .unwrap_or("?");
    format!("{effect} {} on {}", list("Action"), list("Resource"))
}

/// The statements `wanted` adds to `current` and those it removes, each described
/// ([`describe`]). `current` is `None` when the role has no such policy.
pub fn diff(current: Option<&Value>, wanted: &Value) -> (Vec<String>, Vec<String>) {
    let old = current.map(statements_of).unwrap_or_default();
    let new = statements_of(wanted);
    let added = new
        .iter()
        .filter(|s| !old.contains(s))
        .map(describe)
        .collect();
    let removed = old
        .iter()
        .filter(|s| !new.contains(s))
        .map(describe)
        .collect();
    (added, removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nextr::manifest::RouteAccess;

    fn secret(env: &str, store: SecretStore, name: &str) -> SecretRef {
        SecretRef {
            env: env.into(),
            store,
            name: name.into(),
        }
    }

    fn places() -> Placeholders {
        Placeholders {
            partition: "aws".into(),
            region: "eu-west-1".into(),
            account: "123456789012".into(),
            app: "shop".into(),
            stage: "prod".into(),
        }
    }

    #[test]
    fn secrets_are_read_from_exactly_their_parameters_and_secrets() {
        let statements = secret_statements(&[
            secret("DB", SecretStore::Ssm, "/shop/prod/db"),
            secret("KEY", SecretStore::SecretsManager, "shop/stripe"),
            secret(
                "OTHER",
                SecretStore::Ssm,
                "arn:aws:ssm:us-east-1:999999999999:parameter/x",
            ),
        ]);
        let doc = document(&statements, &places());
        assert_eq!(
            doc["Statement"],
            json!([
                {"Effect": "Allow", "Action": ["ssm:GetParameter"], "Resource": [
                    "arn:aws:ssm:eu-west-1:123456789012:parameter/shop/prod/db",
                    "arn:aws:ssm:us-east-1:999999999999:parameter/x"
                ]},
                {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": [
                    "arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop/stripe-??????"
                ]}
            ])
        );
        assert!(secret_statements(&[]).is_empty());
    }

    #[test]
    fn a_routes_statements_are_the_apps_then_its_own_with_its_secrets_for_the_stage() {
        let orders = PolicyStatement {
            effect: Effect::Allow,
            actions: vec!["dynamodb:GetItem".into()],
            resources: vec![
                "arn:{partition}:dynamodb:{region}:{account}:table/{app}-{stage}".into(),
            ],
        };
        let upload = PolicyStatement {
            effect: Effect::Deny,
            actions: vec!["s3:DeleteObject".into()],
            resources: vec!["*".into()],
        };
        let mut access = Access {
            permissions: vec![orders.clone()],
            ..Access::default()
        };
        access.routes.insert(
            "/api/up".into(),
            RouteAccess {
                secrets: vec![secret("T", SecretStore::Ssm, "/{stage}/t")],
                permissions: vec![upload.clone(), orders.clone()],
            },
        );
        let route = statements(&access, Some("/api/up"), "prod");
        assert_eq!(route.len(), 3, "the repeated statement is kept once");
        assert_eq!(route[1], upload);
        assert_eq!(
            route[2].resources,
            ["arn:{partition}:ssm:{region}:{account}:parameter/prod/t"]
        );
        assert_eq!(statements(&access, None, "prod"), [orders]);
        let doc = document(&route[..1], &places());
        assert_eq!(
            doc["Statement"][0]["Resource"][0],
            "arn:aws:dynamodb:eu-west-1:123456789012:table/shop-prod"
        );
    }

    #[test]
    fn the_diff_names_the_statements_added_and_removed() {
        let get = PolicyStatement {
            effect: Effect::Allow,
            actions: vec!["dynamodb:GetItem".into()],
            resources: vec!["arn:aws:dynamodb:eu-west-1:123456789012:table/x".into()],
        };
        let put = PolicyStatement {
            actions: vec!["dynamodb:PutItem".into(), "dynamodb:Query".into()],
            ..get.clone()
        };
        let before = document(std::slice::from_ref(&get), &places());
        let after = document(std::slice::from_ref(&put), &places());
        assert_eq!(
            diff(Some(&before), &after),
            (
                vec!["Allow dynamodb:PutItem, dynamodb:Query on arn:aws:dynamodb:eu-west-1:123456789012:table/x".to_owned()],
                vec!["Allow dynamodb:GetItem on arn:aws:dynamodb:eu-west-1:123456789012:table/x".to_owned()]
            )
        );
        assert_eq!(diff(Some(&after), &after), (vec![], vec![]));
        assert_eq!(diff(None, &after).0.len(), 1);
        // IAM may give a lone statement as an object and a lone action as a string.
        let single =
            json!({"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}});
        assert_eq!(
            diff(Some(&single), &json!({})).1,
            ["Allow s3:GetObject on *"]
        );
    }
}
