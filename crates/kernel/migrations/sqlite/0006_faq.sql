-- FAQ (よくある質問) and staff knowledge (ナレッジ) in one store. `body` is
-- the entry as JSON (question, answer and category in every language,
-- related procedures); the columns beside it are what lists filter on.
-- `audience`: public (residents, API) or staff (signed-in staff of the
-- tenant only). Every save keeps a version (undo).
CREATE TABLE faq_entries (
    tenant      TEXT NOT NULL,
    id          BIGINT NOT NULL,
    audience    TEXT NOT NULL,
    published   BIGINT NOT NULL,
    category    TEXT NOT NULL,
    department  TEXT NOT NULL,
    body        TEXT NOT NULL,
    version     BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    updated_by  TEXT NOT NULL,
    PRIMARY KEY (tenant, id)
);

CREATE TABLE faq_versions (
    tenant      TEXT NOT NULL,
    id          BIGINT NOT NULL,
    version     BIGINT NOT NULL,
    body        TEXT NOT NULL,
    saved_at    BIGINT NOT NULL,
    saved_by    TEXT NOT NULL,
    PRIMARY KEY (tenant, id, version)
);

-- "Was this helpful?": one vote per entry per browser (`voter` is a keyed
-- hash of the browser's random voter cookie); voting again changes it.
CREATE TABLE faq_votes (
    tenant      TEXT NOT NULL,
    id          BIGINT NOT NULL,
    voter       TEXT NOT NULL,
    helpful     BIGINT NOT NULL,
    voted_at    BIGINT NOT NULL,
    PRIMARY KEY (tenant, id, voter)
);
