package records

import (
	"errors"
	"strings"
	"testing"
)

// JSON strings that are not text are refused on their field, never repaired:
// replacing a lone surrogate with U+FFFD made two ids one.
func TestStrictText(t *testing.T) {
	cases := []struct{ elem, field, want string }{
		{orderWith(`,"orderNumber":"S-\ud800"`), "orderNumber", `holds "\ud800", the first half of a UTF-16 surrogate pair`},
		{strings.Replace(orderWith(""), `"o-1"`, `"S-\udbff"`, 1), "id", `holds "\udbff", the first half`},
		{strings.Replace(orderWith(""), `"o-1"`, `"S-\udfff"`, 1), "id", `holds "\udfff", the second half of a UTF-16 surrogate pair`},
		{strings.Replace(orderWith(""), `"o-1"`, `"\ud800\u0041"`, 1), "id", `holds "\ud800", the first half`},
		{strings.Replace(orderWith(""), `"o-1"`, `"\ud800x"`, 1), "id", `holds "\ud800", the first half`},
		{strings.Replace(orderWith(""), `"o-1"`, `"\ud800\ud800"`, 1), "id", `holds "\ud800", the first half`},
		{strings.Replace(orderWith(""), `"o-1"`, "\"S-\xff\"", 1), "id", "is not valid UTF-8 text: byte 0xff at byte 2"},
		{strings.Replace(orderWith(""), `"o-1"`, "\"S-\xed\xa0\x80\"", 1), "id", "is not valid UTF-8 text"}, // a surrogate in UTF-8
		{orderWith(`,"locationRef":{"id":"l","name":"\udc00"}`), "locationRef.name", "the second half"},
		{orderWith(`,"totalRefund":"-1\ud800"`), "totalRefund", "the first half"},
		{orderWith(`,"orderLineItems":[{"taxes":[{"rate":"0.2","taxComponentRef":{"id":"\udfff"}}]}]`),
			"orderLineItems[0].taxes[0].taxComponentRef.id", "the second half"},
		{orderWith(`,"supplementalData":{"content":{"till":"\ud800"}}`), "supplementalData.content.till", "the first half"},
		{orderWith(`,"supplementalData":{"content":{"t\ud800":1}}`), `supplementalData.content.t\ud800`, `this key holds "\ud800"`},
		{orderWith(`,"supplementalData":{"content":{"a":["\udfff"]}}`), "supplementalData.content.a[0]", "the second half"},
		{orderWith(`,"id\udfff":1`), `id\udfff`, `this field name holds "\udfff"`},
		{orderWith(",\"\xffid\":1"), "\uFFFDid", "this field name is not valid UTF-8 text"},
	}
	for _, c := range cases {
		it := checkOne(t, kOrder, c.elem, DefaultLimits())
		found := false
		for _, e := range it.Errors {
			found = found || e.Field == c.field && strings.Contains(e.Message, c.want)
		}
		if !found {
			t.Errorf("%s\n got %v\nwant %s: …%s…", c.elem, render(it.Errors), c.field, c.want)
		}
		if it.Delete {
			t.Errorf("%s: taken for a delete", c.elem)
		}
	}

	// A surrogate pair is one character, and escapes decode as JSON says.
	it := checkOne(t, kOrder, orderWith(`,"orderNumber":"\ud83d\ude00 \u00e9\n\"\\\/\t\b\f\r"`), DefaultLimits())
	if len(it.Errors) > 0 || it.Msg.(interface{ GetOrderNumber() string }).GetOrderNumber() != "😀 é\n\"\\/\t\b\f\r" {
		t.Errorf("valid escapes: %v, %q", render(it.Errors), it.Msg)
	}
}

// The two ids of finding 3 are both refused, each naming its own half-pair.
func TestSurrogateIDsDoNotCollide(t *testing.T) {
	body := "[" + strings.Replace(orderWith(""), `"o-1"`, `"S-\ud800"`, 1) + "," + strings.Replace(orderWith(""), `"o-1"`, `"S-\udbff"`, 1) + "]"
	items, err := DecodeBatch([]byte(body), 10, newOrder)
	if err != nil {
		t.Fatal(err)
	}
	ValidateItems(items)
	for i, half := range []string{`\ud800`, `\udbff`} {
		if errs := items[i].Errors; len(errs) == 0 || errs[0].Field != "id" || !strings.Contains(errs[0].Message, half) {
			t.Errorf("item %d: %v", i, render(errs))
		}
		if items[i].ID != "" || items[i].Msg.GetId() != "" {
			t.Errorf("item %d kept an id %q", i, items[i].Msg.GetId())
		}
	}
}

