-- 納付書 (crate `payments`, payments::slips): what a municipality's slips
-- need to carry its convenience-store barcode and its eL番号.
--
-- biller_code: 請求書発行企業コード (6 digits, from GS1 Japan) of the
-- 標準料金代理収納 GS1-128 barcode. collector_number: 収納機関番号 (5
-- digits) of the eL番号. Set by a Treasurer or SystemAdmin (audited).
CREATE TABLE payment_slip_settings (
    tenant            TEXT NOT NULL PRIMARY KEY,
    biller_code       TEXT NOT NULL,
    collector_number  TEXT NOT NULL,
    updated_by        TEXT NOT NULL,
    updated_at        BIGINT NOT NULL
);

-- 納付区分 (3 digits) per subject (a charge's subject code, e.g.
-- `kokuho`): printed in the eL番号 and carried in the barcode's
-- 自由使用欄.
CREATE TABLE payment_slip_classes (
    tenant      TEXT NOT NULL,
    subject     TEXT NOT NULL,
    class_code  TEXT NOT NULL,
    PRIMARY KEY (tenant, subject)
);

-- Every slip printed for a charge, in order: its 再発行区分 (how many were
-- printed before it, at most 9 in the barcode), the amount and barcode it
-- carried, who printed it and when. A reprint is a reissue.
CREATE TABLE payment_slip_issues (
    tenant      TEXT NOT NULL,
    charge_id   TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    reissue     INTEGER NOT NULL,
    amount      BIGINT NOT NULL,
    barcode     TEXT,
    issued_by   TEXT NOT NULL,
    issued_at   BIGINT NOT NULL,
    PRIMARY KEY (tenant, charge_id, seq)
);
