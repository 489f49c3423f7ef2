// Package gateway is the API: gRPC services, their grpc-gateway REST front,
// the per-record data routes, the OAuth callback and the OpenAPI document.
package gateway

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/commercesync/commercesync/pipeline/control"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

type tenantKey struct{}

func tenantFrom(ctx context.Context) string {
	t, _ := ctx.Value(tenantKey{}).(string)
	return t
}

var errNoKey = status.Error(codes.Unauthenticated, "missing API key: send the header \"Authorization: Bearer <api key>\"")
var errBadKey = status.Error(codes.Unauthenticated, "the API key is not valid; check it, or make a new one")

func bearer(h string) (string, bool) {
	const p = "bearer "
	if len(h) > len(p) && strings.EqualFold(h[:len(p)], p) {
		return strings.TrimSpace(h[len(p):]), true
	}
	return "", false
}

// authenticate resolves the caller's tenant from an Authorization value.
func authenticate(store *control.Store, header string) (string, error) {
	if header == "" {
		return "", errNoKey
	}
	secret, ok := bearer(header)
	if !ok {
		return "", errNoKey
	}
	tenant, ok := store.Authenticate(secret)
	if !ok {
		return "", errBadKey
	}
	return tenant, nil
}

func authInterceptor(store *control.Store) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		md, _ := metadata.FromIncomingContext(ctx)
		var h string
		if v := md.Get("authorization"); len(v) > 0 {
			h = v[0]
		}
		tenant, err := authenticate(store, h)
		if err != nil {
			return nil, err
		}
		return handler(context.WithValue(ctx, tenantKey{}, tenant), req)
	}
}

// company returns the caller's company, or NotFound when it is unknown or
// belongs to another tenant: the two are indistinguishable by design.
func company(ctx context.Context, store *control.Store, id string) (*v1.Company, error) {
	c, err := store.Company(tenantFrom(ctx), id)
	if errors.Is(err, control.ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "company %q not found", id)
	}
	return c, err
}

// httpStatus maps a gRPC status to the REST status grpc-gateway would use.
func httpStatus(err error) int {
	switch status.Code(err) {
	case codes.Unauthenticated:
		return http.StatusUnauthorized
	case codes.NotFound:
		return http.StatusNotFound
	case codes.InvalidArgument:
		return http.StatusBadRequest
	case codes.PermissionDenied:
		return http.StatusForbidden
	case codes.Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}
