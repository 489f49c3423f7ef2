package connectortest

import (
	"context"
	"encoding/json"

	"golang.org/x/oauth2"

	"github.com/commercesync/commercesync/connectors"
)

// checkAccess is what the push worker asks of every connection when it
// starts: one cheap authenticated call. On a working connection it passes;
// against a sandbox that has never seen the connection's tokens (a sandbox
// restarted in memory, or a platform that revoked the grant) it comes back
// Deauthorized, so the connection reads Deauthorized before any document is
// sent; a throttled answer says nothing about the grant and must not.
func checkAccess(r *run) {
	t := r.t
	r.authorize()
	// The worker checks with the token as stored: JSON, which keeps none
	// of the token response's extra fields (QuickBooks' realm among them).
	raw, err := json.Marshal(r.first)
	if err != nil {
		t.Fatalf("encode the token: %v", err)
	}
	var stored oauth2.Token
	if err := json.Unmarshal(raw, &stored); err != nil {
		t.Fatalf("decode the token: %v", err)
	}
	nop := func(context.Context, *oauth2.Token) error { return nil }
	sess := connectors.Session{TenantID: r.sess.TenantID, Tokens: connectors.NewPersistingTokenSource(r.ctx, r.cfg, &stored, nop)}
	if err := connectors.CheckAccess(r.ctx, r.conn, sess); err != nil {
		t.Fatalf("access check on a working connection: %v", err)
	}
	if r.env.ExhaustRateLimit != nil {
		r.env.ExhaustRateLimit()
		// Xero's identity call is tenantless and answers under the
		// tenant's limit; where the check is throttled it must say so.
		ce := connectors.Classify(connectors.CheckAccess(r.ctx, r.conn, sess))
		if ce != nil && (ce.Deauthorized || (ce.Class != connectors.Throttled && ce.Class != connectors.Retryable)) {
			t.Fatalf("access check while throttled: %v (deauthorized %t), want Throttled or Retryable and not deauthorized", ce, ce.Deauthorized)
		}
		t.Logf("access check with the tenant's quota spent: %v", ce)
	}

	// A second sandbox of the same platform: the same organisation, and
	// none of the tokens the first one issued.
	fresh := r.s.start(t)
	cfg := fresh.conn.OAuthConfig(fresh.env.RedirectURL)
	ts := connectors.NewPersistingTokenSource(fresh.ctx, cfg, &stored, nop)
	err = connectors.CheckAccess(fresh.ctx, fresh.conn, connectors.Session{TenantID: r.sess.TenantID, Tokens: ts})
	ce := connectors.Classify(err)
	if ce == nil || !ce.Deauthorized || ce.Class != connectors.MerchantActionable || ce.Message == "" {
		t.Fatalf("access check with tokens the platform does not know: %v, want merchant-actionable and deauthorized", err)
	}
	t.Logf("merchant sees: %s", ce.Message)
}
