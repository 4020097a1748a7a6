//! The temporary lockout after failures in a row (passwords and second
//! factors alike).
//!
//! An attempt is reserved before anything is checked, in one atomic
//! update: it counts as a failure unless it succeeds, and the attempt that
//! reaches the limit locks the account the moment it is reserved. So no
//! more than the limit are ever checked, however many arrive at once: the
//! rest find the account locked. If that last attempt succeeds, it lifts
//! the lock it set. Ids that do not exist get the same treatment in the
//! database ([`Failures`], table `lockout_counts`), so that the lockout
//! tells nothing about which ids exist. Every count is in the database:
//! a guessing run spread over several servers stops at the same count as
//! against one.

use sqlx::Row;

use crate::audit::{self, AuditEntry};
use crate::db::Db;
use crate::error::AppResult;
use crate::{clock, ids};

/// Failures in a row before the account locks, and for how long.
#[derive(Clone, Copy, Debug)]
pub struct LockoutPolicy {
    pub threshold: i64,
    pub lock_ms: i64,
}

/// One attempt let through: a failure unless it succeeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attempt {
    /// The lock this attempt set, being the last one allowed.
    pub locks_until: Option<i64>,
}

/// Reserves an attempt of a known, active account; `None` while it is
/// locked (or does not exist).
pub async fn reserve(
    db: &Db,
    policy: LockoutPolicy,
    tenant: &str,
    id: &str,
) -> AppResult<Option<Attempt>> {
    let now = clock::now_ms();
    let row = sqlx::query(
        "UPDATE staff SET
           failed_sign_ins = CASE WHEN failed_sign_ins + 1 >= $4 THEN 0 ELSE failed_sign_ins + 1 END,
           locked_until = CASE WHEN failed_sign_ins + 1 >= $4 THEN $5 ELSE locked_until END
         WHERE tenant = $1 AND id = $2 AND active = 1 AND locked_until <= $3
         RETURNING locked_until",
    )
    .bind(tenant)
    .bind(id)
    .bind(now)
    .bind(policy.threshold)
    .bind(now + policy.lock_ms)
    .fetch_optional(db.write())
    .await?;
    Ok(row.map(|r| {
        let until: i64 = r.get(0);
        Attempt {
            locks_until: (until > now).then_some(until),
        }
    }))
}

/// A reserved attempt succeeded: it does not count, and the lock it set
/// (if it was the last one allowed) is lifted.
pub async fn release(db: &Db, tenant: &str, id: &str, attempt: Attempt) -> AppResult<()> {
    let q = match attempt.locks_until {
        Some(until) => sqlx::query(
            "UPDATE staff SET locked_until = 0 WHERE tenant = $1 AND id = $2 AND locked_until = $3",
        )
        .bind(tenant)
        .bind(id)
        .bind(until),
        None => sqlx::query(
            "UPDATE staff SET failed_sign_ins = failed_sign_ins - 1 WHERE tenant = $1 AND id = $2 AND failed_sign_ins > 0",
        )
        .bind(tenant)
        .bind(id),
    };
    q.execute(db.write()).await?;
    Ok(())
}

/// The condition and update that end the count when a sign-in completes
/// in `tx`: refused if the account was locked meanwhile by another
/// attempt; the lock `attempt` set itself is lifted.
pub async fn complete(
    tx: &mut crate::db::Tx,
    tenant: &str,
    id: &str,
    attempt: Attempt,
) -> AppResult<bool> {
    let mine = attempt.locks_until.unwrap_or(-1);
    Ok(sqlx::query(
        "UPDATE staff SET failed_sign_ins = 0,
           locked_until = CASE WHEN locked_until = $4 THEN 0 ELSE locked_until END
         WHERE tenant = $1 AND id = $2 AND active = 1 AND (locked_until <= $3 OR locked_until = $4)",
    )
    .bind(tenant)
    .bind(id)
    .bind(clock::now_ms())
    .bind(mine)
    .execute(&mut **tx)
    .await?
    .rows_affected()
        == 1)
}

/// A reserved attempt failed: audited, and if it was the last one allowed,
/// the lock it set is audited too and returned.
pub async fn settle_failure(
    db: &Db,
    tenant: &str,
    target: String,
    attempt: Attempt,
    step: &str,
) -> AppResult<Option<i64>> {
    let mut entries = vec![
        AuditEntry::new("anonymous", "staff.sign_in_failed", target.clone())
            .detail(serde_json::json!({ "step": step })),
    ];
    if attempt.locks_until.is_some() {
        entries.push(AuditEntry::new("system", "staff.locked", target));
    }
    let mut tx = db.begin().await?;
    audit::append(&mut tx, tenant, clock::now_ms(), &entries).await?;
    tx.commit().await?;
    Ok(attempt.locks_until)
}

