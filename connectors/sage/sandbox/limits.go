package sandbox

import (
	"net/http"
	"strconv"
	"time"
)

// window counts calls (or bytes) in a rolling period.
type window struct {
	at   []time.Time
	size []int64
}

func (w *window) add(t time.Time, n int64) {
	w.at = append(w.at, t)
	w.size = append(w.size, n)
}

// sum drops entries older than period and returns the count and the total
// size of the rest.
func (w *window) sum(now time.Time, period time.Duration) (count int, total int64) {
	cut := 0
	for cut < len(w.at) && !w.at[cut].After(now.Add(-period)) {
		cut++
	}
	w.at, w.size = w.at[cut:], w.size[cut:]
	for _, n := range w.size {
		total += n
	}
	return len(w.at), total
}

// retryAfter is how long until the oldest entry leaves the window, in
// whole seconds, at least 1.
func (w *window) retryAfter(now time.Time, period time.Duration) int {
	if len(w.at) == 0 {
		return 1
	}
	d := w.at[0].Add(period).Sub(now)
	return max(int((d+time.Second-1)/time.Second), 1)
}

type usage struct {
	minute, day, bytes window
	inFlight           int
}

func (s *Server) usageOf(businessID string) *usage {
	u := s.usage[businessID]
	if u == nil {
		u = &usage{}
		s.usage[businessID] = u
	}
	return u
}

// admit applies the per-business limits of apis.md §3.6 (200 calls in any
// 60 seconds, 100 MB in any 60 minutes; a day limit and a concurrency gate
// when configured) and on refusal writes the 429. Refused calls are not
// counted. On success the caller must call s.done. Caller holds s.mu.
func (s *Server) admit(w http.ResponseWriter, businessID string, now time.Time) bool {
	u, l := s.usageOf(businessID), s.limits
	minN, _ := u.minute.sum(now, time.Minute)
	dayN, _ := u.day.sum(now, 24*time.Hour)
	_, bytesN := u.bytes.sum(now, time.Hour)
	switch {
	case l.PerDay > 0 && dayN >= l.PerDay:
		s.tooMany(w, u.day.retryAfter(now, 24*time.Hour))
		return false
	case l.BytesPerHour > 0 && bytesN >= l.BytesPerHour:
		s.tooMany(w, u.bytes.retryAfter(now, time.Hour))
		return false
	case l.PerMinute > 0 && minN >= l.PerMinute:
		s.tooMany(w, u.minute.retryAfter(now, time.Minute))
		return false
	case l.Concurrent > 0 && u.inFlight >= l.Concurrent:
		s.tooMany(w, 1)
		return false
	}
	u.minute.add(now, 1)
	u.day.add(now, 1)
	u.inFlight++
	return true
}

// done ends an admitted call and counts its bytes against the hourly
// volume limit.
func (s *Server) done(businessID string, bytes int64, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.usageOf(businessID)
	if u.inFlight > 0 {
		u.inFlight--
	}
	u.bytes.add(now, bytes)
}

// ExhaustRateLimit spends the business's 60-second quota at the current
// time, so its next call is throttled with Sage's 429.
func (s *Server) ExhaustRateLimit(businessID string) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.usageOf(businessID)
	n, _ := u.minute.sum(now, time.Minute)
	for ; n < s.limits.PerMinute; n++ {
		u.minute.add(now, 1)
		u.day.add(now, 1)
	}
}

// tooMany writes the 429 (apis.md §3.5, §3.6: status only documented; the
// body and the Retry-After header are Rules).
func (s *Server) tooMany(w http.ResponseWriter, retryAfter int) {
	if s.rules.RetryAfter {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusTooManyRequests)
	_, _ = w.Write([]byte(s.rules.TooManyRequestsBody))
}
