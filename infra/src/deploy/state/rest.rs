//! What exists of the app's REST APIs (API Gateway v1): the APIs tagged as the app's and
//! stage's, and for the kept one its resources with their methods and integrations, its
//! stages and its deployments. Reads only.

use std::collections::BTreeMap;

use super::{all_pages, oldest_first, AwsClients, DeployError, Target};
use crate::deploy::failure::AwsFailure;
use crate::deploy::rest;

/// How many items a REST API listing returns per page (API Gateway's maximum).
const PAGE: i32 = 500;

/// One of the app's REST APIs with what is inside it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObservedRestApi {
    /// API id.
    pub id: String,
    /// Name.
    pub name: String,
    /// The media types whose bodies travel as binary (base64 to and from the function).
    pub binary_media_types: Vec<String>,
    /// Resources (read for the kept API only).
    pub resources: Vec<ObservedResource>,
    /// Stages (read for the kept API only).
    pub stages: Vec<ObservedRestStage>,
    /// Deployments (read for the kept API only).
    pub deployments: Vec<ObservedDeployment>,
}

impl ObservedRestApi {
    /// The resource at a path.
    pub fn resource(&self, path: &str) -> Option<&ObservedResource> {
        self.resources.iter().find(|r| r.path == path)
    }

    /// A stage by name.
    pub fn stage(&self, name: &str) -> Option<&ObservedRestStage> {
        self.stages.iter().find(|s| s.name == name)
    }

    /// The description of the deployment a stage serves.
    pub fn stage_deployment(&self, name: &str) -> Option<&ObservedDeployment> {
        let id = self.stage(name)?.deployment_id.as_deref()?;
        self.deployments.iter().find(|d| d.id == id)
    }

    /// The invoke URL of a stage, when the stage exists.
    pub fn url(&self, region: &str, stage: &str) -> Option<String> {
        self.stage(stage)
            .map(|_| rest::invoke_url(&self.id, region, stage))
    }
}

/// A resource of the REST API.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObservedResource {
    /// Resource id.
    pub id: String,
    /// Its full path (`/api/post/{pid}`).
    pub path: String,
    /// Its methods by HTTP method.
    pub methods: BTreeMap<String, ObservedMethod>,
}

/// A method of a resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObservedMethod {
    /// `NONE` for nextr's.
    pub authorization_type: Option<String>,
    /// Its integration, when it has one.
    pub integration: Option<ObservedRestIntegration>,
    /// The parameters its `200` method response declares (a preflight's headers).
    pub response_parameters: BTreeMap<String, bool>,
}

/// A method's integration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObservedRestIntegration {
    /// `AWS_PROXY` for nextr's.
    pub integration_type: Option<String>,
    /// `POST` for a Lambda proxy integration.
    pub http_method: Option<String>,
    /// The Lambda invocation URI.
    pub uri: Option<String>,
    /// `BUFFERED` or `STREAM`; `None` when the server does not report it.
    pub transfer_mode: Option<String>,
    /// Timeout in milliseconds.
    pub timeout_ms: Option<i32>,
    /// Its request templates (a `MOCK` preflight's status).
    pub request_templates: BTreeMap<String, String>,
    /// The parameters its `200` integration response maps (a preflight's header values).
    pub response_parameters: BTreeMap<String, String>,
}

/// A stage of the REST API.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObservedRestStage {
    /// Stage name.
    pub name: String,
    /// The deployment it serves.
    pub deployment_id: Option<String>,
    /// Its method settings' throttles, by settings key (`*/*`, `~1api~1login/*`).
    pub method_throttles: BTreeMap<String, nextr::manifest::Throttle>,
    /// Its access log settings: destination ARN and format.
    pub access_logs: Option<(String, String)>,
}

/// A deployment of the REST API.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObservedDeployment {
    /// Deployment id.
    pub id: String,
    /// nextr writes `nextr <fingerprint>` here.
    pub description: Option<String>,
}

/// The REST APIs tagged as `target`'s, oldest first.
pub(super) async fn observe_rest_apis(
    clients: &AwsClients,
    target: &Target,
) -> Result<Vec<ObservedRestApi>, DeployError> {
    let apis = all_pages(|position| async move {
        let out = clients
            .rest
            .get_rest_apis()
            .set_position(position)
            .limit(PAGE)
            .send()
            .await
            .map_err(|e| DeployError::aws("listing", "REST APIs", AwsFailure::of(&e)))?;
        let ours = out
            .items()
            .iter()
            .filter(|api| target.owns(api.tags()))
            .filter_map(|api| {
                let created = api.created_date().map(|d| (d.secs(), d.subsec_nanos()));
                let api = ObservedRestApi {
                    id: api.id()?.to_string(),
                    name: api.name()?.to_string(),
                    binary_media_types: api.binary_media_types().to_vec(),
                    ..ObservedRestApi::default()
                };
                Some((created, api))
            })
            .collect();
        Ok((ours, next_position(out.position(), out.items().len())))
    })
    .await?;
    Ok(oldest_first(apis, |a| &a.id))
}

/// The next page's position: some servers repeat a position on an empty last page, so an
/// empty page ends the listing too.
fn next_position(position: Option<&str>, items: usize) -> Option<String> {
    position
        .filter(|p| !p.is_empty() && items > 0)
        .map(str::to_string)
}

