package records

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/structpb"

	commercesyncv1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// The plans must answer exactly as the reflective code does. The reference
// is that code itself, unchanged and still in the package: decodeTwoPass,
// validateItems with reflective{}, checkDatesReflect, isDeleteReflect and
// protobuf-go's own encoding, run on the same generated types.

// recordKind is a record type of the REST routes.
type recordKind struct {
	name  string
	typed func() proto.Message
}

var recordKinds = []recordKind{
	{"orders", func() proto.Message { return new(commercesyncv1.Order) }},
	{"payments", func() proto.Message { return new(commercesyncv1.Payment) }},
	{"transactions", func() proto.Message { return new(commercesyncv1.Transaction) }},
	{"locations", func() proto.Message { return new(commercesyncv1.Location) }},
	{"products", func() proto.Message { return new(commercesyncv1.Product) }},
	{"categories", func() proto.Message { return new(commercesyncv1.ProductCategory) }},
	{"taxComponents", func() proto.Message { return new(commercesyncv1.TaxComponent) }},
	{"paymentMethods", func() proto.Message { return new(commercesyncv1.PaymentMethod) }},
}

var newYork = func() *time.Location {
	l, err := time.LoadLocation("America/New_York")
	if err != nil {
		panic(err)
	}
	return l
}()

// sameAnswers runs body through both paths as the gateway does (decode,
// validate, check dates, encode) and reports the first difference.
func sameAnswers(body []byte, k recordKind, limit int, lim Limits) error {
	ti, terr := DecodeBatch(body, limit, k.typed)
	di, derr := decodeTwoPass(body, limit, k.typed)
	if fmt.Sprint(terr) != fmt.Sprint(derr) || (ti == nil) != (di == nil) || len(ti) != len(di) {
		return fmt.Errorf("DecodeBatch: %d items, %v; reflective: %d items, %v", len(ti), terr, len(di), derr)
	}
	if err := sameItems("decoded", ti, di); err != nil {
		return err
	}
	ValidateItemsWithin(ti, lim)
	validateItems(di, lim, reflective{})
	if err := sameItems("validated", ti, di); err != nil {
		return err
	}
	for i, it := range ti {
		if err := withinBound(it); err != nil {
			return fmt.Errorf("item %d: %w", i, err)
		}
	}
	for i := range ti {
		t, d := ti[i].Msg, di[i].Msg
		for _, loc := range []*time.Location{time.UTC, newYork} {
			if a, b := render(CheckDates(t, loc, fuzzNow, DefaultModifiedSkew)), render(checkDatesReflect(d, loc, fuzzNow, DefaultModifiedSkew)); !sameSet(a, b) {
				return fmt.Errorf("item %d: CheckDates in %s: %q; reflective: %q", i, loc, a, b)
			}
		}
		if err := sameEncoding(t, d); err != nil {
			return fmt.Errorf("item %d: %w", i, err)
		}
		if IsDelete(t) != isDeleteReflect(d) {
			return fmt.Errorf("item %d: IsDelete %v; reflective %v", i, IsDelete(t), isDeleteReflect(d))
		}
		if a, b := render(lim.CheckID(t)), render(lim.checkIDReflect(d)); !equalStrings(a, b) {
			return fmt.Errorf("item %d: CheckID %q; reflective %q", i, a, b)
		}
	}
	return nil
}

func sameItems[T proto.Message](stage string, ti, di []Item[T]) error {
	for i := range ti {
		t, d := ti[i], di[i]
		if t.Index != d.Index || t.ID != d.ID || t.Delete != d.Delete {
			return fmt.Errorf("%s item %d: index %d id %q delete %v; reflective: %d %q %v", stage, i, t.Index, t.ID, t.Delete, d.Index, d.ID, d.Delete)
		}
		if a, b := render(t.Errors), render(d.Errors); !equalStrings(a, b) {
			return fmt.Errorf("%s item %d: errors\n%q\nreflective:\n%q", stage, i, a, b)
		}
		if !proto.Equal(t.Msg, d.Msg) {
			return fmt.Errorf("%s item %d: message %v; reflective %v", stage, i, t.Msg, d.Msg)
		}
	}
	return nil
}

