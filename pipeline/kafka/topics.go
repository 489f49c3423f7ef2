// Package kafka holds the Kafka plumbing every stream job shares: topic
// names and specs, client options, and the embedded broker for local runs.
package kafka

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Topics names the topics of one deployment.
type Topics struct {
	Events    string // commerce records and control records, keyed by company
	Changelog string // the window's state, compacted, partitioned like Events
	Ledger    string // daily summaries: the append-only ledger
	Outbox    string // one compacted entry per accounting document
	Control   string // tenants, keys, companies, connections, configurations
	// Records and days a stage could not process, with their reason.
	Quarantine string
	// Every record a day counts without its money, compacted per record.
	Exceptions string
	// Every change of a record's contribution to a day, as the window
	// decided it, keyed by company; "" writes none.
	Contributions string
}

// DefaultTopics returns the standard topic names.
func DefaultTopics() Topics {
	return Topics{
		Events:     "commerce.events",
		Changelog:  "window.changelog",
		Ledger:     "ledger.days",
		Outbox:     "push.outbox",
		Control:    "control.state",
		Quarantine: "commerce.quarantine",
		Exceptions: "ledger.exceptions",
		// Read by the reconciliation sink.
		Contributions: "ledger.contributions",
	}
}

// MaxMessageBytes is every topic's max.message.bytes: the largest record
// batch the broker takes. It is franz-go's default producer batch limit less
// its 12 bytes of slack, under Kafka's default (1,048,588), so a cluster
// with default settings takes what the specs ask for.
const MaxMessageBytes = 1_000_000

// MaxRecordBytes is the most one record (key and value) written by any stage
// may hold: a batch of that one record, with its framing (61 bytes of batch
// header, a few varints, no headers), fits in MaxMessageBytes. Every stage
// keeps its output under it by construction; the window's tests prove it at
// every limit's maximum.
const MaxRecordBytes = MaxMessageBytes - 4096

// Spec describes one topic to create.
type Spec struct {
	Name       string
	Partitions int32
	Configs    map[string]*string
}

func ptr(s string) *string { return &s }

// ChangelogTombstones is how long the changelog keeps a tombstone
// (delete.retention.ms): a window store whose checkpoint is older may have
// missed a delete compaction has since dropped, so it is rebuilt instead.
const ChangelogTombstones = 24 * time.Hour

// Specs returns the topic specs. The changelog must have exactly as many
// partitions as the events topic: partition p of the changelog holds the
// state of the companies whose records land in partition p.
func (t Topics) Specs(partitions int32) []Spec {
	size := ptr(strconv.Itoa(MaxMessageBytes))
	compact := map[string]*string{"cleanup.policy": ptr("compact"), "max.message.bytes": size}
	forever := map[string]*string{"retention.ms": ptr("-1"), "retention.bytes": ptr("-1"), "max.message.bytes": size}
	all := []Spec{
		{Name: t.Events, Partitions: partitions, Configs: forever},
		{Name: t.Changelog, Partitions: partitions, Configs: map[string]*string{
			"cleanup.policy": ptr("compact"), "max.message.bytes": size,
			"delete.retention.ms": ptr(strconv.FormatInt(ChangelogTombstones.Milliseconds(), 10)),
		}},
		{Name: t.Ledger, Partitions: partitions, Configs: forever},
		{Name: t.Outbox, Partitions: partitions, Configs: compact},
		{Name: t.Quarantine, Partitions: partitions, Configs: forever},
		{Name: t.Exceptions, Partitions: partitions, Configs: compact},
		{Name: t.Contributions, Partitions: partitions, Configs: forever},
		// One partition keeps every control change in one order.
		{Name: t.Control, Partitions: 1, Configs: compact},
	}
	// A topic left unnamed is one the deployment does without.
	return slices.DeleteFunc(all, func(s Spec) bool { return s.Name == "" })
}

// EnsureTopics creates missing topics and checks that existing ones have the
// partition counts the design depends on.
func EnsureTopics(ctx context.Context, cl *kgo.Client, specs []Spec) error {
	adm := kadm.NewClient(cl)
	for _, s := range specs {
		resp, err := adm.CreateTopic(ctx, s.Partitions, -1, s.Configs, s.Name)
		if err == nil {
			err = resp.Err
		}
		if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("create topic %s: %w", s.Name, err)
		}
	}
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.Name
	}
	details, err := adm.ListTopics(ctx, names...)
	if err != nil {
		return fmt.Errorf("list topics: %w", err)
	}
	for _, s := range specs {
		d, ok := details[s.Name]
		if !ok {
			return fmt.Errorf("topic %s is not visible after creation", s.Name)
		}
		if d.Err != nil {
			return fmt.Errorf("topic %s: %w", s.Name, d.Err)
		}
		if got := int32(len(d.Partitions)); got != s.Partitions {
			return fmt.Errorf("topic %s has %d partitions, want %d; the changelog must match the events topic partition for partition, and the control topic needs one", s.Name, got, s.Partitions)
		}
	}
	return nil
}
