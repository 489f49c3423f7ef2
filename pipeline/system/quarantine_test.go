package system_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/commercesync/commercesync/connectors"
	"github.com/commercesync/commercesync/pipeline/kafka"
	"github.com/commercesync/commercesync/pipeline/system"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// quarantine lists the company's quarantine through the API.
func (m *merchant) quarantine() []*v1.QuarantineEntry {
	m.t.Helper()
	var out struct {
		Entries []struct {
			ID, CompanyID, Stage, Kind, RecordID, BusinessDay, Reason, Topic string
		}
	}
	m.must("GET", "/v1/companies/"+m.company+"/quarantine", nil, &out)
	var es []*v1.QuarantineEntry
	for _, e := range out.Entries {
		es = append(es, &v1.QuarantineEntry{Id: e.ID, CompanyId: e.CompanyID, Stage: e.Stage, Kind: e.Kind, RecordId: e.RecordID,
			BusinessDay: e.BusinessDay, Reason: e.Reason, Topic: e.Topic})
	}
	return es
}

// A day the planner cannot read, and a ledger record nobody can decode, park
// their own company with the reason; the same company's other days and every
// other company go on posting.
func TestUnplannableDayParksOnlyItsCompany(t *testing.T) {
	clk := newClock(testStart)
	sys, _ := start(t, clk)
	bad, good := newMerchant(t, sys), newMerchant(t, sys)
	bad.onboard()
	good.onboard()

	poison := &v1.DaySummary{
		Id: "poisoned-summary", CompanyId: bad.company, TenantId: sys.TenantID, BusinessDay: day1, Currency: "USD",
		Revision: 1, Sequence: 1, Lines: []*v1.SummaryLine{
			{Account: "sales", Debit: "0", Credit: "12.3.4"}, {Account: "unsettled", Debit: "12.34", Credit: "0"}},
	}
	raw, err := proto.Marshal(poison)
	if err != nil {
		t.Fatal(err)
	}
	topic := kafka.DefaultTopics().Ledger
	produceRaw(t, sys,
		&kgo.Record{Topic: topic, Key: []byte(bad.company), Value: raw},
		&kgo.Record{Topic: topic, Key: []byte(bad.company), Value: []byte{0xff, 0xff, 0x01}})

	good.pushDay(day1, 3)
	good.seal(day1)
	good.waitConfirmed(day1, 30*time.Second)
	bad.pushDay(day2, 2)
	bad.seal(day2)
	bad.waitConfirmed(day2, 30*time.Second)

	var q []*v1.QuarantineEntry
	eventually(t, 10*time.Second, "both poisons quarantined", func() bool {
		q = bad.quarantine()
		return len(q) == 2
	})
	byKind := map[string]*v1.QuarantineEntry{}
	for _, e := range q {
		if e.GetStage() != "plan" || e.GetCompanyId() != bad.company {
			t.Errorf("quarantine entry %+v: want stage plan and company %s", e, bad.company)
		}
		byKind[e.GetKind()] = e
	}
	if d := byKind["day"]; d == nil || d.GetRecordId() != "poisoned-summary" || d.GetBusinessDay() != day1 || !strings.Contains(d.GetReason(), "12.3.4") {
		t.Errorf("the unplannable day's entry = %+v, want summary poisoned-summary of %s with a reason naming 12.3.4", d, day1)
	}
	if r := byKind["record"]; r == nil || r.GetTopic() != topic || !strings.Contains(r.GetReason(), "unreadable") {
		t.Errorf("the unreadable record's entry = %+v, want topic %s and a reason saying it is unreadable", r, topic)
	}

	st := bad.status()
	if st.GetSyncStatusCode() != 5120 || st.GetQuarantined() != 2 || len(st.GetErrors()) != 2 || !st.GetDataPushed() {
		t.Errorf("bad company's status = %d %q, quarantined %d, %d errors, dataPushed %v; want 5120 with both named and data pushed",
			st.GetSyncStatusCode(), st.GetErrorMessage(), st.GetQuarantined(), len(st.GetErrors()), st.GetDataPushed())
	}
	for _, e := range st.GetErrors() {
		if e.GetStatusCode() != 5120 || e.GetStatusText() != "DataProcessingError" || e.GetErrorMessage() == "" || e.GetErroredOnUtc() == "" {
			t.Errorf("status error %+v is not in Codat's shape", e)
		}
	}
	if st := good.status(); st.GetSyncStatusCode() != 2000 || st.GetQuarantined() != 0 {
		t.Errorf("good company's status = %d, quarantined %d; want 2000 and none", st.GetSyncStatusCode(), st.GetQuarantined())
	}
	if q := good.quarantine(); len(q) != 0 {
		t.Errorf("good company's quarantine lists %d entries, want none", len(q))
	}

	// Nothing is quarantined twice, however many passes run.
	bad.pushDay(day2, 3)
	bad.seal(day2)
	eventually(t, 30*time.Second, "the second revision of day 2 confirmed", func() bool {
		for _, ds := range bad.status().GetDocuments() {
			if ds.GetBusinessDay() == day2 && ds.GetRevision() == 2 && ds.GetState() == "Confirmed" {
				return true
			}
		}
		return false
	})
	if n := len(bad.quarantine()); n != 2 {
		t.Errorf("after more passes the quarantine lists %d entries, want still 2", n)
	}
}

