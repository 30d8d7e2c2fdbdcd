//! `nextr rollback`: moves a function's `live` alias back to an earlier published version that
//! deploy kept (`keep_versions`), for one route or for every function the last deploy moved.
//!
//! Planning is pure ([`select`], [`plan`], [`check`]) over the deploy record and what AWS
//! has; [`apply`] only updates aliases, so a rollback never deletes a version and never
//! touches the gateway. A rollback starts from the version the record says nextr set last, so
//! re-running one that was interrupted finishes it instead of moving further back.

use std::collections::BTreeMap;

use super::apply::update_alias;
use super::failure::AwsFailure;
use super::record::{DeployRecord, RecordFunction};
use super::state::{function_config, FunctionConfig, Observed};
use super::{AwsClients, DeployError};
use crate::gateway::http_api::DEFAULT_ROUTE;

/// What to roll back to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Goal {
    /// The newest kept version before the one live serves (one route).
    Back,
    /// This version (one route).
    To(u64),
    /// The version each function served before the last deploy moved it (every function).
    BeforeLastDeploy,
}

/// One function's alias move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The route: its page, or `$default`.
    pub route: String,
    /// The Lambda function.
    pub function: String,
    /// The version `live` serves now.
    pub from: Option<u64>,
    /// The version `live` will serve.
    pub to: u64,
}

impl Step {
    /// Whether `live` already serves the target (an earlier run of this rollback got there).
    pub fn is_done(&self) -> bool {
        self.from == Some(self.to)
    }

    /// `~ /api/x (fn): live 7 → 6`, or `= … live 6 (already)`.
    pub fn line(&self) -> String {
        let from = self
            .from
            .map_or_else(|| "none".to_string(), |v| v.to_string());
        if self.is_done() {
            format!(
                "= {} ({}): live {} (already)",
                self.route, self.function, self.to
            )
        } else {
            format!(
                "~ {} ({}): live {from} → {}",
                self.route, self.function, self.to
            )
        }
    }
}

/// A rollback, ready to apply.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RollbackPlan {
    /// The alias moves, in record order.
    pub steps: Vec<Step>,
    /// What the user should know before going ahead.
    pub warnings: Vec<String>,
}

impl RollbackPlan {
    /// Whether applying would change nothing.
    pub fn is_done(&self) -> bool {
        self.steps.iter().all(Step::is_done)
    }
}

/// What every rollback leaves as it is, said in every plan.
pub const SCOPE_NOTE: &str = "only each function's code and the configuration its version carries (environment, memory, timeout, role) roll back; API Gateway routes, permissions, function URLs and log groups stay as the last deploy left them";

/// Why a rollback cannot be planned.
#[derive(Debug, thiserror::Error)]
pub enum RollbackError {
    /// No deploy record: nothing says what was deployed.
    #[error("stage {stage} was never deployed from here (no deploy record in {path}): there is nothing to roll back")]
    NeverDeployed {
        /// The stage.
        stage: String,
        /// Where the record would be.
        path: String,
    },
    /// The route names no function of the last deploy.
    #[error("no route `{route}` in the last deploy of this stage: name a page (`{example}`), a route file, `$default`, or a function name; `nextr status` lists them")]
    UnknownRoute {
        /// What was asked for.
        route: String,
        /// A page of the app, for the message.
        example: String,
    },
    /// `--to` without a route: version numbers are per function.
    #[error(
        "--to names one function's version: give the route too (`nextr rollback /api/x --to 6`)"
    )]
    ToNeedsRoute,
    /// The function or its alias is gone.
    #[error("{route} ({function}) has no `live` alias on AWS: run `nextr deploy` first")]
    NotDeployed {
        /// The route.
        route: String,
        /// The function.
        function: String,
    },
    /// No kept version before the live one.
    #[error("{route} ({function}) has no version before {live} left to roll back to (kept: {kept}); deploy keeps the live version and the previous `keep_versions` (nextr.toml [deploy]); raise it to keep more")]
    NoEarlierVersion {
        /// The route.
        route: String,
        /// The function.
        function: String,
        /// The version live serves.
        live: u64,
        /// The versions that exist.
        kept: String,
    },
    /// `--to`, or the record's earlier version, names a version that no longer exists.
    #[error("version {version} of {route} ({function}) is not kept any more (kept: {kept}); deploy keeps the live version and the previous `keep_versions` (nextr.toml [deploy])")]
    NotKept {
        /// The route.
        route: String,
        /// The function.
        function: String,
        /// The version asked for.
        version: u64,
        /// The versions that exist.
        kept: String,
    },
    /// Every function already serves what it served before the last deploy, or the last
    /// deploy moved none.
    #[error("the last deploy moved no function's `live` alias that a rollback could move back: name a route to move it back one version (`nextr rollback /api/x`)")]
    NothingRecorded,
    /// The target version runs on another architecture than live.
    #[error("version {version} of {route} ({function}) runs on {theirs} and live runs on {ours}: rollback does not switch architectures on its own; name the version with --to {version} to do it anyway")]
    Architecture {
        /// The route.
        route: String,
        /// The function.
        function: String,
        /// The target version.
        version: u64,
        /// The target's architecture.
        theirs: String,
        /// Live's.
        ours: String,
    },
    /// Lambda marks the target version as failed: it cannot serve.
    #[error("version {version} of {route} ({function}) is in state Failed on Lambda and cannot serve requests")]
    Failed {
        /// The route.
        route: String,
        /// The function.
        function: String,
        /// The target version.
        version: u64,
    },
    /// An AWS call failed.
    #[error(transparent)]
    Deploy(#[from] DeployError),
}

