-- The identity check (本人確認) a clerk did for one case entered at the
-- counter (書かない窓口): which document, checked by whom, when. A case of
-- a life-event visit has its visit's check (identity_checks) instead.
CREATE TABLE case_identity_checks (
    tenant          TEXT NOT NULL,
    application_id  TEXT NOT NULL,
    document        TEXT NOT NULL,
    note            TEXT NOT NULL,
    checked_by      TEXT NOT NULL,
    checked_by_name TEXT NOT NULL,
    checked_at      BIGINT NOT NULL,
    PRIMARY KEY (tenant, application_id)
);
