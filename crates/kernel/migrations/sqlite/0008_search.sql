-- Search (迷わない窓口). Synonym groups are per tenant and edited by staff
-- (マイナ ⇔ マイナンバーカード); each change keeps the previous terms in
-- `search_synonym_history` so it can be undone.
CREATE TABLE search_synonyms (
    tenant TEXT NOT NULL REFERENCES tenants(tenant),
    id TEXT NOT NULL,
    terms TEXT NOT NULL,            -- JSON array of at least two terms
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE TABLE search_synonym_history (
    tenant TEXT NOT NULL REFERENCES tenants(tenant),
    seq BIGINT NOT NULL,
    id TEXT NOT NULL,
    terms TEXT,                     -- the group before the change; NULL: it did not exist
    changed_at BIGINT NOT NULL,
    changed_by TEXT NOT NULL,
    PRIMARY KEY (tenant, seq)
);
-- Queries that found nothing, folded and with digits masked, counted so
-- staff see first where residents struggle. `dismissed_at`: staff handled
-- it (e.g. wrote an FAQ); it shows again if residents keep missing after.
CREATE TABLE search_misses (
    tenant TEXT NOT NULL REFERENCES tenants(tenant),
    folded TEXT NOT NULL,
    sample TEXT NOT NULL,
    channel TEXT NOT NULL,
    count BIGINT NOT NULL,
    first_at BIGINT NOT NULL,
    last_at BIGINT NOT NULL,
    dismissed_at BIGINT,
    PRIMARY KEY (tenant, folded)
);
CREATE INDEX search_misses_rank ON search_misses (tenant, count);