/// When a locked account unlocks (0 if it is not locked).
pub async fn locked_until(db: &Db, tenant: &str, id: &str) -> AppResult<i64> {
    Ok(
        sqlx::query("SELECT locked_until FROM staff WHERE tenant = $1 AND id = $2")
            .bind(tenant)
            .bind(id)
            .fetch_optional(db.read())
            .await?
            .map(|r| r.get::<i64, _>(0))
            .unwrap_or(0),
    )
}

/// Audit target for an id that does not exist: never the typed text
/// (people type passwords into the id field), only a short hash; and the
/// key of its count in [`UNKNOWN_STAFF`].
pub fn unknown_target(tenant: &str, id: &str) -> (String, String) {
    let h = ids::hash_token(&format!("{tenant}|{id}"));
    (format!("staff:unknown-{}", &h[..12]), h)
}

/// Failures in a row counted by key in the database (`lockout_counts`),
/// for what has no row of its own to count in: staff ids that do not
/// exist (by [`unknown_target`]'s hash) and receipt numbers looked up in
/// 申請状況の確認 (`cases::lookup`). Counted like [`reserve`] counts a
/// staff row, in one atomic statement, so every server of a deployment
/// sees one count; [`Failures::succeed`] ends a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Failures {
    scope: &'static str,
}

/// Unknown staff ids.
pub const UNKNOWN_STAFF: Failures = Failures::new("staff");

/// How long a run of failures that did not lock is remembered.
const FORGET_MS: i64 = 24 * 3_600_000;

impl Failures {
    pub const fn new(scope: &'static str) -> Self {
        Self { scope }
    }

    /// Reserves an attempt like [`reserve`]: `None` while locked. An
    /// unknown id never succeeds, so its attempts are never released.
    pub async fn reserve(
        &self,
        db: &Db,
        tenant: &str,
        key: &str,
        policy: LockoutPolicy,
        now: i64,
    ) -> AppResult<Option<Attempt>> {
        // The first failure inserts; a later one counts only while the key
        // is not locked (no row comes back while it is). The failure that
        // reaches the threshold sets the lock and starts the count afresh.
        let row = sqlx::query(
            "INSERT INTO lockout_counts AS c (tenant, scope, key, failures, locked_until, updated_at)
             VALUES ($1, $2, $3,
                     CASE WHEN 1 >= $5 THEN 0 ELSE 1 END,
                     CASE WHEN 1 >= $5 THEN $6 ELSE 0 END, $4)
             ON CONFLICT (tenant, scope, key) DO UPDATE SET
               failures = CASE WHEN c.failures + 1 >= $5 THEN 0 ELSE c.failures + 1 END,
               locked_until = CASE WHEN c.failures + 1 >= $5 THEN $6 ELSE c.locked_until END,
               updated_at = $4
             WHERE c.locked_until <= $4
             RETURNING locked_until",
        )
        .bind(tenant)
        .bind(self.scope)
        .bind(key)
        .bind(now)
        .bind(policy.threshold)
        .bind(now + policy.lock_ms)
        .fetch_optional(db.write())
        .await?;
        Ok(row.map(|r| {
            let until: i64 = r.get(0);
            Attempt {
                locks_until: (until > now).then_some(until),
            }
        }))
    }

    /// A reserved attempt succeeded: the run of failures ends (as a
    /// completed sign-in ends it, [`complete`]), and the lock it set, if
    /// it was the last one allowed, is lifted; a lock another attempt set
    /// meanwhile stays.
    pub async fn succeed(
        &self,
        db: &Db,
        tenant: &str,
        key: &str,
        attempt: Attempt,
        now: i64,
    ) -> AppResult<()> {
        sqlx::query(
            "DELETE FROM lockout_counts WHERE tenant = $1 AND scope = $2 AND key = $3
               AND (locked_until <= $4 OR locked_until = $5)",
        )
        .bind(tenant)
        .bind(self.scope)
        .bind(key)
        .bind(now)
        .bind(attempt.locks_until.unwrap_or(-1))
        .execute(db.write())
        .await?;
        Ok(())
    }

    /// When the key unlocks (0 if it is not locked).
    pub async fn locked_until(&self, db: &Db, tenant: &str, key: &str, now: i64) -> AppResult<i64> {
        Ok(sqlx::query(
            "SELECT locked_until FROM lockout_counts WHERE tenant = $1 AND scope = $2 AND key = $3",
        )
        .bind(tenant)
        .bind(self.scope)
        .bind(key)
        .fetch_optional(db.read())
        .await?
        .map(|r| r.get::<i64, _>(0))
        .filter(|u| *u > now)
        .unwrap_or(0))
    }
}

