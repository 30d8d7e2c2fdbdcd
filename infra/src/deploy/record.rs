//! The deploy state record, `.nextr/deploy-<stage>.json`: what was deployed, when, from
//! which manifest. AWS stays the source of truth for planning; the record is what
//! `nextr status` compares AWS and the local build against.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;
use nextr::manifest::GatewayKind;
use serde::{Deserialize, Serialize};

use super::desired::Desired;
use super::state::Observed;
use super::{Applied, DeployError};

/// The record's schema version.
pub const RECORD_VERSION: u32 = 1;

/// What the last successful deploy of one stage put on AWS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployRecord {
    /// Always [`RECORD_VERSION`].
    pub version: u32,
    /// App name.
    pub app: String,
    /// Stage name.
    pub stage: String,
    /// AWS region.
    pub region: String,
    /// When the deployed state was last changed (RFC 3339, UTC).
    pub deployed_at: String,
    /// When a deploy last confirmed it (RFC 3339, UTC).
    pub checked_at: String,
    /// Hex sha256 of the manifest that was deployed.
    pub manifest_sha256: String,
    /// The nextr version that wrote that manifest.
    pub nextr_version: String,
    /// The kind of API the app was deployed behind (records before REST APIs: `http`).
    #[serde(default)]
    pub gateway: GatewayKind,
    /// The API's id (HTTP or REST, per `gateway`).
    pub api_id: Option<String>,
    /// Invoke URL (a REST API's includes the stage).
    pub url: Option<String>,
    /// Execution role ARN.
    pub role_arn: Option<String>,
    /// The functions, in manifest order (fallback last).
    pub functions: Vec<RecordFunction>,
    /// The custom domain's DNS record (`[domain]`), when API Gateway reported its target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns: Option<super::domain::DnsRecord>,
}

/// One deployed function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordFunction {
    /// Lambda function name.
    pub name: String,
    /// Route page; absent for the fallback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
    /// Route keys.
    pub route_keys: Vec<String>,
    /// Hex sha256 of the zip.
    pub sha256: String,
    /// Lambda's `CodeSha256` of it.
    pub code_sha256: String,
    /// The version `live` points to.
    pub live_version: Option<String>,
    /// Its function URL, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_url: Option<String>,
    /// The version `live` served before the last deploy moved it (absent when that deploy
    /// created the function or left its alias alone): what `nextr rollback` of every
    /// function goes back to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_version: Option<String>,
    /// When `nextr rollback` moved `live` since the last deploy: the version that deploy set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rolled_back_from: Option<String>,
}

/// Now, as RFC 3339.
pub fn now_rfc3339() -> String {
    DateTime::from(SystemTime::now())
        .fmt(Format::DateTime)
        .unwrap_or_default()
}

impl DeployRecord {
    /// Where the record of `stage` lives: in the build folder `out` it deployed.
    pub fn path(out: &Path, stage: &str) -> PathBuf {
        out.join(nextr::manifest::layout::deploy_record(stage))
    }

