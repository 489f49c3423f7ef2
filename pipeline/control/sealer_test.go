package control_test

import (
	"bytes"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"google.golang.org/protobuf/proto"

	"github.com/commercesync/commercesync/pipeline/control"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

func newKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func newSealer(t testing.TB, keys ...[]byte) *control.Sealer {
	t.Helper()
	s, err := control.NewSealer(keys...)
	if err != nil {
		t.Fatalf("NewSealer: %v", err)
	}
	return s
}

func TestSealerRoundTrip(t *testing.T) {
	s := newSealer(t, newKey(t))
	for _, pt := range [][]byte{[]byte("csk_secret"), {}, bytes.Repeat([]byte{0xff}, 4096)} {
		sec, err := s.Seal(pt, []byte("apikey/1"))
		if err != nil {
			t.Fatal(err)
		}
		if len(pt) > 4 && bytes.Contains(sec.GetCiphertext(), pt) {
			t.Error("ciphertext contains the plaintext")
		}
		got, err := s.Open(sec, []byte("apikey/1"))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if !bytes.Equal(got, pt) {
			t.Errorf("Open = %q, want %q", got, pt)
		}
	}
	// A fresh nonce each time: sealing twice gives different ciphertexts.
	a, _ := s.Seal([]byte("same"), nil)
	b, _ := s.Seal([]byte("same"), nil)
	if bytes.Equal(a.GetNonce(), b.GetNonce()) || bytes.Equal(a.GetCiphertext(), b.GetCiphertext()) {
		t.Error("two seals of one plaintext share a nonce or ciphertext")
	}
	if _, err := s.Open(nil, nil); err == nil {
		t.Error("Open(nil) succeeded")
	}
}

func TestSealerDetectsTampering(t *testing.T) {
	s := newSealer(t, newKey(t))
	sec, err := s.Seal([]byte("refresh-token-value"), []byte("connection/c1"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range sec.GetCiphertext() {
		bad := proto.Clone(sec).(*v1.SealedSecret)
		bad.Ciphertext[i] ^= 0x01
		if got, err := s.Open(bad, []byte("connection/c1")); err == nil {
			t.Fatalf("ciphertext byte %d flipped: Open = %q, want an error", i, got)
		}
	}
	bad := proto.Clone(sec).(*v1.SealedSecret)
	bad.Nonce[0] ^= 0x80
	if _, err := s.Open(bad, []byte("connection/c1")); err == nil {
		t.Error("nonce flipped: Open succeeded")
	}
	bad = proto.Clone(sec).(*v1.SealedSecret)
	bad.Ciphertext = bad.Ciphertext[:len(bad.Ciphertext)-1]
	if _, err := s.Open(bad, []byte("connection/c1")); err == nil {
		t.Error("truncated ciphertext: Open succeeded")
	}
	// The untouched value still opens.
	if _, err := s.Open(sec, []byte("connection/c1")); err != nil {
		t.Errorf("original: %v", err)
	}
}

func TestSealerBindsAAD(t *testing.T) {
	s := newSealer(t, newKey(t))
	sec, err := s.Seal([]byte("token"), []byte("connection/c1"))
	if err != nil {
		t.Fatal(err)
	}
	for _, aad := range [][]byte{[]byte("connection/c2"), nil, []byte("connection/c1 ")} {
		if got, err := s.Open(sec, aad); err == nil {
			t.Errorf("Open with aad %q = %q, want an error", aad, got)
		}
	}
}

func TestSealerKeyRotation(t *testing.T) {
	oldKey, newK := newKey(t), newKey(t)
	old := newSealer(t, oldKey)
	sec, err := old.Seal([]byte("sealed before rotation"), []byte("a"))
	if err != nil {
		t.Fatal(err)
	}
	rotated := newSealer(t, newK, oldKey)
	got, err := rotated.Open(sec, []byte("a"))
	if err != nil || string(got) != "sealed before rotation" {
		t.Fatalf("rotated sealer Open = %q, %v", got, err)
	}
	fresh, err := rotated.Seal([]byte("sealed after rotation"), []byte("a"))
	if err != nil {
		t.Fatal(err)
	}
	if fresh.GetKeyId() == sec.GetKeyId() {
		t.Errorf("rotated sealer still seals with the old key id %s", sec.GetKeyId())
	}
	if got, err := newSealer(t, newK).Open(fresh, []byte("a")); err != nil || string(got) != "sealed after rotation" {
		t.Errorf("new-key-only sealer Open = %q, %v", got, err)
	}
	// Once the old key is dropped, its values name a key the sealer lacks.
	_, err = newSealer(t, newK).Open(sec, []byte("a"))
	if err == nil || !strings.Contains(err.Error(), "unknown key "+sec.GetKeyId()) {
		t.Errorf("Open without the old key: err = %v, want it to name unknown key %s", err, sec.GetKeyId())
	}
	// The old sealer cannot open what the new key sealed.
	if _, err := old.Open(fresh, []byte("a")); err == nil {
		t.Error("old sealer opened a value sealed under the new key")
	}
}

func TestNewSealerRefusesBadKeys(t *testing.T) {
	if _, err := control.NewSealer(); err == nil {
		t.Error("NewSealer() with no key succeeded")
	}
	for _, n := range []int{0, 16, 24, 31, 33, 64} {
		_, err := control.NewSealer(make([]byte, n))
		if err == nil {
			t.Errorf("%d-byte key accepted", n)
			continue
		}
		if !strings.Contains(err.Error(), "32") {
			t.Errorf("%d-byte key: error %q does not say 32 bytes are needed", n, err)
		}
	}
	// A bad key anywhere in the list is refused, and named by position.
	_, err := control.NewSealer(newKey(t), make([]byte, 10))
	if err == nil || !strings.Contains(err.Error(), "key 1") {
		t.Errorf("second key of 10 bytes: err = %v, want it to name key 1", err)
	}
}

func TestSealTokenRoundTrip(t *testing.T) {
	s := newSealer(t, newKey(t))
	tok := &oauth2.Token{
		AccessToken: "at-123", RefreshToken: "rt-456", TokenType: "Bearer",
		Expiry: time.Date(2026, 3, 29, 10, 30, 0, 0, time.UTC),
	}
	sec, err := control.SealToken(s, "conn-1", tok)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sec.GetCiphertext(), []byte("rt-456")) {
		t.Error("sealed token shows the refresh token")
	}
	got, err := control.OpenToken(s, &v1.Connection{Id: "conn-1", Token: sec})
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessToken != tok.AccessToken || got.RefreshToken != tok.RefreshToken || got.TokenType != tok.TokenType || !got.Expiry.Equal(tok.Expiry) {
		t.Errorf("OpenToken = %+v, want %+v", got, tok)
	}
	// A token moved onto another connection does not open.
	if _, err := control.OpenToken(s, &v1.Connection{Id: "conn-2", Token: sec}); err == nil {
		t.Error("token sealed for conn-1 opened on conn-2")
	}
	if _, err := control.OpenToken(s, &v1.Connection{Id: "conn-1"}); err == nil {
		t.Error("connection without a token opened")
	}
}
