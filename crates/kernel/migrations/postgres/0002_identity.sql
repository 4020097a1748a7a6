-- Identity and security: staff MFA and lockout, department grants,
-- resident sessions from OpenID Connect, identity recorded on applications.

-- TOTP secrets are sealed with the configured encryption key (never plain).
ALTER TABLE staff ADD COLUMN totp_secret TEXT;
ALTER TABLE staff ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;
ALTER TABLE staff ADD COLUMN mfa_enrolled_at BIGINT;
ALTER TABLE staff ADD COLUMN failed_sign_ins BIGINT NOT NULL DEFAULT 0;
ALTER TABLE staff ADD COLUMN locked_until BIGINT NOT NULL DEFAULT 0;
ALTER TABLE staff ADD COLUMN password_changed_at BIGINT NOT NULL DEFAULT 0;

-- One-time recovery codes, stored as SHA-256 (they carry 50 bits of randomness).
CREATE TABLE staff_recovery_codes (
    tenant      TEXT NOT NULL,
    staff_id    TEXT NOT NULL,
    code_hash   TEXT NOT NULL,
    used_at     BIGINT,
    PRIMARY KEY (tenant, staff_id, code_hash)
);

-- `password`: the password was right, the second factor is still due;
-- `enrol`: the account has no second factor yet and must set one up;
-- `full`: signed in.
ALTER TABLE staff_sessions ADD COLUMN stage TEXT NOT NULL DEFAULT 'full';
-- During enrolment: the new TOTP secret (sealed), shown to this sign-in only;
-- it lapses with the pending session.
ALTER TABLE staff_sessions ADD COLUMN totp_pending TEXT;

-- Departments whose cases a member of staff may see besides their own.
CREATE TABLE staff_grants (
    tenant      TEXT NOT NULL,
    staff_id    TEXT NOT NULL,
    department  TEXT NOT NULL,
    granted_by  TEXT NOT NULL,
    granted_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant, staff_id, department)
);

-- Residents signed in through OpenID Connect (or the development provider).
-- The verified claims (基本4情報) are sealed; the subject is kept only as a
-- keyed hash.
CREATE TABLE resident_sessions (
    tenant          TEXT NOT NULL,
    token_hash      TEXT NOT NULL,
    subject_hash    TEXT NOT NULL,
    provider        TEXT NOT NULL,
    identity_level  TEXT NOT NULL,
    claims          TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    last_seen       BIGINT NOT NULL,
    PRIMARY KEY (tenant, token_hash)
);

-- Authorization requests in flight: each state is used once, and only by
-- the browser that started it (browser_hash: hash of a cookie it holds).
CREATE TABLE oidc_requests (
    tenant          TEXT NOT NULL,
    state_hash      TEXT NOT NULL,
    browser_hash    TEXT NOT NULL,
    nonce           TEXT NOT NULL,
    code_verifier   TEXT NOT NULL,
    return_to       TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (tenant, state_hash)
);

ALTER TABLE applications ADD COLUMN identity_level TEXT NOT NULL DEFAULT 'none';
-- Answers taken from a verified identity (comma-separated field names).
ALTER TABLE applications ADD COLUMN verified_fields TEXT NOT NULL DEFAULT '';
ALTER TABLE applications ADD COLUMN resident_subject TEXT;
