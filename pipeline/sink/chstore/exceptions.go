package chstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/commercesync/commercesync/ledger/money"
	"github.com/commercesync/commercesync/ledger/reconcile"
)

// MaxExceptionsPerKind bounds what one kind of exception contributes to a
// tenant's list; the list says when it was cut.
const MaxExceptionsPerKind = 10_000

// maxGroupRecords bounds the records kept for one unsettled amount.
const maxGroupRecords = 1000

const quarantineSQL = `
SELECT company_id, any(business_day), any(currency), any(location), any(record_id), any(stage), any(kind), any(reason)
FROM quarantine
WHERE tenant_id = ?
GROUP BY company_id, entry_id
ORDER BY company_id, entry_id
LIMIT ?`

const dayExceptionsSQL = `
SELECT company_id, toString(business_day), currency, location, toInt32(max(revision)), toInt32(argMax(exception_count, revision)) AS n
FROM ledger_days
WHERE tenant_id = ?
GROUP BY company_id, business_day, currency, location
HAVING n > 0
ORDER BY company_id, business_day
LIMIT ?`

const failedSQL = `
SELECT company_id, toString(business_day), currency, location, document_id, toInt32(argMax(revision, src_offset)),
       argMax(error_message, src_offset) AS msg, argMax(state, src_offset) AS st
FROM documents
WHERE tenant_id = ?
GROUP BY company_id, business_day, currency, location, document_id
HAVING st = 'failed'
ORDER BY company_id, business_day
LIMIT ?`

// A revision after the day's first confirmed document: the day changed
// once the platform held it. (The one JOIN 18.16 allows.)
const lateSQL = `
SELECT company_id, toString(business_day), currency, location, revision
FROM (
    SELECT DISTINCT company_id, business_day, currency, location, revision
    FROM ledger_days
    WHERE tenant_id = ? AND revision > 1
)
ANY INNER JOIN (
    SELECT company_id, business_day, currency, location, min(revision) AS posted
    FROM documents
    WHERE tenant_id = ? AND state = 'confirmed'
    GROUP BY company_id, business_day, currency, location
) USING (company_id, business_day, currency, location)
WHERE revision > posted
ORDER BY company_id, business_day, revision
LIMIT ?`

// Records whose unsettled amounts of one size do not cancel out, per
// company and currency: the groups Unexplained pairs off. Amounts are
// summed as Int64 units of 1/10000: ClickHouse 18.16 crashes on
// groupArray over a sum of Decimals (a Decimal128).
const unsettledSQL = `
SELECT company_id, currency, sum(s) AS net,
       groupArray(?)(record_id) AS ids, groupArray(?)(day) AS days, groupArray(?)(s) AS amounts, groupArray(?)(k) AS kinds
FROM (
    SELECT company_id, currency, record_id, k, toString(argMaxIf(business_day, src_offset, sg = 1)) AS day, sum(a) AS s
    FROM (
        SELECT company_id, currency, record_id, toString(kind) AS k, record_type, business_day, src_offset,
               any(sign) AS sg, any(toInt64(amount * 10000)) AS a
        FROM contributions
        WHERE tenant_id = ? AND account = 'unsettled'
        GROUP BY company_id, currency, kind, record_type, record_id, business_day, src_partition, src_offset, idx
    )
    GROUP BY company_id, currency, k, record_type, record_id
    HAVING s != 0
)
GROUP BY company_id, currency, abs(s)
HAVING net != 0
ORDER BY company_id, currency
LIMIT ?`

// exceptionKind is one of Exceptions' queries: its arguments, and how a
// row becomes exceptions (an unsettled group may make several, or none).
type exceptionKind struct {
	what  string
	query string
	args  []any
	row   func(scan func(...any) error) ([]reconcile.Exception, error)
}

// errEnough stops reading a kind's rows once it has given all one answer
// holds.
var errEnough = errors.New("enough exceptions of this kind")

