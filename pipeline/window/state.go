package window

import (
	"github.com/commercesync/commercesync/ledger/day"
	"github.com/commercesync/commercesync/ledger/money"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// recordKey is a record's identity: Codat's Payment and PaymentFee
// transactions share ids, so the kind and transaction type are part of it.
type recordKey struct {
	kind v1.RecordKind
	typ  string
	id   string
}

func (k recordKey) String() string { return k.kind.String() + "|" + k.typ + "|" + k.id }

// recState is the current version of one record.
type recState struct {
	srcMod   int64
	hash     []byte
	deleted  bool
	event    int64
	currency string
	day      string // "" when the record counts in no day
	total    money.Amount
	tax      money.Amount
	gratuity money.Amount
	payType  string
	status   string
	linked   string
	tender   string
}

type dayKey struct {
	day      string
	currency string
}

// dayState is one business day in one currency.
type dayState struct {
	totals   day.Totals
	posted   day.Totals
	revision int
	sealed   bool
	records  int
	dirty    bool
	start    int64
	end      int64
}

func (d *dayState) clone() *dayState {
	c := *d
	c.totals = d.totals.Clone()
	c.posted = d.posted.Clone()
	return &c
}

// company is the window's state of one merchant.
type company struct {
	id        string
	tenant    string
	partition int32
	settings  *v1.WindowSettings
	cal       day.Calendar
	hasCal    bool
	watermark int64
	sequence  int64
	lastHash  string

	records map[recordKey]*recState
	days    map[dayKey]*dayState
	// feesByPayment finds the fee transactions whose tender depends on a
	// payment, so a payment arriving after its fee still fixes the fee.
	feesByPayment map[string]map[recordKey]struct{}
}

func newCompany(id string, partition int32) *company {
	return &company{
		id: id, partition: partition,
		records:       map[recordKey]*recState{},
		days:          map[dayKey]*dayState{},
		feesByPayment: map[string]map[recordKey]struct{}{},
	}
}

// companyHead is the part of a company saved and restored as one unit.
type companyHead struct {
	tenant    string
	settings  *v1.WindowSettings
	cal       day.Calendar
	hasCal    bool
	watermark int64
	sequence  int64
	lastHash  string
}

func (c *company) head() companyHead {
	return companyHead{c.tenant, c.settings, c.cal, c.hasCal, c.watermark, c.sequence, c.lastHash}
}

func (c *company) setHead(h companyHead) {
	c.tenant, c.settings, c.cal, c.hasCal = h.tenant, h.settings, h.cal, h.hasCal
	c.watermark, c.sequence, c.lastHash = h.watermark, h.sequence, h.lastHash
}
