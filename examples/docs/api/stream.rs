//! Streaming with `res.write`: server-sent events, as a Next API route writes them on a Node
//! server (`Content-Type: text/event-stream`, one `data:` block per event).
//!
//! Where the front streams, each `write` reaches the client as it happens. This app sits behind
//! an API Gateway HTTP API, which does not stream Lambda responses: through it the client gets
//! every event at once when the handler returns, with the same bytes. So `nextr.toml` also
//! gives this route a Lambda function URL (`function_url = true`, `RESPONSE_STREAM`), through
//! which it streams: in `nextr dev` at `http://<function-name>.lambda-url.localhost:3000/api/stream`
//! (printed at start). `examples/stream` is an app behind a REST API, where every route streams.
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
