-- The outbox becomes the delivery queue of every message to a resident
-- (crate `mail`): its language, what it is about, where its delivery
-- stands, and the addresses that must not be written to again.
ALTER TABLE outbox ADD COLUMN lang TEXT NOT NULL DEFAULT 'ja';
-- queued, sending, sent, failed, bounced, unknown (handed off when a
-- sender stopped: maybe delivered, never sent again by itself), demo
-- (kept in the demo mailbox, not sent), held (written before delivery
-- existed: sent only when staff release them).
ALTER TABLE outbox ADD COLUMN state TEXT NOT NULL DEFAULT 'queued';
-- The application the mail is about (its receipt number), if any.
ALTER TABLE outbox ADD COLUMN case_id TEXT;
-- The newsletter message (配信) and subscriber it was written for, if any.
ALTER TABLE outbox ADD COLUMN campaign TEXT;
ALTER TABLE outbox ADD COLUMN subscriber TEXT;
ALTER TABLE outbox ADD COLUMN body_html TEXT;
-- RFC 8058 one-click unsubscribe URL of a subscription mail.
ALTER TABLE outbox ADD COLUMN unsubscribe_url TEXT;
ALTER TABLE outbox ADD COLUMN message_id TEXT;
ALTER TABLE outbox ADD COLUMN next_attempt_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN lease_until BIGINT;
ALTER TABLE outbox ADD COLUMN last_error TEXT;
UPDATE outbox SET state = 'held';
CREATE INDEX outbox_due ON outbox (tenant, state, next_attempt_at);
CREATE INDEX outbox_case ON outbox (tenant, case_id);
CREATE INDEX outbox_campaign ON outbox (tenant, campaign, state);

-- Addresses not to write to (a hard bounce, a complaint, staff's
-- decision), by the keyed hash of the lower-cased address.
CREATE TABLE mail_suppressions (
    tenant        TEXT NOT NULL,
    address_hash  TEXT NOT NULL,
    reason        TEXT NOT NULL,
    detail        TEXT NOT NULL,
    at            BIGINT NOT NULL,
    PRIMARY KEY (tenant, address_hash)
);
