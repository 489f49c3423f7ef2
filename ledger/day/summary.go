package day

import (
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/commercesync/commercesync/ledger/money"
)

// Line is one account of a summary. Exactly one side is non-zero and both
// are >= 0, as accounting platforms expect.
type Line struct {
	Account       Account
	Debit, Credit money.Amount
}

// Header identifies a revision of a business day and records how it was
// cut, so that the day can be explained without the configuration history.
type Header struct {
	CompanyID, TenantID, Day, Currency string
	// Location is set when the company groups its days by location: the
	// summary holds that location's orders ("" for the rest of the day).
	Location      string
	Revision      int
	Zone          string
	CutoffHour    int
	Start, End    time.Time
	SealedBy      string
	ConfigVersion int64
	RecordCount   int
	// Exceptions are the day's records counted without their money, sorted
	// by record id; the same set rides on every revision until it changes.
	// A day with many names only the first of them (by record id), and
	// ExceptionCount says how many there are in all.
	Exceptions []Exception
	// ExceptionCount counts every exception of the day; 0 means exactly
	// those named.
	ExceptionCount int
}

// Exception names a record a day could not take money from, and why.
type Exception struct {
	RecordID, Message string
}

// Summary is one revision of one company's business day in one currency,
// in semantic accounts, and its place in the company's hash chain.
type Summary struct {
	Header
	Lines    []Line // sorted by account name; zero accounts omitted
	ID       string // deterministic from (company, day, currency, revision)
	Sequence int64  // position in the company's chain, from 1
	PrevHash string // hex; "" for sequence 1
	Hash     string // hex sha256 over PrevHash + Canonical
}

// ErrUnbalanced reports debits that differ from credits.
var ErrUnbalanced = errors.New("debits do not equal credits")

// NewSummary builds an unlinked summary from a day's totals (or a
// revision's difference). It refuses unbalanced totals: the contribution
// rules only produce balanced postings, so imbalance is a bug upstream.
func NewSummary(h Header, t Totals) (Summary, error) {
	if err := checkHeader(h); err != nil {
		return Summary{}, fmt.Errorf("summary of company %q day %q: %w", h.CompanyID, h.Day, err)
	}
	debits, credits, err := t.sides()
	if err != nil {
		return Summary{}, fmt.Errorf("summary of company %q day %s %s revision %d: %w", h.CompanyID, h.Day, h.Currency, h.Revision, err)
	}
	if debits != credits {
		return Summary{}, fmt.Errorf("summary of company %q day %s %s revision %d: debits %s, credits %s: %w",
			h.CompanyID, h.Day, h.Currency, h.Revision, debits, credits, ErrUnbalanced)
	}
	lines := make([]Line, 0, len(t))
	for a, v := range t {
		if v > 0 {
			lines = append(lines, Line{Account: a, Debit: v})
		} else if v < 0 {
			lines = append(lines, Line{Account: a, Credit: -v}) // sides() proved -v fits
		}
	}
	sort.Slice(lines, func(i, j int) bool { return lines[i].Account < lines[j].Account })
	return Summary{Header: h, Lines: lines, ID: LocationSummaryID(h.CompanyID, h.Day, h.Currency, h.Location, h.Revision)}, nil
}

func checkHeader(h Header) error {
	if h.CompanyID == "" {
		return errors.New("company id is empty")
	}
	if h.Day == "" {
		return errors.New("day is empty")
	}
	if h.Currency == "" {
		return errors.New("currency is empty")
	}
	if h.Revision < 1 {
		return fmt.Errorf("revision %d is below 1", h.Revision)
	}
	if h.RecordCount < 0 {
		return fmt.Errorf("record count %d is negative", h.RecordCount)
	}
	if h.ExceptionCount != 0 && h.ExceptionCount < len(h.Exceptions) {
		return fmt.Errorf("exception count %d is below the %d exceptions named", h.ExceptionCount, len(h.Exceptions))
	}
	if d, err := time.Parse(DayLayout, h.Day); err != nil || d.Format(DayLayout) != h.Day {
		return fmt.Errorf("day %q is not a date in the form 2006-01-02", h.Day)
	}
	if !h.Start.IsZero() && !h.End.IsZero() && !h.Start.Before(h.End) {
		return fmt.Errorf("day start %s is not before its end %s", h.Start, h.End)
	}
	return nil
}

// Balanced reports whether every line has exactly one non-negative,
// non-zero side and the debits equal the credits.
func (s Summary) Balanced() bool {
	var debits, credits money.Amount
	var err error
	for _, l := range s.Lines {
		if l.Debit < 0 || l.Credit < 0 || (l.Debit == 0) == (l.Credit == 0) {
			return false
		}
		if debits, err = debits.Add(l.Debit); err != nil {
			return false
		}
		if credits, err = credits.Add(l.Credit); err != nil {
			return false
		}
	}
	return debits == credits
}

// Totals returns the summary's lines as net amounts (debit positive).
// Lines that would overflow are skipped; Balanced refuses such summaries.
func (s Summary) Totals() Totals {
	t := make(Totals, len(s.Lines))
	for _, l := range s.Lines {
		_ = t.add(l.Account, l.Debit, 1)
		_ = t.add(l.Account, l.Credit, -1)
	}
	return t
}
