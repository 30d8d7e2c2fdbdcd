//! `/api/notes`: `GET` lists every note (oldest first), `POST` creates one.
//!
//! `POST` takes `{"title": "...", "body": "..."}` (`body` optional) and answers 201 with the
//! note and its `Location`; a body of the wrong shape or an empty title is a 400. Other
//! methods: 405 with `Allow: GET, POST`.
use nextr::prelude::*;
use notes::{ApiError, NewNote, Reply, Store};

pub async fn handler(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    let outcome = match req.method {
        Method::GET => list(),
        Method::POST => create(req),
        _ => Err(ApiError::method_not_allowed(&req.method, "GET, POST")),
    };
    notes::send(res, outcome)
}

fn list() -> Result<Reply, ApiError> {
    let notes = Store::open()?.list()?;
    Reply::json(200, &notes)
}

fn create(req: &NextApiRequest) -> Result<Reply, ApiError> {
    let new = req.json::<NewNote>()?.validate()?;
    let note = Store::open()?.create(new)?;
    Reply::created(&note)
}
