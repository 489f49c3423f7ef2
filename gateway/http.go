package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/commercesync/commercesync/gateway/openapi"
	"github.com/commercesync/commercesync/gateway/records"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// GRPC returns the gRPC server with every service registered. A push over
// gRPC takes as large a message as a REST body (records.Limits.BodyBytes);
// opts may override it. Messages are protobuf, the stream's requests read
// by pushCodec.
func (s *Server) GRPC(opts ...grpc.ServerOption) *grpc.Server {
	opts = append([]grpc.ServerOption{grpc.MaxRecvMsgSize(int(s.limits.BodyBytes)), grpc.ForceServerCodecV2(newPushCodec())}, opts...)
	g := grpc.NewServer(append(opts, grpc.UnaryInterceptor(authInterceptor(s)), grpc.StreamInterceptor(streamAuthInterceptor(s)))...)
	v1.RegisterPlatformServiceServer(g, s)
	v1.RegisterCompanyServiceServer(g, s)
	v1.RegisterSyncServiceServer(g, s)
	v1.RegisterDataServiceServer(g, s)
	v1.RegisterAdminServiceServer(g, s)
	return g
}

var jsonOut = protojson.MarshalOptions{UseProtoNames: false, EmitUnpopulated: false}

// HTTP returns the REST front: grpc-gateway over conn (a client of this
// server's gRPC listener, so both fronts share one auth path), except the
// data routes, which decode each record on its own.
func (s *Server) HTTP(ctx context.Context, conn *grpc.ClientConn) (http.Handler, error) {
	gw := runtime.NewServeMux(runtime.WithMarshalerOption(runtime.MIMEWildcard, &runtime.JSONPb{
		MarshalOptions:   jsonOut,
		UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
	}), runtime.WithIncomingHeaderMatcher(func(h string) (string, bool) {
		if strings.EqualFold(h, idempotencyHeader) {
			return idempotencyHeader, true
		}
		return runtime.DefaultHeaderMatcher(h)
	}), runtime.WithOutgoingHeaderMatcher(func(h string) (string, bool) {
		if h == replayedHeader {
			return "Idempotent-Replayed", true
		}
		return runtime.MetadataHeaderPrefix + h, true
	}))
	for _, reg := range []func(context.Context, *runtime.ServeMux, *grpc.ClientConn) error{
		v1.RegisterPlatformServiceHandler, v1.RegisterCompanyServiceHandler, v1.RegisterSyncServiceHandler,
		v1.RegisterAdminServiceHandler,
	} {
		if err := reg(ctx, gw, conn); err != nil {
			return nil, fmt.Errorf("register REST routes: %w", err)
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/companies/{companyId}/data/commerce-orders", restPush(s, v1.RecordKind_RECORD_KIND_ORDER, func() *v1.Order { return &v1.Order{} }))
	mux.HandleFunc("POST /v1/companies/{companyId}/data/commerce-payments", restPush(s, v1.RecordKind_RECORD_KIND_PAYMENT, func() *v1.Payment { return &v1.Payment{} }))
	mux.HandleFunc("POST /v1/companies/{companyId}/data/commerce-transactions", restPush(s, v1.RecordKind_RECORD_KIND_TRANSACTION, func() *v1.Transaction { return &v1.Transaction{} }))
	mux.HandleFunc("PUT /v1/companies/{companyId}/data/commerce-locations", restPut(s, v1.ReferenceKind_REFERENCE_KIND_LOCATION, "", func() *v1.Location { return &v1.Location{} }))
	mux.HandleFunc("PUT /v1/companies/{companyId}/data/commerce-products", restPut(s, v1.ReferenceKind_REFERENCE_KIND_PRODUCT, "", func() *v1.Product { return &v1.Product{} }))
	// Codat's own category push wraps the list: {"ContractVersion": …, "ProductCategories": [...]}.
	mux.HandleFunc("PUT /v1/companies/{companyId}/data/commerce-productCategories", restPut(s, v1.ReferenceKind_REFERENCE_KIND_PRODUCT_CATEGORY, "ProductCategories", func() *v1.ProductCategory { return &v1.ProductCategory{} }))
	mux.HandleFunc("PUT /v1/companies/{companyId}/data/commerce-taxComponents", restPut(s, v1.ReferenceKind_REFERENCE_KIND_TAX_COMPONENT, "", func() *v1.TaxComponent { return &v1.TaxComponent{} }))
	mux.HandleFunc("PUT /v1/companies/{companyId}/data/commerce-paymentMethods", restPut(s, v1.ReferenceKind_REFERENCE_KIND_PAYMENT_METHOD, "", func() *v1.PaymentMethod { return &v1.PaymentMethod{} }))
	mux.HandleFunc("GET /v1/oauth/link/{connectionId}", s.oauthLink)
	mux.HandleFunc("GET /v1/oauth/callback", s.oauthCallback)
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openapi.Document)
	})
	mux.HandleFunc("GET "+reconciliationCSVPath, s.reconciliationCSV)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	mux.Handle("/", gw)
	return guard(restRoutes(), s, mux), nil
}

