//! AWS clients with lean features, and the interceptor that counts every call.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

use super::DeployError;

/// Where the AWS clients point.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    /// The region; `None` takes it from the standard chain (AWS_REGION, profile).
    pub region: Option<String>,
    /// An AWS-compatible endpoint for every client; `None` honours AWS_ENDPOINT_URL.
    pub endpoint_url: Option<String>,
}

/// The Lambda, API Gateway (v2 and v1), IAM and CloudWatch Logs clients of one deploy, sharing one call log.
#[derive(Debug, Clone)]
pub struct AwsClients {
    /// AWS Lambda.
    pub lambda: aws_sdk_lambda::Client,
    /// API Gateway v2 (HTTP APIs).
    pub apigw: aws_sdk_apigatewayv2::Client,
    /// API Gateway v1 (REST APIs).
    pub rest: aws_sdk_apigateway::Client,
    /// IAM.
    pub iam: aws_sdk_iam::Client,
    /// CloudWatch Logs (the log groups, and `nextr logs`).
    pub logs: aws_sdk_cloudwatchlogs::Client,
    region: String,
    calls: CallLog,
}

impl AwsClients {
    /// Loads credentials and region from the standard AWS chain, with `options` on top.
    pub async fn connect(options: &ConnectOptions, calls: CallLog) -> Result<Self, DeployError> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http_client())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(10))
                    .build(),
            );
        // Throttling and transient errors are retried by the SDK with backoff; the default
        // of 3 attempts is short for a burst of API Gateway control-plane calls. An explicit
        // AWS_MAX_ATTEMPTS (the SDK's own setting) still wins, as it does for the AWS CLI.
        if std::env::var_os("AWS_MAX_ATTEMPTS").is_none() {
            loader = loader.retry_config(RetryConfig::standard().with_max_attempts(8));
        }
        if let Some(region) = &options.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(url) = &options.endpoint_url {
            loader = loader.endpoint_url(url.clone());
        }
        let config = loader.load().await;
        Self::from_sdk_config(&config, calls)
    }

    /// Builds the clients from an already loaded SDK configuration.
    pub fn from_sdk_config(config: &SdkConfig, calls: CallLog) -> Result<Self, DeployError> {
        let region = config
            .region()
            .map(|r| r.to_string())
            .ok_or(DeployError::NoRegion)?;
        let lambda = aws_sdk_lambda::config::Builder::from(config)
            .interceptor(calls.clone())
            .build();
        let apigw = aws_sdk_apigatewayv2::config::Builder::from(config)
            .interceptor(calls.clone())
            .build();
        let rest = aws_sdk_apigateway::config::Builder::from(config)
            .interceptor(calls.clone())
            .build();
        let iam = aws_sdk_iam::config::Builder::from(config)
            .interceptor(calls.clone())
            .build();
        let logs = aws_sdk_cloudwatchlogs::config::Builder::from(config)
            .interceptor(calls.clone())
            .build();
        Ok(AwsClients {
            lambda: aws_sdk_lambda::Client::from_conf(lambda),
            apigw: aws_sdk_apigatewayv2::Client::from_conf(apigw),
            rest: aws_sdk_apigateway::Client::from_conf(rest),
            iam: aws_sdk_iam::Client::from_conf(iam),
            logs: aws_sdk_cloudwatchlogs::Client::from_conf(logs),
            region,
            calls,
        })
    }

    /// The region every client talks to.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The log of every call these clients made.
    pub fn calls(&self) -> &CallLog {
        &self.calls
    }
}

/// HTTPS through rustls on ring, instead of the SDK's default aws-lc build (a minute faster
/// to compile, no C toolchain needed).
pub fn http_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

/// Whether an operation changes anything: every AWS read operation nextr uses is a
/// `Get…`, `List…` or `Describe…` (CloudWatch Logs' listings), or `FilterLogEvents`.
pub fn is_mutating(operation: &str) -> bool {
    !(operation.starts_with("Get")
        || operation.starts_with("List")
        || operation.starts_with("Describe")
        || operation == "FilterLogEvents")
}

/// What to do once a set number of mutating calls has been sent: a fault injection that
/// lets tests interrupt a deploy at an exact point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interrupt {
    /// Fail every further mutating call before it is sent.
    Fail,
    /// Abort the process, as `kill -9` would: no cleanup, no record.
    Abort,
}

