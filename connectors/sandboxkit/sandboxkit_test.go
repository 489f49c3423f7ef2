package sandboxkit

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"
)

func TestClock(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := NewClock(t0)
	c.Advance(time.Minute)
	if got := c.Now(); !got.Equal(t0.Add(time.Minute)) {
		t.Fatalf("after Advance: %v", got)
	}
	c.Set(t0)
	if got := c.Now(); !got.Equal(t0) {
		t.Fatalf("after Set: %v", got)
	}
}

func TestArmReleasesOnlyItsOwnGate(t *testing.T) {
	var mu sync.Mutex
	var slot *Gate
	_, releaseOld := Arm(&mu, &slot)
	arrived, release := Arm(&mu, &slot)
	releaseOld() // must not clear the newer gate
	if slot == nil {
		t.Fatal("old release cleared the new gate")
	}
	g := slot
	done := make(chan bool)
	go func() { done <- g.Wait(context.Background()) }()
	<-arrived
	release()
	release() // a second call is harmless
	if !<-done {
		t.Fatal("Wait returned false after release")
	}
	if slot != nil {
		t.Fatal("release left the gate armed")
	}
}

func TestServeAndApprove(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`<form method="post" action="/authorize">` +
			`<input type="hidden" name="state" value="s1">` +
			`<select name="tenant"><option value="a">A</option><option value="b" selected>B</option></select></form>`))
	})
	mux.HandleFunc("POST /authorize", func(w http.ResponseWriter, r *http.Request) {
		if r.PostFormValue("consent") != "allow" {
			http.Error(w, "no consent", http.StatusBadRequest)
			return
		}
		http.Redirect(w, r, "http://client/cb?code=c&state="+r.PostFormValue("state")+"&tenant="+r.PostFormValue("tenant"), http.StatusFound)
	})
	base, shutdown, err := Serve("127.0.0.1:0", mux, nil, "test")
	if err != nil {
		t.Fatal(err)
	}
	defer shutdown(context.Background())

	page := ConsentPage{Page: "consent", Action: "consent", TenantField: "tenant", TenantNoun: "tenant"}
	for _, tc := range []struct{ tenant, want string }{{"", "b"}, {"a", "a"}} {
		loc, err := page.Approve(t.Context(), http.DefaultClient, base+"/authorize", tc.tenant)
		if err != nil {
			t.Fatal(err)
		}
		if q := loc.Query(); q.Get("tenant") != tc.want || q.Get("state") != "s1" {
			t.Fatalf("tenant %q: redirect %s", tc.tenant, loc)
		}
	}
	loc, err := ConsentPage{Page: "consent", Action: "consent"}.Approve(t.Context(), http.DefaultClient, base+"/authorize", "")
	if err != nil || loc.Query().Get("tenant") != "" {
		t.Fatalf("without a tenant field: %v, %v", loc, err)
	}
}
