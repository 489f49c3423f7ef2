package control

import (
	"encoding/json"
	"fmt"

	"golang.org/x/oauth2"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// SealToken encrypts a token for storage on the connection.
func SealToken(s *Sealer, connectionID string, t *oauth2.Token) (*v1.SealedSecret, error) {
	b, err := json.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("encode token: %w", err)
	}
	return s.Seal(b, []byte("connection/"+connectionID))
}

// OpenToken decrypts a connection's token.
func OpenToken(s *Sealer, conn *v1.Connection) (*oauth2.Token, error) {
	b, err := s.Open(conn.GetToken(), []byte("connection/"+conn.GetId()))
	if err != nil {
		return nil, fmt.Errorf("connection %s token: %w", conn.GetId(), err)
	}
	var t oauth2.Token
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("connection %s token: %w", conn.GetId(), err)
	}
	return &t, nil
}
