package kafka

import (
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// ClientOpts are the options every client of the system starts from: an
// idempotent producer waiting for all in-sync replicas, read_committed
// consumption, and franz-go's Kafka-compatible key hashing, so a company's
// records and its changelog land in matching partitions.
func ClientOpts(brokers []string, log *slog.Logger) []kgo.Opt {
	opts := []kgo.Opt{
		kgo.SeedBrokers(brokers...),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ProducerLinger(2 * time.Millisecond),
		kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)),
		kgo.MetadataMinAge(250 * time.Millisecond),
	}
	if log != nil {
		opts = append(opts, kgo.WithLogger(slogLogger{log}))
	}
	return opts
}

type slogLogger struct{ l *slog.Logger }

func (s slogLogger) Level() kgo.LogLevel { return kgo.LogLevelWarn }

func (s slogLogger) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	switch level {
	case kgo.LogLevelError:
		s.l.Error(msg, keyvals...)
	case kgo.LogLevelWarn:
		s.l.Warn(msg, keyvals...)
	default:
		s.l.Debug(msg, keyvals...)
	}
}
