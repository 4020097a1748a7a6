//! Argon2id password hashes, and the gate every check passes through.
//!
//! One check holds 19 MiB and tens of milliseconds of CPU (Argon2id with
//! OWASP's minimum parameters), so the number running at once is bounded:
//! a few run, a short queue waits, and beyond that the request is refused
//! at once with 503 and `Retry-After` rather than taking the server's
//! memory. A check is only possible through a [`Permit`].
//!
//! The checks run on a few threads of their own, one per check allowed at
//! once, each keeping its 19 MiB of Argon2 memory for the next check.
//! Run on the shared blocking pool instead, every check came from another
//! thread and left its 19 MiB in another malloc arena: 200 sign-ins at
//! once kept 380 MiB although only 2 ran at a time.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{AppError, AppResult};

pub fn hash_password(password: &str) -> anyhow::Result<String> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| anyhow::anyhow!("random: {e}"))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    // Argon2::default() is Argon2id, 19 MiB, 2 passes (OWASP's minimum).
    Ok(argon2::Argon2::default()
        .hash_password(crate::password::normalize(password).as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))?
        .to_string())
}

/// Checks `password` against a PHC string, in `memory` (resized to the
/// hash's cost if it differs): Argon2's own buffer is not allocated again.
fn verify_password(memory: &mut Vec<argon2::Block>, password: &str, hash: &str) -> bool {
    use argon2::password_hash::{Output, PasswordHash};
    use argon2::{Algorithm, Params, Version};
    let Ok(h) = PasswordHash::new(hash) else {
        return false;
    };
    let (Some(expected), Some(salt)) = (h.hash, h.salt) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (Algorithm::try_from(h.algorithm), Params::try_from(&h))
    else {
        return false;
    };
    let Ok(version) = h.version.map(Version::try_from).transpose() else {
        return false;
    };
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    if memory.len() != params.block_count() {
        *memory = vec![argon2::Block::new(); params.block_count()];
    }
    let mut out = vec![0u8; expected.len()];
    argon2::Argon2::new(algorithm, version.unwrap_or_default(), params)
        .hash_password_into_with_memory(
            crate::password::normalize(password).as_bytes(),
            salt,
            &mut out,
            &mut memory[..],
        )
        .is_ok()
        // Output's equality is constant-time.
        && Output::new(&out).is_ok_and(|o| o == expected)
}

/// A hash of the same parameters as real ones, checked when there is no
/// real one to check (an unknown or locked account): the same work.
fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| hash_password("not-a-real-password").unwrap_or_default())
}

/// At most `checks` password checks at once, `queue` more waiting.
#[derive(Clone, Debug)]
pub struct PasswordGate {
    permits: Arc<Semaphore>,
    waiting: Arc<AtomicUsize>,
    queue: usize,
    done: Arc<AtomicU64>,
    workers: Workers,
}

/// The right to run one password check (or hash) now.
#[derive(Debug)]
pub struct Permit {
    _permit: OwnedSemaphorePermit,
    done: Arc<AtomicU64>,
    workers: Workers,
}

type Job = Box<dyn FnOnce(&mut Vec<argon2::Block>) + Send>;

/// The threads the checks run on; they end when the last gate is dropped.
#[derive(Clone, Debug)]
struct Workers(std::sync::mpsc::Sender<Job>);

impl Workers {
    fn start(n: usize) -> Self {
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        let rx = Arc::new(std::sync::Mutex::new(rx));
        for i in 0..n {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("password-check-{i}"))
                .spawn(move || {
                    let mut memory = Vec::new();
                    loop {
                        let job = rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
                        match job {
                            Ok(job) => job(&mut memory),
                            Err(_) => return,
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!("password check thread {i}: {e}");
            }
        }
        Self(tx)
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Vec<argon2::Block>) -> T + Send + 'static,
    ) -> AppResult<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.0
            .send(Box::new(move |memory| {
                let _ = tx.send(f(memory));
            }))
            .map_err(|_| AppError::Internal(anyhow::anyhow!("password check threads ended")))?;
        rx.await
            .map_err(|_| AppError::Internal(anyhow::anyhow!("password check failed")))
    }
}

