package gateway

import (
	"bytes"
	"io"
	"net/http"
	"slices"
	"strings"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// maxRequestBody bounds the body of every REST route other than the data
// routes (which take records.Limits.BodyBytes): configurations and commands
// are small, and 4 MiB is also what the gRPC hop behind them accepts by
// default.
const maxRequestBody = 4 << 20

// route is one method on one path template of the REST front.
type route struct {
	method string
	segs   []string // a path template split at "/", with "*" for a variable
	keyed  bool     // the route needs a credential: an API key, or the operator's
	scope  v1.Scope // what the credential must allow
	// ownBody routes read their body themselves, within their own limit.
	ownBody bool
}

// restRoutes lists every route the REST front serves: the services' routes,
// read from their google.api.http annotations so that the list cannot drift
// from what grpc-gateway registers, and the few served beside them.
func restRoutes() []route {
	var rs []route
	for _, md := range apiMethods() {
		rule, _ := proto.GetExtension(md.Options(), annotations.E_Http).(*annotations.HttpRule)
		rs = appendRule(rs, rule, md.Parent().FullName() == "commercesync.v1.DataService", methodScope(md))
	}
	for _, p := range []string{"/v1/oauth/link/{connectionId}", "/v1/oauth/callback", "/openapi.json", "/healthz", reconciliationCSVPath} {
		// http.ServeMux serves HEAD wherever it serves GET.
		rs = append(rs, route{method: http.MethodGet, segs: segments(p)}, route{method: http.MethodHead, segs: segments(p)})
	}
	return rs
}

func appendRule(rs []route, rule *annotations.HttpRule, ownBody bool, scope v1.Scope) []route {
	if rule == nil {
		return rs
	}
	var method, path string
	switch p := rule.GetPattern().(type) {
	case *annotations.HttpRule_Get:
		method, path = http.MethodGet, p.Get
	case *annotations.HttpRule_Put:
		method, path = http.MethodPut, p.Put
	case *annotations.HttpRule_Post:
		method, path = http.MethodPost, p.Post
	case *annotations.HttpRule_Delete:
		method, path = http.MethodDelete, p.Delete
	case *annotations.HttpRule_Patch:
		method, path = http.MethodPatch, p.Patch
	case *annotations.HttpRule_Custom:
		method, path = p.Custom.GetKind(), p.Custom.GetPath()
	}
	if method != "" {
		rs = append(rs, route{method: method, segs: segments(path), keyed: true, scope: scope, ownBody: ownBody})
	}
	for _, b := range rule.GetAdditionalBindings() {
		rs = appendRule(rs, b, ownBody, scope)
	}
	return rs
}

// segments splits a path template; each {variable} matches one segment.
func segments(template string) []string {
	segs := strings.Split(strings.TrimPrefix(template, "/"), "/")
	for i, s := range segs {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			segs[i] = "*"
		}
	}
	return segs
}

// match returns the routes whose template matches path, whatever their method.
func match(rs []route, path string) []route {
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	var out []route
	for _, r := range rs {
		if len(r.segs) != len(segs) {
			continue
		}
		ok := true
		for i, s := range r.segs {
			if s == "*" && segs[i] == "" || s != "*" && s != segs[i] {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, r)
		}
	}
	return out
}

// guard answers, in front of both muxes and before any body is read, what
// does not depend on the body: a method the path does not take (405, with
// Allow; grpc-gateway alone says 501, and the data routes' mux 404), a
// missing or wrong key (401; grpc-gateway decodes the body before the gRPC
// call checks the key, so a bad body used to answer 400), and a body over
// maxRequestBody (413). Unknown paths pass through to be answered 404.
func guard(rs []route, s *Server, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		known := match(rs, r.URL.Path)
		if len(known) == 0 {
			next.ServeHTTP(w, r)
			return
		}
		i := slices.IndexFunc(known, func(rt route) bool { return rt.method == r.Method })
		if i < 0 {
			var allow []string
			for _, rt := range known {
				if !slices.Contains(allow, rt.method) {
					allow = append(allow, rt.method)
				}
			}
			slices.Sort(allow)
			w.Header().Set("Allow", strings.Join(allow, ", "))
			method := r.Method
			if len(method) > 16 { // a token the client chose; the answer stays short
				method = method[:16] + "…"
			}
			restError(w, http.StatusMethodNotAllowed, status.Errorf(codes.Unimplemented,
				"this route takes %s, not %s", strings.Join(allow, " or "), method))
			return
		}
		rt := known[i]
		if rt.keyed {
			if _, err := s.authorize(r.Context(), r.Header.Get("Authorization"), rt.scope); err != nil {
				restError(w, httpStatus(err), err)
				return
			}
		}
		if !rt.ownBody && r.Body != nil && r.Body != http.NoBody {
			body, code, err := readBody(w, r, maxRequestBody, "send a smaller body")
			if err != nil {
				restError(w, code, err)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		next.ServeHTTP(w, r)
	})
}