    /// The record of a deploy that just succeeded from `observed` (what AWS had before it);
    /// keeps `deployed_at` and the earlier versions of `previous` when the deploy changed
    /// nothing.
    pub fn new(
        desired: &Desired,
        applied: &Applied,
        observed: &Observed,
        region: &str,
        previous: Option<&DeployRecord>,
    ) -> Self {
        let now = now_rfc3339();
        let unchanged = previous
            .filter(|p| applied.changes.is_empty() && p.manifest_sha256 == desired.manifest_sha256);
        let deployed_at = match unchanged {
            Some(p) => p.deployed_at.clone(),
            None => now.clone(),
        };
        // What `live` served before this deploy, for the functions it moved; a deploy that
        // changed nothing keeps what the one before it recorded.
        let previous_version = |name: &str, live: Option<&String>| match unchanged {
            Some(p) => p
                .functions
                .iter()
                .find(|f| f.name == name)
                .and_then(|f| f.previous_version.clone()),
            None => observed
                .functions
                .get(name)
                .and_then(|o| o.live.as_ref()?.version.clone())
                .filter(|before| Some(before) != live),
        };
        DeployRecord {
            version: RECORD_VERSION,
            app: desired.target.app().to_string(),
            stage: desired.target.stage().to_string(),
            region: region.to_string(),
            deployed_at,
            checked_at: now,
            manifest_sha256: desired.manifest_sha256.clone(),
            nextr_version: desired.nextr_version.clone(),
            gateway: desired.gateway,
            api_id: applied.api_id.clone(),
            url: applied.url.clone(),
            role_arn: applied.role_arn.clone(),
            functions: desired
                .functions
                .iter()
                .map(|f| RecordFunction {
                    name: f.name.clone(),
                    page: f.page.clone(),
                    route_keys: f.route_keys.clone(),
                    sha256: f.sha256.clone(),
                    code_sha256: f.code_sha256.clone(),
                    live_version: applied.live_versions.get(&f.name).cloned(),
                    function_url: applied.function_urls.get(&f.name).cloned(),
                    previous_version: previous_version(&f.name, applied.live_versions.get(&f.name)),
                    rolled_back_from: None,
                })
                .collect(),
            dns: applied.dns.clone(),
        }
    }

    /// The record after a rollback moved `live` as `moved` says: each function's live version
    /// is the new one, and remembers the one the last deploy set.
    pub fn rolled_back(&mut self, moved: &[super::rollback::Step]) {
        for step in moved {
            if let Some(f) = self.functions.iter_mut().find(|f| f.name == step.function) {
                let from = f.live_version.take();
                // A second rollback still says where the deploy had put it.
                if f.rolled_back_from.is_none() {
                    f.rolled_back_from = from;
                }
                f.live_version = Some(step.to.to_string());
                if f.rolled_back_from.as_deref() == f.live_version.as_deref() {
                    f.rolled_back_from = None;
                }
            }
        }
        if !moved.is_empty() {
            self.checked_at = now_rfc3339();
        }
    }

