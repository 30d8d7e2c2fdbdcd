//! A function's Lambda resources: `$LATEST` (its code and configuration), the versions
//! published from it and the `live` alias. Each step waits until Lambda has settled, so the
//! next one finds the function ready.

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Architecture as LambdaArch, Environment, FunctionCode, Runtime};
use nextr::manifest::Architecture;

use super::settle::{check, lambda_retry};
use super::{gone_ok, AwsClients, DeployError};
use crate::deploy::desired::{read_bundle, Desired, DesiredFunction, ALIAS};
use crate::deploy::state::function_config;

/// Creates the function with the bundle `zip`, running as `role`; returns its ARN.
pub(super) async fn create(
    clients: &AwsClients,
    desired: &Desired,
    f: &DesiredFunction,
    zip: Vec<u8>,
    role: &str,
) -> Result<String, DeployError> {
    let name = f.name.as_str();
    let out = lambda_retry(
        clients,
        name,
        "creating",
        format!("function {name}"),
        || {
            clients
                .lambda
                .create_function()
                .function_name(name)
                .runtime(Runtime::from(f.spec.runtime.as_str()))
                .handler(&f.spec.handler)
                .role(role)
                .code(
                    FunctionCode::builder()
                        .zip_file(Blob::new(zip.clone()))
                        .build(),
                )
                .description(&f.spec.description)
                .timeout(i32::try_from(f.spec.timeout_s).unwrap_or(i32::MAX))
                .memory_size(i32::try_from(f.spec.memory_mb).unwrap_or(i32::MAX))
                .architectures(lambda_arch(f.spec.architecture))
                .environment(environment(f))
                .set_tags(Some(desired.target.tags()))
                .send()
        },
    )
    .await?;
    let arn = out
        .function_arn()
        .ok_or_else(|| {
            DeployError::incomplete("creating", format!("function {name}"), "FunctionArn")
        })?
        .to_string();
    check(clients, name, None, "creation", function_config!(&out)).await?;
    Ok(arn)
}

/// Sets `$LATEST`'s configuration to the manifest's, running as `role`.
pub(super) async fn update_configuration(
    clients: &AwsClients,
    f: &DesiredFunction,
    role: &str,
) -> Result<(), DeployError> {
    let name = f.name.as_str();
    let out = lambda_retry(
        clients,
        name,
        "updating the configuration of",
        format!("function {name}"),
        || {
            clients
                .lambda
                .update_function_configuration()
                .function_name(name)
                .runtime(Runtime::from(f.spec.runtime.as_str()))
                .handler(&f.spec.handler)
                .role(role)
                .description(&f.spec.description)
                .timeout(i32::try_from(f.spec.timeout_s).unwrap_or(i32::MAX))
                .memory_size(i32::try_from(f.spec.memory_mb).unwrap_or(i32::MAX))
                .environment(environment(f))
                .send()
        },
    )
    .await?;
    check(
        clients,
        name,
        None,
        "the configuration update",
        function_config!(&out),
    )
    .await
}

/// Uploads the manifest's bundle as `$LATEST`'s code.
pub(super) async fn update_code(
    clients: &AwsClients,
    f: &DesiredFunction,
) -> Result<(), DeployError> {
    let name = f.name.as_str();
    let zip = read_bundle(f)?;
    let out = lambda_retry(
        clients,
        name,
        "updating the code of",
        format!("function {name}"),
        || {
            clients
                .lambda
                .update_function_code()
                .function_name(name)
                .zip_file(Blob::new(zip.clone()))
                .architectures(lambda_arch(f.spec.architecture))
                .send()
        },
    )
    .await?;
    check(
        clients,
        name,
        None,
        "the code update",
        function_config!(&out),
    )
    .await
}

/// Publishes a version of `$LATEST`; returns its number.
pub(super) async fn publish(
    clients: &AwsClients,
    f: &DesiredFunction,
) -> Result<String, DeployError> {
    let name = f.name.as_str();
    let out = lambda_retry(
        clients,
        name,
        "publishing a version of",
        format!("function {name}"),
        || {
            clients
                .lambda
                .publish_version()
                .function_name(name)
                // Refuses to publish anything but the manifest's code.
                .code_sha256(&f.code_sha256)
                .send()
        },
    )
    .await?;
    let v = out
        .version()
        .ok_or_else(|| {
            DeployError::incomplete("publishing", format!("function {name}"), "Version")
        })?
        .to_string();
    check(
        clients,
        name,
        Some(&v),
        "publishing",
        function_config!(&out),
    )
    .await?;
    Ok(v)
}

/// Creates the `live` alias, pointing at `version`.
pub(super) async fn create_alias(
    clients: &AwsClients,
    name: &str,
    version: &str,
) -> Result<(), DeployError> {
    lambda_retry(
        clients,
        name,
        "creating",
        format!("alias {name}:{ALIAS}"),
        || {
            clients
                .lambda
                .create_alias()
                .function_name(name)
                .name(ALIAS)
                .function_version(version)
                .send()
        },
    )
    .await?;
    Ok(())
}

/// Points the `live` alias at `version`.
pub(crate) async fn update_alias(
    clients: &AwsClients,
    name: &str,
    version: &str,
) -> Result<(), DeployError> {
    lambda_retry(
        clients,
        name,
        "updating",
        format!("alias {name}:{ALIAS}"),
        || {
            clients
                .lambda
                .update_alias()
                .function_name(name)
                .name(ALIAS)
                .function_version(version)
                .send()
        },
    )
    .await?;
    Ok(())
}

/// Deletes the function with its versions, alias and permission; already gone is done.
pub(super) async fn delete(clients: &AwsClients, function: &str) -> Result<(), DeployError> {
    let result = clients
        .lambda
        .delete_function()
        .function_name(function)
        .send()
        .await;
    gone_ok(result, "deleting", format!("function {function}"))
}

/// Deletes old published versions of a function; one already gone is done.
pub(super) async fn delete_versions(
    clients: &AwsClients,
    function: &str,
    versions: &[u64],
) -> Result<(), DeployError> {
    for version in versions {
        let result = clients
            .lambda
            .delete_function()
            .function_name(function)
            .qualifier(version.to_string())
            .send()
            .await;
        gone_ok(
            result,
            "deleting",
            format!("version {version} of {function}"),
        )?;
    }
    Ok(())
}

/// The SDK's value for an architecture: its name is Lambda's.
fn lambda_arch(a: Architecture) -> LambdaArch {
    LambdaArch::from(a.as_str())
}

fn environment(f: &DesiredFunction) -> Environment {
    Environment::builder()
        .set_variables(Some(
            f.spec
                .env
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ))
        .build()
}
