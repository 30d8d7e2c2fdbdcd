//! The custom domains of one stage: the one the manifest names (whoever owns it) and every
//! domain tagged as the stage's, each with its API mappings. Read through both API Gateway
//! APIs (see [`crate::deploy::domain`]) and merged by name.

use std::collections::BTreeMap;

use nextr::manifest::GatewayKind;

use super::all_pages;
use crate::deploy::domain::REST_ROOT_BASE_PATH;
use crate::deploy::failure::AwsFailure;
use crate::deploy::{AwsClients, DeployError, Target};

/// A custom domain as API Gateway reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedDomain {
    /// The host name.
    pub name: String,
    /// The APIs that reported it (on AWS both; in moto, the one that made it).
    pub seen_by: Vec<GatewayKind>,
    /// Whether it carries this stage's tags: deploy made it, and may change and delete it.
    pub owned: bool,
    /// Its regional certificate.
    pub certificate_arn: Option<String>,
    /// API Gateway's regional host name for it, the DNS record's target.
    pub target: Option<String>,
    /// That host name's Route 53 hosted zone.
    pub hosted_zone_id: Option<String>,
    /// Its API mappings (HTTP API mappings and REST base path mappings).
    pub mappings: Vec<ObservedMapping>,
}

/// One mapping of a domain's path to an API's stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedMapping {
    /// The API that reported it, and through which it is deleted.
    pub via: GatewayKind,
    /// Its id: an HTTP API mapping's id, or a REST base path.
    pub id: String,
    /// Whether it maps the domain's root (an empty key, or the base path `(none)`).
    pub root: bool,
    /// The API it maps to.
    pub api_id: String,
    /// The stage it maps to.
    pub stage: String,
}

/// The domains of `target`: `wanted` (the manifest's, if any) and every domain tagged as the
/// stage's, with their mappings.
pub async fn observe_domains(
    clients: &AwsClients,
    target: &Target,
    wanted: Option<&str>,
) -> Result<Vec<ObservedDomain>, DeployError> {
    let (v2, v1) = tokio::try_join!(list_v2(clients), list_v1(clients))?;
    let mut by_name: BTreeMap<String, ObservedDomain> = BTreeMap::new();
    for (kind, listed) in [(GatewayKind::Http, v2), (GatewayKind::Rest, v1)] {
        for (mut domain, tags) in listed {
            domain.owned = target.owns(Some(&tags));
            if !domain.owned && Some(domain.name.as_str()) != wanted {
                continue;
            }
            domain.mappings = match kind {
                GatewayKind::Http => mappings_v2(clients, &domain.name).await?,
                GatewayKind::Rest => mappings_v1(clients, &domain.name).await?,
            };
            match by_name.get_mut(&domain.name) {
                // On AWS both APIs list every regional domain and its mappings: keep the
                // first view's facts and add what the second adds.
                Some(seen) => {
                    seen.seen_by.push(kind);
                    seen.owned |= domain.owned;
                    seen.target = seen.target.take().or(domain.target);
                    seen.hosted_zone_id = seen.hosted_zone_id.take().or(domain.hosted_zone_id);
                    seen.certificate_arn = seen.certificate_arn.take().or(domain.certificate_arn);
                    for m in domain.mappings {
                        let dup = seen.mappings.iter().any(|s| {
                            s.root == m.root && s.api_id == m.api_id && s.stage == m.stage
                        });
                        if !dup {
                            seen.mappings.push(m);
                        }
                    }
                }
                None => {
                    by_name.insert(domain.name.clone(), domain);
                }
            }
        }
    }
    Ok(by_name.into_values().collect())
}

type Listed = Vec<(ObservedDomain, std::collections::HashMap<String, String>)>;

fn domain(name: &str, kind: GatewayKind) -> ObservedDomain {
    ObservedDomain {
        name: name.to_owned(),
        seen_by: vec![kind],
        owned: false,
        certificate_arn: None,
        target: None,
        hosted_zone_id: None,
        mappings: Vec::new(),
    }
}

