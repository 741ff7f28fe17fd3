//! `POST /api/validate-yaml`: the check `huggingface_hub` runs on a `README.md` before it
//! uploads it. The front matter must be a readable YAML mapping; errors come back as
//! `{"errors": [{"message": …}]}` with a 400, as on the Hub.

use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use super::app::{json_response, json_with_status};
use super::body;
use super::errors::ApiError;

#[derive(Deserialize)]
struct ValidateBody {
    content: String,
}

/// Answers a validate-yaml request.
pub fn validate_yaml(raw: &[u8]) -> Result<Response, ApiError> {
    let req: ValidateBody = body::parse_json(raw)?;
    let problem = crate::card::split(&req.content)
        .and_then(|card| crate::card::metadata(&card).map(|_| ()))
        .err();
    Ok(match problem {
        None => json_response(&json!({ "errors": [], "warnings": [] })),
        Some(message) => json_with_status(
            StatusCode::BAD_REQUEST,
            &json!({ "error": message, "errors": [{ "message": message }], "warnings": [] }),
        ),
    })
}
