//! Next.js docs, "API Routes" (and "Setting the status code of a response"):
//! `GET /api/hello` → 200 `{"message":"Hello from Next.js!"}`.
use nextr::prelude::*;

pub async fn handler(_req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.status(200)
        .json(&json!({ "message": "Hello from Next.js!" }))
}
