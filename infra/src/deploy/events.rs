//! Reading a deployed app's logs (`nextr logs`): which log groups a route names, and their
//! events through CloudWatch Logs' `FilterLogEvents`, merged in time order.

use std::collections::BTreeSet;
use std::time::{Duration, UNIX_EPOCH};

use nextr::manifest::Manifest;

use super::failure::AwsFailure;
use super::logs::function_log_group;
use super::{AwsClients, DeployError, Target};
use crate::gateway::http_api::DEFAULT_ROUTE;

/// One function's log group, with the route it serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSource {
    /// The route as people name it: its page, or `$default` for the fallback.
    pub route: String,
    /// The deployed function's name.
    pub function: String,
    /// Its log group.
    pub group: String,
}

/// One log event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEvent {
    /// Milliseconds since the epoch.
    pub timestamp: i64,
    /// The route of the function that wrote it.
    pub route: String,
    /// The message, without its trailing newline.
    pub message: String,
    /// CloudWatch's id of the event, to tell events of one millisecond apart.
    pub id: String,
}

impl LogEvent {
    /// `2025-01-02T03:04:05.678Z [/api/hello] message`.
    pub fn line(&self) -> String {
        let at = UNIX_EPOCH + Duration::from_millis(u64::try_from(self.timestamp).unwrap_or(0));
        format!(
            "{} [{}] {}",
            crate::ids::Utc::from_system(at).iso(),
            self.route,
            self.message
        )
    }
}

/// Why `nextr logs` cannot name log groups for a route.
#[derive(Debug, thiserror::Error)]
#[error("no route `{route}` in the build's manifest: name a page (`{example}`), a route file, `$default`, or a function name; `nextr routes` lists the app's routes")]
pub struct UnknownRoute {
    /// What was asked for.
    pub route: String,
    /// A page of the app, for the message.
    pub example: String,
}

/// The log groups of `route` in `target`'s stage: a page (`/api/x`), a route file
/// (`api/x.rs`), `$default`, or a function name (the manifest's or the deployed one); every
/// function's when `route` is `None`.
pub fn sources(
    manifest: &Manifest,
    target: &Target,
    route: Option<&str>,
) -> Result<Vec<LogSource>, UnknownRoute> {
    let mut all: Vec<(String, Option<&str>, &str)> = manifest
        .routes
        .iter()
        .filter_map(|r| {
            let f = r.function.as_ref()?;
            Some((r.page.clone(), Some(r.file.as_str()), f.name.as_str()))
        })
        .collect();
    all.push((
        DEFAULT_ROUTE.to_owned(),
        None,
        manifest.fallback.name.as_str(),
    ));
    let source = |(page, _, name): &(String, Option<&str>, &str)| {
        let function = target.function_name(name);
        LogSource {
            route: page.clone(),
            group: function_log_group(&function),
            function,
        }
    };
    let Some(route) = route else {
        return Ok(all.iter().map(source).collect());
    };
    let found = all.iter().find(|(page, file, name)| {
        page == route
            || *file == Some(route)
            || *name == route
            || target.function_name(name) == route
    });
    match found {
        Some(entry) => Ok(vec![source(entry)]),
        None => Err(UnknownRoute {
            route: route.to_owned(),
            example: manifest
                .routes
                .first()
                .map_or_else(|| "/api/hello".to_owned(), |r| r.page.clone()),
        }),
    }
}

/// The events of `sources` from `start_ms` on (milliseconds since the epoch), oldest first;
/// events whose id is in `seen` are left out (a poll of `--follow` starts at the last
/// event's millisecond). A log group that does not exist is an error naming the route (deploy
/// creates every one).
pub async fn read(
    clients: &AwsClients,
    sources: &[LogSource],
    start_ms: i64,
    seen: &BTreeSet<String>,
) -> Result<Vec<LogEvent>, DeployError> {
    let mut events = Vec::new();
    for s in sources {
        let mut token: Option<String> = None;
        loop {
            let out = clients
                .logs
                .filter_log_events()
                .log_group_name(&s.group)
                .start_time(start_ms)
                .set_next_token(token.take())
                .send()
                .await;
            let out = match out {
                Ok(out) => out,
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|e| e.is_resource_not_found_exception()) =>
                {
                    return Err(DeployError::NoLogGroup {
                        route: s.route.clone(),
                        group: s.group.clone(),
                    })
                }
                Err(e) => {
                    return Err(DeployError::aws(
                        "reading",
                        format!("log group {} ({})", s.group, s.route),
                        AwsFailure::of(&e),
                    ))
                }
            };
            for e in out.events() {
                let id = e.event_id().unwrap_or_default().to_owned();
                if seen.contains(&id) {
                    continue;
                }
                events.push(LogEvent {
                    timestamp: e.timestamp().unwrap_or_default(),
                    route: s.route.clone(),
                    message: e.message().unwrap_or_default().trim_end().to_owned(),
                    id,
                });
            }
            match out.next_token() {
                Some(next) if !next.is_empty() => token = Some(next.to_owned()),
                _ => break,
            }
        }
    }
    events.sort_by(|a, b| (a.timestamp, &a.id).cmp(&(b.timestamp, &b.id)));
    Ok(events)
}
