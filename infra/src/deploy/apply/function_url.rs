//! A function's URL on its `live` alias: `InvokeMode: RESPONSE_STREAM`, `AuthType` from the
//! manifest; deleted when the manifest drops it.

use aws_sdk_lambda::types::{FunctionUrlAuthType, InvokeMode};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use nextr::manifest::FunctionUrlAuth;

use super::{gone_ok, AwsClients, DeployError};
use crate::deploy::desired::ALIAS;
use crate::deploy::failure::AwsFailure;

fn auth_type(auth: FunctionUrlAuth) -> FunctionUrlAuthType {
    FunctionUrlAuthType::from(auth.aws_name())
}

/// Creates the URL of `name:live`; returns it. One that appeared since the observation (an
/// interrupted run) is updated instead.
pub(super) async fn create(
    clients: &AwsClients,
    name: &str,
    auth: FunctionUrlAuth,
) -> Result<String, DeployError> {
    let result = clients
        .lambda
        .create_function_url_config()
        .function_name(name)
        .qualifier(ALIAS)
        .auth_type(auth_type(auth))
        .invoke_mode(InvokeMode::ResponseStream)
        .send()
        .await;
    match result {
        Ok(out) => Ok(out.function_url().to_string()),
        Err(e) if e.code() == Some("ResourceConflictException") => {
            update(clients, name, auth).await
        }
        Err(e) => Err(DeployError::aws(
            "creating",
            format!("the function URL of {name}:{ALIAS}"),
            AwsFailure::of(&e),
        )),
    }
}

/// Gives the URL of `name:live` the manifest's auth and the streaming invoke mode; returns
/// the URL.
pub(super) async fn update(
    clients: &AwsClients,
    name: &str,
    auth: FunctionUrlAuth,
) -> Result<String, DeployError> {
    let out = clients
        .lambda
        .update_function_url_config()
        .function_name(name)
        .qualifier(ALIAS)
        .auth_type(auth_type(auth))
        .invoke_mode(InvokeMode::ResponseStream)
        .send()
        .await
        .map_err(|e| {
            DeployError::aws(
                "updating",
                format!("the function URL of {name}:{ALIAS}"),
                AwsFailure::of(&e),
            )
        })?;
    Ok(out.function_url().to_string())
}

/// Deletes the URL of `name:live`; already gone is done.
pub(super) async fn delete(clients: &AwsClients, name: &str) -> Result<(), DeployError> {
    let result = clients
        .lambda
        .delete_function_url_config()
        .function_name(name)
        .qualifier(ALIAS)
        .send()
        .await;
    gone_ok(
        result,
        "deleting",
        format!("the function URL of {name}:{ALIAS}"),
    )
}