// The quarantine and exception routes refuse another tenant's company and
// bad paging, naming the field.
func TestQuarantineRoutesRefuseBadInput(t *testing.T) {
	clk := newClock(testStart)
	sys, _ := start(t, clk)
	m := newMerchant(t, sys)
	m.createCompany()
	for _, tc := range []struct {
		path, want string
		code       int
	}{
		{"/v1/companies/" + m.company + "/quarantine?pageSize=5000", "pageSize", http.StatusBadRequest},
		{"/v1/companies/" + m.company + "/quarantine?pageToken=abc", "pageToken", http.StatusBadRequest},
		{"/v1/companies/" + m.company + "/ledger/days/2026-13-01/exceptions", "businessDay", http.StatusBadRequest},
		{"/v1/companies/nope/quarantine", "not found", http.StatusNotFound},
		{"/v1/companies/nope/ledger/days/2026-03-10/exceptions", "not found", http.StatusNotFound},
	} {
		code, raw := m.do("GET", tc.path, nil)
		var body struct{ Message string }
		_ = json.Unmarshal(raw, &body)
		if code != tc.code || !strings.Contains(body.Message, tc.want) {
			t.Errorf("GET %s = %d %s, want %d naming %q", tc.path, code, raw, tc.code, tc.want)
		}
	}
	code, raw := m.do("GET", "/v1/companies/"+m.company+"/ledger/days/2026-03-10/exceptions", nil)
	if code != http.StatusOK || strings.TrimSpace(string(raw)) == "" {
		t.Errorf("exceptions of a day without any = %d %s, want 200", code, raw)
	}
}

// panicky makes the connector's Push panic for the documents of one day,
// as a platform answer nobody foresaw might.
type panicky struct {
	connectors.Connector
	day string
}

func (p panicky) Push(ctx context.Context, s connectors.Session, doc *v1.Document, ref connectors.Reference) (connectors.Result, error) {
	if doc.GetDate() == p.day {
		panic("unforeseen answer")
	}
	return p.Connector.Push(ctx, s, doc, ref)
}

// A connector that panics fails the one document it was pushing, with what
// to check; the worker survives and the company's next day and every other
// company still post.
func TestConnectorPanicFailsOnlyItsDocument(t *testing.T) {
	clk := newClock(testStart)
	sys, _ := start(t, clk, system.WithConnectorMiddleware(func(key string, c connectors.Connector) connectors.Connector {
		return panicky{Connector: c, day: day1}
	}))
	m := newMerchant(t, sys)
	m.onboard()
	m.pushDay(day1, 2)
	m.pushDay(day2, 2)
	m.seal(day2)
	failed := m.waitDoc(day1, 30*time.Second, "failed", isState("Failed"))
	if failed.GetErrorClass() != "fatal" || !strings.Contains(failed.GetErrorMessage(), "failed unexpectedly") || !strings.Contains(failed.GetErrorMessage(), failed.GetReference()) {
		t.Errorf("day 1's document = %+v, want a fatal failure naming its reference", failed)
	}
	m.waitConfirmed(day2, 30*time.Second)
	if n := len(journals(sys, day2)); n != 1 {
		t.Errorf("day 2 has %d journals in the sandbox, want 1", n)
	}
}

// Every record a day counts without its money is listed by the day's
// exceptions route, a page at a time, beside the count its summary carries.
func TestDayExceptionsAreListed(t *testing.T) {
	clk := newClock(testStart)
	sys, _ := start(t, clk)
	m := newMerchant(t, sys)
	m.onboard()
	noon := dayEnd(day1).Add(-12 * time.Hour)
	var orders []map[string]any
	for _, id := range []string{"bad-b", "bad-a", "bad-c"} {
		o, _ := cardOrder(id, noon, 1000, 85)
		o["totalAmount"] = "11.85" // the line says 10.85: 1.00 unexplained
		orders = append(orders, o)
	}
	m.pushRecords("commerce-orders", orders)
	m.seal(day1)
	var days struct {
		Days []struct {
			ExceptionCount int
			Exceptions     []struct{ RecordID string }
		}
	}
	eventually(t, 20*time.Second, "day 1 sealed", func() bool {
		m.must("GET", "/v1/companies/"+m.company+"/ledger/days?from="+day1+"&to="+day1, nil, &days)
		return len(days.Days) == 1
	})
	if days.Days[0].ExceptionCount != 3 || len(days.Days[0].Exceptions) != 3 {
		t.Fatalf("day 1's summary counts %d exceptions and names %d, want 3 and 3", days.Days[0].ExceptionCount, len(days.Days[0].Exceptions))
	}
	var got []string
	token := ""
	for page := 0; ; page++ {
		var resp struct {
			Exceptions []struct {
				RecordID, Message, BusinessDay string
			}
			NextPageToken string
		}
		path := "/v1/companies/" + m.company + "/ledger/days/" + day1 + "/exceptions?pageSize=2"
		if token != "" {
			path += "&pageToken=" + token
		}
		m.must("GET", path, nil, &resp)
		for _, e := range resp.Exceptions {
			if e.BusinessDay != day1 || !strings.Contains(e.Message, "Order "+e.RecordID) {
				t.Errorf("exception %+v: want day %s and a message naming its order", e, day1)
			}
			got = append(got, e.RecordID)
		}
		if token = resp.NextPageToken; token == "" || page > 3 {
			break
		}
	}
	if strings.Join(got, ",") != "bad-a,bad-b,bad-c" {
		t.Errorf("the exceptions route listed %v, want bad-a, bad-b and bad-c in order over two pages", got)
	}
}
