//! Function URLs: one on the `live` alias of each function whose route asks for one, always
//! `InvokeMode: RESPONSE_STREAM`, with the two public statements when `AuthType` is `NONE`.
//! Removed (URL and statements) when the manifest drops it.

use nextr::manifest::FunctionUrlAuth;

use super::Action;
use crate::deploy::desired::DesiredFunction;
use crate::deploy::rest::URL_PERMISSION_SIDS;
use crate::deploy::state::ObservedFunction;

/// Lambda's name of the invoke mode every nextr function URL has.
pub const RESPONSE_STREAM: &str = "RESPONSE_STREAM";

/// The function's chain actions (after its alias exists): create or fix the URL, add the
/// public statements.
pub(super) fn plan(
    f: &DesiredFunction,
    existing: Option<&ObservedFunction>,
    actions: &mut Vec<Action>,
) {
    let Some(auth) = f.function_url else {
        return;
    };
    let function = f.name.clone();
    match existing.and_then(|o| o.url.as_ref()) {
        None => actions.push(Action::CreateFunctionUrl {
            function: function.clone(),
            auth,
        }),
        Some(u)
            if u.auth_type != auth.aws_name()
                // A server that does not report the mode is trusted to keep the one set.
                || u.invoke_mode.as_deref().is_some_and(|m| m != RESPONSE_STREAM) =>
        {
            actions.push(Action::UpdateFunctionUrl {
                function: function.clone(),
                auth,
            })
        }
        Some(_) => {}
    }
    let has_all = URL_PERMISSION_SIDS
        .iter()
        .all(|sid| existing.is_some_and(|o| o.url_statements.contains(*sid)));
    if auth == FunctionUrlAuth::None && !has_all {
        actions.push(Action::AddUrlPermissions { function });
    }
}

/// Deletions after everything else: the URL the manifest dropped, and public statements a
/// URL no longer needs (dropped, or now `AWS_IAM`).
pub(super) fn cleanup(
    f: &DesiredFunction,
    existing: Option<&ObservedFunction>,
    actions: &mut Vec<Action>,
) {
    let Some(o) = existing else {
        return;
    };
    if f.function_url.is_none() && o.url.is_some() {
        actions.push(Action::DeleteFunctionUrl {
            function: f.name.clone(),
        });
    }
    if f.function_url != Some(FunctionUrlAuth::None) {
        for sid in &o.url_statements {
            actions.push(Action::RemovePermission {
                function: f.name.clone(),
                sid: sid.clone(),
            });
        }
    }
}
