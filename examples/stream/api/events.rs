//! Server-sent events, the "Streaming responses" example of the Next.js API Routes docs as
//! written there:
//!
//! ```js
//! res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store' })
//! let i = 0
//! while (i < 10) {
//!   res.write(`data: ${i}\n\n`)
//!   i++
//!   await new Promise((resolve) => setTimeout(resolve, 1000))
//! }
//! res.end()
//! ```
//!
//! Ten events one second apart take ten seconds, so the route declares `max_duration: 15`
//! (a streaming route behind a REST API may declare up to 900). Each event reaches the client
//! when it is written: `curl -N http://127.0.0.1:3000/api/events`.
use std::time::Duration;

use nextr::prelude::*;

nextr::config! {
    max_duration: 15,
}

pub async fn handler(_req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.write_head(
        200,
        [
            ("Content-Type", "text/event-stream"),
            ("Cache-Control", "no-store"),
        ],
    )?;
    let mut i = 0;
    while i < 10 {
        res.write(format!("data: {i}\n\n"))?;
        i += 1;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    res.end()
}
