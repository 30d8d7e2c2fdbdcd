//! The signed calls that read secrets: SSM `GetParameter` and Secrets Manager
//! `GetSecretValue` (AWS JSON 1.1), and their errors turned into fixes.

use std::time::Duration;

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{Method, Request};
use http_body_util::{BodyExt, Full, Limited};
use serde_json::{json, Value};

use super::{SecretFailure, SecretsError};
use crate::aws::{self, error_chain, shared, Credentials, SignError};
use crate::manifest::{SecretRef, SecretStore};

/// How long one call may take: a function's init phase has 10 s in all.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// The most of an answer read: a parameter holds at most 8 KB, a secret 64 KB.
const MAX_ANSWER_BYTES: usize = 256 * 1024;

/// What the calls need from the environment.
#[derive(Debug, Clone, Default)]
pub(crate) struct Setup {
    /// `AWS_REGION` (else `AWS_DEFAULT_REGION`).
    pub(crate) region: Option<String>,
    /// `AWS_ENDPOINT_URL_SSM`.
    pub(crate) ssm_endpoint: Option<String>,
    /// `AWS_ENDPOINT_URL_SECRETS_MANAGER`.
    pub(crate) secrets_manager_endpoint: Option<String>,
    /// `AWS_ENDPOINT_URL`: every service's.
    pub(crate) endpoint: Option<String>,
    /// The function's credentials.
    pub(crate) credentials: Credentials,
}

impl Setup {
    /// The process's environment.
    pub(crate) fn from_env() -> Self {
        Setup {
            region: aws::var("AWS_REGION").or_else(|| aws::var("AWS_DEFAULT_REGION")),
            ssm_endpoint: aws::var("AWS_ENDPOINT_URL_SSM"),
            secrets_manager_endpoint: aws::var("AWS_ENDPOINT_URL_SECRETS_MANAGER"),
            endpoint: aws::var("AWS_ENDPOINT_URL"),
            credentials: Credentials::from_env(),
        }
    }

    /// The base URL to call for `store` and the region to sign for, given the secret's name
    /// (an ARN names its own region).
    fn endpoint(&self, store: SecretStore, name: &str) -> Result<(String, String), String> {
        let arn_region = name
            .starts_with("arn:")
            .then(|| name.split(':').nth(3))
            .flatten()
            .filter(|r| !r.is_empty());
        let region = arn_region
            .map(str::to_owned)
            .or_else(|| self.region.clone());
        let (service_override, variable) = match store {
            SecretStore::Ssm => (&self.ssm_endpoint, "AWS_ENDPOINT_URL_SSM"),
            SecretStore::SecretsManager => (
                &self.secrets_manager_endpoint,
                "AWS_ENDPOINT_URL_SECRETS_MANAGER",
            ),
        };
        let chosen = service_override
            .as_ref()
            .map(|e| (e, variable))
            .or_else(|| self.endpoint.as_ref().map(|e| (e, "AWS_ENDPOINT_URL")));
        if let Some((endpoint, variable)) = chosen {
            let base = aws::check_endpoint(endpoint)
                .map_err(|why| format!("{variable}={endpoint:?} is not an endpoint URL: {why}"))?;
            // A local endpoint (moto, dev) checks no signature's region.
            return Ok((base, region.unwrap_or_else(|| "us-east-1".to_owned())));
        }
        let region = region.ok_or_else(|| {
            "AWS_REGION is not set (Lambda always sets it; outside Lambda, run the app with `nextr dev`)"
                .to_owned()
        })?;
        Ok((
            format!("https://{}.{region}.amazonaws.com", service(store)),
            region,
        ))
    }
}

/// SigV4's name (and the endpoint's first label) of the store's service.
fn service(store: SecretStore) -> &'static str {
    match store {
        SecretStore::Ssm => "ssm",
        SecretStore::SecretsManager => "secretsmanager",
    }
}

