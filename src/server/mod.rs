//! HTTP: the axum router, shared state, and the headers a CDN and web players need.
//!
//! I/O. Handlers read like pipeline phases: extract, fetch (I/O), plan and rewrite
//! (pure), respond.

pub mod admin;
pub mod adstore;
pub mod dash;
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
        .with_state(state)
}

async fn healthz() -> impl IntoResponse {
    ([(header::CACHE_CONTROL, "no-store")], "ok\n")
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/plain; version=0.0.4"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        format!(
            "{}# TYPE splicepoint_session_store_errors_total counter\nsplicepoint_session_store_errors_total {}\n",
            state.metrics.render(),
            state.sessions.errors()
        ),
    )
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
        next.run(req).await
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