// sameEncoding checks Encode and Size of a planned message against
// protobuf-go's deterministic encoding of the reflective one.
func sameEncoding(t, d proto.Message) error {
	want, werr := proto.MarshalOptions{Deterministic: true}.Marshal(d)
	enc, err := Encode(nil, t)
	if fmt.Sprint(err) != fmt.Sprint(werr) {
		return fmt.Errorf("Encode error %v; proto.Marshal %v", err, werr)
	}
	if err != nil {
		return nil
	}
	if !bytes.Equal(enc.Bytes, want) {
		return fmt.Errorf("Encode\n%x\nproto.Marshal\n%x", enc.Bytes, want)
	}
	if !bytes.Equal(enc.Hash, ContentHash(d)) { // the hash as it was defined
		return fmt.Errorf("the hash of the encoding is not ContentHash")
	}
	if Size(t) != proto.Size(d) {
		return fmt.Errorf("Size %d; proto.Size %d", Size(t), proto.Size(d))
	}
	return nil
}

// sameSet compares the dates' answers without their order. The reflective
// walk lists them in protoreflect's Range order, which protobuf-go varies
// from one binary to another on purpose (internal/detrand swaps a pair of
// fields in some builds); the plans list them in field order, always.
func sameSet(a, b []string) bool {
	return equalStrings(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}

// withinBound checks the size bound the decoder gives an item, and the
// ratio its doc claims, against the record's real size.
func withinBound[T proto.Message](it Item[T]) error {
	if it.sizeBound == 0 {
		return nil
	}
	if n, jsonBytes := Size(it.Msg), (it.sizeBound-64)/11; n > it.sizeBound || 2*n > 11*jsonBytes+128 {
		return fmt.Errorf("%d bytes encoded from %d of JSON: more than 5.5 a byte (bound %d)", n, jsonBytes, it.sizeBound)
	}
	return nil
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// corpus is every body the package's tests and fuzz seeds send.
func corpus(t *testing.T) [][]byte {
	t.Helper()
	bodies := [][]byte{[]byte(codatOrder), []byte(codatPayment), []byte(codatTransactions), realisticOrders(20)}
	for _, s := range []string{
		`[{"id":"x"},{"totalAmmount":1e2,"orderLineItems":[{"taxes":[{"rate":"0.1"}]}]},5,null]`,
		`[{"supplementalData":{"content":{"a":[{"b":null}],"c":"\u00e9\ud83d\ude00"}}}]`,
		`[{"id":"a","id":"b","currency":"gbp","createdDate":"2022-03-13T02:30:00"}]`,
		`{"id":"x"}`, `[{"id":`, `[]`, ` [ ] `, `[{}]`, `[{"id":"x"}] x`, `[1,]`, `[{"id":"x",}]`,
		`[{"id":"l","name":"Shop","address":{"type":"Billing","country":"GB "}}]`,
		`[{"id":"p","name":"Latte","productCategoryRefs":[{"id":"c"}],"variants":[{"id":"v","vatPercentage":20,` +
			`"prices":[{"currency":"GBP","unitPrice":9.99}],"status":"Published","isTaxEnabled":true,"shippingRequired":"yes"}]}]`,
		`[{"id":"c","name":"Drinks","ancestorRefs":[{"id":"root"}],"hasChildren":false}]`,
		`[{"id":"t","name":"NYC","rate":0.08875,"isCompound":false}]`,
		`[{"id":"m","name":"Visa","status":"Active"}]`,
		`[{"id":"t1","totalAmount":100,"currency":"GBP","type":"Payout","createdDate":"2022-02-14T15:46:17Z",` +
			`"settledTransactionIds":["a","b",3," ",null,"\ud800"]},{"id":"t2","totalAmount":1,"currency":"GBP","type":"Payment",` +
			`"sourceCreatedDate":"2022-02-14T15:46:17Z","settledTransactionIds":["a"]},{"id":"t3","type":"Fee"}]`,
		`[{"id":"\u0069d","\u0069d":"y"},{"i\u0064":"z"},{"\ud800":1},{"a\"b":1}]`,
		`[{"supplementalData":{"content":{"a":1,"a":2}}},{"supplementalData":{"content":{"a":1e999}}},{"supplementalData":{"content":5}}]`,
		`[{"supplementalData":{"content":` + strings.Repeat(`{"a":`, 70) + `1` + strings.Repeat(`}`, 70) + `}}]`,
		`[{"orderLineItems":[` + strings.Repeat(`{"quantity":1},`, 1200) + `{}]}]`,
	} {
		bodies = append(bodies, []byte(s))
	}
	dirs, err := filepath.Glob("testdata/fuzz/*/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range dirs {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for line := range strings.SplitSeq(string(b), "\n") {
			if lit, ok := strings.CutPrefix(line, "[]byte("); ok {
				s, err := strconv.Unquote(strings.TrimSuffix(lit, ")"))
				if err != nil {
					t.Fatalf("%s: %v", file, err)
				}
				bodies = append(bodies, []byte(s))
			}
		}
	}
	return bodies
}

func TestRESTFastMatchesReflectOnCorpus(t *testing.T) {
	for _, body := range corpus(t) {
		for _, k := range recordKinds {
			for _, lim := range []Limits{DefaultLimits(), tightLimits.WithDefaults()} {
				for _, limit := range []int{DefaultMaxBatch, 2} {
					if err := sameAnswers(body, k, limit, lim); err != nil {
						t.Fatalf("%s, %d a push, %.300q:\n%v", k.name, limit, body, err)
					}
				}
			}
		}
	}
}

// Values and keys the mutations put into bodies: every kind of JSON value,
// and the texts each rule has an answer for.
var (
	edgeValues = []string{
		`null`, `true`, `false`, `0`, `-0`, `1e2`, `1E-2`, `12345678901234567890.1234`, `1e999`, `0.00001`, `-1.49`,
		`"0.10"`, `"12,50"`, `"1.2.3"`, `" 5 "`, `"+.5"`, `"+5"`, `"1e5"`, `"0000000000000000000000000000000000000000000000000000000000000000000012"`,
		`"1.0000000000000"`, `"999999999999.5"`, `"1000000000000"`, `""`, `"  "`, `"GB "`, `"gbp"`, `"XXY"`, `"GBP"`, `"ab"`,
		`"card"`, `"Card"`, `"Payout"`, `"FailedPayout"`, `"Order"`, `"Published"`, `"Active"`, `"Billing"`, `"shipping"`,
		`"2022-02-14T15:46:18Z"`, `"2022-03-13T02:30:00"`, `"2022-11-06T01:30:00"`, `"1969-12-31T23:59:59Z"`, `"1970-01-01T00:00:00"`,
		`"0001-01-01T00:00:00Z"`, `"9999-01-01T00:00:00Z"`, `"2026-03-12T16:06:00Z"`, `"2026-03-12T16:04:00Z"`, `"2026-03-12T12:04:00"`,
		`"2022-02-14 15:46:18"`, `"2022-02-14"`, `"2022-02-30T00:00:00Z"`, `"2022-02-14T15:46:18.1234567891Z"`, `"2022-02-14T15:46:18+24:00"`,
		`"S-\ud800"`, `"\ud83d\ude00"`, `"a\u0000b"`, `" id"`, `"id "`, `"\u00e9"`, `"\/"`, `"a\tb"`, `"x` + "\xff" + `"`,
		`"` + strings.Repeat("x", 300) + `"`, `"` + strings.Repeat("é", 1100) + `"`,
		`{}`, `[]`, `[null]`, `[1]`, `[{}]`, `[""]`, `["a"," "]`, `{"id":"x"}`, `{"id":" "}`, `{"a":{"b":[1,{"c":null}]}}`,
		`[{"id":"x","name":"n"},{"id":"y"}]`, strings.Repeat(`[`, 70) + strings.Repeat(`]`, 70),
	}
	edgeKeys = []string{
		`"id"`, `"colour"`, `"totalAmmount"`, `"total_amount"`, `"\u0069d"`, `"i` + "\xff" + `d"`, `"\ud800"`, `"name"`,
		`"orderLineItems"`, `"taxes"`, `"taxComponentRef"`, `"content"`, `"supplementalData"`, `"settledTransactionIds"`,
		`"variants"`, `"prices"`, `"address"`, `"country"`, `"type"`, `"status"`, `"createdDate"`, `"sourceCreatedDate"`,
		`"closedDate"`, `"modifiedDate"`, `"sourceModifiedDate"`, `"payments"`, `"serviceCharges"`, `"ancestorRefs"`,
		`"productCategoryRefs"`, `"currency"`, `"amount"`, `"totalAmount"`, `"rate"`, `"isGiftCard"`, `"transactionSourceRef"`,
	}
)

// mutate changes body in one of a few ways: a value replaced, a member
// added or repeated, a value wrapped, or (to reach the syntax errors) a
// byte changed or the body cut short.
func mutate(r *rand.Rand, body []byte) []byte {
	spans := valueSpans(body)
	out := append([]byte(nil), body...)
	switch op := r.IntN(10); {
	case op < 4 && len(spans) > 0:
		s := spans[r.IntN(len(spans))]
		return splice(out, s[0], s[1], edgeValues[r.IntN(len(edgeValues))])
	case op < 6:
		if i := indexOfNth(out, '{', r); i >= 0 {
			member := edgeKeys[r.IntN(len(edgeKeys))] + ":" + edgeValues[r.IntN(len(edgeValues))]
			if i+1 < len(out) && out[i+1] != '}' {
				member += ","
			}
			return splice(out, i+1, i+1, member)
		}
	case op < 7 && len(spans) > 0:
		s := spans[r.IntN(len(spans))]
		wrap := [][2]string{{"[", "]"}, {`{"a":`, "}"}, {"[", ",null]"}}[r.IntN(3)]
		return splice(out, s[0], s[1], wrap[0]+string(out[s[0]:s[1]])+wrap[1])
	case op < 8:
		if i := indexOfNth(out, '{', r); i >= 0 && len(spans) > 0 {
			// repeat the member at a value span inside this object, if any
			for _, s := range spans {
				if s[0] > i {
					if k := bytes.LastIndexByte(out[:s[0]], ','); k > i {
						return splice(out, i+1, i+1, string(out[k+1:s[1]])+",")
					}
					break
				}
			}
		}
	case op < 9 && len(out) > 0:
		i := r.IntN(len(out))
		const noise = " \"{}[],:\\ux0e-\xff"
		return splice(out, i, i+r.IntN(2), string([]byte{noise[r.IntN(len(noise))]}))
	default:
		if len(out) > 0 {
			return out[:r.IntN(len(out))]
		}
	}
	return out
}

func splice(b []byte, from, to int, s string) []byte {
	return append(append(append([]byte(nil), b[:from]...), s...), b[to:]...)
}

func indexOfNth(b []byte, c byte, r *rand.Rand) int {
	n := bytes.Count(b, []byte{c})
	if n == 0 {
		return -1
	}
	k := r.IntN(n)
	i := -1
	for range k + 1 {
		i += 1 + bytes.IndexByte(b[i+1:], c)
	}
	return i
}

// valueSpans finds the values of members (after a colon) of a valid body.
func valueSpans(body []byte) [][2]int {
	var spans [][2]int
	for i := 0; i < len(body); i++ {
		if body[i] != ':' {
			continue
		}
		s := scanner{data: body, pos: i + 1}
		s.ws()
		start := s.pos
		if s.skip() == nil {
			spans = append(spans, [2]int{start, s.pos})
		}
	}
	return spans
}

func TestRESTFastMatchesReflectOnMutations(t *testing.T) {
	rounds := 1000
	if os.Getenv("COMMERCESYNC_LONG") != "" {
		rounds = 5000
	}
	seeds := corpus(t)
	r := rand.New(rand.NewPCG(10, 2026))
	for round := range rounds {
		body := seeds[r.IntN(len(seeds))]
		for range 1 + r.IntN(4) {
			body = mutate(r, body)
		}
		k := recordKinds[r.IntN(len(recordKinds))]
		lim := DefaultLimits()
		if r.IntN(2) == 0 {
			lim = tightLimits.WithDefaults()
		}
		if err := sameAnswers(body, k, 8, lim); err != nil {
			t.Fatalf("round %d, %s, %q:\n%v", round, k.name, body, err)
		}
	}
}

// FuzzRESTFastMatchesReflect holds the plans to the reflective answers for
// whatever the fuzzer sends, as each route kind.
func FuzzRESTFastMatchesReflect(f *testing.F) {
	f.Add(byte(0), []byte(codatOrder))
	f.Add(byte(1), []byte(codatPayment))
	f.Add(byte(2), []byte(codatTransactions))
	f.Add(byte(4), []byte(`[{"id":"p","name":"Latte","variants":[{"id":"v","prices":[{"currency":"GBP","unitPrice":9.99}]}]}]`))
	f.Fuzz(func(t *testing.T, kind byte, body []byte) {
		k := recordKinds[int(kind)%len(recordKinds)]
		for _, lim := range []Limits{DefaultLimits(), tightLimits.WithDefaults()} {
			if err := sameAnswers(body, k, fuzzBatch, lim); err != nil {
				t.Fatalf("%s: %v", k.name, err)
			}
		}
	})
}

// Messages built in Go, as gRPC delivers them, reach the plans too: the
// same answers for random contents, unknown fields and nil list elements.
func TestRESTFastMatchesReflectOnMessages(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 2026))
	for round := range 400 {
		k := recordKinds[round%len(recordKinds)]
		m := k.typed()
		fill(r, m.ProtoReflect(), 0)
		if o, ok := m.(*commercesyncv1.Order); ok && round%3 == 0 {
			o.Payments = append(o.Payments, nil) // which only Go code can make
		}
		if err := sameEncoding(m, m); err != nil {
			t.Fatalf("round %d %s: %v\n%v", round, k.name, err, m)
		}
		for _, lim := range []Limits{DefaultLimits(), tightLimits.WithDefaults()} {
			if a, b := render(lim.Validate(m)), render(lim.validateReflect(m)); !equalStrings(a, b) {
				t.Fatalf("round %d %s: Validate\n%q\nreflective:\n%q", round, k.name, a, b)
			}
		}
		if a, b := render(CheckDates(m, newYork, fuzzNow, DefaultModifiedSkew)), render(checkDatesReflect(m, newYork, fuzzNow, DefaultModifiedSkew)); !sameSet(a, b) {
			t.Fatalf("round %d %s: CheckDates %q; reflective %q", round, k.name, a, b)
		}
		if IsDelete(m) != isDeleteReflect(m) {
			t.Fatalf("round %d %s: IsDelete differs", round, k.name)
		}
		d := proto.Clone(m)
		Normalize(m)
		normalizeReflect(d)
		if !proto.Equal(m, d) {
			t.Fatalf("round %d %s: Normalize differs", round, k.name)
		}
	}
}

