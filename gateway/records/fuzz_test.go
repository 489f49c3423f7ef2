package records

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	commercesyncv1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// The fuzz targets decode a REST body of each route kind and check what the
// gateway relies on, under the default limits and under limits small enough
// for the fuzzer's inputs to cross them:
//   - nothing panics, and each record gets its own answer;
//   - a rejected record's errors name a field, as valid UTF-8 that stays
//     small whatever was sent;
//   - an accepted record encodes within the limits (size, every string,
//     every list, id rules), and reads back the same from its protojson;
//   - a delete carries a valid id and nothing else.
// Each target has a seed corpus in testdata/fuzz/<target>/ built from the
// reported findings (surrogate ids, dates in 9999 and 0001, an oversized id
// and orderNumber, control characters).

// tightLimits are limits a fuzzed input of a few hundred bytes can reach.
var tightLimits = Limits{IDBytes: 12, CodeBytes: 16, NameBytes: 20, TextBytes: 40, LineItems: 3, TaxesPerLine: 2,
	DiscountsPerLine: 2, ServiceCharges: 2, Payments: 2, SettledTransactions: 3, Variants: 2, PricesPerVariant: 2,
	CategoryRefs: 2, RecordBytes: 700}

const fuzzBatch = 8

func FuzzDecodeOrders(f *testing.F) {
	for _, seed := range []string{
		codatOrder,
		`[{"id":"x"},{"totalAmmount":1e2,"orderLineItems":[{"taxes":[{"rate":"0.1"}]}]},5,null]`,
		`[{"supplementalData":{"content":{"a":[{"b":null}],"c":"\u00e9\ud83d\ude00"}}}]`,
		`[{"id":"a","id":"b","currency":"gbp","createdDate":"2022-03-13T02:30:00"}]`,
		`{"id":"x"}`,
		`[{"id":`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) { fuzzBody(t, body, newOrder) })
}

func FuzzDecodePayments(f *testing.F) {
	f.Add([]byte(codatPayment))
	f.Fuzz(func(t *testing.T, body []byte) {
		fuzzBody(t, body, func() *commercesyncv1.Payment { return new(commercesyncv1.Payment) })
	})
}

func FuzzDecodeTransactions(f *testing.F) {
	f.Add([]byte(codatTransactions))
	f.Fuzz(func(t *testing.T, body []byte) {
		fuzzBody(t, body, func() *commercesyncv1.Transaction { return new(commercesyncv1.Transaction) })
	})
}

// FuzzDecodeReference covers the five reference data routes, kind picking
// which.
func FuzzDecodeReference(f *testing.F) {
	f.Add(byte(0), []byte(`[{"id":"l","name":"Shop","address":{"type":"Billing","country":"GB "}}]`))
	f.Add(byte(1), []byte(`[{"id":"p","name":"Latte","variants":[{"id":"v","prices":[{"currency":"GBP","unitPrice":9.99}]}]}]`))
	f.Fuzz(func(t *testing.T, kind byte, body []byte) {
		switch kind % 5 {
		case 0:
			fuzzBody(t, body, func() *commercesyncv1.Location { return new(commercesyncv1.Location) })
		case 1:
			fuzzBody(t, body, func() *commercesyncv1.Product { return new(commercesyncv1.Product) })
		case 2:
			fuzzBody(t, body, func() *commercesyncv1.ProductCategory { return new(commercesyncv1.ProductCategory) })
		case 3:
			fuzzBody(t, body, func() *commercesyncv1.TaxComponent { return new(commercesyncv1.TaxComponent) })
		default:
			fuzzBody(t, body, func() *commercesyncv1.PaymentMethod { return new(commercesyncv1.PaymentMethod) })
		}
	})
}

