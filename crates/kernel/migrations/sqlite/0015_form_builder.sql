-- フォームビルダー: the draft of a procedure's form, kept on the server
-- while staff add, order and configure its fields (one per procedure,
-- shared by its editors). The live form in procedures.body is untouched
-- until the draft is published as a new procedure version; the draft is
-- then deleted.
CREATE TABLE form_drafts (
    tenant        TEXT NOT NULL REFERENCES tenants(tenant),
    procedure_id  TEXT NOT NULL,
    -- The procedure version the draft was started from: publishing over a
    -- newer version is a conflict, never a silent overwrite.
    base_version  BIGINT NOT NULL,
    -- The form definition (FormDef) as JSON, always valid.
    body          TEXT NOT NULL,
    -- The body before the last change, for one step of undo.
    previous      TEXT,
    saved_at      BIGINT NOT NULL,
    saved_by      TEXT NOT NULL,
    PRIMARY KEY (tenant, procedure_id)
);

-- テンプレート共有: a procedure's published form shared by its city for
-- other cities' staff to start a draft from. Only the form definition is
-- kept (no applications, no personal data). Listed across tenants on
-- purpose: the one table read without a tenant filter.
CREATE TABLE form_templates (
    tenant        TEXT NOT NULL REFERENCES tenants(tenant),
    procedure_id  TEXT NOT NULL,
    name          TEXT NOT NULL,
    description   TEXT NOT NULL,
    body          TEXT NOT NULL,
    shared_at     BIGINT NOT NULL,
    shared_by     TEXT NOT NULL,
    PRIMARY KEY (tenant, procedure_id)
);
