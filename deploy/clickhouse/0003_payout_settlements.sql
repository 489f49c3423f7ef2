-- The payments each payout settles (its settledTransactionIds), from
-- ledger.contributions: each change of a payout's contribution writes its
-- list with the change's sign, so a link holds while its signs add up to
-- more than zero.
CREATE TABLE IF NOT EXISTS payout_settlements
(
    tenant_id String,
    company_id String,
    business_day Date,
    payout_id String,
    payment_id String,
    sign Int8,
    src_partition Int32,
    src_offset Int64,
    idx UInt16
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(business_day)
ORDER BY (tenant_id, company_id, payout_id, src_partition, src_offset, idx);
