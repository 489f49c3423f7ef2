package gateway

import (
	"sync"
	"time"
)

// zoneCache loads each time zone once: time.LoadLocation reads and parses
// the zone database on every call, and every push needs its company's
// zone. Only zones that load are kept, so it holds at most one entry per
// zone of the database (about 600). The zero value is ready to use.
type zoneCache struct {
	zones sync.Map // name → *time.Location
}

func (z *zoneCache) load(name string) (*time.Location, error) {
	if l, ok := z.zones.Load(name); ok {
		return l.(*time.Location), nil
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	z.zones.Store(name, l)
	return l, nil
}
