//! What deploy needs to know about a REST API (API Gateway v1), pure: resource paths from the
//! manifest's keys, the Lambda proxy integration's URI and timeout per response mode, the
//! invoke permission's scope, the invoke URL, and the fingerprint that tells whether the
//! stage serves the current configuration.
//!
//! The REST gateway *model* (selection, events) lives in `crate::gateway`; this module reads
//! only the manifest's keys (`"ANY /api/post/{pid}"`, root `"ANY /"`), as deploy re-derives
//! nothing.

use std::collections::BTreeMap;

use nextr::limits::{REST_API_STREAM_TIMEOUT_S, REST_API_TIMEOUT_S};
use nextr::manifest::{Cors, ResponseMode};
use sha2::{Digest, Sha256};

use super::desired::hex;

/// The one HTTP method of every resource nextr serves: the function answers every method
/// itself, as it does behind an HTTP API's `ANY` routes.
pub const METHOD: &str = "ANY";
/// The statement id of the REST API's invoke permission on each alias. Not the HTTP API's
/// (`nextr-apigw`): while an app switches kinds, both APIs may invoke the alias until the new
/// one is live and the old one is deleted.
pub const REST_PERMISSION_SID: &str = "nextr-apigw-rest";
/// The statement letting anyone call a function URL whose `AuthType` is `NONE`
/// (`lambda:InvokeFunctionUrl`, condition `FunctionUrlAuthType: NONE`).
pub const URL_PERMISSION_SID: &str = "nextr-url";
/// Since October 2025 a public function URL also needs `lambda:InvokeFunction` for `*`,
/// conditioned on `InvokedViaFunctionUrl: true` (so it does not open plain `Invoke`).
pub const URL_INVOKE_PERMISSION_SID: &str = "nextr-url-invoke";
/// Both statements of a public function URL.
pub const URL_PERMISSION_SIDS: [&str; 2] = [URL_PERMISSION_SID, URL_INVOKE_PERMISSION_SID];
/// API Gateway's smallest integration timeout.
const MIN_TIMEOUT_MS: u32 = 50;

/// The resource path of a REST key: `"ANY /api/post/{pid}"` → `"/api/post/{pid}"`.
///
/// Checked here because a test server accepts paths API Gateway refuses: only `ANY`, an
/// absolute path without empty segments, `{name}` / `{name+}` parameters as whole segments,
/// a greedy one only last.
pub fn key_path(key: &str) -> Result<&str, String> {
    let path = key
        .strip_prefix("ANY ")
        .ok_or_else(|| format!("`{key}`: a REST key is `ANY /path`"))?;
    if path == "/" {
        return Ok(path);
    }
    let rest = path
        .strip_prefix('/')
        .ok_or_else(|| format!("`{key}`: the path must start with `/`"))?;
    let segments: Vec<&str> = rest.split('/').collect();
    for (i, segment) in segments.iter().enumerate() {
        if segment.is_empty() {
            return Err(format!("`{key}`: empty path segment"));
        }
        let param = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}'));
        match param {
            Some(name) => {
                let (name, greedy) = match name.strip_suffix('+') {
                    Some(n) => (n, true),
                    None => (name, false),
                };
                let ok =
                    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                if !ok {
                    return Err(format!("`{key}`: `{segment}` is not a path parameter"));
                }
                if greedy && i + 1 != segments.len() {
                    return Err(format!("`{key}`: a greedy parameter must come last"));
                }
            }
            None if segment.contains(['{', '}']) => {
                return Err(format!("`{key}`: `{segment}` mixes text and a parameter"));
            }
            None => {}
        }
    }
    Ok(path)
}

/// The parent path and last part of a path; `None` for the root.
pub fn split_parent(path: &str) -> Option<(&str, &str)> {
    if path == "/" {
        return None;
    }
    let (parent, part) = path.rsplit_once('/')?;
    Some((if parent.is_empty() { "/" } else { parent }, part))
}

/// How many segments deep a path is (the root is 0): parents are created before children
/// and deleted after them.
pub fn depth(path: &str) -> usize {
    path.split('/').filter(|s| !s.is_empty()).count()
}

/// Every path a resource needs, with the path itself: `/a/b` → `/`, `/a`, `/a/b`.
pub fn with_ancestors(path: &str) -> Vec<String> {
    let mut all = vec![path.to_string()];
    let mut current = path;
    while let Some((parent, _)) = split_parent(current) {
        all.push(parent.to_string());
        current = parent;
    }
    all.reverse();
    all
}

