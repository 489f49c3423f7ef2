// Package buildinfo names the running build, so that what a stage writes
// about its own failures (quarantine entries) says which code decided.
package buildinfo

import "runtime/debug"

// Version is the module version and, when the binary was built from a
// repository, the commit (with "+dirty" for uncommitted changes).
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		return v + " " + rev + dirty
	}
	return v
}
