package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// admin runs `commercesync admin args…` against sys with the operator
// token in the environment, as an operator's shell would.
func admin(t *testing.T, url string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), append([]string{"admin", "-url", url}, args...), &out, &errOut)
	return out.String(), err
}

var (
	tenantLine = regexp.MustCompile(`^Tenant (\S+) created`)
	keyLine    = regexp.MustCompile(`(?m)^Key (\S+) issued`)
	secretLine = regexp.MustCompile(`(?m)^Secret \(shown this once; store it now\): (csk_\S+)$`)
)

// An operator makes a tenant and keys of each scope with the admin command;
// each key opens exactly the routes of its scope, on REST, and a revoked
// key opens none.
func TestAdminMakesTenantsAndScopedKeys(t *testing.T) {
	sys := startSystem(t)
	t.Setenv("COMMERCESYNC_ADMIN_TOKEN", sys.OperatorToken)
	hc := &http.Client{Timeout: 30 * time.Second}

	out, err := admin(t, sys.HTTPURL, "tenants", "create", "-name", "Shopfront POS")
	m := tenantLine.FindStringSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("tenants create: %v\n%s", err, out)
	}
	tenant := m[1]
	if out, err := admin(t, sys.HTTPURL, "tenants", "list"); err != nil || !strings.Contains(out, tenant) || !strings.Contains(out, "Shopfront POS") {
		t.Errorf("tenants list: %v\n%s", err, out)
	}
	keys := map[string]string{} // scope → secret
	ids := map[string]string{}  // scope → key id
	for _, scope := range []string{"ingest", "configure", "read"} {
		out, err := admin(t, sys.HTTPURL, "keys", "create", "-tenant", tenant, "-scopes", scope, "-name", scope+" key")
		k, s := keyLine.FindStringSubmatch(out), secretLine.FindStringSubmatch(out)
		if err != nil || k == nil || s == nil {
			t.Fatalf("keys create -scopes %s: %v\n%s", scope, err, out)
		}
		ids[scope], keys[scope] = k[1], s[1]
	}
	configure := &api{t: t, base: sys.HTTPURL, key: keys["configure"], hc: hc}
	var c struct{ ID string }
	configure.must("POST", "/v1/companies", map[string]any{"name": "Corner Coffee"}, &c)
	p := "/v1/companies/" + c.ID
	routes := []struct {
		scope, method, path string
		body                any
	}{
		{"read", "GET", "/v1/platforms", nil},
		{"read", "GET", p, nil},
		{"read", "GET", p + "/sync/commerce/config", nil},
		{"read", "GET", p + "/sync/commerce/status", nil},
		{"read", "GET", p + "/ledger/days", nil},
		{"read", "GET", p + "/quarantine", nil},
		{"configure", "POST", "/v1/companies", map[string]any{"name": "Second Shop"}},
		{"configure", "POST", p + "/connections", map[string]any{"platformKey": "xero"}},
		{"configure", "PUT", p + "/sync/commerce/config", map[string]any{"schedule": map[string]any{"timeZone": "UTC"},
			"configuration": map[string]any{"mapSettings": map[string]any{"outputFormat": "JournalEntry"}}}},
		{"ingest", "POST", p + "/data/commerce-orders", []byte(codatOrder)},
		{"ingest", "POST", p + "/data/commerce-payments", []byte(codatPayment)},
		{"ingest", "POST", p + "/sync/commerce/latest", map[string]any{}},
	}
	for _, r := range routes {
		for scope, secret := range keys {
			a := &api{t: t, base: sys.HTTPURL, key: secret, hc: hc}
			code := a.do(r.method, r.path, r.body, nil)
			switch {
			case scope == r.scope && (code == http.StatusForbidden || code == http.StatusUnauthorized):
				t.Errorf("a %s key: %s %s answered %d; the key has the scope it needs", scope, r.method, r.path, code)
			case scope != r.scope && code != http.StatusForbidden:
				t.Errorf("a %s key: %s %s answered %d, want 403: it needs %s", scope, r.method, r.path, code, r.scope)
			}
		}
	}

	// What a list shows of keys: never a secret or its hash.
	out, err = admin(t, sys.HTTPURL, "-json", "keys", "list", "-tenant", tenant)
	if err != nil {
		t.Fatal(err)
	}
	var listed struct{ Keys []map[string]any }
	if err := json.Unmarshal([]byte(out), &listed); err != nil || len(listed.Keys) != 3 {
		t.Fatalf("keys list -json: %v, %d keys\n%s", err, len(listed.Keys), out)
	}
	for _, secret := range keys {
		if strings.Contains(out, secret) || strings.Contains(out, secret[8:]) {
			t.Errorf("keys list shows a secret:\n%s", out)
		}
	}
	if strings.Contains(strings.ToLower(out), "sha256") || strings.Contains(strings.ToLower(out), "devsecret") {
		t.Errorf("keys list shows a hash or sealed secret:\n%s", out)
	}

	// Rotation: the new key has the old one's scope; with no grace the old
	// one stops at once, and rotating it again is refused.
	out, err = admin(t, sys.HTTPURL, "keys", "rotate", "-tenant", tenant, "-key", ids["read"], "-grace", "0s")
	s := secretLine.FindStringSubmatch(out)
	if err != nil || s == nil {
		t.Fatalf("keys rotate: %v\n%s", err, out)
	}
	if code := (&api{t: t, base: sys.HTTPURL, key: s[1], hc: hc}).do("GET", p, nil, nil); code != http.StatusOK {
		t.Errorf("the rotated read key: GET company answered %d, want 200", code)
	}
	if code := (&api{t: t, base: sys.HTTPURL, key: keys["read"], hc: hc}).do("GET", p, nil, nil); code != http.StatusUnauthorized {
		t.Errorf("the read key rotated with no grace: GET company answered %d, want 401", code)
	}
	if _, err := admin(t, sys.HTTPURL, "keys", "rotate", "-tenant", tenant, "-key", ids["read"]); err == nil ||
		!strings.Contains(err.Error(), "HTTP 400: keyId: the key was rotated or revoked already") {
		t.Errorf("rotating a rotated key: %v", err)
	}

	// Revocation stops a key at once.
	if out, err := admin(t, sys.HTTPURL, "keys", "revoke", "-tenant", tenant, "-key", ids["ingest"]); err != nil {
		t.Fatalf("keys revoke: %v\n%s", err, out)
	}
	if code := (&api{t: t, base: sys.HTTPURL, key: keys["ingest"], hc: hc}).do("POST", p+"/data/commerce-orders", []byte(codatOrder), nil); code != http.StatusUnauthorized {
		t.Errorf("a revoked key: push answered %d, want 401", code)
	}

	// Credentials do not cross: an API key does not open the admin API,
	// the operator token does not open a tenant's routes, and another
	// tenant's keys are not this tenant's business.
	t.Setenv("COMMERCESYNC_ADMIN_TOKEN", keys["configure"])
	if _, err := admin(t, sys.HTTPURL, "tenants", "list"); err == nil || !strings.Contains(err.Error(), "HTTP 401: missing operator token") {
		t.Errorf("an API key on the admin API: %v", err)
	}
	if code := (&api{t: t, base: sys.HTTPURL, key: sys.OperatorToken, hc: hc}).do("GET", "/v1/platforms", nil, nil); code != http.StatusUnauthorized {
		t.Errorf("the operator token on a tenant route answered %d, want 401", code)
	}
	t.Setenv("COMMERCESYNC_ADMIN_TOKEN", sys.OperatorToken)
	if _, err := admin(t, sys.HTTPURL, "keys", "revoke", "-tenant", sys.TenantID, "-key", ids["configure"]); err == nil || !strings.Contains(err.Error(), "HTTP 404") {
		t.Errorf("revoking a key under another tenant: %v, want 404", err)
	}
	for _, bad := range [][]string{
		{"keys", "create", "-tenant", tenant, "-scopes", "ingest,operator"},
		{"keys", "create", "-tenant", tenant},
		{"tenants", "create"},
		{"keys", "rotate", "-tenant", tenant, "-key", ids["configure"], "-grace", "200h"},
	} {
		if _, err := admin(t, sys.HTTPURL, bad...); err == nil {
			t.Errorf("admin %v succeeded; want it refused", bad)
		}
	}
}
