package day

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// countingLoader loads zones from the tz database, or as a fixed offset for
// names starting "Fixed/", and counts the loads of each name.
type countingLoader struct {
	mu sync.Mutex
	n  map[string]int
}

func newCountingLoader() *countingLoader { return &countingLoader{n: map[string]int{}} }

func (l *countingLoader) load(name string) (*time.Location, error) {
	l.mu.Lock()
	l.n[name]++
	l.mu.Unlock()
	if strings.HasPrefix(name, "Fixed/") {
		return time.FixedZone(name, 3600), nil
	}
	return time.LoadLocation(name)
}

func (l *countingLoader) loads(name string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n[name]
}

// TestZoneCacheLoadsEachZoneOnce: a thousand calendars over three zones,
// built from eight goroutines at once, load each zone once, share its
// location, and place instants in the same days as calendars that load
// their own.
func TestZoneCacheLoadsEachZoneOnce(t *testing.T) {
	l := newCountingLoader()
	z := NewZones(l.load)
	zones := []string{"Europe/London", "America/New_York", ""}
	cals := make([]Calendar, 1000)
	var wg sync.WaitGroup
	errs := make(chan error, len(cals))
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < len(cals); i += 8 {
				c, err := NewCalendar(zones[i%len(zones)], i%24, WithZones(z))
				if err != nil {
					errs <- err
					return
				}
				cals[i] = c
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, name := range zones {
		if n := l.loads(name); n != 1 {
			t.Errorf("zone %q loaded %d times; want once", name, n)
		}
	}
	at := utc(t, "2026-03-29T00:30:00Z") // London's spring-forward night
	for i, c := range cals {
		if c.Loc != cals[i%len(zones)].Loc {
			t.Fatalf("calendar %d holds its own copy of zone %q", i, zones[i%len(zones)])
		}
		own := mustCalendar(t, zones[i%len(zones)], i%24)
		if got, want := c.DayOf(at), own.DayOf(at); got != want {
			t.Fatalf("calendar %d (%q, cutoff %d) puts %s in %s; loading the zone itself gives %s", i, zones[i%len(zones)], i%24, at, got, want)
		}
	}
}

// TestZoneCacheKeepsNoFailure: a name that does not load is an error naming
// the zone every time, loads again on each call (a typo costs a load, never
// a place in the cache), and does not stop the next zone from loading.
func TestZoneCacheKeepsNoFailure(t *testing.T) {
	l := newCountingLoader()
	z := NewZones(l.load)
	for i := range 3 {
		_, err := NewCalendar("Nowhere/Atlantis", 0, WithZones(z))
		if err == nil || !strings.Contains(err.Error(), `"Nowhere/Atlantis" is not a known IANA zone`) {
			t.Fatalf("call %d: err = %v; want one naming the zone", i, err)
		}
		if n := l.loads("Nowhere/Atlantis"); n != i+1 {
			t.Fatalf("after %d calls the bad zone was loaded %d times; a failure must not be kept", i+1, n)
		}
	}
	if len(z.locs) != 0 {
		t.Fatalf("the cache holds %d zones after failures only", len(z.locs))
	}
	if _, err := NewCalendar("Asia/Tokyo", 0, WithZones(z)); err != nil {
		t.Fatal(err)
	}
	if _, err := NewCalendar("Asia/Tokyo", 0, WithZones(z)); err != nil {
		t.Fatal(err)
	}
	if n := l.loads("Asia/Tokyo"); n != 1 {
		t.Fatalf("Asia/Tokyo loaded %d times; want once", n)
	}
}

// TestZoneCacheRefusesLocalBeforeLoading: "Local" stays refused with a
// cache, and the cache is never asked for it.
func TestZoneCacheRefusesLocalBeforeLoading(t *testing.T) {
	l := newCountingLoader()
	_, err := NewCalendar("Local", 0, WithZones(NewZones(l.load)))
	if err == nil || !strings.Contains(err.Error(), `"Local" is not allowed`) {
		t.Fatalf("err = %v; want Local refused", err)
	}
	if n := l.loads("Local"); n != 0 {
		t.Fatalf("Local was loaded %d times", n)
	}
}

// TestZoneCacheStopsGrowingAtMaxZones: the cache keeps MaxZones zones; a
// further name still loads, on every call, and the kept ones stay kept.
func TestZoneCacheStopsGrowingAtMaxZones(t *testing.T) {
	l := newCountingLoader()
	z := NewZones(l.load)
	for i := range MaxZones {
		if _, err := z.Location(fmt.Sprintf("Fixed/%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	extra := fmt.Sprintf("Fixed/%d", MaxZones)
	for range 2 {
		loc, err := z.Location(extra)
		if err != nil || loc.String() != extra {
			t.Fatalf("zone past the limit: %v, %v", loc, err)
		}
	}
	if n := l.loads(extra); n != 2 {
		t.Fatalf("the zone past the limit was loaded %d times in two calls; it must not be kept", n)
	}
	if len(z.locs) != MaxZones {
		t.Fatalf("the cache holds %d zones; the limit is %d", len(z.locs), MaxZones)
	}
	for _, i := range []int{0, MaxZones - 1} {
		name := fmt.Sprintf("Fixed/%d", i)
		if _, err := z.Location(name); err != nil {
			t.Fatal(err)
		}
		if n := l.loads(name); n != 1 {
			t.Fatalf("%s loaded %d times; want once", name, n)
		}
	}
}

// TestZoneCacheDefaultLoaderReadsTheDatabase: with no loader given, zones
// come from the tz database, and an unknown one is its error.
func TestZoneCacheDefaultLoaderReadsTheDatabase(t *testing.T) {
	z := NewZones(nil)
	loc, err := z.Location("Australia/Lord_Howe")
	if err != nil || loc.String() != "Australia/Lord_Howe" {
		t.Fatalf("Location = %v, %v", loc, err)
	}
	again, _ := z.Location("Australia/Lord_Howe")
	if again != loc {
		t.Fatal("a second look-up returned another location")
	}
	if _, err := z.Location("Nowhere/Atlantis"); err == nil {
		t.Fatal("an unknown zone loaded")
	}
	sentinel := errors.New("loader down")
	if _, err := NewZones(func(string) (*time.Location, error) { return nil, sentinel }).Location("UTC"); !errors.Is(err, sentinel) {
		t.Fatalf("err = %v; want the loader's error", err)
	}
}
