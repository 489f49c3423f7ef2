package window

import (
	"fmt"
	"strconv"
	"strings"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// The window's limits. Anything may write to commerce.events, so the window
// checks every input record against its own limits and never relies on the
// gateway's: a record past one is refused whole (and quarantined by the job)
// with the field and the limit named. Together they bound every changelog
// entry, summary, exception and quarantine entry the window writes below
// kafka.MaxRecordBytes; TestOutputWithinRecordLimitAtEveryMaximum proves it.
const (
	// MaxIDBytes bounds every id: company, tenant, record, every ref id, a
	// payout's settled ids, a reference's id and category.
	MaxIDBytes = 255
	// MaxCodeBytes bounds short codes: currency, types, statuses, a
	// transaction's type, the time zone and start date of the settings.
	MaxCodeBytes = 255
	// MaxHashBytes bounds a content hash (SHA-256 is 32 bytes).
	MaxHashBytes = 64
	// MaxNumberBytes bounds an amount or a percentage written as text, and
	// maxExponent the exponent such a text may carry: the decimal library
	// reads exponents up to 10,000, and a tax rate such as 1e9999 would name
	// an account of 10,000 characters.
	MaxNumberBytes = 64
	maxExponent    = 30

	// MaxOrderLines, MaxServiceCharges, MaxTaxesPerLine and
	// MaxDiscountsPerLine bound an order's lists, MaxSettledIDs a payout's.
	MaxOrderLines       = 1000
	MaxServiceCharges   = 100
	MaxTaxesPerLine     = 50
	MaxDiscountsPerLine = 50
	MaxSettledIDs       = 10000
	// MaxRecordStateBytes bounds one record's changelog entry (its lines
	// with their categories, its settled ids): a record whose state would be
	// larger is refused.
	MaxRecordStateBytes = 524_288 // 512 KiB
	// MaxReferenceVersions bounds the versions kept of one piece of
	// reference data; a version past it is refused.
	MaxReferenceVersions = 1000

	// MaxDayAccounts bounds the accounts one day (in one currency and
	// location) holds: categories, tax components, rates and tenders each
	// make one. A record that would open one more is refused, and the day
	// carries on without it.
	MaxDayAccounts = 1000
	// MaxSummaryLines bounds the lines of one revision. A first revision
	// holds at most MaxDayAccounts; a later one moves money out of some
	// accounts and into others, and one that would need more lines than
	// this parks its day (quarantined as a day) rather than fold accounts.
	MaxSummaryLines = 1000
	// MaxExceptionsNamed bounds the exceptions a summary names: the first
	// ones by record id. exception_count counts all of them, and every one
	// is on ledger.exceptions.
	MaxExceptionsNamed = 100

	// MaxQuarantinedBytes bounds the input bytes a quarantine entry carries
	// (record_truncated says when they were cut), MaxReasonBytes its reason.
	MaxQuarantinedBytes = 65_536 // 64 KiB
	MaxReasonBytes      = 4_096  // 4 KiB
)

// limitError names the field past a limit and the limit.
func tooLong(field string, n, limit int) error {
	return fmt.Errorf("%s is %d bytes; the limit is %d", field, n, limit)
}

func tooMany(field string, n, limit int) error {
	return fmt.Errorf("%s has %d elements; the limit is %d", field, n, limit)
}

// checker collects the first limit an event breaks. A field inside a list
// is named by a func, called only when the field breaks a limit: checking
// runs on every record, and naming every field would cost more than the
// record's own decoding.
type checker struct{ err error }

func (c *checker) str(field, s string, limit int) {
	if c.err == nil && len(s) > limit {
		c.err = tooLong(field, len(s), limit)
	}
}

func (c *checker) strAt(field func() string, s string, limit int) {
	if c.err == nil && len(s) > limit {
		c.err = tooLong(field(), len(s), limit)
	}
}

func (c *checker) id(field, s string) { c.str(field, s, MaxIDBytes) }

func (c *checker) code(field, s string) { c.str(field, s, MaxCodeBytes) }

func (c *checker) list(field string, n, limit int) {
	if c.err == nil && n > limit {
		c.err = tooMany(field, n, limit)
	}
}

func (c *checker) listAt(field func() string, n, limit int) {
	if c.err == nil && n > limit {
		c.err = tooMany(field(), n, limit)
	}
}

func (c *checker) number(field, s string) {
	if c.err == nil {
		if err := checkNumber(s); err != nil {
			c.err = fmt.Errorf("%s %w", field, err)
		}
	}
}

func (c *checker) numberAt(field func() string, s string) {
	if c.err == nil {
		if err := checkNumber(s); err != nil {
			c.err = fmt.Errorf("%s %w", field(), err)
		}
	}
}

// checkNumber bounds a decimal text before any library reads it: its length,
// and the exponent of a form such as 1e2.
func checkNumber(s string) error {
	if len(s) > MaxNumberBytes {
		return fmt.Errorf("is %d bytes; the limit is %d", len(s), MaxNumberBytes)
	}
	if i := exponentAt(s); i >= 0 {
		exp, err := strconv.Atoi(strings.TrimPrefix(s[i+1:], "+"))
		if err != nil || exp > maxExponent || exp < -maxExponent {
			return fmt.Errorf("%q has an exponent outside ±%d; send a plain decimal such as 12.34", s, maxExponent)
		}
	}
	return nil
}

// exponentAt is where s's exponent mark (e or E) is, -1 if none; a plain
// loop, since strings.IndexAny builds a set on every call and this runs on
// every amount of every record.
func exponentAt(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i]|0x20 == 'e' {
			return i
		}
	}
	return -1
}

