package control

import (
	"context"
	"errors"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// Connection statuses, Codat's words.
const (
	StatusPendingAuth  = "PendingAuth"
	StatusLinked       = "Linked"
	StatusUnlinked     = "Unlinked"
	StatusDeauthorized = "Deauthorized"
)

// MaxConnectionErrors bounds a connection's dataConnectionErrors: the
// oldest are dropped, so a connection record never grows without limit.
const MaxConnectionErrors = 10

var errUnchanged = errors.New("connection unchanged")

// Deauthorize marks a Linked connection Deauthorized and records why, in
// Codat's dataConnectionErrors. A connection that is not Linked (already
// deauthorized, or replaced by a reconnect and Unlinked) is left as it is,
// so a late failure on an old connection never overrides what the merchant
// did since; changed reports whether this call marked it.
func (s *Store) Deauthorize(ctx context.Context, id string, e *v1.DataConnectionError) (changed bool, err error) {
	_, err = s.UpdateConnection(ctx, id, func(cur *v1.Connection) error {
		if cur.GetStatus() != StatusLinked {
			return errUnchanged
		}
		cur.Status, cur.LastError = StatusDeauthorized, e.GetErrorMessage()
		cur.DataConnectionErrors = append(cur.DataConnectionErrors, e)
		if n := len(cur.DataConnectionErrors); n > MaxConnectionErrors {
			cur.DataConnectionErrors = cur.DataConnectionErrors[n-MaxConnectionErrors:]
		}
		return nil
	})
	if errors.Is(err, errUnchanged) {
		return false, nil
	}
	return err == nil, err
}
