-- Congestion (混雑状況) and wait history: when a ticket was first called.
-- `called_at` moves with every recall; the wait a resident had is from
-- `issued_at` to `first_called_at`, which never changes once set.
ALTER TABLE tickets ADD COLUMN first_called_at BIGINT;
UPDATE tickets SET first_called_at = called_at WHERE called_at IS NOT NULL;
