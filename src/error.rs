//! The top-level error and its one mapping to HTTP.
//!
//! Variants are named by cause and tagged with where the fault lies (pingora
//! style). [`Error::status`] is the whole status table; [`IntoResponse`] writes a
//! short JSON body with `Cache-Control: no-store` so a CDN never caches an error.

use std::sync::Arc;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use thiserror::Error;

/// Everything a request can fail with.
#[derive(Debug, Error)]
pub enum Error {
    /// Downstream: the request path, query or session id is malformed.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// Downstream: no playback configuration by that name.
    #[error("unknown playback configuration `{0}`")]
    UnknownConfig(String),
    /// Downstream: the session does not exist (expired, or never did).
    #[error("unknown or expired session")]
    UnknownSession,
    /// Downstream: no such route.
    #[error("no such route")]
    NotFound,
    /// The shared session store cannot be reached; retry later.
    #[error("session store unavailable")]
    StoreUnavailable,
    /// The session store's budget is spent by sessions in use; retry later.
    #[error("session store full: too many sessions in use; retry later")]
    StoreFull,
    /// Upstream: the origin answered 404.
    #[error("origin has no such manifest: {0}")]
    OriginNotFound(String),
    /// Upstream: the origin did not answer in time.
    #[error("origin timed out: {0}")]
    OriginTimeout(String),
    /// Upstream: the origin could not be reached, failed, or sent something that is
    /// not a manifest.
    #[error("origin failed: {0}")]
    OriginFailed(String),
    /// Upstream: a live origin's media sequence numbers went back past what the
    /// session was served (an encoder restart); the session cannot go on.
    #[error("origin sequence reset: {0}")]
    OriginSequenceReset(String),
    /// Internal: a bug.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// The HTTP status for this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::UnknownConfig(_) | Error::UnknownSession | Error::NotFound => {
                StatusCode::NOT_FOUND
            }
            Error::OriginNotFound(_) => StatusCode::NOT_FOUND,
            Error::OriginTimeout(_) => StatusCode::GATEWAY_TIMEOUT,
            Error::OriginFailed(_) | Error::OriginSequenceReset(_) => StatusCode::BAD_GATEWAY,
            Error::StoreUnavailable | Error::StoreFull => StatusCode::SERVICE_UNAVAILABLE,
            Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A stable machine-readable code for the JSON body.
    pub fn code(&self) -> &'static str {
        match self {
            Error::BadRequest(_) => "bad_request",
            Error::UnknownConfig(_) => "unknown_config",
            Error::UnknownSession => "unknown_session",
            Error::NotFound => "not_found",
            Error::OriginNotFound(_) => "origin_not_found",
            Error::OriginTimeout(_) => "origin_timeout",
            Error::OriginFailed(_) => "origin_failed",
            Error::OriginSequenceReset(_) => "origin_sequence_reset",
            Error::StoreUnavailable => "session_store_unavailable",
            Error::StoreFull => "session_store_full",
            Error::Internal(_) => "internal",
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self {
            Error::Internal(_) => "internal error".to_string(),
            other => other.to_string(),
        };
        let body = serde_json::json!({ "error": self.code(), "message": message, "status": status.as_u16() });
        let mut resp = (status, axum::Json(body)).into_response();
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if matches!(self, Error::StoreFull) {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
        }
        resp.extensions_mut().insert(Arc::new(self));
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_table() {
        let table = [
            (Error::BadRequest("x".into()), 400),
            (Error::UnknownConfig("x".into()), 404),
            (Error::UnknownSession, 404),
            (Error::NotFound, 404),
            (Error::OriginNotFound("u".into()), 404),
            (Error::OriginTimeout("u".into()), 504),
            (Error::OriginFailed("u".into()), 502),
            (Error::OriginSequenceReset("u".into()), 502),
            (Error::StoreUnavailable, 503),
            (Error::StoreFull, 503),
            (Error::Internal("bug".into()), 500),
        ];
        for (e, status) in table {
            assert_eq!(e.status().as_u16(), status, "{e}");
        }
    }
}