/// Reads the resources (with methods and integrations), stages and deployments of `api`.
pub(super) async fn read_children(
    clients: &AwsClients,
    api: &mut ObservedRestApi,
) -> Result<(), DeployError> {
    let id = api.id.as_str();
    let (resources, stages, deployments) = tokio::try_join!(
        read_resources(clients, id),
        read_stages(clients, id),
        read_deployments(clients, id),
    )?;
    api.resources = resources;
    api.stages = stages;
    api.deployments = deployments;
    Ok(())
}

async fn read_resources(
    clients: &AwsClients,
    api: &str,
) -> Result<Vec<ObservedResource>, DeployError> {
    all_pages(|position| async move {
        let out = clients
            .rest
            .get_resources()
            .rest_api_id(api)
            // Methods with their integrations in the same answer: one call per page instead
            // of two per resource.
            .embed("methods")
            .set_position(position)
            .limit(PAGE)
            .send()
            .await
            .map_err(|e| {
                DeployError::aws(
                    "listing",
                    format!("resources of REST API {api}"),
                    AwsFailure::of(&e),
                )
            })?;
        let items = out
            .items()
            .iter()
            .filter_map(|r| {
                let methods = r
                    .resource_methods()
                    .map(|m| {
                        m.iter()
                            .map(|(verb, m)| {
                                let integration =
                                    m.method_integration().map(|i| ObservedRestIntegration {
                                        integration_type: i
                                            .r#type()
                                            .map(|t| t.as_str().to_string()),
                                        http_method: i.http_method().map(str::to_string),
                                        uri: i.uri().map(str::to_string),
                                        transfer_mode: i
                                            .response_transfer_mode()
                                            .map(|t| t.as_str().to_string()),
                                        // The SDK reads an absent timeout as 0.
                                        timeout_ms: Some(i.timeout_in_millis()).filter(|t| *t > 0),
                                        request_templates: sorted(i.request_templates()),
                                        response_parameters: sorted(
                                            i.integration_responses()
                                                .and_then(|r| r.get(rest::PREFLIGHT_STATUS))
                                                .and_then(|r| r.response_parameters()),
                                        ),
                                    });
                                let method = ObservedMethod {
                                    authorization_type: m.authorization_type().map(str::to_string),
                                    integration,
                                    response_parameters: sorted(
                                        m.method_responses()
                                            .and_then(|r| r.get(rest::PREFLIGHT_STATUS))
                                            .and_then(|r| r.response_parameters()),
                                    ),
                                };
                                (verb.clone(), method)
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                Some(ObservedResource {
                    id: r.id()?.to_string(),
                    path: r.path()?.to_string(),
                    methods,
                })
            })
            .collect();
        Ok((items, next_position(out.position(), out.items().len())))
    })
    .await
}

/// A map of the SDK's as a sorted one (empty when absent), to compare with what nextr wants.
fn sorted<V: Clone>(map: Option<&std::collections::HashMap<String, V>>) -> BTreeMap<String, V> {
    map.map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

async fn read_stages(
    clients: &AwsClients,
    api: &str,
) -> Result<Vec<ObservedRestStage>, DeployError> {
    let out = clients
        .rest
        .get_stages()
        .rest_api_id(api)
        .send()
        .await
        .map_err(|e| {
            DeployError::aws(
                "listing",
                format!("stages of REST API {api}"),
                AwsFailure::of(&e),
            )
        })?;
    Ok(out
        .item()
        .iter()
        .filter_map(|s| {
            Some(ObservedRestStage {
                name: s.stage_name()?.to_string(),
                deployment_id: s.deployment_id().map(str::to_string),
                access_logs: s
                    .access_log_settings()
                    .and_then(|a| Some((a.destination_arn()?.to_owned(), a.format()?.to_owned()))),
                method_throttles: s
                    .method_settings()
                    .map(|m| {
                        m.iter()
                            .filter_map(|(k, v)| {
                                let rate = v.throttling_rate_limit();
                                let whole = rate.fract() == 0.0 && rate >= 1.0;
                                Some((
                                    k.clone(),
                                    nextr::manifest::Throttle {
                                        // A fractional or unset rate reads as different.
                                        rate: if whole { rate as u32 } else { 0 },
                                        burst: u32::try_from(v.throttling_burst_limit()).ok()?,
                                    },
                                ))
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            })
        })
        .collect())
}

async fn read_deployments(
    clients: &AwsClients,
    api: &str,
) -> Result<Vec<ObservedDeployment>, DeployError> {
    all_pages(|position| async move {
        let out = clients
            .rest
            .get_deployments()
            .rest_api_id(api)
            .set_position(position)
            .limit(PAGE)
            .send()
            .await
            .map_err(|e| {
                DeployError::aws(
                    "listing",
                    format!("deployments of REST API {api}"),
                    AwsFailure::of(&e),
                )
            })?;
        let items = out
            .items()
            .iter()
            .filter_map(|d| {
                Some(ObservedDeployment {
                    id: d.id()?.to_string(),
                    description: d.description().map(str::to_string),
                })
            })
            .collect();
        Ok((items, next_position(out.position(), out.items().len())))
    })
    .await
}
