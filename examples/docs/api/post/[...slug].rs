//! Next.js docs, "Catch all API routes": `GET /api/post/a/b/c` → `Post: a, b, c`.
use nextr::prelude::*;

pub async fn handler(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    let slug = req.query.all("slug").join(", ");
    res.end_with(format!("Post: {slug}"))
}
