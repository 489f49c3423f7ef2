package sandbox

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// userKey identifies a user in a company: limits count per user
// (apis.md §5.6), and a token is one user in one company (apis.md §5.1).
type userKey struct {
	subdomain string
	userID    int
}

// fixedWindow counts calls in a window aligned to the clock: FreeAgent's
// limits "reset at the top of each minute and hour" (apis.md §5.6), so
// this is not a rolling window.
type fixedWindow struct {
	start time.Time
	n     int
}

// roll resets the window when now is in a later one and returns the count.
func (w *fixedWindow) roll(now time.Time, size time.Duration) int {
	if start := now.Truncate(size); !start.Equal(w.start) {
		w.start, w.n = start, 0
	}
	return w.n
}

// secondsLeft is how long until the window resets, rounded up to whole
// seconds.
func (w *fixedWindow) secondsLeft(now time.Time, size time.Duration) int {
	d := w.start.Add(size).Sub(now)
	return max(int((d+time.Second-1)/time.Second), 1)
}

type usage struct {
	minute, hour, refresh fixedWindow
	inFlight              int
}

func (s *Server) usageOf(k userKey) *usage {
	u := s.usage[k]
	if u == nil {
		u = &usage{}
		s.usage[k] = u
	}
	return u
}

// admit applies the per-user limits of apis.md §5.6 and writes the 429 on
// refusal. testMode is the "X-RateLimit-Test: true" header, which lowers
// the minute limit to Limits.TestPerMinute. Refused calls are not counted.
// On success the caller must call s.done(k). Caller holds s.mu.
func (s *Server) admit(w http.ResponseWriter, k userKey, testMode bool, now time.Time) bool {
	u := s.usageOf(k)
	l := s.limits
	perMinute := l.PerMinute
	if testMode && l.TestPerMinute > 0 {
		perMinute = l.TestPerMinute
	}
	minN, hourN := u.minute.roll(now, time.Minute), u.hour.roll(now, time.Hour)
	switch {
	case l.PerHour > 0 && hourN >= l.PerHour:
		// When the hour is spent its wait is the binding one.
		s.tooMany(w, fmt.Sprintf(s.msg.RateLimit, l.PerHour, 3600), u.hour.secondsLeft(now, time.Hour))
		return false
	case perMinute > 0 && minN >= perMinute:
		// apis.md §5.6: "You must not exceed 120 requests per 60 seconds".
		s.tooMany(w, fmt.Sprintf(s.msg.RateLimit, perMinute, 60), u.minute.secondsLeft(now, time.Minute))
		return false
	case l.Concurrent > 0 && u.inFlight >= l.Concurrent:
		s.tooMany(w, fmt.Sprintf(s.msg.Concurrency, l.Concurrent), 1)
		return false
	}
	u.minute.n++
	u.hour.n++
	u.inFlight++
	return true
}

// admitRefresh applies Limits.TokenRefreshPerMinute (apis.md §5.1,
// [UNVERIFIED] number). Caller holds s.mu.
func (s *Server) admitRefresh(w http.ResponseWriter, k userKey, now time.Time) bool {
	u := s.usageOf(k)
	if n := u.refresh.roll(now, time.Minute); s.limits.TokenRefreshPerMinute > 0 && n >= s.limits.TokenRefreshPerMinute {
		s.tooMany(w, fmt.Sprintf(s.msg.RateLimit, s.limits.TokenRefreshPerMinute, 60), u.refresh.secondsLeft(now, time.Minute))
		return false
	}
	u.refresh.n++
	return true
}

func (s *Server) done(k userKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.usage[k]; u != nil && u.inFlight > 0 {
		u.inFlight--
	}
}

// tooMany writes FreeAgent's 429: the nested error form (apis.md §5.5:
// "401/403/404/429 use the nested errors.error.message form") with the
// limit's message (apis.md §5.6). Retry-After only with WithRetryAfter:
// the reference names no header.
func (s *Server) tooMany(w http.ResponseWriter, msg string, retryAfter int) {
	if s.retryAfter {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	}
	writeJSON(w, http.StatusTooManyRequests, nested(msg))
}

// ExhaustRateLimit spends the current minute's quota of every user of the
// company, so that their next call is refused with FreeAgent's 429.
func (s *Server) ExhaustRateLimit(subdomain string) error {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.companies[subdomain]
	if !ok {
		return fmt.Errorf("unknown company %q", subdomain)
	}
	for _, usr := range c.Users {
		u := s.usageOf(userKey{subdomain, usr.ID})
		u.minute.roll(now, time.Minute)
		u.minute.n = max(u.minute.n, s.limits.PerMinute)
	}
	return nil
}