// checkEvent refuses an event past any of the window's limits, naming the
// field, before the event touches the state.
func checkEvent(ev *v1.CommerceEvent) error {
	var c checker
	if ev.GetCompanyId() == "" {
		if ev.GetClockTick() == nil {
			return fmt.Errorf("companyId is empty")
		}
		// A clock tick naming no company is its partition's tick: it seals
		// the days of every company there, none of which it may speak for.
		if ev.GetTenantId() != "" {
			return fmt.Errorf("tenantId is set on a clock tick with no companyId; a partition's tick belongs to no tenant: clear tenantId, or set companyId to tick one company")
		}
		return nil
	}
	c.id("companyId", ev.GetCompanyId())
	c.id("tenantId", ev.GetTenantId())
	switch b := ev.Body.(type) {
	case *v1.CommerceEvent_Record:
		checkRecord(&c, b.Record)
	case *v1.CommerceEvent_Settings:
		c.code("settings.timeZone", b.Settings.GetTimeZone())
		c.code("settings.startDate", b.Settings.GetStartDate())
	case *v1.CommerceEvent_Reference:
		r := b.Reference
		c.id("reference.id", r.GetId())
		c.str("reference.contentHash", string(r.GetContentHash()), MaxHashBytes)
		if refs := r.GetProduct().GetProductCategoryRefs(); len(refs) > 0 {
			c.id("product.productCategoryRefs[0].id", refs[0].GetId())
		}
	}
	return c.err
}

