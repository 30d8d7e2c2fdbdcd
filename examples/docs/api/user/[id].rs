//! Next.js docs, "HTTP Methods", as the "API Routes with REST" example does it
//! (`pages/api/user/[id]`): dispatch on `req.method`, 405 with `Allow` for the rest.
//!
//! `GET /api/user/7` → 200 `{"id":7,"name":"User 7"}`; `PUT /api/user/7?name=Ada` → 200
//! `{"id":7,"name":"Ada"}`; `DELETE /api/user/7` → 405 `Method DELETE Not Allowed`,
//! `Allow: GET, PUT`.
use docs::{js_number, parse_int};
use nextr::prelude::*;

pub async fn handler(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    // `parseInt(query.id, 10)`: `NaN` (JSON `null`) when the id is not a number, as in Next.
    let id = parse_int(req.query.str("id").unwrap_or_default());
    let name = req.query.str("name").unwrap_or_default();
    match req.method {
        Method::GET => {
            // Get data from your database.
            let name = format!("User {}", js_number(id));
            res.status(200).json(&json!({ "id": id, "name": name }))
        }
        Method::PUT => {
            // Update or create data in your database.
            let name = if name.is_empty() {
                format!("User {}", js_number(id))
            } else {
                name.to_owned()
            };
            res.status(200).json(&json!({ "id": id, "name": name }))
        }
        _ => {
            res.set_header_values("Allow", ["GET", "PUT"])?;
            res.status(405)
                .end_with(format!("Method {} Not Allowed", req.method))
        }
    }
}
