-- Newsletters (配信), crate `mail` (mail::newsletters): each
-- municipality's rule for a second person's approval, and the staff's own
-- addresses for test sends.

-- A message to more active subscribers than approval_threshold needs the
-- approval of a second member of staff (default 100 when no row).
CREATE TABLE mail_newsletter_settings (
    tenant              TEXT NOT NULL,
    approval_threshold  BIGINT NOT NULL,
    updated_by          TEXT NOT NULL,
    updated_at          BIGINT NOT NULL,
    PRIMARY KEY (tenant)
);

-- A member of staff's own address for test sends, sealed
-- (mail::address::seal).
CREATE TABLE mail_staff_addresses (
    tenant      TEXT NOT NULL,
    staff       TEXT NOT NULL,
    address     TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant, staff)
);
