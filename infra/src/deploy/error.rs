//! What can go wrong in a deploy, a removal or a status check, each naming the resource.

use std::path::PathBuf;

use super::failure::AwsFailure;

/// Why a deploy, removal or status check failed.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// The route manifest could not be read.
    #[error("cannot read the route manifest {}: {reason}; run `nextr build` first", .path.display())]
    Manifest {
        /// The manifest's path.
        path: PathBuf,
        /// What was wrong with it.
        reason: String,
    },
    /// A route of the manifest has no built function.
    #[error("route {page} has no built function in the manifest; run `nextr build` first")]
    NotBuilt {
        /// The route's page pattern.
        page: String,
    },
    /// Routes of the manifest do not build (a `nextr dev` build): never deployed.
    #[error(transparent)]
    IncompleteBuild(#[from] nextr::manifest::IncompleteBuild),
    /// A bundle is missing or no longer matches the manifest.
    #[error("bundle {}: {reason}; run `nextr build` again", .path.display())]
    Bundle {
        /// The zip's path.
        path: PathBuf,
        /// Missing, unreadable or changed.
        reason: String,
    },
    /// Route keys API Gateway would refuse (every problem, one per line).
    #[error("the manifest's route keys are not valid for API Gateway:{0}")]
    RouteKeys(String),
    /// The app exceeds Lambda's or API Gateway's limits.
    #[error(transparent)]
    Limits(#[from] crate::limits::LimitErrors),
    /// The app or stage name cannot be part of AWS resource names.
    #[error(transparent)]
    Name(#[from] crate::names::NameError),
    /// The build is a debug build (`nextr build --debug`), which deploy never ships.
    #[error("{} is a debug build; deploy ships only release builds: run `nextr build` (without --debug) first", .path.display())]
    DebugBuild {
        /// The manifest's path.
        path: PathBuf,
    },
    /// The `--role` value is not an IAM role ARN.
    #[error("invalid role ARN `{0}`: expected arn:<partition>:iam::<account>:role/<name>")]
    InvalidRoleArn(String),
    /// The custom domain's certificate is in another region than the deploy's.
    #[error("the certificate of the custom domain {domain} is in {certificate} and this deploy goes to {region}: a regional custom domain needs an ACM certificate in the API's region; deploy to {certificate} (`region` in nextr.toml, or --region), or request a certificate in {region} and set `[domain] certificate_arn` to it")]
    CertificateRegion {
        /// The domain name.
        domain: String,
        /// The certificate's region.
        certificate: String,
        /// The deploy's region.
        region: String,
    },
    /// A role's inline policies would not fit IAM's limit.
    #[error("the role {role} ({runs}) would hold {chars} characters of inline policies ({policies}), and IAM allows {limit} per role: combine statements in nextr.toml (one statement lists several actions and resources), use wildcards (`dynamodb:Get*`, `arn:…:table/shop-*`), or put the grants in a managed policy of your own and deploy with --role")]
    PolicyTooLarge {
        /// The role's name.
        role: String,
        /// Which functions run as it, in words.
        runs: String,
        /// Its inline policies' characters, whitespace not counted.
        chars: usize,
        /// Its inline policies' names.
        policies: String,
        /// IAM's limit.
        limit: usize,
    },
    /// The custom domain exists and deploy did not create it for this stage.
    #[error("the custom domain {domain} already exists in this account and region, and this stage's deploy did not create it ({mapped}): nextr deletes what it creates, so it never takes over a domain; delete it (`aws apigatewayv2 delete-domain-name --domain-name {domain}`) and deploy again, which creates it and prints its new DNS target, or remove `[domain]` from nextr.toml and keep mapping it by hand")]
    DomainTaken {
        /// The domain name.
        domain: String,
        /// What it maps to now, in words.
        mapped: String,
    },
    /// A route's log group does not exist.
    #[error("route {route} has no logs in this stage: its log group {group} does not exist; deploy the stage first (`nextr deploy`), or check --stage and --region")]
    NoLogGroup {
        /// The route.
        route: String,
        /// The log group.
        group: String,
    },
    /// No AWS region is configured anywhere.
    #[error("no AWS region: pass --region, set `region` in nextr.toml, or set AWS_REGION")]
    NoRegion,
    /// A resource with nextr's name exists but belongs to something else.
    #[error("{kind} `{name}` exists but is not tagged nextr:app={app}, nextr:stage={stage}; nextr will not modify it (rename the app or stage, or delete it)")]
    NotOwned {
        /// Resource kind ("function", "IAM role").
        kind: &'static str,
        /// Its name.
        name: String,
        /// Our app.
        app: String,
        /// Our stage.
        stage: String,
    },
    /// An AWS call failed.
    #[error("{action} {resource} failed: {failure}")]
    Aws {
        /// What was being done ("creating", "reading").
        action: &'static str,
        /// The resource ("function demo-hello-dev").
        resource: String,
        /// Why, classified by what fixes it.
        failure: AwsFailure,
    },
    /// AWS answered without a field nextr needs.
    #[error("{action} {resource}: AWS's answer has no {field}")]
    Incomplete {
        /// What was being done.
        action: &'static str,
        /// The resource.
        resource: String,
        /// The missing field.
        field: &'static str,
    },
    /// A Lambda function or version ended in a failed state.
    #[error("function {name} is in a failed state after {step}: {reason}")]
    FunctionFailed {
        /// The function (and qualifier).
        name: String,
        /// The step that left it failed.
        step: &'static str,
        /// Lambda's reason.
        reason: String,
    },
    /// A Lambda function did not settle in time.
    #[error("function {name} was still {status} after {seconds} s; re-run the deploy to continue")]
    NotSettled {
        /// The function (and qualifier).
        name: String,
        /// Its last status.
        status: String,
        /// How long nextr waited.
        seconds: u64,
    },
    /// The deploy state record could not be read or written.
    #[error("deploy record {}: {reason}", .path.display())]
    Record {
        /// The record's path.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
}

impl DeployError {
    /// An AWS call failure.
    pub(crate) fn aws(
        action: &'static str,
        resource: impl Into<String>,
        failure: impl Into<AwsFailure>,
    ) -> Self {
        DeployError::Aws {
            action,
            resource: resource.into(),
            failure: failure.into(),
        }
    }

    /// What to do about a failed AWS call (credentials, region, endpoint), as one line.
    pub fn fix(&self) -> Option<&'static str> {
        match self {
            DeployError::Aws { failure, .. } => failure.fix(),
            _ => None,
        }
    }

    /// A missing field in an AWS answer.
    pub(crate) fn incomplete(
        action: &'static str,
        resource: impl Into<String>,
        field: &'static str,
    ) -> Self {
        DeployError::Incomplete {
            action,
            resource: resource.into(),
            field,
        }
    }
}