/// The recorded functions `route` names: a page, `$default`, a function name, or a route
/// file (`files` maps route files to pages, from the build's manifest when there is one);
/// every function when `route` is `None`.
pub fn select<'r>(
    record: &'r DeployRecord,
    route: Option<&str>,
    files: &BTreeMap<String, String>,
) -> Result<Vec<&'r RecordFunction>, RollbackError> {
    let Some(route) = route else {
        return Ok(record.functions.iter().collect());
    };
    let page = files.get(route).map(String::as_str).unwrap_or(route);
    let found = record.functions.iter().find(|f| {
        f.name == route
            || match &f.page {
                Some(p) => p == page,
                None => route == DEFAULT_ROUTE,
            }
    });
    match found {
        Some(f) => Ok(vec![f]),
        None => Err(RollbackError::UnknownRoute {
            route: route.to_string(),
            example: record
                .functions
                .iter()
                .find_map(|f| f.page.clone())
                .unwrap_or_else(|| "/api/hello".to_string()),
        }),
    }
}

fn label(f: &RecordFunction) -> String {
    f.page.clone().unwrap_or_else(|| DEFAULT_ROUTE.to_string())
}

fn number(v: Option<&str>) -> Option<u64> {
    v?.parse().ok()
}

fn list(versions: &[u64]) -> String {
    if versions.is_empty() {
        return "none".to_string();
    }
    versions
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Plans the alias moves of `functions` toward `goal` from what AWS has (`observed`), before
/// the per-version checks of [`check`].
pub fn plan(
    functions: &[&RecordFunction],
    observed: &Observed,
    goal: Goal,
) -> Result<RollbackPlan, RollbackError> {
    if matches!(goal, Goal::To(_)) && functions.len() != 1 {
        return Err(RollbackError::ToNeedsRoute);
    }
    let mut plan = RollbackPlan::default();
    for f in functions {
        let route = label(f);
        let o = observed.functions.get(&f.name);
        let Some((o, live)) =
            o.and_then(|o| Some((o, number(o.live.as_ref()?.version.as_deref())?)))
        else {
            return Err(RollbackError::NotDeployed {
                route,
                function: f.name.clone(),
            });
        };
        let kept = &o.versions;
        let not_kept = |version| RollbackError::NotKept {
            route: route.clone(),
            function: f.name.clone(),
            version,
            kept: list(kept),
        };
        let to = match goal {
            Goal::To(v) if kept.contains(&v) => v,
            Goal::To(v) => return Err(not_kept(v)),
            Goal::BeforeLastDeploy => match number(f.previous_version.as_deref()) {
                None => continue,
                Some(v) if kept.contains(&v) => v,
                Some(v) => return Err(not_kept(v)),
            },
            Goal::Back => {
                // From what nextr set last, so a re-run of an interrupted rollback (alias
                // moved, record not yet written) finds it done instead of going further back.
                let recorded = number(f.live_version.as_deref()).filter(|v| kept.contains(v));
                let base = match recorded {
                    Some(r) if r != live && earlier(kept, r) != Some(live) => {
                        plan.warnings.push(format!(
                            "{route} ({}): live serves version {live}, the deploy record says {r}: it was moved outside nextr; rolling back from {live}",
                            f.name
                        ));
                        live
                    }
                    Some(r) => r,
                    None => live,
                };
                earlier(kept, base).ok_or_else(|| RollbackError::NoEarlierVersion {
                    route: route.clone(),
                    function: f.name.clone(),
                    live: base,
                    kept: list(kept),
                })?
            }
        };
        plan.steps.push(Step {
            route,
            function: f.name.clone(),
            from: Some(live),
            to,
        });
    }
    if plan.steps.is_empty() {
        return Err(RollbackError::NothingRecorded);
    }
    plan.warnings.push(SCOPE_NOTE.to_string());
    Ok(plan)
}

/// The newest of `kept` before `version`.
fn earlier(kept: &[u64], version: u64) -> Option<u64> {
    kept.iter().copied().filter(|v| *v < version).max()
}

/// Checks each move against the configurations of the live and the target version
/// (`configs`, by function and version): a failed version is refused, so is another
/// architecture unless the version was named with `--to`; another role is a warning.
pub fn check(
    plan: &mut RollbackPlan,
    configs: &BTreeMap<(String, u64), FunctionConfig>,
    goal: Goal,
) -> Result<(), RollbackError> {
    let mut warnings = Vec::new();
    for s in plan.steps.iter().filter(|s| !s.is_done()) {
        let Some(target) = configs.get(&(s.function.clone(), s.to)) else {
            continue;
        };
        if target.state.as_deref() == Some("Failed") {
            return Err(RollbackError::Failed {
                route: s.route.clone(),
                function: s.function.clone(),
                version: s.to,
            });
        }
        let Some(live) = s.from.and_then(|v| configs.get(&(s.function.clone(), v))) else {
            continue;
        };
        if target.architecture != live.architecture && !matches!(goal, Goal::To(_)) {
            return Err(RollbackError::Architecture {
                route: s.route.clone(),
                function: s.function.clone(),
                version: s.to,
                theirs: target.architecture.clone(),
                ours: live.architecture.clone(),
            });
        }
        if target.role != live.role {
            warnings.push(format!(
                "{} ({}): version {} runs as {}, live as {}: that role must still exist and allow what the old code does",
                s.route,
                s.function,
                s.to,
                target.role.as_deref().unwrap_or("no role"),
                live.role.as_deref().unwrap_or("no role"),
            ));
        }
    }
    plan.warnings.splice(0..0, warnings);
    Ok(())
}

/// Reads the configuration of the versions the plan moves between, for [`check`].
pub async fn read_versions(
    clients: &AwsClients,
    plan: &RollbackPlan,
) -> Result<BTreeMap<(String, u64), FunctionConfig>, DeployError> {
    let mut configs = BTreeMap::new();
    for s in plan.steps.iter().filter(|s| !s.is_done()) {
        for v in s.from.into_iter().chain([s.to]) {
            let out = clients
                .lambda
                .get_function_configuration()
                .function_name(&s.function)
                .qualifier(v.to_string())
                .send()
                .await
                .map_err(|e| {
                    DeployError::aws(
                        "reading",
                        format!("version {v} of {}", s.function),
                        AwsFailure::of(&e),
                    )
                })?;
            configs.insert((s.function.clone(), v), function_config!(&out));
        }
    }
    Ok(configs)
}

/// Points each function's `live` alias at its target; steps already done are skipped.
/// Returns the steps it moved.
pub async fn apply(clients: &AwsClients, plan: &RollbackPlan) -> Result<Vec<Step>, DeployError> {
    let mut moved = Vec::new();
    for s in plan.steps.iter().filter(|s| !s.is_done()) {
        update_alias(clients, &s.function, &s.to.to_string()).await?;
        moved.push(s.clone());
    }
    Ok(moved)
}

/// What `nextr status` says of a function's versions: `live 6 (rolled back from 7; latest 7;
/// kept 4, 5, 7)`, or `live 7 (latest; kept 5, 6)`; `versions` oldest first.
pub fn versions_line(
    live: Option<u64>,
    versions: &[u64],
    rolled_back_from: Option<&str>,
) -> String {
    let Some(live) = live else {
        return "no live alias".to_string();
    };
    let mut notes = Vec::new();
    if let Some(from) = rolled_back_from {
        notes.push(format!("rolled back from {from}"));
    }
    match versions.iter().max() {
        Some(latest) if *latest == live => notes.push("latest".to_string()),
        Some(latest) => notes.push(format!("latest {latest}")),
        None => {}
    }
    let kept: Vec<u64> = versions.iter().copied().filter(|v| *v != live).collect();
    notes.push(format!("kept {}", list(&kept)));
    format!("live {live} ({})", notes.join("; "))
}

/// The rollbacks a deploy is about to undo, one line per function: `/api/x (fn): live was
/// rolled back from 7 to 6`.
pub fn undone_by_deploy(record: &DeployRecord) -> Vec<String> {
    record
        .functions
        .iter()
        .filter_map(|f| {
            Some(format!(
                "{} ({}): live was rolled back from {} to {}",
                label(f),
                f.name,
                f.rolled_back_from.as_deref()?,
                f.live_version.as_deref().unwrap_or("none")
            ))
        })
        .collect()
}

#[cfg(test)]
#[path = "rollback_tests.rs"]
mod tests;
