package window

// The random event-stream generator behind the property tests.

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"pgregory.net/rapid"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

var (
	genZones      = []string{"Europe/London", "America/New_York", "Asia/Tokyo", "Australia/Lord_Howe"}
	genCurrencies = []string{"GBP", "JPY", "USD"}
	genPayTypes   = []string{"Card", "Cash", "OnlineCard"}
	// Base dates per zone: the day after each is the zone's daylight-saving
	// change (23, 25, 23.5 or 24.5 hours long), plus an ordinary June day.
	genBaseDates = map[string][]string{
		"Europe/London":       {"2026-03-28", "2026-10-24", "2026-06-10"},
		"America/New_York":    {"2026-03-07", "2026-10-31", "2026-06-10"},
		"Asia/Tokyo":          {"2026-03-07", "2026-06-10"},
		"Australia/Lord_Howe": {"2026-04-04", "2026-10-03", "2026-06-10"},
	}
)

const (
	hourMs = int64(time.Hour / time.Millisecond)
	dayMs  = 24 * hourMs
)

type genCompany struct {
	id, tenant string
	partition  int32
	settings   *v1.WindowSettings
	from, to   int64 // event times fall in [from, to)
}

// stream is a generated input: settings of (usually) every company, then
// data and control records of all companies interleaved.
type stream struct {
	companies []genCompany
	events    []*v1.CommerceEvent
}

func (s *stream) partitions() map[string]int32 {
	m := map[string]int32{}
	for _, c := range s.companies {
		m[c.id] = c.partition
	}
	return m
}

func (s *stream) refSettings() map[string]refSettings {
	m := map[string]refSettings{}
	for _, c := range s.companies {
		m[c.id] = refSettings{zone: c.settings.GetTimeZone(), cutoff: int(c.settings.GetCutoffHour()), startDate: c.settings.GetStartDate(),
			byLocation: c.settings.GetGroupByLocation()}
	}
	return m
}

// finalClose is a close-up-to far in the future for every company.
func (s *stream) finalClose() []*v1.CommerceEvent {
	var out []*v1.CommerceEvent
	for _, c := range s.companies {
		out = append(out, closeEvent(c.id, c.to+400*dayMs))
	}
	return out
}

// closed returns a copy of evs followed by the final close-up-to.
func (s *stream) closed(evs []*v1.CommerceEvent) []*v1.CommerceEvent {
	return slices.Concat(evs, s.finalClose())
}

func (s *stream) data() []*v1.CommerceEvent {
	var out []*v1.CommerceEvent
	for _, ev := range s.events {
		if isData(ev) {
			out = append(out, ev)
		}
	}
	return out
}

// genStream draws a stream for 1–3 companies.
func genStream(t *rapid.T) *stream { return genStreamScaled(t, 1) }

// genStreamScaled draws a stream with up to scale times as many records
// per company.
func genStreamScaled(t *rapid.T, scale int) *stream {
	s := &stream{}
	n := rapid.IntRange(1, 3).Draw(t, "companies")
	var seqs [][]*v1.CommerceEvent
	for i := range n {
		c, seq := genCompanyEvents(t, i, scale)
		s.companies = append(s.companies, c)
		set := settingsEvent(c.id, c.tenant, c.settings)
		// Usually settings come first. Sometimes records come before them
		// (they count in no day until the settings arrive), and sometimes
		// the same settings are sent again later.
		if rapid.IntRange(0, 3).Draw(t, "settings late?") == 0 {
			at := rapid.IntRange(0, len(seq)).Draw(t, "settings position")
			seq = slices.Insert(seq, at, set)
		} else {
			s.events = append(s.events, set)
		}
		if rapid.IntRange(0, 4).Draw(t, "settings again?") == 0 {
			again := settingsEvent(c.id, c.tenant, proto.Clone(c.settings).(*v1.WindowSettings))
			first := slices.Index(seq, set) + 1
			seq = slices.Insert(seq, rapid.IntRange(first, len(seq)).Draw(t, "settings again position"), again)
		}
		seqs = append(seqs, seq)
	}
	// Interleave the companies, keeping each company's own order.
	for {
		var live []int
		for i, q := range seqs {
			if len(q) > 0 {
				live = append(live, i)
			}
		}
		if len(live) == 0 {
			break
		}
		i := live[0]
		if len(live) > 1 {
			i = rapid.SampledFrom(live).Draw(t, "next company")
		}
		s.events = append(s.events, seqs[i][0])
		seqs[i] = seqs[i][1:]
	}
	return s
}

