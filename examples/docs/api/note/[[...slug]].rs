//! Next.js docs, "Optional catch all API routes" (under `note/`: Next refuses an optional
//! catch-all next to `post/[...slug]`). The route answers with `req.query`, which is what the
//! docs show: `/api/note` → `{}`, `/api/note/a` → `{"slug":["a"]}`, `/api/note/a/b` →
//! `{"slug":["a","b"]}`.
use nextr::prelude::*;

pub async fn handler(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.status(200).json(&req.query)
}
