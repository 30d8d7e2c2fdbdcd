//! A function's URL on its `live` alias, read with `GetFunctionUrlConfig`.

use super::{AwsClients, DeployError, ALIAS};
use crate::deploy::failure::AwsFailure;

/// The function URL of an alias.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObservedUrl {
    /// `https://….lambda-url.<region>.on.aws/`.
    pub url: String,
    /// `NONE` or `AWS_IAM`.
    pub auth_type: String,
    /// `RESPONSE_STREAM` for nextr's; `None` when the server does not report it.
    pub invoke_mode: Option<String>,
}

/// The URL config of `name:live`, or `None` when there is none.
pub(super) async fn read_url(
    clients: &AwsClients,
    name: &str,
) -> Result<Option<ObservedUrl>, DeployError> {
    match clients
        .lambda
        .get_function_url_config()
        .function_name(name)
        .qualifier(ALIAS)
        .send()
        .await
    {
        Ok(out) => Ok(Some(ObservedUrl {
            url: out.function_url().to_string(),
            auth_type: out.auth_type().as_str().to_string(),
            invoke_mode: out.invoke_mode().map(|m| m.as_str().to_string()),
        })),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            Ok(None)
        }
        Err(e) => Err(DeployError::aws(
            "reading",
            format!("the function URL of {name}:{ALIAS}"),
            AwsFailure::of(&e),
        )),
    }
}