// permuteData returns the stream's events with its data records in another
// random order: settings and control records keep their positions, the data
// records fill the data slots in a random permutation (deletes then placed
// after the records they remove).
func permuteData(t *rapid.T, s *stream) []*v1.CommerceEvent {
	data := s.data()
	perm := rapid.Permutation(data).Draw(t, "permutation")
	out := make([]*v1.CommerceEvent, 0, len(s.events))
	i := 0
	for _, ev := range s.events {
		if isData(ev) {
			out = append(out, perm[i])
			i++
		} else {
			out = append(out, ev)
		}
	}
	return out
}

// genBatchSizes draws batch sizes for Flush+Commit boundaries.
func genBatchSizes(t *rapid.T, label string) []int {
	return rapid.SliceOfN(rapid.IntRange(1, 40), 1, 8).Draw(t, label)
}

type companyGen struct {
	t        *rapid.T
	c        genCompany
	loc      *time.Location
	data     []*v1.CommerceEvent
	versions []*v1.CommerceEvent // every non-delete data event, for duplicates
	hashes   int
	products int // prod-0 … prod-<products-1> exist as reference data
}

// referenceData emits n products, each in 1–3 versions valid from random
// times (a category or none, sometimes a gift card, sometimes deleted),
// and a few locations and tax components, which carry no money. Order
// lines then name the products.
func (g *companyGen) referenceData(n int) {
	t := g.t
	g.products = n
	emit := func(re *v1.ReferenceEvent) {
		ev := &v1.CommerceEvent{CompanyId: g.c.id, TenantId: g.c.tenant, ReceivedUnixMs: re.GetValidFromUnixMs() + 1000,
			Body: &v1.CommerceEvent_Reference{Reference: re}}
		g.data = append(g.data, ev)
		g.versions = append(g.versions, ev)
	}
	for i := range n {
		id := fmt.Sprintf("prod-%d", i)
		for j := range rapid.IntRange(1, 3).Draw(t, "product versions") {
			re := &v1.ReferenceEvent{Kind: v1.ReferenceKind_REFERENCE_KIND_PRODUCT, Id: id,
				ValidFromUnixMs: spread(t, g.c.from-24*hourMs, 5, "product valid from"), ContentHash: g.hash(id)}
			if j > 0 && rapid.IntRange(0, 5).Draw(t, "product deleted?") == 0 {
				re.Deleted = true
			} else {
				p := &v1.Product{Id: id, Name: id, IsGiftCard: rapid.IntRange(0, 4).Draw(t, "gift card?") == 0}
				if cat := rapid.SampledFrom([]string{"", "food", "drink"}).Draw(t, "product category"); cat != "" {
					p.ProductCategoryRefs = []*v1.Ref{{Id: cat}}
				}
				re.Body = &v1.ReferenceEvent_Product{Product: p}
			}
			emit(re)
		}
	}
	for i := range rapid.IntRange(0, 2).Draw(t, "other reference data") {
		id := fmt.Sprintf("ref-%d", i)
		re := &v1.ReferenceEvent{Id: id, ValidFromUnixMs: spread(t, g.c.from, 3, "reference valid from"), ContentHash: g.hash(id)}
		if rapid.Bool().Draw(t, "location?") {
			re.Kind, re.Body = v1.ReferenceKind_REFERENCE_KIND_LOCATION, &v1.ReferenceEvent_Location{Location: &v1.Location{Id: id, Name: "Shop " + id}}
		} else {
			re.Kind, re.Body = v1.ReferenceKind_REFERENCE_KIND_TAX_COMPONENT, &v1.ReferenceEvent_TaxComponent{TaxComponent: &v1.TaxComponent{Id: id, Name: "Tax " + id}}
		}
		emit(re)
	}
}

