-- Subscriptions (よめーる) and newsletter messages (配信), crate `mail`.

-- What a resident may subscribe to, per municipality (防災・防犯, 子育て…),
-- edited by staff. `names` holds the other languages as JSON
-- ({"en": "...", "easy": "..."}); Japanese is `name`.
CREATE TABLE mail_categories (
    tenant      TEXT NOT NULL,
    code        TEXT NOT NULL,
    name        TEXT NOT NULL,
    names       TEXT NOT NULL,
    position    BIGINT NOT NULL,
    active      BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant, code)
);

-- One address per municipality. `address` is sealed
-- (mail::address::seal); `address_hash` finds it (mail::address::hash).
-- state: pending (sign-up not confirmed yet), active, unsubscribed (kept
-- until the retention period ends, then deleted).
CREATE TABLE mail_subscribers (
    tenant              TEXT NOT NULL,
    id                  TEXT NOT NULL,
    address             TEXT NOT NULL,
    address_hash        TEXT NOT NULL,
    lang                TEXT NOT NULL,
    state               TEXT NOT NULL,
    -- When and how the resident consented: web (double opt-in), import
    -- (the city's existing list, with its consent date), line.
    consent_at          BIGINT,
    consent_source      TEXT NOT NULL,
    -- The double opt-in: SHA-256 of the confirmation token, and its end.
    confirm_token_hash  TEXT,
    confirm_expires_at  BIGINT,
    created_at          BIGINT NOT NULL,
    confirmed_at        BIGINT,
    unsubscribed_at     BIGINT,
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, address_hash)
);
CREATE INDEX mail_subscribers_state ON mail_subscribers (tenant, state);

CREATE TABLE mail_subscriptions (
    tenant      TEXT NOT NULL,
    subscriber  TEXT NOT NULL,
    category    TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant, subscriber, category)
);
CREATE INDEX mail_subscriptions_category ON mail_subscriptions (tenant, category);

-- A newsletter message. state: draft, awaiting_approval, approved
-- (waiting for scheduled_at), sending, sent, cancelled. urgent (緊急):
-- sent as soon as approved, whatever scheduled_at says. An event
-- (event_start set) appears in the iCalendar feed.
CREATE TABLE mail_messages (
    tenant        TEXT NOT NULL,
    id            TEXT NOT NULL,
    category      TEXT NOT NULL,
    urgent        BIGINT NOT NULL,
    state         TEXT NOT NULL,
    scheduled_at  BIGINT,
    author        TEXT NOT NULL,
    approver      TEXT,
    approved_at   BIGINT,
    recipients    BIGINT,
    event_start   BIGINT,
    event_end     BIGINT,
    event_place   TEXT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    sent_at       BIGINT,
    version       BIGINT NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX mail_messages_state ON mail_messages (tenant, state, scheduled_at);

-- A message's text per language (ja always; easy Japanese, en and the
-- others as staff write them). body is plain text with optional Markdown.
CREATE TABLE mail_message_texts (
    tenant   TEXT NOT NULL,
    message  TEXT NOT NULL,
    lang     TEXT NOT NULL,
    subject  TEXT NOT NULL,
    body     TEXT NOT NULL,
    PRIMARY KEY (tenant, message, lang)
);
