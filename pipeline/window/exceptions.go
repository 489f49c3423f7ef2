package window

import (
	"sort"

	"google.golang.org/protobuf/proto"

	"github.com/commercesync/commercesync/ledger/day"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// A day's exceptions (its records counted without money) are kept apart
// from the day: the current ones ride on the records themselves (a record's
// exception), so the changelog holds them there; the ones the day's last
// revision carried are one changelog entry each (WindowPostedException), and
// ledger.exceptions holds the same, one compacted record each. A summary
// names only the first MaxExceptionsNamed of them, so no output grows with
// their number.

// putException sets (had) or deletes one exception of a day, current or
// posted, without logging: the undo log and Restore use it.
func (c *company) putException(k dayKey, id, msg string, had, posted bool) {
	s := c.excs[k]
	if s == nil {
		if !had {
			return
		}
		s = &excSet{}
		c.excs[k] = s
	}
	m := &s.cur
	if posted {
		m = &s.posted
	}
	if had {
		if *m == nil {
			*m = map[string]string{}
		}
		(*m)[id] = msg
	} else {
		delete(*m, id)
	}
	if len(s.cur) == 0 && len(s.posted) == 0 {
		delete(c.excs, k)
	}
}

// setException changes one exception of a day (msg "" deletes it), logging
// how to undo it.
func (a *Aggregator) setException(c *company, k dayKey, id, msg string, posted bool) {
	var prev string
	var had bool
	if s := c.excs[k]; s != nil {
		if posted {
			prev, had = s.posted[id]
		} else {
			prev, had = s.cur[id]
		}
	}
	if had == (msg != "") && prev == msg {
		return
	}
	a.u.excs = append(a.u.excs, excOp{c: c, k: k, id: id, prev: prev, had: had, posted: posted})
	c.putException(k, id, msg, msg != "", posted)
	if posted {
		a.b.posted = append(a.b.posted, postedTouch{c, k, id})
	}
}

// sameMaps reports whether a day's current exceptions are those posted.
func sameMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// firstExceptions is the day's current exceptions sorted by record id, at
// most n of them, and how many there are.
func firstExceptions(s *excSet, n int) ([]day.Exception, int) {
	if s == nil || len(s.cur) == 0 {
		return nil, 0
	}
	ids := make([]string, 0, len(s.cur))
	for id := range s.cur {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := make([]day.Exception, 0, min(n, len(ids)))
	for _, id := range ids[:min(n, len(ids))] {
		out = append(out, day.Exception{RecordID: id, Message: s.cur[id]})
	}
	return out, len(ids)
}

// postedTouch is an exception whose posted state the batch changed: its
// changelog entry is written at Flush.
type postedTouch struct {
	c  *company
	k  dayKey
	id string
}

// exceptionKey is the key of a day's exception on ledger.exceptions and in
// the changelog after the company and kind: day, currency, location and
// record id.
func exceptionKey(k dayKey, id string) string {
	return k.day + "\x00" + k.currency + "\x00" + k.location + "\x00" + id
}

// postExceptions brings what ledger.exceptions holds for a day up to its
// current exceptions, as the revision being emitted carries them: a record
// for each new or changed one, a tombstone for each one resolved.
func (a *Aggregator) postExceptions(c *company, k dayKey) error {
	s := c.excs[k]
	if s == nil {
		return nil
	}
	var add, del []string
	for id, msg := range s.cur {
		if old, ok := s.posted[id]; !ok || old != msg {
			add = append(add, id)
		}
	}
	for id := range s.posted {
		if _, ok := s.cur[id]; !ok {
			del = append(del, id)
		}
	}
	// Sorted, so the same input writes the same records in the same order.
	sort.Strings(add)
	sort.Strings(del)
	for _, id := range del {
		a.setException(c, k, id, "", true)
		a.b.dayExc = append(a.b.dayExc, ExceptionChange{
			Partition: c.partition, Key: []byte(c.id + "\x00" + exceptionKey(k, id)),
			CompanyID: c.id, Day: k.day, Currency: k.currency, Location: k.location,
		})
	}
	for _, id := range add {
		msg := s.cur[id]
		v, err := proto.Marshal(&v1.DayException{CompanyId: c.id, BusinessDay: k.day, Currency: k.currency, Location: k.location, RecordId: id, Message: msg})
		if err != nil {
			return err
		}
		a.setException(c, k, id, msg, true)
		a.b.dayExc = append(a.b.dayExc, ExceptionChange{
			Partition: c.partition, Key: []byte(c.id + "\x00" + exceptionKey(k, id)), Value: v,
			CompanyID: c.id, Day: k.day, Currency: k.currency, Location: k.location,
		})
	}
	return nil
}

// ExceptionChange is one record for ledger.exceptions: Value nil is a
// tombstone (the exception was resolved). Partition is the company's
// partition, so a company's exceptions stay in one partition.
type ExceptionChange struct {
	Partition                          int32
	Key, Value                         []byte
	CompanyID, Day, Currency, Location string
}