/// Decrements the waiting count however the wait ends (cancelled too).
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl PasswordGate {
    pub fn new(checks: usize, queue: usize) -> Self {
        let checks = checks.max(1);
        Self {
            workers: Workers::start(checks),
            permits: Arc::new(Semaphore::new(checks)),
            waiting: Arc::new(AtomicUsize::new(0)),
            queue,
            done: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Argon2 verifications run through this gate so far (real or dummy).
    pub fn checks_done(&self) -> u64 {
        self.done.load(Ordering::SeqCst)
    }

    fn permit(&self, p: OwnedSemaphorePermit) -> Permit {
        Permit {
            _permit: p,
            done: self.done.clone(),
            workers: self.workers.clone(),
        }
    }

    /// Waits for a free check, or refuses with [`AppError::Busy`] when
    /// the queue is full.
    pub async fn enter(&self) -> AppResult<Permit> {
        if let Ok(p) = self.permits.clone().try_acquire_owned() {
            return Ok(self.permit(p));
        }
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.queue {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(AppError::Busy);
        }
        let _waiting = Waiting(&self.waiting);
        let p = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| AppError::Internal(anyhow::anyhow!("password gate: {e}")))?;
        Ok(self.permit(p))
    }
}

impl Permit {
    /// Checks `password` against `stored`; with no stored hash, checks it
    /// against a dummy of equal cost and answers false.
    pub async fn verify(&self, password: &str, stored: Option<String>) -> AppResult<bool> {
        let password = password.to_string();
        self.done.fetch_add(1, Ordering::SeqCst);
        self.workers
            .run(move |memory| match stored {
                Some(hash) => verify_password(memory, &password, &hash),
                None => {
                    let _ = verify_password(memory, &password, dummy_hash());
                    false
                }
            })
            .await
    }

    /// The work of a check whose answer is known already (a locked
    /// account): spent so that the answer's timing tells nothing.
    pub async fn spend(&self, password: &str) -> AppResult<()> {
        self.verify(password, None).await.map(|_| ())
    }

    pub async fn hash(&self, password: &str) -> AppResult<String> {
        let password = password.to_string();
        self.workers
            .run(move |_| hash_password(&password))
            .await?
            .map_err(AppError::Internal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_queue_is_bounded() {
        let gate = PasswordGate::new(1, 1);
        let first = gate.enter().await.expect("a free check");
        let waiter = {
            let gate = gate.clone();
            tokio::spawn(async move { gate.enter().await.map(|_| ()) })
        };
        while gate.waiting.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        assert!(matches!(gate.enter().await, Err(AppError::Busy)));
        drop(first);
        waiter
            .await
            .unwrap()
            .expect("the waiting one gets the check");
        assert_eq!(gate.waiting.load(Ordering::SeqCst), 0);
        gate.enter().await.expect("free again");
    }

    #[tokio::test]
    async fn unknown_and_known_hashes_are_checked() {
        let gate = PasswordGate::new(2, 0);
        let p = gate.enter().await.unwrap();
        let h = p.hash("correct horse").await.unwrap();
        assert!(p.verify("correct horse", Some(h.clone())).await.unwrap());
        assert!(!p.verify("wrong horse", Some(h.clone())).await.unwrap());
        assert!(!p
            .verify("correct horse", Some(h.replace("$v=19", "$v=16")))
            .await
            .unwrap());
        assert!(!p
            .verify("correct horse", Some("not a hash".into()))
            .await
            .unwrap());
        assert!(!p.verify("correct horse", None).await.unwrap());
        assert_eq!(gate.checks_done(), 5);
    }

    /// Hashes of other costs (older accounts, another configuration)
    /// still verify: the memory follows each hash's parameters.
    #[tokio::test]
    async fn hashes_of_other_parameters_verify() {
        use argon2::password_hash::{PasswordHasher, SaltString};
        let params = argon2::Params::new(8 * 1024, 3, 1, None).unwrap();
        let other =
            argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
                .hash_password(
                    b"correct horse",
                    &SaltString::encode_b64(b"0123456789abcdef").unwrap(),
                )
                .unwrap()
                .to_string();
        let gate = PasswordGate::new(1, 0);
        let p = gate.enter().await.unwrap();
        let usual = p.hash("correct horse").await.unwrap();
        for h in [&other, &usual, &other] {
            assert!(
                p.verify("correct horse", Some(h.clone())).await.unwrap(),
                "{h}"
            );
            assert!(
                !p.verify("correct horsf", Some(h.clone())).await.unwrap(),
                "{h}"
            );
        }
    }
}
