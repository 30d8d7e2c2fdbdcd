//! Optional catch-all: /api/note, /api/note/a, /api/note/a/b all answer here.
use nextr::prelude::*;

pub async fn handler(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    let slug = req.query.get("slug").cloned();
    res.status(200).json(&json!({ "slug": slug }))
}
