package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/commercesync/commercesync/pipeline/kafka"
)

// kafkaFlags say how a process reaches the Kafka cluster beyond its
// brokers: TLS and SASL. The SASL password comes from the environment
// alone (COMMERCESYNC_KAFKA_SASL_PASSWORD), as secrets do.
type kafkaFlags struct {
	tls                       *bool
	ca, cert, key, serverName *string
	saslMechanism, saslUser   *string
}

func newKafkaFlags(fs *flag.FlagSet) *kafkaFlags {
	return &kafkaFlags{
		tls:           fs.Bool("kafka-tls", false, "connect to the brokers over TLS (implied by the other -kafka-*-file flags)"),
		ca:            fs.String("kafka-ca-file", "", "PEM file of the authorities that sign the brokers' certificates (default: the system's)"),
		cert:          fs.String("kafka-cert-file", "", "PEM client certificate, for brokers that require mutual TLS (with -kafka-key-file)"),
		key:           fs.String("kafka-key-file", "", "PEM key of -kafka-cert-file"),
		serverName:    fs.String("kafka-server-name", "", "the name to check in the brokers' certificates, when it is not their address"),
		saslMechanism: fs.String("kafka-sasl-mechanism", "", "SASL: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (the password in COMMERCESYNC_KAFKA_SASL_PASSWORD)"),
		saslUser:      fs.String("kafka-sasl-user", "", "the SASL user"),
	}
}

// cluster is the cluster at brokers (comma separated), reached as the
// flags say.
func (k *kafkaFlags) cluster(brokers string) (kafka.Cluster, error) {
	var seeds []string
	for _, b := range strings.Split(brokers, ",") {
		if b = strings.TrimSpace(b); b != "" {
			seeds = append(seeds, b)
		}
	}
	c, err := kafka.Seeds(seeds...).WithSecurity(kafka.Security{
		TLS: *k.tls, CAFile: *k.ca, CertFile: *k.cert, KeyFile: *k.key, ServerName: *k.serverName,
		SASLMechanism: *k.saslMechanism, SASLUser: *k.saslUser, SASLPassword: os.Getenv("COMMERCESYNC_KAFKA_SASL_PASSWORD"),
	})
	if err != nil {
		return c, fmt.Errorf("%w (flags -kafka-*, or COMMERCESYNC_KAFKA_*)", err)
	}
	return c, nil
}