#[derive(Debug, Default)]
struct CallLogInner {
    counts: BTreeMap<String, u64>,
    interrupt: Option<(u64, Interrupt)>,
    mutations_sent: u64,
}

/// Counts every request sent to AWS, per `Service.Operation` (retries included), as an SDK
/// interceptor shared by all clients.
#[derive(Clone, Default)]
pub struct CallLog(Arc<Mutex<CallLogInner>>);

impl fmt::Debug for CallLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CallLog").field(&self.stats()).finish()
    }
}

impl CallLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// The counts so far.
    pub fn stats(&self) -> CallStats {
        let inner = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        CallStats {
            by_operation: inner.counts.clone(),
        }
    }

    /// Forgets the counts (not the interruption point).
    pub fn reset(&self) {
        let mut inner = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        inner.counts.clear();
    }

    /// Interrupts the deploy once `after` more mutating calls have been sent.
    pub fn interrupt_after(&self, after: u64, how: Interrupt) {
        let mut inner = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        inner.interrupt = Some((inner.mutations_sent + after, how));
    }

    fn record(&self, service: &str, operation: &str) -> Result<(), BoxError> {
        let mut inner = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if is_mutating(operation) {
            if let Some((limit, how)) = inner.interrupt {
                if inner.mutations_sent >= limit {
                    if how == Interrupt::Abort {
                        std::process::abort();
                    }
                    return Err(format!("interrupted before {service}.{operation}").into());
                }
            }
            inner.mutations_sent += 1;
        }
        *inner
            .counts
            .entry(format!("{service}.{operation}"))
            .or_default() += 1;
        Ok(())
    }
}

impl Intercept for CallLog {
    fn name(&self) -> &'static str {
        "nextr-call-log"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (service, operation) = match cfg.load::<Metadata>() {
            Some(m) => (m.service().to_string(), m.name().to_string()),
            None => ("unknown".to_string(), "Unknown".to_string()),
        };
        self.record(&service, &operation)
    }
}

/// Request counts per `Service.Operation`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallStats {
    /// `"Lambda.CreateFunction" → 3`.
    pub by_operation: BTreeMap<String, u64>,
}

impl CallStats {
    /// Every request.
    pub fn total(&self) -> u64 {
        self.by_operation.values().sum()
    }

    /// Requests that change something.
    pub fn mutating(&self) -> u64 {
        self.mutating_operations().values().sum()
    }

    /// Requests that only read.
    pub fn reads(&self) -> u64 {
        self.total() - self.mutating()
    }

    /// The mutating operations and their counts.
    pub fn mutating_operations(&self) -> BTreeMap<String, u64> {
        self.by_operation
            .iter()
            .filter(|(op, _)| is_mutating(op.rsplit('.').next().unwrap_or(op)))
            .map(|(op, n)| (op.clone(), *n))
            .collect()
    }

    /// How many requests of one `Service.Operation`.
    pub fn count(&self, operation: &str) -> u64 {
        self.by_operation.get(operation).copied().unwrap_or(0)
    }
}

/// The AWS partition of a region, for ARNs built before any ARN is known.
pub(crate) fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutating_is_everything_but_get_and_list() {
        assert!(!is_mutating("GetFunction"));
        assert!(!is_mutating("ListFunctions"));
        assert!(is_mutating("CreateFunction"));
        assert!(is_mutating("PublishVersion"));
        assert!(is_mutating("AddPermission"));
        assert!(is_mutating("TagResource"));
    }

    #[test]
    fn counts_and_interrupts() {
        let log = CallLog::new();
        log.record("Lambda", "GetFunction").unwrap();
        log.record("Lambda", "CreateFunction").unwrap();
        log.interrupt_after(1, Interrupt::Fail);
        log.record("Lambda", "PublishVersion").unwrap();
        assert!(log.record("Lambda", "CreateAlias").is_err());
        // Reads still go through: an interrupted deploy can still be observed.
        log.record("Lambda", "GetAlias").unwrap();
        let stats = log.stats();
        assert_eq!(stats.total(), 4);
        assert_eq!(stats.mutating(), 2);
        assert_eq!(stats.reads(), 2);
        assert_eq!(stats.count("Lambda.CreateAlias"), 0);
    }

    #[test]
    fn partitions() {
        assert_eq!(partition("us-east-1"), "aws");
        assert_eq!(partition("cn-north-1"), "aws-cn");
        assert_eq!(partition("us-gov-west-1"), "aws-us-gov");
    }
}
