package sandbox

import (
	"context"
	"net/http"
	"net/url"

	"github.com/commercesync/commercesync/connectors/sandboxkit"
)

// consentForm is how this sandbox's consent page differs from the other
// platforms' (the form-scraping itself is shared in sandboxkit).
var consentForm = sandboxkit.ConsentPage{Page: "approve", Action: "approval", TenantField: "subdomain", TenantNoun: "company"}

// Approve plays the user on the approve page: it loads authCodeURL with hc,
// submits "Approve" for subdomain ("" keeps the preselected company), and
// returns the redirect the sandbox answers with (redirect_uri?code=…&state=…)
// without following it. Other packages' tests use it to drive the
// authorization-code flow end to end.
func Approve(ctx context.Context, hc *http.Client, authCodeURL, subdomain string) (*url.URL, error) {
	return consentForm.Approve(ctx, hc, authCodeURL, subdomain)
}
