//! The proxy function as the runtime holds it: a plain function pointer (made with
//! [`proxy_handler!`](crate::proxy_handler)), so the pipeline is compiled once, in this crate.

use std::future::Future;
use std::pin::Pin;

use super::NextResponse;
use crate::app::{NextRequest, Response};

/// The future a [`ProxyHandler`] returns.
pub type ProxyFuture = Pin<Box<dyn Future<Output = crate::Result<NextResponse>> + Send + 'static>>;

/// `proxy.rs`'s `proxy` function behind a plain function pointer.
pub type ProxyHandler = fn(NextRequest) -> ProxyFuture;

/// What the `proxy` function may return: a [`NextResponse`], a [`Response`] (an early
/// answer), `()` (Next's `undefined`: the route answers), an `Option` of those (`None` is
/// `()`), or a `Result` of those whose error converts into [`crate::Error`] (Next's throw:
/// the proxy's 500 page, logged).
#[diagnostic::on_unimplemented(
    message = "`proxy` returns `NextResponse`, `Response`, `()`, `Option<T>` or `Result<T, E>`, not `{Self}`",
    note = "`E` converts into `nextr::Error` (answered with the proxy's 500 page and logged)"
)]
pub trait IntoProxyResult {
    /// Converts into `nextr::Result<NextResponse>`.
    fn into_proxy_result(self) -> crate::Result<NextResponse>;
}

impl IntoProxyResult for NextResponse {
    fn into_proxy_result(self) -> crate::Result<NextResponse> {
        Ok(self)
    }
}

impl IntoProxyResult for Response {
    fn into_proxy_result(self) -> crate::Result<NextResponse> {
        Ok(self.into())
    }
}

impl IntoProxyResult for () {
    fn into_proxy_result(self) -> crate::Result<NextResponse> {
        Ok(NextResponse::next())
    }
}

impl<T: IntoProxyResult> IntoProxyResult for Option<T> {
    fn into_proxy_result(self) -> crate::Result<NextResponse> {
        self.map_or_else(|| Ok(NextResponse::next()), T::into_proxy_result)
    }
}

impl<T: IntoProxyResult, E: Into<crate::Error>> IntoProxyResult for Result<T, E> {
    fn into_proxy_result(self) -> crate::Result<NextResponse> {
        self.map_err(Into::into)?.into_proxy_result()
    }
}

/// Turns `proxy.rs`'s `proxy` function into the [`ProxyHandler`] the runtime takes:
/// `nextr::proxy_handler!(proxy::proxy)` for `async fn proxy(req: NextRequest) -> T` where `T`
/// is an [`IntoProxyResult`]. The expansion is one small function: everything generic stays in
/// the crate.
#[macro_export]
macro_rules! proxy_handler {
    ($path:path) => {{
        fn __nextr_proxy_handler(req: $crate::app::NextRequest) -> $crate::proxy::ProxyFuture {
            ::std::boxed::Box::pin(async move {
                $crate::proxy::IntoProxyResult::into_proxy_result($path(req).await)
            })
        }
        __nextr_proxy_handler as $crate::proxy::ProxyHandler
    }};
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::response::Action;

    fn kind(result: crate::Result<NextResponse>) -> &'static str {
        match result.map(|r| r.action) {
            Ok(Action::Next) => "next",
            Ok(Action::Respond(_)) => "respond",
            Ok(Action::Rewrite(_)) => "rewrite",
            Ok(Action::Redirect { .. }) => "redirect",
            Err(_) => "error",
        }
    }

    #[test]
    fn every_return_form_converts() {
        assert_eq!(kind(().into_proxy_result()), "next");
        assert_eq!(kind(None::<Response>.into_proxy_result()), "next");
        assert_eq!(kind(Some(Response::empty()).into_proxy_result()), "respond");
        assert_eq!(
            kind(NextResponse::rewrite("/x").into_proxy_result()),
            "rewrite"
        );
        let ok: Result<NextResponse, std::io::Error> = Ok(NextResponse::redirect("/x"));
        assert_eq!(kind(ok.into_proxy_result()), "redirect");
        let err: Result<(), crate::Error> = Err(crate::Error::msg("proxy boom"));
        let e = err.into_proxy_result().unwrap_err();
        assert_eq!(e.to_string(), "proxy boom");
        let nested: Result<Option<Response>, std::io::Error> = Ok(None);
        assert_eq!(kind(nested.into_proxy_result()), "next");
    }

    async fn proxy(req: NextRequest) -> Option<NextResponse> {
        (req.method() == http::Method::POST).then(NextResponse::next)
    }

    #[test]
    fn the_macro_makes_a_plain_fn_pointer() {
        let handler: ProxyHandler = crate::proxy_handler!(proxy);
        let _ = handler;
    }
}
