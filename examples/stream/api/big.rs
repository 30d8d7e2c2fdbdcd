//! A large download, streamed: `GET /api/big?mb=100` sends that many MiB of bytes (default 10,
//! at most 1024) in 64 KiB writes, waiting for each write to drain before the next so the
//! function holds one chunk at a time, whatever the size. A buffered answer could not do this:
//! Lambda caps buffered responses at 6 MB.
use nextr::prelude::*;

nextr::config! {
    max_duration: 120,
}

const CHUNK: usize = 64 * 1024;

pub async fn handler(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    let mb: usize = match req.query.str("mb").map(str::parse::<usize>) {
        None => 10,
        Some(Ok(mb)) if mb <= 1024 => mb,
        Some(_) => {
            return res
                .status(400)
                .json(&serde_json::json!({ "error": "mb must be a whole number from 0 to 1024" }))
        }
    };
    let total = mb * 1024 * 1024;
    res.write_head(200, [("Content-Type", "application/octet-stream")])?;
    let chunk = vec![b'x'; CHUNK];
    let mut sent = 0;
    while sent < total {
        let n = CHUNK.min(total - sent);
        res.write(&chunk[..n])?;
        res.drain().await;
        sent += n;
    }
    res.end()
}
