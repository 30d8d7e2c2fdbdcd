//! Next.js docs, "Sending a JSON response": the result of an async operation, or a 500 with an
//! error message when it fails (the docs' `try`/`catch`).
//!
//! `GET /api/json` → 200 `{"result":"done"}`; `GET /api/json?fail=1` → 500
//! `{"error":"failed to load data"}`.
use nextr::prelude::*;

pub async fn handler(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    match docs::some_async_operation(req.query.contains("fail")).await {
        Ok(result) => res.status(200).json(&json!({ "result": result })),
        Err(_) => res
            .status(500)
            .json(&json!({ "error": "failed to load data" })),
    }
}