/// `responseTransferMode` of a function's integration.
pub fn transfer_mode(mode: ResponseMode) -> &'static str {
    match mode {
        ResponseMode::Buffered => "BUFFERED",
        ResponseMode::Stream => "STREAM",
    }
}

/// The Lambda proxy integration's URI for a function's alias ARN: the streaming invocation
/// path (API version 2021-11-15) for stream mode, the classic one otherwise.
pub fn integration_uri(
    partition: &str,
    region: &str,
    alias_arn: &str,
    mode: ResponseMode,
) -> String {
    let tail = match mode {
        ResponseMode::Buffered => "2015-03-31/functions/{arn}/invocations",
        ResponseMode::Stream => "2021-11-15/functions/{arn}/response-streaming-invocations",
    };
    format!(
        "arn:{partition}:apigateway:{region}:lambda:path/{}",
        tail.replace("{arn}", alias_arn)
    )
}

/// The integration timeout: the function's own timeout, capped by the REST API's limit for
/// its mode (29 s buffered, 15 min streamed), never under API Gateway's minimum.
pub fn timeout_ms(function_timeout_s: u32, mode: ResponseMode) -> i32 {
    let cap_s = match mode {
        ResponseMode::Buffered => REST_API_TIMEOUT_S,
        ResponseMode::Stream => REST_API_STREAM_TIMEOUT_S,
    };
    let ms = function_timeout_s
        .min(cap_s)
        .saturating_mul(1000)
        .max(MIN_TIMEOUT_MS);
    i32::try_from(ms).unwrap_or(i32::MAX)
}

/// The invoke permission's `SourceArn`: any stage, method and path of this REST API only.
pub fn source_arn(partition: &str, region: &str, account: &str, api_id: &str) -> String {
    format!("arn:{partition}:execute-api:{region}:{account}:{api_id}/*/*/*")
}

/// The stage's invoke URL.
pub fn invoke_url(api_id: &str, region: &str, stage: &str) -> String {
    let suffix = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    format!("https://{api_id}.execute-api.{region}.{suffix}/{stage}")
}

/// One resource the REST API should have: the function behind its `ANY` method, or `None`
/// for an intermediate resource no key names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestResource {
    /// The Lambda function name.
    pub function: String,
    /// Its response mode.
    pub mode: ResponseMode,
    /// Its integration timeout.
    pub timeout_ms: i32,
}

/// The method nextr adds to every keyed resource for `[cors]`: API Gateway picks an explicit
/// method over `ANY`, so the preflight is answered here and never reaches the function, as an
/// HTTP API's `CorsConfiguration` does.
pub const PREFLIGHT_METHOD: &str = "OPTIONS";
/// The status of the preflight's method and integration responses.
pub const PREFLIGHT_STATUS: &str = "200";
/// The `MOCK` integration's request template: the status it selects.
pub const MOCK_REQUEST_TEMPLATE: (&str, &str) = ("application/json", "{\"statusCode\": 200}");
/// How a response header is named in method responses and integration response mappings.
const HEADER_PARAM: &str = "method.response.header.";

/// The fixed answer of a REST API's `MOCK` preflight method, from `[cors]`.
///
/// A `MOCK` integration can only send static values: no `Origin` check, no echo of the
/// requested headers. Hence exactly one origin (or `*`), which every preflight gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preflight {
    /// Header name → its static value (unquoted), e.g. `Access-Control-Allow-Origin` →
    /// `https://app.example`.
    pub headers: BTreeMap<String, String>,
}

impl Preflight {
    /// The preflight of a CORS policy; an error (why, in words) unless it names exactly one
    /// origin or `*`.
    pub fn of(cors: &Cors) -> Result<Self, String> {
        let origin = match cors.allow_origins.as_slice() {
            [one] => one.clone(),
            [] => return Err("`allow_origins` names no origin: a REST API's preflight answers one fixed origin (or \"*\")".to_owned()),
            several => {
                return Err(format!(
                    "`allow_origins` names {} origins: a REST API answers preflights with a MOCK integration, which can only return one fixed origin (or \"*\")",
                    several.len()
                ))
            }
        };
        let mut headers = BTreeMap::new();
        headers.insert("Access-Control-Allow-Origin".to_owned(), origin);
        let joined = |list: &[String]| (!list.is_empty()).then(|| list.join(","));
        if let Some(m) = joined(&cors.allow_methods) {
            headers.insert("Access-Control-Allow-Methods".to_owned(), m);
        }
        if let Some(h) = joined(&cors.allow_headers) {
            headers.insert("Access-Control-Allow-Headers".to_owned(), h);
        }
        if cors.allow_credentials {
            headers.insert(
                "Access-Control-Allow-Credentials".to_owned(),
                "true".to_owned(),
            );
        }
        if let Some(age) = cors.max_age_s {
            headers.insert("Access-Control-Max-Age".to_owned(), age.to_string());
        }
        Ok(Self { headers })
    }

