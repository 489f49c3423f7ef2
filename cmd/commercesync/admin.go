package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

const adminUsage = `commercesync admin: tenants and API keys, through a gateway's admin API.

Usage:
  commercesync admin [-url URL] [-json] tenants create -name NAME
  commercesync admin [-url URL] [-json] tenants list
  commercesync admin [-url URL] [-json] keys create -tenant ID -scopes ingest,configure,read [-name NAME]
  commercesync admin [-url URL] [-json] keys list -tenant ID
  commercesync admin [-url URL] [-json] keys rotate -tenant ID -key ID [-grace 24h]
  commercesync admin [-url URL] [-json] keys revoke -tenant ID -key ID

The operator token is read from COMMERCESYNC_ADMIN_TOKEN (never from a flag,
so that it stays out of shell history); "commercesync dev" prints its own.
A key's secret is printed once, when it is made or rotated: store it then.
`

// adminClient calls a gateway's admin API over REST.
type adminClient struct {
	base  string
	token string
	http  *http.Client
	// who names the command in errors ("admin" when empty).
	who string
}

func (c *adminClient) name() string {
	if c.who == "" {
		return "admin"
	}
	return c.who
}

func runAdmin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, base, asJSON := newAdminFlags(stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	rest := fs.Args()
	if len(rest) < 2 {
		fs.Usage()
		return errors.New("admin: name what to manage (tenants or keys) and what to do")
	}
	token := strings.TrimSpace(os.Getenv("COMMERCESYNC_ADMIN_TOKEN"))
	if token == "" {
		return errors.New("admin: set COMMERCESYNC_ADMIN_TOKEN to the gateway's operator token (commercesync dev prints its own)")
	}
	c := &adminClient{base: strings.TrimRight(*base, "/"), token: token, http: &http.Client{Timeout: 30 * time.Second}}
	out := &adminOut{w: stdout, json: *asJSON}
	switch rest[0] + " " + rest[1] {
	case "tenants create":
		return c.createTenant(ctx, rest[2:], stderr, out)
	case "tenants list":
		return c.listTenants(ctx, out)
	case "keys create":
		return c.createKey(ctx, rest[2:], stderr, out)
	case "keys list":
		return c.listKeys(ctx, rest[2:], stderr, out)
	case "keys rotate":
		return c.rotateKey(ctx, rest[2:], stderr, out)
	case "keys revoke":
		return c.revokeKey(ctx, rest[2:], stderr, out)
	}
	fs.Usage()
	return fmt.Errorf("admin: unknown command %q", strings.Join(rest[:2], " "))
}

