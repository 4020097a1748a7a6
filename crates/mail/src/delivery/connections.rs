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
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
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
            Outcome::Retry(e) | Outcome::Failed(e) | Outcome::Bounced(e) | Outcome::Unknown(e) => e,
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
    /// Hands one message (its envelope and formatted bytes) to the server,
    /// in two steps. Up to the server's go-ahead for the content (MAIL,
    /// RCPT, DATA) nothing can have been delivered, so any failure is
    /// tried again. Once the content is sent, a reply the server gave
    /// decides; a connection that broke or a reply that never came leaves
    /// it open whether the server took the message: [`Outcome::Unknown`],
    /// never sent again by itself (no resident gets a message twice).
    pub async fn send(self, envelope: &Envelope, bytes: &[u8]) -> Outcome {
        let mut conn = match self.pool.checkout().await {
            Ok(c) => c,
            Err(outcome) => return outcome,
        };
        match tokio::time::timeout(TIMEOUT, envelope_commands(&mut conn, envelope, bytes)).await {
            Ok(Ok(())) => {}
            // The connection is not put back after a failed command: a
            // new one starts clean.
            Ok(Err(outcome)) => return outcome,
            Err(_) => return Outcome::Retry("メールサーバーの応答がありません（timeout）".into()),
        }
        match tokio::time::timeout(TIMEOUT, conn.message(bytes)).await {
            Ok(Ok(_)) => {
                self.pool.checkin(conn);
                Outcome::Sent
            }
            Ok(Err(e)) if e.is_transient() || e.is_permanent() => classify(&e),
            Ok(Err(e)) => Outcome::Unknown(format!(
                "本文の送信後に接続が切れました。届いたかどうか分かりません: {e}"
            )),
            Err(_) => Outcome::Unknown(
                "本文の送信後にメールサーバーの応答がありません（timeout）。届いたかどうか分かりません".into(),
            ),
        }
    }
}

/// MAIL (with SMTPUTF8 / 8BITMIME as the content needs, as lettre's own
/// `send` does), RCPT for each recipient, DATA.
async fn envelope_commands(
    conn: &mut AsyncSmtpConnection,
    envelope: &Envelope,
    bytes: &[u8],
) -> Result<(), Outcome> {
    let mut options = Vec::new();
    let non_ascii = envelope
        .from()
        .into_iter()
        .chain(envelope.to())
        .any(|a| !AsRef::<str>::as_ref(a).is_ascii());
    if non_ascii {
        if !conn.server_info().supports_feature(Extension::SmtpUtfEight) {
            return Err(Outcome::Failed(
                "宛先に英数字以外の文字がありますが、メールサーバーが SMTPUTF8 に対応していません"
                    .into(),
            ));
        }
        options.push(MailParameter::SmtpUtfEight);
    }
    if !bytes.is_ascii() {
        if !conn.server_info().supports_feature(Extension::EightBitMime) {
            return Err(Outcome::Failed(
                "本文に8ビットの文字がありますが、メールサーバーが 8BITMIME に対応していません"
                    .into(),
            ));
        }
        options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    let e = |e: lettre::transport::smtp::Error| classify(&e);
    conn.command(Mail::new(envelope.from().cloned(), options))
        .await
        .map_err(e)?;
    for to in envelope.to() {
        conn.command(Rcpt::new(to.clone(), vec![]))
            .await
            .map_err(e)?;
    }
    conn.command(Data).await.map_err(e)?;
    Ok(())
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

    /// A stand-in SMTP server for one connection (not a real server: it
    /// answers the envelope with 250, then does `after_content` once the
    /// content's final dot arrives).
    async fn one_shot_server(after_content: Option<&'static str>) -> u16 {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let (sock, _) = listener.accept().await.unwrap();
            let (r, mut w) = sock.into_split();
            let mut lines = BufReader::new(r).lines();
            w.write_all(b"220 stand-in\r\n").await.unwrap();
            let mut in_data = false;
            while let Ok(Some(line)) = lines.next_line().await {
                if in_data {
                    if line == "." {
                        match after_content {
                            Some(reply) => w.write_all(reply.as_bytes()).await.unwrap(),
                            // Hang up without a word.
                            None => return,
                        }
                        in_data = false;
                    }
                    continue;
                }
                let reply: &[u8] = if line.starts_with("EHLO") {
                    b"250-stand-in\r\n250 8BITMIME\r\n"
                } else if line == "DATA" {
                    in_data = true;
                    b"354 go ahead\r\n"
                } else if line == "QUIT" {
                    b"221 bye\r\n"
                } else {
                    b"250 ok\r\n"
                };
                w.write_all(reply).await.unwrap();
            }
        });
        port
    }

    async fn hand_off(after_content: Option<&'static str>) -> Outcome {
        let port = one_shot_server(after_content).await;
        let endpoint = Endpoint::parse(&format!("smtp://127.0.0.1:{port}")).unwrap();
        let pool = Connections::new(endpoint, 1);
        let envelope = Envelope::new(
            Some("city@example.jp".parse().unwrap()),
            vec!["resident@example.jp".parse().unwrap()],
        )
        .unwrap();
        let bytes = b"Subject: t\r\n\r\nhello\r\n";
        pool.slot().await.send(&envelope, bytes).await
    }

    #[tokio::test]
    async fn a_reply_after_the_content_decides() {
        assert_eq!(hand_off(Some("250 queued\r\n")).await, Outcome::Sent);
        assert!(matches!(
            hand_off(Some("451 4.3.0 try later\r\n")).await,
            Outcome::Retry(_)
        ));
    }

    #[tokio::test]
    async fn no_reply_after_the_content_is_unknown_never_retried() {
        let outcome = hand_off(None).await;
        assert!(matches!(outcome, Outcome::Unknown(_)), "{outcome:?}");
    }

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
