package sandbox

import (
	"context"
	"net/http"
	"net/url"

	"github.com/commercesync/commercesync/connectors/sandboxkit"
)

// consentForm is how this sandbox's consent page differs from the other
// platforms' (the form-scraping itself is shared in sandboxkit): Sage's
// grant covers every business of the user, so the page offers no tenant
// choice and TenantField stays empty.
var consentForm = sandboxkit.ConsentPage{Page: "consent", Action: "consent"}

// Approve plays the user on the consent page: it loads authCodeURL with
// hc, submits the form with "Allow", and returns the redirect the sandbox
// answers with (redirect_uri?code=…&country=…&state=…) without following
// it. An error redirect (error=…) is returned as a URL too. Other packages'
// tests use it to drive the authorization-code flow end to end.
func Approve(ctx context.Context, hc *http.Client, authCodeURL string) (*url.URL, error) {
	return consentForm.Approve(ctx, hc, authCodeURL, "")
}
