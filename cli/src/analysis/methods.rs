//! The method functions of an App Router route file (`app/**/route.rs`): one
//! `pub async fn get|head|post|put|delete|patch|options` per method it serves (Next's exported
//! `GET`, `POST`, …, named in lower case as Rust functions are), taking nothing, a
//! `NextRequest`, or a `NextRequest` and a `RouteContext`, and returning `Response` or
//! `Result<Response, E>`.
//!
//! As for a Pages `handler`, types are recognised by their last path segment after the file's
//! renames and aliases; the compiler has the last word, this check gives the common mistakes a
//! pointed message before a long build.

use std::collections::HashMap;

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{FnArg, Item, ItemFn, ReturnType, Type};

use super::diagnostic::{Problem, RouteDiagnostic, SourceFile};
use super::handler::{aliases, is_public, last_segment, only_lifetimes, strip, Alias};

/// An HTTP method an App route file may define a function for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    /// `get`.
    Get,
    /// `head`.
    Head,
    /// `post`.
    Post,
    /// `put`.
    Put,
    /// `delete`.
    Delete,
    /// `patch`.
    Patch,
    /// `options`.
    Options,
}

impl Method {
    /// Every method, in the order messages list them.
    pub const ALL: [Method; 7] = [
        Method::Get,
        Method::Head,
        Method::Post,
        Method::Put,
        Method::Delete,
        Method::Patch,
        Method::Options,
    ];

    /// The function's name, which is also the field of `nextr::app::AppHandlers`.
    pub fn name(self) -> &'static str {
        match self {
            Method::Get => "get",
            Method::Head => "head",
            Method::Post => "post",
            Method::Put => "put",
            Method::Delete => "delete",
            Method::Patch => "patch",
            Method::Options => "options",
        }
    }

    /// The method a function name stands for, spelt exactly (`get`, not `GET`).
    pub fn from_name(name: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// Which arguments a method function takes: decides the form of `app_handler!` that wraps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Arity {
    /// `fn get()`: `app_handler!(route::get, none)`.
    None,
    /// `fn get(req: NextRequest)`: `app_handler!(route::get, req)`.
    Request,
    /// `fn get(req: NextRequest, ctx: RouteContext)`: `app_handler!(route::get)`.
    RequestContext,
}

/// One method function of a route file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MethodFn {
    /// The method it serves.
    pub method: Method,
    /// The arguments it takes.
    pub arity: Arity,
}

/// Whether a route file with these methods is prerendered at build when its config asks for
/// it: Next prerenders a route handler only when it exports GET alone (§8 of the spec: with
/// another method, `force-static` is silently ignored).
pub fn get_only(methods: &[MethodFn]) -> bool {
    matches!(
        methods,
        [MethodFn {
            method: Method::Get,
            ..
        }]
    )
}

const REQUEST: &str = "NextRequest";
const CONTEXT: &str = "RouteContext";

/// The signature to show in help texts.
pub const EXPECTED: &str = "pub async fn get(req: NextRequest, ctx: RouteContext) -> Response";

/// The seven names as a list for messages: "`get`, `head`, …, `options`".
fn names() -> String {
    Method::ALL.map(|m| format!("`{}`", m.name())).join(", ")
}

/// A top-level function named like a method in any case (`get`, `GET`, `Post`): what a Pages
/// file without a `handler` may hold by mistake.
pub fn method_named(items: &[Item]) -> Option<(&'static str, Span)> {
    items.iter().find_map(|item| match item {
        Item::Fn(f) => Method::from_name(&f.sig.ident.to_string().to_ascii_lowercase())
            .map(|m| (m.name(), f.sig.ident.span())),
        _ => None,
    })
}

/// The method a near name probably meant: a case or one-letter slip (`gett`), or a word
/// people use for it (`fetch`, `create`, `update`, `remove`).
fn near(name: &str) -> Option<Method> {
    let lower = name.to_ascii_lowercase();
    let synonym = match lower.as_str() {
        "fetch" | "read" | "show" | "list" | "index" => Some(Method::Get),
        "create" | "add" | "submit" => Some(Method::Post),
        "update" | "replace" | "upsert" => Some(Method::Put),
        "remove" | "destroy" | "del" => Some(Method::Delete),
        _ => None,
    };
    synonym.or_else(|| {
        Method::ALL
            .into_iter()
            .find(|m| lower.len() >= 3 && strsim::osa_distance(&lower, m.name()) <= 1)
    })
}

