package day

import (
	"errors"
	"fmt"
)

// Reasons a chain fails verification; Verify wraps one of them.
var (
	ErrSequence  = errors.New("sequence out of order")
	ErrPrevHash  = errors.New("previous hash does not match")
	ErrHash      = errors.New("hash does not match content")
	ErrID        = errors.New("id does not match company, day, currency and revision")
	ErrCompany   = errors.New("summary belongs to another company")
	ErrMalformed = errors.New("lines are not sorted by account or repeat an account")
)

// Link places the summary in its company's chain after the summary whose
// hash is prevHash ("" for sequence 1), and seals it with its hash.
func (s *Summary) Link(prevHash string, sequence int64) {
	s.PrevHash = prevHash
	s.Sequence = sequence
	s.Hash = chainHash(prevHash, s.Canonical())
}

// Verify checks one company's whole chain, from sequence 1. It returns the
// index of the first broken summary and why, or -1, nil.
func Verify(chain []Summary) (int, error) {
	return VerifyFrom("", 0, chain)
}

// VerifyFrom checks a segment of a chain that continues after the summary
// with hash prevHash and sequence prevSequence (use "", 0 for the start), so
// a process can verify only what it appended since a trusted checkpoint.
func VerifyFrom(prevHash string, prevSequence int64, chain []Summary) (int, error) {
	for i := range chain {
		s := &chain[i]
		if err := verifyOne(s, chain[0].CompanyID, prevHash, prevSequence+1); err != nil {
			return i, fmt.Errorf("chain of company %q, summary %d (day %s %s revision %d, sequence %d): %w",
				chain[0].CompanyID, i, s.Day, s.Currency, s.Revision, s.Sequence, err)
		}
		prevHash, prevSequence = s.Hash, s.Sequence
	}
	return -1, nil
}

func verifyOne(s *Summary, company, prevHash string, sequence int64) error {
	if s.CompanyID != company {
		return fmt.Errorf("company %q: %w", s.CompanyID, ErrCompany)
	}
	if s.Sequence != sequence {
		return fmt.Errorf("sequence %d, want %d: %w", s.Sequence, sequence, ErrSequence)
	}
	if s.PrevHash != prevHash {
		return fmt.Errorf("prev hash %q, want %q: %w", s.PrevHash, prevHash, ErrPrevHash)
	}
	if s.ID != LocationSummaryID(s.CompanyID, s.Day, s.Currency, s.Location, s.Revision) {
		return fmt.Errorf("id %q: %w", s.ID, ErrID)
	}
	if !s.Balanced() {
		return fmt.Errorf("%d lines: %w", len(s.Lines), ErrUnbalanced)
	}
	if !linesCanonical(s.Lines) {
		return ErrMalformed
	}
	if h := chainHash(s.PrevHash, s.Canonical()); h != s.Hash {
		return fmt.Errorf("hash %q, content hashes to %q: %w", s.Hash, h, ErrHash)
	}
	return nil
}

// linesCanonical reports strictly increasing accounts, which is what
// NewSummary builds; anything else was edited after construction.
func linesCanonical(ls []Line) bool {
	for i := 1; i < len(ls); i++ {
		if ls[i-1].Account >= ls[i].Account {
			return false
		}
	}
	return true
}
