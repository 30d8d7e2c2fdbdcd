//! [`Cors`] in a route: a Pages handler's `req`/`res`, an App Router function's
//! `NextRequest`/`Response`.

use http::{HeaderMap, Method};

use super::{Cors, CorsHeaders};
use crate::app::{NextRequest, Response};
use crate::{NextApiRequest, NextApiResponse};

fn text<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

impl Cors {
    /// What a request's CORS answer is: `Some(headers)` of a preflight's 204 (possibly empty
    /// when the origin is refused), or `None` and the headers to add to an ordinary answer.
    fn answer(&self, method: &Method, headers: &HeaderMap) -> (bool, CorsHeaders) {
        let origin = text(headers, "origin");
        let asked = text(headers, "access-control-request-method");
        if Cors::is_preflight(method.as_str(), origin, asked) {
            let h = self.preflight(
                origin,
                asked,
                text(headers, "access-control-request-headers"),
            );
            (true, h)
        } else {
            (false, self.response_headers(origin))
        }
    }

    /// In a Pages handler: answers a preflight `204` (and returns `true`: the handler has
    /// answered and returns), or adds the CORS headers to `res` (and returns `false`: the
    /// handler goes on and answers).
    ///
    /// ```no_run
    /// use nextr::cors::Cors;
    /// use nextr::prelude::*;
    ///
    /// pub async fn handler(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    ///     let cors = Cors::new().allow_origin("https://app.example").allow_methods(["GET"]);
    ///     if cors.apply(req, res)? {
    ///         return Ok(());
    ///     }
    ///     res.status(200).json(&json!({ "ok": true }))
    /// }
    /// ```
    pub fn apply(&self, req: &NextApiRequest, res: &mut NextApiResponse) -> crate::Result<bool> {
        let (preflight, headers) = self.answer(&req.method, &req.headers);
        for (name, value) in headers {
            if name == "vary" {
                res.append_header(name, value)?;
            } else {
                res.set_header(name, value)?;
            }
        }
        if preflight {
            res.status(204).end()?;
        }
        Ok(preflight)
    }

    /// In an App Router route: the `204` answer of a preflight, or `None` when the request is
    /// not one (export it as the route's `options` function, or call it first).
    pub fn preflight_response(&self, req: &NextRequest) -> Option<Response> {
        let (preflight, headers) = self.answer(req.method(), req.headers());
        preflight.then(|| {
            headers
                .into_iter()
                .fold(Response::empty(), |r, (n, v)| r.append_header(n, v))
        })
    }

    /// In an App Router route: the CORS headers of the answer to `req` (none when its origin
    /// is not allowed), for a preflight too.
    pub fn headers_for(&self, req: &NextRequest) -> CorsHeaders {
        self.answer(req.method(), req.headers()).1
    }

    /// In an App Router route: `response` with the CORS headers of the answer to `req`.
    pub fn with_headers(&self, req: &NextRequest, response: Response) -> Response {
        self.headers_for(req)
            .into_iter()
            .fold(response, |r, (n, v)| r.append_header(n, v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::{AppHandlers, AppRoute};
    use crate::testing::TestRoute;

    fn policy() -> Cors {
        Cors::new()
            .allow_origin("https://app.example")
            .allow_methods(["GET", "PUT"])
            .allow_headers(["content-type"])
    }

    async fn pages(req: &mut NextApiRequest, res: &mut NextApiResponse) -> crate::Result<()> {
        if policy().apply(req, res)? {
            return Ok(());
        }
        res.status(200).send("ok")
    }

    #[tokio::test]
    async fn a_pages_route_answers_preflights_and_adds_headers() {
        let route = TestRoute::new("/api/x", crate::handler!(pages));
        let res = route
            .request(Method::OPTIONS, "/api/x")
            .header("origin", "https://app.example")
            .header("access-control-request-method", "PUT")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status, 204);
        assert_eq!(res.header("access-control-allow-methods"), Some("GET,PUT"));
        assert_eq!(res.body.len(), 0);

        let res = route
            .get("/api/x")
            .header("origin", "https://app.example")
            .send()
            .await
            .unwrap();
        assert_eq!((res.status, res.text().as_str()), (200, "ok"));
        assert_eq!(
            res.header("access-control-allow-origin"),
            Some("https://app.example")
        );

        let res = route
            .get("/api/x")
            .header("origin", "https://evil.example")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status, 200);
        assert_eq!(res.header("access-control-allow-origin"), None);
    }

    async fn options(req: NextRequest) -> Response {
        policy()
            .preflight_response(&req)
            .unwrap_or_else(|| Response::new(405))
    }

    async fn get(req: NextRequest) -> Response {
        policy().with_headers(&req, Response::text("hi"))
    }

    #[tokio::test]
    async fn an_app_route_answers_preflights_and_adds_headers() {
        let route = TestRoute::app(
            "/api/y",
            AppRoute {
                handlers: AppHandlers {
                    get: Some(crate::app_handler!(get, req)),
                    options: Some(crate::app_handler!(options, req)),
                    ..AppHandlers::default()
                },
                pages_router: false,
            },
        );
        let res = route
            .request(Method::OPTIONS, "/api/y")
            .header("origin", "https://app.example")
            .header("access-control-request-method", "GET")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status, 204);
        assert_eq!(
            res.header("access-control-allow-origin"),
            Some("https://app.example")
        );
        assert_eq!(
            res.header("access-control-allow-headers"),
            Some("content-type")
        );
        let res = route
            .get("/api/y")
            .header("origin", "https://app.example")
            .send()
            .await
            .unwrap();
        assert_eq!(res.text(), "hi");
        assert_eq!(res.header("vary"), Some("origin"));
    }
}
