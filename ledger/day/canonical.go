package day

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"

	"github.com/commercesync/commercesync/ledger/money"
)

// The version lines. Changing the encoding means a new version, never an
// edit: hashes already in the chain were computed with the old one.
const (
	canonicalVersion = "commercesync.day.summary v1"
	idVersion        = "commercesync.day.summary-id v1"
)

// Canonical is the summary's deterministic text encoding (format in the
// package doc). Every field except Hash is included.
func (s Summary) Canonical() []byte {
	b := make([]byte, 0, 512+64*len(s.Lines))
	b = append(b, canonicalVersion...)
	b = append(b, '\n')
	b = field(b, "id", quote(s.ID))
	b = field(b, "company", quote(s.CompanyID))
	b = field(b, "tenant", quote(s.TenantID))
	b = field(b, "day", quote(s.Day))
	b = field(b, "currency", quote(s.Currency))
	b = field(b, "revision", strconv.Itoa(s.Revision))
	// Locations were added to v1 as an optional field: a summary of a day
	// not grouped by location encodes exactly as before.
	if s.Location != "" {
		b = field(b, "location", quote(s.Location))
	}
	b = field(b, "zone", quote(s.Zone))
	b = field(b, "cutoff_hour", strconv.Itoa(s.CutoffHour))
	b = field(b, "start", quote(instant(s.Start)))
	b = field(b, "end", quote(instant(s.End)))
	b = field(b, "sealed_by", quote(s.SealedBy))
	b = field(b, "config_version", strconv.FormatInt(s.ConfigVersion, 10))
	b = field(b, "record_count", strconv.Itoa(s.RecordCount))
	b = field(b, "sequence", strconv.FormatInt(s.Sequence, 10))
	b = field(b, "prev_hash", quote(s.PrevHash))
	b = field(b, "lines", strconv.Itoa(len(s.Lines)))
	for _, l := range s.Lines {
		b = field(b, "line", quote(string(l.Account))+" "+fixed4(l.Debit)+" "+fixed4(l.Credit))
	}
	// Exceptions were added to v1 as an optional section: a summary without
	// any encodes exactly as before, so no existing hash changes.
	if len(s.Exceptions) > 0 {
		b = field(b, "exceptions", strconv.Itoa(len(s.Exceptions)))
		for _, e := range s.Exceptions {
			b = field(b, "exception", quote(e.RecordID)+" "+quote(e.Message))
		}
	}
	// So was the count of a day that names only the first of its
	// exceptions: a summary naming all of them encodes as before.
	if s.ExceptionCount > len(s.Exceptions) {
		b = field(b, "exception_count", strconv.Itoa(s.ExceptionCount))
	}
	b = append(b, "end_summary\n"...)
	return b
}

func field(b []byte, name, value string) []byte {
	b = append(b, name...)
	b = append(b, ' ')
	b = append(b, value...)
	return append(b, '\n')
}

// instant writes a time in UTC so the zone a caller happened to use does not
// change the hash; the zero time encodes as itself.
func instant(t time.Time) string {
	return t.UTC().Format(time.RFC3339Nano)
}

// Format v1 writes four decimals; this fails to compile if money.Scale moves,
// because the format would then need a new version.
const _ = uint(money.Scale-4) + uint(4-money.Scale)

// fixed4 writes an amount with exactly four decimals from its integer form,
// so no formatting library can change a hash.
func fixed4(a money.Amount) string {
	u := uint64(a)
	sign := ""
	if a < 0 {
		sign, u = "-", -u
	}
	frac := strconv.FormatUint(u%10000, 10)
	return sign + strconv.FormatUint(u/10000, 10) + "." + "0000"[len(frac):] + frac
}

// SummaryID is the deterministic id of a revision of a company's day.
func SummaryID(companyID, day, currency string, revision int) string {
	return LocationSummaryID(companyID, day, currency, "", revision)
}

// LocationSummaryID is the id of a revision of one location's part of a
// company's day; without a location it is SummaryID.
func LocationSummaryID(companyID, day, currency, location string, revision int) string {
	b := make([]byte, 0, 128)
	b = append(b, idVersion...)
	b = append(b, '\n')
	b = field(b, "company", quote(companyID))
	b = field(b, "day", quote(day))
	b = field(b, "currency", quote(currency))
	if location != "" {
		b = field(b, "location", quote(location))
	}
	b = field(b, "revision", strconv.Itoa(revision))
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// chainHash is hex(sha256(prevHash || canonical)). Concatenation is
// unambiguous: canonical always begins with its version line.
func chainHash(prevHash string, canonical []byte) string {
	h := sha256.New()
	h.Write([]byte(prevHash))
	h.Write(canonical)
	return hex.EncodeToString(h.Sum(nil))
}

// quote escapes every non-ASCII rune, so the encoding does not depend on
// which Unicode version's notion of "printable" the Go release carries.
func quote(s string) string {
	return strconv.QuoteToASCII(s)
}