/// Reads every secret concurrently: their values by env name, or every failure.
pub(crate) async fn fetch_all(
    setup: &Setup,
    secrets: &[SecretRef],
) -> Result<Vec<(String, String)>, SecretsError> {
    let tasks: Vec<_> = secrets
        .iter()
        .map(|secret| {
            let (setup, secret) = (setup.clone(), secret.clone());
            tokio::spawn(async move {
                let read = fetch_one(&setup, &secret).await;
                (secret, read)
            })
        })
        .collect();
    let mut values = Vec::new();
    let mut failures = Vec::new();
    for task in tasks {
        match task.await {
            Ok((secret, Ok(value))) => values.push((secret.env, value)),
            Ok((secret, Err((place, problem)))) => failures.push(SecretFailure {
                secret,
                place,
                problem,
            }),
            Err(e) => failures.push(SecretFailure {
                secret: SecretRef {
                    env: String::new(),
                    store: SecretStore::Ssm,
                    name: String::new(),
                },
                place: String::new(),
                problem: format!("the read panicked: {e}"),
            }),
        }
    }
    if failures.is_empty() {
        Ok(values)
    } else {
        Err(SecretsError::Failed(failures))
    }
}

/// One secret's value, or where it was asked and what went wrong (with the fix).
async fn fetch_one(setup: &Setup, secret: &SecretRef) -> Result<String, (String, String)> {
    let (base, region) = setup
        .endpoint(secret.store, &secret.name)
        .map_err(|p| ("here".to_owned(), p))?;
    let place = if base.ends_with(".amazonaws.com") {
        region.clone()
    } else {
        base.clone()
    };
    let (target, body) = match secret.store {
        SecretStore::Ssm => (
            "AmazonSSM.GetParameter",
            json!({ "Name": secret.name, "WithDecryption": true }),
        ),
        SecretStore::SecretsManager => (
            "secretsmanager.GetSecretValue",
            json!({ "SecretId": secret.name }),
        ),
    };
    let answer = call(setup, secret.store, &base, &region, target, &body)
        .await
        .map_err(|e| (place.clone(), e.explain(secret, &region)))?;
    let value = match secret.store {
        SecretStore::Ssm => answer["Parameter"]["Value"].as_str(),
        SecretStore::SecretsManager => answer["SecretString"].as_str(),
    };
    match (value, secret.store) {
        (Some(v), _) => Ok(v.to_owned()),
        (None, SecretStore::SecretsManager) if answer.get("SecretBinary").is_some() => Err((
            place,
            "the secret holds only a SecretBinary, and nextr reads its SecretString: store the value as a string (`aws secretsmanager put-secret-value --secret-string …`)".to_owned(),
        )),
        (None, _) => Err((
            place,
            format!("the answer holds no value: {}", shorten(&answer.to_string())),
        )),
    }
}

/// Why a call failed.
#[derive(Debug)]
pub(crate) enum CallError {
    /// Before any answer: credentials, TLS, connection, timeout.
    Local(String),
    /// The service refused: its status, error type (`ParameterNotFound`) and message.
    Refused {
        status: u16,
        error_type: String,
        message: String,
    },
}

impl CallError {
    /// What went wrong with `secret`, and what to do about it.
    fn explain(&self, secret: &SecretRef, region: &str) -> String {
        let (status, error_type, message) = match self {
            CallError::Local(reason) => return reason.clone(),
            CallError::Refused {
                status,
                error_type,
                message,
            } => (status, error_type.as_str(), message.as_str()),
        };
        let aws = format!("{error_type}: {message}");
        let name = &secret.name;
        match (secret.store, error_type) {
            (SecretStore::Ssm, "ParameterNotFound" | "ParameterVersionNotFound") => format!(
                "there is no such parameter in {region} ({aws}): create it (`aws ssm put-parameter --type SecureString --name {name} --value …`), or fix its name in nextr.toml's [secrets] (is `{{stage}}` the stage you meant?)"
            ),
            (SecretStore::SecretsManager, "ResourceNotFoundException") => format!(
                "there is no such secret in {region}, or it has no current value ({aws}): create it (`aws secretsmanager create-secret --name {name} --secret-string …`), or fix its name in nextr.toml's [secrets] (is `{{stage}}` the stage you meant?)"
            ),
            (_, "AccessDeniedException") => format!(
                "the function's execution role may not read it ({aws}): `nextr deploy` lets each function's role read exactly the secrets nextr.toml names, so deploy again; with `nextr deploy --role`, grant that role {} on it",
                match secret.store {
                    SecretStore::Ssm => "ssm:GetParameter",
                    SecretStore::SecretsManager => "secretsmanager:GetSecretValue",
                }
            ),
            (_, "DecryptionFailure" | "InvalidKeyId" | "KMSAccessDeniedException") => format!(
                "it cannot be decrypted ({aws}): a value encrypted with a customer managed KMS key needs kms:Decrypt on that key, which nextr.toml's [[permissions]] can grant"
            ),
            (_, "UnrecognizedClientException" | "InvalidSignatureException" | "ExpiredTokenException") => format!(
                "the credentials were refused ({aws}): on Lambda they come from the execution role; in `nextr dev --aws-secrets`, from your AWS credentials (check `aws sts get-caller-identity`)"
            ),
            (_, "ThrottlingException") => format!(
                "the service throttled the read ({aws}): too many functions started at once; they retry at their next start"
            ),
            _ => format!("the service answered {status} ({aws})"),
        }
    }
}

