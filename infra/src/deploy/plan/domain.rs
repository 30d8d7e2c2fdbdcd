//! The custom domain: created (tagged as the stage's) with the manifest's certificate, its
//! root mapped to the stage once the stage exists, a root mapping to anything else (the
//! other kind's API after a `gateway` switch) replaced, and the stage's domains the manifest
//! no longer names deleted, mappings first.

use nextr::manifest::GatewayKind;

use super::Action;
use crate::deploy::desired::Desired;
use crate::deploy::domain::{is_wanted_mapping, mapped_stage};
use crate::deploy::state::{Observed, ObservedDomain};

/// The observed domain the manifest names.
fn wanted<'o>(desired: &Desired, observed: &'o Observed) -> Option<&'o ObservedDomain> {
    let name = &desired.domain.as_ref()?.name;
    observed.domains.iter().find(|d| &d.name == name)
}

/// The id of the API the domain maps to, when it exists already.
fn api_id<'o>(desired: &Desired, observed: &'o Observed) -> Option<&'o str> {
    match desired.gateway {
        GatewayKind::Http => observed.api().map(|a| a.id.as_str()),
        GatewayKind::Rest => observed.rest_api().map(|a| a.id.as_str()),
    }
}

/// Creates the manifest's domain where the gateway kind's API does not list it, and brings
/// its certificate to the manifest's.
pub(super) fn plan(desired: &Desired, observed: &Observed, actions: &mut Vec<Action>) {
    let Some(domain) = &desired.domain else {
        return;
    };
    match wanted(desired, observed) {
        Some(seen) if seen.seen_by.contains(&desired.gateway) => {
            if seen.certificate_arn.as_deref() != Some(domain.certificate_arn.as_str()) {
                actions.push(Action::SetDomainCertificate {
                    name: domain.name.clone(),
                    via: desired.gateway,
                    from: seen.certificate_arn.clone(),
                    to: domain.certificate_arn.clone(),
                });
            }
        }
        _ => actions.push(Action::CreateDomainName {
            name: domain.name.clone(),
            certificate_arn: domain.certificate_arn.clone(),
            via: desired.gateway,
        }),
    }
}

/// Maps the domain's root to the stage (after the stage exists), deleting first a root
/// mapping to anything else: API Gateway allows one mapping per path.
pub(super) fn plan_mapping(desired: &Desired, observed: &Observed, actions: &mut Vec<Action>) {
    let Some(domain) = &desired.domain else {
        return;
    };
    let api = api_id(desired, observed);
    let stage = mapped_stage(desired);
    let mappings = wanted(desired, observed).map_or(&[][..], |d| &d.mappings);
    for m in mappings.iter().filter(|m| m.root) {
        if !is_wanted_mapping(m, api, stage) {
            actions.push(Action::DeleteDomainMapping {
                domain: domain.name.clone(),
                via: m.via,
                id: m.id.clone(),
                api_id: m.api_id.clone(),
            });
        }
    }
    if !mappings.iter().any(|m| is_wanted_mapping(m, api, stage)) {
        actions.push(Action::CreateDomainMapping {
            domain: domain.name.clone(),
            via: desired.gateway,
            stage: stage.to_owned(),
        });
    }
}

/// Deletes the stage's domains the manifest no longer names.
pub(super) fn cleanup(desired: &Desired, observed: &Observed, actions: &mut Vec<Action>) {
    let keep = desired.domain.as_ref().map(|d| d.name.as_str());
    for d in observed.domains.iter().filter(|d| d.owned) {
        if Some(d.name.as_str()) != keep {
            delete(d, actions);
        }
    }
}

/// Deletes a domain the stage owns: its mappings, then the domain through every API that
/// lists it.
pub(super) fn delete(domain: &ObservedDomain, actions: &mut Vec<Action>) {
    for m in &domain.mappings {
        actions.push(Action::DeleteDomainMapping {
            domain: domain.name.clone(),
            via: m.via,
            id: m.id.clone(),
            api_id: m.api_id.clone(),
        });
    }
    actions.push(Action::DeleteDomainName {
        name: domain.name.clone(),
        via: domain.seen_by.clone(),
    });
}