// fill sets a random subset of m's fields, at any depth, to values the rules
// have answers for, and sometimes adds an unknown field.
func fill(r *rand.Rand, m protoreflect.Message, depth int) {
	texts := []string{"", " ", "x", "GB ", "GBP", "gbp", "12.50", "1,5", "Card", "Payout", "Order", "2022-02-14T15:46:18Z",
		"2022-03-13T02:30:00", "1969-01-01T00:00:00Z", "9999-01-01T00:00:00Z", " id", "a\x01", strings.Repeat("y", 300)}
	fields := m.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if r.IntN(3) == 0 {
			continue
		}
		switch {
		case fd.IsList() && fd.Message() != nil:
			l := m.Mutable(fd).List()
			for range r.IntN(4) {
				e := l.NewElement()
				if depth < 4 {
					fill(r, e.Message(), depth+1)
				}
				l.Append(e)
			}
		case fd.IsList():
			l := m.Mutable(fd).List()
			for range r.IntN(5) {
				l.Append(protoreflect.ValueOfString(texts[r.IntN(len(texts))]))
			}
		case fd.Message() != nil && fd.Message().FullName() == "google.protobuf.Struct":
			s, _ := structpb.NewStruct(map[string]any{"b": 1.5, "a": "x", "c": []any{true, nil}, "d": map[string]any{"z": "1", "y": 2.0}})
			m.Set(fd, protoreflect.ValueOfMessage(s.ProtoReflect()))
		case fd.Message() != nil:
			if depth < 4 {
				fill(r, m.Mutable(fd).Message(), depth+1)
			}
		case fd.Kind() == protoreflect.BoolKind:
			m.Set(fd, protoreflect.ValueOfBool(r.IntN(2) == 0))
		default:
			m.Set(fd, protoreflect.ValueOfString(texts[r.IntN(len(texts))]))
		}
	}
	if r.IntN(6) == 0 {
		m.SetUnknown(protowire.AppendString(protowire.AppendTag(nil, 99, protowire.BytesType), "from a newer schema"))
	}
}

