//! The custom domain: created through the API of the gateway kind (tagged as the stage's),
//! its certificate changed in place, its root mapped to the stage, mappings and the domain
//! deleted ("not found" is done).

use aws_sdk_apigateway::types::{
    EndpointConfiguration, EndpointType as RestEndpointType, Op, PatchOperation,
    SecurityPolicy as RestSecurityPolicy,
};
use aws_sdk_apigatewayv2::types::{DomainNameConfiguration, EndpointType, SecurityPolicy};
use nextr::manifest::GatewayKind;

use super::{gone_ok, AwsClients, Ctx, DeployError};
use crate::deploy::domain::{DnsRecord, REST_ROOT_BASE_PATH};
use crate::deploy::failure::AwsFailure;
use crate::deploy::Target;

fn resource(name: &str) -> String {
    format!("custom domain {name}")
}

/// The one configuration of an HTTP API domain: regional, TLS 1.2, this certificate.
fn v2_configuration(certificate_arn: &str) -> DomainNameConfiguration {
    DomainNameConfiguration::builder()
        .certificate_arn(certificate_arn)
        .endpoint_type(EndpointType::Regional)
        .security_policy(SecurityPolicy::Tls12)
        .build()
}

/// Creates the domain; returns its DNS record when API Gateway reports the target.
pub(super) async fn create(
    clients: &AwsClients,
    target: Option<&Target>,
    name: &str,
    certificate_arn: &str,
    via: GatewayKind,
) -> Result<Option<DnsRecord>, DeployError> {
    let tags = target.map(Target::tags);
    let fail = |e: AwsFailure| DeployError::aws("creating", resource(name), e);
    let (dns_target, zone) = match via {
        GatewayKind::Http => {
            let config = v2_configuration(certificate_arn);
            let out = clients
                .apigw
                .create_domain_name()
                .domain_name(name)
                .domain_name_configurations(config)
                .set_tags(tags)
                .send()
                .await
                .map_err(|e| fail(AwsFailure::of(&e)))?;
            let c = out.domain_name_configurations().first();
            (
                c.and_then(|c| c.api_gateway_domain_name())
                    .map(str::to_owned),
                c.and_then(|c| c.hosted_zone_id()).map(str::to_owned),
            )
        }
        GatewayKind::Rest => {
            let out = clients
                .rest
                .create_domain_name()
                .domain_name(name)
                .regional_certificate_arn(certificate_arn)
                .endpoint_configuration(
                    EndpointConfiguration::builder()
                        .types(RestEndpointType::Regional)
                        .build(),
                )
                .security_policy(RestSecurityPolicy::Tls12)
                .set_tags(tags)
                .send()
                .await
                .map_err(|e| fail(AwsFailure::of(&e)))?;
            (
                out.regional_domain_name().map(str::to_owned),
                out.regional_hosted_zone_id().map(str::to_owned),
            )
        }
    };
    Ok(dns_target.map(|t| DnsRecord {
        name: name.to_owned(),
        target: t,
        hosted_zone_id: zone,
    }))
}

/// Gives the domain another certificate; the domain and its DNS target stay.
pub(super) async fn set_certificate(
    clients: &AwsClients,
    name: &str,
    via: GatewayKind,
    certificate_arn: &str,
) -> Result<(), DeployError> {
    let fail = |e: AwsFailure| DeployError::aws("changing the certificate of", resource(name), e);
    match via {
        GatewayKind::Http => {
            let config = v2_configuration(certificate_arn);
            clients
                .apigw
                .update_domain_name()
                .domain_name(name)
                .domain_name_configurations(config)
                .send()
                .await
                .map_err(|e| fail(AwsFailure::of(&e)))?;
        }
        GatewayKind::Rest => {
            clients
                .rest
                .update_domain_name()
                .domain_name(name)
                .patch_operations(
                    PatchOperation::builder()
                        .op(Op::Replace)
                        .path("/regionalCertificateArn")
                        .value(certificate_arn)
                        .build(),
                )
                .send()
                .await
                .map_err(|e| fail(AwsFailure::of(&e)))?;
        }
    }
    Ok(())
}

/// Maps the domain's root to `stage` of the kept API of kind `via`.
pub(super) async fn map(
    clients: &AwsClients,
    ctx: &Ctx,
    domain: &str,
    via: GatewayKind,
    stage: &str,
) -> Result<(), DeployError> {
    let fail = |e: AwsFailure| DeployError::aws("mapping", resource(domain), e);
    match via {
        GatewayKind::Http => {
            let api = super::need_api(ctx)?;
            clients
                .apigw
                .create_api_mapping()
                .domain_name(domain)
                .api_id(api)
                .stage(stage)
                .api_mapping_key("")
                .send()
                .await
                .map_err(|e| fail(AwsFailure::of(&e)))?;
        }
        GatewayKind::Rest => {
            let api = ctx
                .rest_api_id
                .as_deref()
                .ok_or_else(|| DeployError::incomplete("applying", "the plan", "REST API id"))?;
            clients
                .rest
                .create_base_path_mapping()
                .domain_name(domain)
                .rest_api_id(api)
                .stage(stage)
                .send()
                .await
                .map_err(|e| fail(AwsFailure::of(&e)))?;
        }
    }
    Ok(())
}

/// Deletes one mapping of the domain.
pub(super) async fn unmap(
    clients: &AwsClients,
    domain: &str,
    via: GatewayKind,
    id: &str,
) -> Result<(), DeployError> {
    let what = "deleting a mapping of";
    match via {
        GatewayKind::Http => {
            let result = clients
                .apigw
                .delete_api_mapping()
                .domain_name(domain)
                .api_mapping_id(id)
                .send()
                .await;
            gone_ok(result, what, resource(domain))
        }
        GatewayKind::Rest => {
            let path = if id.is_empty() {
                REST_ROOT_BASE_PATH
            } else {
                id
            };
            let result = clients
                .rest
                .delete_base_path_mapping()
                .domain_name(domain)
                .base_path(path)
                .send()
                .await;
            gone_ok(result, what, resource(domain))
        }
    }
}

/// Deletes the domain through each API that lists it (on AWS the first call deletes it and
/// the second finds it gone).
pub(super) async fn delete(
    clients: &AwsClients,
    name: &str,
    via: &[GatewayKind],
) -> Result<(), DeployError> {
    for kind in via {
        match kind {
            GatewayKind::Http => {
                let result = clients
                    .apigw
                    .delete_domain_name()
                    .domain_name(name)
                    .send()
                    .await;
                gone_ok(result, "deleting", resource(name))?;
            }
            GatewayKind::Rest => {
                let result = clients
                    .rest
                    .delete_domain_name()
                    .domain_name(name)
                    .send()
                    .await;
                gone_ok(result, "deleting", resource(name))?;
            }
        }
    }
    Ok(())
}
