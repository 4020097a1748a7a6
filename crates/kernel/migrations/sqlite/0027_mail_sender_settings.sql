-- Each municipality's sender (mail::delivery::sender): its From address,
-- display name and Reply-To, and its own limit of messages per minute.
-- A NULL column means the default: the deployment's mail.from, the
-- municipality's name, no Reply-To, the deployment's mail.per_minute
-- (a municipality may only set a lower limit).
CREATE TABLE mail_sender_settings (
    tenant        TEXT NOT NULL,
    from_address  TEXT,
    display_name  TEXT,
    reply_to      TEXT,
    per_minute    BIGINT,
    updated_by    TEXT NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (tenant)
);
