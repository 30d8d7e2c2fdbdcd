//! The custom domain (`nextr.toml`'s `[domain]`): a regional API Gateway domain name with the
//! ACM certificate, and the mapping of its root to the stage. What deploy knows about it,
//! pure: which domain a stage owns, the mapping it wants, the DNS record to create.
//!
//! A domain is the stage's when it carries the stage's tags (deploy creates it so). Deploy
//! never takes over a domain it did not create: one that exists untagged is refused
//! ([`DeployError::DomainTaken`](super::DeployError::DomainTaken)), so `nextr remove` can
//! delete every domain it finds as the stage's without deleting someone else's.
//!
//! An HTTP API's domain and mapping are made with API Gateway v2 (`CreateDomainName`,
//! `CreateApiMapping`), a REST API's with v1 (`CreateDomainName`, `CreateBasePathMapping`):
//! on AWS both APIs see every regional domain; moto keeps them apart, so deploy reads both.

use std::fmt;

use nextr::manifest::GatewayKind;

use super::desired::{Desired, API_STAGE};
use super::state::{ObservedDomain, ObservedMapping};

/// The security policy of the domains deploy creates: TLS 1.2 or later.
pub const SECURITY_POLICY: &str = "TLS_1_2";

/// A REST base path mapping's path for the domain's root (v1 omits it or spells it so).
pub const REST_ROOT_BASE_PATH: &str = "(none)";

/// The stage a mapping of this kind of API names: the HTTP API's `$default`, the REST API's
/// stage named after the deploy's stage.
pub fn mapped_stage(desired: &Desired) -> &str {
    match desired.gateway {
        GatewayKind::Http => API_STAGE,
        GatewayKind::Rest => desired.target.stage(),
    }
}

/// Whether `mapping` is the root mapping deploy wants: the domain's root to `api_id`'s
/// `stage`.
pub fn is_wanted_mapping(mapping: &ObservedMapping, api_id: Option<&str>, stage: &str) -> bool {
    mapping.root && Some(mapping.api_id.as_str()) == api_id && mapping.stage == stage
}

/// The DNS record the domain's owner creates, pointing the name at API Gateway.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DnsRecord {
    /// The custom domain (`api.example.com`).
    pub name: String,
    /// API Gateway's regional host name for it (`d-abc123.execute-api.eu-west-1.amazonaws.com`).
    pub target: String,
    /// The Route 53 hosted zone of that host name, for an alias record instead of a CNAME.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hosted_zone_id: Option<String>,
}

impl DnsRecord {
    /// The record for an observed domain, when AWS reported its target.
    pub fn of(domain: &ObservedDomain) -> Option<DnsRecord> {
        Some(DnsRecord {
            name: domain.name.clone(),
            target: domain.target.clone()?,
            hosted_zone_id: domain.hosted_zone_id.clone(),
        })
    }
}

impl fmt::Display for DnsRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} CNAME {}", self.name, self.target)?;
        if let Some(zone) = &self.hosted_zone_id {
            write!(
                f,
                " (or, in Route 53, an alias A record to {} in hosted zone {zone})",
                self.target
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dns_record_reads_as_a_cname_with_the_alias_alternative() {
        let r = DnsRecord {
            name: "api.example.com".into(),
            target: "d-abc.execute-api.eu-west-1.amazonaws.com".into(),
            hosted_zone_id: Some("Z2FDTNDATAQYW2".into()),
        };
        assert_eq!(
            r.to_string(),
            "api.example.com CNAME d-abc.execute-api.eu-west-1.amazonaws.com (or, in Route 53, an alias A record to d-abc.execute-api.eu-west-1.amazonaws.com in hosted zone Z2FDTNDATAQYW2)"
        );
        let plain = DnsRecord {
            hosted_zone_id: None,
            ..r
        };
        assert!(plain.to_string().ends_with("amazonaws.com"));
    }

    #[test]
    fn only_the_root_mapping_to_this_api_and_stage_is_wanted() {
        let m = |root: bool, api: &str, stage: &str| ObservedMapping {
            via: GatewayKind::Http,
            id: "m1".into(),
            root,
            api_id: api.into(),
            stage: stage.into(),
        };
        assert!(is_wanted_mapping(
            &m(true, "a1", "$default"),
            Some("a1"),
            "$default"
        ));
        assert!(!is_wanted_mapping(
            &m(false, "a1", "$default"),
            Some("a1"),
            "$default"
        ));
        assert!(!is_wanted_mapping(
            &m(true, "a2", "$default"),
            Some("a1"),
            "$default"
        ));
        assert!(!is_wanted_mapping(
            &m(true, "a1", "prod"),
            Some("a1"),
            "$default"
        ));
        assert!(!is_wanted_mapping(
            &m(true, "a1", "$default"),
            None,
            "$default"
        ));
    }
}
