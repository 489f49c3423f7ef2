package sandbox

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/commercesync/commercesync/connectors/sandboxkit"
)

// accessJWT mints an access token shaped as Xero's: a JWT whose claims
// carry the authentication event, the user and the scopes (§1.1). The
// signature is random: the sandbox looks tokens up, it never verifies them,
// and neither does a client, which only reads the claims.
func accessJWT(g *sandboxkit.Grant[grant], now time.Time) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v) // maps of strings and numbers always encode
		return base64.RawURLEncoding.EncodeToString(b)
	}
	header := map[string]any{"alg": "RS256", "typ": "JWT", "kid": "sandbox"}
	claims := map[string]any{
		"nbf": now.Unix(), "iat": now.Unix(), "exp": now.Add(AccessTokenTTL).Unix(),
		"iss": "https://identity.xero.com", "aud": "https://identity.xero.com/resources",
		"client_id": g.ClientID, "xero_userid": g.ClientID + "-user",
		"authentication_event_id": g.Info.AuthEventID, "jti": sandboxkit.NewSecret(),
		"scope": strings.Join(g.Scopes, " "),
	}
	return enc(header) + "." + enc(claims) + "." + base64.RawURLEncoding.EncodeToString([]byte(sandboxkit.NewSecret()))
}