// Every accessor reaches the field its plan names: a message with one
// field set has exactly that field populated in its plan.
func TestRESTFastPlansReachTheirFields(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	check := func(m proto.Message) {
		fields := m.ProtoReflect().Descriptor().Fields()
		for i := range fields.Len() {
			fd := fields.Get(i)
			one := m.ProtoReflect().New()
			switch {
			case fd.IsList() && fd.Message() != nil:
				l := one.Mutable(fd).List()
				l.Append(l.NewElement())
			case fd.IsList():
				one.Mutable(fd).List().Append(protoreflect.ValueOfString("x"))
			case fd.Message() != nil:
				one.Mutable(fd)
			case fd.Kind() == protoreflect.BoolKind:
				one.Set(fd, protoreflect.ValueOfBool(true))
			default:
				one.Set(fd, protoreflect.ValueOfString(fmt.Sprint("v", r.IntN(9))))
			}
			size := Size(one.Interface())
			if size != proto.Size(one.Interface()) || size == 0 {
				t.Errorf("%s: Size %d with only %s set; proto.Size %d", fields.Get(i).FullName(), size, fd.Name(), proto.Size(one.Interface()))
			}
			if fd.Name() == "id" && !IsDelete(one.Interface()) || fd.Name() != "id" && IsDelete(one.Interface()) {
				t.Errorf("%s: IsDelete %v with only %s set", m.ProtoReflect().Descriptor().FullName(), IsDelete(one.Interface()), fd.Name())
			}
		}
	}
	for _, m := range []proto.Message{
		&commercesyncv1.Ref{}, &commercesyncv1.TransactionSourceRef{}, &commercesyncv1.SupplementalData{}, &commercesyncv1.TaxLine{},
		&commercesyncv1.DiscountAllocation{}, &commercesyncv1.OrderLineItem{}, &commercesyncv1.PaymentRef{}, &commercesyncv1.ServiceCharge{},
		&commercesyncv1.Order{}, &commercesyncv1.Payment{}, &commercesyncv1.Transaction{}, &commercesyncv1.Address{},
		&commercesyncv1.Location{}, &commercesyncv1.ProductPrice{}, &commercesyncv1.ProductVariant{}, &commercesyncv1.Product{},
		&commercesyncv1.ProductCategory{}, &commercesyncv1.TaxComponent{}, &commercesyncv1.PaymentMethod{},
	} {
		if planOf(m) == nil {
			t.Errorf("%T has no plan", m)
		}
		check(m)
	}
	if planOf((*commercesyncv1.Order)(nil)) != nil || planOf(&structpb.Struct{}) != nil {
		t.Error("a nil record or a message of another file has a plan")
	}
}

