package gateway

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/commercesync/commercesync/connectors"
	"github.com/commercesync/commercesync/pipeline/control"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

func (s *Server) platformKey(key string) (string, bool) {
	if _, ok := s.connectors[key]; ok {
		return key, true
	}
	k, ok := s.codatKeys[key]
	if _, known := s.connectors[k]; ok && known {
		return k, true
	}
	return "", false
}

// CreateConnection starts authorising an accounting platform: the answer's
// linkUrl is where the merchant grants access.
func (s *Server) CreateConnection(ctx context.Context, req *v1.CreateConnectionRequest) (*v1.Connection, error) {
	c, err := company(ctx, s.store, req.GetCompanyId())
	if err != nil {
		return nil, err
	}
	key, ok := s.platformKey(req.GetPlatformKey())
	if !ok {
		var keys []string
		for k := range s.connectors {
			keys = append(keys, k)
		}
		return nil, status.Errorf(codes.InvalidArgument, "platformKey: %q is not a platform; GET /v1/platforms lists them (%s)", req.GetPlatformKey(), strings.Join(keys, ", "))
	}
	var raw [24]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, status.Errorf(codes.Internal, "make oauth state: %v", err)
	}
	conn := &v1.Connection{
		Id: control.NewID(), CompanyId: c.GetId(), PlatformKey: key, PlatformName: s.connectors[key].Name(),
		Status: "PendingAuth", Created: s.now().UTC().Format("2006-01-02T15:04:05Z"),
	}
	state := conn.GetId() + "." + base64.RawURLEncoding.EncodeToString(raw[:])
	sum := sha256.Sum256([]byte(state))
	conn.OauthStateSha256 = hex.EncodeToString(sum[:])
	conn.LinkUrl = s.connectors[key].OAuthConfig(s.callback).AuthCodeURL(state)
	if err := s.store.PutConnection(ctx, conn); err != nil {
		return nil, status.Errorf(codes.Unavailable, "connection not saved: %v", err)
	}
	return publicConnection(conn), nil
}

// GetConnection returns a connection of the caller's company.
func (s *Server) GetConnection(ctx context.Context, req *v1.GetConnectionRequest) (*v1.Connection, error) {
	c, err := company(ctx, s.store, req.GetCompanyId())
	if err != nil {
		return nil, err
	}
	conn, ok := s.store.Connection(req.GetConnectionId())
	if !ok || conn.GetCompanyId() != c.GetId() {
		return nil, status.Errorf(codes.NotFound, "connection %q not found", req.GetConnectionId())
	}
	return publicConnection(conn), nil
}

// publicConnection strips what must never leave the control plane.
func publicConnection(c *v1.Connection) *v1.Connection {
	out := proto.Clone(c).(*v1.Connection)
	out.Token, out.OauthStateSha256 = nil, ""
	if out.Status != "PendingAuth" {
		out.LinkUrl = ""
	}
	return out
}

var callbackPage = template.Must(template.New("cb").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>commercesync: {{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}</style></head>
<body><h1>{{.Title}}</h1><p>{{.Message}}</p></body></html>`))

func writePage(w http.ResponseWriter, code int, title, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_ = callbackPage.Execute(w, struct{ Title, Message string }{title, msg})
}

// oauthCallback finishes authorisation: it checks the single-use state,
// exchanges the code, picks the platform tenant and stores the token sealed.
func (s *Server) oauthCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		writePage(w, http.StatusBadRequest, "Not connected", fmt.Sprintf("The platform answered %q: %s. Start again from your commerce platform.", e, q.Get("error_description")))
		return
	}
	state, code := q.Get("state"), q.Get("code")
	id, _, ok := strings.Cut(state, ".")
	if !ok || code == "" {
		writePage(w, http.StatusBadRequest, "Not connected", "The link is incomplete (no code or state). Start again from your commerce platform.")
		return
	}
	conn, found := s.store.Connection(id)
	sum := sha256.Sum256([]byte(state))
	if !found || subtle.ConstantTimeCompare([]byte(conn.GetOauthStateSha256()), []byte(hex.EncodeToString(sum[:]))) != 1 {
		writePage(w, http.StatusBadRequest, "Not connected", "This link is not valid. Start again from your commerce platform.")
		return
	}
	if conn.GetStatus() != "PendingAuth" {
		writePage(w, http.StatusConflict, "Already used", "This link was already used. Start again from your commerce platform to reconnect.")
		return
	}
	c := s.connectors[conn.GetPlatformKey()]
	ctx := r.Context()
	cfg := c.OAuthConfig(s.callback)
	tok, err := cfg.Exchange(ctx, code)
	if err != nil {
		s.log.Warn("oauth exchange failed", "connection", id, "err", err)
		writePage(w, http.StatusBadGateway, "Not connected", "The platform did not accept the authorisation. Start again from your commerce platform.")
		return
	}
	var tenants []connectors.Tenant
	if ct, ok := c.(connectors.CallbackTenanter); ok {
		if tn, ok := ct.TenantFromCallback(q); ok {
			tenants = append(tenants, tn)
		}
	}
	if len(tenants) == 0 {
		tenants, err = c.Tenants(ctx, cfg.TokenSource(ctx, tok))
	}
	if err != nil || len(tenants) == 0 {
		s.log.Warn("no platform tenant", "connection", id, "err", err)
		writePage(w, http.StatusBadGateway, "Not connected", "No organisation was authorised. Start again and choose an organisation.")
		return
	}
	sealed, err := control.SealToken(s.store.Sealer(), id, tok)
	if err != nil {
		writePage(w, http.StatusInternalServerError, "Not connected", "The authorisation could not be stored.")
		return
	}
	_, err = s.store.UpdateConnection(ctx, id, func(cur *v1.Connection) error {
		if cur.GetStatus() != "PendingAuth" {
			return errAlreadyLinked
		}
		cur.Status, cur.Token, cur.OauthStateSha256 = "Linked", sealed, ""
		cur.PlatformTenantId, cur.PlatformTenantName = tenants[0].ID, tenants[0].Name
		return nil
	})
	if errors.Is(err, errAlreadyLinked) {
		writePage(w, http.StatusConflict, "Already used", "This link was already used.")
		return
	}
	if err != nil {
		writePage(w, http.StatusServiceUnavailable, "Not connected", "The authorisation could not be stored; try again.")
		return
	}
	// A company syncs to one accounting connection: the new one replaces
	// any other, and documents waiting on the old one are planned again
	// for the new.
	for _, other := range s.store.CompanyConnections(conn.GetCompanyId()) {
		if other.GetId() == id || other.GetStatus() != "Linked" {
			continue
		}
		if _, err := s.store.UpdateConnection(ctx, other.GetId(), func(cur *v1.Connection) error {
			cur.Status = "Unlinked"
			return nil
		}); err != nil {
			s.log.Warn("older connection not unlinked", "connection", other.GetId(), "err", err)
		}
	}
	writePage(w, http.StatusOK, "Connected", fmt.Sprintf("%s is connected to %s. You can close this window.", tenants[0].Name, c.Name()))
}

var errAlreadyLinked = errors.New("connection already linked")