func genCompanyEvents(t *rapid.T, idx, scale int) (genCompany, []*v1.CommerceEvent) {
	zone := rapid.SampledFrom(genZones).Draw(t, "zone")
	cutoff := rapid.SampledFrom([]int{0, 0, 2, 4, 5, 23}).Draw(t, "cutoff")
	base := rapid.SampledFrom(genBaseDates[zone]).Draw(t, "base date")
	grace := rapid.SampledFrom([]int64{0, hourMs, 6 * hourMs}).Draw(t, "grace")
	loc := mustZone(zone)
	d, _ := time.ParseInLocation("2006-01-02", base, loc)
	from := d.UnixMilli() - 6*hourMs
	startDate := ""
	if rapid.IntRange(0, 4).Draw(t, "start date?") == 0 {
		startDate = d.AddDate(0, 0, 1).Format("2006-01-02")
	}
	c := genCompany{
		id:        fmt.Sprintf("co-%d", idx),
		tenant:    "tenant-" + strconv.Itoa(idx%2),
		partition: int32(idx % 2),
		settings: &v1.WindowSettings{
			TimeZone: zone, CutoffHour: int32(cutoff), GraceMs: grace,
			ConfigVersion: int64(rapid.IntRange(1, 3).Draw(t, "config version")), StartDate: startDate,
			GroupByLocation: rapid.IntRange(0, 2).Draw(t, "group by location?") == 0,
		},
		from: from, to: from + 78*hourMs,
	}
	g := &companyGen{t: t, c: c, loc: loc}
	g.referenceData(rapid.IntRange(0, 3).Draw(t, "products"))

	nPay := rapid.IntRange(0, 5*scale).Draw(t, "payments")
	nOrd := rapid.IntRange(0, 6*scale).Draw(t, "orders")
	nFee := rapid.IntRange(0, 4*scale).Draw(t, "fees")
	nRef := rapid.IntRange(0, 2*scale).Draw(t, "fee refunds")
	nPtx := rapid.IntRange(0, 2*scale).Draw(t, "payment transactions")
	nPo := rapid.IntRange(0, 2*scale).Draw(t, "payouts")

	var payIDs []string
	for i := range nPay {
		payIDs = append(payIDs, fmt.Sprintf("pay-%d", i))
	}
	for i := range nOrd {
		g.order(fmt.Sprintf("ord-%d", i))
	}
	for i := range nFee + nRef {
		typ := "PaymentFee"
		if i >= nFee {
			typ = "PaymentFeeRefund"
		}
		g.fee(typ, i, payIDs)
	}
	for i := range nPo {
		g.payout(i, payIDs)
	}
	for i := range nPtx {
		if len(payIDs) > 0 {
			g.paymentTransaction(rapid.SampledFrom(payIDs).Draw(t, "ptx payment"), fmt.Sprintf("ord-%d", i))
		}
	}
	for _, id := range payIDs {
		g.payment(id, true)
	}
	// Exact duplicates of random versions.
	if len(g.versions) > 0 {
		for range rapid.IntRange(0, len(g.versions)/3+1).Draw(t, "duplicates") {
			g.data = append(g.data, rapid.SampledFrom(g.versions).Draw(t, "duplicate"))
		}
	}
	seq := rapid.Permutation(g.data).Draw(t, "arrival order")

	// Control records at random places: clock ticks and close-up-tos over the
	// range, and often a close-up-to of the first day and a half early on, so
	// that later records of those days arrive after they sealed.
	var controls []*v1.CommerceEvent
	for range rapid.IntRange(0, 4*scale).Draw(t, "ticks") {
		controls = append(controls, tickEvent(c.id, spread(t, c.from, 4, "tick at")))
	}
	for range rapid.IntRange(0, 2*scale).Draw(t, "closes") {
		controls = append(controls, closeEvent(c.id, spread(t, c.from, 3, "close at")))
	}
	for _, ctl := range controls {
		at := rapid.IntRange(0, len(seq)).Draw(t, "control position")
		seq = slices.Insert(seq, at, ctl)
	}
	if rapid.Bool().Draw(t, "early close?") {
		at := len(seq) / 3
		seq = slices.Insert(seq, at, closeEvent(c.id, c.from+36*hourMs))
	}
	return c, seq
}

// at draws an event time: spread over the range, or within seconds of a
// local midnight or cutoff hour.
func (g *companyGen) at(label string) int64 {
	t := g.t
	if rapid.IntRange(0, 3).Draw(t, label+" near boundary?") == 0 {
		d := time.UnixMilli(spread(t, g.c.from, 3, label+" day")).In(g.loc)
		h := rapid.SampledFrom([]int{0, int(g.c.settings.GetCutoffHour())}).Draw(t, label+" hour")
		edge := time.Date(d.Year(), d.Month(), d.Day(), h, 0, 0, 0, g.loc).UnixMilli()
		v := edge + rapid.Int64Range(-2000, 2000).Draw(t, label+" offset")
		return min(max(v, g.c.from), g.c.to-1)
	}
	return min(spread(t, g.c.from, 4, label), g.c.to-1)
}

