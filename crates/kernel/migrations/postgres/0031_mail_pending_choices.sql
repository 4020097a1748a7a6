-- What a resident chose when they signed up (again) and has not yet
-- confirmed: the categories (mail_pending_choices) and the language
-- (mail_subscribers.pending_lang) travel with the confirmation link and
-- replace the subscriber's choice only when that link is used
-- (mail::subscriptions::subscribers::confirm). A sign-up of an address
-- already pending or unsubscribed changes nothing else before then; the
-- newest link carries the newest choice.
ALTER TABLE mail_subscribers ADD COLUMN pending_lang TEXT;

CREATE TABLE mail_pending_choices (
    tenant      TEXT NOT NULL,
    subscriber  TEXT NOT NULL,
    category    TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant, subscriber, category)
);
CREATE INDEX mail_pending_choices_category ON mail_pending_choices (tenant, category);