    /// The method response's parameters: each header declared (not required).
    pub fn method_response_parameters(&self) -> BTreeMap<String, bool> {
        self.headers
            .keys()
            .map(|h| (format!("{HEADER_PARAM}{h}"), false))
            .collect()
    }

    /// The integration response's parameters: each header's static value, single-quoted as
    /// API Gateway's mapping expressions want a literal. `[cors]` values are checked tokens
    /// and origins, so none holds a quote.
    pub fn integration_response_parameters(&self) -> BTreeMap<String, String> {
        self.headers
            .iter()
            .map(|(h, v)| (format!("{HEADER_PARAM}{h}"), format!("'{v}'")))
            .collect()
    }

    /// The allowed origin.
    pub fn origin(&self) -> &str {
        self.headers
            .get("Access-Control-Allow-Origin")
            .map_or("", String::as_str)
    }
}

/// The fingerprint of a resource tree and its preflights: what a deployment snapshots.
/// Written into the deployment's description, so a later run knows whether the stage serves
/// this tree (an interrupted deploy leaves the tree changed and the stage on the old
/// deployment).
pub fn fingerprint(
    resources: &BTreeMap<String, Option<RestResource>>,
    preflight: Option<&Preflight>,
) -> String {
    // The API's binary media types take effect through a deployment too.
    let mut text = format!(
        "binary|{}\n",
        crate::gateway::rest_api::BINARY_MEDIA_TYPES.join(",")
    );
    // Only when set: an app without `[cors]` keeps the fingerprint it had before CORS existed,
    // so upgrading nextr does not redeploy it.
    if let Some(p) = preflight {
        for (h, v) in &p.headers {
            text.push_str(&format!("cors|{h}|{v}\n"));
        }
    }
    for (path, r) in resources {
        match r {
            Some(r) => text.push_str(&format!(
                "{path}|{}|{}|{}\n",
                r.function,
                transfer_mode(r.mode),
                r.timeout_ms
            )),
            None => text.push_str(&format!("{path}|\n")),
        }
    }
    let digest = hex(&Sha256::digest(text.as_bytes()));
    digest[..16].to_string()
}

/// The description of the deployment of a fingerprint.
pub fn deployment_description(fingerprint: &str) -> String {
    format!("nextr {fingerprint}")
}

