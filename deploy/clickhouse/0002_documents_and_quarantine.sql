-- push.outbox: every state each document passed through, one row per outbox
-- record (the topic is compacted, so older states may be missing; the
-- newest is always there). A document's current state is that of its row
-- with the highest offset: one document always lands in one partition.
CREATE TABLE IF NOT EXISTS documents
(
    tenant_id String,
    company_id String,
    business_day Date,
    currency String,
    location String,
    document_id String,
    summary_id String,
    revision Int32,
    config_version Int64,
    platform_key String,
    connection_id String,
    reference String,
    state Enum8('unspecified' = 0, 'planned' = 1, 'sent' = 2, 'confirmed' = 3, 'failed' = 4, 'superseded' = 5),
    doc_type String,
    doc_currency String,
    external_id String,
    error_class String,
    error_message String,
    attempts Int32,
    updated_at DateTime('UTC'),
    src_partition Int32,
    src_offset Int64
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(business_day)
ORDER BY (tenant_id, company_id, business_day, document_id, src_partition, src_offset);

-- What each state of a document moves on the merchant's accounts, net
-- (debit positive) per line, with the semantic account each line came from:
-- a journal's lines, or an invoice-mode document's lines with its
-- receivable or payable side.
CREATE TABLE IF NOT EXISTS document_movements
(
    tenant_id String,
    company_id String,
    business_day Date,
    currency String,
    location String,
    document_id String,
    semantic_account String,
    account_id String,
    amount Decimal(18, 4),
    src_partition Int32,
    src_offset Int64,
    idx UInt16
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(business_day)
ORDER BY (tenant_id, company_id, business_day, document_id, src_partition, src_offset, idx);

-- commerce.quarantine: what a stage could not process, with its reason.
CREATE TABLE IF NOT EXISTS quarantine
(
    tenant_id String,
    company_id String,
    entry_id String,
    stage String,
    kind String,
    topic String,
    in_partition Int32,
    in_offset Int64,
    record_id String,
    business_day String,
    currency String,
    location String,
    reason String,
    attempts Int32,
    quarantined_at DateTime('UTC'),
    src_partition Int32,
    src_offset Int64
)
ENGINE = ReplacingMergeTree()
ORDER BY (tenant_id, company_id, entry_id, src_partition, src_offset);
