package window

import (
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/commercesync/commercesync/ledger/day"
)

// A record's contribution to a day changes only in contribute: each change
// is written, as it happens, into the batch's buffer as a Contribution (its
// wire form, built in place like the changelog's entries), so the output
// is exactly the window's own decisions, in the order it made them. A
// rollback cuts the buffer back with everything else (undo.go).

// contribSpan is one contribution in the batch's buffer.
type contribSpan struct {
	c          *company
	start, end int
}

// noteContribution writes one contribution change to the batch. It needs no
// size check of its own: a contribution holds its record's settled ids
// (bounded with the rest of the state by MaxRecordStateBytes, checked
// before) and its postings (at most MaxDayAccounts accounts, each at most a
// category or tax component of MaxIDBytes), which together stay far under
// kafka.MaxRecordBytes (TestOutputWithinRecordLimitAtEveryMaximum).
func (a *Aggregator) noteContribution(c *company, k dayKey, ps []day.Posting, sign int, rk recordKey, rs *recState) {
	start := len(a.b.cbuf)
	a.b.cbuf = appendContribution(a.b.cbuf, c, k, ps, sign, rk, rs)
	a.b.contribs = append(a.b.contribs, contribSpan{c, start, len(a.b.cbuf)})
}

// appendContribution appends the wire form of a Contribution.
func appendContribution(b []byte, c *company, k dayKey, ps []day.Posting, sign int, rk recordKey, rs *recState) []byte {
	b = appendStringField(b, 1, c.tenant)
	b = appendStringField(b, 2, c.id)
	b = appendStringField(b, 3, k.day)
	b = appendStringField(b, 4, k.currency)
	b = appendStringField(b, 5, k.location)
	b = appendVarintField(b, 6, int64(rk.kind))
	b = appendStringField(b, 7, rk.typ)
	b = appendStringField(b, 8, rk.id)
	b = protowire.AppendTag(b, 9, protowire.VarintType)
	b = protowire.AppendVarint(b, protowire.EncodeZigZag(int64(sign)))
	for _, p := range ps {
		amt := int64(p.Amount)
		if sign == -1 {
			amt = -amt
		}
		var body int
		b, body = openField(b, 10)
		b = appendStringField(b, 1, string(p.Account))
		b = appendVarintField(b, 2, amt)
		b = closeField(b, body)
	}
	b = appendStringField(b, 11, rs.exception)
	b = appendVarintField(b, 12, rs.event)
	b = appendStringField(b, 13, rs.payType)
	b = appendStringField(b, 14, rs.linked)
	for _, id := range rs.settled {
		b = appendStringField(b, 15, id)
	}
	return b
}

// contributionOutput cuts the batch's contributions out of its buffer,
// keyed by company.
func (a *Aggregator) contributionOutput() []Change {
	if len(a.b.contribs) == 0 {
		return nil
	}
	// The output and its keys reuse the batch's buffers, as the changelog's
	// do: a warm Flush allocates nothing.
	out, kb := a.b.cout[:0], a.b.ckb[:0]
	var last *company
	var key []byte
	for _, s := range a.b.contribs {
		if s.c != last {
			n := len(kb)
			kb = append(kb, s.c.id...)
			last, key = s.c, kb[n:len(kb):len(kb)]
		}
		out = append(out, Change{Partition: s.c.partition, Key: key, Value: a.b.cbuf[s.start:s.end:s.end]})
	}
	a.b.cout, a.b.ckb = out, kb
	return out
}
