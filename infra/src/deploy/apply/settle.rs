//! Lambda applies changes asynchronously: a function is `Pending` after creation and
//! `InProgress` after an update, and refuses another update meanwhile. Here is how apply waits
//! for it, and retries what only needs time.

use std::fmt;
use std::future::Future;
use std::time::{Duration, Instant};

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::{AwsClients, DeployError};
use crate::deploy::failure::AwsFailure;
use crate::deploy::state::{function_config, FunctionConfig};

/// How long a function may stay `Pending` or `InProgress`.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(600);
/// How long a new role may take to become assumable by Lambda (IAM is eventually
/// consistent).
const ROLE_PROPAGATION: Duration = Duration::from_secs(90);

/// Calls Lambda, retrying what only needs time: an update still in progress (wait for the
/// function to settle) and a new role IAM has not propagated yet.
pub(super) async fn lambda_retry<T, E, R, F, Fut>(
    clients: &AwsClients,
    function: &str,
    action: &'static str,
    resource: String,
    mut call: F,
) -> Result<T, DeployError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, R>>>,
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug + 'static,
{
    let started = Instant::now();
    let mut conflicts = 0;
    loop {
        match call().await {
            Ok(v) => return Ok(v),
            Err(e) => {
                let code = e.code().unwrap_or_default();
                let message = e.message().unwrap_or_default().to_ascii_lowercase();
                if code == "ResourceConflictException" && conflicts < 5 {
                    conflicts += 1;
                    settle(clients, function, None, "a concurrent update").await?;
                    continue;
                }
                if code == "InvalidParameterValueException"
                    && message.contains("role")
                    && started.elapsed() < ROLE_PROPAGATION
                {
                    tokio::time::sleep(Duration::from_secs(2)).await;
                    continue;
                }
                return Err(DeployError::aws(action, resource, AwsFailure::of(&e)));
            }
        }
    }
}

/// Fails on a failed state, waits when Lambda is still busy.
pub(super) async fn check(
    clients: &AwsClients,
    name: &str,
    qualifier: Option<&str>,
    step: &'static str,
    config: FunctionConfig,
) -> Result<(), DeployError> {
    failed(name, qualifier, step, &config, None)?;
    if config.is_busy() {
        settle(clients, name, qualifier, step).await?;
    }
    Ok(())
}

fn failed(
    name: &str,
    qualifier: Option<&str>,
    step: &'static str,
    c: &FunctionConfig,
    reason: Option<&str>,
) -> Result<(), DeployError> {
    if c.state.as_deref() == Some("Failed") || c.last_update_status.as_deref() == Some("Failed") {
        return Err(DeployError::FunctionFailed {
            name: qualified(name, qualifier),
            step,
            reason: reason
                .unwrap_or("see the function in the Lambda console")
                .to_string(),
        });
    }
    Ok(())
}

fn qualified(name: &str, qualifier: Option<&str>) -> String {
    match qualifier {
        Some(q) => format!("{name}:{q}"),
        None => name.to_string(),
    }
}

/// Polls until the function (or version) is neither `Pending` nor `InProgress`.
pub(super) async fn settle(
    clients: &AwsClients,
    name: &str,
    qualifier: Option<&str>,
    step: &'static str,
) -> Result<(), DeployError> {
    let started = Instant::now();
    let mut delay = Duration::from_millis(250);
    loop {
        let out = clients
            .lambda
            .get_function_configuration()
            .function_name(name)
            .set_qualifier(qualifier.map(str::to_string))
            .send()
            .await
            .map_err(|e| {
                DeployError::aws(
                    "waiting for",
                    format!("function {}", qualified(name, qualifier)),
                    AwsFailure::of(&e),
                )
            })?;
        let config = function_config!(&out);
        let reason = out.state_reason().or(out.last_update_status_reason());
        failed(name, qualifier, step, &config, reason)?;
        if !config.is_busy() {
            return Ok(());
        }
        if started.elapsed() > SETTLE_TIMEOUT {
            return Err(DeployError::NotSettled {
                name: qualified(name, qualifier),
                status: config
                    .last_update_status
                    .or(config.state)
                    .unwrap_or_default(),
                seconds: SETTLE_TIMEOUT.as_secs(),
            });
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}
