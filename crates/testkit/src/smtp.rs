//! A real SMTP server for the tests (`scripts/smtp-test-server.py`,
//! aiosmtpd): started on a free port with a Maildir of its own, told to
//! answer 451 for a while or 550 for given addresses, and read back
//! (every message that arrived, its headers and decoded text).
//!
//! The Python with aiosmtpd is `MADOGUCHI_TEST_SMTP_PYTHON` (scripts/test
//! sets it to its virtualenv) or `target/smtp-venv/bin/python`. Without it
//! a test is skipped, loudly, outside CI; in CI it is required.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// One message as it arrived.
#[derive(Clone, Debug)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
    /// Every header in order, decoded (RFC 2047).
    pub headers: Vec<(String, String)>,
    pub text: Option<String>,
    pub html: Option<String>,
}

impl Received {
    /// The first header called `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The one recipient.
    pub fn to(&self) -> &str {
        self.rcpt_tos.first().map(String::as_str).unwrap_or("")
    }
}

/// A running test mail server; stopped when dropped.
pub struct SmtpServer {
    child: Child,
    pub port: u16,
    pub dir: PathBuf,
}

fn python() -> Option<String> {
    if let Ok(p) = std::env::var("MADOGUCHI_TEST_SMTP_PYTHON") {
        return Some(p);
    }
    let local = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/smtp-venv/bin/python");
    local.exists().then(|| local.display().to_string())
}

impl SmtpServer {
    /// `None` (the test is skipped, loudly) when no Python with aiosmtpd
    /// is found outside CI.
    pub fn start() -> Option<Self> {
        let Some(python) = python() else {
            if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
                panic!("CI: no Python with aiosmtpd (MADOGUCHI_TEST_SMTP_PYTHON); scripts/test installs it");
            }
            eprintln!("SKIPPED: no Python with aiosmtpd; run scripts/test or set MADOGUCHI_TEST_SMTP_PYTHON");
            return None;
        };
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/smtp-test-server.py");
        let dir = std::env::temp_dir().join(format!("madoguchi-smtp-{}", super::random_suffix()));
        std::fs::create_dir_all(&dir).expect("smtp dir");
        let mut child = Command::new(python)
            .arg(&script)
            .arg(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the test SMTP server");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the test SMTP server's port");
        let port = line
            .trim()
            .strip_prefix("port ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("test SMTP server said {line:?}"));
        Some(Self { child, port, dir })
    }

    /// `smtp://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    fn control(&self, value: serde_json::Value) {
        let tmp = self.dir.join("control.json.tmp");
        std::fs::write(&tmp, value.to_string()).expect("control");
        std::fs::rename(tmp, self.dir.join("control.json")).expect("control");
    }

    /// Every RCPT and DATA answers 451 for `d` from now; `reject`
    /// addresses answer 550; each DATA waits `delay_ms`.
    pub fn set(&self, tempfail_for: Duration, reject: &[&str], delay_ms: u64) {
        let until = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            + tempfail_for;
        self.control(serde_json::json!({
            "tempfail_until": until.as_secs_f64(),
            "reject": reject,
            "delay_ms": delay_ms,
        }));
    }

    /// Answers 451 for `d` from now.
    pub fn tempfail_for(&self, d: Duration) {
        self.set(d, &[], 0);
    }

    /// Answers 550 to RCPT TO each of `addresses`.
    pub fn reject(&self, addresses: &[&str]) {
        self.set(Duration::ZERO, addresses, 0);
    }

    /// Every message that arrived so far, in order.
    pub fn received(&self) -> Vec<Received> {
        let text = std::fs::read_to_string(self.dir.join("received.jsonl")).unwrap_or_default();
        text.lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .map(|v| Received {
                mail_from: v["mail_from"].as_str().unwrap_or_default().to_string(),
                rcpt_tos: v["rcpt_tos"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default(),
                headers: v["headers"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|h| {
                                (
                                    h[0].as_str().unwrap_or_default().to_string(),
                                    h[1].as_str().unwrap_or_default().to_string(),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                text: v["text"].as_str().map(String::from),
                html: v["html"].as_str().map(String::from),
            })
            .collect()
    }

    /// Files in the Maildir's `new/` (one per message delivered).
    pub fn maildir_count(&self) -> usize {
        std::fs::read_dir(self.dir.join("Maildir/new"))
            .map(|d| d.count())
            .unwrap_or(0)
    }

    /// Waits (up to `timeout`) until at least `n` messages arrived.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let got = self.received();
            if got.len() >= n || tokio::time::Instant::now() >= deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops the server now (a relay that went away).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
