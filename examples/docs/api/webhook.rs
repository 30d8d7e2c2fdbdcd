//! Next.js docs, "Custom config": `bodyParser: false`, "to verify the raw body of a webhook
//! request, for example from GitHub". The body reaches the handler as received, and its
//! `X-Hub-Signature-256` (HMAC-SHA256 under the shared secret) is checked before anything else.
//!
//! `POST /api/webhook` with a valid signature → 200 `{"received":true,"event":"push"}`;
//! a missing or wrong one → 401 `{"error":"invalid signature"}`; no secret configured → 500.
use nextr::prelude::*;

nextr::config! {
    body_parser: false,
}

pub async fn handler(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    if req.method != Method::POST {
        res.set_header("Allow", "POST")?;
        return res
            .status(405)
            .end_with(format!("Method {} Not Allowed", req.method));
    }
    // From nextr.toml's [env] (deploy sets it on the function; `nextr dev` passes it locally).
    let Ok(secret) = std::env::var("WEBHOOK_SECRET") else {
        return res
            .status(500)
            .json(&json!({ "error": "WEBHOOK_SECRET is not set" }));
    };
    // The raw bytes: with `body_parser: false`, `req.body` is `Body::Raw` of these same bytes.
    let signature = req.header("x-hub-signature-256").unwrap_or_default();
    if !docs::verify_signature(secret.as_bytes(), req.raw_body(), signature) {
        return res
            .status(401)
            .json(&json!({ "error": "invalid signature" }));
    }
    let event = req.header("x-github-event").unwrap_or("unknown");
    res.status(200)
        .json(&json!({ "received": true, "event": event }))
}
