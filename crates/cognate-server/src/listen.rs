//! The accept loop: HTTP/1.1 connections with bounded headers, a deadline for a request's head
//! to arrive (which also closes idle keep-alive connections), a cap on open connections, and a
//! graceful stop that lets requests in flight finish. With TLS the same holds, and the
//! handshake too must end within the request timeout.
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
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
/// `request_timeout`, after which the remaining ones are dropped). With `tls`, every connection
/// is HTTPS.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    tls: Option<Arc<rustls::ServerConfig>>,
    stop: oneshot::Receiver<()>,
) {
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
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
        let http = http.clone();
        let app = app.clone();
        let acceptor = acceptor.clone();
        let mut closing = closing_rx.clone();
        connections.spawn(async move {
            let Some(acceptor) = acceptor else {
                let mut stream = stream;
                drive(&http, &mut stream, app, closing).await;
                drop(permit);
                linger(stream).await;
                return;
            };
            let _permit = permit;
            // A stop during the handshake drops the connection: no request is in flight yet.
            let handshake = tokio::select! {
                r = tokio::time::timeout(limits.request_timeout, handshake(&acceptor, stream)) => r,
                _ = closing.changed() => return,
            };
            match handshake {
                Ok(Ok(Some(mut tls))) => {
                    drive(&http, &mut tls, app, closing).await;
                    linger(tls.into_inner().0).await;
                }
                Ok(Ok(None)) => {}
                Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                Err(_) => tracing::debug!("TLS handshake timed out"),
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

/// Serves HTTP/1.1 on one connection until it ends, or until `closing` asks it to finish the
/// request in flight and close.
async fn drive<I>(
    http: &hyper::server::conn::http1::Builder,
    io: &mut I,
    app: Router,
    mut closing: watch::Receiver<bool>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send,
{
    let conn = http.serve_connection(TokioIo::new(io), TowerToHyperService::new(app));
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
}

/// How long a closed connection keeps reading what the client still sends.
const LINGER: Duration = Duration::from_secs(1);

/// Closes a connection the way RFC 9112 §9.6 asks: stop writing, then read and discard what the
/// client is still sending for a moment. Closing with unread data makes the kernel reset the
/// connection, and the reset can destroy an answer the client has not read yet (a 431 for an
/// oversized head, a 408) while it is still writing.
async fn linger(mut stream: TcpStream) {
    let _ = stream.shutdown().await;
    let mut sink = [0u8; 8192];
    let _ = tokio::time::timeout(LINGER, async {
        let mut left = 1024 * 1024usize;
        while left > 0 {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(n) => left = left.saturating_sub(n),
            }
        }
    })
    .await;
}

/// What a plain HTTP request on the HTTPS port is told, before the connection closes.
const PLAIN_HTTP_ANSWER: &[u8] = b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n\
Content-Length: 55\r\nConnection: close\r\n\r\n\
This port speaks HTTPS: use https:// to reach Cognate.\n";

/// The TLS handshake of a new connection. A client speaking plain HTTP (its first byte is not a
/// TLS handshake record's) is answered 400 in plain text and gets `None`, as does one that
/// closes before sending anything.
async fn handshake(
    acceptor: &tokio_rustls::TlsAcceptor,
    mut stream: TcpStream,
) -> std::io::Result<Option<tokio_rustls::server::TlsStream<TcpStream>>> {
    let mut first = [0u8; 1];
    if stream.peek(&mut first).await? == 0 {
        return Ok(None);
    }
    if first[0] != 0x16 {
        // Read the request's head first (up to 4 KiB; the caller's timeout bounds the wait), so
        // that the client is not still sending when the connection closes.
        let mut head = vec![0u8; 4096];
        let mut len = 0;
        while len < head.len() && !head[..len].windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut head[len..]).await {
                Ok(0) | Err(_) => break,
                Ok(n) => len += n,
            }
        }
        let _ = stream.write_all(PLAIN_HTTP_ANSWER).await;
        let _ = stream.shutdown().await;
        return Ok(None);
    }
    acceptor.accept(stream).await.map(Some)
}
