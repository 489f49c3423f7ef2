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

// retryAfter is how long until the oldest counted call leaves the window,
// rounded up to whole seconds as Retry-After carries (accounting-platform-apis.md §1.6).
func (w *window) retryAfter(now time.Time, period time.Duration) int {
	if len(w.calls) == 0 {
		return 1
	}
	d := w.calls[0].Add(period).Sub(now)
	secs := int((d + time.Second - 1) / time.Second)
	return max(secs, 1)
}

type tenantUsage struct {
	minute, day window
	inFlight    int
	refused     map[string]int // by X-Rate-Limit-Problem
}

// Refused counts the calls to an organisation refused with 429 since the
// sandbox started, by the X-Rate-Limit-Problem they carried (minute, day,
// appminute, concurrent): how a test shows a client kept under Xero's
// limits, which are counted over rolling periods, so none refused means
// no period ever held more than the limit.
func (s *Server) Refused(tenantID string) map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	if u := s.usage[tenantID]; u != nil {
		for k, v := range u.refused {
			out[k] = v
		}
	}
	return out
}

// admitTenant applies the per-tenant limits of accounting-platform-apis.md §1.6 (60 per
// rolling minute, 5,000 per day, 5 concurrent) and the app limit, writes
// the remaining-calls headers every tenant call carries, and on refusal
// writes the 429. Refused calls are not counted. The day limit is a rolling
// 24 hours here; the reference does not say whether Xero's resets at a
// fixed time. On success the caller must call s.release(tenant). Caller
// holds s.mu.
func (s *Server) admitTenant(w http.ResponseWriter, clientID, tenantID string, now time.Time) bool {
	u := s.usage[tenantID]
	if u == nil {
		u = &tenantUsage{}
		s.usage[tenantID] = u
	}
	app := s.appWindow(clientID)
	l := s.limits
	minN, dayN, appN := u.minute.count(now, time.Minute), u.day.count(now, 24*time.Hour), app.count(now, time.Minute)
	setRemaining := func(minN, dayN, appN int) {
		h := w.Header()
		h.Set("X-MinLimit-Remaining", strconv.Itoa(remaining(l.PerMinute, minN)))
		h.Set("X-DayLimit-Remaining", strconv.Itoa(remaining(l.PerDay, dayN)))
		h.Set("X-AppMinLimit-Remaining", strconv.Itoa(remaining(l.AppPerMinute, appN)))
	}
	setRemaining(minN, dayN, appN)
	refuse := func(problem string, retryAfter int) bool {
		if u.refused == nil {
			u.refused = map[string]int{}
		}
		u.refused[problem]++
		tooMany(w, problem, retryAfter)
		return false
	}
	// The day is checked first: when it is spent its wait is the binding one.
	switch {
	case l.PerDay > 0 && dayN >= l.PerDay:
		return refuse("day", u.day.retryAfter(now, 24*time.Hour))
	case l.PerMinute > 0 && minN >= l.PerMinute:
		return refuse("minute", u.minute.retryAfter(now, time.Minute))
	case l.AppPerMinute > 0 && appN >= l.AppPerMinute:
		// "appminute" is [UNVERIFIED] in accounting-platform-apis.md §1.6.
		return refuse("appminute", app.retryAfter(now, time.Minute))
	case l.Concurrent > 0 && u.inFlight >= l.Concurrent:
		// "concurrent" is [UNVERIFIED] in accounting-platform-apis.md §1.6; the reference gives
		// no Retry-After for it, one second lets a call finish.
		return refuse("concurrent", 1)
	}
	u.minute.calls = append(u.minute.calls, now)
	u.day.calls = append(u.day.calls, now)
	app.calls = append(app.calls, now)
	u.inFlight++
	setRemaining(minN+1, dayN+1, appN+1)
	return true
}

// admitApp applies only the app limit, for tenantless calls. Caller holds s.mu.
func (s *Server) admitApp(w http.ResponseWriter, clientID string, now time.Time) bool {
	app := s.appWindow(clientID)
	n := app.count(now, time.Minute)
	if s.limits.AppPerMinute > 0 && n >= s.limits.AppPerMinute {
		w.Header().Set("X-AppMinLimit-Remaining", "0")
		tooMany(w, "appminute", app.retryAfter(now, time.Minute))
		return false
	}
	app.calls = append(app.calls, now)
	w.Header().Set("X-AppMinLimit-Remaining", strconv.Itoa(remaining(s.limits.AppPerMinute, n+1)))
	return true
}

func (s *Server) release(tenantID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.usage[tenantID]; u != nil && u.inFlight > 0 {
		u.inFlight--
	}
}

func (s *Server) appWindow(clientID string) *window {
	w := s.appUsage[clientID]
	if w == nil {
		w = &window{}
		s.appUsage[clientID] = w
	}
	return w
}

func remaining(limit, used int) int {
	if limit <= 0 {
		// An unlimited sandbox still answers the header clients parse.
		return 1_000_000
	}
	return max(limit-used, 0)
}

// tooMany writes Xero's 429: Retry-After in seconds, X-Rate-Limit-Problem,
// and a body that is not JSON (accounting-platform-apis.md §1.6, the legacy OAuth 1 text).
func tooMany(w http.ResponseWriter, problem string, retryAfter int) {
	h := w.Header()
	h.Set("Retry-After", strconv.Itoa(retryAfter))
	h.Set("X-Rate-Limit-Problem", problem)
	h.Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusTooManyRequests)
	_, _ = w.Write([]byte("oauth_problem=rate%20limit%20exceeded&oauth_problem_advice=please%20wait%20before%20retrying%20the%20xero%20api"))
}
