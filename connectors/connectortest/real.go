package connectortest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/commercesync/commercesync/connectors"
)

// Credentials are what the opt-in real-API check needs, read from the
// environment by RealCredentials. With NAME the harness name in upper case
// (XERO, QBO, SAGE, NETSUITE, FREEAGENT):
//
//	COMMERCESYNC_REAL_<NAME>_CLIENT_ID      the OAuth app's client id (required)
//	COMMERCESYNC_REAL_<NAME>_CLIENT_SECRET  its client secret
//	COMMERCESYNC_REAL_<NAME>_REFRESH_TOKEN  a refresh token of a connection to a test company (required,
//	COMMERCESYNC_REAL_<NAME>_TOKEN_FILE     or a file holding it; refreshed tokens are written back there)
//	COMMERCESYNC_REAL_<NAME>_TENANT         the tenant (organisation, realm, business) to use; default the first
//	COMMERCESYNC_REAL_<NAME>_DEBIT          account codes (or ids) for a 0.01 test journal; without both,
//	COMMERCESYNC_REAL_<NAME>_CREDIT         only the read-only checks run
//
// Use a demo or sandbox company: the push-then-find check posts a real
// journal, which stays. Platforms that rotate refresh tokens (Xero, QBO,
// Sage, FreeAgent) invalidate the one given once it is used; give
// TOKEN_FILE to keep the rotated one for the next run.
type Credentials struct {
	ClientID, ClientSecret  string
	RefreshToken, TokenFile string
	Tenant                  string
	Debit, Credit           string
}

// EnvPrefix is the environment prefix of a platform's real-API credentials.
func EnvPrefix(name string) string {
	var b strings.Builder
	b.WriteString("COMMERCESYNC_REAL_")
	for _, r := range strings.ToUpper(name) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	b.WriteByte('_')
	return b.String()
}

// RealCredentials reads name's credentials; ok is false when the client id
// or both the refresh token and the token file are missing.
func RealCredentials(name string) (c Credentials, ok bool) {
	p := EnvPrefix(name)
	get := func(k string) string { return strings.TrimSpace(os.Getenv(p + k)) }
	c = Credentials{
		ClientID: get("CLIENT_ID"), ClientSecret: get("CLIENT_SECRET"),
		RefreshToken: get("REFRESH_TOKEN"), TokenFile: get("TOKEN_FILE"),
		Tenant: get("TENANT"), Debit: get("DEBIT"), Credit: get("CREDIT"),
	}
	return c, c.ClientID != "" && (c.RefreshToken != "" || c.TokenFile != "")
}

