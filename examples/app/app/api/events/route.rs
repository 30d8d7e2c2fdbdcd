//! `GET /api/events`: server-sent events, one every 500 ms, `?count=N` of them (default 5,
//! at most 20), from a `Stream` body. Behind a streaming front (this route's function URL,
//! see nextr.toml) each event reaches the client when it is produced:
//! `curl -N http://<function>.lambda-url.localhost:3000/api/events` (dev prints the URL).
//! Through the HTTP API the same bytes arrive at once when the stream ends.
use std::time::Duration;

use futures_util::stream;
use nextr::app::prelude::*;
use nextr::deps::bytes::Bytes;

nextr::config! {
    max_duration: 15,
}

/// `GET /api/events?count=N`.
pub async fn get(req: NextRequest) -> Response {
    let count: u32 = req
        .next_url()
        .search_params()
        .get("count")
        .and_then(|c| c.parse().ok())
        .unwrap_or(5)
        .min(20);
    let events = stream::unfold(0u32, move |i| async move {
        if i == count {
            return None;
        }
        if i > 0 {
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let event = Bytes::from(format!("id: {i}\ndata: {{\"tick\":{i}}}\n\n"));
        Some((Ok::<_, std::io::Error>(event), i + 1))
    });
    Response::stream(events)
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-store")
}
