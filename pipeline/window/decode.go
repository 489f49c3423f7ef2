package window

import (
	"errors"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// eventDecoder reads commerce.events values for Apply.
//
// A record carries far more than the window reads: order numbers, dates as
// text, names beside ids, quantities and unit prices, product variants, the
// payments an order lists, supplemental data. proto.Unmarshal builds all of
// it, and on the window's hot path that was half the cost of a record. So a
// record's body is read field by field here and only the fields Apply reads
// are built (leanEvent's projection in the tests lists them); the rest is
// checked as proto.Unmarshal checks it (wire format, UTF-8 of strings,
// nested messages) and skipped. Settings, references, closes and ticks are
// rare and decoded whole.
//
// The outcome is proto.Unmarshal's: a value it refuses is refused, with its
// error. Anything this reader does not handle itself (a field repeated where
// proto would merge, a packed or mistyped field, nesting past
// maxLeanDepth, a malformed value) hands the value to proto.Unmarshal, which
// decides. TestHotPathDecodeIsProtoUnmarshalProjected and
// FuzzHotPathDecodeEvent hold it to that.
//
// A record's messages are reused from one decode to the next: the event
// decode returns is valid until the next decode. The state keeps none of
// them, only strings and a record's content hash, which are always new; the
// bodies decoded whole (the state keeps settings) are new too.
type eventDecoder struct {
	ev     v1.CommerceEvent
	record recordBlock
	order  orderBlock
	pay    paymentBlock
	txn    transactionBlock
	// Pools, in the order of use within one event; n* count those in use.
	lines                         []*lineBlock
	taxes                         []*taxBlock
	discounts                     []*v1.DiscountAllocation
	charges                       []*v1.ServiceCharge
	nLines, nTaxes, nDisc, nCharg int
	// The lists of pointers the messages hold, cut from these.
	linePtrs   []*v1.OrderLineItem
	taxPtrs    []*v1.TaxLine
	discPtrs   []*v1.DiscountAllocation
	chargePtrs []*v1.ServiceCharge
	settled    []string
	// codes are short texts that recur from record to record (currencies,
	// rates, types, statuses, tax components, products, locations), read
	// once and shared: fewer allocations, and the state keeps one copy.
	codes map[string]string
}

// Bounds of the shared codes: their length, and how many are kept (the
// first ones seen; later ones are read as any string is).
const (
	maxCodeLen = 40
	maxCodes   = 512
)

// code reads a string field, shared with earlier records when it is a
// short one seen before.
func (d *eventDecoder) code(r *fields, f *field) string {
	if f.typ != protowire.BytesType || len(f.val) > maxCodeLen {
		return r.str(f)
	}
	if s, ok := d.codes[string(f.val)]; ok {
		return s // the same bytes as a string already checked
	}
	s := r.str(f)
	if r.err == nil && len(d.codes) < maxCodes {
		if d.codes == nil {
			d.codes = make(map[string]string)
		}
		d.codes[s] = s
	}
	return s
}

// decode reads b. The event is the decoder's own until the next decode.
func (d *eventDecoder) decode(b []byte) (*v1.CommerceEvent, error) {
	if err := d.lean(b); err != nil {
		ev := &v1.CommerceEvent{}
		return ev, proto.Unmarshal(b, ev)
	}
	return &d.ev, nil
}

// errLean sends a value to proto.Unmarshal; the caller never sees it.
var errLean = errors.New("not read by the lean decoder")

// maxLeanDepth bounds the nesting the lean reader checks; deeper values go
// to proto.Unmarshal and its own limit.
const maxLeanDepth = 64

// The messages whose unread fields are checked and skipped.
var (
	skipEvent       = skipperOf(&v1.CommerceEvent{})
	skipRecord      = skipperOf(&v1.RecordEvent{})
	skipOrder       = skipperOf(&v1.Order{})
	skipLine        = skipperOf(&v1.OrderLineItem{})
	skipTaxLine     = skipperOf(&v1.TaxLine{})
	skipRef         = skipperOf(&v1.Ref{})
	skipDiscount    = skipperOf(&v1.DiscountAllocation{})
	skipCharge      = skipperOf(&v1.ServiceCharge{})
	skipPayment     = skipperOf(&v1.Payment{})
	skipTransaction = skipperOf(&v1.Transaction{})
	skipSourceRef   = skipperOf(&v1.TransactionSourceRef{})
)

// skipper finds a message's fields by number without the descriptor's map
// lookup for each: most field numbers are small.
type skipper struct {
	md    protoreflect.MessageDescriptor
	small [32]protoreflect.FieldDescriptor
}

func skipperOf(m proto.Message) *skipper {
	return newSkipper(m.ProtoReflect().Descriptor())
}

func newSkipper(md protoreflect.MessageDescriptor) *skipper {
	s := &skipper{md: md}
	fs := md.Fields()
	for i := range fs.Len() {
		if fd := fs.Get(i); fd.Number() < protowire.Number(len(s.small)) {
			s.small[fd.Number()] = fd
		}
	}
	return s
}

func (s *skipper) field(num protowire.Number) protoreflect.FieldDescriptor {
	if num < protowire.Number(len(s.small)) {
		return s.small[num]
	}
	return s.md.Fields().ByNumber(num)
}

// field is one field of a message being read: its number and wire type,
// and the value's bytes for a length-delimited one or the number for a
// varint.
type field struct {
	num  protowire.Number
	typ  protowire.Type
	val  []byte
	uval uint64
}

// fields walks a message's fields. next returns false at the end; err says
// why it stopped early.
type fields struct {
	b   []byte
	err error
}

func (r *fields) next(f *field) bool {
	if len(r.b) == 0 || r.err != nil {
		return false
	}
	tag, n := consumeVarint(r.b)
	num, typ := protowire.DecodeTag(tag)
	if n < 0 || num < protowire.MinValidNumber || num > protowire.MaxValidNumber {
		r.err = errLean
		return false
	}
	r.b = r.b[n:]
	f.num, f.typ, f.val, f.uval = num, typ, nil, 0
	switch typ {
	case protowire.VarintType:
		f.uval, n = consumeVarint(r.b)
	case protowire.BytesType:
		var size uint64
		if size, n = consumeVarint(r.b); n > 0 {
			if size > uint64(len(r.b)-n) {
				n = -1
			} else {
				f.val = r.b[n : n+int(size)]
				n += int(size)
			}
		}
	default:
		n = protowire.ConsumeFieldValue(num, typ, r.b)
	}
	if n < 0 {
		r.err = errLean
		return false
	}
	r.b = r.b[n:]
	return true
}

// consumeVarint is protowire.ConsumeVarint with the one-byte case, which
// nearly every tag and length is, inlined.
func consumeVarint(b []byte) (uint64, int) {
	if len(b) > 0 && b[0] < 0x80 {
		return uint64(b[0]), 1
	}
	return protowire.ConsumeVarint(b)
}

// skip checks a field the lean reader does not build as proto.Unmarshal
// would check it, and leaves it out.
func (r *fields) skip(s *skipper, f *field, depth int) {
	if r.err == nil {
		r.err = checkField(s.field(f.num), f, depth)
	}
}

// str reads a string field; proto3 strings must be UTF-8.
func (r *fields) str(f *field) string {
	if f.typ != protowire.BytesType || !utf8.Valid(f.val) {
		r.err = errLean
		return ""
	}
	return string(f.val)
}

func (r *fields) varint(f *field) uint64 {
	if f.typ != protowire.VarintType {
		r.err = errLean
	}
	return f.uval
}

// msg returns a nested message's bytes; a message field met twice would be
// merged by proto, which the lean reader leaves to it.
func (r *fields) msg(f *field, seen bool) []byte {
	if f.typ != protowire.BytesType || seen {
		r.err = errLean
		return nil
	}
	return f.val
}

// checkField checks a skipped field as proto.Unmarshal checks it while
// building it: its wire type against its declared kind, UTF-8 for strings,
// nested messages throughout. Unknown fields need only be well formed.
func checkField(fd protoreflect.FieldDescriptor, f *field, depth int) error {
	if fd == nil {
		return nil // an unknown field: next has checked its form
	}
	switch fd.Kind() {
	case protoreflect.StringKind:
		if f.typ != protowire.BytesType || !utf8.Valid(f.val) {
			return errLean
		}
	case protoreflect.BytesKind:
		if f.typ != protowire.BytesType {
			return errLean
		}
	case protoreflect.MessageKind:
		if f.typ != protowire.BytesType {
			return errLean
		}
		return checkMessage(f.val, fd.Message(), depth+1)
	case protoreflect.BoolKind, protoreflect.EnumKind, protoreflect.Int32Kind, protoreflect.Int64Kind,
		protoreflect.Uint32Kind, protoreflect.Uint64Kind, protoreflect.Sint32Kind, protoreflect.Sint64Kind:
		if f.typ != protowire.VarintType {
			return errLean // packed or mistyped: proto decides
		}
	case protoreflect.Fixed32Kind, protoreflect.Sfixed32Kind, protoreflect.FloatKind:
		if f.typ != protowire.Fixed32Type {
			return errLean
		}
	case protoreflect.Fixed64Kind, protoreflect.Sfixed64Kind, protoreflect.DoubleKind:
		if f.typ != protowire.Fixed64Type {
			return errLean
		}
	default:
		return errLean // groups
	}
	return nil
}

// checkMessage checks a whole skipped message.
func checkMessage(b []byte, md protoreflect.MessageDescriptor, depth int) error {
	if depth > maxLeanDepth {
		return errLean
	}
	r := fields{b: b}
	var f field
	for r.next(&f) {
		if r.err == nil {
			r.err = checkField(md.Fields().ByNumber(f.num), &f, depth)
		}
	}
	return r.err
}

// The messages of a record that always come together are kept together: a
// oneof's wrapper and its message, a line and its product, a tax line and
// its component. None is ever copied.
type (
	recordBlock struct {
		body v1.CommerceEvent_Record
		re   v1.RecordEvent
	}
	orderBlock struct {
		body v1.RecordEvent_Order
		o    v1.Order
		loc  v1.Ref
	}
	paymentBlock struct {
		body v1.RecordEvent_Payment
		p    v1.Payment
	}
	transactionBlock struct {
		body v1.RecordEvent_Transaction
		t    v1.Transaction
		src  v1.TransactionSourceRef
	}
	lineBlock struct {
		line    v1.OrderLineItem
		product v1.Ref
	}
	taxBlock struct {
		tax       v1.TaxLine
		component v1.Ref
	}
)

// pooled returns the next unused element of a pool, growing it as needed.
func pooled[T any](pool *[]*T, n *int) *T {
	if *n == len(*pool) {
		*pool = append(*pool, new(T))
	}
	x := (*pool)[*n]
	*n++
	return x
}

// maxPooled bounds each pool kept between events: a record of many lines
// or taxes leaves its pools that large, and they are let go rather than
// kept for good.
const maxPooled = 256

// lean reads b into d.ev, building only what Apply reads of a record.
func (d *eventDecoder) lean(b []byte) error {
	d.ev.Reset()
	if len(d.lines) > maxPooled || len(d.taxes) > maxPooled || len(d.discounts) > maxPooled || len(d.charges) > maxPooled ||
		cap(d.settled) > maxPooled {
		*d = eventDecoder{codes: d.codes}
	}
	d.nLines, d.nTaxes, d.nDisc, d.nCharg = 0, 0, 0, 0
	d.linePtrs, d.taxPtrs, d.discPtrs, d.chargePtrs, d.settled = d.linePtrs[:0], d.taxPtrs[:0], d.discPtrs[:0], d.chargePtrs[:0], d.settled[:0]
	ev := &d.ev
	r := fields{b: b}
	var f field
	for r.next(&f) {
		switch f.num {
		case 1:
			ev.CompanyId = r.str(&f)
		case 2:
			ev.TenantId = d.code(&r, &f)
		case 3:
			ev.ReceivedUnixMs = int64(r.varint(&f))
		case 10:
			m := r.msg(&f, ev.Body != nil)
			if r.err == nil {
				blk := &d.record
				blk.re.Reset()
				blk.body.Record = &blk.re
				r.err = d.decodeRecord(m, &blk.re)
				ev.Body = &blk.body
			}
		case 11, 12, 13, 14:
			m := r.msg(&f, ev.Body != nil)
			if r.err == nil {
				r.err = decodeWhole(m, f.num, ev)
			}
		default:
			r.skip(skipEvent, &f, 0)
		}
	}
	return r.err
}

// decodeWhole decodes the rare bodies with proto, into new messages, after
// checking their nesting stays within what the lean reader vouches for.
func decodeWhole(b []byte, num protowire.Number, ev *v1.CommerceEvent) error {
	var m proto.Message
	switch num {
	case 11:
		x := &v1.CloseUpTo{}
		m, ev.Body = x, &v1.CommerceEvent_CloseUpTo{CloseUpTo: x}
	case 12:
		x := &v1.ClockTick{}
		m, ev.Body = x, &v1.CommerceEvent_ClockTick{ClockTick: x}
	case 13:
		x := &v1.WindowSettings{}
		m, ev.Body = x, &v1.CommerceEvent_Settings{Settings: x}
	default:
		x := &v1.ReferenceEvent{}
		m, ev.Body = x, &v1.CommerceEvent_Reference{Reference: x}
	}
	if err := checkMessage(b, m.ProtoReflect().Descriptor(), 1); err != nil {
		return err
	}
	if err := proto.Unmarshal(b, m); err != nil {
		return errLean
	}
	return nil
}

func (d *eventDecoder) decodeRecord(b []byte, re *v1.RecordEvent) error {
	r := fields{b: b}
	var f field
	for r.next(&f) {
		switch f.num {
		case 1:
			re.Kind = v1.RecordKind(int32(r.varint(&f)))
		case 2:
			re.Id = r.str(&f)
		case 3:
			re.TransactionType = d.code(&r, &f)
		case 4:
			re.Deleted = r.varint(&f) != 0
		case 5:
			re.EventUnixMs = int64(r.varint(&f))
		case 6:
			re.SourceModifiedUnixMs = int64(r.varint(&f))
		case 7:
			// Always new: the state keeps a record's content hash.
			if f.typ != protowire.BytesType {
				r.err = errLean
			} else if len(f.val) > 0 {
				re.ContentHash = append([]byte(nil), f.val...)
			} else {
				re.ContentHash = nil
			}
		case 10:
			m := r.msg(&f, re.Body != nil)
			if r.err == nil {
				blk := &d.order
				blk.o.Reset()
				blk.body.Order = &blk.o
				r.err = d.decodeOrder(m, blk)
				re.Body = &blk.body
			}
		case 11:
			m := r.msg(&f, re.Body != nil)
			if r.err == nil {
				blk := &d.pay
				blk.p.Reset()
				blk.body.Payment = &blk.p
				r.err = d.decodePayment(m, &blk.p)
				re.Body = &blk.body
			}
		case 12:
			m := r.msg(&f, re.Body != nil)
			if r.err == nil {
				blk := &d.txn
				blk.t.Reset()
				blk.body.Transaction = &blk.t
				r.err = d.decodeTransaction(m, blk)
				re.Body = &blk.body
			}
		default:
			r.skip(skipRecord, &f, 1)
		}
	}
	return r.err
}

const (
	depthOrder = 3 // CommerceEvent, RecordEvent, Order
	depthLine  = depthOrder + 1
)

func (d *eventDecoder) decodeOrder(b []byte, blk *orderBlock) error {
	o := &blk.o
	r := fields{b: b}
	var f field
	for r.next(&f) {
		switch f.num {
		case 4:
			o.Currency = d.code(&r, &f)
		case 9:
			o.TotalAmount = r.str(&f)
		case 11:
			o.TotalTaxAmount = r.str(&f)
		case 13:
			o.TotalGratuity = r.str(&f)
		case 14:
			m := r.msg(&f, false)
			if r.err == nil {
				l := pooled(&d.lines, &d.nLines)
				l.line.Reset()
				r.err = d.decodeLine(m, l)
				start := len(d.linePtrs) - len(o.OrderLineItems)
				d.linePtrs = append(d.linePtrs, &l.line)
				o.OrderLineItems = d.linePtrs[start:len(d.linePtrs):len(d.linePtrs)]
			}
		case 16:
			m := r.msg(&f, false)
			if r.err == nil {
				c := pooled(&d.charges, &d.nCharg)
				c.Reset()
				r.err = d.decodeCharge(m, c)
				start := len(d.chargePtrs) - len(o.ServiceCharges)
				d.chargePtrs = append(d.chargePtrs, c)
				o.ServiceCharges = d.chargePtrs[start:len(d.chargePtrs):len(d.chargePtrs)]
			}
		case 17:
			m := r.msg(&f, o.LocationRef != nil)
			if r.err == nil {
				blk.loc.Reset()
				o.LocationRef = &blk.loc
				r.err = d.decodeRef(m, o.LocationRef, depthLine, true)
			}
		default:
			r.skip(skipOrder, &f, depthOrder)
		}
	}
	return r.err
}

func (d *eventDecoder) decodeLine(b []byte, blk *lineBlock) error {
	l := &blk.line
	r := fields{b: b}
	var f field
	for r.next(&f) {
		switch f.num {
		case 3:
			l.TaxPercentage = d.code(&r, &f)
		case 4:
			l.TotalAmount = r.str(&f)
		case 5:
			l.TotalTaxAmount = r.str(&f)
		case 7:
			m := r.msg(&f, false)
			if r.err == nil {
				t := d.takeTax()
				r.err = d.decodeTaxLine(m, t)
				l.Taxes = d.appendTax(l.Taxes, t)
			}
		case 8:
			m := r.msg(&f, l.ProductRef != nil)
			if r.err == nil {
				blk.product.Reset()
				l.ProductRef = &blk.product
				r.err = d.decodeRef(m, l.ProductRef, depthLine+1, false)
			}
		case 10:
			m := r.msg(&f, false)
			if r.err == nil {
				x := pooled(&d.discounts, &d.nDisc)
				x.Reset()
				r.err = decodeDiscount(m, x)
				start := len(d.discPtrs) - len(l.DiscountAllocations)
				d.discPtrs = append(d.discPtrs, x)
				l.DiscountAllocations = d.discPtrs[start:len(d.discPtrs):len(d.discPtrs)]
			}
		default:
			r.skip(skipLine, &f, depthLine)
		}
	}
	return r.err
}

func (d *eventDecoder) takeTax() *taxBlock {
	t := pooled(&d.taxes, &d.nTaxes)
	t.tax.Reset()
	return t
}

// appendTax adds t to a list of tax lines cut from d.taxPtrs. A message's
// list is always the tail of d.taxPtrs while it is being read (a line's
// taxes are read before the next line's), so it grows in place.
func (d *eventDecoder) appendTax(list []*v1.TaxLine, t *taxBlock) []*v1.TaxLine {
	start := len(d.taxPtrs) - len(list)
	d.taxPtrs = append(d.taxPtrs, &t.tax)
	return d.taxPtrs[start:len(d.taxPtrs):len(d.taxPtrs)]
}

func (d *eventDecoder) decodeTaxLine(b []byte, blk *taxBlock) error {
	t := &blk.tax
	r := fields{b: b}
	var f field
	for r.next(&f) {
		switch f.num {
		case 1:
			m := r.msg(&f, t.TaxComponentRef != nil)
			if r.err == nil {
				blk.component.Reset()
				t.TaxComponentRef = &blk.component
				r.err = d.decodeRef(m, t.TaxComponentRef, depthLine+2, true)
			}
		case 3:
			t.TaxAmount = r.str(&f)
		default:
			r.skip(skipTaxLine, &f, depthLine+1)
		}
	}
	return r.err
}

// decodeRef reads a reference's id; its name is not read. Ids of locations
// and tax components recur and are shared; a company's products may be
// many, and are not.
func (d *eventDecoder) decodeRef(b []byte, ref *v1.Ref, depth int, shared bool) error {
	r := fields{b: b}
	var f field
	for r.next(&f) {
		if f.num == 1 && shared {
			ref.Id = d.code(&r, &f)
		} else if f.num == 1 {
			ref.Id = r.str(&f)
		} else {
			r.skip(skipRef, &f, depth)
		}
	}
	return r.err
}

func decodeDiscount(b []byte, x *v1.DiscountAllocation) error {
	r := fields{b: b}
	var f field
	for r.next(&f) {
		if f.num == 2 {
			x.TotalAmount = r.str(&f)
		} else {
			r.skip(skipDiscount, &f, depthLine+1)
		}
	}
	return r.err
}

func (d *eventDecoder) decodeCharge(b []byte, c *v1.ServiceCharge) error {
	r := fields{b: b}
	var f field
	for r.next(&f) {
		switch f.num {
		case 2:
			c.TotalAmount = r.str(&f)
		case 3:
			c.TaxPercentage = d.code(&r, &f)
		case 4:
			c.TaxAmount = r.str(&f)
		case 5:
			m := r.msg(&f, false)
			if r.err == nil {
				t := d.takeTax()
				r.err = d.decodeTaxLine(m, t)
				c.Taxes = d.appendTax(c.Taxes, t)
			}
		case 7:
			c.Type = d.code(&r, &f)
		default:
			r.skip(skipCharge, &f, depthLine)
		}
	}
	return r.err
}

func (d *eventDecoder) decodePayment(b []byte, p *v1.Payment) error {
	r := fields{b: b}
	var f field
	for r.next(&f) {
		switch f.num {
		case 2:
			p.Amount = r.str(&f)
		case 3:
			p.Currency = d.code(&r, &f)
		case 4:
			p.Type = d.code(&r, &f)
		case 5:
			p.Status = d.code(&r, &f)
		default:
			r.skip(skipPayment, &f, depthOrder)
		}
	}
	return r.err
}

func (d *eventDecoder) decodeTransaction(b []byte, blk *transactionBlock) error {
	t := &blk.t
	r := fields{b: b}
	var f field
	for r.next(&f) {
		switch f.num {
		case 1:
			t.Id = r.str(&f)
		case 2:
			t.TotalAmount = r.str(&f)
		case 3:
			t.Currency = d.code(&r, &f)
		case 4:
			t.Type = d.code(&r, &f)
		case 6:
			m := r.msg(&f, t.TransactionSourceRef != nil)
			if r.err == nil {
				blk.src.Reset()
				t.TransactionSourceRef = &blk.src
				r.err = d.decodeSourceRef(m, t.TransactionSourceRef)
			}
		case 11:
			d.settled = append(d.settled, r.str(&f))
			t.SettledTransactionIds = d.settled[:len(d.settled):len(d.settled)]
		default:
			r.skip(skipTransaction, &f, depthOrder)
		}
	}
	return r.err
}

func (d *eventDecoder) decodeSourceRef(b []byte, s *v1.TransactionSourceRef) error {
	r := fields{b: b}
	var f field
	for r.next(&f) {
		switch f.num {
		case 1:
			s.Id = r.str(&f)
		case 2:
			s.Type = d.code(&r, &f)
		default:
			r.skip(skipSourceRef, &f, depthLine)
		}
	}
	return r.err
}
