package kafka

import (
	"fmt"
	"os"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Broker is an embedded Kafka-protocol broker (franz-go kfake) listening on
// a loopback port. With a data folder it keeps every topic, offset and
// transaction across restarts, which is what lets `commercesync dev` be
// stopped and started without losing merchants, keys or days.
type Broker struct {
	cluster *kfake.Cluster
}

type brokerConfig struct {
	dataDir    string
	port       int
	minSession time.Duration
	syncWrites bool
}

// BrokerOption configures StartBroker.
type BrokerOption func(*brokerConfig)

// WithDataDir persists the broker's log under dir.
func WithDataDir(dir string) BrokerOption { return func(c *brokerConfig) { c.dataDir = dir } }

// WithPort fixes the listening port; 0 picks a free one.
func WithPort(port int) BrokerOption { return func(c *brokerConfig) { c.port = port } }

// WithMinSessionTimeout lowers the group session floor so that tests see a
// dead member replaced quickly.
func WithMinSessionTimeout(d time.Duration) BrokerOption {
	return func(c *brokerConfig) { c.minSession = d }
}

// WithSyncWrites fsyncs every batch.
func WithSyncWrites() BrokerOption { return func(c *brokerConfig) { c.syncWrites = true } }

// StartBroker starts a single-node broker.
func StartBroker(opts ...BrokerOption) (*Broker, error) {
	cfg := brokerConfig{}
	for _, o := range opts {
		o(&cfg)
	}
	kopts := []kfake.Opt{kfake.NumBrokers(1), kfake.Ports(cfg.port)}
	if cfg.dataDir != "" {
		if err := os.MkdirAll(cfg.dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("broker data folder: %w", err)
		}
		kopts = append(kopts, kfake.DataDir(cfg.dataDir))
	}
	if cfg.syncWrites {
		kopts = append(kopts, kfake.SyncWrites())
	}
	if cfg.minSession > 0 {
		kopts = append(kopts, kfake.GroupMinSessionTimeout(cfg.minSession))
	}
	c, err := kfake.NewCluster(kopts...)
	if err != nil {
		return nil, fmt.Errorf("start embedded broker: %w", err)
	}
	return &Broker{cluster: c}, nil
}

// Addrs returns the broker's listen addresses.
func (b *Broker) Addrs() []string { return b.cluster.ListenAddrs() }

// Cluster is the broker as its clients reach it: in plain text.
func (b *Broker) Cluster() Cluster { return Seeds(b.Addrs()...) }

// Close stops the broker, flushing its data folder.
func (b *Broker) Close() { b.cluster.Close() }
