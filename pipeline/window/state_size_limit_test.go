package window

// A record whose changelog entry takes exactly MaxRecordStateBytes is
// accepted; one byte more is refused, the refusal giving the size and the
// limit.

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var agStateSizeRe = regexp.MustCompile(`its state would take (\d+) bytes`)

// agPayoutSettling applies a payout settling n ids of 200 bytes, short
// bytes cut from the last ones, at most 64 from each (every id keeps a
// two-byte length prefix), and returns the run and Apply's error.
func agPayoutSettling(t *testing.T, n, short int) (*ex, error) {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = pad(fmt.Sprintf("pay-%05d-", i), 200)
	}
	for i := n - 1; short > 0; i-- {
		c := min(short, 64)
		ids[i] = ids[i][:200-c]
		short -= c
	}
	e := newEx(t, ldnZone, 0, 0)
	err := e.r.a.Apply(0, exPayout("Payout", "po-1", local(t, ldnZone, "2026-06-10 12:00:00"), "1.00", ids...))
	e.r.commit(t)
	return e, err
}

func TestRecordStateOfExactlyTheLimitIsAcceptedAndOneByteMoreRefused(t *testing.T) {
	// 2,700 ids of 200 bytes pass the limit by some 38 KiB; the refusal
	// says by how much, and cutting that much from the ids reaches it.
	const n = 2700
	_, err := agPayoutSettling(t, n, 0)
	m := agStateSizeRe.FindStringSubmatch(fmt.Sprint(err))
	if m == nil {
		t.Fatalf("a payout settling %d ids of 200 bytes: error %v, want its state size refused", n, err)
	}
	size, _ := strconv.Atoi(m[1])
	over := size - MaxRecordStateBytes
	if _, err := agPayoutSettling(t, n, over); err != nil {
		t.Errorf("a payout whose state takes exactly %d bytes was refused: %v", MaxRecordStateBytes, err)
	}
	_, err = agPayoutSettling(t, n, over-1)
	want := fmt.Sprintf("its state would take %d bytes (with its lines' categories); the limit is %d", MaxRecordStateBytes+1, MaxRecordStateBytes)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("a payout whose state takes one byte more than the limit: error %v, want %q", err, want)
	}
}