// realAPI runs the read-only and push-then-find checks against the
// platform's production API when credentials are in the environment.
func (s *suite) realAPI(t *testing.T) {
	p := EnvPrefix(s.h.Name)
	creds, ok := RealCredentials(s.h.Name)
	if !ok {
		s.skip(t, "skipped: no credentials (set %sCLIENT_ID and %sREFRESH_TOKEN or %sTOKEN_FILE)", p, p, p)
	}
	if s.h.Real == nil {
		s.skip(t, "skipped: the harness has no Real constructor")
	}
	if creds.TokenFile != "" {
		b, err := os.ReadFile(creds.TokenFile)
		if err != nil {
			t.Fatalf("read %sTOKEN_FILE: %v", p, err)
		}
		creds.RefreshToken = strings.TrimSpace(string(b))
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	ctx = context.WithValue(ctx, oauth2.HTTPClient, connectors.NewHTTPClient(time.Minute))
	conn := s.h.Real(creds.ClientID, creds.ClientSecret)
	cfg := conn.OAuthConfig("")

	var mu sync.Mutex
	var saved []*oauth2.Token
	save := func(_ context.Context, tok *oauth2.Token) error {
		mu.Lock()
		defer mu.Unlock()
		saved = append(saved, tok)
		if creds.TokenFile == "" {
			return nil
		}
		return writeFileAtomic(creds.TokenFile, []byte(tok.RefreshToken+"\n"))
	}
	ts := connectors.NewPersistingTokenSource(ctx, cfg, &oauth2.Token{RefreshToken: creds.RefreshToken}, save)
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		if n := len(saved); n > 0 && saved[n-1].RefreshToken != creds.RefreshToken && creds.TokenFile == "" {
			t.Logf("the platform rotated the refresh token; the one in %sREFRESH_TOKEN may stop working (use %sTOKEN_FILE)", p, p)
		}
	}()

	tenants, err := conn.Tenants(ctx, ts)
	if err != nil {
		t.Fatalf("tenants: %v", err)
	}
	if len(tenants) == 0 {
		t.Fatal("the token may use no tenant")
	}
	tenant := tenants[0].ID
	if creds.Tenant != "" {
		if !slices.ContainsFunc(tenants, func(x connectors.Tenant) bool { return x.ID == creds.Tenant }) {
			t.Fatalf("%sTENANT %s is not among the %d tenants the token may use", p, creds.Tenant, len(tenants))
		}
		tenant = creds.Tenant
	}
	sess := connectors.Session{TenantID: tenant, Tokens: ts}
	setup, err := conn.Setup(ctx, sess)
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	if len(setup.Accounts) == 0 || setup.BaseCurrency == "" {
		t.Fatalf("setup: %d accounts, base currency %q", len(setup.Accounts), setup.BaseCurrency)
	}
	t.Logf("tenant %s: %d accounts, %d tax rates, base currency %s, lock date %q",
		tenant, len(setup.Accounts), len(setup.TaxRates), setup.BaseCurrency, setup.LockDate)
	caps := conn.Capabilities()
	unknown := newReference(caps, "never-pushed")
	if _, found, err := conn.Find(ctx, sess, unknown); err != nil || found {
		t.Fatalf("find a reference never pushed: found %t, err %v", found, err)
	}

	if creds.Debit == "" || creds.Credit == "" {
		t.Logf("push-then-find not run: set %sDEBIT and %sCREDIT to post a 0.01 test journal", p, p)
		return
	}
	lookup := func(codeOrID string) Account {
		for _, a := range setup.Accounts {
			if a.Code == codeOrID || a.ID == codeOrID {
				return Account{ID: a.ID, Code: a.Code}
			}
		}
		t.Fatalf("no account %q in the setup", codeOrID)
		return Account{}
	}
	r := &run{t: t, s: s, env: &Env{Currency: setup.BaseCurrency, Debit: lookup(creds.Debit), Credit: lookup(creds.Credit)}}
	today := time.Now().UTC().Format(time.DateOnly)
	if setup.LockDate != "" && setup.LockDate >= today {
		t.Fatalf("the company is locked through %s; cannot post a test journal today", setup.LockDate)
	}
	doc := r.journal(today, setup.BaseCurrency, docLine{r.env.Debit, "0.01"}, docLine{r.env.Credit, "-0.01"})
	doc.Narration = "commercesync conformance test, safe to delete"
	ref := newReference(caps, "real")
	res, err := conn.Push(ctx, sess, doc, ref)
	if err != nil {
		t.Fatalf("push: %v", err)
	}
	found, ok, err := conn.Find(ctx, sess, ref)
	if err != nil || !ok || found.ExternalID != res.ExternalID {
		t.Fatalf("find after push: %+v found %t err %v, want %q", found, ok, err, res.ExternalID)
	}
	again, err := conn.Push(ctx, sess, doc, ref)
	if err != nil || again.ExternalID != res.ExternalID {
		t.Fatalf("the same push again: %+v err %v, want %q", again, err, res.ExternalID)
	}
	t.Logf("posted test journal %s (reference %s)", res.ExternalID, ref.Value)
}

func writeFileAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".token-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("store the rotated refresh token: %w", err)
	}
	return nil
}
