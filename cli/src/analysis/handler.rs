//! The `handler` of a route file: `pub async fn handler(&mut NextApiRequest, &mut
//! NextApiResponse) -> nextr::Result<()>`, or `Result<(), E>` with the app's own error type
//! (`nextr::IntoErrorResponse`, or anything that converts into `nextr::Error`).
//!
//! Types are recognised by their last path segment (`nextr::prelude::NextApiRequest` and
//! `NextApiRequest` alike), after following the file's own `use … as` renames and `type`
//! aliases. The compiler has the last word on what the names resolve to; this check exists so
//! that the common mistakes get a pointed message before a long build.

use std::collections::HashMap;

use syn::spanned::Spanned;
use syn::{
    FnArg, GenericArgument, GenericParam, Item, ItemFn, PathArguments, ReturnType, Type, UseTree,
    Visibility,
};

use super::diagnostic::{Problem, RouteDiagnostic, SourceFile};

const REQUEST: &str = "NextApiRequest";
const RESPONSE: &str = "NextApiResponse";
const RESULT: &str = "Result";

/// The signature to show in help texts.
pub const EXPECTED: &str = "pub async fn handler(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()>";

/// What a local name stands for.
pub(super) enum Alias<'a> {
    /// `use x::NextApiRequest as Req;`: the original last segment.
    Rename(String),
    /// `type Out = nextr::Result<()>;`.
    Type(&'a Type),
}

/// Checks the handler of a parsed route file, pushing every problem found.
pub fn check(file: &SourceFile, items: &[Item], out: &mut Vec<RouteDiagnostic>) {
    let aliases = aliases(items);
    let mut found = None;
    for item in items {
        match item {
            Item::Fn(f) if f.sig.ident == "handler" => {
                found = Some(f);
                break;
            }
            _ => {
                if let Some((what, span)) = other_item(item, "handler") {
                    out.push(
                        RouteDiagnostic::at(
                            file,
                            Problem::HandlerNotFn(what),
                            file.range(span),
                            format!("this `handler` is {what}"),
                        )
                        .with_help(format!("define the handler in this file:\n{EXPECTED}")),
                    );
                    return;
                }
            }
        }
    }
    let Some(f) = found else {
        if let Some((name, span)) = super::methods::method_named(items) {
            out.push(
                RouteDiagnostic::at(
                    file,
                    Problem::MethodsInPages(name),
                    file.range(span),
                    "an App Router method function",
                )
                .with_help(format!(
                    "a Pages Router file (`api/**.rs`) defines one handler:\n{EXPECTED}\nor move the file to `app/<path>/route.rs` to keep method functions"
                )),
            );
            return;
        }
        out.push(
            RouteDiagnostic::at(file, Problem::MissingHandler, 0..0, "expected in this file")
                .with_help(format!("every route file defines its handler:\n{EXPECTED}")),
        );
        return;
    };
    check_fn(file, f, &aliases, out);
}

