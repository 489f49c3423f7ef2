package sandbox

import "testing"

// TestZoneCacheQBOCompanyLoadsItsZoneOnce: a company's zone is loaded on
// first use and the same location served after (time.LoadLocation returns
// a new one on every call, so the same pointer means no second load); a
// change of TimeZone loads the new zone, and a name that does not load is
// UTC.
func TestZoneCacheQBOCompanyLoadsItsZoneOnce(t *testing.T) {
	co := &company{Company: Company{TimeZone: "America/Los_Angeles"}}
	first := co.location()
	if first.String() != "America/Los_Angeles" {
		t.Fatalf("location = %s", first)
	}
	for range 3 {
		if again := co.location(); again != first {
			t.Fatal("the zone was loaded again")
		}
	}
	co.TimeZone = "Europe/London"
	london := co.location()
	if london.String() != "Europe/London" || co.location() != london {
		t.Fatalf("after the zone changed: %s, loaded once: %t", london, co.location() == london)
	}
	co.TimeZone = "Nowhere/Atlantis"
	if got := co.location(); got.String() != "UTC" {
		t.Fatalf("an unknown zone gives %s; want UTC", got)
	}
}