/// Checks the method functions of a parsed App route file, pushing every problem found, and
/// returns those the generated `main` can wrap.
pub fn check(file: &SourceFile, items: &[Item], out: &mut Vec<RouteDiagnostic>) -> Vec<MethodFn> {
    let aliases = aliases(items);
    let mut found = Vec::new();
    // A method-like function, valid or not: no "no methods" report on top of its own.
    let mut attempted = false;
    let mut near_miss: Option<(Method, Span)> = None;
    let mut pages_handler: Option<Span> = None;
    for item in items {
        let Item::Fn(f) = item else { continue };
        let name = f.sig.ident.to_string();
        if let Some(method) = Method::from_name(&name) {
            attempted = true;
            if let Some(arity) = check_fn(file, f, method, &aliases, out) {
                found.push(MethodFn { method, arity });
            }
        } else if let Some(method) = Method::from_name(&name.to_ascii_lowercase()) {
            attempted = true;
            out.push(
                RouteDiagnostic::at(
                    file,
                    Problem::MethodCase {
                        found: name.clone(),
                        expected: method.name(),
                    },
                    file.range(f.sig.ident.span()),
                    format!("Next's `{name}`"),
                )
                .with_help(format!("write `pub async fn {}`", method.name())),
            );
        } else if name == "handler" {
            // A helper the methods share may be called `handler`; only a file without
            // method functions is told it looks like a Pages file (below).
            pages_handler = Some(f.sig.ident.span());
        } else if near_miss.is_none() {
            near_miss = near(&name).map(|m| (m, f.sig.ident.span()));
        }
    }
    if let Some(span) = pages_handler.filter(|_| !attempted) {
        out.push(
            RouteDiagnostic::at(
                file,
                Problem::PagesHandlerInApp,
                file.range(span),
                "a Pages Router handler",
            )
            .with_help(format!(
                "define one function per method instead ({}), e.g.\n{EXPECTED}\nor move the file to `api/…` to keep `handler(req, res)`",
                names()
            )),
        );
        return found;
    }
    if !attempted {
        let help = format!(
            "an App Router route file defines one or more of {}:\n{EXPECTED}",
            names()
        );
        out.push(
            match near_miss {
                Some((method, span)) => RouteDiagnostic::at(
                    file,
                    Problem::NoMethods,
                    file.range(span),
                    format!("did you mean `{}`?", method.name()),
                ),
                None => {
                    RouteDiagnostic::at(file, Problem::NoMethods, 0..0, "expected in this file")
                }
            }
            .with_help(help),
        );
    }
    found.sort_by_key(|m| m.method);
    found
}

/// Checks one method function; its arity when the generated `main` can call it.
fn check_fn(
    file: &SourceFile,
    f: &ItemFn,
    method: Method,
    aliases: &HashMap<String, Alias<'_>>,
    out: &mut Vec<RouteDiagnostic>,
) -> Option<Arity> {
    let sig = &f.sig;
    let name = method.name();
    let mut ok = true;
    if !is_public(&f.vis) {
        ok = false;
        out.push(
            RouteDiagnostic::at(
                file,
                Problem::MethodNotPublic(name),
                file.range(
                    sig.fn_token
                        .span
                        .join(sig.ident.span())
                        .unwrap_or(sig.ident.span()),
                ),
                "not public",
            )
            .with_help(format!("write `pub async fn {name}`")),
        );
    }
    if sig.asyncness.is_none() {
        ok = false;
        out.push(
            RouteDiagnostic::at(
                file,
                Problem::MethodNotAsync(name),
                file.range(sig.fn_token.span),
                "expected `async fn`",
            )
            .with_help(format!("write `pub async fn {name}`")),
        );
    }

    let params: Vec<&FnArg> = sig.inputs.iter().collect();
    let arity = match params.len() {
        0 => Some(Arity::None),
        1 => Some(Arity::Request),
        2 => Some(Arity::RequestContext),
        _ => None,
    };
    if arity.is_none() || sig.variadic.is_some() {
        ok = false;
        let count = params.len() + usize::from(sig.variadic.is_some());
        out.push(
            RouteDiagnostic::at(
                file,
                Problem::MethodArity {
                    method: name,
                    count,
                },
                file.range(sig.paren_token.span.join()),
                format!("{count} parameters"),
            )
            .with_help(format!(
                "a method function takes `()`, `(req: NextRequest)` or `(req: NextRequest, ctx: RouteContext)`:\n{EXPECTED}"
            )),
        );
    } else {
        for (i, (arg, expected)) in params.iter().zip([REQUEST, CONTEXT]).enumerate() {
            let matches = match arg {
                FnArg::Typed(t) => is_named(&t.ty, expected, aliases),
                FnArg::Receiver(_) => false,
            };
            if !matches {
                ok = false;
                out.push(
                    RouteDiagnostic::at(
                        file,
                        Problem::MethodParam {
                            method: name,
                            position: i + 1,
                            expected,
                            found: file.slice(arg.span()).to_owned(),
                        },
                        file.range(arg.span()),
                        format!("expected `{expected}`"),
                    )
                    .with_help(format!("the method function's signature is:\n{EXPECTED}")),
                );
            }
        }
    }

    let unit = match &sig.output {
        ReturnType::Default => Some(("nothing".to_owned(), sig.paren_token.span.close())),
        ReturnType::Type(_, ty) => match strip(ty) {
            Type::Tuple(t) if t.elems.is_empty() => Some(("`()`".to_owned(), ty.span())),
            _ => None,
        },
    };
    if let Some((found, span)) = unit {
        ok = false;
        out.push(
            RouteDiagnostic::at(
                file,
                Problem::MethodReturn {
                    method: name,
                    found,
                },
                file.range(span),
                "expected `-> Response` here",
            )
            .with_help(
                "return `Response` (`Response::json(&value)`, `Response::text(\"…\")`) or `Result<Response, E>`",
            ),
        );
    }
    ok.then_some(arity).flatten()
}

/// A by-value type whose last segment is `name` (after renames), with no type arguments.
fn is_named(ty: &Type, name: &str, aliases: &HashMap<String, Alias<'_>>) -> bool {
    matches!(last_segment(ty, aliases, 0), Some((n, args)) if n == name && only_lifetimes(args))
}