func fuzzBody[T proto.Message](t *testing.T, body []byte, newMsg func() T) {
	for _, lim := range []Limits{DefaultLimits(), tightLimits.WithDefaults()} {
		items, err := DecodeBatch(body, fuzzBatch, newMsg)
		if err != nil {
			if items != nil {
				t.Fatal("items with a whole-body error")
			}
			if !utf8.ValidString(err.Error()) || len(err.Error()) > 1000 {
				t.Fatalf("whole-body error of %d bytes, or not UTF-8: %.200q", len(err.Error()), err.Error())
			}
			return
		}
		var elems []json.RawMessage
		if err := json.Unmarshal(body, &elems); err != nil || len(elems) != len(items) {
			t.Fatalf("DecodeBatch took a body encoding/json reads as %d elements (%v), into %d items", len(elems), err, len(items))
		}
		ValidateItemsWithin(items, lim)
		for i := range items { // as the gateway does on arrival
			if it := &items[i]; len(it.Errors) == 0 && !it.Delete {
				it.Errors = CheckDates(it.Msg, time.UTC, fuzzNow, DefaultModifiedSkew)
			}
		}
		for i, it := range items {
			if it.Index != i {
				t.Fatalf("item %d has index %d", i, it.Index)
			}
			if !utf8.ValidString(it.ID) || len(it.ID) > lim.IDBytes {
				t.Fatalf("item %d: answered with an id of %d bytes, or not UTF-8: %.80q", i, len(it.ID), it.ID)
			}
			switch {
			case it.Delete:
				checkDelete(t, it.Msg, it.Errors, lim)
			case len(it.Errors) > 0:
				checkRejected(t, elems[i], it.Errors)
			default:
				checkText(t, elems[i])
				checkAccepted(t, it.Msg, lim, newMsg)
			}
		}
	}
}

func checkDelete(t *testing.T, m proto.Message, errs []*commercesyncv1.FieldError, lim Limits) {
	t.Helper()
	if len(errs) > 0 || !IsDelete(m) {
		t.Fatalf("a delete with errors %v or other fields", render(errs))
	}
	id := m.ProtoReflect().Get(m.ProtoReflect().Descriptor().Fields().ByName("id")).String()
	checkID(t, "id", id, lim)
}

func checkRejected(t *testing.T, elem json.RawMessage, errs []*commercesyncv1.FieldError) {
	t.Helper()
	if len(errs) > 2*maxErrors+2 {
		t.Fatalf("%d errors", len(errs))
	}
	named := false
	for _, e := range errs {
		if !utf8.ValidString(e.Field) || !utf8.ValidString(e.Message) {
			t.Fatalf("an error that is not UTF-8: %q: %q", e.Field, e.Message)
		}
		if len(e.Field) > 1000 || len(e.Message) > 1000 {
			t.Fatalf("an error of %d+%d bytes: %.100q", len(e.Field), len(e.Message), e.Field)
		}
		named = named || e.Field != ""
	}
	if isObject := strings.HasPrefix(strings.TrimLeft(string(elem), " \t\r\n"), "{"); isObject && !named {
		t.Fatalf("a rejected record whose errors name no field: %v", render(errs))
	}
}

// listLimits is the limit of each list by JSON name, written out apart from
// the code under test.
func listLimits(l Limits) map[string]int {
	return map[string]int{"orderLineItems": l.LineItems, "taxes": l.TaxesPerLine, "discountAllocations": l.DiscountsPerLine,
		"serviceCharges": l.ServiceCharges, "payments": l.Payments, "settledTransactionIds": l.SettledTransactions,
		"variants": l.Variants, "prices": l.PricesPerVariant, "productCategoryRefs": l.CategoryRefs, "ancestorRefs": l.CategoryRefs}
}

