-- Events across servers (kernel::events): every live event of a tenant
-- (a number called, a board's counts, a cache to drop) is a row here,
-- numbered per tenant in commit order, so a viewer reconnecting to any
-- server resumes after the last id it saw. Deployment-wide events use
-- tenant ''. Rows older than a day are deleted (kernel::events::KEEP).
CREATE TABLE event_heads (
    tenant   TEXT NOT NULL PRIMARY KEY,
    -- The id of the tenant's last event. Its row is updated in the
    -- publishing transaction: the row lock orders commits, so ids commit
    -- in increasing order and a reader of `id > last` skips nothing.
    last_id  BIGINT NOT NULL
);

CREATE TABLE events (
    tenant  TEXT NOT NULL,
    id      BIGINT NOT NULL,
    topic   TEXT NOT NULL,
    -- JSON, small, never personal data.
    body    TEXT NOT NULL,
    at      BIGINT NOT NULL,
    PRIMARY KEY (tenant, id)
);

CREATE INDEX events_topic ON events (tenant, topic, id);
CREATE INDEX events_at ON events (tenant, at);
