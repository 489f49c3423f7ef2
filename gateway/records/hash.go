package records

import (
	"crypto/sha256"

	"google.golang.org/protobuf/proto"
)

// ContentHash is the SHA-256 of m's deterministic protobuf encoding. It breaks
// ties between versions of a record with the same sourceModifiedDate, so the
// winner never depends on arrival order. The encoding is stable for a given
// binary and schema, which is all a tie-break within one pipeline needs; the
// ledger's hash chain uses its own canonical encoding instead.
//
// A message that cannot be encoded (a string with invalid UTF-8, which
// neither DecodeBatch nor gRPC lets through) hashes its type name and the
// encoding error, so the function still answers deterministically.
func ContentHash(m proto.Message) []byte {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		h := sha256.New()
		h.Write([]byte("unencodable\x00"))
		h.Write([]byte(m.ProtoReflect().Descriptor().FullName()))
		h.Write([]byte{0})
		h.Write([]byte(err.Error()))
		return h.Sum(nil)
	}
	sum := sha256.Sum256(b)
	return sum[:]
}