#[cfg(test)]
mod tests {
    use nextr::manifest::{Domain, GatewayKind};

    use super::*;
    use crate::deploy::plan::tests::{desired_of, function};
    use crate::deploy::state::{ObservedApi, ObservedMapping};

    const CERT: &str = "arn:aws:acm:us-east-1:123456789012:certificate/new";

    fn desired(domain: Option<&str>) -> Desired {
        let mut manifest = nextr::manifest::Manifest::new("demo", function("demo-fallback"));
        manifest.gateway.domain = domain.map(|name| Domain {
            name: name.into(),
            certificate_arn: CERT.into(),
        });
        desired_of(&manifest)
    }

    fn owned(name: &str, cert: &str, mappings: Vec<ObservedMapping>) -> ObservedDomain {
        ObservedDomain {
            name: name.into(),
            seen_by: vec![GatewayKind::Http],
            owned: true,
            certificate_arn: Some(cert.into()),
            target: Some("d-1.execute-api.us-east-1.amazonaws.com".into()),
            hosted_zone_id: None,
            mappings,
        }
    }

    fn root(api: &str, stage: &str) -> ObservedMapping {
        ObservedMapping {
            via: GatewayKind::Http,
            id: format!("m-{api}"),
            root: true,
            api_id: api.into(),
            stage: stage.into(),
        }
    }

    fn observed(domains: Vec<ObservedDomain>) -> Observed {
        Observed {
            apis: vec![ObservedApi {
                id: "a1".into(),
                name: "demo-dev".into(),
                ..ObservedApi::default()
            }],
            domains,
            ..Observed::default()
        }
    }

    fn all(d: &Desired, o: &Observed) -> Vec<String> {
        let mut actions = Vec::new();
        plan(d, o, &mut actions);
        plan_mapping(d, o, &mut actions);
        cleanup(d, o, &mut actions);
        actions.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_mapped_domain_with_its_certificate_plans_nothing() {
        let d = desired(Some("api.example.com"));
        let o = observed(vec![owned(
            "api.example.com",
            CERT,
            vec![root("a1", "$default")],
        )]);
        assert!(all(&d, &o).is_empty());
    }

    #[test]
    fn a_new_certificate_is_set_in_place() {
        let d = desired(Some("api.example.com"));
        let o = observed(vec![owned(
            "api.example.com",
            "arn:old",
            vec![root("a1", "$default")],
        )]);
        assert_eq!(
            all(&d, &o),
            [format!(
                "~ domain api.example.com: certificate arn:old → {CERT}"
            )]
        );
    }

    #[test]
    fn a_root_mapping_elsewhere_is_replaced_and_other_paths_are_kept() {
        let d = desired(Some("api.example.com"));
        let other_path = ObservedMapping {
            root: false,
            ..root("a9", "v1")
        };
        let o = observed(vec![owned(
            "api.example.com",
            CERT,
            vec![root("a0", "$default"), other_path],
        )]);
        assert_eq!(
            all(&d, &o),
            [
                "- domain mapping api.example.com/: delete (mapped to API a0)",
                "+ domain mapping api.example.com/: map to the HTTP API's stage $default",
            ]
        );
    }

    #[test]
    fn without_a_domain_the_stages_domains_go_mappings_first_and_others_stay() {
        let d = desired(None);
        let mut foreign = owned("other.example.com", CERT, vec![]);
        foreign.owned = false;
        let o = observed(vec![
            owned("api.example.com", CERT, vec![root("a1", "$default")]),
            foreign,
        ]);
        assert_eq!(
            all(&d, &o),
            [
                "- domain mapping api.example.com/: delete (mapped to API a1)",
                "- domain api.example.com: delete (its DNS record then points nowhere)",
            ]
        );
    }
}
