package push

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/commercesync/commercesync/connectors"
	"github.com/commercesync/commercesync/pipeline/control"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// usableLocked reports whether documents of a connection may go now: it is
// linked, and its start-of-process check (if it had one) has passed. Caller
// holds w.mu.
func (w *Worker) usableLocked(connID string) bool {
	conn, ok := w.control.Connection(connID)
	if !ok || conn.GetStatus() != control.StatusLinked {
		return false
	}
	ch, checked := w.checks[connID]
	return !checked || ch.done
}

// startChecks starts the access check of every connection that is due for
// one and returns when the next waiting one is due (zero if none).
func (w *Worker) startChecks(ctx context.Context, wg *sync.WaitGroup) time.Time {
	now := w.now()
	var earliest time.Time
	w.mu.Lock()
	defer w.mu.Unlock()
	for id, ch := range w.checks {
		if ch.done || ch.running {
			continue
		}
		conn, ok := w.control.Connection(id)
		c, known := w.connectors[conn.GetPlatformKey()]
		if !ok || conn.GetStatus() != control.StatusLinked || !known {
			// Replaced, deauthorized, or of a platform this process does
			// not serve: nothing to check, and nothing of it goes here.
			ch.done = true
			continue
		}
		if !w.owner.Owns(conn.GetCompanyId()) {
			continue // its owner checks it; this process, once it owns it
		}
		if ch.due.After(now) {
			if earliest.IsZero() || ch.due.Before(earliest) {
				earliest = ch.due
			}
			continue
		}
		ch.running = true
		wg.Go(func() { w.check(ctx, conn, c) })
	}
	return earliest
}

// check makes one connection's access check: one authenticated call,
// through the connection's gate like every request the worker makes. A
// refused grant marks it Deauthorized before any of its documents goes; a
// network failure, a 5xx or throttling says nothing about the grant, so the
// connection stays Linked and is checked again after a back-off, its
// documents waiting until then. Any other answer (a permission the user
// lacks, say) lets the documents go and meet it the usual way.
func (w *Worker) check(ctx context.Context, conn *v1.Connection, c connectors.Connector) {
	log := w.log.With("connection", conn.GetId(), "company", conn.GetCompanyId(), "platform", conn.GetPlatformKey())
	sess := connectors.Session{TenantID: conn.GetPlatformTenantId(), Tokens: w.tokenSource(ctx, conn, c)}
	err := connectors.CheckAccess(connectors.WithGate(ctx, w.limiter(conn, c)), c, sess)
	ce := connectors.Classify(err)
	if ce != nil && ce.Deauthorized {
		w.deauthorize(ctx, conn.GetId(), ce)
	}
	w.mu.Lock()
	ch := w.checks[conn.GetId()]
	ch.running = false
	switch {
	case ce == nil:
		ch.done = true
		log.Info("connection checked: access works")
	case ce.Deauthorized:
		ch.done = true
	case ctx.Err() != nil:
		// Shutting down: the next process checks it.
	case ce.Class == connectors.Retryable || ce.Class == connectors.Throttled:
		ch.attempts++
		backoff := min(time.Duration(1<<min(ch.attempts-1, 10))*time.Second, maxCheckBackoff)
		ch.due = w.now().Add(max(backoff, ce.RetryAfter))
		log.Warn("connection check failed; its documents wait for the next check", "in", ch.due.Sub(w.now()), "err", ce)
	default:
		ch.done = true
		log.Warn("connection check answered; its documents go and meet the answer", "err", ce)
	}
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// deauthorize marks a connection Deauthorized in the control plane with
// Codat's error record, once, forgets what the worker kept for it, and
// returns what the merchant is told.
func (w *Worker) deauthorize(ctx context.Context, connID string, ce *connectors.Error) string {
	conn, _ := w.control.Connection(connID)
	msg := w.deauthorizedMessage(connID, ce)
	rec := &v1.DataConnectionError{
		StatusCode: statusCode(ce), StatusText: statusText(ce), ErrorMessage: msg, ErroredOnUtc: w.now().UTC().Format(time.RFC3339),
	}
	changed, err := w.control.Deauthorize(ctx, connID, rec)
	if err != nil {
		w.log.Warn("connection not marked deauthorized", "connection", connID, "err", err)
		return msg
	}
	w.mu.Lock()
	delete(w.tokens, connID)
	delete(w.setups, connID)
	w.mu.Unlock()
	if changed {
		w.log.Warn("connection deauthorized: the merchant must reconnect", "connection", connID, "company", conn.GetCompanyId(), "reason", msg)
	}
	return msg
}

// deauthorizedMessage says what the merchant is told about a refused grant.
func (w *Worker) deauthorizedMessage(connID string, ce *connectors.Error) string {
	conn, _ := w.control.Connection(connID)
	name := conn.GetPlatformName()
	if c, ok := w.connectors[conn.GetPlatformKey()]; ok {
		name = c.Name()
	}
	if name == "" {
		name = "the accounting platform"
	}
	msg := ce.Message
	if re, ok := errors.AsType[*oauth2.RetrieveError](ce); ok {
		answer := re.ErrorCode
		if re.ErrorDescription != "" {
			answer += ": " + re.ErrorDescription
		}
		msg = fmt.Sprintf("%s refused to renew the connection's authorisation (%s); reconnect %s", name, answer, name)
	}
	return msg + ". The company's documents wait, and are sent once it is connected again."
}

// statusCode is the HTTP status the platform answered, as Codat's
// dataConnectionError.statusCode (a string), or "" when none arrived.
func statusCode(ce *connectors.Error) string {
	if ce.Status == 0 {
		return ""
	}
	return strconv.Itoa(ce.Status)
}

// statusText names the platform's answer: the OAuth error code of a refused
// refresh ("invalid_grant"), else the HTTP status text.
func statusText(ce *connectors.Error) string {
	if re, ok := errors.AsType[*oauth2.RetrieveError](ce); ok && re.ErrorCode != "" {
		return re.ErrorCode
	}
	if ce.Status != 0 {
		return http.StatusText(ce.Status)
	}
	return ""
}
