package chstore

import (
	"context"
	"fmt"
	"sort"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/commercesync/commercesync/ledger/money"
	"github.com/commercesync/commercesync/ledger/reconcile"
)

// MaxPayouts bounds the payouts one question returns.
const MaxPayouts = 10_000

const payoutsSQL = `
SELECT record_id, toString(argMaxIf(business_day, src_offset, s = 1)) AS day, any(cur), sum(a) AS paid
FROM (
    SELECT record_id, business_day, src_offset, any(sign) AS s, any(currency) AS cur, any(toInt64(amount * 10000)) AS a
    FROM contributions
    WHERE tenant_id = ? AND company_id = ? AND kind = 'transaction' AND record_type = 'Payout' AND account = 'payouts'
      AND business_day >= toDate(?) AND business_day <= toDate(?)
    GROUP BY record_id, business_day, src_partition, src_offset, idx
)
GROUP BY record_id
HAVING paid != 0
ORDER BY day, record_id
LIMIT ?`

const settlementsSQL = `
SELECT payout_id, payment_id
FROM (
    SELECT payout_id, payment_id, any(sign) AS s
    FROM payout_settlements
    WHERE tenant_id = ? AND company_id = ? AND payout_id IN ?
    GROUP BY payout_id, payment_id, src_partition, src_offset, idx
)
GROUP BY payout_id, payment_id
HAVING sum(s) > 0`

// What the settled payments and their fees move on tenders, per payment.
const settledSQL = `
SELECT payment, k, t, sum(a) AS moved
FROM (
    SELECT if(kind = 'payment', record_id, linked_payment_id) AS payment, toString(kind) AS k, record_type AS t, record_id AS r,
           any(toInt64(amount * 10000)) AS a
    FROM contributions
    WHERE tenant_id = ? AND company_id = ? AND startsWith(account, 'tender:')
      AND ((kind = 'payment' AND record_id IN ?)
        OR (kind = 'transaction' AND record_type IN ('PaymentFee', 'PaymentFeeRefund') AND linked_payment_id IN ?))
    GROUP BY payment, k, t, r, src_partition, src_offset, idx
)
GROUP BY payment, k, t, r`

// Payouts compares each payout of a company whose day falls in from..to
// with the payments, refunds and fees it settles.
func (s *Store) Payouts(ctx context.Context, tenant, company, from, to string) ([]reconcile.Payout, bool, error) {
	if err := reconcile.CheckRange(from, to); err != nil {
		return nil, false, err
	}
	var out []reconcile.Payout
	idx := map[string]int{}
	if err := s.each(ctx, payoutsSQL, []any{tenant, company, from, to, MaxPayouts + 1}, func(scan func(...any) error) error {
		var p reconcile.Payout
		var paid int64
		if err := scan(&p.PayoutID, &p.Day, &p.Currency, &paid); err != nil {
			return err
		}
		p.PaidOut = money.Amount(paid)
		idx[p.PayoutID] = len(out)
		out = append(out, p)
		return nil
	}); err != nil {
		return nil, false, fmt.Errorf("payouts: %w", err)
	}
	cut := len(out) > MaxPayouts
	if cut {
		out = out[:MaxPayouts]
	}
	if len(out) == 0 {
		return nil, false, nil
	}
	ids := make([]string, len(out))
	for i, p := range out {
		ids[i] = p.PayoutID
	}
	settles := map[string][]string{} // payment → payouts
	var payments []string
	if err := chunks(ids, func(part []string) error {
		return s.each(ctx, settlementsSQL, []any{tenant, company, set(part)}, func(scan func(...any) error) error {
			var payout, payment string
			if err := scan(&payout, &payment); err != nil {
				return err
			}
			if _, ok := idx[payout]; !ok {
				return nil
			}
			if len(settles[payment]) == 0 {
				payments = append(payments, payment)
			}
			settles[payment] = append(settles[payment], payout)
			out[idx[payout]].Settled++
			return nil
		})
	}); err != nil {
		return nil, false, fmt.Errorf("payout settlements: %w", err)
	}
	seen := map[string]bool{}
	if len(payments) > 0 {
		if err := chunks(payments, func(part []string) error {
			return s.each(ctx, settledSQL, []any{tenant, company, set(part), set(part)}, func(scan func(...any) error) error {
				var payment, kind, typ string
				var moved int64
				if err := scan(&payment, &kind, &typ, &moved); err != nil {
					return err
				}
				for _, payout := range settles[payment] {
					p := &out[idx[payout]]
					a := money.Amount(moved)
					switch {
					case kind == "payment" && a >= 0:
						seen[payment] = true
						p.Payments += a
					case kind == "payment":
						seen[payment] = true
						p.Refunds -= a
					default: // a fee takes from the tender; a fee refund gives back
						p.Fees -= a
					}
				}
				return nil
			})
		}); err != nil {
			return nil, false, fmt.Errorf("settled payments: %w", err)
		}
	}
	sort.Strings(payments)
	for _, payment := range payments {
		if seen[payment] {
			continue
		}
		for _, payout := range settles[payment] {
			p := &out[idx[payout]]
			if len(p.Missing) < reconcile.MaxMissingNamed {
				p.Missing = append(p.Missing, payment)
			}
		}
	}
	for i := range out {
		out[i] = reconcile.JudgePayout(out[i])
	}
	return out, cut, nil
}

// idsPerQuery bounds the ids one query lists, keeping it far below the
// server's max_query_size (256 KiB by default).
const idsPerQuery = 500

func chunks(ids []string, fn func([]string) error) error {
	for len(ids) > 0 {
		n := min(len(ids), idsPerQuery)
		if err := fn(ids[:n]); err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}

// set binds ids as a tuple, (a, b, …), for IN: the driver binds a slice as
// an array, which IN refuses.
func set(ids []string) clickhouse.GroupSet {
	vs := make([]any, len(ids))
	for i, id := range ids {
		vs[i] = id
	}
	return clickhouse.GroupSet{Value: vs}
}
