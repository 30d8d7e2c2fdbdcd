//! Each function: its `$LATEST` code and configuration, the version published from it, and
//! the `live` alias that API Gateway invokes.

use super::Action;
use crate::deploy::desired::{Desired, DesiredFunction, FunctionSpec, RoleChoice};
use crate::deploy::state::{FunctionConfig, Observed, ObservedFunction};

/// Configuration fields of `$LATEST` that differ from the spec (architecture goes with the
/// code, so it is compared there).
pub fn config_diff(
    spec: &FunctionSpec,
    role: &RoleChoice,
    c: &FunctionConfig,
) -> Vec<&'static str> {
    let mut fields = Vec::new();
    if c.runtime.as_deref() != Some(spec.runtime.as_str()) {
        fields.push("runtime");
    }
    if c.handler.as_deref() != Some(spec.handler.as_str()) {
        fields.push("handler");
    }
    if c.timeout_s != i32::try_from(spec.timeout_s).ok() {
        fields.push("timeout");
    }
    if c.memory_mb != i32::try_from(spec.memory_mb).ok() {
        fields.push("memory");
    }
    if !c.role.as_deref().is_some_and(|r| role.matches(r)) {
        fields.push("role");
    }
    if c.env != spec.env {
        fields.push("environment");
    }
    if c.description != spec.description {
        fields.push("description");
    }
    fields
}

/// A role ARN's name (`arn:aws:iam::1:role/nextr/shop/prod/x` → `x`).
fn role_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

fn arch(spec: &FunctionSpec) -> &'static str {
    spec.architecture.as_str()
}

/// Whether a published version runs exactly what the manifest asks for (the description is
/// metadata and does not count).
pub fn version_matches(f: &DesiredFunction, role: &RoleChoice, v: &FunctionConfig) -> bool {
    v.code_sha256.as_deref() == Some(f.code_sha256.as_str())
        && v.architecture == arch(&f.spec)
        && config_diff(&f.spec, role, v)
            .iter()
            .all(|field| *field == "description")
}

/// A function's own actions: create it, or update its configuration and code, publish and
/// re-point the alias as needed. Returns whether its `live` alias exists already.
pub(super) fn plan(
    desired: &Desired,
    f: &DesiredFunction,
    existing: Option<&ObservedFunction>,
    actions: &mut Vec<Action>,
) -> bool {
    let function = f.name.clone();
    match existing {
        None => {
            actions.push(Action::CreateFunction {
                function: function.clone(),
            });
            actions.push(Action::PublishVersion {
                function: function.clone(),
            });
            actions.push(Action::CreateAlias {
                function: function.clone(),
            });
            false
        }
        Some(o) => {
            let role = desired.role_of(f);
            let fields = config_diff(&f.spec, &role, &o.latest);
            let config_changed = !fields.is_empty();
            if config_changed {
                let moves = fields.contains(&"role").then(|| {
                    let from = o.latest.role.as_deref().map_or("none", role_name);
                    let to = match &role {
                        RoleChoice::Managed { name } => name.clone(),
                        RoleChoice::External { arn } => arn.clone(),
                    };
                    (from.to_owned(), to)
                });
                actions.push(Action::UpdateFunctionConfiguration {
                    function: function.clone(),
                    fields,
                    role: moves,
                });
            }
            let arch_changed = o.latest.architecture != arch(&f.spec);
            let code_changed =
                o.latest.code_sha256.as_deref() != Some(f.code_sha256.as_str()) || arch_changed;
            if code_changed {
                actions.push(Action::UpdateFunctionCode {
                    function: function.clone(),
                    from: o.latest.code_sha256.clone(),
                    to: f.code_sha256.clone(),
                    architecture: arch_changed
                        .then(|| (o.latest.architecture.clone(), arch(&f.spec).to_owned())),
                });
            }
            let live_ok = o
                .live
                .as_ref()
                .is_some_and(|v| version_matches(f, &role, v));
            // A version is published whenever the live one is not what the manifest
            // asks for, even if `$LATEST` already is: that is the state an interrupted
            // deploy leaves behind.
            let publish = config_changed || code_changed || !live_ok;
            if publish {
                actions.push(Action::PublishVersion {
                    function: function.clone(),
                });
            }
            match &o.live {
                None => actions.push(Action::CreateAlias {
                    function: function.clone(),
                }),
                Some(v) if publish => actions.push(Action::UpdateAlias {
                    function: function.clone(),
                    from: v.version.clone(),
                }),
                Some(_) => {}
            }
            let live = o
                .live
                .as_ref()
                .and_then(|v| v.version.as_deref()?.parse().ok());
            let old = old_versions(&o.versions, live, publish, desired.keep_versions);
            if !old.is_empty() {
                actions.push(Action::DeleteVersions {
                    function: function.clone(),
                    versions: old,
                });
            }
            o.live.is_some()
        }
    }
}

/// The versions to delete: all but the live one (or, when a version is about to be
/// published, the one that becomes live) and the `keep` newest before it; never the version
/// the alias points to now.
pub fn old_versions(versions: &[u64], live: Option<u64>, publish: bool, keep: u32) -> Vec<u64> {
    let keep = usize::try_from(keep).unwrap_or(usize::MAX);
    let mut newest_first: Vec<u64> = versions.to_vec();
    newest_first.sort_unstable_by(|a, b| b.cmp(a));
    // Publishing adds the new live version on top: the existing ones all count as previous.
    let kept = if publish {
        keep
    } else {
        keep.saturating_add(1)
    };
    newest_first
        .into_iter()
        .skip(kept)
        .filter(|v| Some(*v) != live)
        .rev()
        .collect()
}

/// Deletes the functions the manifest no longer has.
pub(super) fn delete_strays(desired: &Desired, observed: &Observed, actions: &mut Vec<Action>) {
    for name in observed.functions.keys() {
        if desired.function(name).is_none() {
            actions.push(Action::DeleteFunction {
                function: name.clone(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::old_versions;

    #[test]
    fn the_live_version_and_the_previous_ones_are_kept() {
        let all: Vec<u64> = (1..=10).collect();
        // Live is 10, nothing new: keep 10 and the 3 before it.
        assert_eq!(old_versions(&all, Some(10), false, 3), [1, 2, 3, 4, 5, 6]);
        // A new version becomes live: the 3 newest existing ones are the previous ones.
        assert_eq!(old_versions(&all, Some(10), true, 3), [1, 2, 3, 4, 5, 6, 7]);
        // Never the version the alias points to, wherever it is.
        assert_eq!(old_versions(&all, Some(2), false, 1), [1, 3, 4, 5, 6, 7, 8]);
        assert_eq!(old_versions(&all, Some(10), false, 100), Vec::<u64>::new());
        assert_eq!(old_versions(&[], None, true, 0), Vec::<u64>::new());
        assert_eq!(old_versions(&[1, 2], None, true, 0), [1, 2]);
    }
}
