-- madoguchi foundation schema (PostgreSQL). Every table carries the tenant
-- (全国地方公共団体コード) first in its primary key, and every query filters on it.

CREATE TABLE tenants (
    tenant      TEXT PRIMARY KEY,
    name_ja     TEXT NOT NULL,
    profile     TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE departments (
    tenant      TEXT NOT NULL REFERENCES tenants(tenant),
    code        TEXT NOT NULL,
    name_ja     TEXT NOT NULL,
    profile     TEXT NOT NULL,
    PRIMARY KEY (tenant, code)
);

CREATE TABLE counters (
    tenant      TEXT NOT NULL REFERENCES tenants(tenant),
    code        TEXT NOT NULL,
    department  TEXT NOT NULL,
    profile     TEXT NOT NULL,
    PRIMARY KEY (tenant, code),
    FOREIGN KEY (tenant, department) REFERENCES departments(tenant, code)
);

CREATE TABLE procedures (
    tenant          TEXT NOT NULL REFERENCES tenants(tenant),
    id              TEXT NOT NULL,
    department      TEXT NOT NULL,
    name_ja         TEXT NOT NULL,
    channels        TEXT NOT NULL,
    identity_level  TEXT NOT NULL,
    fee_yen         BIGINT NOT NULL,
    body            TEXT NOT NULL,
    version         BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    updated_by      TEXT NOT NULL,
    PRIMARY KEY (tenant, id),
    FOREIGN KEY (tenant, department) REFERENCES departments(tenant, code)
);

-- Every saved version of a procedure: applications keep the form they were
-- submitted with, and staff can restore an earlier version.
CREATE TABLE procedure_versions (
    tenant      TEXT NOT NULL,
    id          TEXT NOT NULL,
    version     BIGINT NOT NULL,
    body        TEXT NOT NULL,
    saved_at    BIGINT NOT NULL,
    saved_by    TEXT NOT NULL,
    PRIMARY KEY (tenant, id, version)
);

CREATE TABLE applications (
    tenant              TEXT NOT NULL REFERENCES tenants(tenant),
    id                  TEXT NOT NULL,
    procedure_id        TEXT NOT NULL,
    procedure_version   BIGINT NOT NULL,
    department          TEXT NOT NULL,
    channel             TEXT NOT NULL,
    -- Whether the procedure could be applied for online when this was
    -- submitted (the KPI counts this, so later catalogue edits do not
    -- rewrite past years).
    online_capable      BIGINT NOT NULL,
    status              TEXT NOT NULL,
    applicant_name      TEXT NOT NULL,
    applicant_kana      TEXT NOT NULL,
    email               TEXT,
    -- The language the applicant used: e-mails about the case are written in it.
    lang                TEXT NOT NULL,
    data                TEXT NOT NULL,
    assignee            TEXT,
    fiscal_year         BIGINT NOT NULL,
    submitted_at        BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    version             BIGINT NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX applications_queue ON applications (tenant, department, status, submitted_at);
CREATE INDEX applications_fy ON applications (tenant, fiscal_year, channel);

CREATE TABLE application_events (
    tenant          TEXT NOT NULL,
    application_id  TEXT NOT NULL,
    seq             BIGINT NOT NULL,
    kind            TEXT NOT NULL,
    from_status     TEXT,
    to_status       TEXT,
    actor           TEXT NOT NULL,
    body            TEXT NOT NULL,
    at              BIGINT NOT NULL,
    PRIMARY KEY (tenant, application_id, seq)
);

-- The last receipt number (受付番号) given per tenant and fiscal year.
CREATE TABLE receipt_counters (
    tenant          TEXT NOT NULL,
    fiscal_year     BIGINT NOT NULL,
    last            BIGINT NOT NULL,
    PRIMARY KEY (tenant, fiscal_year)
);

-- A retried submission with the same key and the same request (procedure,
-- channel, actor, answers: request_hash) gets the first case back; the same
-- key with a different request is refused.
CREATE TABLE idempotency_keys (
    tenant          TEXT NOT NULL,
    key             TEXT NOT NULL,
    request_hash    TEXT NOT NULL,
    application_id  TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (tenant, key)
);

CREATE TABLE drafts (
    tenant          TEXT NOT NULL,
    id              TEXT NOT NULL,
    procedure_id    TEXT NOT NULL,
    data            TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    PRIMARY KEY (tenant, id)
);

CREATE TABLE attachments (
    tenant          TEXT NOT NULL,
    id              TEXT NOT NULL,
    owner           TEXT NOT NULL,
    field           TEXT NOT NULL,
    filename        TEXT NOT NULL,
    content_type    TEXT NOT NULL,
    size            BIGINT NOT NULL,
    sha256          TEXT NOT NULL,
    content         BYTEA NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX attachments_owner ON attachments (tenant, owner);

CREATE TABLE outbox (
    tenant      TEXT NOT NULL,
    id          TEXT NOT NULL,
    kind        TEXT NOT NULL,
    recipient   TEXT NOT NULL,
    subject     TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    sent_at     BIGINT,
    attempts    BIGINT NOT NULL,
    PRIMARY KEY (tenant, id)
);

-- Append-only, hash-chained per tenant: hash = SHA-256(prev_hash | fields).
CREATE TABLE audit_log (
    tenant      TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    at          BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    target      TEXT NOT NULL,
    detail      TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL,
    PRIMARY KEY (tenant, seq)
);
CREATE TABLE audit_heads (
    tenant      TEXT PRIMARY KEY,
    seq         BIGINT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'audit_log is append-only'; END; $$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

CREATE TABLE staff (
    tenant          TEXT NOT NULL REFERENCES tenants(tenant),
    id              TEXT NOT NULL,
    name            TEXT NOT NULL,
    department      TEXT NOT NULL,
    roles           TEXT NOT NULL,
    password_hash   TEXT NOT NULL,
    active          BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (tenant, id)
);

CREATE TABLE staff_sessions (
    tenant      TEXT NOT NULL,
    token_hash  TEXT NOT NULL,
    staff_id    TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    last_seen   BIGINT NOT NULL,
    PRIMARY KEY (tenant, token_hash)
);

-- Deployment-wide secrets generated on first start (e.g. the key that
-- derives residents' access links). Not tenant data.
CREATE TABLE deployment_secrets (
    name        TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
