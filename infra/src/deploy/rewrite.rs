//! What deploy knows about a `proxy.rs`'s rewrites to another route's function, pure: the
//! function calls Lambda's `Invoke` on the target's `live` alias with its own execution role,
//! so the role needs `lambda:InvokeFunction` on the app's own aliases, and every function
//! needs its stage ([`nextr::manifest::STAGE_ENV`]) to find the target's deployed name.
//!
//! The grant is an inline policy of the managed role, [`POLICY_NAME`], with one statement,
//! [`STATEMENT_SID`]: `lambda:InvokeFunction` on each of the app's functions' `live` alias
//! ARNs in this stage, nothing else (not `$LATEST`, not another stage's or app's function).
//! IAM caps a role's inline policies at [`INLINE_POLICY_CHARS`] characters, shared with the
//! role's `nextr-logs` (`deploy::logs`), so each list gets half; an app whose list would not
//! fit (about 45 functions of the longest names) is granted name patterns instead:
//! `<app>-*-<stage>:live`, which every function deploy names matches unless its name was
//! shortened (those are listed one by one), and as a last resort `<app>-*:live`. Both
//! patterns can also match a function of another app whose name starts with `<app>-` in the
//! same account and region; the plan says when a pattern is used.
//!
//! The template writes the same statement (`AWS::IAM::Policy`) with the same choice.

use serde_json::{json, Value};

use super::desired::ALIAS;

/// The inline policy's name on the execution role.
pub const POLICY_NAME: &str = "nextr-invoke";

/// Its one statement's id.
pub const STATEMENT_SID: &str = "NextrProxyRewrites";

/// IAM's limit on the total size of a role's inline policies, in characters (whitespace not
/// counted).
pub const INLINE_POLICY_CHARS: usize = 10_240;

/// The characters of an alias ARN besides the function name, at most:
/// `"arn:aws-iso-b:lambda:ap-southeast-5:123456789012:function:` … `:live",`, with room.
const ARN_OVERHEAD: usize = 72;

/// The characters of the document besides its resources, with room.
const DOCUMENT_OVERHEAD: usize = 200;

/// Which functions the statement names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvokeTargets {
    /// These functions (deployed names), one ARN each: the default.
    Each(Vec<String>),
    /// Function name patterns (`shop-*-prod`, shortened names as they are): for apps whose
    /// list would not fit IAM's limit.
    Patterns(Vec<String>),
}

impl InvokeTargets {
    /// The targets for an app's functions (deployed names) in `stage`.
    pub fn of(app: &str, stage: &str, functions: &[String]) -> Self {
        let mut names = functions.to_vec();
        names.sort();
        names.dedup();
        if fits(&names) {
            return InvokeTargets::Each(names);
        }
        let suffix = format!("-{stage}");
        let mut patterns = vec![format!("{app}-*{suffix}")];
        patterns.extend(names.iter().filter(|n| !n.ends_with(&suffix)).cloned());
        if fits(&patterns) {
            InvokeTargets::Patterns(patterns)
        } else {
            InvokeTargets::Patterns(vec![format!("{app}-*")])
        }
    }

    /// The function names or patterns, sorted.
    pub fn names(&self) -> &[String] {
        match self {
            InvokeTargets::Each(names) | InvokeTargets::Patterns(names) => names,
        }
    }

    /// How the plan describes them: "3 live aliases", "live aliases matching shop-*-prod".
    pub fn describe(&self) -> String {
        match self {
            InvokeTargets::Each(names) => format!(
                "{} live alias{}",
                names.len(),
                if names.len() == 1 { "" } else { "es" }
            ),
            InvokeTargets::Patterns(patterns) => {
                format!("live aliases matching {}", patterns.join(", "))
            }
        }
    }
}

/// Whether a statement naming these functions stays within its share of IAM's limit: the
/// role carries two such lists (this one and `nextr-logs`, see `deploy::logs`, whose log group
/// ARNs are no longer than alias ARNs), so each gets half.
fn fits(names: &[String]) -> bool {
    let size: usize = names.iter().map(|n| n.len() + ARN_OVERHEAD).sum();
    size + DOCUMENT_OVERHEAD <= INLINE_POLICY_CHARS / 2
}

/// The `live` alias ARN of a function name (or pattern).
pub fn alias_arn(partition: &str, region: &str, account: &str, function: &str) -> String {
    format!("arn:{partition}:lambda:{region}:{account}:function:{function}:{ALIAS}")
}

