//! HTTP: the axum router, shared state, and the headers a CDN and web players need.
//!
//! I/O. Handlers read like pipeline phases: extract, fetch (I/O), plan and rewrite
//! (pure), respond.

pub mod admin;
pub mod adstore;
pub mod dash;
pub mod guided;
pub mod hls;
pub mod report;
pub mod shutdown;
pub mod state;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue, Method, Request, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

pub use state::AppState;

use crate::error::Error;

/// The player-facing router.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/v1/master/{config}/{*path}", get(hls::master))
        .route(
            "/v1/manifest/{config}/{session}/{*path}",
            get(hls::manifest),
        )
        .route("/v1/dash/{config}/{*rest}", get(dash::dash))
        .route("/v1/segment/{session}/{*rest}", get(report::segment))
        .route("/v1/tracking/{session}", get(report::tracking_doc))
        .route("/v1/assets/{session}/{*rest}", get(guided::ad_playlist))
        .route(
            crate::hls::rendition::EMPTY_WEBVTT_PATH,
            get(hls::empty_webvtt),
        )
        .route(
            "/v1/session/{config}/{*path}",
            axum::routing::post(report::create_session),
        )
        .merge(adstore::routes())
        .route("/v1/configs", get(admin::list))
        .route(
            "/v1/configs/{name}",
            get(admin::get_one).put(admin::put).delete(admin::delete),
        )
        .route("/v1/admin/configs/{name}/validate", get(admin::validate))
        .fallback(fallback)
        .layer(middleware::from_fn(cors_and_errors))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(middleware::from_fn_with_state(state.clone(), client_addr))
        .with_state(state)
}

/// The viewer's address as this instance believes it: the peer's, or, when the
/// peer is a configured proxy (`SPLICEPOINT_TRUSTED_PROXIES`), the last address in
/// `X-Forwarded-For` that is not one (nginx's `real_ip_recursive`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub std::net::IpAddr);

/// Whom to believe about the client's address: `X-Forwarded-For` only from a
/// trusted proxy, walked from the right past the trusted hops. Pure.
pub fn resolve_client_addr(
    peer: std::net::IpAddr,
    forwarded_for: Option<&str>,
    limits: &crate::config::Limits,
) -> std::net::IpAddr {
    if !limits.trusts(peer) {
        return peer;
    }
    let mut addr = peer;
    for hop in forwarded_for.unwrap_or("").rsplit(',').map(str::trim) {
        let Ok(ip) = hop.parse::<std::net::IpAddr>() else {
            break;
        };
        addr = ip;
        if !limits.trusts(ip) {
            break;
        }
    }
    addr
}

async fn client_addr(
    State(state): State<AppState>,
    mut req: Request<Body>,
    next: Next,
) -> Response {
    if let Some(peer) = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip())
    {
        let xff = req
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join(",");
        let addr = resolve_client_addr(peer, Some(&xff), &state.limits);
        req.extensions_mut().insert(ClientAddr(addr));
    }
    next.run(req).await
}

/// A refusal that did not come from our handlers (an extractor's: a path that is
/// not UTF-8, a bad JSON body, a wrong method), rewritten as our JSON error body.
async fn as_json_error(resp: Response) -> Response {
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !status.is_client_error()
        || is_json
        || resp.extensions().get::<std::sync::Arc<Error>>().is_some()
    {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let message = String::from_utf8_lossy(&text).trim().to_string();
    if status == StatusCode::BAD_REQUEST {
        return Error::BadRequest(message).into_response();
    }
    let code = status
        .canonical_reason()
        .unwrap_or("client error")
        .to_ascii_lowercase()
        .replace(' ', "_");
    let body = serde_json::json!({ "error": code, "message": message, "status": status.as_u16() });
    let mut out = (status, axum::Json(body)).into_response();
    for name in [header::ALLOW, header::RETRY_AFTER] {
        if let Some(v) = parts.headers.get(&name) {
            out.headers_mut().insert(name, v.clone());
        }
    }
    out.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    out
}

async fn healthz() -> impl IntoResponse {
    ([(header::CACHE_CONTROL, "no-store")], "ok\n")
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, crate::events::CONTENT_TYPE),
            (header::CACHE_CONTROL, "no-store"),
        ],
        state
            .metrics
            .render(state.sessions.held().await, state.sessions.errors()),
    )
}

