//! The workers: each server runs [`RunnerOptions::workers`] of them. A
//! worker claims one due job of a kind this server knows, runs its handler
//! in a task of its own (a panic is a failed attempt, never a lost job),
//! extends its lease while it runs, and records the outcome only if it
//! still holds the lease. A job is done in the one statement that checks
//! the lease, so a job marked done is never claimed again; a job whose
//! worker died is claimed again when its lease runs out (at least once:
//! handlers are written to be safe to run again after a crash).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_core::future::BoxFuture;

use super::schedule::{self, Schedule};
use super::store::{self, AfterFailure, Claimed};
use super::{JobId, DEFAULT_MAX_ATTEMPTS, WAKE};
use crate::db::Db;

/// What a handler gets besides its payload.
#[derive(Clone, Debug)]
pub struct JobContext {
    pub db: Db,
    pub tenant: String,
    pub job_id: JobId,
    /// This run's number (1 for the first).
    pub attempt: i64,
}

/// A failed attempt, with the message the staff page shows.
#[derive(Debug)]
pub struct JobError(pub String);

impl std::fmt::Display for JobError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<crate::AppError> for JobError {
    fn from(e: crate::AppError) -> Self {
        JobError(e.to_string())
    }
}

impl From<sqlx::Error> for JobError {
    fn from(e: sqlx::Error) -> Self {
        JobError(e.to_string())
    }
}

impl From<anyhow::Error> for JobError {
    fn from(e: anyhow::Error) -> Self {
        JobError(format!("{e:#}"))
    }
}

pub type HandlerFn = Arc<
    dyn Fn(JobContext, serde_json::Value) -> BoxFuture<'static, Result<(), JobError>> + Send + Sync,
>;

/// How often a kind is tried and how long it waits between tries: the
/// `n`-th retry waits `base_ms · 2^(n-1)`, never more than `cap_ms`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: i64,
    pub base_ms: i64,
    pub cap_ms: i64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            base_ms: 10_000,
            cap_ms: 3_600_000,
        }
    }
}

impl RetryPolicy {
    /// The wait after failed attempt number `attempt` (1-based).
    pub fn backoff_ms(&self, attempt: i64) -> i64 {
        let shift = (attempt - 1).clamp(0, 40) as u32;
        self.base_ms
            .saturating_mul(1_i64 << shift)
            .min(self.cap_ms)
            .max(0)
    }
}

#[derive(Clone)]
struct Kind {
    handler: HandlerFn,
    policy: RetryPolicy,
}

/// The kinds this server runs, and the deployment's schedules.
#[derive(Clone, Default)]
pub struct Registry {
    kinds: HashMap<&'static str, Kind>,
    schedules: Vec<Schedule>,
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs jobs of `kind` with `handler` and the default policy.
    pub fn handle<F, Fut>(self, kind: &'static str, handler: F) -> Self
    where
        F: Fn(JobContext, serde_json::Value) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<(), JobError>> + Send + 'static,
    {
        self.handle_with(kind, RetryPolicy::default(), handler)
    }

    pub fn handle_with<F, Fut>(
        mut self,
        kind: &'static str,
        policy: RetryPolicy,
        handler: F,
    ) -> Self
    where
        F: Fn(JobContext, serde_json::Value) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<(), JobError>> + Send + 'static,
    {
        let handler: HandlerFn = Arc::new(move |ctx, payload| Box::pin(handler(ctx, payload)));
        self.kinds.insert(kind, Kind { handler, policy });
        self
    }

    /// Enqueues a job of `schedule.kind` once per slot of the schedule,
    /// across every server of the deployment.
    pub fn schedule(mut self, schedule: Schedule) -> Self {
        self.schedules.push(schedule);
        self
    }

    pub fn kinds(&self) -> Vec<&'static str> {
        let mut k: Vec<_> = self.kinds.keys().copied().collect();
        k.sort_unstable();
        k
    }
}

/// How a server runs its workers.
#[derive(Clone, Copy, Debug)]
pub struct RunnerOptions {
    /// Workers on this server (each runs one job at a time); 0: none.
    pub workers: usize,
    /// How often an idle worker looks for due jobs (an enqueue in this
    /// process wakes it at once).
    pub poll: Duration,
    /// How long a claimed job is held before another server may take it;
    /// extended every third of it while its handler runs.
    pub lease: Duration,
}

impl Default for RunnerOptions {
    fn default() -> Self {
        Self {
            workers: 2,
            poll: Duration::from_secs(1),
            lease: Duration::from_secs(60),
        }
    }
}

/// This server's workers and its scheduler.
#[derive(Clone)]
pub struct Runner {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    registry: Registry,
    options: RunnerOptions,
    /// This server's name in `locked_by` (random per start).
    server: String,
}

impl Runner {
    /// Registers the schedules and starts the workers and the scheduler.
    pub async fn start(
        db: Db,
        registry: Registry,
        options: RunnerOptions,
    ) -> anyhow::Result<Runner> {
        schedule::register(&db, &registry.schedules, crate::clock::now_ms()).await?;
        let runner = Runner {
            inner: Arc::new(Inner {
                db,
                registry,
                options,
                server: crate::ids::short_id(),
            }),
        };
        if options.workers > 0 {
            for _ in 0..options.workers {
                let r = runner.clone();
                tokio::spawn(async move { r.work().await });
            }
            if !runner.inner.registry.schedules.is_empty() {
                let r = runner.clone();
                tokio::spawn(async move { r.schedule_loop().await });
            }
        }
        Ok(runner)
    }