// newAdminFlags are the settings of `commercesync admin` before its
// subcommand.
func newAdminFlags(stderr io.Writer) (fs *flag.FlagSet, base *string, asJSON *bool) {
	fs = flag.NewFlagSet("admin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, adminUsage) }
	return fs, fs.String("url", "http://127.0.0.1:8080", "the gateway's REST address"), fs.Bool("json", false, "print the API's answers as JSON")
}

// call sends req (nil for none) to the admin API and decodes the answer
// into resp.
func (c *adminClient) call(ctx context.Context, method, path string, req, resp proto.Message) error {
	var body io.Reader
	if req != nil {
		b, err := protojson.Marshal(req)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	r, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fmt.Errorf("%s: %w", c.name(), err)
	}
	r.Header.Set("Authorization", "Bearer "+c.token)
	if req != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	res, err := c.http.Do(r)
	if err != nil {
		return fmt.Errorf("%s: is the gateway at %s running? %w", c.name(), c.base, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("%s: read the answer: %w", c.name(), err)
	}
	if res.StatusCode != http.StatusOK {
		var e struct{ Message string }
		if json.Unmarshal(b, &e) != nil || e.Message == "" {
			e.Message = strings.TrimSpace(string(b))
		}
		return fmt.Errorf("%s: %s %s: HTTP %d: %s", c.name(), method, path, res.StatusCode, e.Message)
	}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(b, resp); err != nil {
		return fmt.Errorf("%s: the gateway's answer is not what this command expects (is it the same version?): %w", c.name(), err)
	}
	return nil
}

func subFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("admin "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func required(fs *flag.FlagSet, names ...string) error {
	for _, n := range names {
		if fs.Lookup(n).Value.String() == "" {
			return fmt.Errorf("admin %s: -%s is required", fs.Name()[len("admin "):], n)
		}
	}
	return nil
}

func (c *adminClient) createTenant(ctx context.Context, args []string, stderr io.Writer, out *adminOut) error {
	fs := subFlags("tenants create", stderr)
	name := fs.String("name", "", "the commerce platform's name")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := required(fs, "name"); err != nil {
		return err
	}
	var t v1.Tenant
	if err := c.call(ctx, http.MethodPost, "/admin/v1/tenants", &v1.CreateTenantRequest{Name: *name}, &t); err != nil {
		return err
	}
	return out.print(&t, func(w io.Writer) { fmt.Fprintf(w, "Tenant %s created: %s\n", t.GetId(), t.GetName()) })
}

func (c *adminClient) listTenants(ctx context.Context, out *adminOut) error {
	all := &v1.ListTenantsResponse{}
	token := ""
	for {
		var page v1.ListTenantsResponse
		if err := c.call(ctx, http.MethodGet, "/admin/v1/tenants?pageSize=1000&pageToken="+url.QueryEscape(token), nil, &page); err != nil {
			return err
		}
		all.Tenants = append(all.Tenants, page.GetTenants()...)
		if token = page.GetNextPageToken(); token == "" {
			break
		}
	}
	return out.print(all, func(w io.Writer) {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "TENANT\tNAME\tCREATED")
		for _, t := range all.GetTenants() {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", t.GetId(), t.GetName(), t.GetCreated())
		}
		_ = tw.Flush()
	})
}

// parseScopes reads "ingest,read" as scopes.
func parseScopes(s string) ([]v1.Scope, error) {
	var out []v1.Scope
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		v, ok := v1.Scope_value["SCOPE_"+strings.ToUpper(name)]
		if !ok || v1.Scope(v) == v1.Scope_SCOPE_UNSPECIFIED || v1.Scope(v) == v1.Scope_SCOPE_OPERATOR {
			return nil, fmt.Errorf("-scopes: %q is not a key's scope; list one or more of ingest, configure and read, separated by commas", name)
		}
		out = append(out, v1.Scope(v))
	}
	return out, nil
}

func scopeList(scopes []v1.Scope) string {
	names := make([]string, len(scopes))
	for i, sc := range scopes {
		names[i] = strings.ToLower(strings.TrimPrefix(sc.String(), "SCOPE_"))
	}
	return strings.Join(names, ", ")
}

func printIssued(w io.Writer, verb string, k *v1.IssuedApiKey) {
	fmt.Fprintf(w, "Key %s %s for tenant %s, scopes %s.\n", k.GetKey().GetId(), verb, k.GetKey().GetTenantId(), scopeList(k.GetKey().GetScopes()))
	fmt.Fprintf(w, "Secret (shown this once; store it now): %s\n", k.GetSecret())
}

func (c *adminClient) createKey(ctx context.Context, args []string, stderr io.Writer, out *adminOut) error {
	fs := subFlags("keys create", stderr)
	tenant := fs.String("tenant", "", "the tenant's id")
	scopes := fs.String("scopes", "", "what the key may do: ingest, configure, read, separated by commas")
	name := fs.String("name", "", "a label for people")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := required(fs, "tenant", "scopes"); err != nil {
		return err
	}
	sc, err := parseScopes(*scopes)
	if err != nil {
		return err
	}
	var k v1.IssuedApiKey
	if err := c.call(ctx, http.MethodPost, "/admin/v1/tenants/"+url.PathEscape(*tenant)+"/keys",
		&v1.CreateApiKeyRequest{Scopes: sc, Name: *name}, &k); err != nil {
		return err
	}
	return out.print(&k, func(w io.Writer) { printIssued(w, "issued", &k) })
}

func (c *adminClient) listKeys(ctx context.Context, args []string, stderr io.Writer, out *adminOut) error {
	fs := subFlags("keys list", stderr)
	tenant := fs.String("tenant", "", "the tenant's id")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := required(fs, "tenant"); err != nil {
		return err
	}
	var l v1.ListApiKeysResponse
	if err := c.call(ctx, http.MethodGet, "/admin/v1/tenants/"+url.PathEscape(*tenant)+"/keys", nil, &l); err != nil {
		return err
	}
	return out.print(&l, func(w io.Writer) {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "KEY\tPREFIX\tSCOPES\tNAME\tCREATED\tSTATE")
		for _, k := range l.GetKeys() {
			state := "active"
			switch {
			case k.GetRevoked():
				state = "revoked"
			case k.GetExpires() != "":
				state = "expires " + k.GetExpires()
			}
			fmt.Fprintf(tw, "%s\t%s…\t%s\t%s\t%s\t%s\n", k.GetId(), k.GetPrefix(), scopeList(k.GetScopes()), k.GetName(), k.GetCreated(), state)
		}
		_ = tw.Flush()
	})
}

func (c *adminClient) rotateKey(ctx context.Context, args []string, stderr io.Writer, out *adminOut) error {
	fs := subFlags("keys rotate", stderr)
	tenant := fs.String("tenant", "", "the tenant's id")
	key := fs.String("key", "", "the id of the key to replace")
	grace := fs.Duration("grace", 24*time.Hour, "how long the old key keeps working, at most 168h; 0 stops it now")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := required(fs, "tenant", "key"); err != nil {
		return err
	}
	var k v1.IssuedApiKey
	if err := c.call(ctx, http.MethodPost, "/admin/v1/tenants/"+url.PathEscape(*tenant)+"/keys/"+url.PathEscape(*key)+"/rotate",
		&v1.RotateApiKeyRequest{GraceSeconds: int64(*grace / time.Second)}, &k); err != nil {
		return err
	}
	return out.print(&k, func(w io.Writer) {
		printIssued(w, "issued", &k)
		fmt.Fprintf(w, "The old key %s stops working in %s.\n", *key, *grace)
	})
}

func (c *adminClient) revokeKey(ctx context.Context, args []string, stderr io.Writer, out *adminOut) error {
	fs := subFlags("keys revoke", stderr)
	tenant := fs.String("tenant", "", "the tenant's id")
	key := fs.String("key", "", "the id of the key to stop")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := required(fs, "tenant", "key"); err != nil {
		return err
	}
	var k v1.ApiKeyInfo
	if err := c.call(ctx, http.MethodPost, "/admin/v1/tenants/"+url.PathEscape(*tenant)+"/keys/"+url.PathEscape(*key)+"/revoke",
		&v1.RevokeApiKeyRequest{}, &k); err != nil {
		return err
	}
	return out.print(&k, func(w io.Writer) { fmt.Fprintf(w, "Key %s revoked: it no longer works.\n", k.GetId()) })
}

// adminOut prints an answer as JSON or for people.
type adminOut struct {
	w    io.Writer
	json bool
}

func (o *adminOut) print(m proto.Message, human func(io.Writer)) error {
	if !o.json {
		human(o.w)
		return nil
	}
	b, err := protojson.MarshalOptions{Multiline: true}.Marshal(m)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(o.w, string(b))
	return err
}
