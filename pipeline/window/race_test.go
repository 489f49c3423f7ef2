//go:build race

package window

// raceEnabled says the race detector is on: the full-size memory test then
// runs at its reduced size, and make test-long runs it again without.
const raceEnabled = true
