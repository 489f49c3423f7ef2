package sink

import "github.com/twmb/franz-go/pkg/kgo"

// AddContribution lets the benchmark build the rows the sink builds.
func AddContribution(r *Rows, rec *kgo.Record) error { return r.addContribution(rec) }
