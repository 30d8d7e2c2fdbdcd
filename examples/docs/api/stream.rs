//! Streaming with `res.write`: server-sent events, as a Next API route writes them on a Node
//! server (`Content-Type: text/event-stream`, one `data:` block per event).
//!
//! Where the integration streams, each `write` reaches the client as it happens. API Gateway's
//! HTTP API (what `nextr deploy` creates, and what `nextr dev` emulates) does not stream Lambda
//! responses: the client gets every event at once when the handler returns, with the same
//! bytes. Lambda function URLs in `RESPONSE_STREAM` mode and REST APIs with response streaming
//! can stream; nextr does not deploy those yet.
//!
//! `GET /api/stream` → 200, `text/event-stream`, `data: 0\n\ndata: 1\n\ndata: 2\n\n` and a
//! final `event: done` block.
use std::time::Duration;

use nextr::prelude::*;

nextr::config! {
    max_duration: 10,
}

pub async fn handler(_req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.set_header("Content-Type", "text/event-stream")?;
    res.set_header("Cache-Control", "no-cache, no-transform")?;
    for i in 0..3 {
        res.write(format!("data: {i}\n\n"))?;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    res.end_with("event: done\ndata: {}\n\n")
}
