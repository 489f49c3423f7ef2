package connectortest

import (
	"time"

	"github.com/commercesync/commercesync/connectors/sandboxkit"
)

// StartTime is the instant every sandbox run begins at: a fixed time keeps
// dates, lock dates and rate windows the same on every run.
var StartTime = time.Date(2026, 7, 15, 9, 0, 0, 0, time.UTC)

// Each check gets its own sandboxkit clock, so advancing time in one never
// touches another.
var _ Clock = (*sandboxkit.Clock)(nil)