// restError writes the same envelope grpc-gateway writes for errors.
func restError(w http.ResponseWriter, code int, err error) {
	st, _ := status.FromError(err)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"code": int(st.Code()), "message": st.Message(), "details": []any{}})
}

func restPush[T proto.Message](s *Server, kind v1.RecordKind, newMsg func() T) http.HandlerFunc {
	return restRecords(s, "", newMsg, func(ctx context.Context, c *v1.Company, ps []pending) (*v1.PushResponse, error) {
		return s.ingest(ctx, c, kind, ps)
	})
}

func restPut[T proto.Message](s *Server, kind v1.ReferenceKind, wrapper string, newMsg func() T) http.HandlerFunc {
	return restRecords(s, wrapper, newMsg, func(ctx context.Context, c *v1.Company, ps []pending) (*v1.PushResponse, error) {
		return s.ingestReference(ctx, c, kind, ps)
	})
}

// restRecords decodes a JSON array of records element by element and hands
// them to ingest. wrapper names the field of an object body that may hold
// the array instead.
func restRecords[T proto.Message](s *Server, wrapper string, newMsg func() T,
	ingest func(context.Context, *v1.Company, []pending) (*v1.PushResponse, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tenant, err := authenticate(r.Context(), s.store, r.Header.Get("Authorization"))
		if err != nil {
			restError(w, http.StatusUnauthorized, err)
			return
		}
		ctx := context.WithValue(r.Context(), tenantKey{}, tenant)
		c, err := company(ctx, s.store, r.PathValue("companyId"))
		if err != nil {
			restError(w, httpStatus(err), err)
			return
		}
		body, code, err := readBody(w, r, s.limits.BodyBytes, "split the records into several requests")
		if err != nil {
			restError(w, code, err)
			return
		}
		if wrapper != "" {
			body = unwrap(body, wrapper)
		}
		items, err := records.DecodeBatch(body, s.limits.BatchRecords, newMsg)
		switch {
		case errors.Is(err, records.ErrTooMany):
			restError(w, http.StatusRequestEntityTooLarge, status.Error(codes.InvalidArgument, err.Error()))
			return
		case err != nil:
			restError(w, http.StatusBadRequest, status.Error(codes.InvalidArgument, err.Error()))
			return
		}
		records.ValidateItemsWithin(items, s.limits)
		resp, err := ingest(ctx, c, pendingOf(items))
		if err != nil {
			restError(w, http.StatusServiceUnavailable, status.Error(codes.Unavailable, err.Error()))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(appendPushAnswer(make([]byte, 0, 64+64*len(resp.GetResults())), resp))
	}
}

// unwrap returns the array under field when body is an object holding one;
// any other body is returned as it is, for the decoder to judge.
func unwrap(body []byte, field string) []byte {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		return body
	}
	if arr, ok := obj[field]; ok {
		return arr
	}
	return body
}

// readBody reads a request body of at most limit bytes, refusing one that
// says it is larger before reading any of it. The error is a gRPC status, to
// be written with the HTTP status code.
func readBody(w http.ResponseWriter, r *http.Request, limit int64, fix string) ([]byte, int, error) {
	tooLarge := func(size string) error {
		return status.Errorf(codes.InvalidArgument, "the body is %s; the limit is %s (%d bytes); %s", size, byteSize(limit), limit, fix)
	}
	if r.ContentLength > limit {
		return nil, http.StatusRequestEntityTooLarge, tooLarge(fmt.Sprintf("%d bytes", r.ContentLength))
	}
	body, err := readAll(http.MaxBytesReader(w, r.Body, limit), r.ContentLength)
	var mb *http.MaxBytesError
	switch {
	case errors.As(err, &mb):
		return nil, http.StatusRequestEntityTooLarge, tooLarge("larger than that")
	case err != nil:
		return nil, http.StatusBadRequest, status.Errorf(codes.InvalidArgument, "the body could not be read: %v", err)
	}
	return body, 0, nil
}

// byteSize renders a limit as people write it: 64 MiB, 512 KiB, 300 bytes.
func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
