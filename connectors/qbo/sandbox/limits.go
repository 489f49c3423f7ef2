package sandbox

import (
	"net/http"
	"strconv"
	"time"
)

// window counts calls in a rolling period.
type window struct{ calls []time.Time }

// count drops calls older than period and returns how many remain.
func (w *window) count(now time.Time, period time.Duration) int {
	cut := 0
	for cut < len(w.calls) && !w.calls[cut].After(now.Add(-period)) {
		cut++
	}
	w.calls = w.calls[cut:]
	return len(w.calls)
}

// usageKey: Intuit counts per app and realm (§2.6: "per app+realm").
type usageKey struct{ clientID, realmID string }

type usage struct {
	minute, second window
	inFlight       int
}

// batchWindow is the realm's batch calls: §2.6 limits the batch endpoint
// "per realm", not per app.
func (s *Server) batchWindow(realmID string) *window {
	w := s.batches[realmID]
	if w == nil {
		w = &window{}
		s.batches[realmID] = w
	}
	return w
}

func (s *Server) usageOf(k usageKey) *usage {
	u := s.usage[k]
	if u == nil {
		u = &usage{}
		s.usage[k] = u
	}
	return u
}

// admit applies §2.6's limits for one app and realm: 10 concurrent, 500
// per rolling minute ("batch calls included") and 10 per rolling second,
// and for a batch call also 120 batch calls per rolling minute and realm.
// A refused call is not counted and gets Fault 3001 with HTTP 429 (that
// the batch limit answers the same way is not in the reference). On
// success the caller must call s.release(k). Caller holds s.mu.
func (s *Server) admit(w http.ResponseWriter, k usageKey, co *company, now time.Time, batch bool) bool {
	u := s.usageOf(k)
	l := s.limits
	var b *window
	if batch {
		b = s.batchWindow(k.realmID)
	}
	switch {
	case l.Concurrent > 0 && u.inFlight >= l.Concurrent,
		l.PerMinute > 0 && u.minute.count(now, time.Minute) >= l.PerMinute,
		l.PerSecond > 0 && u.second.count(now, time.Second) >= l.PerSecond,
		batch && l.BatchPerMinute > 0 && b.count(now, time.Minute) >= l.BatchPerMinute:
		s.throttled(w, co, now)
		return false
	}
	u.minute.calls = append(u.minute.calls, now)
	u.second.calls = append(u.second.calls, now)
	if batch {
		b.calls = append(b.calls, now)
	}
	u.inFlight++
	return true
}

func (s *Server) release(k usageKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.usage[k]; u != nil && u.inFlight > 0 {
		u.inFlight--
	}
}

// throttled writes the 429 of §2.6: Fault code 3001 with message
// "message=ThrottleExceeded; errorCode=003001; statusCode=429"; the type
// and Retry-After come from Rules. Caller holds s.mu.
func (s *Server) throttled(w http.ResponseWriter, co *company, now time.Time) {
	if d := s.rules.ThrottleRetryAfter; d > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((d+time.Second-1)/time.Second)))
	}
	writeResponse(w, faultResponse(http.StatusTooManyRequests, s.rules.ThrottleFaultType, co, now, faultError{
		Message: "message=ThrottleExceeded; errorCode=003001; statusCode=429", Detail: s.rules.ThrottleDetail, Code: "3001",
	}))
}

// ExhaustRateLimit spends the minute quota of every registered app for
// realmID at the current time, so the next call is throttled until a
// minute has passed.
func (s *Server) ExhaustRateLimit(realmID string) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range s.oauth.ClientIDs() {
		u := s.usageOf(usageKey{id, realmID})
		n := u.minute.count(now, time.Minute)
		for ; n < max(s.limits.PerMinute, 1); n++ {
			u.minute.calls = append(u.minute.calls, now)
		}
	}
}
