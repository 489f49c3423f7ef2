package connectors

import (
	"context"

	"golang.org/x/oauth2"
)

// NewVerifier returns a fresh PKCE code verifier for an authorization
// request to c's platform, or "" when the platform takes no PKCE
// (Capabilities.PKCE).
func NewVerifier(c Connector) string {
	if !c.Capabilities().PKCE {
		return ""
	}
	return oauth2.GenerateVerifier()
}

// AuthCodeURL is where the merchant authorises cfg's client for state; a
// non-empty verifier adds its S256 challenge, binding the code the platform
// issues to whoever holds the verifier.
func AuthCodeURL(cfg *oauth2.Config, state, verifier string) string {
	if verifier == "" {
		return cfg.AuthCodeURL(state)
	}
	return cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))
}

// Exchange trades an authorization code for a token, proving verifier when
// the request that obtained the code carried a challenge.
func Exchange(ctx context.Context, cfg *oauth2.Config, code, verifier string) (*oauth2.Token, error) {
	if verifier == "" {
		return cfg.Exchange(ctx, code)
	}
	return cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
}
