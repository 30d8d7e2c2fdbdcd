//! A body from any Rust `Stream` of bytes: `GET /api/clock?ticks=5` sends one line per
//! 200 ms tick. `res.stream` pulls the stream only as fast as the client reads.
use std::time::Duration;

use futures_util::stream::{self, StreamExt};
use nextr::prelude::*;

pub async fn handler(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    let ticks: u32 = req
        .query
        .str("ticks")
        .and_then(|v| v.parse().ok())
        .unwrap_or(5)
        .min(20);
    res.set_header("Content-Type", "text/plain; charset=utf-8")?;
    let lines = stream::iter(0..ticks).then(|i| async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        Ok::<_, std::convert::Infallible>(format!("tick {i}\n"))
    });
    res.stream(lines).await
}
