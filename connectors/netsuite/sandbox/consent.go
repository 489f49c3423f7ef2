package sandbox

import (
	"context"
	"net/http"
	"net/url"

	"github.com/commercesync/commercesync/connectors/sandboxkit"
)

// consentForm is how this sandbox's consent page differs from the other
// platforms' (the form-scraping itself is shared in sandboxkit).
var consentForm = sandboxkit.ConsentPage{Page: "consent", Action: "consent", TenantField: "role", TenantNoun: "role"}

// Approve plays the user on the consent page: it loads authCodeURL with
// hc, submits the form with "Allow" for roleID ("" keeps the preselected
// role), and returns the redirect the sandbox answers with
// (redirect_uri?code=…&state=…, or ?error=… when the request is refused)
// without following it. Other packages' tests use it to drive the
// authorization-code flow end to end.
func Approve(ctx context.Context, hc *http.Client, authCodeURL, roleID string) (*url.URL, error) {
	return consentForm.Approve(ctx, hc, authCodeURL, roleID)
}
