//! Graceful shutdown: on SIGTERM (or Ctrl-C) an instance turns unready, keeps
//! serving while load balancers take it out of rotation, then stops accepting
//! connections and lets the requests in flight finish, within a bound.
//!
//! I/O. The phases, with [`Timings`]:
//! 1. **Drain** (`drain`): `/readyz` answers 503 `draining` (`/healthz` stays 200:
//!    the process is alive); every response carries `Connection: close`, so keep-alive
//!    clients (a CDN, nginx) open their next request elsewhere. Requests are still
//!    served, new connections still accepted.
//! 2. **Close** (at most `grace`): the listener closes; requests in flight finish;
//!    the server returns when the last connection is done, or when `grace` has
//!    passed, whichever is first.

use std::future::{Future, IntoFuture as _};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tokio::net::TcpListener;

/// How long each phase lasts.
#[derive(Debug, Clone, Copy)]
pub struct Timings {
    /// Unready but serving, before the listener closes.
    pub drain: Duration,
    /// Longest wait for the requests in flight once the listener is closed.
    pub grace: Duration,
}

impl Default for Timings {
    fn default() -> Self {
        Self {
            drain: Duration::from_secs(5),
            grace: Duration::from_secs(20),
        }
    }
}

/// Whether this instance is draining. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Drain(Arc<AtomicBool>);

impl Drain {
    /// Start draining: unready from now on.
    pub fn begin(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Draining?
    pub fn is_draining(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// `app` with `/readyz` unready and `Connection: close` on every response
    /// while draining.
    pub fn layer(&self, app: Router) -> Router {
        app.layer(middleware::from_fn_with_state(self.clone(), drain_layer))
    }
}

async fn drain_layer(State(drain): State<Drain>, req: Request<Body>, next: Next) -> Response {
    if !drain.is_draining() {
        return next.run(req).await;
    }
    let mut resp = if req.uri().path() == "/readyz" {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CACHE_CONTROL, "no-store")],
            "draining\n",
        )
            .into_response()
    } else {
        next.run(req).await
    };
    resp.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    resp
}

/// SIGTERM or Ctrl-C, whichever comes first.
pub async fn terminate_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "Cannot listen for SIGTERM; Ctrl-C only.");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Serve `app` (already behind [`Drain::layer`]) until `trigger` completes, then
/// drain and close as the module says. Returns when the server has stopped.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    drain: Drain,
    timings: Timings,
    trigger: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (closing_tx, closing_rx) = tokio::sync::oneshot::channel::<()>();
    let signal = {
        let drain = drain.clone();
        async move {
            trigger.await;
            drain.begin();
            tracing::info!(
                drain_ms = timings.drain.as_millis() as u64,
                grace_ms = timings.grace.as_millis() as u64,
                "Shutting down: unready, draining."
            );
            tokio::time::sleep(timings.drain).await;
            tracing::info!("Listener closed; finishing the requests in flight.");
            let _ = closing_tx.send(());
        }
    };
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(signal);
    let bound = async move {
        if closing_rx.await.is_err() {
            // The server ended before closing began: it decides.
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(timings.grace).await;
    };
    tokio::select! {
        r = server.into_future() => {
            r?;
            tracing::info!("Stopped.");
        }
        () = bound => {
            tracing::warn!(
                grace_ms = timings.grace.as_millis() as u64,
                "Requests still in flight at the end of the grace period; stopping anyway."
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;

    #[tokio::test]
    async fn readyz_turns_unready_and_connections_close_while_draining() {
        let drain = Drain::default();
        let app = drain.layer(
            Router::new()
                .route("/readyz", get(|| async { "ok\n" }))
                .route("/x", get(|| async { "x" })),
        );
        let call = |path: &'static str| {
            let app = app.clone();
            async move {
                use tower::ServiceExt as _;
                app.oneshot(Request::get(path).body(Body::empty()).unwrap())
                    .await
                    .unwrap()
            }
        };
        assert_eq!(call("/readyz").await.status(), 200);
        assert!(call("/x").await.headers().get(header::CONNECTION).is_none());
        drain.begin();
        let r = call("/readyz").await;
        assert_eq!(r.status(), 503);
        assert_eq!(r.headers()[header::CONNECTION], "close");
        let r = call("/x").await;
        assert_eq!(r.status(), 200, "requests are still served while draining");
        assert_eq!(r.headers()[header::CONNECTION], "close");
    }
}
