//! `/api/notes/[id]`: `GET` one note, `PUT` replaces its title and body, `PATCH` changes the
//! fields given, `DELETE` removes it (204).
//!
//! An id that names no note is a 404; a body of the wrong shape or an empty title is a 400.
//! Other methods: 405 with `Allow: GET, PUT, PATCH, DELETE`.
use nextr::prelude::*;
use notes::{ApiError, NewNote, NotePatch, Reply, Store};

pub async fn handler(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    let id = req.query.str("id").unwrap_or_default().to_owned();
    let outcome = match req.method {
        Method::GET => get(&id),
        Method::PUT => replace(req, &id),
        Method::PATCH => update(req, &id),
        Method::DELETE => delete(&id),
        _ => Err(ApiError::method_not_allowed(
            &req.method,
            "GET, PUT, PATCH, DELETE",
        )),
    };
    notes::send(res, outcome)
}

fn get(id: &str) -> Result<Reply, ApiError> {
    match Store::open()?.get(id)? {
        Some(note) => Reply::json(200, &note),
        None => Err(ApiError::note_not_found(id)),
    }
}

fn replace(req: &NextApiRequest, id: &str) -> Result<Reply, ApiError> {
    let new = req.json::<NewNote>()?.validate()?;
    match Store::open()?.replace(id, new)? {
        Some(note) => Reply::json(200, &note),
        None => Err(ApiError::note_not_found(id)),
    }
}

fn update(req: &NextApiRequest, id: &str) -> Result<Reply, ApiError> {
    let patch = req.json::<NotePatch>()?.validate()?;
    match Store::open()?.update(id, patch)? {
        Some(note) => Reply::json(200, &note),
        None => Err(ApiError::note_not_found(id)),
    }
}

fn delete(id: &str) -> Result<Reply, ApiError> {
    if Store::open()?.delete(id)? {
        Ok(Reply::no_content())
    } else {
        Err(ApiError::note_not_found(id))
    }
}
