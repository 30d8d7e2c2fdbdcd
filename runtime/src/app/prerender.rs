//! Static App Router routes (`dynamic = "force-static"` or `"error"`, `revalidate`): Next runs
//! a GET-only file's handler once at build with a synthetic request and serves that response
//! for ever after. nextr does the same in two steps: `nextr build` runs the route's `bootstrap`
//! with [`PRERENDER_OUT_ENV`] set ([`prerender`] writes the response as JSON), ships the file as
//! [`PRERENDERED_FILE`] beside it, and the function serves it ([`load`], [`Prerendered`]).

use std::path::{Path, PathBuf};

use base64::Engine as _;
use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, ALLOW, CACHE_CONTROL};
use http::{HeaderMap, Method};
use serde::{Deserialize, Serialize};

use super::dispatch::{deliver, synthetic};
use super::handler::AppRoute;
use super::request::StaticBailout;
use super::RouteContext;
use crate::config::{Dynamic, Revalidate, RouteConfig};
use crate::dispatch::{Outgoing, RouteSpec};
use crate::manifest::{PRERENDERED_FILE, PRERENDER_OUT_ENV};
use crate::routing::RoutePattern;
use crate::util::CatchUnwind;

/// The host of Next's synthetic build-time request (`http://localhost:3000/<route>`).
pub(crate) const SYNTHETIC_HOST: &str = "localhost:3000";

/// Next's `INFINITE_CACHE`: one year, the `s-maxage` of a response cached for ever, and the
/// horizon `stale-while-revalidate` counts to.
const INFINITE_CACHE_S: u32 = 31_536_000;

/// How a route file's `dynamic` shapes the request its handlers get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StaticMode {
    /// The real request (the default, `auto`, `force-dynamic`).
    Dynamic,
    /// `force-static`: the synthetic request, also when the file is not prerendered.
    ForceStatic,
    /// `error`: reading the request fails the route.
    Error,
}

impl StaticMode {
    /// The mode a route's config asks for.
    pub(crate) fn of(config: &RouteConfig) -> Self {
        match config.dynamic {
            Some(Dynamic::ForceStatic) => StaticMode::ForceStatic,
            Some(Dynamic::Error) => StaticMode::Error,
            _ => StaticMode::Dynamic,
        }
    }
}

/// Whether a route file is prerendered: its config opts in and it exports only `get`.
pub(crate) fn prerenders(config: &RouteConfig, route: &AppRoute) -> bool {
    let h = &route.handlers;
    let others = [h.head, h.post, h.put, h.delete, h.patch, h.options];
    config.prerenders() && h.get.is_some() && others.iter().all(Option::is_none)
}

/// The prerendered response as `nextr build` stores it ([`PRERENDERED_FILE`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrerenderedFile {
    /// The status.
    pub status: u16,
    /// The headers in order, one pair per line.
    pub headers: Vec<(String, String)>,
    /// The body, base64.
    pub body_base64: String,
}