// spread draws an instant in [from, from+days): day, hour and millisecond
// drawn separately, because rapid favours small integers and one draw over
// the whole range would crowd everything into its first hours.
func spread(t *rapid.T, from int64, days int, label string) int64 {
	d := int64(rapid.IntRange(0, days-1).Draw(t, label+" day"))
	h := int64(rapid.IntRange(0, 23).Draw(t, label+" hour"))
	return from + d*dayMs + h*hourMs + rapid.Int64Range(0, hourMs-1).Draw(t, label+" ms")
}

// amount draws a positive amount in 1/10000 units: usually whole cents,
// sometimes four decimals.
func (g *companyGen) amount(label string, maxCents int64) int64 {
	if rapid.IntRange(0, 4).Draw(g.t, label+" 4dp?") == 0 {
		return rapid.Int64Range(1, maxCents*100).Draw(g.t, label)
	}
	return 100 * rapid.Int64Range(1, maxCents).Draw(g.t, label)
}

// text writes an amount as exact decimal text in one of the forms pushers
// send: "85", "85.5", "85.50", "85.5000".
func (g *companyGen) text(v int64) string {
	neg := v < 0
	if neg {
		v = -v
	}
	s := fmt.Sprintf("%d.%04d", v/10000, v%10000)
	switch rapid.IntRange(0, 2).Draw(g.t, "amount form") {
	case 0: // as is
	case 1: // trimmed, at least two decimals
		for strings.HasSuffix(s, "0") && len(s)-strings.Index(s, ".") > 3 {
			s = s[:len(s)-1]
		}
	case 2: // trimmed fully
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if neg {
		s = "-" + s
	}
	return s
}

func (g *companyGen) hash(key string) []byte {
	g.hashes++
	h := sha256.Sum256([]byte(fmt.Sprintf("%s|%s|%d", g.c.id, key, g.hashes)))
	return h[:]
}

// nextSrcMod steps a record's sourceModifiedDate: the same instant (a tie
// the content hash breaks) or later. Records without a date keep 0.
func (g *companyGen) nextSrcMod(prev int64, i int, label string) int64 {
	if i == 0 || prev == 0 || rapid.IntRange(0, 3).Draw(g.t, label+" tie?") == 0 {
		return prev
	}
	return prev + rapid.Int64Range(1, 6*hourMs).Draw(g.t, label+" step")
}

func (g *companyGen) firstSrcMod(label string) int64 {
	if rapid.IntRange(0, 5).Draw(g.t, label+" undated?") == 0 {
		return 0
	}
	return spread(g.t, g.c.from, 3, label)
}

func (g *companyGen) add(re *v1.RecordEvent) {
	ev := recordEvent(g.c.id, g.c.tenant, re)
	g.data = append(g.data, ev)
	g.versions = append(g.versions, ev)
}

func (g *companyGen) maybeDelete(kind v1.RecordKind, typ, id string) {
	if rapid.IntRange(0, 7).Draw(g.t, "delete?") != 0 {
		return
	}
	if kind == v1.RecordKind_RECORD_KIND_TRANSACTION && rapid.Bool().Draw(g.t, "sparse delete?") {
		typ = "" // {id} only: removes every transaction with the id
	}
	// Received anywhere in four days: sometimes before a version's source
	// modification (that version survives), sometimes after (it goes).
	g.data = append(g.data, deleteEvent(g.c.id, g.c.tenant, kind, typ, id, spread(g.t, g.c.from, 4, "delete received")))
}

func (g *companyGen) order(id string) {
	t := g.t
	cur := rapid.SampledFrom(genCurrencies).Draw(t, "order currency")
	n := rapid.IntRange(1, 3).Draw(t, "order versions")
	src := g.firstSrcMod("order srcMod")
	at := g.at("order at")
	for i := range n {
		src = g.nextSrcMod(src, i, "order srcMod")
		if i > 0 && rapid.IntRange(0, 3).Draw(t, "order moves?") == 0 {
			at = g.at("order at")
		}
		if i > 0 && rapid.IntRange(0, 7).Draw(t, "order currency changes?") == 0 {
			cur = rapid.SampledFrom(genCurrencies).Draw(t, "order currency")
		}
		var grat int64
		if rapid.IntRange(0, 2).Draw(t, "gratuity?") == 0 {
			grat = g.amount("gratuity", 2_000)
		}
		o := &v1.Order{Id: id, OrderNumber: id, Currency: cur, CreatedDate: time.UnixMilli(at).UTC().Format(time.RFC3339Nano)}
		// Orders of two shops and some with no location; a later version
		// may move an order to another shop.
		if site := rapid.SampledFrom([]string{"", "shop-a", "shop-b", "shop-b"}).Draw(t, "order location"); site != "" {
			o.LocationRef = &v1.Ref{Id: site}
		}
		if rapid.Bool().Draw(t, "order with lines?") {
			g.orderLines(o)
		} else {
			total := g.amount("order total", 50_000)
			rate := rapid.SampledFrom([]int64{0, 5, 20}).Draw(t, "tax rate")
			tax := total * rate / (100 + rate) / 100 * 100
			if rapid.IntRange(0, 9).Draw(t, "refund order?") == 0 {
				total, tax, grat = -total, -tax, -grat
			}
			o.TotalAmount, o.TotalTaxAmount = g.text(total), g.text(tax)
		}
		if grat != 0 || rapid.Bool().Draw(t, "explicit zero gratuity?") {
			o.TotalGratuity = g.text(grat)
		}
		g.add(&v1.RecordEvent{
			Kind: v1.RecordKind_RECORD_KIND_ORDER, Id: id, EventUnixMs: at, SourceModifiedUnixMs: src,
			ContentHash: g.hash(id), Body: &v1.RecordEvent_Order{Order: o},
		})
	}
	g.maybeDelete(v1.RecordKind_RECORD_KIND_ORDER, "", id)
}

// payment emits a payment whose status moves along Pending → Paid → Failed
// (starting at Pending or Paid), sometimes changing type or amount.
func (g *companyGen) payment(id string, mayDelete bool) {
	t := g.t
	cur := rapid.SampledFrom(genCurrencies).Draw(t, "payment currency")
	typ := rapid.SampledFrom(genPayTypes).Draw(t, "payment type")
	statuses := []string{"Pending", "Paid", "Failed"}
	first := rapid.IntRange(0, 1).Draw(t, "first status")
	n := rapid.IntRange(1, 3-first).Draw(t, "payment versions")
	src := g.firstSrcMod("payment srcMod")
	at := g.at("payment at")
	amt := g.amount("payment amount", 50_000)
	if rapid.IntRange(0, 9).Draw(t, "refund payment?") == 0 {
		amt = -amt
	}
	for i := range n {
		src = g.nextSrcMod(src, i, "payment srcMod")
		if i > 0 && rapid.IntRange(0, 3).Draw(t, "payment type changes?") == 0 {
			typ = rapid.SampledFrom(genPayTypes).Draw(t, "payment type")
		}
		if i > 0 && rapid.IntRange(0, 3).Draw(t, "payment moves?") == 0 {
			at = g.at("payment at")
		}
		g.add(&v1.RecordEvent{
			Kind: v1.RecordKind_RECORD_KIND_PAYMENT, Id: id, EventUnixMs: at, SourceModifiedUnixMs: src,
			ContentHash: g.hash(id),
			Body: &v1.RecordEvent_Payment{Payment: &v1.Payment{
				Id: id, Amount: g.text(amt), Currency: cur, Type: typ, Status: statuses[first+i],
			}},
		})
	}
	if mayDelete {
		g.maybeDelete(v1.RecordKind_RECORD_KIND_PAYMENT, "", id)
	}
}

// fee emits a PaymentFee (negative) or PaymentFeeRefund (positive) linked
// to a payment: Codat-style by sharing the payment's id, by
// transactionSourceRef, or to no payment at all. It returns the payment id
// it links to.
func (g *companyGen) fee(typ string, i int, payIDs []string) string {
	t := g.t
	id := fmt.Sprintf("fee-%d", i)
	var ref *v1.TransactionSourceRef
	linked := id
	if len(payIDs) > 0 || rapid.Bool().Draw(t, "fee of unknown payment?") {
		pay := fmt.Sprintf("pay-%d", len(payIDs)) // a payment that never arrives
		if len(payIDs) > 0 {
			pay = rapid.SampledFrom(payIDs).Draw(t, "fee payment")
		}
		linked = pay
		switch rapid.IntRange(0, 2).Draw(t, "fee link") {
		case 0: // Codat's example: the fee reuses the payment id
			id = pay
			if rapid.Bool().Draw(t, "codat ref too?") {
				ref = &v1.TransactionSourceRef{Id: pay, Type: "Payment"}
			}
		default:
			ref = &v1.TransactionSourceRef{Id: pay, Type: "Payment"}
		}
	}
	cur := rapid.SampledFrom(genCurrencies).Draw(t, "fee currency")
	n := rapid.IntRange(1, 2).Draw(t, "fee versions")
	src := g.firstSrcMod("fee srcMod")
	at := g.at("fee at")
	for v := range n {
		src = g.nextSrcMod(src, v, "fee srcMod")
		amt := g.amount("fee amount", 500)
		if typ == "PaymentFee" {
			amt = -amt
		}
		g.add(&v1.RecordEvent{
			Kind: v1.RecordKind_RECORD_KIND_TRANSACTION, TransactionType: typ, Id: id,
			EventUnixMs: at, SourceModifiedUnixMs: src, ContentHash: g.hash(typ + id),
			Body: &v1.RecordEvent_Transaction{Transaction: &v1.Transaction{
				Id: id, TotalAmount: g.text(amt), Currency: cur, Type: typ, TransactionSourceRef: ref,
			}},
		})
	}
	g.maybeDelete(v1.RecordKind_RECORD_KIND_TRANSACTION, typ, id)
	if linked == id && !strings.HasPrefix(id, "pay-") {
		return ""
	}
	return linked
}

// paymentTransaction emits Codat's Payment-type transaction: same id as the
// payment, linked to an order, carrying no money of its own.
func (g *companyGen) paymentTransaction(payID, orderID string) {
	at := g.at("ptx at")
	amt := g.amount("ptx amount", 50_000)
	g.add(&v1.RecordEvent{
		Kind: v1.RecordKind_RECORD_KIND_TRANSACTION, TransactionType: "Payment", Id: payID,
		EventUnixMs: at, SourceModifiedUnixMs: g.firstSrcMod("ptx srcMod"), ContentHash: g.hash("ptx" + payID),
		Body: &v1.RecordEvent_Transaction{Transaction: &v1.Transaction{
			Id: payID, TotalAmount: g.text(amt), Currency: rapid.SampledFrom(genCurrencies).Draw(g.t, "ptx currency"), Type: "Payment",
			TransactionSourceRef: &v1.TransactionSourceRef{Id: orderID, Type: "Order"},
		}},
	})
	g.maybeDelete(v1.RecordKind_RECORD_KIND_TRANSACTION, "Payment", payID)
}

// genUnit is the currency's minor unit in 1/10000 units (0.01 for GBP and
// USD; 1 for JPY, which has no decimals).
func genUnit(cur string) int64 {
	switch cur {
	case "JPY":
		return 10000
	case "GBP", "USD":
		return 100
	}
	panic("genUnit: no minor unit for " + cur)
}

// genRates are tax percentages as pushers spell them, with their value in
// thousandths of a percent: the same rate in several spellings must land on
// one tax account.
var genRates = []struct {
	text  string
	milli int64
}{
	{"20", 20000}, {"20.0", 20000}, {"20.00", 20000}, {"20.000", 20000}, {"020", 20000},
	{"5", 5000}, {"5.00", 5000}, {"8.875", 8875}, {"8.8750", 8875},
	{"12.5", 12500}, {"12.50", 12500}, {"0.5", 500}, {".5", 500},
}

// genTaxIDs are the tax components lines name.
var genTaxIDs = []string{"vat", "state", "city"}

// orderLines fills o with 0–4 line items and 0–2 service charges (at least
// one of either) in the currency's minor units: sold and refunded lines,
// tax by rate, by component, both, or neither, and discounts. Its total is
// what they come to plus a rounding difference that is usually within the
// bound (one minor unit per line and charge) and sometimes beyond it, so
// that the order becomes an exception of its day.
func (g *companyGen) orderLines(o *v1.Order) {
	t := g.t
	unit := genUnit(o.GetCurrency())
	minor := func(label string, hi int64) int64 { return unit * rapid.Int64Range(0, hi).Draw(t, label) }
	nLines := rapid.IntRange(0, 4).Draw(t, "line items")
	nCharges := rapid.IntRange(0, 2).Draw(t, "service charges")
	if nLines+nCharges == 0 {
		nLines = 1
	}
	refund := rapid.IntRange(0, 9).Draw(t, "refund order?") == 0 // every line refunded
	var sum, taxSum int64
	for i := range nLines {
		total := minor("line total", 20_000)
		if refund || rapid.IntRange(0, 5).Draw(t, "refund line?") == 0 {
			total = -total
		}
		l := &v1.OrderLineItem{Id: fmt.Sprintf("%s-line-%d", o.GetId(), i), Quantity: "1"}
		if g.products > 0 && rapid.Bool().Draw(t, "line names a product?") {
			// Sometimes one no reference data describes: it counts as
			// uncategorised sales.
			l.ProductRef = &v1.Ref{Id: fmt.Sprintf("prod-%d", rapid.IntRange(0, g.products).Draw(t, "line product"))}
		}
		tax := g.lineTax(unit, total, &l.TaxPercentage, &l.Taxes)
		l.TotalAmount, l.TotalTaxAmount = g.text(total), g.text(tax)
		if rapid.IntRange(0, 2).Draw(t, "discount?") == 0 {
			for j := range rapid.IntRange(1, 2).Draw(t, "discount allocations") {
				l.DiscountAllocations = append(l.DiscountAllocations, &v1.DiscountAllocation{
					Name: fmt.Sprintf("promo-%d", j), TotalAmount: g.text(minor("discount", 2_000)),
				})
			}
		}
		o.OrderLineItems = append(o.OrderLineItems, l)
		sum += total
		taxSum += tax
	}
	for range nCharges {
		total := minor("charge total", 2_000)
		if rapid.IntRange(0, 7).Draw(t, "refunded charge?") == 0 {
			total = -total
		}
		sc := &v1.ServiceCharge{
			Description: "charge", Quantity: "1",
			Type: rapid.SampledFrom([]string{"Shipping", "Shipping", "Generic", "Overpayment", "Unknown", ""}).Draw(t, "charge type"),
		}
		tax := g.lineTax(unit, total, &sc.TaxPercentage, &sc.Taxes)
		sc.TotalAmount, sc.TaxAmount = g.text(total), g.text(tax)
		o.ServiceCharges = append(o.ServiceCharges, sc)
		sum += total
		taxSum += tax
	}
	bound := int64(nLines+nCharges) * unit
	var diff int64
	switch rapid.IntRange(0, 9).Draw(t, "rounding") {
	case 0, 1: // beyond the bound, by a hair or by whole units
		over := int64(1)
		if rapid.IntRange(0, 3).Draw(t, "hair over?") != 0 {
			over = unit * rapid.Int64Range(1, 500).Draw(t, "units over")
		}
		diff = bound + over
	case 2: // exactly at the bound
		diff = bound
	case 3: // within the bound, below a minor unit
		diff = rapid.Int64Range(0, bound).Draw(t, "sub-unit rounding")
	default: // whole minor units within the bound, usually none
		diff = unit * rapid.Int64Range(0, int64(nLines+nCharges)).Draw(t, "rounding units")
	}
	if rapid.Bool().Draw(t, "rounding down?") {
		diff = -diff
	}
	o.TotalAmount = g.text(sum + diff)
	// The order's own tax total is not what lines post; it is sometimes off.
	if rapid.IntRange(0, 4).Draw(t, "order tax off?") == 0 {
		taxSum += unit * rapid.Int64Range(-100, 100).Draw(t, "order tax off by")
	}
	o.TotalTaxAmount = g.text(taxSum)
}

// lineTax draws the tax of a line or service charge of total: none, by
// rate (taxPercentage), by components (taxes) adding up to it, by
// components that leave part of it to the rate or to the untyped tax, or
// untyped. It returns the tax amount, of total's sign and smaller.
func (g *companyGen) lineTax(unit, total int64, pct *string, parts *[]*v1.TaxLine) int64 {
	t := g.t
	mode := rapid.IntRange(0, 4).Draw(t, "tax mode")
	if mode == 0 {
		if rapid.IntRange(0, 3).Draw(t, "zero rate?") == 0 {
			*pct = rapid.SampledFrom([]string{"0", "0.00", "0.0"}).Draw(t, "zero rate")
		}
		return 0
	}
	rate := rapid.SampledFrom(genRates).Draw(t, "tax rate")
	tax := total * rate.milli / (100_000 + rate.milli) / unit * unit
	switch mode {
	case 1: // by rate
		*pct = rate.text
	case 2, 3: // by components; in mode 3 some of it is left over
		if rapid.Bool().Draw(t, "rate beside components?") {
			*pct = rate.text
		}
		rest := tax
		k := rapid.IntRange(1, 2).Draw(t, "tax components")
		for j := range k {
			amt := rest
			if j < k-1 {
				amt = rest / unit * rapid.Int64Range(0, 10).Draw(t, "component share") / 10 * unit
			}
			if mode == 3 && j == k-1 {
				// The last part names no component, sends no amount, or is
				// left out: its amount falls to the rest of the line's tax.
				switch rapid.IntRange(0, 3).Draw(t, "left-over part") {
				case 0:
					*parts = append(*parts, &v1.TaxLine{TaxAmount: g.text(amt)})
				case 1:
					*parts = append(*parts, &v1.TaxLine{TaxComponentRef: &v1.Ref{Id: rapid.SampledFrom(genTaxIDs).Draw(t, "tax component")}})
				case 2: // left out
				case 3: // a part of half of it
					half := amt / 2 / unit * unit
					*parts = append(*parts, &v1.TaxLine{TaxComponentRef: &v1.Ref{Id: rapid.SampledFrom(genTaxIDs).Draw(t, "tax component")}, TaxAmount: g.text(half)})
				}
				break
			}
			*parts = append(*parts, &v1.TaxLine{
				TaxComponentRef: &v1.Ref{Id: rapid.SampledFrom(genTaxIDs).Draw(t, "tax component"), Name: "component"},
				Rate:            rate.text, TaxAmount: g.text(amt),
			})
			rest -= amt
		}
	case 4: // untyped: no rate, no components
	}
	return tax
}

// payout emits a Payout or FailedPayout settling 0–3 payment ids: ones the
// stream pushes (before or after the payout, in any order), ones it never
// pushes, sometimes the same id twice. Platforms sign payouts either way.
func (g *companyGen) payout(i int, payIDs []string) {
	t := g.t
	typ := "Payout"
	if rapid.IntRange(0, 2).Draw(t, "failed payout?") == 0 {
		typ = "FailedPayout"
	}
	id := fmt.Sprintf("po-%d", i)
	cur := rapid.SampledFrom(genCurrencies).Draw(t, "payout currency")
	n := rapid.IntRange(1, 2).Draw(t, "payout versions")
	src := g.firstSrcMod("payout srcMod")
	at := g.at("payout at")
	for v := range n {
		src = g.nextSrcMod(src, v, "payout srcMod")
		if v > 0 && rapid.IntRange(0, 3).Draw(t, "payout moves?") == 0 {
			at = g.at("payout at")
		}
		var settled []string
		for range rapid.IntRange(0, 3).Draw(t, "settled ids") {
			if len(payIDs) == 0 || rapid.IntRange(0, 4).Draw(t, "unknown settled id?") == 0 {
				settled = append(settled, fmt.Sprintf("pay-%d", len(payIDs)+rapid.IntRange(0, 1).Draw(t, "unknown payment")))
			} else {
				settled = append(settled, rapid.SampledFrom(payIDs).Draw(t, "settled payment"))
			}
		}
		amt := g.amount("payout amount", 100_000)
		if rapid.Bool().Draw(t, "payout signed negative?") {
			amt = -amt
		}
		g.add(&v1.RecordEvent{
			Kind: v1.RecordKind_RECORD_KIND_TRANSACTION, TransactionType: typ, Id: id,
			EventUnixMs: at, SourceModifiedUnixMs: src, ContentHash: g.hash(typ + id),
			Body: &v1.RecordEvent_Transaction{Transaction: &v1.Transaction{
				Id: id, TotalAmount: g.text(amt), Currency: cur, Type: typ, SettledTransactionIds: settled,
			}},
		})
	}
	g.maybeDelete(v1.RecordKind_RECORD_KIND_TRANSACTION, typ, id)
}
