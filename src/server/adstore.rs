//! `GET /v1/ads/{key}`: transcoded ads (playlists, MPDs, segments) from the
//! segment store. Every object is immutable once written, so the answer may be
//! cached for a year by players and CDNs.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::AppState;
use crate::error::Error;
use crate::transcode::store::is_safe_key;

/// Cache-Control of stored ad objects.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The routes (merged into the main router).
pub fn routes() -> Router<AppState> {
    Router::new().route("/v1/ads/{*key}", get(ad_object))
}

/// Media type by file name.
pub fn content_type(key: &str) -> &'static str {
    match key.rsplit('.').next() {
        Some("m3u8") => "application/vnd.apple.mpegurl",
        Some("mpd") => "application/dash+xml",
        Some("ts") => "video/mp2t",
        Some("m4s") | Some("mp4") => "video/mp4",
        Some("m4a") => "audio/mp4",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

async fn ad_object(State(st): State<AppState>, Path(key): Path<String>) -> Result<Response, Error> {
    if !is_safe_key(&key) || key.ends_with("index.json") {
        return Err(Error::NotFound);
    }
    let store = st.transcoder.store().ok_or(Error::NotFound)?;
    let bytes = store
        .get(&key)
        .await
        .map_err(|e| Error::Internal(e.to_string()))?
        .ok_or(Error::NotFound)?;
    let mut resp = Body::from(bytes).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(&key)),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types() {
        assert_eq!(
            content_type("a/b/master.m3u8"),
            "application/vnd.apple.mpegurl"
        );
        assert_eq!(content_type("a/hls/v0/seg00001.ts"), "video/mp2t");
        assert_eq!(content_type("a/dash/v0/seg-1.m4s"), "video/mp4");
    }
}
