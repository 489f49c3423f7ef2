package window

import (
	"sync"
	"testing"
	"time"
)

// obsRecorder keeps what a job told its observer.
type obsRecorder struct {
	mu       sync.Mutex
	lags     map[int32][]int64
	sealed   []time.Duration
	liveDays []int
}

func (o *obsRecorder) Lag(p int32, lag int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.lags[p] = append(o.lags[p], lag)
}

func (o *obsRecorder) Sealed(d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sealed = append(o.sealed, d)
}

func (o *obsRecorder) LiveDays(n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.liveDays = append(o.liveDays, n)
}

// The job tells its observer each day's seal delay from the day's end, once
// per day (not for revisions), how many days it holds live, and its lag,
// until it gives its partition up.
func TestJobTellsItsObserver(t *testing.T) {
	h := startJobHarness(t, 1, false)
	dayEnd := time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC) // London, before summer time
	now := dayEnd.Add(90 * time.Minute)
	rec := &obsRecorder{lags: map[int32][]int64{}}
	j := h.runJob(WithObserver(rec), WithClock(func() time.Time { return now }))
	h.push(londonSettings("co-1"), londonSettings("co-2"),
		goodOrder("co-1", "o-1", dayEnd.Add(-12*time.Hour), "10.00"),
		goodOrder("co-2", "o-2", dayEnd.Add(-12*time.Hour), "20.00"),
		goodOrder("co-2", "o-3", dayEnd.Add(12*time.Hour), "30.00"),
		closeEvent("co-1", dayEnd.UnixMilli()))
	h.waitConsumed(time.Minute)
	// A late order of co-1's sealed day makes a revision: no delay told.
	h.push(goodOrder("co-1", "o-4", dayEnd.Add(-6*time.Hour), "5.00"), closeEvent("co-1", dayEnd.UnixMilli()+1),
		goodOrder("co-1", "o-5", dayEnd.Add(12*time.Hour), "7.00"))
	h.waitConsumed(time.Minute)
	h.stopJob(j)

	rec.mu.Lock()
	defer rec.mu.Unlock()
	// co-1's day sealed by its close, co-2's by its watermark (o-3 is a
	// day later), both 90 minutes after the day's end; co-1's revision
	// is not a seal.
	if len(rec.sealed) != 2 || rec.sealed[0] != 90*time.Minute || rec.sealed[1] != 90*time.Minute {
		t.Errorf("seal delays %v, want two of 1h30m", rec.sealed)
	}
	// Each company's open day of 11 March; the sealed days have nothing
	// due.
	if n := len(rec.liveDays); n < 2 || rec.liveDays[n-1] != 2 {
		t.Errorf("live days told %v, want 2 last", rec.liveDays)
	}
	for _, n := range rec.liveDays {
		if n < 0 || n > 3 {
			t.Errorf("live days told %v: never more than the 3 days pushed", rec.liveDays)
			break
		}
	}
	lags := rec.lags[0]
	if len(lags) < 3 || lags[len(lags)-2] != 0 || lags[len(lags)-1] != -1 {
		t.Errorf("lags of partition 0 told %v; want 0 once all was read, then -1 when the job gave it up", lags)
	}
	for _, l := range lags {
		if l < -1 {
			t.Errorf("lag %d told", l)
		}
	}
}
