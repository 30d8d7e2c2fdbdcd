//! `POST /api/upload`: a `multipart/form-data` upload (`curl -F file=@photo.jpg -F note=hi`),
//! read with `request.formData()`. Answers 201 with what was kept: the file's name, type and
//! size, and the text fields. Not a form → 400 with Next's `TypeError` message; no `file`
//! part → 400. Lambda takes at most 6 MB per request (Next reads 20 MB): a bigger upload is a
//! 413 from the gateway before this function runs.
use links::Store;
use nextr::app::prelude::*;
use nextr::form::FormValue;

nextr::config! {
    max_duration: 10,
}

/// `POST /api/upload`.
pub async fn post(mut req: NextRequest) -> nextr::Result<Response> {
    let form = match req.form_data().await {
        Ok(form) => form,
        Err(e) => {
            let error = format!("{}: {e}", e.name());
            return Ok(Response::json(&json!({ "error": error })).status(StatusCode::BAD_REQUEST));
        }
    };
    let Some(file) = form.file("file") else {
        return Ok(Response::json(&json!({ "error": "expected a file part named `file`" }))
            .status(StatusCode::BAD_REQUEST));
    };
    let stored = Store::open()?.save_upload(&file.bytes)?;
    let fields: serde_json::Map<String, serde_json::Value> = form
        .entries()
        .iter()
        .filter_map(|(name, value)| match value {
            FormValue::Text(text) => Some((name.clone(), json!(text))),
            FormValue::File(_) => None,
        })
        .collect();
    Ok(Response::json(&json!({
        "stored": stored,
        "file": { "name": file.name, "type": file.content_type, "size": file.bytes.len() },
        "fields": fields,
    }))
    .status(StatusCode::CREATED))
}
