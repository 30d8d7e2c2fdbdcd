//! A route file with a `nextr::config!`, for the generated-main examples and tests.
use nextr::prelude::*;

nextr::config! {
    max_duration: 10,
    memory: 512,
    body_parser: { size_limit: "500kb" },
    response_limit: "8mb",
    external_resolver: true,
}

/// Echoes the params and the parsed body.
pub async fn handler(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    res.status(200)
        .json(&json!({ "query": req.query, "body": req.body }))
}