/// The kind of a player-facing request (a `kind` of
/// `splicepoint_request_duration_seconds`) and the configuration its path names,
/// if any; `None` for routes that are not timed (health, metrics, admin, ad
/// segments). Pure.
pub fn request_kind<'a>(
    path: &'a str,
    query: Option<&str>,
) -> Option<(&'static str, Option<&'a str>)> {
    use crate::events::kind;
    let rest = path.strip_prefix("/v1/")?;
    let (route, rest) = rest.split_once('/')?;
    let config = || rest.split('/').next().filter(|c| !c.is_empty());
    let asset_list = query.is_some_and(|q| {
        q.split('&')
            .any(|kv| kv.split('=').next() == Some(crate::hls::interstitial::BREAK_PARAM))
    });
    Some(match route {
        "master" => (kind::HLS_MASTER, config()),
        "manifest" if asset_list => (kind::ASSET_LIST, config()),
        "manifest" => (kind::HLS_MEDIA, config()),
        "dash" => (kind::DASH_MPD, config()),
        "session" => (kind::SESSION, config()),
        "segment" => (kind::SEGMENT_REDIRECT, None),
        "tracking" => (kind::TRACKING, None),
        "assets" => (kind::AD_PLAYLIST, None),
        _ => return None,
    })
}

/// The configuration a response was for, set by handlers whose path does not
/// name it (session-scoped routes), for the `config` label.
#[derive(Debug, Clone)]
pub struct ConfigLabel(pub String);

/// Time player-facing requests: `splicepoint_request_duration_seconds` by kind,
/// outcome and configuration. The configuration is a label only when it is one
/// that is loaded (a path names anything).
async fn observe(State(state): State<AppState>, req: Request<Body>, next: Next) -> Response {
    let timed = req.method() != Method::OPTIONS;
    let Some((kind, named)) = request_kind(req.uri().path(), req.uri().query()).filter(|_| timed)
    else {
        // CORS preflights are not requests for what the path names.
        return next.run(req).await;
    };
    let named = named.map(str::to_owned);
    let start = std::time::Instant::now();
    let resp = next.run(req).await;
    let secs = start.elapsed().as_secs_f64();
    let config = match resp.extensions().get::<ConfigLabel>() {
        Some(c) => c.0.clone(),
        None => named
            .and_then(|n| state.channel(&n).map(|c| c.name.clone()))
            .unwrap_or_default(),
    };
    state
        .metrics
        .request(kind, resp.status().as_u16(), &config, secs);
    resp
}

async fn fallback() -> Error {
    Error::NotFound
}

/// CORS for web players on other origins, preflight answers, and one log line per
/// error response.
async fn cors_and_errors(req: Request<Body>, next: Next) -> Response {
    let preflight = req.method() == Method::OPTIONS;
    let mut resp = if preflight {
        StatusCode::NO_CONTENT.into_response()
    } else {
        as_json_error(next.run(req).await).await
    };
    let h = resp.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("Location, Content-Length, Date"),
    );
    if preflight {
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, HEAD, OPTIONS"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("*"),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("86400"),
        );
    }
    if let Some(e) = resp.extensions().get::<std::sync::Arc<Error>>() {
        if e.status().is_server_error() {
            tracing::warn!(status = e.status().as_u16(), error = %e, "Request failed.");
        } else {
            tracing::debug!(status = e.status().as_u16(), error = %e, "Request refused.");
        }
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::kind;

    #[test]
    fn request_kinds_and_the_configuration_named() {
        assert_eq!(
            request_kind("/v1/master/c/live/master.m3u8", Some("pod=two")),
            Some((kind::HLS_MASTER, Some("c")))
        );
        assert_eq!(
            request_kind("/v1/manifest/c/0123/live/v.m3u8", None),
            Some((kind::HLS_MEDIA, Some("c")))
        );
        assert_eq!(
            request_kind("/v1/manifest/c/0123/live/v.m3u8", Some("sgai.break=61")),
            Some((kind::ASSET_LIST, Some("c")))
        );
        assert_eq!(
            request_kind("/v1/dash/c/dash/m.mpd", None),
            Some((kind::DASH_MPD, Some("c")))
        );
        assert_eq!(
            request_kind("/v1/session/c/live/master.m3u8", None),
            Some((kind::SESSION, Some("c")))
        );
        assert_eq!(
            request_kind("/v1/segment/0123/ab/0", None),
            Some((kind::SEGMENT_REDIRECT, None))
        );
        assert_eq!(
            request_kind("/v1/tracking/0123", None),
            Some((kind::TRACKING, None))
        );
        assert_eq!(
            request_kind("/v1/assets/0123/ab/0/master.m3u8", None),
            Some((kind::AD_PLAYLIST, None))
        );
        for untimed in [
            "/metrics",
            "/healthz",
            "/v1/configs/c",
            "/v1/ads/x/y.ts",
            "/v1/master",
        ] {
            assert_eq!(request_kind(untimed, None), None, "{untimed}");
        }
    }
}
