//! Next.js example "API Routes with REST" (linked from the API Routes docs), `pages/api/users`:
//! `GET /api/users` → 200 `[{"id":1},{"id":2},{"id":3}]`.
use nextr::prelude::*;

#[derive(Serialize)]
struct User {
    id: u32,
}

pub async fn handler(_req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    // Fake users data: get it from your database.
    let users = [User { id: 1 }, User { id: 2 }, User { id: 3 }];
    res.status(200).json(&users)
}
