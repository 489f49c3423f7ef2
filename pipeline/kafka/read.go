package kafka

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ReadPartition reads one partition from its start to its last committed
// offset as of the call, handing each committed data record to fn. Jobs use
// it to rebuild state from a changelog partition when they take it over.
func ReadPartition(ctx context.Context, brokers Cluster, topic string, partition int32, log *slog.Logger, fn func(*kgo.Record) error) error {
	_, end, err := PartitionBounds(ctx, brokers, topic, partition, log)
	if err != nil {
		return err
	}
	return ReadPartitionRange(ctx, brokers, topic, partition, 0, end, log, fn)
}

// PartitionBounds returns a partition's first offset and its last stable
// offset (the end a read_committed reader reaches).
func PartitionBounds(ctx context.Context, brokers Cluster, topic string, partition int32, log *slog.Logger) (start, end int64, err error) {
	probe, err := kgo.NewClient(ClientOpts(brokers, log)...)
	if err != nil {
		return 0, 0, fmt.Errorf("offsets of %s[%d]: %w", topic, partition, err)
	}
	defer probe.Close()
	adm := kadm.NewClient(probe)
	lookup := func(what string, list func(context.Context, ...string) (kadm.ListedOffsets, error)) (int64, error) {
		offs, err := list(ctx, topic)
		if err != nil {
			return 0, fmt.Errorf("%s offsets of %s: %w", what, topic, err)
		}
		o, ok := offs.Lookup(topic, partition)
		if !ok {
			return 0, fmt.Errorf("%s has no partition %d", topic, partition)
		}
		if o.Err != nil {
			return 0, fmt.Errorf("%s offset of %s[%d]: %w", what, topic, partition, o.Err)
		}
		return o.Offset, nil
	}
	if start, err = lookup("start", adm.ListStartOffsets); err != nil {
		return 0, 0, err
	}
	if end, err = lookup("end", adm.ListCommittedOffsets); err != nil {
		return 0, 0, err
	}
	return start, end, nil
}

// ReadPartitionRange reads one partition from offset from up to end,
// handing each committed data record to fn.
func ReadPartitionRange(ctx context.Context, brokers Cluster, topic string, partition int32, from, end int64, log *slog.Logger, fn func(*kgo.Record) error) error {
	if end <= from {
		return nil
	}
	cl, err := kgo.NewClient(append(ClientOpts(brokers, log),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {partition: kgo.NewOffset().At(from)}}),
		kgo.KeepControlRecords(),
	)...)
	if err != nil {
		return fmt.Errorf("read %s[%d]: %w", topic, partition, err)
	}
	defer cl.Close()
	next := from
	for next < end {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("read %s[%d]: %w", topic, partition, err)
		}
		var ferr error
		fs.EachError(func(_ string, _ int32, err error) { ferr = err })
		if ferr != nil {
			return fmt.Errorf("read %s[%d]: %w", topic, partition, ferr)
		}
		var aerr error
		fs.EachRecord(func(r *kgo.Record) {
			if aerr != nil || r.Offset >= end {
				return
			}
			next = r.Offset + 1
			if !r.Attrs.IsControl() {
				aerr = fn(r)
			}
		})
		if aerr != nil {
			return aerr
		}
	}
	return nil
}

// SplitPartitioner sends records of the manual topics to the partition set
// on the record and hashes the key for every other topic.
func SplitPartitioner(manual ...string) kgo.Partitioner {
	return splitPartitioner{manual: manual, keyed: kgo.StickyKeyPartitioner(nil), fixed: kgo.ManualPartitioner()}
}

type splitPartitioner struct {
	manual []string
	keyed  kgo.Partitioner
	fixed  kgo.Partitioner
}

func (p splitPartitioner) ForTopic(t string) kgo.TopicPartitioner {
	for _, m := range p.manual {
		if m == t {
			return p.fixed.ForTopic(t)
		}
	}
	return p.keyed.ForTopic(t)
}
