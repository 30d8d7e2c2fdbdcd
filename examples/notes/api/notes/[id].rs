//! `/api/notes/[id]`: `GET` one note, `PUT` replaces its title and body, `PATCH` changes the
//! fields given, `DELETE` removes it (204).
//!
//! Writes need a signed-in user (`proxy.rs`). An id that names no note is a 404; a body of the wrong shape or an empty title is a 400.
//! Other methods: 405 with `Allow: GET, PUT, PATCH, DELETE`.
use nextr::prelude::*;
use notes::{auth, ApiError, NewNote, NotePatch, Store};

pub async fn handler(req: &mut NextApiRequest, res: &mut NextApiResponse) -> Result<(), ApiError> {
    let id = req.query.str("id").unwrap_or_default().to_owned();
    let reads = matches!(req.method, Method::GET | Method::HEAD | Method::OPTIONS);
    if !reads && auth::signed_in(req).is_none() {
        return Err(ApiError::Unauthorized);
    }
    let found = match req.method {
        Method::GET => Store::open()?.get(&id)?,
        Method::PUT => {
            let new = req.json::<NewNote>()?.validate()?;
            Store::open()?.replace(&id, new)?
        }
        Method::PATCH => {
            let patch = req.json::<NotePatch>()?.validate()?;
            Store::open()?.update(&id, patch)?
        }
        Method::DELETE => {
            if !Store::open()?.delete(&id)? {
                return Err(ApiError::note_not_found(&id));
            }
            return Ok(res.status(StatusCode::NO_CONTENT).end()?);
        }
        _ => {
            let allow = "GET, PUT, PATCH, DELETE";
            return Err(ApiError::method_not_allowed(&req.method, allow));
        }
    };
    let note = found.ok_or_else(|| ApiError::note_not_found(&id))?;
    Ok(res.json(&note)?)
}
