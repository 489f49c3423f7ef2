package qbo

import (
	"context"

	"github.com/commercesync/commercesync/connectors"
)

// Check reads the realm's CompanyInfo, the cheapest authenticated call
// (§2.3). QuickBooks lists no companies for a token, so Tenants cannot say
// whether the grant still reaches the realm; this call can.
func (c *Connector) Check(ctx context.Context, s connectors.Session) error {
	_, err := c.companyInfo(ctx, s)
	return err
}

var _ connectors.Checker = (*Connector)(nil)
