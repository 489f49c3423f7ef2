package control

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// Sealer encrypts secrets at rest (OAuth tokens, the development key) with
// AES-GCM. Each sealed value names its key id, so keys can rotate: the
// newest key seals, every listed key opens.
type Sealer struct {
	current string
	keys    map[string]cipher.AEAD
}

// NewSealer takes 32-byte keys, newest first.
func NewSealer(keys ...[]byte) (*Sealer, error) {
	if len(keys) == 0 {
		return nil, errors.New("sealer needs at least one key")
	}
	s := &Sealer{keys: map[string]cipher.AEAD{}}
	for i, k := range keys {
		if len(k) != 32 {
			return nil, fmt.Errorf("sealing key %d is %d bytes; it must be 32", i, len(k))
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, fmt.Errorf("sealing key %d: %w", i, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("sealing key %d: %w", i, err)
		}
		sum := sha256.Sum256(k)
		id := hex.EncodeToString(sum[:4])
		s.keys[id] = aead
		if i == 0 {
			s.current = id
		}
	}
	return s, nil
}

// Seal encrypts plaintext under the newest key; aad binds it to its owner
// (for example the connection id) so a sealed value cannot be moved.
func (s *Sealer) Seal(plaintext, aad []byte) (*v1.SealedSecret, error) {
	aead := s.keys[s.current]
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return &v1.SealedSecret{KeyId: s.current, Nonce: nonce, Ciphertext: aead.Seal(nil, nonce, plaintext, aad)}, nil
}

// Open decrypts a sealed value.
func (s *Sealer) Open(sec *v1.SealedSecret, aad []byte) ([]byte, error) {
	if sec == nil {
		return nil, errors.New("nothing sealed")
	}
	aead, ok := s.keys[sec.GetKeyId()]
	if !ok {
		return nil, fmt.Errorf("sealed with unknown key %s; add that key to the sealer", sec.GetKeyId())
	}
	out, err := aead.Open(nil, sec.GetNonce(), sec.GetCiphertext(), aad)
	if err != nil {
		return nil, fmt.Errorf("open sealed secret (key %s): %w", sec.GetKeyId(), err)
	}
	return out, nil
}
