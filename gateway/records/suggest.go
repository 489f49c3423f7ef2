package records

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// closest returns the candidate a typo most plausibly meant, or "" when none is
// near enough. Case, '_' and '-' are ignored first, so "total_amount" and
// "TotalAmount" find "totalAmount"; then at most one edit per four characters
// is allowed, which catches "totalAmmount" without suggesting "type" for "name".
// Ties go to the earlier candidate, so the answer is deterministic.
func closest(s string, candidates []string) string {
	if s == "" || len(s) > 64 {
		return ""
	}
	fs := fold(s)
	best, bestD := "", -1
	for _, c := range candidates {
		d := distance(fs, fold(c))
		if d > max(1, utf8.RuneCountInString(c)/4) {
			continue
		}
		if bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func fold(s string) string {
	return strings.ToLower(strings.NewReplacer("_", "", "-", "").Replace(s))
}

// distance is the Levenshtein distance over runes.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// quote renders a pushed value for a message, cut short so that a huge value
// cannot make a huge response.
func quote(s string) string {
	const limit = 40
	if utf8.RuneCountInString(s) > limit {
		r := []rune(s)
		s = string(r[:limit]) + "…"
	}
	return strconv.Quote(s)
}
