package window

import (
	"bytes"
	"fmt"
	"sort"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// Reference data (products, categories, tax components, locations, payment
// methods) is versioned: each version is in force from its valid-from time,
// and an order uses the version in force at its own event time. A version
// that arrives after the orders it concerns moves their money the way a
// late record does: into a revision of their day.

type refDataKey struct {
	kind v1.ReferenceKind
	id   string
}

type refVersion struct {
	from     int64
	hash     []byte
	deleted  bool
	category string
	gift     bool
}

// refEntry holds the versions of one reference, oldest first; gen and seq
// as in recEntry.
type refEntry struct {
	cur []refVersion
	gen uint64
	seq uint64
}

type refTouch struct {
	c *company
	k refDataKey
	e *refEntry
}

func (a *Aggregator) applyReference(c *company, re *v1.ReferenceEvent) error {
	k := refDataKey{re.GetKind(), re.GetId()}
	v := refVersion{from: re.GetValidFromUnixMs(), hash: re.GetContentHash(), deleted: re.GetDeleted()}
	if v.deleted {
		v.hash = tombstoneHash
	}
	if p := re.GetProduct(); p != nil {
		v.gift = p.GetIsGiftCard()
		if refs := p.GetProductCategoryRefs(); len(refs) > 0 {
			v.category = refs[0].GetId()
		}
	}
	e := c.refs[k]
	var versions []refVersion
	if e != nil {
		versions = e.cur
	}
	i := sort.Search(len(versions), func(i int) bool {
		if versions[i].from != v.from {
			return versions[i].from > v.from
		}
		return bytes.Compare(versions[i].hash, v.hash) >= 0
	})
	if i < len(versions) && versions[i].from == v.from && bytes.Equal(versions[i].hash, v.hash) {
		return nil // a repeat
	}
	if len(versions) >= MaxReferenceVersions {
		return fmt.Errorf("reference %s already has %d versions; the limit is %d", k.id, len(versions), MaxReferenceVersions)
	}
	next := make([]refVersion, 0, len(versions)+1)
	next = append(append(append(next, versions[:i]...), v), versions[i:]...)
	a.putRef(c, k, next)
	if err := a.faultAt("reference"); err != nil {
		return err
	}
	if k.kind == v1.ReferenceKind_REFERENCE_KIND_PRODUCT {
		if !c.products {
			// The company's first product: no index of its orders by
			// product exists yet (merchants without product data pay
			// nothing for one), so this once its every order is read, and
			// Commit indexes them all.
			c.products, c.indexProducts = true, true
			return a.recategoriseAll(c, a.allRecords(c))
		}
		return a.recategorise(c, k.id)
	}
	return nil
}

func (a *Aggregator) putRef(c *company, k refDataKey, versions []refVersion) {
	e := c.refs[k]
	if e == nil {
		e = &refEntry{gen: a.gen, seq: a.seq}
		c.refs[k] = e
		a.b.refs = append(a.b.refs, refTouch{c, k, e})
		a.u.refs = append(a.u.refs, refOp{e: e, c: c, k: k, joined: true, fresh: true})
	} else if e.seq != a.seq {
		op := refOp{e: e, c: c, k: k, prev: e.cur}
		if e.gen != a.gen {
			e.gen, op.joined = a.gen, true
			a.b.refs = append(a.b.refs, refTouch{c, k, e})
		}
		e.seq = a.seq
		a.u.refs = append(a.u.refs, op)
	}
	e.cur = versions
}

// productAt is what a product's reference data said at t: the latest
// version from no later than t, or the earliest when every version is
// younger (the product existed before anyone told us about it).
func (c *company) productAt(id string, t int64) (category string, gift bool) {
	e := c.refs[refDataKey{v1.ReferenceKind_REFERENCE_KIND_PRODUCT, id}]
	if e == nil || len(e.cur) == 0 {
		return "", false
	}
	v := e.cur[0]
	for _, x := range e.cur {
		if x.from > t {
			break
		}
		v = x
	}
	if v.deleted {
		return "", false
	}
	return v.category, v.gift
}

// categorised returns the record with its lines' categories and gift-card
// flags as the reference data in force at its event time says, sharing the
// lines when nothing changes.
func (c *company) categorised(rs *recState) *recState {
	changed := false
	for _, l := range rs.lines {
		if l.Product == "" {
			continue
		}
		if cat, gift := c.productAt(l.Product, rs.event); cat != l.Category || gift != l.GiftCard {
			changed = true
			break
		}
	}
	if !changed {
		return rs
	}
	next := *rs
	next.lines = append(next.lines[:0:0], rs.lines...)
	for i, l := range next.lines {
		if l.Product != "" {
			next.lines[i].Category, next.lines[i].GiftCard = c.productAt(l.Product, rs.event)
		}
	}
	return &next
}

// recategorise moves the orders that sell a product to what its reference
// data now says.
func (a *Aggregator) recategorise(c *company, productID string) error {
	return a.recategoriseAll(c, a.indexed(c, secProducts, productID, c.ordersByProduct))
}

// recategoriseAll moves the orders of keys to what their products'
// reference data now says.
func (a *Aggregator) recategoriseAll(c *company, keys []recordKey) error {
	for _, k := range keys {
		old := c.rec(k)
		if old == nil {
			continue
		}
		next := c.categorised(old)
		if next == old {
			continue
		}
		if err := a.swap(c, k, old, next); err != nil {
			return err
		}
		if err := a.faultAt("recategorise"); err != nil {
			return err
		}
	}
	return nil
}

// products lists the products an order's lines sell.
func (rs *recState) products() []string {
	if rs == nil {
		return nil
	}
	var out []string
	for _, l := range rs.lines {
		if l.Product != "" {
			out = append(out, l.Product)
		}
	}
	return out
}