    pub fn registry(&self) -> &Registry {
        &self.inner.registry
    }

    /// Claims and runs one due job; false if there was none.
    pub async fn run_one(&self) -> Result<bool, sqlx::Error> {
        let inner = &self.inner;
        let kinds = inner.registry.kinds();
        let token = format!("{}/{}", inner.server, crate::ids::short_id());
        let lease = inner.options.lease.as_millis() as i64;
        let now = crate::clock::now_ms();
        let Some(claimed) = store::claim(&inner.db, &kinds, &token, now, lease).await? else {
            return Ok(false);
        };
        let Some(kind) = inner.registry.kinds.get(claimed.kind.as_str()).cloned() else {
            return Ok(true);
        };
        if claimed.attempt > kind.policy.max_attempts {
            // Claimed again after its last attempt's worker died.
            let error =
                "作業中のサーバーが停止し、最後の試行が完了しませんでした（worker stopped）";
            self.failed(&claimed, &kind.policy, error.to_string())
                .await?;
            return Ok(true);
        }
        let outcome = self.execute(&claimed, &kind).await;
        let now = crate::clock::now_ms();
        match outcome {
            Ok(()) => {
                if !store::complete(&inner.db, &claimed, now).await? {
                    tracing::warn!(job = %claimed.id, kind = %claimed.kind, "job finished after its lease was lost; its outcome is not recorded");
                }
            }
            Err(e) => self.failed(&claimed, &kind.policy, e.0).await?,
        }
        Ok(true)
    }

    async fn failed(
        &self,
        c: &Claimed,
        policy: &RetryPolicy,
        error: String,
    ) -> Result<(), sqlx::Error> {
        let now = crate::clock::now_ms();
        let after = if c.attempt >= policy.max_attempts {
            tracing::warn!(job = %c.id, kind = %c.kind, attempts = c.attempt, error = %error, "job failed for good (dead letter)");
            AfterFailure::DeadLetter
        } else {
            tracing::info!(job = %c.id, kind = %c.kind, attempt = c.attempt, error = %error, "job failed; retried later");
            AfterFailure::RetryAt(now + policy.backoff_ms(c.attempt))
        };
        let error: String = error.chars().take(2000).collect();
        store::fail(&self.inner.db, c, &error, after, policy.max_attempts, now).await?;
        Ok(())
    }

    /// Runs the handler in a task of its own, extending the lease while
    /// it runs; a panic comes back as a failure with its message.
    async fn execute(&self, c: &Claimed, kind: &Kind) -> Result<(), JobError> {
        let ctx = JobContext {
            db: self.inner.db.clone(),
            tenant: c.tenant.clone(),
            job_id: c.id.clone(),
            attempt: c.attempt,
        };
        let mut task = tokio::spawn((kind.handler)(ctx, c.payload.clone()));
        let lease = self.inner.options.lease;
        let mut beat = tokio::time::interval(lease / 3);
        beat.tick().await;
        loop {
            tokio::select! {
                joined = &mut task => {
                    return match joined {
                        Ok(result) => result,
                        Err(e) if e.is_panic() => Err(JobError(format!("panic: {}", panic_text(e.into_panic())))),
                        Err(e) => Err(JobError(format!("cancelled: {e}"))),
                    };
                }
                _ = beat.tick() => {
                    let until = crate::clock::now_ms() + lease.as_millis() as i64;
                    match store::heartbeat(&self.inner.db, c, until).await {
                        Ok(true) => {}
                        Ok(false) => tracing::warn!(job = %c.id, "lease of a running job was lost"),
                        Err(e) => tracing::warn!(job = %c.id, error = %e, "lease not extended"),
                    }
                }
            }
        }
    }

    async fn work(&self) {
        loop {
            match self.run_one().await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(sqlx::Error::PoolClosed) => return,
                Err(e) => tracing::warn!(error = %e, "job worker could not claim"),
            }
            let woken = tokio::time::timeout(self.inner.options.poll, WAKE.notified()).await;
            if woken.is_ok() {
                // An enqueue in a transaction wakes before it commits: look
                // again a moment later if the first look finds nothing.
                match self.run_one().await {
                    Ok(true) => continue,
                    Ok(false) => tokio::time::sleep(Duration::from_millis(50)).await,
                    Err(sqlx::Error::PoolClosed) => return,
                    Err(e) => tracing::warn!(error = %e, "job worker could not claim"),
                }
            }
        }
    }

    /// Enqueues every due slot of the schedules (whichever server sees a
    /// slot first advances it; the others find it advanced).
    pub async fn schedule_once(&self) -> Result<usize, sqlx::Error> {
        schedule::tick(
            &self.inner.db,
            &self.inner.registry.schedules,
            crate::clock::now_ms(),
        )
        .await
    }

    async fn schedule_loop(&self) {
        loop {
            match self.schedule_once().await {
                Ok(n) if n > 0 => WAKE.notify_waiters(),
                Ok(_) => {}
                Err(sqlx::Error::PoolClosed) => return,
                Err(e) => tracing::warn!(error = %e, "job scheduler could not run"),
            }
            tokio::time::sleep(self.inner.options.poll).await;
        }
    }
}

fn panic_text(p: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = RetryPolicy {
            max_attempts: 10,
            base_ms: 1_000,
            cap_ms: 10_000,
        };
        let waits: Vec<i64> = (1..=6).map(|a| p.backoff_ms(a)).collect();
        assert_eq!(waits, [1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
        assert_eq!(p.backoff_ms(200), 10_000);
    }
}
