package kafka

import (
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// ClientOpts are the options every client of the system starts from: an
// idempotent producer waiting for all in-sync replicas, batches within the
// topics' MaxMessageBytes, read_committed consumption, and franz-go's
// Kafka-compatible key hashing, so a company's records and its changelog
// land in matching partitions.
func ClientOpts(brokers Cluster, log *slog.Logger) []kgo.Opt {
	opts := append(brokers.clientOpts(),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ProducerLinger(2*time.Millisecond),
		kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)),
		kgo.MetadataMinAge(250*time.Millisecond),
		// Batches never pass the topics' max.message.bytes, so the broker
		// refuses no batch for its size: a record too large for any batch
		// fails alone, in the client, and nothing else with it.
		kgo.ProducerBatchMaxBytes(MaxMessageBytes),
		// A record the cluster has not taken within this fails rather than
		// waits for ever: without it, a write sent to a broker that then
		// went away holds its caller (and a process's shutdown) until the
		// broker returns. Every writer here treats a failed write as not
		// done: the gateway's caller sends again, a push is looked up by its
		// reference before any resend, a window transaction aborts.
		kgo.RecordDeliveryTimeout(DeliveryTimeout),
	)
	if log != nil {
		opts = append(opts, kgo.WithLogger(slogLogger{log}))
	}
	return opts
}

// DeliveryTimeout bounds how long a produced record may wait for the
// cluster to take it.
const DeliveryTimeout = 30 * time.Second

// RequestProducerOpts are ClientOpts for a producer whose caller waits
// for the broker's acknowledgement before it answers (the gateway answers a
// push only then): it sends at once. A linger there holds every request for
// its length, while the in-flight slots stay taken; requests arriving
// together still share batches, which form while earlier ones are in flight.
func RequestProducerOpts(brokers Cluster, log *slog.Logger) []kgo.Opt {
	return append(ClientOpts(brokers, log), kgo.ProducerLinger(0))
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
