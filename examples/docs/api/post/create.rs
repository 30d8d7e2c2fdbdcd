//! /api/post/create wins over /api/post/[pid].
use nextr::prelude::*;

pub async fn handler(_req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.status(200).json(&json!({ "created": true }))
}