fn check_fn(
    file: &SourceFile,
    f: &ItemFn,
    aliases: &HashMap<String, Alias<'_>>,
    out: &mut Vec<RouteDiagnostic>,
) {
    let sig = &f.sig;
    if !is_public(&f.vis) {
        out.push(
            RouteDiagnostic::at(
                file,
                Problem::HandlerNotPublic,
                file.range(
                    sig.fn_token
                        .span
                        .join(sig.ident.span())
                        .unwrap_or(sig.ident.span()),
                ),
                "not public",
            )
            .with_help("write `pub async fn handler`"),
        );
    }
    if sig.asyncness.is_none() {
        out.push(
            RouteDiagnostic::at(
                file,
                Problem::HandlerNotAsync,
                file.range(sig.fn_token.span),
                "expected `async fn`",
            )
            .with_help("write `pub async fn handler`"),
        );
    }
    let qualifiers = [
        sig.constness.as_ref().map(|t| ("const", t.span)),
        match &sig.safety {
            syn::Safety::Unsafe(t) => Some(("unsafe", t.span)),
            _ => None,
        },
        sig.abi.as_ref().map(|a| ("extern", a.span())),
    ];
    for (word, span) in qualifiers.into_iter().flatten() {
        out.push(RouteDiagnostic::at(
            file,
            Problem::HandlerQualifier(word),
            file.range(span),
            format!("remove `{word}`"),
        ));
    }
    if sig
        .generics
        .params
        .iter()
        .any(|p| !matches!(p, GenericParam::Lifetime(_)))
    {
        out.push(RouteDiagnostic::at(
            file,
            Problem::HandlerGeneric,
            file.range(sig.generics.span()),
            "the runtime calls one concrete function",
        ));
    }

    let params: Vec<&FnArg> = sig.inputs.iter().collect();
    if params.len() != 2 || sig.variadic.is_some() {
        let count = params.len() + usize::from(sig.variadic.is_some());
        out.push(
            RouteDiagnostic::at(
                file,
                Problem::HandlerArity(count),
                file.range(sig.paren_token.span.join()),
                format!("{count} parameter{}", if count == 1 { "" } else { "s" }),
            )
            .with_help(format!("the handler's signature is:\n{EXPECTED}")),
        );
    } else {
        for (i, (arg, expected)) in params.iter().zip([REQUEST, RESPONSE]).enumerate() {
            let ty: &Type = match arg {
                FnArg::Typed(t) => &t.ty,
                FnArg::Receiver(r) => {
                    param_problem(file, i + 1, expected, r.span(), out);
                    continue;
                }
            };
            if !is_mut_ref_to(ty, expected, aliases) {
                param_problem(file, i + 1, expected, ty.span(), out);
            }
        }
    }

    // `()` and no return type are accepted as Next's `void` handler: the runtime's
    // `IntoHandlerResult` turns them into `Ok(())`.
    if let ReturnType::Type(_, ty) = &sig.output {
        let unit = matches!(strip(ty), Type::Tuple(t) if t.elems.is_empty());
        if !unit && !is_result(ty, aliases, 0) {
            let found = format!("`{}`", file.slice(ty.span()));
            out.push(
                RouteDiagnostic::at(
                    file,
                    Problem::HandlerReturn(found),
                    file.range(ty.span()),
                    "expected `nextr::Result<()>`",
                )
                .with_help(
                    "return `nextr::Result<()>` (`Result<()>` with `use nextr::prelude::*`), `Result<(), E>`, or nothing",
                ),
            );
        }
    }
}

/// Whether the generated `main` can call a function with this visibility: `pub`,
/// `pub(crate)` and `pub(super)` reach it; `pub(self)` and no `pub` do not.
pub(super) fn is_public(vis: &Visibility) -> bool {
    match vis {
        Visibility::Public(_) => true,
        Visibility::Restricted(r) => !r.path.is_ident("self"),
        Visibility::Inherited => false,
    }
}

fn param_problem(
    file: &SourceFile,
    position: usize,
    expected: &'static str,
    span: proc_macro2::Span,
    out: &mut Vec<RouteDiagnostic>,
) {
    let found = file.slice(span).to_owned();
    out.push(
        RouteDiagnostic::at(
            file,
            Problem::HandlerParam {
                position,
                expected,
                found,
            },
            file.range(span),
            format!("expected `&mut {expected}`"),
        )
        .with_help(format!("the handler's signature is:\n{EXPECTED}")),
    );
}

/// A top-level item other than a function that is named `name` (`handler`, `proxy`): what
/// it is, and where its name is.
pub(super) fn other_item(item: &Item, name: &str) -> Option<(&'static str, proc_macro2::Span)> {
    let named = |ident: &syn::Ident| ident == name;
    match item {
        Item::Const(c) if named(&c.ident) => Some(("a constant", c.ident.span())),
        Item::Static(s) if named(&s.ident) => Some(("a static", s.ident.span())),
        Item::Struct(s) if named(&s.ident) => Some(("a struct", s.ident.span())),
        Item::Enum(e) if named(&e.ident) => Some(("an enum", e.ident.span())),
        Item::Mod(m) if named(&m.ident) => Some(("a module", m.ident.span())),
        Item::Use(u) => use_names(&u.tree)
            .into_iter()
            .find(|(local, _)| local == name)
            .map(|(_, span)| ("an import (define it here, calling the shared code)", span)),
        _ => None,
    }
}

