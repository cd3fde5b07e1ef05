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
//!
//! Every connection is bounded by [`ConnLimits`]: a header-read timeout, an idle
//! timeout, and a cap on connections open at once.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};

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

/// What a client connection may hold (issue #13): slow or idle clients are cut
/// off, and the number of connections is capped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnLimits {
    /// From a request's first byte to the end of its headers; past it the
    /// connection is closed (a slowloris client).
    pub header_read_timeout: Duration,
    /// How long a connection may wait for its next request, and a slow reader may
    /// leave a response unread; past it the connection is closed.
    pub idle_timeout: Duration,
    /// Connections open at once; more wait in the listen backlog until one closes.
    pub max_connections: usize,
}

impl ConnLimits {
    /// The connection limits of `limits`.
    pub fn from_limits(limits: &crate::config::Limits) -> Self {
        Self {
            header_read_timeout: limits.header_read_timeout,
            idle_timeout: limits.idle_timeout,
            max_connections: limits.max_connections.max(1),
        }
    }
}

impl Default for ConnLimits {
    fn default() -> Self {
        Self::from_limits(&crate::config::Limits::default())
    }
}

/// Serve `app` (already behind [`Drain::layer`]) until `trigger` completes, then
/// drain and close as the module says, with the default [`ConnLimits`]. Returns
/// when the server has stopped.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    drain: Drain,
    timings: Timings,
    trigger: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(
        listener,
        app,
        drain,
        timings,
        ConnLimits::default(),
        trigger,
    )
    .await
}

/// [`serve`] with the given connection limits.
pub async fn serve_with(
    listener: TcpListener,
    app: Router,
    drain: Drain,
    timings: Timings,
    limits: ConnLimits,
    trigger: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (closing_tx, closing_rx) = watch::channel(false);
    {
        let drain = drain.clone();
        tokio::spawn(async move {
            trigger.await;
            drain.begin();
            tracing::info!(
                drain_ms = timings.drain.as_millis() as u64,
                grace_ms = timings.grace.as_millis() as u64,
                "Shutting down: unready, draining."
            );
            tokio::time::sleep(timings.drain).await;
            let _ = closing_tx.send(true);
            // Keep the sender: receivers see "closing", not "gone".
            std::future::pending::<()>().await;
        });
    }
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let mut closing = closing_rx.clone();
    loop {
        // A connection slot first: past the cap, clients wait in the backlog.
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = closed(&mut closing) => break,
        };
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    tracing::warn!(error = %e, "Accept failed.");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = closed(&mut closing) => break,
        };
        tokio::spawn(connection(
            stream,
            peer,
            app.clone(),
            limits,
            closing_rx.clone(),
            permit,
        ));
    }
    drop(listener);
    tracing::info!("Listener closed; finishing the requests in flight.");
    // Every connection holds a permit until it ends.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    match tokio::time::timeout(timings.grace, permits.acquire_many(all)).await {
        Ok(_) => tracing::info!("Stopped."),
        Err(_) => tracing::warn!(
            grace_ms = timings.grace.as_millis() as u64,
            "Requests still in flight at the end of the grace period; stopping anyway."
        ),
    }
    Ok(())
}

/// When the server starts closing (or its signal is gone).
async fn closed(rx: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns is dropped here, not held by the caller.
    let _ = rx.wait_for(|c| *c).await;
}

/// What a connection is doing, for its timeouts. Times are milliseconds since
/// `epoch`.
struct Activity {
    epoch: Instant,
    /// Last byte read or written.
    last_active: AtomicU64,
    /// When the first byte of a request head arrived (0: none pending).
    head_started: AtomicU64,
    /// Requests being answered.
    in_flight: AtomicUsize,
}

impl Activity {
    fn now(&self) -> u64 {
        // +1: 0 means "none" in `head_started`.
        self.epoch.elapsed().as_millis() as u64 + 1
    }

    fn on_read(&self) {
        let now = self.now();
        self.last_active.store(now, Ordering::Relaxed);
        if self.in_flight.load(Ordering::Relaxed) == 0 {
            let _ =
                self.head_started
                    .compare_exchange(0, now, Ordering::Relaxed, Ordering::Relaxed);
        }
    }

    fn on_write(&self) {
        self.last_active.store(self.now(), Ordering::Relaxed);
    }

    fn request_started(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.head_started.store(0, Ordering::Relaxed);
    }

    fn request_finished(&self) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
        self.last_active.store(self.now(), Ordering::Relaxed);
    }

    /// `Err(reason)` when the connection must close now, else when to look again.
    fn check(&self, limits: &ConnLimits) -> Result<Instant, &'static str> {
        let now = self.now();
        let at = |ms: u64| self.epoch + Duration::from_millis(ms.saturating_sub(1));
        if self.in_flight.load(Ordering::Relaxed) > 0 {
            return Ok(at(now + limits.idle_timeout.as_millis() as u64));
        }
        let head = self.head_started.load(Ordering::Relaxed);
        let (since, limit, reason) = if head != 0 {
            (head, limits.header_read_timeout, "header read timeout")
        } else {
            (
                self.last_active.load(Ordering::Relaxed),
                limits.idle_timeout,
                "idle timeout",
            )
        };
        let deadline = since + limit.as_millis() as u64;
        if now >= deadline {
            Err(reason)
        } else {
            Ok(at(deadline))
        }
    }
}

/// A socket that tells its [`Activity`] when bytes move.
struct Watched {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.on_read();
        }
        r
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.on_write();
        }
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.on_write();
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Serve one connection until it ends, times out, or the server closes (then
/// the request in flight finishes first).
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    limits: ConnLimits,
    mut closing: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
) {
    let _ = stream.set_nodelay(true);
    let activity = Arc::new(Activity {
        epoch: Instant::now(),
        last_active: AtomicU64::new(1),
        head_started: AtomicU64::new(0),
        in_flight: AtomicUsize::new(0),
    });
    let io = TokioIo::new(Watched {
        inner: stream,
        activity: activity.clone(),
    });
    let tower = TowerToHyperService::new(app);
    let act = activity.clone();
    let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
        act.request_started();
        req.extensions_mut().insert(ConnectInfo(peer));
        let call = hyper::service::Service::call(&tower, req);
        let act = act.clone();
        async move {
            let resp = call.await;
            act.request_finished();
            resp
        }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(io, service);
    tokio::pin!(conn);
    let mut shutting = false;
    loop {
        let next = match activity.check(&limits) {
            Ok(at) => at,
            Err(reason) => {
                tracing::debug!(%peer, reason, "Connection closed.");
                return;
            }
        };
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!(%peer, error = %e, "Connection ended with an error.");
                }
                return;
            }
            () = closed(&mut closing), if !shutting => {
                shutting = true;
                conn.as_mut().graceful_shutdown();
            }
            () = tokio::time::sleep_until(next.into()) => {}
        }
    }
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
