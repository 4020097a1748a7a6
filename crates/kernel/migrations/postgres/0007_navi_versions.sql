-- 手続ナビ edited in the back office. Every published version of a
-- life-event bundle is kept (who, when, how) so that any can be restored;
-- the live bundle stays in tenants.profile (life_events), which the
-- navigator and the one-stop desk read.
CREATE TABLE navi_versions (
    tenant        TEXT NOT NULL REFERENCES tenants(tenant),
    code          TEXT NOT NULL,
    version       BIGINT NOT NULL,
    body          TEXT NOT NULL,
    -- initial (as loaded from tenant.json, kept before the first edit),
    -- publish, or restore (of version restored_from).
    origin        TEXT NOT NULL,
    restored_from BIGINT,
    published_at  BIGINT NOT NULL,
    published_by  TEXT NOT NULL,
    PRIMARY KEY (tenant, code, version)
);

-- One draft per life event, shared by its editors: saved when valid, shown
-- in the preview, deleted when published.
CREATE TABLE navi_drafts (
    tenant        TEXT NOT NULL REFERENCES tenants(tenant),
    code          TEXT NOT NULL,
    -- The live version the draft was started from (0: a new life event,
    -- or one never edited before).
    base_version  BIGINT NOT NULL,
    body          TEXT NOT NULL,
    saved_at      BIGINT NOT NULL,
    saved_by      TEXT NOT NULL,
    PRIMARY KEY (tenant, code)
);