/// The names a `use` brings into scope, with their spans.
fn use_names(tree: &UseTree) -> Vec<(String, proc_macro2::Span)> {
    match tree {
        UseTree::Path(p) => use_names(&p.tree),
        UseTree::Name(n) => vec![(n.ident.to_string(), n.ident.span())],
        UseTree::Rename(r) => vec![(r.rename.to_string(), r.rename.span())],
        UseTree::Glob(_) => Vec::new(),
        UseTree::Group(g) => g.items.iter().flat_map(use_names).collect(),
    }
}

/// `use … as X` renames of the three names we check, and every non-generic `type X = …;`.
pub(super) fn aliases(items: &[Item]) -> HashMap<String, Alias<'_>> {
    fn renames(tree: &UseTree, out: &mut HashMap<String, Alias<'_>>) {
        match tree {
            UseTree::Path(p) => renames(&p.tree, out),
            UseTree::Rename(r) => {
                out.insert(r.rename.to_string(), Alias::Rename(r.ident.to_string()));
            }
            UseTree::Group(g) => g.items.iter().for_each(|t| renames(t, out)),
            UseTree::Name(_) | UseTree::Glob(_) => {}
        }
    }
    let mut out = HashMap::new();
    for item in items {
        match item {
            Item::Use(u) => renames(&u.tree, &mut out),
            Item::Type(t) if t.generics.params.is_empty() => {
                out.insert(t.ident.to_string(), Alias::Type(&t.ty));
            }
            _ => {}
        }
    }
    out
}

pub(super) fn strip(ty: &Type) -> &Type {
    match ty {
        Type::Paren(p) => strip(&p.elem),
        Type::Group(g) => strip(&g.elem),
        other => other,
    }
}

/// The last segment of a plain path type, with its generic arguments, after renames.
pub(super) fn last_segment<'t>(
    ty: &'t Type,
    aliases: &'t HashMap<String, Alias<'t>>,
    depth: usize,
) -> Option<(String, &'t PathArguments)> {
    let Type::Path(p) = strip(ty) else {
        return None;
    };
    if p.qself.is_some() {
        return None;
    }
    let last = p.path.segments.last()?;
    let name = last.ident.to_string();
    if p.path.segments.len() == 1 && depth < 8 {
        match aliases.get(&name) {
            Some(Alias::Rename(original)) => return Some((original.clone(), &last.arguments)),
            Some(Alias::Type(target)) if last.arguments.is_none() => {
                return last_segment(target, aliases, depth + 1);
            }
            _ => {}
        }
    }
    Some((name, &last.arguments))
}

fn is_mut_ref_to(ty: &Type, name: &str, aliases: &HashMap<String, Alias<'_>>) -> bool {
    let Type::Reference(r) = strip(ty) else {
        return false;
    };
    r.mutability.is_some()
        && matches!(last_segment(&r.elem, aliases, 0), Some((n, args)) if n == name && only_lifetimes(args))
}

/// No generic arguments, or only lifetimes (`NextApiRequest<'_>`).
pub(super) fn only_lifetimes(args: &PathArguments) -> bool {
    match args {
        PathArguments::None => true,
        PathArguments::AngleBracketed(a) => a
            .args
            .iter()
            .all(|g| matches!(g, GenericArgument::Lifetime(_))),
        PathArguments::Parenthesized(_) => false,
    }
}

/// `Result`, `Result<()>` or `Result<(), E>` under any path or alias.
fn is_result(ty: &Type, aliases: &HashMap<String, Alias<'_>>, depth: usize) -> bool {
    let Some((name, args)) = last_segment(ty, aliases, depth) else {
        return false;
    };
    if name != RESULT {
        return false;
    }
    match args {
        PathArguments::None => true,
        PathArguments::AngleBracketed(a) => {
            let types: Vec<&GenericArgument> = a.args.iter().collect();
            let unit = |g: &GenericArgument| matches!(g, GenericArgument::Type(t) if matches!(strip(t), Type::Tuple(t) if t.elems.is_empty()));
            matches!(types.len(), 1 | 2) && unit(types[0])
        }
        PathArguments::Parenthesized(_) => false,
    }
}
