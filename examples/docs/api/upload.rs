//! Next.js docs, "Custom config": `bodyParser.sizeLimit`. Bodies up to 500 kB are parsed;
//! larger ones are refused before the handler runs.
//!
//! `POST /api/upload` with a 1,000-byte body → 200 `{"received":1000}`; with 512,001 bytes →
//! 413 `Body exceeded 500kb limit`.
use nextr::prelude::*;

nextr::config! {
    body_parser: { size_limit: "500kb" },
}

pub async fn handler(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.status(200)
        .json(&json!({ "received": req.raw_body().len() }))
}