// A body that is not JSON at all says where: the record and field of the
// first syntax error.
func TestSyntaxErrorNamesThePlace(t *testing.T) {
	cases := []struct{ body, want string }{
		{`[{"id":"a"},{"id":"b","orderLineItems":[{"id":"\x"}]}]`, `in [1].orderLineItems[0].id`},
		{`[{"id":"a","orderNumber":"1` + "\x01" + `"}]`, `in [0].orderNumber`},
		{`[{"id":"a"},{"id":"b","locationRef":{"id":"\u12"}}]`, `in [1].locationRef.id`},
		{`[{"id":"a"},{"id":"b",}]`, `in [1]`},
	}
	for _, c := range cases {
		_, err := DecodeBatch([]byte(c.body), 10, newOrder)
		if !errors.Is(err, ErrNotArray) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want …%s", c.body, err, c.want)
		}
	}
}

// Ids are compared byte for byte everywhere later, so padding, control
// characters and emptiness are refused, in records, refs, and deletes.
func TestIDRules(t *testing.T) {
	cases := []struct{ elem, field, want string }{
		{strings.Replace(orderWith(""), `"o-1"`, `" o-1"`, 1), "id", "must not start or end with spaces"},
		{strings.Replace(orderWith(""), `"o-1"`, `"o-1 "`, 1), "id", "must not start or end with spaces"},
		{strings.Replace(orderWith(""), `"o-1"`, `"\u00a0o-1"`, 1), "id", "must not start or end with spaces"},
		{strings.Replace(orderWith(""), `"o-1"`, `"o\u0000-1"`, 1), "id", "must not hold control characters, and holds U+0000 at byte 1"},
		{strings.Replace(orderWith(""), `"o-1"`, `"o\n1"`, 1), "id", "holds U+000A"},
		{strings.Replace(orderWith(""), `"o-1"`, `"o\u007f"`, 1), "id", "holds U+007F"},
		{strings.Replace(orderWith(""), `"o-1"`, `"o\u0085x"`, 1), "id", "holds U+0085"},
		{orderWith(`,"locationRef":{"id":"l\t"}`), "locationRef.id", "must not start or end with spaces"},
		{orderWith(`,"orderLineItems":[{"id":"a\u0001b"}]`), "orderLineItems[0].id", "holds U+0001"},
		{`{"id":" gone"}`, "id", "must not start or end with spaces"},
		{`{"id":"go\u0000ne"}`, "id", "holds U+0000"},
		{`{"id":" "}`, "id", "is empty"},
	}
	for _, c := range cases {
		it := checkOne(t, kOrder, c.elem, DefaultLimits())
		if len(it.Errors) != 1 || it.Errors[0].Field != c.field || !strings.Contains(it.Errors[0].Message, c.want) {
			t.Errorf("%s\n got %v\nwant %s: …%s…", c.elem, render(it.Errors), c.field, c.want)
		}
		if it.Delete {
			t.Errorf("%s: a rejected id is still a delete", c.elem)
		}
	}
	it := checkOne(t, kTransaction, transactionWith(`,"settledTransactionIds":["a"," b",""]`), DefaultLimits())
	expect(t, "settled ids", it.Errors, map[string]string{
		"settledTransactionIds[1]": "must not start or end with spaces",
		"settledTransactionIds[2]": "is empty; send the id of a transaction this payout settles",
	})
	// Spaces inside an id, and any other character, are the sender's to choose.
	if it := checkOne(t, kOrder, strings.Replace(orderWith(""), `"o-1"`, `"Order 1/ü 😀"`, 1), DefaultLimits()); len(it.Errors) > 0 {
		t.Errorf("an id with inner spaces and symbols: %v", render(it.Errors))
	}
	if it := checkOne(t, kOrder, `{"id":"gone 1"}`, DefaultLimits()); len(it.Errors) > 0 || !it.Delete {
		t.Errorf("a delete with a good id: %+v", it)
	}
}

// An unknown key as long as the body is named, not repeated whole.
func TestLongKeysAreCutInPaths(t *testing.T) {
	key := strings.Repeat("k", 100000)
	it := checkOne(t, kOrder, orderWith(`,"`+key+`":1,"supplementalData":{"content":{"`+key+`":"\ud800"}}`), DefaultLimits())
	if len(it.Errors) != 2 {
		t.Fatalf("errors: %d", len(it.Errors))
	}
	for _, e := range it.Errors {
		if len(e.Field) > 200 || len(e.Message) > 400 || !strings.Contains(e.Field, "kkk…") {
			t.Errorf("field of %d bytes, message of %d: %.100s", len(e.Field), len(e.Message), e.Field)
		}
	}
}
