//! What the deploy tests against moto share: fresh clients that log their calls, and the
//! ownership rule the tests read tags with (written here, not taken from the crate, so a
//! change to the crate's tags is caught).

use std::collections::HashMap;

use nextr_infra::deploy::{AwsClients, CallLog};
use nextr_infra::testing::MotoServer;

/// Clients of the moto server with a fresh call log.
pub async fn clients(moto: &MotoServer) -> AwsClients {
    moto.clients(CallLog::new()).await
}

/// Whether an API's tags name it as `app`'s at `stage`.
pub fn owned(tags: Option<&HashMap<String, String>>, app: &str, stage: &str) -> bool {
    tags.is_some_and(|t| {
        t.get("nextr:app").map(String::as_str) == Some(app)
            && t.get("nextr:stage").map(String::as_str) == Some(stage)
    })
}
