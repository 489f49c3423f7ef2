package sandbox

import (
	"context"
	"net/http"
	"net/url"

	"github.com/commercesync/commercesync/connectors/sandboxkit"
)

// consentForm is how this sandbox's consent page differs from the other
// platforms' (the form-scraping itself is shared in sandboxkit).
var consentForm = sandboxkit.ConsentPage{Page: "consent", Action: "consent", TenantField: "tenant_id", TenantNoun: "organisation"}

// Approve plays the user on the consent page: it loads authCodeURL with
// hc, submits the form with "Allow access" for tenantID ("" keeps the
// preselected organisation), and returns the redirect the sandbox answers
// with (redirect_uri?code=…&state=…) without following it. Other
// packages' tests use it to drive the authorization-code flow end to end.
func Approve(ctx context.Context, hc *http.Client, authCodeURL, tenantID string) (*url.URL, error) {
	return consentForm.Approve(ctx, hc, authCodeURL, tenantID)
}
