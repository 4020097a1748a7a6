//! The SMTP sender: up to `mail.connections` long-lived connections to
//! the server of `mail.smtp_url`, each on a socket with `TCP_NODELAY`.
//!
//! lettre writes a message and its final `.` in two writes; on a socket
//! with Nagle's algorithm the second waits for the server's delayed ACK
//! (about 40 ms a message). The sender therefore opens each TCP
//! connection itself, sets `TCP_NODELAY`, and hands it to lettre
//! (`AsyncSmtpConnection::connect_with_transport`), then does what
//! lettre's transport does: STARTTLS when asked (`?tls=required`, or
//! `?tls=opportunistic` when offered), TLS from the start for `smtps://`,
//! and `AUTH` with `user:password@`.
//!
//! A connection is used by one hand-off at a time and put back after it;
//! one that failed (lettre closes it on any error reply) or timed out is
//! dropped, and the next hand-off opens a new one. A connection idle for
//! longer than [`IDLE`] is closed (QUIT) rather than reused, as servers
//! hang up on idle clients.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::transport::{classify, Outcome};

/// How long a connect, or one message's hand-off, may take.
const TIMEOUT: Duration = Duration::from_secs(30);
/// A connection idle longer than this is closed, not reused.
pub const IDLE: Duration = Duration::from_secs(30);

/// Where and how to reach the SMTP server (`mail.smtp_url`).
#[derive(Clone)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    pub tls: Tls,
    pub credentials: Option<Credentials>,
    pub hello: ClientId,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tls = match &self.tls {
            Tls::None => "none",
            Tls::Opportunistic(_) => "opportunistic",
            Tls::Required(_) => "required",
            Tls::Wrapper(_) => "wrapper",
        };
        f.debug_struct("Endpoint")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &tls)
            .field("credentials", &self.credentials.is_some())
            .field("hello", &self.hello.to_string())
            .finish()
    }
}

fn decode(s: &str) -> anyhow::Result<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3])?;
            out.push(u8::from_str_radix(hex, 16)?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(String::from_utf8(out)?)
}

impl Endpoint {
    /// Reads `mail.smtp_url` as lettre's `from_url` does: `smtp://host:port`
    /// (port 25 by default) plain, `?tls=required` or `?tls=opportunistic`
    /// for STARTTLS (port 587 by default), `smtps://host:port` for TLS
    /// from the start (port 465 by default); `user:password@` (percent
    /// encoded) signs in; a path names the client in EHLO.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let url = url::Url::parse(text).map_err(|e| anyhow::anyhow!("MADOGUCHI_SMTP_URL: {e}"))?;
        let host = url
            .host_str()
            .ok_or_else(|| anyhow::anyhow!("MADOGUCHI_SMTP_URL: ホスト名がありません"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let tls_param = url
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.to_string());
        let params = || {
            TlsParameters::new(host.clone()).map_err(|e| anyhow::anyhow!("MADOGUCHI_SMTP_URL: {e}"))
        };
        let (port, tls) = match (url.scheme(), tls_param.as_deref()) {
            ("smtp", None) => (25, Tls::None),
            ("smtp", Some("required")) => (587, Tls::Required(params()?)),
            ("smtp", Some("opportunistic")) => (587, Tls::Opportunistic(params()?)),
            ("smtps", _) => (465, Tls::Wrapper(params()?)),
            (scheme, tls) => anyhow::bail!(
                "MADOGUCHI_SMTP_URL: smtp:// または smtps:// と tls=required か tls=opportunistic を指定してください（{scheme}, {tls:?}）"
            ),
        };
        let hello = if url.path().len() > 1 {
            ClientId::Domain(url.path().trim_matches('/').to_owned())
        } else {
            ClientId::default()
        };
        let credentials = match url.password() {
            Some(p) => Some(Credentials::new(decode(url.username())?, decode(p)?)),
            None => None,
        };
        Ok(Self {
            port: url.port().unwrap_or(port),
            host,
            tls,
            credentials,
            hello,
        })
    }
}