// A valid body of records is decoded in one pass; a body that is not valid
// JSON is answered by the two-pass decoder, which names the syntax error.
func TestRESTFastDecodesValidBodiesInOnePass(t *testing.T) {
	for _, body := range [][]byte{[]byte(codatOrder), realisticOrders(10), []byte(`[]`), []byte(` [{"id":"x"} , 5 ] `)} {
		if _, _, ok := decodeFast(body, 100, newOrder); !ok {
			t.Errorf("%.60q was not decoded in one pass", body)
		}
	}
	for _, body := range []string{`[{"id":"a"},{"id":`, `[{"id":"a\x"}]`, `[{"id":"a"}] x`, `[{"id":01}]`, `[{"a":[1,}]`, `[{"a" 1}]`,
		`[{"id":"a","supplementalData":{"content":{"a":[1 2]}}}]`, `[{"colour":{"a" 1}}]`, "[{\"id\":\"a\x01\"}]", `[{"id":"a\u12"}]`, `{"id":"x"}`} {
		if _, _, ok := decodeFast([]byte(body), 100, newOrder); ok && !json.Valid([]byte(body)) {
			t.Errorf("%q: one pass took a body that is not JSON", body)
		}
		_, fast := DecodeBatch([]byte(body), 100, newOrder)
		_, slow := decodeTwoPass([]byte(body), 100, newOrder)
		if fast == nil || fast.Error() != slow.Error() {
			t.Errorf("%q: %v; two-pass: %v", body, fast, slow)
		}
	}
}