func checkRecord(c *checker, re *v1.RecordEvent) {
	if re.GetId() == "" {
		c.err = fmt.Errorf("record has no id")
		return
	}
	c.id("id", re.GetId())
	c.code("transactionType", re.GetTransactionType())
	c.str("contentHash", string(re.GetContentHash()), MaxHashBytes)
	kind := re.GetKind()
	switch b := re.Body.(type) {
	case nil:
		if !re.GetDeleted() {
			c.err = fmt.Errorf("record %s has no body", re.GetId())
		}
		if kind < v1.RecordKind_RECORD_KIND_ORDER || kind > v1.RecordKind_RECORD_KIND_TRANSACTION {
			c.err = fmt.Errorf("record %s is of unknown kind %d", re.GetId(), kind)
		}
	case *v1.RecordEvent_Order:
		if kind != v1.RecordKind_RECORD_KIND_ORDER {
			c.err = fmt.Errorf("record %s of kind %v carries an order", re.GetId(), kind)
		}
		checkOrder(c, b.Order)
	case *v1.RecordEvent_Payment:
		if kind != v1.RecordKind_RECORD_KIND_PAYMENT {
			c.err = fmt.Errorf("record %s of kind %v carries a payment", re.GetId(), kind)
		}
		p := b.Payment
		c.code("currency", p.GetCurrency())
		c.code("type", p.GetType())
		c.code("status", p.GetStatus())
		c.number("amount", p.GetAmount())
	case *v1.RecordEvent_Transaction:
		if kind != v1.RecordKind_RECORD_KIND_TRANSACTION {
			c.err = fmt.Errorf("record %s of kind %v carries a transaction", re.GetId(), kind)
		}
		t := b.Transaction
		c.code("currency", t.GetCurrency())
		c.code("type", t.GetType())
		c.number("totalAmount", t.GetTotalAmount())
		c.id("transactionSourceRef.id", t.GetTransactionSourceRef().GetId())
		c.code("transactionSourceRef.type", t.GetTransactionSourceRef().GetType())
		c.list("settledTransactionIds", len(t.GetSettledTransactionIds()), MaxSettledIDs)
		for i, id := range t.GetSettledTransactionIds() {
			c.strAt(func() string { return fmt.Sprintf("settledTransactionIds[%d]", i) }, id, MaxIDBytes)
		}
	}
}

func checkOrder(c *checker, o *v1.Order) {
	c.code("currency", o.GetCurrency())
	c.number("totalAmount", o.GetTotalAmount())
	c.number("totalTaxAmount", o.GetTotalTaxAmount())
	c.number("totalGratuity", o.GetTotalGratuity())
	c.id("locationRef.id", o.GetLocationRef().GetId())
	c.list("orderLineItems", len(o.GetOrderLineItems()), MaxOrderLines)
	c.list("serviceCharges", len(o.GetServiceCharges()), MaxServiceCharges)
	for i, l := range o.GetOrderLineItems() {
		if c.err != nil {
			return
		}
		at := func(name string) func() string {
			return func() string { return fmt.Sprintf("orderLineItems[%d].%s", i, name) }
		}
		c.strAt(at("productRef.id"), l.GetProductRef().GetId(), MaxIDBytes)
		c.numberAt(at("totalAmount"), l.GetTotalAmount())
		c.numberAt(at("totalTaxAmount"), l.GetTotalTaxAmount())
		c.numberAt(at("taxPercentage"), l.GetTaxPercentage())
		c.listAt(at("discountAllocations"), len(l.GetDiscountAllocations()), MaxDiscountsPerLine)
		for j, d := range l.GetDiscountAllocations() {
			c.numberAt(func() string { return fmt.Sprintf("orderLineItems[%d].discountAllocations[%d].totalAmount", i, j) }, d.GetTotalAmount())
		}
		checkTaxes(c, "orderLineItems", i, l.GetTaxes())
	}
	for i, sc := range o.GetServiceCharges() {
		if c.err != nil {
			return
		}
		at := func(name string) func() string {
			return func() string { return fmt.Sprintf("serviceCharges[%d].%s", i, name) }
		}
		c.strAt(at("type"), sc.GetType(), MaxCodeBytes)
		c.numberAt(at("totalAmount"), sc.GetTotalAmount())
		c.numberAt(at("taxAmount"), sc.GetTaxAmount())
		c.numberAt(at("taxPercentage"), sc.GetTaxPercentage())
		checkTaxes(c, "serviceCharges", i, sc.GetTaxes())
	}
}

func checkTaxes(c *checker, list string, i int, ts []*v1.TaxLine) {
	c.listAt(func() string { return fmt.Sprintf("%s[%d].taxes", list, i) }, len(ts), MaxTaxesPerLine)
	for j, t := range ts {
		if c.err != nil {
			return
		}
		c.strAt(func() string { return fmt.Sprintf("%s[%d].taxes[%d].taxComponentRef.id", list, i, j) }, t.GetTaxComponentRef().GetId(), MaxIDBytes)
		c.numberAt(func() string { return fmt.Sprintf("%s[%d].taxes[%d].taxAmount", list, i, j) }, t.GetTaxAmount())
	}
}
