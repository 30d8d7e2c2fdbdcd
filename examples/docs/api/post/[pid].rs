//! Next.js docs, "Dynamic API Routes": `GET /api/post/abc` → `Post: abc`.
use nextr::prelude::*;

pub async fn handler(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    let pid = req.query.str("pid").unwrap_or_default().to_owned();
    res.end_with(format!("Post: {pid}"))
}