    /// Reads a record; `Ok(None)` when there is none.
    pub fn read(path: &Path) -> Result<Option<Self>, DeployError> {
        let bad = |reason: String| DeployError::Record {
            path: path.to_path_buf(),
            reason,
        };
        let text = match fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(bad(e.to_string())),
        };
        let record: DeployRecord = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        if record.version != RECORD_VERSION {
            return Err(bad(format!(
                "version {} is not the {RECORD_VERSION} this nextr reads",
                record.version
            )));
        }
        Ok(Some(record))
    }

    /// Writes the record atomically (a temporary file renamed over the old one), so an
    /// interrupted write never leaves half a record.
    pub fn write(&self, path: &Path) -> Result<(), DeployError> {
        let bad = |reason: String| DeployError::Record {
            path: path.to_path_buf(),
            reason,
        };
        let dir = path
            .parent()
            .ok_or_else(|| bad("no parent folder".into()))?;
        fs::create_dir_all(dir).map_err(|e| bad(e.to_string()))?;
        let mut text = serde_json::to_string_pretty(self).map_err(|e| bad(e.to_string()))?;
        text.push('\n');
        let tmp = dir.join(format!(
            ".{}.tmp-{}",
            path.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("deploy"),
            std::process::id()
        ));
        let result = (|| {
            let mut file = fs::File::create(&tmp)?;
            file.write_all(text.as_bytes())?;
            file.sync_all()?;
            fs::rename(&tmp, path)
        })();
        if let Err(e) = result {
            let _ = fs::remove_file(&tmp);
            return Err(bad(e.to_string()));
        }
        Ok(())
    }

    /// Removes the record (after `nextr remove`); a missing record is fine.
    pub fn delete(path: &Path) -> Result<(), DeployError> {
        match fs::remove_file(path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(DeployError::Record {
                path: path.to_path_buf(),
                reason: e.to_string(),
            }),
        }
    }

    /// Where AWS no longer matches this record: changes made outside nextr, or a deploy
    /// that failed halfway.
    pub fn drift(&self, observed: &Observed) -> Vec<String> {
        let mut drift = Vec::new();
        let recorded: BTreeSet<&str> = self.functions.iter().map(|f| f.name.as_str()).collect();
        for f in &self.functions {
            let label = f.page.as_deref().unwrap_or("$default fallback");
            let Some(o) = observed.functions.get(&f.name) else {
                drift.push(format!("function {} ({label}) is missing", f.name));
                continue;
            };
            if o.latest.code_sha256.as_deref() != Some(f.code_sha256.as_str()) {
                drift.push(format!(
                    "function {}: code is {}, the last deploy uploaded {}",
                    f.name,
                    o.latest.code_sha256.as_deref().unwrap_or("unknown"),
                    f.code_sha256
                ));
            }
            let live = o.live.as_ref().and_then(|l| l.version.as_deref());
            if live != f.live_version.as_deref() {
                drift.push(format!(
                    "alias {}:live points to version {}, the last deploy set {}",
                    f.name,
                    live.unwrap_or("none"),
                    f.live_version.as_deref().unwrap_or("none")
                ));
            }
        }
        for name in observed.functions.keys() {
            if !recorded.contains(name.as_str()) {
                drift.push(format!(
                    "function {name} exists but was not part of the last deploy"
                ));
            }
        }
        for f in &self.functions {
            let url = observed
                .functions
                .get(&f.name)
                .and_then(|o| o.url.as_ref())
                .map(|u| u.url.as_str());
            match (&f.function_url, url) {
                (Some(_), None) if observed.functions.contains_key(&f.name) => {
                    drift.push(format!("the function URL of {} is missing", f.name))
                }
                (None, Some(u)) => drift.push(format!(
                    "function {} has a URL ({u}) the last deploy did not make",
                    f.name
                )),
                _ => {}
            }
        }
        if self.gateway == GatewayKind::Rest {
            self.rest_drift(observed, &mut drift);
            return drift;
        }
        match (observed.api(), &self.api_id) {
            (None, _) => drift.push("the HTTP API is missing".to_string()),
            (Some(api), Some(id)) if &api.id != id => drift.push(format!(
                "the HTTP API is {}, the last deploy used {id}",
                api.id
            )),
            (Some(api), _) => {
                let keys: BTreeSet<&str> = api.routes.iter().map(|r| r.key.as_str()).collect();
                let wanted: BTreeSet<&str> = self
                    .functions
                    .iter()
                    .flat_map(|f| f.route_keys.iter().map(String::as_str))
                    .collect();
                for k in wanted.difference(&keys) {
                    drift.push(format!("route `{k}` is missing"));
                }
                for k in keys.difference(&wanted) {
                    drift.push(format!(
                        "route `{k}` exists but was not part of the last deploy"
                    ));
                }
            }
        }
        if observed.apis.len() > 1 {
            drift.push(format!(
                "{} HTTP APIs carry this app's tags",
                observed.apis.len()
            ));
        }
        if !observed.rest_apis.is_empty() {
            drift.push("a REST API carries this app's tags".to_string());
        }
        drift
    }

    /// Drift of a REST app: the API, its resources with an `ANY` method, the stage.
    fn rest_drift(&self, observed: &Observed, drift: &mut Vec<String>) {
        match (observed.rest_api(), &self.api_id) {
            (None, _) => drift.push("the REST API is missing".to_string()),
            (Some(api), Some(id)) if &api.id != id => drift.push(format!(
                "the REST API is {}, the last deploy used {id}",
                api.id
            )),
            (Some(api), _) => {
                let served: BTreeSet<String> = api
                    .resources
                    .iter()
                    .filter(|r| r.methods.contains_key(super::rest::METHOD))
                    .map(|r| format!("{} {}", super::rest::METHOD, r.path))
                    .collect();
                let wanted: BTreeSet<String> = self
                    .functions
                    .iter()
                    .flat_map(|f| f.route_keys.iter().cloned())
                    .collect();
                for k in wanted.difference(&served) {
                    drift.push(format!("resource `{k}` is missing"));
                }
                for k in served.difference(&wanted) {
                    drift.push(format!(
                        "resource `{k}` exists but was not part of the last deploy"
                    ));
                }
                if api.stage(&self.stage).is_none() {
                    drift.push(format!("the REST API has no stage {}", self.stage));
                }
            }
        }
        if observed.rest_apis.len() > 1 {
            drift.push(format!(
                "{} REST APIs carry this app's tags",
                observed.rest_apis.len()
            ));
        }
        if !observed.apis.is_empty() {
            drift.push("an HTTP API carries this app's tags".to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> DeployRecord {
        DeployRecord {
            version: RECORD_VERSION,
            app: "demo".into(),
            stage: "dev".into(),
            region: "us-east-1".into(),
            deployed_at: "2026-01-01T00:00:00Z".into(),
            checked_at: "2026-01-01T00:00:00Z".into(),
            manifest_sha256: "00".repeat(32),
            nextr_version: "0.1.0".into(),
            gateway: GatewayKind::Http,
            api_id: Some("api1".into()),
            url: None,
            role_arn: None,
            functions: vec![RecordFunction {
                name: "demo-a-dev".into(),
                page: Some("/api/a".into()),
                route_keys: vec!["ANY /api/a".into()],
                sha256: "ab".repeat(32),
                code_sha256: "q6ur".into(),
                live_version: Some("1".into()),
                function_url: None,
                previous_version: None,
                rolled_back_from: None,
            }],
            dns: None,
        }
    }

    #[test]
    fn writes_atomically_and_reads_back() {
        let dir = std::env::temp_dir().join(format!("nextr-record-{}", std::process::id()));
        let path = DeployRecord::path(&dir, "dev");
        assert_eq!(DeployRecord::read(&path).unwrap(), None);
        record().write(&path).unwrap();
        assert_eq!(DeployRecord::read(&path).unwrap(), Some(record()));
        let leftovers: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
            .collect();
        assert!(leftovers.is_empty());
        fs::write(&path, "{ not json").unwrap();
        assert!(matches!(
            DeployRecord::read(&path),
            Err(DeployError::Record { .. })
        ));
        DeployRecord::delete(&path).unwrap();
        DeployRecord::delete(&path).unwrap();
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn rest_drift_names_the_api_resources_stage_and_urls() {
        use crate::deploy::state::{
            ObservedFunction, ObservedMethod, ObservedResource, ObservedRestApi, ObservedUrl,
        };
        let mut r = record();
        r.gateway = GatewayKind::Rest;
        r.functions[0].function_url = Some("https://u/".into());
        let drift = r.drift(&Observed::default());
        assert!(
            drift.contains(&"the REST API is missing".to_string()),
            "{drift:?}"
        );
        let mut observed = Observed::default();
        observed.functions.insert(
            "demo-a-dev".into(),
            ObservedFunction {
                name: "demo-a-dev".into(),
                ..ObservedFunction::default()
            },
        );
        observed.rest_apis.push(ObservedRestApi {
            id: "api1".into(),
            resources: vec![ObservedResource {
                id: "r".into(),
                path: "/api/b".into(),
                methods: [("ANY".to_string(), ObservedMethod::default())].into(),
            }],
            ..ObservedRestApi::default()
        });
        let drift = r.drift(&observed);
        for expected in [
            "the function URL of demo-a-dev is missing",
            "resource `ANY /api/a` is missing",
            "resource `ANY /api/b` exists but was not part of the last deploy",
            "the REST API has no stage dev",
        ] {
            assert!(
                drift.contains(&expected.to_string()),
                "{expected}: {drift:?}"
            );
        }
        observed.functions.get_mut("demo-a-dev").unwrap().url = Some(ObservedUrl {
            url: "https://u/".into(),
            ..ObservedUrl::default()
        });
        let drift = r.drift(&observed);
        assert!(
            !drift.iter().any(|d| d.contains("function URL")),
            "{drift:?}"
        );
    }

    #[test]
    fn drift_names_what_changed() {
        let observed = Observed::default();
        let drift = record().drift(&observed);
        assert!(drift.contains(&"function demo-a-dev (/api/a) is missing".to_string()));
        assert!(drift.contains(&"the HTTP API is missing".to_string()));
    }
}
