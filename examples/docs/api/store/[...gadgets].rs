//! The common tutorial example of a catch-all route: every path under `/api/store/` lands
//! here, with its segments in `req.query.gadgets` (after the query string's own keys).
//!
//! `GET /api/store/phones/apple/iphone-15?sort=price` → 200
//! `{"sort":"price","gadgets":["phones","apple","iphone-15"]}`; `GET /api/store` → 404 (a
//! catch-all needs at least one segment; `[[...gadgets]]` would take it).
use nextr::prelude::*;

pub async fn handler(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.status(200).json(&req.query)
}
