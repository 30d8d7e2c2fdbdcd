//! Next.js docs, "Custom config": `responseLimit`. Next warns when a response is over 4 MB
//! ("API response for /api/large exceeds 4MB…"); this route raises the threshold to 8 MB, so
//! its 5,000,000-byte report goes out without the warning. (Lambda's own limit, 6 MB per
//! response, still applies: nextr answers a clear 500 past it.)
//!
//! `GET /api/large` → 200, `text/csv`, 5,000,000 bytes.
use nextr::prelude::*;

nextr::config! {
    response_limit: "8mb",
}

/// One CSV line per row, each exactly 50 bytes.
fn report(rows: usize) -> String {
    (0..rows)
        .map(|i| format!("{i:08},{:040}\n", i * 7))
        .collect()
}

pub async fn handler(_req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.set_header("Content-Type", "text/csv")?;
    res.status(200).send(report(100_000))
}
