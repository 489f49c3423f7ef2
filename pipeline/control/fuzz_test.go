package control

import (
	"log/slog"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// Every process reads control.state at start: whatever a record holds, the
// view never panics, and a record it cannot read changes nothing.
func FuzzControlRecord(f *testing.F) {
	for _, rec := range []*v1.ControlRecord{
		{Entity: &v1.ControlRecord_Company{Company: &v1.Company{Id: "c1", TenantId: "t1", Name: "Corner Coffee"}}},
		{Entity: &v1.ControlRecord_Connection{Connection: &v1.Connection{Id: "k1", CompanyId: "c1", Status: "Linked"}}},
		{Entity: &v1.ControlRecord_ConfigVersion{ConfigVersion: &v1.ConfigVersion{CompanyId: "c1", Version: 3}}},
	} {
		b, _ := proto.Marshal(rec)
		f.Add(b)
	}
	f.Add([]byte{0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, value []byte) {
		s := newStore("control.state", nil, slog.New(slog.DiscardHandler))
		s.apply(&kgo.Record{Key: []byte("k"), Value: value})
		s.apply(&kgo.Record{Key: []byte("k"), Value: value})
		var rec v1.ControlRecord
		if proto.Unmarshal(value, &rec) != nil {
			if n := len(s.tenants) + len(s.keys) + len(s.companies) + len(s.connections) + len(s.configs) + len(s.setups); n != 0 {
				t.Fatalf("an unreadable record changed the view (%d entities)", n)
			}
			return
		}
		for c, list := range s.configs {
			for i := 1; i < len(list); i++ {
				if list[i-1].GetVersion() >= list[i].GetVersion() {
					t.Fatalf("company %q: configuration versions out of order after a redelivery", c)
				}
			}
		}
	})
}
