//! The common tutorial example of a dynamic route with one branch per method:
//! `GET`/`POST`/`PUT`/`DELETE /api/authors/[id]`, 405 with `Allow` for the rest.
//!
//! `GET /api/authors/1` → 200 `{"id":"1","name":"Ada Lovelace"}` (404 for an unknown id);
//! `POST /api/authors/4` with `{"name":"Edsger Dijkstra"}` → 201 `{"id":"4","name":"Edsger Dijkstra"}`;
//! `PUT /api/authors/1` with `{"name":"Ada King"}` → 200 `{"id":"1","name":"Ada King"}`;
//! `DELETE /api/authors/1` → 200 `{"message":"Author 1 deleted"}`; `PATCH` → 405.
//! (The authors are a fixed list: nothing is stored. `examples/notes` keeps state.)
use docs::{find_author, Author, AuthorInput};
use nextr::prelude::*;

pub async fn handler(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    let id = req.query.str("id").unwrap_or_default().to_owned();
    match req.method {
        Method::GET => match find_author(&id) {
            Some(author) => res.status(200).json(&author),
            None => res
                .status(404)
                .json(&json!({ "error": format!("Author {id} not found") })),
        },
        Method::POST | Method::PUT => {
            // A body that is not `{"name": "…"}` is a 400 naming the problem.
            let input: AuthorInput = req.json()?;
            let status = if req.method == Method::POST { 201 } else { 200 };
            res.status(status).json(&Author {
                id,
                name: input.name,
            })
        }
        Method::DELETE => res
            .status(200)
            .json(&json!({ "message": format!("Author {id} deleted") })),
        _ => {
            res.set_header("Allow", "GET, POST, PUT, DELETE")?;
            res.status(405)
                .json(&json!({ "error": format!("Method {} Not Allowed", req.method) }))
        }
    }
}
