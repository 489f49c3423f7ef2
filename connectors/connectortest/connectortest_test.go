package connectortest

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/commercesync/commercesync/connectors"
)

func TestEnvPrefix(t *testing.T) {
	for name, want := range map[string]string{
		"xero": "COMMERCESYNC_REAL_XERO_", "qbo": "COMMERCESYNC_REAL_QBO_", "free-agent": "COMMERCESYNC_REAL_FREE_AGENT_",
	} {
		if got := EnvPrefix(name); got != want {
			t.Errorf("EnvPrefix(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestRealCredentials(t *testing.T) {
	p := EnvPrefix("xero")
	for _, k := range []string{"CLIENT_ID", "CLIENT_SECRET", "REFRESH_TOKEN", "TOKEN_FILE", "TENANT", "DEBIT", "CREDIT"} {
		t.Setenv(p+k, "")
	}
	if _, ok := RealCredentials("xero"); ok {
		t.Fatal("credentials found in an empty environment")
	}
	t.Setenv(p+"CLIENT_ID", " id ")
	if _, ok := RealCredentials("xero"); ok {
		t.Fatal("a client id alone counts as credentials")
	}
	t.Setenv(p+"TOKEN_FILE", "/tmp/tok")
	t.Setenv(p+"DEBIT", "404")
	c, ok := RealCredentials("xero")
	if !ok || c.ClientID != "id" || c.TokenFile != "/tmp/tok" || c.Debit != "404" || c.Credit != "" {
		t.Fatalf("%+v %t", c, ok)
	}
	if _, ok := RealCredentials("qbo"); ok {
		t.Fatal("xero's credentials were read for qbo")
	}
}

// References must fit every platform's format: Sage wants a 32-character
// hexadecimal idempotency_id, QBO a requestid of at most 50 characters,
// Xero a key of at most 128; references go into narrations and filters.
func TestReferencesFitTheLimits(t *testing.T) {
	hexKey := regexp.MustCompile(`^[0-9a-f]+$`)
	value := regexp.MustCompile(`^[a-z0-9-]+$`)
	for _, caps := range []connectors.Capabilities{
		{}, {MaxIdempotencyKeyLen: 128, MaxReferenceLen: 128}, {MaxIdempotencyKeyLen: 50, MaxReferenceLen: 21},
		{MaxIdempotencyKeyLen: 32}, {MaxIdempotencyKeyLen: 20, MaxReferenceLen: 12},
	} {
		seen := map[string]bool{}
		for range 50 {
			r := newReference(caps, "dropped-response")
			if !hexKey.MatchString(r.IdempotencyKey) || !value.MatchString(r.Value) {
				t.Fatalf("%+v: reference %+v has characters a platform may refuse", caps, r)
			}
			wantKey := 32
			if n := caps.MaxIdempotencyKeyLen; n > 0 && n < 32 {
				wantKey = n
			}
			if len(r.IdempotencyKey) != wantKey {
				t.Fatalf("%+v: key %q has %d characters, want %d", caps, r.IdempotencyKey, len(r.IdempotencyKey), wantKey)
			}
			if n := caps.MaxReferenceLen; n > 0 && len(r.Value) > n {
				t.Fatalf("%+v: reference %q is longer than %d", caps, r.Value, n)
			}
			if seen[r.Value] || seen[r.IdempotencyKey] {
				t.Fatalf("%+v: reference %+v repeats", caps, r)
			}
			seen[r.Value], seen[r.IdempotencyKey] = true, true
		}
	}
}

func TestRotatedTokensAreWrittenPrivately(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token")
	for _, tok := range []string{"first", "second"} {
		if err := writeFileAtomic(path, []byte(tok+"\n")); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "second\n" {
		t.Fatalf("%q %v", b, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v %v", fi.Mode(), err)
	}
}
