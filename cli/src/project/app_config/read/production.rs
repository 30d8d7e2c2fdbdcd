//! The production keys of `nextr.toml`: `[logs]` (and a route's `log_retention_days`), and
//! `[domain]`, checked as CloudWatch Logs and API Gateway would check them, so a deploy never
//! fails on them.

use std::ops::Range;

use nextr::limits::LOG_RETENTION_DAYS;
use nextr::manifest::Domain;

use super::{Reader, Value};
use crate::project::app_config::report::ConfigDiagnostic;

/// The keys of `[logs]`.
pub const LOGS_KEYS: &[&str] = &["retention_days"];

/// The keys of `[domain]`.
pub const DOMAIN_KEYS: &[&str] = &["name", "certificate_arn"];

/// `[domain]` as read, with where its certificate ARN is (checked against `region` once the
/// whole file is read).
pub struct ReadDomain {
    /// The domain.
    pub domain: Domain,
    /// The span of `certificate_arn`'s value.
    pub arn_span: Range<usize>,
}

impl Reader<'_> {
    /// A number of days CloudWatch Logs keeps events for: one of [`LOG_RETENTION_DAYS`].
    pub(super) fn retention_days(&mut self, key: &str, value: &Value<'_>) -> Option<u32> {
        let n = self.whole(key, value, "a whole number of days such as 30")?;
        match u32::try_from(n) {
            Ok(days) if LOG_RETENTION_DAYS.contains(&days) => Some(days),
            _ => {
                let closest = LOG_RETENTION_DAYS
                    .iter()
                    .min_by_key(|d| (i64::from(**d) - n).unsigned_abs())
                    .copied()
                    .unwrap_or(30);
                let list = LOG_RETENTION_DAYS
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(", ");
                let d = self
                    .bad_diagnostic(
                        key,
                        value,
                        format!("CloudWatch Logs cannot keep events for {n} days"),
                        "not a retention CloudWatch Logs offers",
                    )
                    .with_help(format!("use one of {list} (the closest is {closest})"));
                self.push(d);
                None
            }
        }
    }

    /// `[logs]`: the retention of every log group deploy creates.
    pub(super) fn logs(&mut self, value: &Value<'_>) -> Option<u32> {
        let table = self.table("logs", value, "a table (`[logs]`)")?;
        let mut days = None;
        for (key, value) in table.iter() {
            let name = key.get_ref().as_ref();
            match name {
                "retention_days" => days = self.retention_days("logs.retention_days", value),
                other => self.unknown(key, other, "logs.", LOGS_KEYS, "[logs]"),
            }
        }
        days
    }

    /// `[domain]`: the API's custom domain name and its certificate, both required.
    pub(super) fn domain(&mut self, value: &Value<'_>) -> Option<ReadDomain> {
        let table = self.table(
            "domain",
            value,
            "a table such as `{ name = \"api.example.com\", certificate_arn = \"arn:aws:acm:…\" }`",
        )?;
        let mut name = None;
        let mut arn = None;
        let mut ok = true;
        for (key, value) in table.iter() {
            let field = key.get_ref().as_ref();
            let full = format!("domain.{field}");
            match field {
                "name" => match self.string(&full, value, "a host name such as \"api.example.com\"") {
                    Some(s) => match domain_problem(s) {
                        None => name = Some(s.to_owned()),
                        Some(m) => {
                            self.bad(&full, value, m, "not a domain name");
                            ok = false;
                        }
                    },
                    None => ok = false,
                },
                "certificate_arn" => {
                    match self.string(&full, value, "an ACM certificate ARN such as \"arn:aws:acm:eu-west-1:123456789012:certificate/…\"") {
                        Some(s) => match certificate_problem(s) {
                            None => arn = Some((s.to_owned(), value.span())),
                            Some(m) => {
                                let d = self
                                    .bad_diagnostic(&full, value, m, "not an ACM certificate ARN")
                                    .with_help("`aws acm list-certificates --region <region>` lists them; request one with `aws acm request-certificate`");
                                self.push(d);
                                ok = false;
                            }
                        },
                        None => ok = false,
                    }
                }
                other => {
                    self.unknown(key, other, "domain.", DOMAIN_KEYS, "[domain]");
                    ok = false;
                }
            }
        }
        for (field, found) in [
            ("name", table.contains_key("name")),
            ("certificate_arn", table.contains_key("certificate_arn")),
        ] {
            if !found {
                ok = false;
                self.push(
                    ConfigDiagnostic::at(
                        self.file,
                        "nextr::toml::missing_key",
                        value.span(),
                        format!("`domain`: missing `{field}`: a custom domain needs its `name` and the `certificate_arn` of an ACM certificate covering it"),
                        format!("no `{field}` here"),
                    )
                    .with_key("domain"),
                );
            }
        }
        match (ok, name, arn) {
            (true, Some(name), Some((certificate_arn, arn_span))) => Some(ReadDomain {
                domain: Domain {
                    name,
                    certificate_arn,
                },
                arn_span,
            }),
            _ => None,
        }
    }

    /// A certificate in another region than `region`: a regional domain name needs one in
    /// the API's region.
    pub(super) fn domain_region(&mut self, domain: &ReadDomain, region: &str) {
        let Some(cert_region) = domain.domain.certificate_region() else {
            return;
        };
        if cert_region == region {
            return;
        }
        self.push(
            ConfigDiagnostic::at(
                self.file,
                "nextr::toml::value",
                domain.arn_span.clone(),
                format!("`domain.certificate_arn`: the certificate is in {cert_region} and the app deploys to {region}: a regional custom domain needs a certificate in the API's region"),
                "another region",
            )
            .with_key("domain.certificate_arn")
            .with_help(format!("request or import the certificate in {region} (`aws acm request-certificate --region {region}`) and use its ARN")),
        );
    }
}

/// Why API Gateway would refuse `name` as a custom domain name, if it would: lowercase
/// letters, digits and `-` in dot-separated labels of 1–63 characters (not starting or ending
/// with `-`), at least two labels, at most 253 characters, no trailing dot and no wildcard.
pub fn domain_problem(name: &str) -> Option<String> {
    let labels: Vec<&str> = name.split('.').collect();
    let label_ok = |l: &&str| {
        (1..=63).contains(&l.len())
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    let valid = name.len() <= 253 && labels.len() >= 2 && labels.iter().all(label_ok);
    (!valid).then(|| {
        if name.bytes().any(|b| b.is_ascii_uppercase()) {
            format!("{name:?} has capital letters: write the domain name in lowercase")
        } else {
            format!("{name:?} is not a domain name: write the host name only, such as \"api.example.com\" (no scheme, path, port, wildcard or trailing dot)")
        }
    })
}

/// Why `arn` is not an ACM certificate ARN, if it is not:
/// `arn:<partition>:acm:<region>:<12-digit account>:certificate/<id>`.
pub fn certificate_problem(arn: &str) -> Option<String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let valid = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "acm"
        && super::super::is_region(parts[3])
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5].strip_prefix("certificate/").is_some_and(|id| {
            !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    (!valid).then(|| {
        format!("{arn:?} is not an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)")
    })
}
