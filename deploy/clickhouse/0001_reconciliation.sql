-- The reconciliation store: what the window decided, what the ledger holds,
-- and what could not be read. Every table is a ReplacingMergeTree whose
-- sorting key names the row's source exactly (a Kafka offset, or a day's
-- revision), so a batch the sink writes twice collapses into one: queries
-- read with FINAL and get the same answer however often a batch came.
-- Only what ClickHouse 18.16 and current releases both accept: no
-- DateTime64, Map, Bool, LowCardinality, TTL or CODEC; money is Decimal.

-- ledger.contributions, one row per posting. A change with no postings (a
-- record counted without its money, or one that moves none) is one row with
-- account ''. sign is the change's: the day's record count moves by the sum
-- of sign over rows with idx 0.
CREATE TABLE IF NOT EXISTS contributions
(
    tenant_id String,
    company_id String,
    business_day Date,
    currency String,
    location String,
    kind Enum8('order' = 1, 'payment' = 2, 'transaction' = 3),
    record_type String,
    record_id String,
    sign Int8,
    account String,
    amount Decimal(18, 4),
    exception String,
    event_time DateTime('UTC'),
    payment_type String,
    linked_payment_id String,
    src_partition Int32,
    src_offset Int64,
    idx UInt16
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(business_day)
ORDER BY (tenant_id, company_id, business_day, currency, location, src_partition, src_offset, idx);

-- ledger.days, one row per revision of a day.
CREATE TABLE IF NOT EXISTS ledger_days
(
    tenant_id String,
    company_id String,
    business_day Date,
    currency String,
    location String,
    revision Int32,
    summary_id String,
    sealed_by String,
    config_version Int64,
    record_count Int32,
    exception_count Int32,
    start_time DateTime('UTC'),
    end_time DateTime('UTC'),
    src_partition Int32,
    src_offset Int64
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(business_day)
ORDER BY (tenant_id, company_id, business_day, currency, location, revision);

-- The lines of each revision, net (debit positive). A revision after the
-- first holds only what changed, so a day's books are the sum over its
-- revisions.
CREATE TABLE IF NOT EXISTS ledger_lines
(
    tenant_id String,
    company_id String,
    business_day Date,
    currency String,
    location String,
    revision Int32,
    account String,
    amount Decimal(18, 4)
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(business_day)
ORDER BY (tenant_id, company_id, business_day, currency, location, revision, account);

-- Records the sink could not read or place, with why. They are kept, not
-- dropped, and the sink goes on past them.
CREATE TABLE IF NOT EXISTS sink_rejects
(
    topic String,
    src_partition Int32,
    src_offset Int64,
    reason String,
    rejected_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree()
ORDER BY (topic, src_partition, src_offset);