// Exceptions lists what does not reconcile across the tenant's companies:
// quarantined records and days, failed documents, days counted with
// exceptions, revisions after a day was posted, and unsettled balances of
// days before unsettledBefore (YYYY-MM-DD). cut says a kind held more than
// MaxExceptionsPerKind; no more than that of each is read.
func (s *Store) Exceptions(ctx context.Context, tenant, unsettledBefore string) (out []reconcile.Exception, cut bool, err error) {
	lim := MaxExceptionsPerKind + 1
	kinds := []exceptionKind{
		{"quarantine", quarantineSQL, []any{tenant, lim}, func(scan func(...any) error) ([]reconcile.Exception, error) {
			var e reconcile.Exception
			var stage, kind string
			if err := scan(&e.CompanyID, &e.Day, &e.Currency, &e.Location, &e.RecordID, &stage, &kind, &e.Message); err != nil {
				return nil, err
			}
			e.Kind = reconcile.QuarantinedRecord
			e.Message = fmt.Sprintf("%s quarantined by %s: %s", kind, stage, e.Message)
			return []reconcile.Exception{e}, nil
		}},
		{"day exceptions", dayExceptionsSQL, []any{tenant, lim}, func(scan func(...any) error) ([]reconcile.Exception, error) {
			var e reconcile.Exception
			var n int32
			if err := scan(&e.CompanyID, &e.Day, &e.Currency, &e.Location, &e.Revision, &n); err != nil {
				return nil, err
			}
			e.Kind, e.Message = reconcile.DayExceptions, fmt.Sprintf("%d record(s) counted without their money; their documents wait until they are corrected", n)
			return []reconcile.Exception{e}, nil
		}},
		{"failed documents", failedSQL, []any{tenant, lim}, func(scan func(...any) error) ([]reconcile.Exception, error) {
			var e reconcile.Exception
			var st string
			if err := scan(&e.CompanyID, &e.Day, &e.Currency, &e.Location, &e.DocumentID, &e.Revision, &e.Message, &st); err != nil {
				return nil, err
			}
			e.Kind = reconcile.FailedDocument
			return []reconcile.Exception{e}, nil
		}},
		{"late revisions", lateSQL, []any{tenant, tenant, lim}, func(scan func(...any) error) ([]reconcile.Exception, error) {
			var e reconcile.Exception
			if err := scan(&e.CompanyID, &e.Day, &e.Currency, &e.Location, &e.Revision); err != nil {
				return nil, err
			}
			e.Kind = reconcile.LateRevision
			e.Message = fmt.Sprintf("revision %d changed the day after the platform confirmed it; the change is posted as its own document", e.Revision)
			return []reconcile.Exception{e}, nil
		}},
		{"unsettled", unsettledSQL, []any{maxGroupRecords, maxGroupRecords, maxGroupRecords, maxGroupRecords, tenant, lim},
			func(scan func(...any) error) ([]reconcile.Exception, error) {
				var company, currency string
				var net int64
				var ids, days, kinds []string
				var amounts []int64
				if err := scan(&company, &currency, &net, &ids, &days, &amounts, &kinds); err != nil {
					return nil, err
				}
				group := make([]reconcile.RecordBalance, len(ids))
				for i := range ids {
					group[i] = reconcile.RecordBalance{RecordID: ids[i], Kind: kinds[i], Day: days[i], Amount: money.Amount(amounts[i])}
				}
				var es []reconcile.Exception
				for _, r := range reconcile.Unexplained(group) {
					if r.Day < unsettledBefore {
						es = append(es, reconcile.Exception{Kind: reconcile.UnsettledBalance, CompanyID: company, Day: r.Day, Currency: currency,
							RecordID: r.RecordID, Amount: r.Amount, Message: reconcile.UnsettledMessage(r)})
					}
				}
				return es, nil
			}},
	}
	for _, k := range kinds {
		n := 0
		err := s.each(ctx, k.query, k.args, func(scan func(...any) error) error {
			es, err := k.row(scan)
			if err != nil {
				return err
			}
			for _, e := range es {
				if n == MaxExceptionsPerKind {
					cut = true
					return errEnough
				}
				out = append(out, e)
				n++
			}
			return nil
		})
		if err != nil && !errors.Is(err, errEnough) {
			return nil, false, fmt.Errorf("%s: %w", k.what, err)
		}
	}
	reconcile.SortExceptions(out)
	return out, cut, nil
}

// each runs a query and calls fn for every row.
func (s *Store) each(ctx context.Context, query string, args []any, fn func(scan func(...any) error) error) error {
	rows, err := s.conn.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}
