-- Other channels (crate `mail`, `mail::channels`): the LINE Messaging API.

-- A municipality's LINE official account: its channel secret (verifies
-- webhooks) and channel access token (pushes), both sealed
-- (kernel::crypto::Purpose::LineChannel). created_at: messages sent
-- before it are never pushed.
CREATE TABLE line_channels (
    tenant        TEXT NOT NULL,
    secret        TEXT NOT NULL,
    access_token  TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (tenant)
);

-- A LINE user who follows the account. state: pending (followed, has not
-- confirmed categories yet), linked (confirmed: receives pushes of the
-- categories in line_subscriptions), unfollowed (blocked or left: no
-- pushes, categories deleted). The link to confirm is one-time: its
-- SHA-256 (link_token_hash) and its end; it is cleared when used.
CREATE TABLE line_users (
    tenant           TEXT NOT NULL,
    user_id          TEXT NOT NULL,
    state            TEXT NOT NULL,
    lang             TEXT NOT NULL,
    link_token_hash  TEXT,
    link_expires_at  BIGINT,
    followed_at      BIGINT NOT NULL,
    linked_at        BIGINT,
    unfollowed_at    BIGINT,
    PRIMARY KEY (tenant, user_id)
);
CREATE UNIQUE INDEX line_users_link ON line_users (tenant, link_token_hash);

-- The categories (mail_categories.code) a linked LINE user receives.
CREATE TABLE line_subscriptions (
    tenant      TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    category    TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant, user_id, category)
);
CREATE INDEX line_subscriptions_category ON line_subscriptions (tenant, category);

-- Webhook events already handled (webhookEventId): a redelivered or
-- replayed event changes nothing.
CREATE TABLE line_webhook_events (
    tenant    TEXT NOT NULL,
    event_id  TEXT NOT NULL,
    at        BIGINT NOT NULL,
    PRIMARY KEY (tenant, event_id)
);

-- A newsletter message (mail_messages) pushed to one LINE user, through
-- the job `line.push`. state: queued, sent, failed (refused for good:
-- a 4xx other than 429). retry_key: the X-Line-Retry-Key of every try,
-- so a retry after a lost answer is never delivered twice.
CREATE TABLE line_pushes (
    tenant      TEXT NOT NULL,
    id          TEXT NOT NULL,
    message     TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    state       TEXT NOT NULL,
    retry_key   TEXT NOT NULL,
    attempts    BIGINT NOT NULL,
    last_error  TEXT,
    created_at  BIGINT NOT NULL,
    sent_at     BIGINT,
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, message, user_id)
);

-- Sent messages whose pushes were queued (once each).
CREATE TABLE line_messages (
    tenant     TEXT NOT NULL,
    message    TEXT NOT NULL,
    queued_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant, message)
);