func checkAccepted[T proto.Message](t *testing.T, m T, lim Limits, newMsg func() T) {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatalf("an accepted record does not encode: %v", err)
	}
	if len(b) > lim.RecordBytes {
		t.Fatalf("an accepted record is %d bytes encoded, past %d", len(b), lim.RecordBytes)
	}
	lists := listLimits(lim)
	longest := max(lim.IDBytes, lim.CodeBytes, lim.NameBytes, lim.TextBytes, 64)
	var walk func(r protoreflect.Message)
	walk = func(r protoreflect.Message) {
		r.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			name := fd.JSONName()
			if fd.IsList() {
				if n, ok := lists[name]; !ok || v.List().Len() > n {
					t.Fatalf("accepted %s of %d elements (limit %d, known %v)", name, v.List().Len(), n, ok)
				}
			}
			switch {
			case fd.Message() != nil && isStructType(fd.Message()):
			case fd.IsList() && fd.Message() != nil:
				for i := range v.List().Len() {
					walk(v.List().Get(i).Message())
				}
			case fd.Message() != nil:
				walk(v.Message())
			case fd.IsList() && name == "settledTransactionIds":
				for i := range v.List().Len() {
					checkID(t, name, v.List().Get(i).String(), lim)
				}
			case fd.Kind() == protoreflect.StringKind && name == "id":
				checkID(t, name, v.String(), lim)
			case fd.Kind() == protoreflect.StringKind && len(v.String()) > longest:
				t.Fatalf("accepted %s of %d bytes", name, len(v.String()))
			}
			return true
		})
	}
	walk(m.ProtoReflect())

	// What was accepted reads back the same from its protojson, the form
	// other tools would send it in.
	js, err := protojson.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	again, err := DecodeBatch([]byte("["+string(js)+"]"), 1, newMsg)
	if err != nil {
		t.Fatalf("protojson of an accepted record: %v: %s", err, js)
	}
	ValidateItemsWithin(again, lim)
	if len(again[0].Errors) > 0 || !proto.Equal(again[0].Msg, m) {
		t.Fatalf("an accepted record reads back from %s as %v, %v", js, again[0].Msg, render(again[0].Errors))
	}

	// Its dates lie between 1970 and the arrival (plus the skew, for
	// modification dates).
	var dates func(r protoreflect.Message)
	dates = func(r protoreflect.Message) {
		r.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			switch {
			case fd.Message() != nil && isStructType(fd.Message()):
			case fd.IsList() && fd.Message() != nil:
				for i := range v.List().Len() {
					dates(v.List().Get(i).Message())
				}
			case fd.Message() != nil:
				dates(v.Message())
			case fd.Kind() == protoreflect.StringKind && strings.HasSuffix(fd.JSONName(), "Date"):
				at, err := ParseTime(v.String(), time.UTC)
				modified := fd.JSONName() == "modifiedDate" || fd.JSONName() == "sourceModifiedDate"
				if err != nil || at.UTC().Year() < 1970 || modified && at.After(fuzzNow.Add(DefaultModifiedSkew)) {
					t.Fatalf("accepted %s %q (%v)", fd.JSONName(), v.String(), err)
				}
			}
			return true
		})
	}
	dates(m.ProtoReflect())
}

var fuzzNow = time.Date(2026, 3, 12, 16, 0, 0, 0, time.UTC)

// checkText scans an accepted element's JSON text, apart from the decoder:
// it must be UTF-8, and every escaped UTF-16 surrogate must be half of a
// pair, since the decoder must refuse what it cannot keep exactly.
func checkText(t *testing.T, elem []byte) {
	t.Helper()
	if !utf8.Valid(elem) {
		t.Fatalf("accepted an element that is not UTF-8: %q", elem)
	}
	code := func(i int) int { // the \uXXXX escape at i, or -1
		if i+6 > len(elem) || elem[i] != '\\' || elem[i+1] != 'u' {
			return -1
		}
		var n int
		if _, err := fmt.Sscanf(string(elem[i+2:i+6]), "%04x", &n); err != nil {
			return -1
		}
		return n
	}
	for i := 0; i < len(elem); i++ {
		if elem[i] != '\\' {
			continue
		}
		switch c := code(i); {
		case c >= 0xd800 && c <= 0xdbff:
			if lo := code(i + 6); lo < 0xdc00 || lo > 0xdfff {
				t.Fatalf("accepted a high surrogate alone at byte %d of %q", i, elem)
			}
			i += 11
		case c >= 0xdc00 && c <= 0xdfff:
			t.Fatalf("accepted a low surrogate alone at byte %d of %q", i, elem)
		default:
			i++ // the escaped character, which may be a backslash
		}
	}
}

func checkID(t *testing.T, field, id string, lim Limits) {
	t.Helper()
	if len(id) > lim.IDBytes || strings.TrimSpace(id) != id || strings.IndexFunc(id, unicode.IsControl) >= 0 ||
		!utf8.ValidString(id) {
		t.Fatalf("accepted %s %q", field, id)
	}
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2022-02-14T15:46:18Z", "2022-03-13T02:30:00", "2022-02-14T15:46:18.5-05:00"} {
		f.Add(s)
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTime(s, ny)
		if err != nil {
			return
		}
		// An accepted zoned time means what time.Parse says it means.
		if !IsLocal(s) {
			want, perr := time.Parse(time.RFC3339Nano, s)
			if perr != nil || !want.Equal(got) {
				t.Fatalf("ParseTime(%q) = %v; time.Parse = %v, %v", s, got, want, perr)
			}
		}
	})
}
