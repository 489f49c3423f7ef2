package control

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// Limits on tenants and their keys.
const (
	// MaxActiveKeys is how many keys a tenant may hold that still work:
	// enough for one per service and environment, with rotations under
	// way, and few enough that a leaked script making keys in a loop stops.
	MaxActiveKeys = 100
	// MaxKeyName and MaxTenantName bound the labels people give.
	MaxKeyName    = 100
	MaxTenantName = 200
	// MaxRotationGrace is the longest an old key keeps working after a
	// rotation, as Stripe allows.
	MaxRotationGrace = 7 * 24 * time.Hour
)

// ErrLimit is returned when a tenant already holds MaxActiveKeys keys.
var ErrLimit = errors.New("limit reached")

// ErrKeyRetired is returned for rotating a key that was rotated or revoked
// already: rotate its replacement, or issue a new key.
var ErrKeyRetired = fmt.Errorf("%w: the key was rotated or revoked already", ErrConflict)

// TenantScopes are the scopes an API key may hold, in order.
func TenantScopes() []v1.Scope {
	return []v1.Scope{v1.Scope_SCOPE_READ, v1.Scope_SCOPE_CONFIGURE, v1.Scope_SCOPE_INGEST}
}

// CheckScopes returns scopes sorted and without repeats, or why they cannot
// be a key's: none, or one that is not a tenant's.
func CheckScopes(scopes []v1.Scope) ([]v1.Scope, error) {
	if len(scopes) == 0 {
		return nil, errors.New("name at least one of SCOPE_READ, SCOPE_CONFIGURE and SCOPE_INGEST")
	}
	out := slices.Clone(scopes)
	slices.Sort(out)
	out = slices.Compact(out)
	for _, sc := range out {
		if !slices.Contains(TenantScopes(), sc) {
			return nil, fmt.Errorf("%s is not a scope an API key can hold; use SCOPE_READ, SCOPE_CONFIGURE or SCOPE_INGEST", sc)
		}
	}
	return out, nil
}

// KeyScopes returns what a key may do: a key made before keys had scopes
// may do all that a tenant may.
func KeyScopes(k *v1.ApiKey) []v1.Scope {
	if len(k.GetScopes()) == 0 {
		return TenantScopes()
	}
	return k.GetScopes()
}

func newSecret() (string, error) {
	var raw [24]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("make api key: %w", err)
	}
	return "csk_" + base64.RawURLEncoding.EncodeToString(raw[:]), nil
}

// CreateAPIKey makes a key with every tenant scope and returns its secret,
// which is stored only as a hash (and, for the development key alone, also
// sealed, so that `commercesync dev` can print it again).
func (s *Store) CreateAPIKey(ctx context.Context, tenantID string, dev bool) (string, error) {
	name := ""
	if dev {
		name = "Development key"
	}
	_, secret, err := s.issue(ctx, tenantID, name, TenantScopes(), dev)
	return secret, err
}

// IssueAPIKey makes a key of a tenant with the given scopes and returns it
// with its secret, which is stored only as a hash: it cannot be shown again.
func (s *Store) IssueAPIKey(ctx context.Context, tenantID, name string, scopes []v1.Scope) (*v1.ApiKey, string, error) {
	scopes, err := CheckScopes(scopes)
	if err != nil {
		return nil, "", err
	}
	if len(name) > MaxKeyName {
		return nil, "", fmt.Errorf("key name: at most %d characters", MaxKeyName)
	}
	if _, ok := s.Tenant(tenantID); !ok {
		return nil, "", ErrNotFound
	}
	if n := s.activeKeys(tenantID); n >= MaxActiveKeys {
		return nil, "", fmt.Errorf("tenant %s holds %d keys that work, the most it may: revoke one first: %w", tenantID, n, ErrLimit)
	}
	return s.issue(ctx, tenantID, name, scopes, false)
}

// issue makes a key; dev seals its secret as the development key's is.
func (s *Store) issue(ctx context.Context, tenantID, name string, scopes []v1.Scope, dev bool) (*v1.ApiKey, string, error) {
	secret, err := newSecret()
	if err != nil {
		return nil, "", err
	}
	k := &v1.ApiKey{Id: NewID(), TenantId: tenantID, SecretSha256: hashSecret(secret), Prefix: secret[:8], Created: s.stamp(),
		Scopes: scopes, Name: name}
	if dev {
		if k.DevSecret, err = s.sealer.Seal([]byte(secret), []byte("apikey/"+k.Id)); err != nil {
			return nil, "", err
		}
	}
	if err := s.write(ctx, "apikey/"+k.Id, &v1.ControlRecord{Entity: &v1.ControlRecord_ApiKey{ApiKey: k}}); err != nil {
		return nil, "", err
	}
	return k, secret, nil
}

// activeKeys counts a tenant's keys that still work.
func (s *Store) activeKeys(tenantID string) int {
	now := s.now()
	n := 0
	for _, k := range s.APIKeys(tenantID) {
		if works(k, now) {
			n++
		}
	}
	return n
}

func works(k *v1.ApiKey, now time.Time) bool {
	return !k.GetRevoked() && (k.GetExpiresUnixMs() == 0 || now.UnixMilli() < k.GetExpiresUnixMs())
}

