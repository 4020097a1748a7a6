-- 消込 (reconciliation, crate `payments`): the files imported from banks
-- (全銀 振込入金通知) and convenience-store collection agents (速報 and
-- 確報), and the exception queue of what matched no charge as reported.
--
-- A file is recorded with its SHA-256, so the same file imported again is
-- recognised (and changes nothing), with its counts and who imported it.
CREATE TABLE payment_import_files (
    tenant       TEXT NOT NULL,
    id           TEXT NOT NULL,
    kind         TEXT NOT NULL,
    file_name    TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    records      BIGINT NOT NULL,
    payments     BIGINT NOT NULL,
    total        BIGINT NOT NULL,
    applied      BIGINT NOT NULL,
    exceptions   BIGINT NOT NULL,
    already      BIGINT NOT NULL,
    imported_by  TEXT NOT NULL,
    imported_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, sha256)
);
CREATE INDEX payment_import_files_at ON payment_import_files (tenant, imported_at);

-- A reported payment that was not applied to a charge as it came:
-- unknown_number (番号不明), amount_mismatch (過不足), duplicate (二重納付),
-- cancelled_charge (取消後の納付) or bank_cancellation (銀行の取消通知).
-- The money itself is a receipt without a charge (payment_receipts), so it
-- is neither lost nor counted twice. Staff resolve each with a reason:
-- applied (to a chosen charge), refund_due (還付予定) or ignored. What the
-- bank or agent said about the payer (振込依頼人名, EDI) is sealed
-- (Purpose::Payer). One per channel and the channel's key for the payment.
CREATE TABLE payment_exceptions (
    tenant          TEXT NOT NULL,
    id              TEXT NOT NULL,
    file_id         TEXT NOT NULL,
    record          BIGINT NOT NULL,
    kind            TEXT NOT NULL,
    channel         TEXT NOT NULL,
    source_key      TEXT NOT NULL,
    receipt_id      TEXT,
    payment_number  TEXT NOT NULL,
    charge_id       TEXT,
    amount          BIGINT NOT NULL,
    paid_on         TEXT NOT NULL,
    detail_sealed   TEXT NOT NULL,
    status          TEXT NOT NULL,
    resolved_charge_id TEXT,
    reason          TEXT,
    resolved_by     TEXT,
    resolved_at     BIGINT,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, channel, source_key)
);
CREATE INDEX payment_exceptions_status ON payment_exceptions (tenant, status, created_at);
CREATE INDEX payment_exceptions_file ON payment_exceptions (tenant, file_id, record);
