//! The custom domain in the template, as deploy makes it: a regional domain name (TLS 1.2,
//! the manifest's certificate) with its root mapped to the stage, and outputs naming the DNS
//! record to create.

use nextr::manifest::{GatewayKind, Manifest};
use serde_json::{json, Map, Value};

use super::rest::{API_ID, STAGE_ID};
use crate::deploy::desired::API_STAGE;
use crate::deploy::domain::SECURITY_POLICY;

/// The domain name's logical id.
const DOMAIN_ID: &str = "CustomDomain";

/// The domain, its mapping and its outputs, when the manifest has a `[domain]`.
pub(super) fn resources(
    resources: &mut Map<String, Value>,
    outputs: &mut Value,
    manifest: &Manifest,
    tag_list: &Value,
    tag_map: &Value,
) {
    let Some(domain) = &manifest.gateway.domain else {
        return;
    };
    let (domain_resource, mapping) = match manifest.gateway.kind {
        GatewayKind::Http => (
            json!({
                "Type": "AWS::ApiGatewayV2::DomainName",
                "Properties": {
                    "DomainName": domain.name,
                    "DomainNameConfigurations": [{
                        "CertificateArn": domain.certificate_arn,
                        "EndpointType": "REGIONAL",
                        "SecurityPolicy": SECURITY_POLICY
                    }],
                    "Tags": tag_map
                }
            }),
            json!({
                "Type": "AWS::ApiGatewayV2::ApiMapping",
                "DependsOn": ["HttpApiStage"],
                "Properties": {
                    "DomainName": { "Ref": DOMAIN_ID },
                    "ApiId": { "Ref": "HttpApi" },
                    "Stage": API_STAGE
                }
            }),
        ),
        GatewayKind::Rest => (
            json!({
                "Type": "AWS::ApiGateway::DomainName",
                "Properties": {
                    "DomainName": domain.name,
                    "RegionalCertificateArn": domain.certificate_arn,
                    "EndpointConfiguration": { "Types": ["REGIONAL"] },
                    "SecurityPolicy": SECURITY_POLICY,
                    "Tags": tag_list
                }
            }),
            json!({
                "Type": "AWS::ApiGateway::BasePathMapping",
                "DependsOn": [STAGE_ID],
                "Properties": {
                    "DomainName": { "Ref": DOMAIN_ID },
                    "RestApiId": { "Ref": API_ID },
                    "Stage": { "Ref": "Stage" }
                }
            }),
        ),
    };
    resources.insert(DOMAIN_ID.into(), domain_resource);
    resources.insert(format!("{DOMAIN_ID}Mapping"), mapping);
    outputs["DomainUrl"] = json!({
        "Description": "The custom domain's URL (once its DNS record exists)",
        "Value": format!("https://{}/", domain.name)
    });
    outputs["DnsTarget"] = json!({
        "Description": format!("Create the DNS record {} CNAME <this value> (or a Route 53 alias to it, in DnsHostedZoneId)", domain.name),
        "Value": { "Fn::GetAtt": [DOMAIN_ID, "RegionalDomainName"] }
    });
    outputs["DnsHostedZoneId"] = json!({
        "Description": "The Route 53 hosted zone of DnsTarget, for an alias record",
        "Value": { "Fn::GetAtt": [DOMAIN_ID, "RegionalHostedZoneId"] }
    });
}
