//! `/api/hello`, a Pages Router route in the same app: both routers live side by side, each
//! with its own helpers, and Next's precedence decides between them.
use nextr::prelude::*;

pub async fn handler(_req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.status(200).json(&json!({ "message": "Hello from the Pages Router" }))
}
