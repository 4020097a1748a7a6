-- 公金 (crate `payments`): charges (調定), what was received against them,
-- and each charge's history.
--
-- A charge is what one payer owes for one subject and period: its amount
-- in yen, its due date (Japan's calendar date), the 納付番号 printed on its
-- slip and used to match what banks and convenience stores report, and its
-- status, which follows from the amounts: unpaid (未納), partial (一部納付),
-- paid (納付済), overpaid (過誤納), cancelled (取消), refunded (還付).
-- The payer's name and address are sealed (kernel::crypto, Purpose::Payer).
CREATE TABLE payment_charges (
    tenant          TEXT NOT NULL,
    id              TEXT NOT NULL,
    payment_number  TEXT NOT NULL,
    subject         TEXT NOT NULL,
    subject_label   TEXT NOT NULL,
    period_label    TEXT NOT NULL,
    fiscal_year     INTEGER NOT NULL,
    payer_ref       TEXT NOT NULL,
    payer_sealed    TEXT NOT NULL,
    amount          BIGINT NOT NULL CHECK (amount > 0),
    paid_amount     BIGINT NOT NULL DEFAULT 0,
    refunded_amount BIGINT NOT NULL DEFAULT 0,
    due_date        TEXT NOT NULL,
    status          TEXT NOT NULL,
    application_id  TEXT,
    cancelled_at    BIGINT,
    created_by      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, payment_number)
);
CREATE INDEX payment_charges_payer ON payment_charges (tenant, payer_ref);
CREATE INDEX payment_charges_status ON payment_charges (tenant, status, due_date);
CREATE INDEX payment_charges_application ON payment_charges (tenant, application_id);

-- Every amount received: by which channel (online, conveni, el_qr, bank,
-- direct_debit, counter) and under the channel's own key for it (a
-- provider's payment id, a collector's receipt number), so that the same
-- payment reported twice (a replayed webhook, 速報 then 確報, the same
-- file twice) is recognised and never counted twice. charge_id is NULL
-- for money that matched no charge (it waits in the exception queue).
CREATE TABLE payment_receipts (
    tenant       TEXT NOT NULL,
    id           TEXT NOT NULL,
    charge_id    TEXT,
    channel      TEXT NOT NULL,
    source_key   TEXT NOT NULL,
    amount       BIGINT NOT NULL CHECK (amount > 0),
    paid_on      TEXT NOT NULL,
    recorded_at  BIGINT NOT NULL,
    recorded_by  TEXT NOT NULL,
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, channel, source_key)
);
CREATE INDEX payment_receipts_charge ON payment_receipts (tenant, charge_id);

-- A charge's history, in order: created, receipt, cancelled, refunded,
-- corrected, reissued … with the amount it moved and who did it.
CREATE TABLE payment_charge_events (
    tenant     TEXT NOT NULL,
    charge_id  TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    at         BIGINT NOT NULL,
    kind       TEXT NOT NULL,
    amount     BIGINT NOT NULL DEFAULT 0,
    actor      TEXT NOT NULL,
    detail     TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant, charge_id, seq)
);

-- The last 納付番号 sequence used per municipality and fiscal year.
CREATE TABLE payment_number_counters (
    tenant       TEXT NOT NULL,
    fiscal_year  INTEGER NOT NULL,
    last         BIGINT NOT NULL,
    PRIMARY KEY (tenant, fiscal_year)
);
