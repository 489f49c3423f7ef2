package chstore

import (
	"context"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/commercesync/commercesync/ledger/day"
	"github.com/commercesync/commercesync/ledger/money"
	"github.com/commercesync/commercesync/pipeline/sink"
)

// The reconciliation queries. ClickHouse 18.16 allows one JOIN per query,
// so each source is its own branch of a UNION ALL, added up by GROUP BY.
// Every table is read FINAL, so copies of a redelivered batch count once;
// the sorting key starts with the tenant and company, so a company's range
// reads only its own parts.

// DayAccount is one account of one day, from the records and the ledger.
type DayAccount struct {
	Day, Currency, Location string
	Account                 string
	Commerce, Ledger        money.Amount
}

// DayFacts is what the sources say of one day apart from its money.
type DayFacts struct {
	Day, Currency, Location string
	// Records counts the records the day holds now; LedgerRecords those
	// its last revision counted.
	Records, LedgerRecords int64
	// Revisions is how many the ledger holds (0: not sealed yet).
	Revisions      int32
	ExceptionCount int32
	ConfigVersion  int64
}

const accountsSQL = `
SELECT toString(business_day) AS d, currency, location, account, sum(c) AS commerce, sum(l) AS ledger
FROM (
    SELECT business_day, currency, location, account, amount AS c, toDecimal64(0, 4) AS l
    FROM contributions FINAL
    WHERE tenant_id = ? AND company_id = ? AND business_day >= toDate(?) AND business_day <= toDate(?) AND account != ''
    UNION ALL
    SELECT business_day, currency, location, account, toDecimal64(0, 4) AS c, amount AS l
    FROM ledger_lines FINAL
    WHERE tenant_id = ? AND company_id = ? AND business_day >= toDate(?) AND business_day <= toDate(?)
)
GROUP BY d, currency, location, account
ORDER BY d, currency, location, account`

// Accounts returns, per day and account, the records' and the ledger's
// net amounts (debit positive) for days from and to (inclusive,
// YYYY-MM-DD).
func (s *Store) Accounts(ctx context.Context, tenant, company, from, to string) ([]DayAccount, error) {
	if err := checkRange(from, to); err != nil {
		return nil, err
	}
	rows, err := s.conn.Query(ctx, accountsSQL, tenant, company, from, to, tenant, company, from, to)
	if err != nil {
		return nil, fmt.Errorf("reconciliation accounts: %w", err)
	}
	defer rows.Close()
	var out []DayAccount
	for rows.Next() {
		var r DayAccount
		var c, l decimal.Decimal
		if err := rows.Scan(&r.Day, &r.Currency, &r.Location, &r.Account, &c, &l); err != nil {
			return nil, fmt.Errorf("reconciliation accounts: %w", err)
		}
		if r.Commerce, err = amount(c); err != nil {
			return nil, err
		}
		if r.Ledger, err = amount(l); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

const factsSQL = `
SELECT toString(business_day) AS d, currency, location,
       sum(records) AS records, sum(ledger_records) AS ledger_records, toInt32(sum(revisions)) AS revisions,
       toInt32(sum(exceptions)) AS exceptions, sum(config_version) AS config_version
FROM (
    SELECT business_day, currency, location, toInt64(sum(sign)) AS records, toInt64(0) AS ledger_records,
           toInt32(0) AS revisions, toInt32(0) AS exceptions, toInt64(0) AS config_version
    FROM contributions FINAL
    WHERE tenant_id = ? AND company_id = ? AND business_day >= toDate(?) AND business_day <= toDate(?) AND idx = 0
    GROUP BY business_day, currency, location
    UNION ALL
    SELECT business_day, currency, location, toInt64(0) AS records, toInt64(argMax(record_count, revision)) AS ledger_records,
           toInt32(max(revision)) AS revisions, toInt32(argMax(exception_count, revision)) AS exceptions,
           toInt64(argMax(config_version, revision)) AS config_version
    FROM ledger_days FINAL
    WHERE tenant_id = ? AND company_id = ? AND business_day >= toDate(?) AND business_day <= toDate(?)
    GROUP BY business_day, currency, location
)
GROUP BY d, currency, location
ORDER BY d, currency, location`

// Days returns what the records and the ledger say of each day apart
// from money.
func (s *Store) Days(ctx context.Context, tenant, company, from, to string) ([]DayFacts, error) {
	if err := checkRange(from, to); err != nil {
		return nil, err
	}
	rows, err := s.conn.Query(ctx, factsSQL, tenant, company, from, to, tenant, company, from, to)
	if err != nil {
		return nil, fmt.Errorf("reconciliation days: %w", err)
	}
	defer rows.Close()
	var out []DayFacts
	for rows.Next() {
		var f DayFacts
		if err := rows.Scan(&f.Day, &f.Currency, &f.Location, &f.Records, &f.LedgerRecords, &f.Revisions, &f.ExceptionCount, &f.ConfigVersion); err != nil {
			return nil, fmt.Errorf("reconciliation days: %w", err)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// MaxRangeDays bounds one query's range.
const MaxRangeDays = 366

func checkRange(from, to string) error {
	f, err := time.Parse(day.DayLayout, from)
	if err != nil {
		return fmt.Errorf("from %q: send a date as YYYY-MM-DD", from)
	}
	t, err := time.Parse(day.DayLayout, to)
	if err != nil {
		return fmt.Errorf("to %q: send a date as YYYY-MM-DD", to)
	}
	if t.Before(f) {
		return fmt.Errorf("to %s is before from %s", to, from)
	}
	if n := int(t.Sub(f).Hours()/24) + 1; n > MaxRangeDays {
		return fmt.Errorf("from %s to %s spans %d days; the limit is %d", from, to, n, MaxRangeDays)
	}
	return nil
}

// amount reads a Decimal sum back into exact minor units.
func amount(d decimal.Decimal) (money.Amount, error) {
	a, err := money.Parse(d.String())
	if err != nil {
		return 0, fmt.Errorf("amount %s from the store: %w", d, err)
	}
	return a, nil
}

// Rejects lists the records the sink could not read, newest first, at most
// limit.
func (s *Store) Rejects(ctx context.Context, limit int) ([]sink.Reject, error) {
	rows, err := s.conn.Query(ctx, `SELECT topic, src_partition, src_offset, reason, rejected_at FROM sink_rejects FINAL
		ORDER BY topic, src_partition, src_offset LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("sink rejects: %w", err)
	}
	defer rows.Close()
	var out []sink.Reject
	for rows.Next() {
		var r sink.Reject
		if err := rows.Scan(&r.Topic, &r.Source.Partition, &r.Source.Offset, &r.Reason, &r.RejectedAt); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
