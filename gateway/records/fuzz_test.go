package records

import (
	"testing"
	"time"
)

func FuzzDecodeBatch(f *testing.F) {
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
	f.Fuzz(func(t *testing.T, body []byte) {
		items, err := DecodeBatch(body, 8, newOrder)
		if err != nil {
			if items != nil {
				t.Fatal("items with a whole-body error")
			}
			return
		}
		if len(items) > 8 {
			t.Fatalf("%d items past the limit", len(items))
		}
		ValidateItems(items)
		for i, it := range items {
			if it.Index != i {
				t.Fatalf("item %d has index %d", i, it.Index)
			}
			if it.Delete && (len(it.Errors) > 0 || !IsDelete(it.Msg)) {
				t.Fatalf("item %d: delete with errors %v or extra fields", i, it.Errors)
			}
			if len(it.Errors) > 2*maxErrors+2 {
				t.Fatalf("item %d: %d errors", i, len(it.Errors))
			}
			_ = ContentHash(it.Msg)
		}
	})
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
