//! `POST /api/admin/import`: imports an air-gap bundle (`rskill export`) into the running
//! server, streamed as the request body. Needs a token with the manage right, whose
//! namespaces cover every repo of the bundle; the body is staged on disk while it is
//! verified, then checked and applied under the catalog's writer lock (the governance
//! checks with the keys of `serve --governance-key`), and the imported repos are served
//! at once (docs/airgap.md).

use std::io::Read;

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::Response;
use bytes::Bytes;
use futures_util::StreamExt;

use super::app::{App, Ctx, json_response};
use super::errors::ApiError;
use super::immutable::Actor;
use super::import::ImportOptions;

/// The request body as a blocking `Read`, one chunk at a time (on a blocking thread).
struct BodyReader {
    stream: axum::body::BodyDataStream,
    handle: tokio::runtime::Handle,
    chunk: Bytes,
}

/// An import that stopped early (a damaged bundle, a refused namespace) leaves the rest of
/// the body unread: it is discarded, up to a bound, so the client gets the answer rather
/// than a connection cut while it was still sending.
impl Drop for BodyReader {
    fn drop(&mut self) {
        let stream = std::mem::replace(&mut self.stream, Body::empty().into_data_stream());
        super::body::discard(Body::from_stream(stream));
    }
}

impl Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.chunk.is_empty() {
            match self.handle.block_on(self.stream.next()) {
                Some(Ok(c)) => self.chunk = c,
                Some(Err(e)) => return Err(std::io::Error::other(e)),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len());
        buf[..n].copy_from_slice(&self.chunk.split_to(n));
        Ok(n)
    }
}

/// Answers `POST /api/admin/import` with the import report.
pub async fn import(app: &App, ctx: &Ctx, body: Body) -> Result<Response, ApiError> {
    let identity = match ctx.caller.require_write_token() {
        Ok(i) => i.clone(),
        Err(e) => {
            super::body::discard(body);
            return Err(e);
        }
    };
    if let Err(e) = Actor::from(&identity).require_manage(|| "importing a bundle".into()) {
        super::body::discard(body);
        return Err(e.into());
    }
    let catalog = app.catalog.clone();
    let keys = app.governance_keys.clone();
    let handle = tokio::runtime::Handle::current();
    let stream = body.into_data_stream();
    let report = tokio::task::spawn_blocking(move || {
        let reader = BodyReader {
            stream,
            handle,
            chunk: Bytes::new(),
        };
        let may_write = |owner: &str| identity.can_write(owner);
        catalog.import(
            std::io::BufReader::with_capacity(1 << 20, reader),
            &ImportOptions {
                on_step: None,
                may_write: Some(&may_write),
                governance_keys: &keys,
            },
        )
    })
    .await
    .map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "ServerError",
            format!("the import task failed: {e}"),
        )
    })??;
    Ok(json_response(
        &serde_json::to_value(&report).unwrap_or_default(),
    ))
}
