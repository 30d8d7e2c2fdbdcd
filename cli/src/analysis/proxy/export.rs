//! The proxy file's function: `pub async fn proxy` in `proxy.rs`, `pub async fn middleware`
//! in `middleware.rs`. Next refuses a file without it ("Proxy is missing expected function
//! export name"), including a `proxy.js` that still exports `middleware`; a Rust file has no
//! default export, so the named function is the only form. Its parameters and return type are
//! the compiler's to check (the generated `main` wraps it with `proxy_handler!`).

use syn::{Item, ItemFn};

use super::super::diagnostic::{Problem, RouteDiagnostic, SourceFile};
use super::super::handler::{is_public, other_item};
use crate::project::ProxyConvention;

/// Checks that the file defines its convention's function, public and async.
pub(super) fn check(
    file: &SourceFile,
    convention: ProxyConvention,
    items: &[Item],
    out: &mut Vec<RouteDiagnostic>,
) {
    let name = convention.function();
    let missing = || Problem::ProxyMissingExport {
        title: convention.title(),
    };
    let signature = format!("pub async fn {name}(req: NextRequest) -> NextResponse");
    if let Some(f) = function_named(items, name) {
        let sig = &f.sig;
        if !is_public(&f.vis) {
            let span = sig
                .fn_token
                .span
                .join(sig.ident.span())
                .unwrap_or(sig.ident.span());
            out.push(
                RouteDiagnostic::at(file, missing(), file.range(span), "not public").with_help(
                    format!(
                        "write `pub async fn {name}`: every function's generated `main` calls it"
                    ),
                ),
            );
        }
        if sig.asyncness.is_none() {
            out.push(
                RouteDiagnostic::at(
                    file,
                    Problem::ProxyNotAsync { name },
                    file.range(sig.fn_token.span),
                    "expected `async fn`",
                )
                .with_help(format!("write `pub async fn {name}`")),
            );
        }
        return;
    }
    if let Some((what, span)) = items.iter().find_map(|i| other_item(i, name)) {
        out.push(
            RouteDiagnostic::at(
                file,
                missing(),
                file.range(span),
                format!("this `{name}` is {what}"),
            )
            .with_help(format!("define the function in this file:\n{signature}")),
        );
        return;
    }
    let (other, label, help) = match convention {
        ProxyConvention::Proxy => (
            ProxyConvention::Middleware,
            "the deprecated convention's name",
            "you are migrating from `middleware` to `proxy`, but haven't updated the exported function: rename it to `proxy`".to_owned(),
        ),
        ProxyConvention::Middleware => (
            ProxyConvention::Proxy,
            "the `proxy` convention's name",
            "middleware.rs defines `middleware`: rename the function, or rename the file to proxy.rs (the \"middleware\" file convention is deprecated)".to_owned(),
        ),
    };
    if let Some(f) = function_named(items, other.function()) {
        out.push(
            RouteDiagnostic::at(file, missing(), file.range(f.sig.ident.span()), label)
                .with_help(help),
        );
        return;
    }
    out.push(
        RouteDiagnostic::at(file, missing(), 0..0, "expected in this file").with_help(format!(
            "{} runs this function for every request its matcher covers:\n{signature}",
            convention.file()
        )),
    );
}

/// The top-level function named `name`.
fn function_named<'a>(items: &'a [Item], name: &str) -> Option<&'a ItemFn> {
    items.iter().find_map(|item| match item {
        Item::Fn(f) if f.sig.ident == name => Some(f),
        _ => None,
    })
}
