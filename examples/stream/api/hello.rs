//! A buffered route beside the streaming ones (`response = "buffered"` in nextr.toml): the
//! answer leaves when the handler returns, exactly as on an HTTP API.
use nextr::prelude::*;

pub async fn handler(_req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.status(200)
        .json(&serde_json::json!({ "message": "Hello from Next.js!" }))
}
