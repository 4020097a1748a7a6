-- Limits that hold across every server of a deployment (issue 16).

-- Rate-limit windows on PostgreSQL: one row per bucket and minute, counted
-- by one atomic upsert per limited request (`kernel::ratelimit`). A
-- client's bucket spans municipalities and has tenant ''. Windows older
-- than the previous minute are deleted. On SQLite (one process) the
-- windows are counted in memory and this table stays empty.
CREATE TABLE rate_windows (
    tenant  TEXT NOT NULL,
    bucket  TEXT NOT NULL,
    minute  BIGINT NOT NULL,
    hits    BIGINT NOT NULL,
    PRIMARY KEY (tenant, bucket, minute)
);

-- Failures in a row for keys that have no row of their own to count in:
-- staff ids that do not exist (by a hash, never the typed text) and
-- receipt numbers looked up in 申請状況の確認 (`kernel::auth::lockout`).
-- `scope` says which; the counting is that of the staff lockout.
CREATE TABLE lockout_counts (
    tenant        TEXT NOT NULL,
    scope         TEXT NOT NULL,
    key           TEXT NOT NULL,
    failures      BIGINT NOT NULL,
    locked_until  BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (tenant, scope, key)
);
