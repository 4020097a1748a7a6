//! The temporary lockout after failures in a row (passwords and second
//! factors alike).
//!
//! An attempt is reserved before anything is checked, in one atomic
//! update: it counts as a failure unless it succeeds, and the attempt that
//! reaches the limit locks the account the moment it is reserved. So no
//! more than the limit are ever checked, however many arrive at once: the
//! rest find the account locked. If that last attempt succeeds, it lifts
//! the lock it set. Ids that do not exist get the same treatment in
//! memory, so that the lockout tells nothing about which ids exist.

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
/// key of its count in [`UnknownIds`].
pub fn unknown_target(tenant: &str, id: &str) -> (String, String) {
    let h = ids::hash_token(&format!("{tenant}|{id}"));
    (format!("staff:unknown-{}", &h[..12]), h)
}

/// (lock end, failures) per hashed unknown id, counted in this process.
/// Also counts other failures by key that have no row to count in, such
/// as lookups of a receipt number (`cases::lookup`), with
/// [`UnknownIds::succeed`] for an attempt that succeeded.
#[derive(Clone, Debug, Default)]
pub struct UnknownIds(
    std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, (i64, i64)>>>,
);

impl UnknownIds {
    /// Reserves an attempt like [`reserve`]: `None` while locked. An
    /// unknown id never succeeds, so its attempts are never released.
    pub fn reserve(&self, key: String, policy: LockoutPolicy, now: i64) -> Option<Attempt> {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, (until, n)| *until > now || *n > 0);
            if map.len() > 100_000 {
                map.clear();
            }
        }
        let slot = map.entry(key).or_insert((0, 0));
        if slot.0 > now {
            return None;
        }
        slot.1 += 1;
        if slot.1 >= policy.threshold {
            *slot = (now + policy.lock_ms, 0);
            return Some(Attempt {
                locks_until: Some(slot.0),
            });
        }
        Some(Attempt { locks_until: None })
    }

    /// A reserved attempt succeeded: the run of failures ends (as a
    /// completed sign-in ends it, [`complete`]), and the lock it set, if
    /// it was the last one allowed, is lifted; a lock another attempt set
    /// meanwhile stays.
    pub fn succeed(&self, key: &str, attempt: Attempt, now: i64) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let Some(slot) = map.get_mut(key) else {
            return;
        };
        let mine = attempt.locks_until.is_some_and(|until| slot.0 == until);
        if mine || slot.0 <= now {
            map.remove(key);
        }
    }

    pub fn locked_until(&self, key: &str, now: i64) -> i64 {
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.get(key)
            .map(|(until, _)| *until)
            .filter(|u| *u > now)
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_ids_lock_at_the_threshold_reservation() {
        let ids = UnknownIds::default();
        let policy = LockoutPolicy {
            threshold: 3,
            lock_ms: 1000,
        };
        let k = || "k".to_string();
        assert_eq!(
            ids.reserve(k(), policy, 10),
            Some(Attempt { locks_until: None })
        );
        assert_eq!(
            ids.reserve(k(), policy, 10),
            Some(Attempt { locks_until: None })
        );
        assert_eq!(
            ids.reserve(k(), policy, 10),
            Some(Attempt {
                locks_until: Some(1010)
            })
        );
        assert_eq!(ids.reserve(k(), policy, 11), None);
        assert_eq!(ids.locked_until("k", 11), 1010);
        assert_eq!(ids.locked_until("k", 1010), 0);
        assert_eq!(
            ids.reserve(k(), policy, 1010),
            Some(Attempt { locks_until: None })
        );
    }

    #[test]
    fn a_success_ends_the_run() {
        let ids = UnknownIds::default();
        let policy = LockoutPolicy {
            threshold: 2,
            lock_ms: 1000,
        };
        let k = || "k".to_string();
        ids.reserve(k(), policy, 10).unwrap();
        let ok = ids.reserve(k(), policy, 10).unwrap();
        assert_eq!(ok.locks_until, Some(1010));
        // The last attempt allowed succeeded: its lock is lifted, the run ends.
        ids.succeed("k", ok, 10);
        assert_eq!(ids.locked_until("k", 11), 0);
        assert_eq!(
            ids.reserve(k(), policy, 11),
            Some(Attempt { locks_until: None })
        );
        let ok = ids.reserve(k(), policy, 11).unwrap();
        // Another attempt locked it meanwhile: a success does not lift that.
        let other = Attempt { locks_until: None };
        ids.succeed("k", other, 12);
        assert_eq!(ids.locked_until("k", 12), ok.locks_until.unwrap());
    }
}
