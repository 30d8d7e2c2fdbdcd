//! The tokens of `config!` as entries: `key: value` pairs, a value being a literal, a
//! `{ … }` table of entries, or something else (kept to say what it was).

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::parse::ParseStream;
use syn::spanned::Spanned;
use syn::{braced, bracketed, token, Expr, Ident, Lit, Token, UnOp};

pub(in crate::analysis) struct Entry {
    pub(in crate::analysis) key: Ident,
    pub(in crate::analysis) value: Value,
}

pub(in crate::analysis) enum Value {
    Int {
        digits: String,
        negative: bool,
        span: Span,
    },
    Str {
        value: String,
        span: Span,
    },
    Bool {
        value: bool,
        span: Span,
    },
    Table {
        entries: Vec<Entry>,
        span: Span,
    },
    // Only `proxy.rs`'s `matcher` reads the items (route keys take no list), and nothing calls
    // the proxy analysis outside tests yet.
    #[cfg_attr(not(test), allow(dead_code))]
    List {
        items: Vec<Value>,
        span: Span,
    },
    Other {
        what: &'static str,
        literal: bool,
        span: Span,
    },
}

impl Value {
    pub(in crate::analysis) fn span(&self) -> Span {
        match self {
            Value::Int { span, .. }
            | Value::Str { span, .. }
            | Value::Bool { span, .. }
            | Value::Table { span, .. }
            | Value::List { span, .. }
            | Value::Other { span, .. } => *span,
        }
    }

    pub(in crate::analysis) fn describe(&self) -> &'static str {
        match self {
            Value::Int { .. } => "an integer",
            Value::Str { .. } => "a string",
            Value::Bool { .. } => "a boolean",
            Value::Table { .. } => "a `{ … }` table",
            Value::List { .. } => "a `[ … ]` list",
            Value::Other { what, .. } => what,
        }
    }
}

pub(in crate::analysis) fn parse_entries(input: ParseStream<'_>) -> syn::Result<Vec<Entry>> {
    let mut entries = Vec::new();
    while !input.is_empty() {
        let key = input.call(Ident::parse_any)?;
        input.parse::<Token![:]>()?;
        let value = parse_value(input)?;
        entries.push(Entry { key, value });
        if input.is_empty() {
            break;
        }
        input.parse::<Token![,]>()?;
    }
    Ok(entries)
}

fn parse_value(input: ParseStream<'_>) -> syn::Result<Value> {
    if input.peek(token::Brace) {
        let content;
        let brace = braced!(content in input);
        let entries = parse_entries(&content)?;
        return Ok(Value::Table {
            entries,
            span: brace.span.join(),
        });
    }
    if input.peek(token::Bracket) {
        let content;
        let bracket = bracketed!(content in input);
        let mut items = Vec::new();
        while !content.is_empty() {
            items.push(parse_value(&content)?);
            if content.is_empty() {
                break;
            }
            content.parse::<Token![,]>()?;
        }
        return Ok(Value::List {
            items,
            span: bracket.span.join(),
        });
    }
    let expr: Expr = input.parse()?;
    let span = expr.span();
    Ok(match expr {
        Expr::Lit(l) => literal(l.lit, false, span),
        Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)) => match *u.expr {
            Expr::Lit(l) => literal(l.lit, true, span),
            _ => Value::Other {
                what: "an expression",
                literal: false,
                span,
            },
        },
        Expr::Path(_) => Value::Other {
            what: "a name",
            literal: false,
            span,
        },
        _ => Value::Other {
            what: "an expression",
            literal: false,
            span,
        },
    })
}

fn literal(lit: Lit, negative: bool, span: Span) -> Value {
    let other = |what| Value::Other {
        what,
        literal: true,
        span,
    };
    match lit {
        Lit::Int(i) => Value::Int {
            digits: i.base10_digits().to_owned(),
            negative,
            span,
        },
        Lit::Float(_) => other("a decimal number"),
        _ if negative => other("a negated literal"),
        Lit::Str(s) => Value::Str {
            value: s.value(),
            span,
        },
        Lit::Bool(b) => Value::Bool {
            value: b.value,
            span,
        },
        Lit::Char(_) => other("a character"),
        Lit::ByteStr(_) | Lit::CStr(_) => other("a byte string"),
        Lit::Byte(_) => other("a byte"),
        _ => other("a literal of another kind"),
    }
}