// Free-form JSON is sized and encoded as protobuf-go does it, whatever it
// holds: nesting, empty keys and containers, every kind of value, and the
// shapes only Go code makes (nil values, a value of no kind), which go to
// protobuf-go itself.
func TestRESTFastFreeFormMatchesProto(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 8))
	var value func(depth int) *structpb.Value
	object := func(depth int) *structpb.Struct {
		s := &structpb.Struct{Fields: map[string]*structpb.Value{}}
		for range r.IntN(5) {
			s.Fields[[]string{"", "a", "b", "é", "zz", "a\u0000", strings.Repeat("k", 200)}[r.IntN(7)]] = value(depth + 1)
		}
		return s
	}
	value = func(depth int) *structpb.Value {
		switch n := r.IntN(9); {
		case n == 0:
			return structpb.NewNullValue()
		case n == 1:
			return structpb.NewNumberValue([]float64{0, -0.0, 1.5, -1e300, 1e-300}[r.IntN(5)])
		case n == 2:
			return structpb.NewStringValue([]string{"", "x", "\u00e9\U0001F600", strings.Repeat("s", 130)}[r.IntN(4)])
		case n == 3:
			return structpb.NewBoolValue(r.IntN(2) == 0)
		case n == 4 && depth < 5:
			return structpb.NewStructValue(object(depth))
		case n == 5 && depth < 5:
			l := &structpb.ListValue{}
			for range r.IntN(4) {
				l.Values = append(l.Values, value(depth+1))
			}
			return structpb.NewListValue(l)
		case n == 6:
			return &structpb.Value{} // no kind
		case n == 7 && r.IntN(4) == 0:
			return nil
		case n == 8 && r.IntN(4) == 0:
			return &structpb.Value{Kind: &structpb.Value_StructValue{}}
		}
		return structpb.NewStringValue("leaf")
	}
	for round := range 2000 {
		o := &commercesyncv1.Order{Id: "o", SupplementalData: &commercesyncv1.SupplementalData{Content: object(0)}}
		if round%50 == 0 {
			o.SupplementalData.Content.Fields["bad"] = structpb.NewStringValue("\xff")
		}
		if err := sameEncoding(o, o); err != nil {
			t.Fatalf("round %d: %v\n%v", round, err, o)
		}
	}
}