/// The policy document: one statement allowing `lambda:InvokeFunction` on `resources`.
pub fn document(resources: Vec<Value>) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": STATEMENT_SID,
            "Effect": "Allow",
            "Action": "lambda:InvokeFunction",
            "Resource": resources
        }]
    })
}

/// The document deploy puts on the role in one account, partition and region.
pub fn policy(partition: &str, region: &str, account: &str, targets: &InvokeTargets) -> Value {
    document(
        targets
            .names()
            .iter()
            .map(|n| Value::String(alias_arn(partition, region, account, n)))
            .collect(),
    )
}

/// `(partition, account)` of an IAM role ARN (`arn:aws:iam::123456789012:role/x`).
pub fn partition_and_account(role_arn: &str) -> Option<(&str, &str)> {
    let mut parts = role_arn.split(':');
    let (_arn, partition, _iam, _region, account) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    (!partition.is_empty() && !account.is_empty()).then_some((partition, account))
}

/// A policy document as IAM returns it (`GetRolePolicy` gives it percent-encoded; moto as
/// it was put), parsed.
pub fn parse_document(text: &str) -> Option<Value> {
    serde_json::from_str(text)
        .ok()
        .or_else(|| serde_json::from_str(&percent_decode(text)?).ok())
}

/// RFC 3986 percent-decoding (`%7B` → `{`); `None` for a malformed escape or non-UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_statement_names_each_live_alias() {
        let targets = InvokeTargets::of(
            "shop",
            "prod",
            &["shop-b-2-prod".into(), "shop-a-1-prod".into()],
        );
        assert_eq!(
            policy("aws", "eu-west-1", "123456789012", &targets),
            json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Sid": "NextrProxyRewrites",
                    "Effect": "Allow",
                    "Action": "lambda:InvokeFunction",
                    "Resource": [
                        "arn:aws:lambda:eu-west-1:123456789012:function:shop-a-1-prod:live",
                        "arn:aws:lambda:eu-west-1:123456789012:function:shop-b-2-prod:live"
                    ]
                }]
            })
        );
        assert_eq!(targets.describe(), "2 live aliases");
    }

    #[test]
    fn an_app_too_large_for_one_list_gets_patterns_within_the_limit() {
        let long = |i: usize| format!("shop-{}-{i:08x}-prod", "s".repeat(40));
        let mut names: Vec<String> = (0..120).map(long).collect();
        names.push(format!("shop-{}-1a2b3c4d", "x".repeat(50)));
        let targets = InvokeTargets::of("shop", "prod", &names);
        assert_eq!(
            targets,
            InvokeTargets::Patterns(vec![
                "shop-*-prod".into(),
                format!("shop-{}-1a2b3c4d", "x".repeat(50))
            ])
        );
        let doc = policy("aws-iso-b", "ap-southeast-5", "123456789012", &targets);
        assert!(doc.to_string().len() <= INLINE_POLICY_CHARS);
        // The largest list that still fits is listed one by one, and fits.
        let mut n = 1;
        while matches!(
            InvokeTargets::of("shop", "prod", &names[..n]),
            InvokeTargets::Each(_)
        ) {
            n += 1;
        }
        let each = InvokeTargets::of("shop", "prod", &names[..n - 1]);
        let doc = policy("aws-iso-b", "ap-southeast-5", "123456789012", &each);
        assert!(doc.to_string().len() <= INLINE_POLICY_CHARS / 2, "{n}");
        assert!(n > 30, "{n}");
    }

    #[test]
    fn documents_are_read_encoded_or_not() {
        let doc = policy(
            "aws",
            "us-east-1",
            "1",
            &InvokeTargets::Each(vec!["f".into()]),
        );
        let text = doc.to_string();
        assert_eq!(parse_document(&text), Some(doc.clone()));
        let encoded: String = text
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect();
        assert_eq!(parse_document(&encoded), Some(doc));
        assert_eq!(parse_document("%zz"), None);
    }

    #[test]
    fn role_arns_give_partition_and_account() {
        assert_eq!(
            partition_and_account("arn:aws-cn:iam::123456789012:role/x"),
            Some(("aws-cn", "123456789012"))
        );
        assert_eq!(partition_and_account("nonsense"), None);
    }
}
