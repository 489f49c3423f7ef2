package connectors

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// Invalidator is implemented by token sources that can drop an access
// token the platform rejected before its expiry (clock skew, revocation),
// so the next Token call refreshes. Connectors use it to refresh once on a
// 401.
type Invalidator interface {
	Invalidate(rejected *oauth2.Token)
}

// NewPersistingTokenSource returns a token source that refreshes tok
// through cfg, one refresh at a time, and hands every rotated token to save
// before anyone uses it. Platforms that rotate refresh tokens (Xero, QBO,
// Sage, FreeAgent; accounting-platform-apis.md §0) invalidate the old one,
// so using a new access token whose refresh token was never stored would
// lose the connection at the next restart.
//
// ctx carries the HTTP client for the token endpoint (oauth2.HTTPClient) and
// is passed to save; it must live as long as the token source. If save fails, the rotated token is kept in memory and
// saving is retried on the next call; no token is returned until it is
// stored.
func NewPersistingTokenSource(ctx context.Context, cfg *oauth2.Config, tok *oauth2.Token, save func(context.Context, *oauth2.Token) error) oauth2.TokenSource {
	var cur *oauth2.Token
	if tok != nil {
		cur = copyToken(tok)
	}
	return &persistingTokenSource{ctx: ctx, cfg: cfg, cur: cur, save: save}
}

type persistingTokenSource struct {
	ctx  context.Context
	cfg  *oauth2.Config
	save func(context.Context, *oauth2.Token) error

	// mu makes refreshes single-flight: a rotated refresh token may be
	// used only once, so two concurrent refreshes would race to invalidate
	// each other.
	mu      sync.Mutex
	cur     *oauth2.Token
	unsaved bool
}

func (p *persistingTokenSource) Token() (*oauth2.Token, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.unsaved {
		if err := p.persist(); err != nil {
			return nil, err
		}
	}
	if p.cur != nil && p.cur.Valid() {
		return copyToken(p.cur), nil
	}
	if p.cur == nil || p.cur.RefreshToken == "" {
		// Nothing can renew the grant: only the merchant can, by reconnecting.
		return nil, &Error{Class: MerchantActionable, Deauthorized: true,
			Message: "the connection's access token has expired and no refresh token is stored; reconnect the accounting platform"}
	}
	// An empty access token forces the refresher to use the refresh token.
	next, err := p.cfg.TokenSource(p.ctx, &oauth2.Token{RefreshToken: p.cur.RefreshToken}).Token()
	if err != nil {
		return nil, fmt.Errorf("refresh token: %w", err)
	}
	p.cur, p.unsaved = copyToken(next), true
	if err := p.persist(); err != nil {
		return nil, err
	}
	return copyToken(p.cur), nil
}

func (p *persistingTokenSource) persist() error {
	if err := p.save(p.ctx, copyToken(p.cur)); err != nil {
		return fmt.Errorf("save rotated token: %w", err)
	}
	p.unsaved = false
	return nil
}

// Invalidate drops the current access token if it is the rejected one.
// Comparing first keeps concurrent 401s from refreshing more than once.
func (p *persistingTokenSource) Invalidate(rejected *oauth2.Token) {
	if rejected == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur != nil && p.cur.AccessToken == rejected.AccessToken {
		p.cur.AccessToken = ""
		p.cur.Expiry = time.Time{}
	}
}

func copyToken(t *oauth2.Token) *oauth2.Token {
	c := *t
	return &c
}
