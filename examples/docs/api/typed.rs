//! Next.js docs, "Adding TypeScript types": the response data has a declared type
//! (`NextApiResponse<ResponseData>`). In Rust the type is a struct that derives `Serialize`.
//!
//! `GET /api/typed` → 200 `{"message":"Hello from Next.js!"}`.
use nextr::prelude::*;

#[derive(Serialize)]
struct ResponseData {
    message: String,
}

pub async fn handler(_req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.status(200).json(&ResponseData {
        message: "Hello from Next.js!".into(),
    })
}
