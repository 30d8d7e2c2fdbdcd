//! Next.js docs, "Caveats": a predefined route takes precedence over `[pid]` and `[...slug]`,
//! so `/api/post/create` answers here.
//!
//! `GET /api/post/create` → 200 `{"created":true}`.
use nextr::prelude::*;

pub async fn handler(_req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.status(200).json(&json!({ "created": true }))
}