// APIKeys lists a tenant's keys, revoked ones included, oldest first.
func (s *Store) APIKeys(tenantID string) []*v1.ApiKey {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []*v1.ApiKey
	for _, k := range s.keys {
		if k.GetTenantId() == tenantID {
			out = append(out, k)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].GetCreated() != out[j].GetCreated() {
			return out[i].GetCreated() < out[j].GetCreated()
		}
		return out[i].GetId() < out[j].GetId()
	})
	return out
}

// apiKey returns a key by id, under the view's lock.
func (s *Store) apiKey(tenantID, keyID string) (*v1.ApiKey, bool) {
	k, ok := s.keys[s.keyHashes[keyID]]
	return k, ok && k.GetTenantId() == tenantID
}

// updateKey applies fn to a tenant's key as UpdateConnection does.
func (s *Store) updateKey(ctx context.Context, tenantID, keyID string, fn func(*v1.ApiKey) error) (*v1.ApiKey, error) {
	return update(ctx, s, "api key "+keyID, apiKeyGuard(keyID), func() (*v1.ApiKey, bool) {
		return s.apiKey(tenantID, keyID)
	}, fn, func(k *v1.ApiKey) *v1.ControlRecord {
		return &v1.ControlRecord{Entity: &v1.ControlRecord_ApiKey{ApiKey: k}}
	})
}

// RevokeAPIKey makes a key stop working now, in every process once its
// view has read the revocation. A key of another tenant is ErrNotFound.
func (s *Store) RevokeAPIKey(ctx context.Context, tenantID, keyID string) (*v1.ApiKey, error) {
	k, err := s.updateKey(ctx, tenantID, keyID, func(k *v1.ApiKey) error {
		if k.GetRevoked() {
			return errUnchanged
		}
		k.Revoked = true
		return nil
	})
	if errors.Is(err, errUnchanged) {
		s.mu.RLock()
		defer s.mu.RUnlock()
		k, _ := s.apiKey(tenantID, keyID)
		return k, nil
	}
	return k, err
}

// RotateAPIKey issues a key with the old one's scopes and name, and makes
// the old one stop working after grace (now, for 0). The new key is made
// first: a rotation cut short leaves an unused new key, never a tenant
// whose only key is expiring with no replacement. Of two rotations of one
// key at once, one wins; the other's new key is revoked and it fails with
// ErrKeyRetired.
func (s *Store) RotateAPIKey(ctx context.Context, tenantID, keyID string, grace time.Duration) (*v1.ApiKey, string, error) {
	if grace < 0 || grace > MaxRotationGrace {
		return nil, "", fmt.Errorf("grace: must be between 0 and %s", MaxRotationGrace)
	}
	s.mu.RLock()
	old, ok := s.apiKey(tenantID, keyID)
	s.mu.RUnlock()
	if !ok {
		return nil, "", ErrNotFound
	}
	if old.GetRevoked() || old.GetReplacedBy() != "" {
		return nil, "", ErrKeyRetired
	}
	// The development key's replacement is sealed too, so that `dev`
	// prints the key that works.
	nk, secret, err := s.issue(ctx, tenantID, old.GetName(), KeyScopes(old), old.GetDevSecret() != nil)
	if err != nil {
		return nil, "", err
	}
	stop := s.now().Add(grace)
	_, err = s.updateKey(ctx, tenantID, keyID, func(k *v1.ApiKey) error {
		if k.GetRevoked() || k.GetReplacedBy() != "" {
			return ErrKeyRetired
		}
		k.ReplacedBy = nk.GetId()
		if grace == 0 {
			k.Revoked = true
		} else {
			k.ExpiresUnixMs = stop.UnixMilli()
		}
		return nil
	})
	if err != nil {
		if _, rerr := s.RevokeAPIKey(ctx, tenantID, nk.GetId()); rerr != nil {
			s.log.Warn("the new key of a failed rotation is not revoked; revoke it by hand", "key", nk.GetId(), "err", rerr)
		}
		return nil, "", err
	}
	return nk, secret, nil
}

// Authenticate returns the tenant a key secret belongs to.
func (s *Store) Authenticate(secret string) (string, bool) {
	tenant, _, ok := s.AuthenticateKey(secret)
	return tenant, ok
}

// AuthenticateKey returns the tenant a key secret belongs to and what the
// key may do. A revoked key, and a rotated one past its grace, are refused.
func (s *Store) AuthenticateKey(secret string) (string, []v1.Scope, bool) {
	if !strings.HasPrefix(secret, "csk_") {
		return "", nil, false
	}
	h := hashSecret(secret)
	s.mu.RLock()
	defer s.mu.RUnlock()
	k, ok := s.keys[h]
	if !ok || !works(k, s.now()) || subtle.ConstantTimeCompare([]byte(k.GetSecretSha256()), []byte(h)) != 1 {
		return "", nil, false
	}
	return k.GetTenantId(), KeyScopes(k), true
}

// Tenant returns a tenant by id.
func (s *Store) Tenant(id string) (*v1.Tenant, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ok := s.tenants[id]
	return t, ok
}

// Tenants returns up to n tenants in order of id after the id after, and
// whether more follow.
func (s *Store) Tenants(after string, n int) ([]*v1.Tenant, bool) {
	s.mu.RLock()
	ids := make([]string, 0, len(s.tenants))
	for id := range s.tenants {
		if id > after {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	more := len(ids) > n
	ids = ids[:min(n, len(ids))]
	out := make([]*v1.Tenant, len(ids))
	for i, id := range ids {
		out[i] = s.tenants[id]
	}
	s.mu.RUnlock()
	return out, more
}
