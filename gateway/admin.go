package gateway

import (
	"context"
	"errors"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/commercesync/commercesync/pipeline/control"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// The admin API: tenants and their keys, for the operators of a
// deployment. authorize lets only the operator token in.

const (
	defaultTenantPage = 100
	maxTenantPage     = 1000
)

// CreateTenant registers a commerce platform as a tenant.
func (s *Server) CreateTenant(ctx context.Context, req *v1.CreateTenantRequest) (*v1.Tenant, error) {
	name := strings.TrimSpace(req.GetName())
	switch {
	case name == "":
		return nil, status.Error(codes.InvalidArgument, "name: is required; send the commerce platform's name")
	case len(name) > control.MaxTenantName:
		return nil, status.Errorf(codes.InvalidArgument, "name: must be at most %d characters", control.MaxTenantName)
	}
	t, err := s.store.CreateTenant(ctx, name)
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "tenant not created: %v", err)
	}
	return t, nil
}

// ListTenants pages through the tenants in order of id.
func (s *Server) ListTenants(_ context.Context, req *v1.ListTenantsRequest) (*v1.ListTenantsResponse, error) {
	n := int(req.GetPageSize())
	switch {
	case n < 0 || n > maxTenantPage:
		return nil, status.Errorf(codes.InvalidArgument, "pageSize: must be between 1 and %d (0 takes %d)", maxTenantPage, defaultTenantPage)
	case n == 0:
		n = defaultTenantPage
	}
	ts, more := s.store.Tenants(req.GetPageToken(), n)
	out := &v1.ListTenantsResponse{Tenants: ts}
	if more {
		out.NextPageToken = ts[len(ts)-1].GetId()
	}
	return out, nil
}

// CreateApiKey issues a key to a tenant.
func (s *Server) CreateApiKey(ctx context.Context, req *v1.CreateApiKeyRequest) (*v1.IssuedApiKey, error) {
	if err := s.knownTenant(req.GetTenantId()); err != nil {
		return nil, err
	}
	scopes, err := control.CheckScopes(req.GetScopes())
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "scopes: %v", err)
	}
	if len(req.GetName()) > control.MaxKeyName {
		return nil, status.Errorf(codes.InvalidArgument, "name: must be at most %d characters", control.MaxKeyName)
	}
	k, secret, err := s.store.IssueAPIKey(ctx, req.GetTenantId(), req.GetName(), scopes)
	if err != nil {
		return nil, keyError(err)
	}
	return &v1.IssuedApiKey{Key: keyInfo(k), Secret: secret}, nil
}

// ListApiKeys lists a tenant's keys, without their secrets.
func (s *Server) ListApiKeys(_ context.Context, req *v1.ListApiKeysRequest) (*v1.ListApiKeysResponse, error) {
	if err := s.knownTenant(req.GetTenantId()); err != nil {
		return nil, err
	}
	out := &v1.ListApiKeysResponse{}
	for _, k := range s.store.APIKeys(req.GetTenantId()) {
		out.Keys = append(out.Keys, keyInfo(k))
	}
	return out, nil
}

// RotateApiKey replaces a key, the old one working on for the grace asked.
func (s *Server) RotateApiKey(ctx context.Context, req *v1.RotateApiKeyRequest) (*v1.IssuedApiKey, error) {
	if err := s.knownTenant(req.GetTenantId()); err != nil {
		return nil, err
	}
	g := req.GetGraceSeconds()
	if g < 0 || g > int64(control.MaxRotationGrace/time.Second) {
		return nil, status.Errorf(codes.InvalidArgument, "graceSeconds: must be between 0 (the old key stops now) and %d (7 days)",
			int64(control.MaxRotationGrace/time.Second))
	}
	k, secret, err := s.store.RotateAPIKey(ctx, req.GetTenantId(), req.GetKeyId(), time.Duration(g)*time.Second)
	if err != nil {
		return nil, keyError(err)
	}
	return &v1.IssuedApiKey{Key: keyInfo(k), Secret: secret}, nil
}

// RevokeApiKey stops a key now.
func (s *Server) RevokeApiKey(ctx context.Context, req *v1.RevokeApiKeyRequest) (*v1.ApiKeyInfo, error) {
	if err := s.knownTenant(req.GetTenantId()); err != nil {
		return nil, err
	}
	k, err := s.store.RevokeAPIKey(ctx, req.GetTenantId(), req.GetKeyId())
	if err != nil {
		return nil, keyError(err)
	}
	return keyInfo(k), nil
}

func (s *Server) knownTenant(id string) error {
	if _, ok := s.store.Tenant(id); !ok {
		return status.Errorf(codes.NotFound, "tenant %q not found", id)
	}
	return nil
}

// keyError is the answer for a failed key operation.
func keyError(err error) error {
	switch {
	case errors.Is(err, control.ErrNotFound):
		return status.Error(codes.NotFound, "key not found for this tenant")
	case errors.Is(err, control.ErrKeyRetired):
		return status.Error(codes.FailedPrecondition, "keyId: the key was rotated or revoked already; rotate the key that replaced it, or issue a new one")
	case errors.Is(err, control.ErrLimit):
		return status.Error(codes.ResourceExhausted, err.Error())
	case errors.Is(err, control.ErrConflict):
		return status.Error(codes.Aborted, err.Error())
	}
	return status.Errorf(codes.Unavailable, "key not changed: %v", err)
}

// keyInfo is what may be shown of a key.
func keyInfo(k *v1.ApiKey) *v1.ApiKeyInfo {
	out := &v1.ApiKeyInfo{Id: k.GetId(), TenantId: k.GetTenantId(), Prefix: k.GetPrefix(), Scopes: control.KeyScopes(k), Name: k.GetName(),
		Created: k.GetCreated(), Revoked: k.GetRevoked(), ReplacedBy: k.GetReplacedBy()}
	if ms := k.GetExpiresUnixMs(); ms > 0 {
		out.Expires = time.UnixMilli(ms).UTC().Format(time.RFC3339)
	}
	return out
}
