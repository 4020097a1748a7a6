-- Where each translation of the content came from and who checked it:
-- one row per (tenant, entry kind, entry id, language). origin is
-- 'machine_assisted' (written with machine assistance, e.g. the demo's)
-- or 'staff' (saved by staff in an editor); reviewed_by / reviewed_at are
-- set when a member of staff marked it reviewed (NULL: unreviewed).
CREATE TABLE translation_marks (
    tenant TEXT NOT NULL REFERENCES tenants(tenant),
    entry_kind TEXT NOT NULL,
    entry_id TEXT NOT NULL,
    lang TEXT NOT NULL,
    origin TEXT NOT NULL,
    reviewed_by TEXT,
    reviewed_by_name TEXT,
    reviewed_at BIGINT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant, entry_kind, entry_id, lang)
);
