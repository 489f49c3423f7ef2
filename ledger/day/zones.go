package day

import (
	"sync"
	"time"
)

// MaxZones bounds the locations one Zones keeps. The IANA database names
// about 600 zones, so a cache of real zones never reaches it; past it (a
// loader that accepts made-up names) a zone is loaded on every call rather
// than grow the cache without end.
const MaxZones = 1024

// Zones loads each IANA zone once and hands out the same *time.Location
// after: loading one reads and parses the zone database, which costs far
// more than the day arithmetic done with it. The package holds no state of
// its own, so the caller owns a Zones (one per process or per job) and
// passes it to NewCalendar with WithZones. It is safe for concurrent use.
// Failed loads are not kept: a name that does not load costs a load each
// time and never a place in the cache.
type Zones struct {
	load func(name string) (*time.Location, error)
	mu   sync.RWMutex
	locs map[string]*time.Location
}

// NewZones returns an empty cache that loads zones with load, or with
// time.LoadLocation when load is nil. Tests inject load to count loads.
func NewZones(load func(name string) (*time.Location, error)) *Zones {
	if load == nil {
		load = time.LoadLocation
	}
	return &Zones{load: load, locs: map[string]*time.Location{}}
}

// Location returns the zone called name, loading it on its first use.
// Concurrent first uses of one name load it once.
func (z *Zones) Location(name string) (*time.Location, error) {
	z.mu.RLock()
	loc, ok := z.locs[name]
	z.mu.RUnlock()
	if ok {
		return loc, nil
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	if loc, ok := z.locs[name]; ok {
		return loc, nil
	}
	loc, err := z.load(name)
	if err != nil {
		return nil, err
	}
	if len(z.locs) < MaxZones {
		z.locs[name] = loc
	}
	return loc, nil
}

// CalendarOption configures NewCalendar.
type CalendarOption func(*calendarConfig)

type calendarConfig struct{ zones *Zones }

// WithZones loads the calendar's zone through z, so calendars of the same
// zone share one load. Without it NewCalendar loads the zone itself.
func WithZones(z *Zones) CalendarOption { return func(c *calendarConfig) { c.zones = z } }

// loadZone loads name through the zones opts name, or directly.
func loadZone(name string, opts []CalendarOption) (*time.Location, error) {
	var cfg calendarConfig
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.zones == nil {
		return time.LoadLocation(name)
	}
	return cfg.zones.Location(name)
}
