//! Next.js docs, "Redirects to a specified path or URL": a form posts `name` and `message`;
//! once handled, the client is redirected to `/`.
//!
//! `POST /api/form` with `name=Ada&message=Hi` (urlencoded or JSON) → 307, `Location: /`;
//! without them → 500 `{"error":"Failed to fetch data"}`.
use docs::FormInput;
use nextr::prelude::*;

pub async fn handler(req: &mut NextApiRequest, res: &mut NextApiResponse) -> nextr::Result<()> {
    // `const { name, message } = req.body`: absent fields are empty, as `undefined` is in JS.
    let input: FormInput = req.form().or_else(|_| req.json()).unwrap_or_default();
    match docs::handle_form_input_async(&input).await {
        Ok(()) => res.redirect_with(307, "/"),
        Err(_) => res
            .status(500)
            .send(json!({ "error": "Failed to fetch data" })),
    }
}
