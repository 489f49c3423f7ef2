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
func ReadPartition(ctx context.Context, brokers []string, topic string, partition int32, log *slog.Logger, fn func(*kgo.Record) error) error {
	probe, err := kgo.NewClient(ClientOpts(brokers, log)...)
	if err != nil {
		return fmt.Errorf("read %s[%d]: %w", topic, partition, err)
	}
	ends, err := kadm.NewClient(probe).ListCommittedOffsets(ctx, topic)
	probe.Close()
	if err != nil {
		return fmt.Errorf("end offsets of %s: %w", topic, err)
	}
	end, ok := ends.Lookup(topic, partition)
	if !ok {
		return fmt.Errorf("%s has no partition %d", topic, partition)
	}
	if end.Err != nil {
		return fmt.Errorf("end offset of %s[%d]: %w", topic, partition, end.Err)
	}
	if end.Offset <= 0 {
		return nil
	}
	cl, err := kgo.NewClient(append(ClientOpts(brokers, log),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {partition: kgo.NewOffset().AtStart()}}),
		kgo.KeepControlRecords(),
	)...)
	if err != nil {
		return fmt.Errorf("read %s[%d]: %w", topic, partition, err)
	}
	defer cl.Close()
	var next int64
	for next < end.Offset {
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
			if aerr != nil || r.Offset >= end.Offset {
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
