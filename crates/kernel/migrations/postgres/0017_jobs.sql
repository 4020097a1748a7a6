-- ジョブ: the one durable job queue of a deployment (kernel::jobs). A job
-- belongs to a municipality, or to the whole deployment (tenant ''). States:
-- queued → running → done, or back to queued with a later run_at after a
-- failure (再実行 with backoff), or failed (the dead letter, with its last
-- error) after its last attempt; a queued job may be cancelled (取消).
-- Workers on every server claim due jobs with FOR UPDATE SKIP LOCKED and
-- hold a lease (locked_by, locked_until); a job whose lease ran out (its
-- worker died) is claimed again. On Citus this table stays a plain table on
-- the coordinator: the claim reads across tenants.
CREATE TABLE jobs (
    tenant        TEXT NOT NULL,
    id            TEXT NOT NULL,
    kind          TEXT NOT NULL,
    payload       TEXT NOT NULL,
    state         TEXT NOT NULL,
    attempts      BIGINT NOT NULL DEFAULT 0,
    max_attempts  BIGINT NOT NULL,
    run_at        BIGINT NOT NULL,
    locked_by     TEXT,
    locked_until  BIGINT,
    last_error    TEXT,
    dedupe_key    TEXT,
    created_at    BIGINT NOT NULL,
    finished_at   BIGINT,
    PRIMARY KEY (tenant, id),
    CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled'))
);
-- A second enqueue with the same key while one is queued or running is a
-- no-op.
CREATE UNIQUE INDEX jobs_dedupe ON jobs (tenant, kind, dedupe_key)
    WHERE dedupe_key IS NOT NULL AND state IN ('queued', 'running');
-- What the workers look for: due queued jobs, and running ones whose lease ran out.
CREATE INDEX jobs_due ON jobs (state, run_at);
-- The staff page: a tenant's jobs by state.
CREATE INDEX jobs_tenant_state ON jobs (tenant, state, run_at);

-- Scheduled jobs (cron-like), once per deployment: one row per schedule,
-- next_run_at advanced by whichever server sees it due first (a
-- compare-and-set on next_run_at), which enqueues the slot's job in the same
-- transaction with the dedupe key '<name>@<slot>'.
CREATE TABLE job_schedules (
    tenant       TEXT NOT NULL,
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    -- The rule as written at registration ('every 10m', 'daily 03:00'); a
    -- changed rule starts again from its next slot.
    rule         TEXT NOT NULL,
    next_run_at  BIGINT NOT NULL,
    last_run_at  BIGINT,
    PRIMARY KEY (tenant, name)
);