// Dates are placed by arithmetic as time.Date places them, from the first
// day of year 1 to the last of 9999, with any offset and fraction.
func TestRESTFastStampInstantsMatchTime(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	for range 200000 {
		p := stamp{year: 1 + r.IntN(9999), month: 1 + r.IntN(12), hour: r.IntN(24), min: r.IntN(60), sec: r.IntN(60),
			nsec: r.IntN(1e9), zoned: true, offset: (r.IntN(47*60) - 23*60) * 60}
		p.day = 1 + r.IntN(daysIn(p.year, p.month))
		want := time.Date(p.year, time.Month(p.month), p.day, p.hour, p.min, p.sec, p.nsec, time.FixedZone("", p.offset))
		if sec, nsec := p.unix(); sec != want.Unix() || nsec != want.Nanosecond() {
			t.Fatalf("%+v: %d.%09d, time.Date %d.%09d", p, sec, nsec, want.Unix(), want.Nanosecond())
		}
		if want.AddDate(0, 0, 1-p.day).AddDate(0, 1, -1).Day() != daysIn(p.year, p.month) && p.offset == 0 {
			t.Fatalf("%d-%02d has %d days by daysIn", p.year, p.month, daysIn(p.year, p.month))
		}
	}
	for year := 1; year <= 9999; year++ {
		for month := 1; month <= 12; month++ {
			if want := time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day(); daysIn(year, month) != want {
				t.Fatalf("%d-%02d: daysIn %d, time.Date %d", year, month, daysIn(year, month), want)
			}
		}
	}
}

// The densest JSON for its encoding, numbers in free-form lists, stays
// within the bound the decoder gives for skipping the size check.
func TestRESTFastSizeBoundHoldsForDenseJSON(t *testing.T) {
	for _, content := range []string{
		`{"a":[` + strings.Repeat(`0,`, 20000) + `0]}`,
		`{"a":[` + strings.Repeat(`[0,0],`, 5000) + `0]}`,
		`{"a":` + strings.Repeat(`[`, 60) + `0` + strings.Repeat(`]`, 60) + `}`,
		`{` + strings.Repeat(`"":0,`, 1) + `"b":[true,false,null,{},[],"",0]}`,
		`{"a":[` + strings.Repeat(`{},`, 9000) + `{}]}`,
	} {
		body := `[{"id":"x","supplementalData":{"content":` + content + `}}]`
		items, err := DecodeBatch([]byte(body), 1, newOrder)
		if err != nil || len(items[0].Errors) > 0 {
			t.Fatalf("%.80s: %v %v", content, err, items[0].Errors)
		}
		if err := withinBound(items[0]); err != nil {
			t.Errorf("%.80s: %v", content, err)
		}
	}
}
