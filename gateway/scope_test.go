package gateway

import (
	"testing"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// Every method names the scope it needs: a method added without one is
// refused to every caller, and this test says which one it is. The admin
// API takes the operator's credential alone, the rest a tenant's key.
func TestEveryMethodNamesItsScope(t *testing.T) {
	methods := apiMethods()
	if len(methods) < 25 {
		t.Fatalf("found %d methods; the services' descriptors were not all read", len(methods))
	}
	for _, md := range methods {
		sc := methodScope(md)
		admin := md.Parent().FullName() == "commercesync.v1.AdminService"
		switch {
		case sc == v1.Scope_SCOPE_UNSPECIFIED:
			t.Errorf("%s names no scope: add option (required_scope) to it", md.FullName())
		case admin && sc != v1.Scope_SCOPE_OPERATOR:
			t.Errorf("%s is an admin method with scope %s; it must take the operator's credential", md.FullName(), sc)
		case !admin && sc == v1.Scope_SCOPE_OPERATOR:
			t.Errorf("%s is a tenant's method with the operator scope", md.FullName())
		}
	}
	scopes := methodScopes()
	if got := scopes["/commercesync.v1.DataService/PushRecords"]; got != v1.Scope_SCOPE_INGEST {
		t.Errorf("PushRecords: scope %s, want SCOPE_INGEST", got)
	}
	if got := scopes["/commercesync.v1.AdminService/CreateApiKey"]; got != v1.Scope_SCOPE_OPERATOR {
		t.Errorf("CreateApiKey: scope %s, want SCOPE_OPERATOR", got)
	}
}

func TestCheckOperatorToken(t *testing.T) {
	for tok, ok := range map[string]bool{
		"cso_" + "0123456789abcdef0123456789abcdef": true,
		"cso_" + "0123456789abcdef0123456789abcde":  false, // 31 after the prefix
		"csk_" + "0123456789abcdef0123456789abcdef": false,
		"cso_" + "0123456789abcdef 123456789abcdef": false,
		"": false,
	} {
		if err := CheckOperatorToken(tok); (err == nil) != ok {
			t.Errorf("CheckOperatorToken(%q) = %v, want ok %v", tok, err, ok)
		}
	}
}
