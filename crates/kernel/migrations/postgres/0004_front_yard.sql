-- Front-yard reform (フロントヤード改革): applications a clerk enters for a
-- resident (書かない窓口) and life-event visits that open a case in every
-- department concerned with one identity check (回らない窓口).

-- An application a clerk fills in for a resident, until it is submitted.
-- `status`: editing, confirming (on the resident's screen or on paper),
-- signed, submitting (a clerk is filing it), submitted, cancelled. In
-- `input` (the form as typed) every マイナンバー value is sealed, and
-- `signature` (strokes drawn on screen) is sealed whole.
-- `verified` (JSON): the fields filled from a My Number card, the identity
-- level and the resident's pseudonymous subject.
CREATE TABLE assisted_entries (
    tenant            TEXT NOT NULL,
    id                TEXT NOT NULL,
    procedure_id      TEXT NOT NULL,
    ticket_id         TEXT,
    visit_id          TEXT,
    registry_id       TEXT,
    input             TEXT NOT NULL,
    verified          TEXT NOT NULL,
    status            TEXT NOT NULL,
    signature         TEXT,
    signature_method  TEXT,
    application_id    TEXT,
    -- The version last printed: a paper signature confirms that content.
    printed_version   BIGINT,
    -- The department of the clerk who opened it (the desk).
    department        TEXT NOT NULL,
    created_by        TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    version           BIGINT NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX assisted_entries_open ON assisted_entries (tenant, status, updated_at);

-- One visit for a life event (転入, 出生, おくやみ …): the answers that
-- chose its procedures (sealed), and the resident (name and kana for the
-- staff list; the register id when found there). `department` is the
-- desk that took the visit (総合窓口); `idempotency_key` and
-- `request_hash` make a repeated submission find the same visit.
CREATE TABLE visits (
    tenant          TEXT NOT NULL,
    id              TEXT NOT NULL,
    life_event      TEXT NOT NULL,
    answers         TEXT NOT NULL,
    resident_name   TEXT NOT NULL,
    resident_kana   TEXT NOT NULL,
    registry_id     TEXT,
    department      TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash    TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX visits_recent ON visits (tenant, created_at);
CREATE UNIQUE INDEX visits_idempotency ON visits (tenant, idempotency_key);

-- The identity check (本人確認) done once for a visit and shown to every
-- department: which document, checked by whom, when.
CREATE TABLE identity_checks (
    tenant          TEXT NOT NULL,
    visit_id        TEXT NOT NULL,
    document        TEXT NOT NULL,
    note            TEXT NOT NULL,
    checked_by      TEXT NOT NULL,
    checked_by_name TEXT NOT NULL,
    checked_at      BIGINT NOT NULL,
    PRIMARY KEY (tenant, visit_id)
);

-- The cases of a visit, in the order the resident goes to them.
CREATE TABLE visit_items (
    tenant          TEXT NOT NULL,
    visit_id        TEXT NOT NULL,
    seq             BIGINT NOT NULL,
    procedure_id    TEXT NOT NULL,
    department      TEXT NOT NULL,
    counter         TEXT,
    application_id  TEXT NOT NULL,
    PRIMARY KEY (tenant, visit_id, seq)
);

ALTER TABLE applications ADD COLUMN visit_id TEXT;