/// Why a route could not be prerendered or its prerendered response served (the route is in
/// `page`; the Lambda entry point's message names it first).
#[derive(Debug, thiserror::Error)]
pub enum PrerenderError {
    /// A dynamic pattern has no single response to prerender.
    #[error("a dynamic route cannot be prerendered (Next needs `generateStaticParams`, which nextr does not support); remove `dynamic`/`revalidate` from its config")]
    DynamicPattern {
        /// The route.
        page: &'static str,
    },
    /// The bootstrap was asked to prerender a route that is not static.
    #[error("not a prerendered route: it needs `dynamic = \"force-static\"` or `\"error\"`, or `revalidate`, and a `get` function and no other method")]
    NotStatic {
        /// The route.
        page: &'static str,
    },
    /// The GET handler failed, or read the request of a `dynamic = "error"` route.
    #[error("prerendering failed: {message}")]
    Handler {
        /// The route.
        page: &'static str,
        /// Why (Next's message for a `dynamic = "error"` route).
        message: String,
    },
    /// The output file could not be written.
    #[error("cannot write the prerendered response to {}: {source}", path.display())]
    Write {
        /// The route.
        page: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The bundle's prerendered response is missing or invalid.
    #[error("cannot read the prerendered response {}: {reason}; run `nextr build`", path.display())]
    Missing {
        /// The route.
        page: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// The prerendered response a static route serves, with Next's cache headers.
#[derive(Debug)]
pub(crate) struct Prerendered {
    out: Outgoing,
}

impl Prerendered {
    /// The stored response plus `x-nextjs-cache: HIT` and the `cache-control` of the config.
    pub(crate) fn new(file: &PrerenderedFile, config: &RouteConfig) -> Result<Self, String> {
        let mut headers = HeaderMap::new();
        for (name, value) in &file.headers {
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| e.to_string())?;
            let value = HeaderValue::from_str(value).map_err(|e| e.to_string())?;
            headers.append(name, value);
        }
        headers.insert(
            HeaderName::from_static("x-nextjs-cache"),
            HeaderValue::from_static("HIT"),
        );
        let cache = HeaderValue::from_str(&cache_control(config)).map_err(|e| e.to_string())?;
        headers.insert(CACHE_CONTROL, cache);
        let body = base64::engine::general_purpose::STANDARD
            .decode(&file.body_base64)
            .map_err(|e| e.to_string())?;
        if !(100..=999).contains(&file.status) {
            return Err(format!("invalid status {}", file.status));
        }
        Ok(Prerendered {
            out: Outgoing {
                status: file.status,
                headers,
                body: Bytes::from(body),
            },
        })
    }

    /// GET and HEAD get the prerendered response; any other method Next's prerendered 405:
    /// body `Method Not Allowed`, and `Allow: GET` and `Allow: HEAD` as two lines.
    pub(crate) fn answer(&self, method: &Method) -> Outgoing {
        if method == Method::GET || method == Method::HEAD {
            return self.out.clone();
        }
        let mut headers = HeaderMap::new();
        headers.append(ALLOW, HeaderValue::from_static("GET"));
        headers.append(ALLOW, HeaderValue::from_static("HEAD"));
        Outgoing {
            status: 405,
            headers,
            body: Bytes::from_static(b"Method Not Allowed"),
        }
    }
}

/// Next's `cache-control` of a prerendered route: `s-maxage=31536000` when it is never
/// revalidated, `s-maxage=N, stale-while-revalidate=<31536000 - N>` for `revalidate = N`.
pub(crate) fn cache_control(config: &RouteConfig) -> String {
    match config.revalidate {
        Some(Revalidate::Seconds(n)) if n > 0 => format!(
            "s-maxage={n}, stale-while-revalidate={}",
            INFINITE_CACHE_S.saturating_sub(n)
        ),
        _ => format!("s-maxage={INFINITE_CACHE_S}"),
    }
}

/// Runs the GET handler once with Next's synthetic request and returns its response.
pub async fn prerender(
    spec: &RouteSpec,
    route: &AppRoute,
) -> Result<PrerenderedFile, PrerenderError> {
    let page = spec.page;
    let is_dynamic = RoutePattern::parse(page).map_or(true, |p| p.is_dynamic());
    if is_dynamic {
        return Err(PrerenderError::DynamicPattern { page });
    }
    let get = match route.handlers.get {
        Some(get) if prerenders(&spec.config, route) => get,
        _ => return Err(PrerenderError::NotStatic { page }),
    };
    let failed = |message: String| PrerenderError::Handler { page, message };
    let mut req = synthetic(Method::GET, page, Bytes::new());
    let bailout =
        (StaticMode::of(&spec.config) == StaticMode::Error).then(|| StaticBailout::new(page));
    req.bailout = bailout.clone();
    req.next_url.bailout = bailout.clone();
    let mut logs = Vec::new();
    let run = Box::pin(async {
        let response = get(req, RouteContext::default()).await?;
        Ok::<_, crate::Error>(deliver(response, None, false, &mut logs).await)
    });
    let out = match CatchUnwind(run).await {
        Err(panic) => return Err(failed(format!("the handler panicked: {panic}"))),
        Ok(Err(e)) => return Err(failed(e.to_string())),
        Ok(Ok(Err(e))) => return Err(failed(e.to_string())),
        Ok(Ok(Ok(out))) => out,
    };
    if let Some(message) = bailout.and_then(|b| b.error()) {
        return Err(failed(message));
    }
    for line in logs {
        eprintln!("{line}");
    }
    Ok(PrerenderedFile {
        status: out.status,
        headers: out
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body_base64: base64::engine::general_purpose::STANDARD.encode(&out.body),
    })
}

/// [`PRERENDER_OUT_ENV`]'s path, when the build asks for a prerender.
pub(crate) fn out_path() -> Option<PathBuf> {
    std::env::var_os(PRERENDER_OUT_ENV).map(PathBuf::from)
}

/// Writes the prerendered response to `path` as JSON.
pub(crate) fn write(
    page: &'static str,
    path: &Path,
    file: &PrerenderedFile,
) -> Result<(), PrerenderError> {
    let text = serde_json::to_vec(file).map_err(|e| PrerenderError::Handler {
        page,
        message: e.to_string(),
    })?;
    std::fs::write(path, text).map_err(|source| PrerenderError::Write {
        page,
        path: path.to_owned(),
        source,
    })
}

/// The prerendered response shipped beside the running executable.
pub(crate) fn load(spec: &RouteSpec) -> Result<Prerendered, PrerenderError> {
    let path = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(PRERENDERED_FILE)))
        .unwrap_or_else(|| PathBuf::from(PRERENDERED_FILE));
    load_from(spec, &path)
}