async fn list_v2(clients: &AwsClients) -> Result<Listed, DeployError> {
    all_pages(|token| async move {
        let out = clients
            .apigw
            .get_domain_names()
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| DeployError::aws("listing", "custom domains", AwsFailure::of(&e)))?;
        let items = out
            .items()
            .iter()
            .filter_map(|d| {
                let mut o = domain(d.domain_name()?, GatewayKind::Http);
                if let Some(c) = d.domain_name_configurations().first() {
                    o.certificate_arn = c.certificate_arn().map(str::to_owned);
                    o.target = c.api_gateway_domain_name().map(str::to_owned);
                    o.hosted_zone_id = c.hosted_zone_id().map(str::to_owned);
                }
                Some((o, d.tags().cloned().unwrap_or_default()))
            })
            .collect();
        Ok((items, out.next_token().map(str::to_owned)))
    })
    .await
}

async fn list_v1(clients: &AwsClients) -> Result<Listed, DeployError> {
    all_pages(|position| async move {
        let out = clients
            .rest
            .get_domain_names()
            .set_position(position)
            .send()
            .await
            .map_err(|e| {
                DeployError::aws("listing", "custom domains (REST)", AwsFailure::of(&e))
            })?;
        let items = out
            .items()
            .iter()
            .filter_map(|d| {
                let mut o = domain(d.domain_name()?, GatewayKind::Rest);
                o.certificate_arn = d.regional_certificate_arn().map(str::to_owned);
                o.target = d.regional_domain_name().map(str::to_owned);
                o.hosted_zone_id = d.regional_hosted_zone_id().map(str::to_owned);
                Some((o, d.tags().cloned().unwrap_or_default()))
            })
            .collect();
        Ok((items, out.position().map(str::to_owned)))
    })
    .await
}

async fn mappings_v2(
    clients: &AwsClients,
    name: &str,
) -> Result<Vec<ObservedMapping>, DeployError> {
    all_pages(|token| async move {
        let out = clients
            .apigw
            .get_api_mappings()
            .domain_name(name)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| {
                DeployError::aws(
                    "listing the API mappings of",
                    format!("custom domain {name}"),
                    AwsFailure::of(&e),
                )
            })?;
        let items = out
            .items()
            .iter()
            .filter_map(|m| {
                Some(ObservedMapping {
                    via: GatewayKind::Http,
                    id: m.api_mapping_id()?.to_owned(),
                    root: m.api_mapping_key().unwrap_or_default().is_empty(),
                    api_id: m.api_id()?.to_owned(),
                    stage: m.stage()?.to_owned(),
                })
            })
            .collect();
        Ok((items, out.next_token().map(str::to_owned)))
    })
    .await
}

async fn mappings_v1(
    clients: &AwsClients,
    name: &str,
) -> Result<Vec<ObservedMapping>, DeployError> {
    all_pages(|position| async move {
        let out = clients
            .rest
            .get_base_path_mappings()
            .domain_name(name)
            .set_position(position)
            .send()
            .await
            .map_err(|e| {
                DeployError::aws(
                    "listing the base path mappings of",
                    format!("custom domain {name}"),
                    AwsFailure::of(&e),
                )
            })?;
        let items = out
            .items()
            .iter()
            .filter_map(|m| {
                let path = m.base_path().unwrap_or(REST_ROOT_BASE_PATH);
                Some(ObservedMapping {
                    via: GatewayKind::Rest,
                    id: path.to_owned(),
                    root: path == REST_ROOT_BASE_PATH || path.is_empty(),
                    api_id: m.rest_api_id()?.to_owned(),
                    stage: m.stage().unwrap_or_default().to_owned(),
                })
            })
            .collect();
        Ok((items, out.position().map(str::to_owned)))
    })
    .await
}
