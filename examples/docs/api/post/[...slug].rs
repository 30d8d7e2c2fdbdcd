//! /api/post/a/b/c → "Post: a, b, c"
use nextr::prelude::*;

pub async fn handler(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    let slug = req.query.all("slug").join(", ");
    res.status(200).send(format!("Post: {slug}"))
}