/// [`load`] from a given file.
pub(crate) fn load_from(spec: &RouteSpec, path: &Path) -> Result<Prerendered, PrerenderError> {
    let missing = |reason: String| PrerenderError::Missing {
        page: spec.page,
        path: path.to_owned(),
        reason,
    };
    let text = std::fs::read(path).map_err(|e| missing(e.to_string()))?;
    let file: PrerenderedFile =
        serde_json::from_slice(&text).map_err(|e| missing(e.to_string()))?;
    Prerendered::new(&file, &spec.config).map_err(missing)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Disabled;

    fn config(dynamic: Option<Dynamic>, revalidate: Option<Revalidate>) -> RouteConfig {
        RouteConfig {
            dynamic,
            revalidate,
            ..RouteConfig::default()
        }
    }

    #[test]
    fn cache_control_follows_revalidate() {
        let c = config(Some(Dynamic::ForceStatic), None);
        assert_eq!(cache_control(&c), "s-maxage=31536000");
        let c = config(None, Some(Revalidate::Never(Disabled)));
        assert_eq!(cache_control(&c), "s-maxage=31536000");
        let c = config(None, Some(Revalidate::Seconds(60)));
        assert_eq!(
            cache_control(&c),
            "s-maxage=60, stale-while-revalidate=31535940"
        );
    }

    #[test]
    fn the_prerendered_405_has_two_allow_lines() {
        let file = PrerenderedFile {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body_base64: base64::engine::general_purpose::STANDARD.encode(b"{}"),
        };
        let p = Prerendered::new(&file, &config(Some(Dynamic::ForceStatic), None)).unwrap();
        let get = p.answer(&Method::GET);
        assert_eq!(get.headers["x-nextjs-cache"], "HIT");
        assert_eq!(get.headers[CACHE_CONTROL], "s-maxage=31536000");
        assert_eq!(get.body, "{}");
        let post = p.answer(&Method::POST);
        assert_eq!(post.status, 405);
        let allow: Vec<_> = post.headers.get_all(ALLOW).iter().collect();
        assert_eq!(allow, ["GET", "HEAD"]);
        assert_eq!(post.body, "Method Not Allowed");
    }

    #[test]
    fn a_missing_file_names_the_route_and_the_fix() {
        let spec = RouteSpec {
            page: "/api/c/force-static",
            file: "app/api/c/force-static/route.rs",
            config: config(Some(Dynamic::ForceStatic), None),
        };
        let e = load_from(&spec, Path::new("/nonexistent/prerendered.json")).unwrap_err();
        let text = e.to_string();
        assert!(
            text.starts_with(
                "cannot read the prerendered response /nonexistent/prerendered.json: "
            ),
            "{text}"
        );
        assert!(text.ends_with("run `nextr build`"), "{text}");
        assert!(matches!(
            e,
            PrerenderError::Missing {
                page: "/api/c/force-static",
                ..
            }
        ));
    }
}
