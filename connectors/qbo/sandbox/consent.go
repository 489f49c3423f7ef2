package sandbox

import (
	"context"
	"net/http"
	"net/url"

	"github.com/commercesync/commercesync/connectors/sandboxkit"
)

// consentForm is how this sandbox's consent page differs from the other
// platforms' (the form-scraping itself is shared in sandboxkit).
var consentForm = sandboxkit.ConsentPage{Page: "consent", Action: "consent", TenantField: "realm_id", TenantNoun: "company"}

// Approve plays the merchant on the consent page: it loads authCodeURL with
// hc, picks realmID ("" keeps the preselected company), presses Connect
// and returns where the sandbox redirects (redirect_uri?code=…&state=…&realmId=…,
// as Intuit's does, §2.1) without following it. An error redirect
// (error=…) is returned as a URL too.
func Approve(ctx context.Context, hc *http.Client, authCodeURL, realmID string) (*url.URL, error) {
	return consentForm.Approve(ctx, hc, authCodeURL, realmID)
}
