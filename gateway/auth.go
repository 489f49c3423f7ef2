// Package gateway is the API: gRPC services, their grpc-gateway REST front,
// the per-record data routes, the OAuth callback and the OpenAPI document.
package gateway

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

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
var errNoOperator = status.Error(codes.Unauthenticated, "missing operator token: send the header \"Authorization: Bearer <operator token>\" (cso_…); an API key does not open the admin API")
var errBadOperator = status.Error(codes.Unauthenticated, "the operator token is not valid; it is the gateway's COMMERCESYNC_ADMIN_TOKEN")
var errAdminOff = status.Error(codes.PermissionDenied, "the admin API is off on this gateway: start it with COMMERCESYNC_ADMIN_TOKEN set to an operator token (cso_ and at least 32 more characters)")

func bearer(h string) (string, bool) {
	const p = "bearer "
	if len(h) > len(p) && strings.EqualFold(h[:len(p)], p) {
		return strings.TrimSpace(h[len(p):]), true
	}
	return "", false
}

// operatorPrefix starts every operator token, so that an operator token is
// never taken for an API key (csk_…) or the other way round.
const operatorPrefix = "cso_"

// CheckOperatorToken says why token cannot be an operator token, or nil.
func CheckOperatorToken(token string) error {
	if !strings.HasPrefix(token, operatorPrefix) || len(token) < len(operatorPrefix)+32 {
		return errors.New("an operator token starts with cso_ and has at least 32 more characters; make one with: echo cso_$(head -c 24 /dev/urandom | base64 | tr '+/' '-_')")
	}
	for i := 0; i < len(token); i++ {
		if token[i] <= ' ' || token[i] >= 0x7f {
			return errors.New("an operator token holds printable ASCII characters only, without spaces")
		}
	}
	return nil
}

// WithOperatorToken opens the admin API to callers that present token. A
// token CheckOperatorToken refuses is a programming error and panics here,
// at start. Without this option the admin API refuses every call.
func WithOperatorToken(token string) Option {
	if err := CheckOperatorToken(token); err != nil {
		panic(fmt.Sprintf("gateway.WithOperatorToken: %v", err))
	}
	sum := sha256.Sum256([]byte(token))
	return func(s *Server) { s.operator = sum[:] }
}

// authenticate resolves the caller's tenant from an Authorization value.
func authenticate(ctx context.Context, store *control.Store, header string) (string, error) {
	tenant, _, err := authenticateKey(ctx, store, header)
	return tenant, err
}

func authenticateKey(ctx context.Context, store *control.Store, header string) (string, []v1.Scope, error) {
	if header == "" {
		return "", nil, errNoKey
	}
	secret, ok := bearer(header)
	if !ok {
		return "", nil, errNoKey
	}
	tenant, scopes, ok := store.AuthenticateKey(secret)
	if !ok && strings.HasPrefix(secret, "csk_") && store.CatchUp(ctx) {
		// Issued a moment ago through another gateway, perhaps.
		tenant, scopes, ok = store.AuthenticateKey(secret)
	}
	if !ok {
		return "", nil, errBadKey
	}
	return tenant, scopes, nil
}

// authorize checks that the Authorization value header allows scope and
// returns the caller's tenant ("" for the operator). A method without a
// scope is refused to everyone.
func (s *Server) authorize(ctx context.Context, header string, scope v1.Scope) (string, error) {
	switch scope {
	case v1.Scope_SCOPE_UNSPECIFIED:
		return "", status.Error(codes.PermissionDenied, "this method names no scope, so no credential may call it")
	case v1.Scope_SCOPE_OPERATOR:
		if s.operator == nil {
			return "", errAdminOff
		}
		token, ok := bearer(header)
		if !ok || strings.HasPrefix(token, "csk_") {
			return "", errNoOperator
		}
		sum := sha256.Sum256([]byte(token))
		if !strings.HasPrefix(token, operatorPrefix) || subtle.ConstantTimeCompare(sum[:], s.operator) != 1 {
			return "", errBadOperator
		}
		return "", nil
	}
	tenant, scopes, err := authenticateKey(ctx, s.store, header)
	if err != nil {
		return "", err
	}
	if !slices.Contains(scopes, scope) {
		name := scopeName(scope)
		return "", status.Errorf(codes.PermissionDenied, "this API key lacks the %s scope this call needs; use a key that has it "+
			"(an operator makes one with: commercesync admin keys create -tenant <tenant id> -scopes %s)", name, name)
	}
	return tenant, nil
}

// scopeName is a scope as people write it: "ingest" for SCOPE_INGEST.
func scopeName(sc v1.Scope) string {
	return strings.ToLower(strings.TrimPrefix(sc.String(), "SCOPE_"))
}

// authorization returns the Authorization metadata of a call.
func authorization(ctx context.Context) string {
	md, _ := metadata.FromIncomingContext(ctx)
	if v := md.Get("authorization"); len(v) > 0 {
		return v[0]
	}
	return ""
}

func authInterceptor(s *Server) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		tenant, err := s.authorize(ctx, authorization(ctx), s.scopes[info.FullMethod])
		if err != nil {
			return nil, err
		}
		return handler(context.WithValue(ctx, tenantKey{}, tenant), req)
	}
}

// apiMethods lists every method of every service the API serves.
func apiMethods() []protoreflect.MethodDescriptor {
	var out []protoreflect.MethodDescriptor
	for _, f := range []protoreflect.FileDescriptor{v1.File_commercesync_v1_service_proto, v1.File_commercesync_v1_admin_proto} {
		services := f.Services()
		for i := range services.Len() {
			methods := services.Get(i).Methods()
			for j := range methods.Len() {
				out = append(out, methods.Get(j))
			}
		}
	}
	return out
}

// methodScope is the scope a method's required_scope option names.
func methodScope(md protoreflect.MethodDescriptor) v1.Scope {
	sc, _ := proto.GetExtension(md.Options(), v1.E_RequiredScope).(v1.Scope)
	return sc
}

// methodScopes maps each gRPC method ("/commercesync.v1.DataService/PushOrders")
// to the scope it needs.
func methodScopes() map[string]v1.Scope {
	out := map[string]v1.Scope{}
	for _, md := range apiMethods() {
		out[fmt.Sprintf("/%s/%s", md.Parent().FullName(), md.Name())] = methodScope(md)
	}
	return out
}

// company returns the caller's company, or NotFound when it is unknown or
// belongs to another tenant: the two are indistinguishable by design.
func company(ctx context.Context, store *control.Store, id string) (*v1.Company, error) {
	c, err := store.Company(tenantFrom(ctx), id)
	if errors.Is(err, control.ErrNotFound) && store.CatchUp(ctx) {
		// Made a moment ago through another gateway, perhaps.
		c, err = store.Company(tenantFrom(ctx), id)
	}
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
	case codes.FailedPrecondition:
		return http.StatusBadRequest
	case codes.AlreadyExists, codes.Aborted:
		return http.StatusConflict
	case codes.ResourceExhausted:
		return http.StatusTooManyRequests
	case codes.Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}
