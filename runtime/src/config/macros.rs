//! `config!` and the macros it expands through: each key's arm checks its literal at compile
//! time with [`super::literal`]'s `const fn`s, so a wrong value is a compile error naming the key.

/// Declares the route's configuration: Next's `export const config`, as a literal key/value list.
///
/// Expands to `pub fn config() -> nextr::config::RouteConfig` (which the generated `main` passes
/// to the runtime), plus compile-time checks: an unknown key, a repeated key, a value of the
/// wrong kind or out of range is a compile error that names the key. See the [module
/// docs](crate::config) for the grammar.
///
/// ```
/// nextr::config! {
///     max_duration: 10,
///     memory: 512,
///     body_parser: { size_limit: "500kb" },
///     response_limit: false,
///     external_resolver: true,
/// }
/// # fn main() {
/// let c = config();
/// assert_eq!(c.max_duration, Some(10));
/// assert_eq!(c.body_parser.size_limit().map(|l| l.as_written()), Some("500kb".to_string()));
/// # }
/// ```
///
/// In `proxy.rs`, `matcher` (read by the build; see [`crate::proxy::matcher`]):
///
/// ```
/// nextr::config! {
///     matcher: ["/api/:path*", { source: "/m3/:p*", has: [{ type: "header", key: "x-go", value: "yes" }] }],
/// }
/// # fn main() { let _ = config(); }
/// ```
///
/// ```compile_fail
/// nextr::config! { matcher: SOURCES } // `matcher` takes a source string or a `[ … ]` list
/// # fn main() {}
/// ```
///
/// ```compile_fail
/// nextr::config! { max_duraton: 10 } // unknown key `max_duraton`; the allowed keys are …
/// # fn main() {}
/// ```
///
/// ```compile_fail
/// nextr::config! { max_duration: 1000 } // `max_duration` must be between 1 and 900 seconds
/// # fn main() {}
/// ```
///
/// ```compile_fail
/// nextr::config! { max_duration: "10" } // `max_duration` must be an integer number of seconds
/// # fn main() {}
/// ```
///
/// ```compile_fail
/// nextr::config! { body_parser: { size_limit: "lots" } } // not a size
/// # fn main() {}
/// ```
///
/// ```compile_fail
/// nextr::config! { memory: 512, memory: 1024 } // `memory` is defined multiple times
/// # fn main() {}
/// ```
///
/// ```compile_fail
/// nextr::config! { dynamic: "sometimes" } // `dynamic` must be one of "auto", …
/// # fn main() {}
/// ```
///
/// ```compile_fail
/// nextr::config! { revalidate: true } // `revalidate` must be `false` or seconds
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! config {
    ($($body:tt)*) => {
        /// This route's configuration, as declared with `nextr::config!`.
        pub fn config() -> $crate::config::RouteConfig {
            #[allow(unused_mut)]
            let mut config = $crate::config::RouteConfig::default();
            $crate::__config_entries!(config; $($body)*);
            config
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __config_entries {
    ($c:ident;) => {};
    ($c:ident; max_duration : $v:literal $(, $($rest:tt)*)?) => {
        #[allow(non_upper_case_globals, dead_code)]
        const max_duration: () = ();
        const _: () = ::core::assert!(
            $crate::config::__int_literal(::core::stringify!($v)).is_some(),
            "nextr::config!: `max_duration` must be an integer number of seconds, e.g. `max_duration: 10`"
        );
        const _: () = ::core::assert!(
            $crate::config::__int_in_range(::core::stringify!($v), &$crate::limits::LAMBDA_TIMEOUT_S),
            "nextr::config!: `max_duration` must be between 1 and 900 seconds (Lambda's timeout range)"
        );
        $c.max_duration = ::core::option::Option::Some(
            $crate::config::__int_or_zero(::core::stringify!($v)) as u32,
        );
        $crate::__config_entries!($c; $($($rest)*)?);
    };
    ($c:ident; memory : $v:literal $(, $($rest:tt)*)?) => {
        #[allow(non_upper_case_globals, dead_code)]
        const memory: () = ();
        const _: () = ::core::assert!(
            $crate::config::__int_literal(::core::stringify!($v)).is_some(),
            "nextr::config!: `memory` must be an integer number of MB, e.g. `memory: 512`"
        );
        const _: () = ::core::assert!(
            $crate::config::__int_in_range(::core::stringify!($v), &$crate::limits::LAMBDA_MEMORY_MB),
            "nextr::config!: `memory` must be between 128 and 10240 MB (Lambda's memory range)"
        );
        $c.memory = ::core::option::Option::Some(
            $crate::config::__int_or_zero(::core::stringify!($v)) as u32,
        );
        $crate::__config_entries!($c; $($($rest)*)?);
    };
    ($c:ident; body_parser : { $($inner:tt)* } $(, $($rest:tt)*)?) => {
        #[allow(non_upper_case_globals, dead_code)]
        const body_parser: () = ();
        $c.body_parser = $crate::config::BodyParser::Enabled {
            size_limit: $crate::__config_body_parser!($($inner)*),
        };
        $crate::__config_entries!($c; $($($rest)*)?);
    };
    ($c:ident; body_parser : $v:literal $(, $($rest:tt)*)?) => {
        #[allow(non_upper_case_globals, dead_code)]
        const body_parser: () = ();
        const _: () = ::core::assert!(
            $crate::config::__bool_literal(::core::stringify!($v)).is_some(),
            "nextr::config!: `body_parser` must be `false`, `true` or `{{ size_limit: \"1mb\" }}`"
        );
        if !$crate::config::__bool_or_false(::core::stringify!($v)) {
            $c.body_parser = $crate::config::BodyParser::Disabled($crate::config::Disabled);
        }
        $crate::__config_entries!($c; $($($rest)*)?);
    };
    ($c:ident; response_limit : $v:literal $(, $($rest:tt)*)?) => {
        #[allow(non_upper_case_globals, dead_code)]
        const response_limit: () = ();
        const _: () = ::core::assert!(
            $crate::config::__bool_literal(::core::stringify!($v)).is_some()
                || $crate::config::__size_literal_ok(::core::stringify!($v)),
            "nextr::config!: `response_limit` must be `false`, `true`, a size such as \"8mb\" or an integer number of bytes"
        );
        $c.response_limit = $crate::config::ResponseLimit::__from_literal(::core::stringify!($v));
        $crate::__config_entries!($c; $($($rest)*)?);
    };
    ($c:ident; external_resolver : $v:literal $(, $($rest:tt)*)?) => {
        #[allow(non_upper_case_globals, dead_code)]
        const external_resolver: () = ();
        const _: () = ::core::assert!(
            $crate::config::__bool_literal(::core::stringify!($v)).is_some(),
            "nextr::config!: `external_resolver` must be `true` or `false`"
        );
        $c.external_resolver = $crate::config::__bool_or_false(::core::stringify!($v));
        $crate::__config_entries!($c; $($($rest)*)?);
    };
    ($c:ident; dynamic : $v:literal $(, $($rest:tt)*)?) => {
        #[allow(non_upper_case_globals, dead_code)]
        const dynamic: () = ();
        const _: () = ::core::assert!(
            $crate::config::__dynamic_literal(::core::stringify!($v)).is_some(),
            "nextr::config!: `dynamic` must be one of \"auto\", \"force-dynamic\", \"error\", \"force-static\""
        );
        $c.dynamic = $crate::config::__dynamic_literal(::core::stringify!($v));
        $crate::__config_entries!($c; $($($rest)*)?);
    };
    ($c:ident; revalidate : $v:literal $(, $($rest:tt)*)?) => {
        #[allow(non_upper_case_globals, dead_code)]
        const revalidate: () = ();
        const _: () = ::core::assert!(
            $crate::config::__revalidate_literal_ok(::core::stringify!($v)),
            "nextr::config!: `revalidate` must be `false` or an integer number of seconds, e.g. `revalidate: 60`"
        );
        $c.revalidate = ::core::option::Option::Some(
            $crate::config::Revalidate::__from_literal(::core::stringify!($v)),
        );
        $crate::__config_entries!($c; $($($rest)*)?);
    };
    // `proxy.rs` only (the build refuses it in route files): the build reads the matcher
    // statically into the manifest, so the function itself has nothing to do with it here.
    ($c:ident; matcher : [ $($m:tt)* ] $(, $($rest:tt)*)?) => {
        #[allow(non_upper_case_globals, dead_code)]
        const matcher: () = ();
        $crate::__config_entries!($c; $($($rest)*)?);
    };
    ($c:ident; matcher : $v:literal $(, $($rest:tt)*)?) => {
        #[allow(non_upper_case_globals, dead_code)]
        const matcher: () = ();
        $crate::__config_entries!($c; $($($rest)*)?);
    };
    ($c:ident; matcher : $($bad:tt)*) => {
        ::core::compile_error!("nextr::config!: `matcher` takes a source string or a `[ … ]` list, e.g. `matcher: [\"/api/:path*\"]`");
    };
    ($c:ident; max_duration : $($bad:tt)*) => {
        ::core::compile_error!("nextr::config!: `max_duration` takes an integer literal (seconds), e.g. `max_duration: 10,`");
    };
    ($c:ident; memory : $($bad:tt)*) => {
        ::core::compile_error!("nextr::config!: `memory` takes an integer literal (MB), e.g. `memory: 512,`");
    };
    ($c:ident; body_parser : $($bad:tt)*) => {
        ::core::compile_error!("nextr::config!: `body_parser` takes `false`, `true` or `{ size_limit: \"500kb\" }`");
    };
    ($c:ident; response_limit : $($bad:tt)*) => {
        ::core::compile_error!("nextr::config!: `response_limit` takes `false`, `true`, a string such as \"8mb\" or an integer number of bytes");
    };
    ($c:ident; external_resolver : $($bad:tt)*) => {
        ::core::compile_error!("nextr::config!: `external_resolver` takes `true` or `false`");
    };
    ($c:ident; dynamic : $($bad:tt)*) => {
        ::core::compile_error!("nextr::config!: `dynamic` takes one of \"auto\", \"force-dynamic\", \"error\", \"force-static\"");
    };
    ($c:ident; revalidate : $($bad:tt)*) => {
        ::core::compile_error!("nextr::config!: `revalidate` takes `false` or an integer literal (seconds), e.g. `revalidate: 60,`");
    };
    ($c:ident; $key:ident : $($rest:tt)*) => {
        ::core::compile_error!(::core::concat!(
            "nextr::config!: unknown key `", ::core::stringify!($key),
            "`; the allowed keys are max_duration, memory, body_parser, response_limit, external_resolver, dynamic, revalidate (and matcher in proxy.rs)"
        ));
    };
    ($c:ident; $($other:tt)*) => {
        ::core::compile_error!(::core::concat!(
            "nextr::config!: expected `key: value` pairs separated by commas, found `",
            ::core::stringify!($($other)*), "`"
        ));
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __config_body_parser {
    () => {
        ::core::option::Option::None
    };
    (size_limit : $v:literal $(,)?) => {{
        const _: () = ::core::assert!(
            $crate::config::__size_literal_ok(::core::stringify!($v)),
            "nextr::config!: `body_parser.size_limit` must be a size such as \"500kb\", \"1.5mb\", \"10b\" or an integer number of bytes"
        );
        ::core::option::Option::Some($crate::config::SizeLimit::__from_literal(::core::stringify!($v)))
    }};
    ($($other:tt)*) => {
        ::core::compile_error!(::core::concat!(
            "nextr::config!: `body_parser` accepts only `{ size_limit: \"500kb\" }`, found `{ ",
            ::core::stringify!($($other)*), " }`"
        ))
    };
}
