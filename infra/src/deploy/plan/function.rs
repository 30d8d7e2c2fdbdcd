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
            let fields = config_diff(&f.spec, &desired.role, &o.latest);
            let config_changed = !fields.is_empty();
            if config_changed {
                actions.push(Action::UpdateFunctionConfiguration {
                    function: function.clone(),
                    fields,
                });
            }
            let code_changed = o.latest.code_sha256.as_deref() != Some(f.code_sha256.as_str())
                || o.latest.architecture != arch(&f.spec);
            if code_changed {
                actions.push(Action::UpdateFunctionCode {
                    function: function.clone(),
                    from: o.latest.code_sha256.clone(),
                    to: f.code_sha256.clone(),
                });
            }
            let live_ok = o
                .live
                .as_ref()
                .is_some_and(|v| version_matches(f, &desired.role, v));
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
            o.live.is_some()
        }
    }
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