/// A TLS stream made by lettre (implicit TLS, `smtps://`) over our own
/// socket, given back to lettre as a plain stream: lettre's stream speaks
/// the `futures` I/O traits, a transport must speak tokio's.
#[allow(deprecated)]
#[derive(Debug)]
struct Implicit(lettre::transport::smtp::client::AsyncNetworkStream);

impl AsyncRead for Implicit {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let slice = buf.initialize_unfilled();
        match futures_io::AsyncRead::poll_read(Pin::new(&mut self.0), cx, slice) {
            Poll::Ready(Ok(n)) => {
                buf.advance(n);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncWrite for Implicit {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        futures_io::AsyncWrite::poll_write(Pin::new(&mut self.0), cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        futures_io::AsyncWrite::poll_flush(Pin::new(&mut self.0), cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        futures_io::AsyncWrite::poll_close(Pin::new(&mut self.0), cx)
    }
}

impl AsyncTokioStream for Implicit {
    fn peer_addr(&self) -> io::Result<std::net::SocketAddr> {
        self.0.peer_addr()
    }
}

struct Idle {
    conn: AsyncSmtpConnection,
    since: Instant,
}

/// The connections of one server's sender (shared by its hand-offs).
#[derive(Clone)]
pub struct Connections {
    inner: Arc<Pool>,
}

struct Pool {
    endpoint: Endpoint,
    permits: Arc<Semaphore>,
    idle: Mutex<Vec<Idle>>,
}

/// The right to use one connection (of `mail.connections`).
pub struct Slot {
    _permit: OwnedSemaphorePermit,
    pool: Arc<Pool>,
}

impl Connections {
    pub fn new(endpoint: Endpoint, connections: usize) -> Self {
        Self {
            inner: Arc::new(Pool {
                endpoint,
                permits: Arc::new(Semaphore::new(connections.max(1))),
                idle: Mutex::new(Vec::new()),
            }),
        }
    }

    /// Waits for a free connection.
    pub async fn slot(&self) -> Slot {
        let permit = self
            .inner
            .permits
            .clone()
            .acquire_owned()
            .await
            .expect("the sender's semaphore is never closed");
        Slot {
            _permit: permit,
            pool: self.inner.clone(),
        }
    }

    /// Opens (or reuses) a connection and asks the server for NOOP.
    pub async fn test_connection(&self) -> Result<bool, String> {
        let slot = self.slot().await;
        let mut conn = slot.pool.checkout().await.map_err(|o| match o {
            Outcome::Retry(e) | Outcome::Failed(e) | Outcome::Bounced(e) => e,
            Outcome::Sent | Outcome::NotStarted => String::new(),
        })?;
        let ok = conn.test_connected().await;
        if ok {
            slot.pool.checkin(conn);
        }
        Ok(ok)
    }

    /// Closes the idle connections (QUIT).
    pub async fn close(&self) {
        let idle: Vec<Idle> = std::mem::take(&mut *self.inner.idle.lock().expect("idle"));
        for mut i in idle {
            let _ = tokio::time::timeout(Duration::from_secs(2), i.conn.abort()).await;
        }
    }
}

impl Slot {
    /// Hands one message (its envelope and formatted bytes) to the server.
    pub async fn send(self, envelope: &Envelope, bytes: &[u8]) -> Outcome {
        let mut conn = match self.pool.checkout().await {
            Ok(c) => c,
            Err(outcome) => return outcome,
        };
        match tokio::time::timeout(TIMEOUT, conn.send(envelope, bytes)).await {
            Ok(Ok(_)) => {
                self.pool.checkin(conn);
                Outcome::Sent
            }
            Ok(Err(e)) => {
                if !conn.has_broken() {
                    self.pool.checkin(conn);
                }
                classify(&e)
            }
            Err(_) => Outcome::Retry("メールサーバーの応答がありません（timeout）".into()),
        }
    }
}

impl Pool {
    fn checkin(&self, conn: AsyncSmtpConnection) {
        self.idle.lock().expect("idle").push(Idle {
            conn,
            since: Instant::now(),
        });
    }

    /// A connection for one hand-off: the most recently used idle one,
    /// else a new one. Idle ones too old are closed on the way.
    async fn checkout(&self) -> Result<AsyncSmtpConnection, Outcome> {
        loop {
            let next = self.idle.lock().expect("idle").pop();
            match next {
                Some(i) if i.since.elapsed() <= IDLE => return Ok(i.conn),
                Some(mut old) => {
                    let _ = tokio::time::timeout(Duration::from_secs(2), old.conn.abort()).await;
                }
                None => break,
            }
        }
        match tokio::time::timeout(TIMEOUT, self.connect()).await {
            Ok(r) => r,
            Err(_) => Err(Outcome::Retry(
                "メールサーバーへの接続がタイムアウトしました".into(),
            )),
        }
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, Outcome> {
        let e = &self.endpoint;
        let retry = |err: io::Error| Outcome::Retry(format!("接続できません: {err}"));
        let tcp = tokio::net::TcpStream::connect((e.host.as_str(), e.port))
            .await
            .map_err(retry)?;
        tcp.set_nodelay(true).map_err(retry)?;
        let mut conn = match &e.tls {
            Tls::Wrapper(params) => {
                #[allow(deprecated)]
                let mut stream =
                    lettre::transport::smtp::client::AsyncNetworkStream::use_existing_tokio1(
                        Box::new(tcp),
                    );
                stream
                    .upgrade_tls(params.clone())
                    .await
                    .map_err(|e| classify(&e))?;
                AsyncSmtpConnection::connect_with_transport(Box::new(Implicit(stream)), &e.hello)
                    .await
                    .map_err(|e| classify(&e))?
            }
            _ => AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &e.hello)
                .await
                .map_err(|e| classify(&e))?,
        };
        match &e.tls {
            Tls::Required(params) => conn.starttls(params.clone(), &e.hello).await,
            Tls::Opportunistic(params) if conn.can_starttls() => {
                conn.starttls(params.clone(), &e.hello).await
            }
            _ => Ok(()),
        }
        .map_err(|e| classify(&e))?;
        if let Some(credentials) = &e.credentials {
            conn.auth(DEFAULT_MECHANISMS, credentials)
                .await
                .map_err(|e| classify(&e))?;
        }
        Ok(conn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tls(e: &Endpoint) -> &'static str {
        match e.tls {
            Tls::None => "none",
            Tls::Opportunistic(_) => "opportunistic",
            Tls::Required(_) => "required",
            Tls::Wrapper(_) => "wrapper",
        }
    }

    #[test]
    fn the_url_says_where_and_how() {
        let e = Endpoint::parse("smtp://127.0.0.1:2525").unwrap();
        assert_eq!(
            (e.host.as_str(), e.port, tls(&e)),
            ("127.0.0.1", 2525, "none")
        );
        assert!(e.credentials.is_none());
        let e = Endpoint::parse("smtp://mail.example.jp").unwrap();
        assert_eq!((e.port, tls(&e)), (25, "none"));
        let e = Endpoint::parse("smtp://mail.example.jp?tls=required").unwrap();
        assert_eq!((e.port, tls(&e)), (587, "required"));
        let e = Endpoint::parse("smtp://mail.example.jp:2587?tls=opportunistic").unwrap();
        assert_eq!((e.port, tls(&e)), (2587, "opportunistic"));
        let e = Endpoint::parse("smtps://u%40city:p%3Ass@mail.example.jp").unwrap();
        assert_eq!((e.port, tls(&e)), (465, "wrapper"));
        assert!(e.credentials == Some(Credentials::new("u@city".into(), "p:ss".into())));
        let e = Endpoint::parse("smtp://mail.example.jp:25/madoguchi.city.example.jp").unwrap();
        assert_eq!(e.hello.to_string(), "madoguchi.city.example.jp");
    }

    #[test]
    fn a_bad_url_is_refused() {
        assert!(Endpoint::parse("http://mail.example.jp").is_err());
        assert!(Endpoint::parse("smtp://mail.example.jp?tls=maybe").is_err());
        assert!(Endpoint::parse("smtp://").is_err());
        assert!(Endpoint::parse("smtps://u:%ZZ@mail.example.jp").is_err());
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(decode("a%20b%E6%97%A5").unwrap(), "a b日");
        assert_eq!(decode("plain").unwrap(), "plain");
        assert!(decode("%FF").is_err());
    }
}
