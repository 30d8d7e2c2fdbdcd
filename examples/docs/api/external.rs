//! Next.js docs, "Custom config": `externalResolver`, for a route whose response is finished
//! by something else (an Express or Connect app in Next). The handler below returns without
//! ending the response; nextr then sends it as built, and with `external_resolver` it does not
//! log "API resolved without sending a response".
//!
//! `GET /api/external` → 202 `accepted`.
use nextr::prelude::*;

nextr::config! {
    external_resolver: true,
}

pub async fn handler(_req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.status(202).write("accepted")
}