/// A REST key's resource path as stage method settings name it: every `/` as `~1`
/// (`ANY /api/login` → `~1api~1login`), for `UpdateStage` patch paths
/// (`/~1api~1login/*/throttling/rateLimit`) and CloudFormation's `ResourcePath`.
pub fn method_settings_path(key: &str) -> String {
    let path = key.split_once(' ').map_or(key, |(_, p)| p);
    path.replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preflights_take_one_origin_and_static_values() {
        let cors = Cors {
            allow_origins: vec!["https://app.example".into()],
            allow_methods: vec!["GET".into(), "POST".into()],
            allow_headers: vec!["content-type".into()],
            expose_headers: vec!["x-id".into()],
            allow_credentials: true,
            max_age_s: Some(600),
        };
        let p = Preflight::of(&cors).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.origin(), "https://app.example");
        let params = p.integration_response_parameters();
        assert_eq!(
            params["method.response.header.Access-Control-Allow-Origin"],
            "'https://app.example'"
        );
        assert_eq!(
            params["method.response.header.Access-Control-Allow-Methods"],
            "'GET,POST'"
        );
        assert_eq!(
            params["method.response.header.Access-Control-Allow-Credentials"],
            "'true'"
        );
        assert_eq!(
            params["method.response.header.Access-Control-Max-Age"],
            "'600'"
        );
        // Expose-Headers concerns actual responses, which a preflight is not.
        assert_eq!(params.len(), 5);
        assert_eq!(
            p.method_response_parameters().keys().collect::<Vec<_>>(),
            params.keys().collect::<Vec<_>>()
        );
        for origins in [
            vec![],
            vec!["https://a.example".into(), "https://b.example".into()],
        ] {
            let e = Preflight::of(&Cors {
                allow_origins: origins,
                ..Cors::default()
            });
            assert!(e.is_err(), "{e:?}");
        }
    }

    #[test]
    fn method_settings_paths_escape_every_slash() {
        assert_eq!(method_settings_path("ANY /api/login"), "~1api~1login");
        assert_eq!(method_settings_path("ANY /"), "~1");
    }

    #[test]
    fn keys_become_paths_and_bad_ones_are_refused() {
        assert_eq!(key_path("ANY /"), Ok("/"));
        assert_eq!(key_path("ANY /api/post/{pid}"), Ok("/api/post/{pid}"));
        assert_eq!(key_path("ANY /api/{proxy+}"), Ok("/api/{proxy+}"));
        for bad in [
            "GET /api",
            "ANY api",
            "ANY /api/",
            "ANY /a//b",
            "ANY /{a+}/b",
            "ANY /x{a}",
            "ANY /{}",
            "$default",
        ] {
            assert!(key_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn paths_have_parents_and_depths() {
        assert_eq!(split_parent("/"), None);
        assert_eq!(split_parent("/api"), Some(("/", "api")));
        assert_eq!(split_parent("/api/{pid}"), Some(("/api", "{pid}")));
        assert_eq!(depth("/"), 0);
        assert_eq!(depth("/a/b"), 2);
        assert_eq!(with_ancestors("/a/b"), ["/", "/a", "/a/b"]);
        assert_eq!(with_ancestors("/"), ["/"]);
    }

    #[test]
    fn integrations_follow_the_response_mode() {
        let alias = "arn:aws:lambda:us-east-1:1:function:f:live";
        assert_eq!(
            integration_uri("aws", "us-east-1", alias, ResponseMode::Stream),
            "arn:aws:apigateway:us-east-1:lambda:path/2021-11-15/functions/arn:aws:lambda:us-east-1:1:function:f:live/response-streaming-invocations"
        );
        assert_eq!(
            integration_uri("aws", "us-east-1", alias, ResponseMode::Buffered),
            "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:1:function:f:live/invocations"
        );
        assert_eq!(timeout_ms(10, ResponseMode::Buffered), 10_000);
        assert_eq!(timeout_ms(60, ResponseMode::Buffered), 29_000);
        assert_eq!(timeout_ms(600, ResponseMode::Stream), 600_000);
        assert_eq!(timeout_ms(900, ResponseMode::Stream), 900_000);
        assert_eq!(timeout_ms(0, ResponseMode::Stream), 50);
    }

    #[test]
    fn scope_url_and_fingerprint() {
        assert_eq!(
            source_arn("aws", "eu-west-1", "123", "abc"),
            "arn:aws:execute-api:eu-west-1:123:abc/*/*/*"
        );
        assert_eq!(
            invoke_url("abc", "eu-west-1", "dev"),
            "https://abc.execute-api.eu-west-1.amazonaws.com/dev"
        );
        let r = |mode| {
            BTreeMap::from([(
                "/".to_string(),
                Some(RestResource {
                    function: "f".into(),
                    mode,
                    timeout_ms: 3000,
                }),
            )])
        };
        assert_eq!(
            fingerprint(&r(ResponseMode::Stream), None),
            fingerprint(&r(ResponseMode::Stream), None)
        );
        assert_ne!(
            fingerprint(&r(ResponseMode::Stream), None),
            fingerprint(&r(ResponseMode::Buffered), None)
        );
        assert_eq!(fingerprint(&r(ResponseMode::Stream), None).len(), 16);
        // A preflight, or a change of its origin, is a new snapshot.
        let cors = |origin: &str| Cors {
            allow_origins: vec![origin.to_owned()],
            ..Cors::default()
        };
        let a = Preflight::of(&cors("https://a.example")).ok();
        let b = Preflight::of(&cors("https://b.example")).ok();
        let tree = r(ResponseMode::Stream);
        assert_ne!(fingerprint(&tree, None), fingerprint(&tree, a.as_ref()));
        assert_ne!(
            fingerprint(&tree, a.as_ref()),
            fingerprint(&tree, b.as_ref())
        );
    }
}