/// One signed AWS JSON 1.1 call: the answer's document, or why there is none.
pub(crate) async fn call(
    setup: &Setup,
    store: SecretStore,
    base: &str,
    region: &str,
    target: &str,
    body: &Value,
) -> Result<Value, CallError> {
    let shared = shared().map_err(|reason| CallError::Local(format!("no TLS client: {reason}")))?;
    if let (true, Some(reason)) = (base.starts_with("https://"), &shared.no_roots) {
        return Err(CallError::Local(format!(
            "cannot open HTTPS connections to {base}: {reason} (the function reads the system's CA certificates, as provided.al2023 ships them in /etc/pki/tls/certs)"
        )));
    }
    let payload = body.to_string().into_bytes();
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(format!("{base}/"))
        .header(CONTENT_TYPE, "application/x-amz-json-1.1")
        .header("x-amz-target", target)
        .body(Full::new(Bytes::new()))
        .map_err(|e| CallError::Local(e.to_string()))?;
    aws::sign(&setup.credentials, service(store), region, &mut request, &payload).map_err(
        |e| {
            CallError::Local(match e {
                SignError::NoCredentials(variable) => format!(
                    "cannot sign the call: {variable} is not set (Lambda sets it from the function's execution role; `nextr dev --aws-secrets` from your AWS credentials)"
                ),
                SignError::Signing(reason) => format!("cannot sign the call: {reason}"),
            })
        },
    )?;
    *request.body_mut() = Full::new(Bytes::from(payload));
    let exchange = async {
        let response = shared.http.request(request).await.map_err(|e| {
            CallError::Local(format!(
                "cannot reach {base}: {} (check the function's network access to the service, or the endpoint variables)",
                error_chain(&e)
            ))
        })?;
        let (parts, body) = response.into_parts();
        let body = Limited::new(body, MAX_ANSWER_BYTES)
            .collect()
            .await
            .map_err(|e| CallError::Local(format!("reading the answer of {base}: {e}")))?
            .to_bytes();
        Ok::<_, CallError>((parts, body))
    };
    let (parts, body) = tokio::time::timeout(CALL_TIMEOUT, exchange)
        .await
        .map_err(|_elapsed| {
            CallError::Local(format!(
                "{base} did not answer within {} s (a function in a VPC needs a VPC endpoint or a NAT gateway to reach it)",
                CALL_TIMEOUT.as_secs()
            ))
        })??;
    let doc: Option<Value> = serde_json::from_slice(&body).ok();
    if parts.status.is_success() {
        return doc.ok_or_else(|| {
            CallError::Local(format!(
                "{base} answered something that is not JSON: {}",
                shorten(&String::from_utf8_lossy(&body))
            ))
        });
    }
    let field = |key: &str| {
        doc.as_ref()
            .and_then(|d| d.get(key))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    // `X-Amzn-ErrorType: AccessDeniedException:http://…`, or the body's
    // `__type: com.amazonaws.ssm#ParameterNotFound`.
    let error_type = parts
        .headers
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(':').next().unwrap_or(v).to_owned())
        .or_else(|| field("__type"))
        .map(|t| t.rsplit('#').next().unwrap_or(&t).to_owned())
        .unwrap_or_else(|| {
            parts
                .status
                .canonical_reason()
                .unwrap_or("Error")
                .to_owned()
        });
    let message = field("message")
        .or_else(|| field("Message"))
        .unwrap_or_else(|| shorten(&String::from_utf8_lossy(&body)));
    Err(CallError::Refused {
        status: parts.status.as_u16(),
        error_type,
        message,
    })
}

/// Text cut to a readable length for an error message.
fn shorten(text: &str) -> String {
    let mut cut = text.len().min(300);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text[..cut].to_owned()
}
