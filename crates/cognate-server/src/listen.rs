//! The accept loop: HTTP/1.1 connections with bounded headers, a deadline for a request's head
//! to arrive (which also closes idle keep-alive connections), a cap on open connections, and a
//! graceful stop that lets requests in flight finish.
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, oneshot, watch};
use tokio::task::JoinSet;

/// Limits on what a client may hold open or send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// A request must arrive and be answered within this: its head must arrive within it (or the
    /// connection is closed, as is a keep-alive connection idle that long), and its body and
    /// answer too (408 RequestTimeout otherwise). Default 30 s.
    pub request_timeout: Duration,
    /// The largest request head (request line and headers) accepted; larger ones are answered
    /// 431. Default 16 KiB.
    pub max_header_bytes: usize,
    /// Connections open at once; further ones wait (in the listen backlog) until one closes.
    /// Default 1024.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
            max_header_bytes: 16 * 1024,
            max_connections: 1024,
        }
    }
}

/// hyper's read buffer bound: a head that does not fit is refused (431), however slowly it comes.
fn max_buf_size(limits: &Limits) -> usize {
    (limits.max_header_bytes * 2).max(8 * 1024)
}

/// Serves `app` on `listener` until `stop` fires, then stops accepting, asks every connection
/// to close once its request in flight is answered, and waits for them (at most one
/// `request_timeout`, after which the remaining ones are dropped).
pub async fn serve(listener: TcpListener, app: Router, limits: Limits, stop: oneshot::Receiver<()>) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.request_timeout)
        .max_header_size(limits.max_header_bytes)
        .max_buf_size(max_buf_size(&limits));
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let (closing, closing_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(stop);
    loop {
        // A permit first: past the cap, connections wait in the listen backlog, unaccepted.
        let permit = tokio::select! {
            _ = &mut stop => break,
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let stream = tokio::select! {
            _ = &mut stop => break,
            r = listener.accept() => match r {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        while connections.try_join_next().is_some() {}
        let _ = stream.set_nodelay(true);
        let conn = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone()));
        let mut closing = closing_rx.clone();
        connections.spawn(async move {
            let _permit = permit;
            tokio::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => {
                    if let Err(e) = r {
                        tracing::debug!(error = %e, "connection ended");
                    }
                }
                _ = closing.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
    drop(listener);
    let _ = closing.send(true);
    let drained = tokio::time::timeout(limits.request_timeout, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            connections = connections.len(),
            "connections still open after the request timeout: closing them"
        );
        connections.shutdown().await;
    }
}
