package kafka

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
	"github.com/twmb/franz-go/plugin/kprom"
)

// Cluster is how a process's clients reach Kafka: the seed brokers, and
// what every client needs besides them (TLS, SASL, metrics). The zero
// value has no brokers; Seeds makes a plain one.
type Cluster struct {
	Seeds []string
	opts  []kgo.Opt
	// metrics, when set, gives each client franz-go's kprom metrics,
	// labelled with a client id of its own.
	metrics *clientMetrics
}

// Seeds is a cluster reached in plain text, without authentication, at
// brokers: the embedded broker, or a development cluster.
func Seeds(brokers ...string) Cluster { return Cluster{Seeds: brokers} }

// String lists the seed brokers as KAFKA_BROKERS takes them.
func (c Cluster) String() string { return strings.Join(c.Seeds, ",") }

// Security is how the clients authenticate to the cluster and protect their
// connections, with franz-go's own TLS dialing and SASL mechanisms.
type Security struct {
	// TLS turns on TLS; it is implied by any of the files below.
	TLS bool
	// CAFile is a PEM bundle of the authorities to trust instead of the
	// system's; CertFile and KeyFile are a client certificate for mutual
	// TLS. ServerName overrides the name checked in the brokers'
	// certificates.
	CAFile, CertFile, KeyFile, ServerName string
	// SASLMechanism is "", PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512, with
	// SASLUser and SASLPassword.
	SASLMechanism, SASLUser, SASLPassword string
}

// WithSecurity returns the cluster reached with s, or an error that names
// the setting to fix.
func (c Cluster) WithSecurity(s Security) (Cluster, error) {
	var opts []kgo.Opt
	if s.TLS || s.CAFile != "" || s.CertFile != "" || s.KeyFile != "" || s.ServerName != "" {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: s.ServerName}
		if s.CAFile != "" {
			pem, err := os.ReadFile(s.CAFile)
			if err != nil {
				return c, fmt.Errorf("kafka TLS CA file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return c, fmt.Errorf("kafka TLS CA file %s holds no PEM certificate", s.CAFile)
			}
			cfg.RootCAs = pool
		}
		if (s.CertFile == "") != (s.KeyFile == "") {
			return c, errors.New("kafka TLS: give both the client certificate and its key, or neither")
		}
		if s.CertFile != "" {
			cert, err := tls.LoadX509KeyPair(s.CertFile, s.KeyFile)
			if err != nil {
				return c, fmt.Errorf("kafka TLS client certificate: %w", err)
			}
			cfg.Certificates = []tls.Certificate{cert}
		}
		opts = append(opts, kgo.DialTLSConfig(cfg))
	}
	var mech sasl.Mechanism
	switch strings.ToUpper(s.SASLMechanism) {
	case "":
		if s.SASLUser != "" || s.SASLPassword != "" {
			return c, errors.New("kafka SASL: a user and password were given without a mechanism; set it to PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
		}
	case "PLAIN":
		mech = plain.Auth{User: s.SASLUser, Pass: s.SASLPassword}.AsMechanism()
	case "SCRAM-SHA-256":
		mech = scram.Auth{User: s.SASLUser, Pass: s.SASLPassword}.AsSha256Mechanism()
	case "SCRAM-SHA-512":
		mech = scram.Auth{User: s.SASLUser, Pass: s.SASLPassword}.AsSha512Mechanism()
	default:
		return c, fmt.Errorf("kafka SASL mechanism %q: use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", s.SASLMechanism)
	}
	if mech != nil {
		if s.SASLUser == "" || s.SASLPassword == "" {
			return c, fmt.Errorf("kafka SASL %s: give both the user and the password", strings.ToUpper(s.SASLMechanism))
		}
		opts = append(opts, kgo.SASL(mech))
	}
	c.opts = append(append([]kgo.Opt(nil), c.opts...), opts...)
	return c, nil
}

// WithMetrics returns the cluster whose clients report franz-go's kprom
// metrics (connections, bytes, produced and fetched records and batches,
// request latencies) to reg, under commercesync_kafka_, each client
// labelled client_id with the process's role and a number.
func (c Cluster) WithMetrics(reg prometheus.Registerer, role string) Cluster {
	c.metrics = &clientMetrics{reg: reg, role: role}
	return c
}

type clientMetrics struct {
	reg  prometheus.Registerer
	role string
	n    atomic.Int64
}

// clientOpts are the options of one new client of the cluster.
func (c Cluster) clientOpts() []kgo.Opt {
	opts := append([]kgo.Opt{kgo.SeedBrokers(c.Seeds...)}, c.opts...)
	if m := c.metrics; m != nil {
		// kprom registers a client's collectors as it starts; a label of
		// its own keeps two clients of one process from colliding.
		id := fmt.Sprintf("commercesync-%s-%d", m.role, m.n.Add(1))
		opts = append(opts, kgo.ClientID(id),
			kgo.WithHooks(kprom.NewMetrics("commercesync", kprom.Subsystem("kafka"), kprom.Registerer(m.reg), kprom.WithClientLabel(),
				kprom.FetchAndProduceDetail(kprom.ByNode, kprom.ByTopic, kprom.Records, kprom.Batches, kprom.UncompressedBytes))))
	}
	return opts
}
