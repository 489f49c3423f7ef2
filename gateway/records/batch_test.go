package records

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	commercesyncv1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

func newOrder() *commercesyncv1.Order { return new(commercesyncv1.Order) }

// order renders a valid order with the given fields replaced (a value of ""
// drops the field), so each case differs from a good order in one way.
func order(id string, replace map[string]string) string {
	fields := [][2]string{
		{"id", `"` + id + `"`},
		{"currency", `"GBP"`},
		{"createdDate", `"2022-02-14T15:46:18Z"`},
		{"totalAmount", `12.50`},
		{"orderLineItems", `[{"quantity":1,"totalAmount":10,"unitPrice":10},{"quantity":1,"totalAmount":"2.50","unitPrice":2.5}]`},
	}
	var b strings.Builder
	b.WriteString("{")
	for _, f := range fields {
		v, ok := replace[f[0]]
		if !ok {
			v = f[1]
		}
		if v == "" {
			continue
		}
		if b.Len() > 1 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "%q:%s", f[0], v)
	}
	for k, v := range replace { // keys not in the template, such as a typo
		if !strings.Contains(b.String(), `"`+k+`"`) && v != "" && !isTemplateKey(k, fields) {
			fmt.Fprintf(&b, ",%q:%s", k, v)
		}
	}
	b.WriteString("}")
	return b.String()
}

func isTemplateKey(k string, fields [][2]string) bool {
	for _, f := range fields {
		if f[0] == k {
			return true
		}
	}
	return false
}

func TestMixedBatchAnswersEachRecord(t *testing.T) {
	cases := []struct {
		elem    string
		field   string // "" means no errors
		message string // substring of the first error's message
	}{
		{order("ok-1", nil), "", ""},
		{order("no-currency", map[string]string{"currency": ""}), "currency", "currency is required"},
		{order("xxy", map[string]string{"currency": `"XXY"`}), "currency", `"XXY" is not an active ISO 4217`},
		{order("lower", map[string]string{"currency": `"gbp"`}), "currency", `did you mean "GBP"?`},
		{order("comma", map[string]string{"totalAmount": `"12,50"`}), "totalAmount", "use a dot for the decimal point"},
		{order("dots", map[string]string{"totalAmount": `"1.2.3"`}), "totalAmount", "more than one decimal point"},
		{order("typo", map[string]string{"totalAmount": "", "totalAmmount": `12.50`}), "totalAmmount",
			`unknown field "totalAmmount"; did you mean "totalAmount"?`},
		{order("bool", map[string]string{"totalAmount": `true`}), "totalAmount", "must be a number or a string holding one"},
		{order("nested", map[string]string{"orderLineItems": `[{"totalAmount":1},{"totalAmount":"abc"}]`}),
			"orderLineItems[1].totalAmount", `"abc" is not a decimal number`},
		{`{"id":"gone-1"}`, "", ""},
		{order("ok-2", map[string]string{"totalAmount": `"12.50"`}), "", ""},
	}
	elems := make([]string, len(cases))
	for i, c := range cases {
		elems[i] = c.elem
	}
	items, err := DecodeBatch([]byte("["+strings.Join(elems, ",\n")+"]"), 100, newOrder)
	if err != nil {
		t.Fatal(err)
	}
	ValidateItems(items)
	if len(items) != len(cases) {
		t.Fatalf("%d items for %d elements", len(items), len(cases))
	}
	for i, c := range cases {
		it := items[i]
		if it.Index != i {
			t.Errorf("item %d has index %d", i, it.Index)
		}
		if c.field == "" {
			for _, e := range it.Errors {
				t.Errorf("item %d (%s): unexpected error %s: %s", i, it.ID, e.Field, e.Message)
			}
			continue
		}
		if len(it.Errors) == 0 {
			t.Errorf("item %d (%s): no errors, want %s", i, it.ID, c.field)
			continue
		}
		if e := it.Errors[0]; e.Field != c.field || !strings.Contains(e.Message, c.message) {
			t.Errorf("item %d (%s): got %s: %s\nwant %s: …%s…", i, it.ID, e.Field, e.Message, c.field, c.message)
		}
	}
	if !items[9].Delete || items[9].ID != "gone-1" || !IsDelete(items[9].Msg) {
		t.Errorf("sparse delete not recognised: %+v", items[9])
	}
	if items[0].Delete {
		t.Error("a full record was taken for a delete")
	}
	// The misspelt field also leaves the real one missing; both are said.
	if errs := items[6].Errors; len(errs) != 2 || errs[1].Field != "totalAmount" {
		t.Errorf("typo record errors = %v", errs)
	}
	// A wrong type is reported once, not again as "required".
	if errs := items[7].Errors; len(errs) != 1 {
		t.Errorf("wrong-type record errors = %v", errs)
	}
}

func TestBodyRejectedAsAWhole(t *testing.T) {
	many := "[" + strings.Repeat(`{"id":"x"},`, 5000) + `{"id":"x"}]`
	cases := []struct {
		name, body string
		want       error
		text       string
	}{
		{"object", `{"id":"a"}`, ErrNotArray, "not an object"},
		{"string", `"x"`, ErrNotArray, "not a string"},
		{"empty", ``, ErrNotArray, "not valid JSON"},
		{"truncated", `[{"id":"a"},{"id":`, ErrNotArray, "not valid JSON"},
		{"trailing", `[{"id":"a"}] x`, ErrNotArray, "not valid JSON"},
		{"too many", many, ErrTooMany, "5001 records were sent and the limit is 5000"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			items, err := DecodeBatch([]byte(c.body), 5000, newOrder)
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.text) {
				t.Fatalf("err = %v, want %v containing %q", err, c.want, c.text)
			}
			if items != nil {
				t.Error("items returned with a whole-body error")
			}
		})
	}
	// The limit is inclusive.
	if items, err := DecodeBatch([]byte(strings.Replace(many, `{"id":"x"},`, "", 1)), 5000, newOrder); err != nil || len(items) != 5000 {
		t.Fatalf("5000 elements: %d items, %v", len(items), err)
	}
}
