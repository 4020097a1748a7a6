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
