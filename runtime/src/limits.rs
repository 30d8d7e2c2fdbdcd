//! Lambda's and API Gateway's limits: the one home of every number nextr checks against, so
//! that `config!`'s compile-time checks, `nextr build`, `nextr dev`'s emulator, deploy and the
//! CloudFormation template cannot disagree.
//!
//! Sources:
//! * Lambda quotas (<https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html>):
//!   timeout up to 900 s, memory 128–10,240 MB, 6 MB synchronous request and response
//!   payloads, deployment package 50 MB zipped for a direct upload and 250 MB unzipped
//!   (`GetAccountSettings` reports those sizes as 52,428,800 and 262,144,000 bytes, i.e. MiB),
//!   4 KB of environment variables.
//! * HTTP API quotas
//!   (<https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html>):
//!   routes per API 300 (can be increased), integrations per API 300 (cannot), maximum
//!   integration timeout 30 seconds (cannot), payload 10 MB (cannot).
//! * REST API quotas
//!   (<https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-execution-service-limits-table.html>)
//!   and "Stream the integration response" (November 2025): resources per API 300 (can be
//!   increased), integration timeout 29 seconds for buffered integrations, 15 minutes for
//!   streamed ones with a 5-minute idle timeout on regional endpoints, payload 10 MB.

use std::ops::RangeInclusive;

/// Lambda's allowed timeouts, in seconds.
pub const LAMBDA_TIMEOUT_S: RangeInclusive<u32> = 1..=900;
/// Lambda's allowed memory sizes, in MB.
pub const LAMBDA_MEMORY_MB: RangeInclusive<u32> = 128..=10_240;
/// Lambda's synchronous invocation payload limit (request event and response), in bytes.
pub const LAMBDA_PAYLOAD_BYTES: usize = 6 * 1024 * 1024;
/// Largest zip Lambda accepts as a direct upload (50 MiB).
pub const LAMBDA_ZIP_BYTES: u64 = 50 * 1024 * 1024;
/// Largest unzipped function code (250 MiB).
pub const LAMBDA_UNZIPPED_BYTES: u64 = 250 * 1024 * 1024;
/// Lambda's limit on the total size of a function's environment variables, in bytes.
pub const LAMBDA_ENV_BYTES: usize = 4096;

/// The Lambda timeout of a route that declares no `max_duration` (seconds).
pub const DEFAULT_TIMEOUT_S: u32 = 5;
/// The Lambda memory of a function when neither its route nor `nextr.toml` sets one (MB).
pub const DEFAULT_MEMORY_MB: u32 = 1024;
/// The timeout of the app's `$default` function, which only redirects or answers 404.
pub const FALLBACK_TIMEOUT_S: u32 = 3;
/// The memory of the app's `$default` function (Lambda's smallest).
pub const FALLBACK_MEMORY_MB: u32 = 128;

/// HTTP APIs end every integration after this many seconds (a hard quota).
pub const HTTP_API_TIMEOUT_S: u32 = 30;
/// The largest request an HTTP API accepts, in bytes.
pub const HTTP_API_PAYLOAD_BYTES: usize = 10 * 1024 * 1024;
/// The largest request line plus header values an HTTP API accepts, in bytes.
pub const HTTP_API_HEADER_BYTES: usize = 10_240;
/// Default HTTP API quota of routes per API (AWS can raise it for one API).
pub const HTTP_API_ROUTES: usize = 300;
/// HTTP API quota of integrations per API (hard).
pub const HTTP_API_INTEGRATIONS: usize = 300;

/// REST APIs end a buffered integration after this many seconds (the default quota).
pub const REST_API_TIMEOUT_S: u32 = 29;
/// REST APIs end a streamed integration (`responseTransferMode: STREAM`) after this many
/// seconds: 15 minutes, Lambda's own maximum.
pub const REST_API_STREAM_TIMEOUT_S: u32 = 900;
/// A streamed REST integration that sends nothing for this many seconds is closed (regional
/// and private endpoints).
pub const REST_API_STREAM_IDLE_S: u32 = 300;
/// The largest request a REST API accepts, in bytes.
pub const REST_API_PAYLOAD_BYTES: usize = 10 * 1024 * 1024;
/// The largest request line plus header values a REST API accepts, in bytes.
pub const REST_API_HEADER_BYTES: usize = 10_240;
/// Default REST API quota of resources per API (AWS can raise it for one API).
pub const REST_API_RESOURCES: usize = 300;

/// A Lambda function URL waits for its function as long as the function may run.
pub const FUNCTION_URL_TIMEOUT_S: u32 = 900;

/// The stage's steady rate when `nextr.toml` sets no `[throttle]`, in requests per second: a
/// tenth of the account's regional API Gateway quota (10,000 requests per second, shared by
/// every API of the account in the region), so one stage under a load test or a client's
/// retry loop cannot starve the account's other APIs, and far above what a new app serves.
pub const DEFAULT_STAGE_RATE: u32 = 1_000;
/// The stage's burst when `nextr.toml` sets no `[throttle]`: a tenth of the account's 5,000,
/// keeping AWS's own ratio of burst to rate.
pub const DEFAULT_STAGE_BURST: u32 = 500;

/// The retention CloudWatch Logs accepts, in days (`PutRetentionPolicy`'s `retentionInDays`).
pub const LOG_RETENTION_DAYS: &[u32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];
/// How long the functions' and the gateway's log groups keep events when `nextr.toml` says
/// nothing: a month, enough to look back at an incident, without paying to keep logs forever
/// (what Lambda's own log groups do).
pub const DEFAULT_LOG_RETENTION_DAYS: u32 = 30;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_lie_inside_lambdas_ranges() {
        for t in [
            DEFAULT_TIMEOUT_S,
            FALLBACK_TIMEOUT_S,
            HTTP_API_TIMEOUT_S,
            REST_API_TIMEOUT_S,
            REST_API_STREAM_TIMEOUT_S,
            FUNCTION_URL_TIMEOUT_S,
        ] {
            assert!(LAMBDA_TIMEOUT_S.contains(&t), "{t}");
        }
        for m in [DEFAULT_MEMORY_MB, FALLBACK_MEMORY_MB] {
            assert!(LAMBDA_MEMORY_MB.contains(&m), "{m}");
        }
        assert!(LOG_RETENTION_DAYS.contains(&DEFAULT_LOG_RETENTION_DAYS));
        const { assert!(DEFAULT_STAGE_BURST <= DEFAULT_STAGE_RATE) };
    }
}