/// Deletes counts that are neither locked nor touched for a day (every
/// scope): a run of failures that did not reach the threshold in a day
/// is forgotten. Called by housekeeping; returns the rows deleted.
pub async fn purge_counts(db: &Db, now: i64) -> AppResult<u64> {
    Ok(
        sqlx::query("DELETE FROM lockout_counts WHERE locked_until <= $1 AND updated_at < $2")
            .bind(now)
            .bind(now - FORGET_MS)
            .execute(db.write())
            .await?
            .rows_affected(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_db::TestDb;

    const K: Failures = Failures::new("test");

    async fn lock_at_the_threshold_reservation(db: &Db) {
        let policy = LockoutPolicy {
            threshold: 3,
            lock_ms: 1000,
        };
        let reserve = |now| K.reserve(db, "122289", "k", policy, now);
        let open = Some(Attempt { locks_until: None });
        assert_eq!(reserve(10).await.unwrap(), open);
        assert_eq!(reserve(10).await.unwrap(), open);
        assert_eq!(
            reserve(10).await.unwrap(),
            Some(Attempt {
                locks_until: Some(1010)
            })
        );
        assert_eq!(reserve(11).await.unwrap(), None);
        assert_eq!(K.locked_until(db, "122289", "k", 11).await.unwrap(), 1010);
        assert_eq!(K.locked_until(db, "122289", "k", 1010).await.unwrap(), 0);
        // Another tenant, another scope: counts of their own.
        assert_eq!(
            K.reserve(db, "242021", "k", policy, 11).await.unwrap(),
            open
        );
        assert_eq!(
            UNKNOWN_STAFF
                .reserve(db, "122289", "k", policy, 11)
                .await
                .unwrap(),
            open
        );
        assert_eq!(reserve(1010).await.unwrap(), open);
        // Threshold 1: the first failure locks.
        let once = LockoutPolicy {
            threshold: 1,
            lock_ms: 5,
        };
        assert_eq!(
            K.reserve(db, "122289", "one", once, 20).await.unwrap(),
            Some(Attempt {
                locks_until: Some(25)
            })
        );
    }

    async fn a_success_ends_the_run(db: &Db) {
        let policy = LockoutPolicy {
            threshold: 2,
            lock_ms: 1000,
        };
        let reserve = |now| K.reserve(db, "122289", "s", policy, now);
        reserve(10).await.unwrap().unwrap();
        let ok = reserve(10).await.unwrap().unwrap();
        assert_eq!(ok.locks_until, Some(1010));
        // The last attempt allowed succeeded: its lock is lifted, the run ends.
        K.succeed(db, "122289", "s", ok, 10).await.unwrap();
        assert_eq!(K.locked_until(db, "122289", "s", 11).await.unwrap(), 0);
        assert_eq!(
            reserve(11).await.unwrap(),
            Some(Attempt { locks_until: None })
        );
        let ok = reserve(11).await.unwrap().unwrap();
        // Another attempt locked it meanwhile: a success does not lift that.
        let other = Attempt { locks_until: None };
        K.succeed(db, "122289", "s", other, 12).await.unwrap();
        assert_eq!(
            K.locked_until(db, "122289", "s", 12).await.unwrap(),
            ok.locks_until.unwrap()
        );
        // A day later the unlocked, untouched counts are forgotten; the
        // locked one stays until it ends.
        let long = LockoutPolicy {
            threshold: 1,
            lock_ms: 3 * FORGET_MS,
        };
        K.reserve(db, "122289", "long", long, 12).await.unwrap();
        // Every other count of these tests: no lock left, a day untouched.
        assert_eq!(purge_counts(db, 1011 + FORGET_MS).await.unwrap(), 5);
        assert_eq!(
            K.locked_until(db, "122289", "long", 1011 + FORGET_MS)
                .await
                .unwrap(),
            12 + 3 * FORGET_MS
        );
    }

    /// A run of parallel failures over two connections stops at the threshold.
    async fn parallel_failures(db: &Db) {
        let policy = LockoutPolicy {
            threshold: 5,
            lock_ms: 60_000,
        };
        let now = 100;
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                K.reserve(&db, "122289", "p", policy, now).await.unwrap()
            }));
        }
        let mut let_through = 0;
        for t in tasks {
            let_through += usize::from(t.await.unwrap().is_some());
        }
        assert_eq!(let_through, 5);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn failures_by_key_on_sqlite() {
        let t = TestDb::sqlite().await;
        lock_at_the_threshold_reservation(&t.db).await;
        a_success_ends_the_run(&t.db).await;
        parallel_failures(&t.db).await;
        t.drop_now().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn failures_by_key_on_postgres() {
        let Some(t) = TestDb::postgres().await else {
            return;
        };
        lock_at_the_threshold_reservation(&t.db).await;
        a_success_ends_the_run(&t.db).await;
        parallel_failures(&t.db).await;
        t.drop_now().await;
    }
}
