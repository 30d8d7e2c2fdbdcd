//! Next.js docs, "Sending a HTTP response": as `api/json.rs`, with `res.send`, which sends an
//! object as JSON too.
//!
//! `GET /api/send` → 200 `{"result":"done"}`; `GET /api/send?fail=1` → 500
//! `{"error":"failed to fetch data"}`.
use nextr::prelude::*;

pub async fn handler(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    match docs::some_async_operation(req.query.contains("fail")).await {
        Ok(result) => res.status(200).send(json!({ "result": result })),
        Err(_) => res
            .status(500)
            .send(json!({ "error": "failed to fetch data" })),
    }
}
