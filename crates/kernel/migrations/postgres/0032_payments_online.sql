-- Online payment (crate payments: payments::online, payments::webhooks,
-- payments::simulator).
--
-- One row per attempt to pay a charge through a payment provider: the
-- provider's id for the payment, the amount asked and where it stands
-- (created, succeeded, failed). Only a verified webhook moves it to
-- succeeded or failed; the resident's result page tells what this row says.
CREATE TABLE payment_online (
    tenant               TEXT NOT NULL,
    id                   TEXT NOT NULL,
    charge_id            TEXT NOT NULL,
    provider             TEXT NOT NULL,
    provider_payment_id  TEXT NOT NULL,
    amount               BIGINT NOT NULL CHECK (amount > 0),
    state                TEXT NOT NULL,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL,
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, provider, provider_payment_id)
);
CREATE INDEX payment_online_charge ON payment_online (tenant, charge_id);

-- Every webhook event accepted (signature and time checked), by the
-- provider's event id: the same event delivered again is recognised and
-- changes nothing.
CREATE TABLE payment_webhook_events (
    tenant               TEXT NOT NULL,
    provider             TEXT NOT NULL,
    event_id             TEXT NOT NULL,
    kind                 TEXT NOT NULL,
    provider_payment_id  TEXT NOT NULL,
    received_at          BIGINT NOT NULL,
    PRIMARY KEY (tenant, provider, event_id)
);

-- The bundled payment simulator's own payments (development and tests
-- only; the simulator refuses to start in production mode): what a real
-- provider would keep on its side.
CREATE TABLE payment_simulator (
    tenant       TEXT NOT NULL,
    id           TEXT NOT NULL,
    amount       BIGINT NOT NULL CHECK (amount > 0),
    description  TEXT NOT NULL,
    return_path  TEXT NOT NULL,
    state        TEXT NOT NULL,
    refunded     BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (tenant, id)
);
