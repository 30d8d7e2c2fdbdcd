//! `/api/notes`: `GET` lists every note (oldest first), `POST` creates one.
//!
//! `POST` (signed in: see `proxy.rs`) takes `{"title": "...", "body": "..."}` (`body` optional) and answers 201 with the
//! note and its `Location`; a body of the wrong shape or an empty title is a 400. Other
//! methods: 405 with `Allow: GET, POST`.
use nextr::deps::http::header::LOCATION;
use nextr::prelude::*;
use notes::{auth, ApiError, NewNote, Store};

pub async fn handler(req: &mut NextApiRequest, res: &mut NextApiResponse) -> Result<(), ApiError> {
    match req.method {
        Method::GET => res.json(&Store::open()?.list()?)?,
        Method::POST => {
            let author = auth::signed_in(req).ok_or(ApiError::Unauthorized)?.to_owned();
            let new = req.json::<NewNote>()?.validate()?;
            let note = Store::open()?.create(new, &author)?;
            res.set_header(LOCATION, format!("/api/notes/{}", note.id))?
                .status(StatusCode::CREATED)
                .json(&note)?;
        }
        _ => return Err(ApiError::method_not_allowed(&req.method, "GET, POST")),
    }
    Ok(())
}
