-- Smart counter (待たない窓口): numbered tickets (整理券) per counter and day,
-- called, recalled, transferred and finished by clerks.

-- The last number given per tenant, counter and day (JST, YYYYMMDD).
CREATE TABLE ticket_numbers (
    tenant      TEXT NOT NULL,
    day         BIGINT NOT NULL,
    counter     TEXT NOT NULL,
    last        BIGINT NOT NULL,
    PRIMARY KEY (tenant, day, counter)
);

-- A ticket waits in the queue of `counter` in the order of `queue_key`
-- (its issue time: a transfer keeps its place). `status`: waiting, called,
-- absent, done. `token_hash` guards the resident's status page.
CREATE TABLE tickets (
    tenant          TEXT NOT NULL,
    id              TEXT NOT NULL,
    day             BIGINT NOT NULL,
    counter         TEXT NOT NULL,
    issued_counter  TEXT NOT NULL,
    number          BIGINT NOT NULL,
    status          TEXT NOT NULL,
    queue_key       BIGINT NOT NULL,
    issued_at       BIGINT NOT NULL,
    called_at       BIGINT,
    finished_at     BIGINT,
    called_by       TEXT,
    recalls         BIGINT NOT NULL,
    token_hash      TEXT NOT NULL,
    version         BIGINT NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX tickets_queue ON tickets (tenant, day, counter, status, queue_key);

-- Counters open for calling today (closed counters take no transfers).
CREATE TABLE counter_state (
    tenant      TEXT NOT NULL,
    counter     TEXT NOT NULL,
    open        BIGINT NOT NULL,
    changed_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant, counter)
);
