package kafka_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/commercesync/commercesync/pipeline/kafka"
)

// tlsFiles makes a certificate authority and a broker certificate for
// 127.0.0.1 signed by it, and writes the authority to a PEM file.
func tlsFiles(t *testing.T) (server *tls.Config, caFile string) {
	t.Helper()
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	caKey, srvKey := key(), key()
	now := time.Now()
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "commercesync test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	srv := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "broker"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	srvDER, err := x509.CreateCertificate(rand.Reader, srv, caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}}}, caFile
}

// roundTrip makes a topic, produces a record and reads it back through
// a client of c, within a few seconds.
func roundTrip(t *testing.T, c kafka.Cluster) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(append(kafka.ClientOpts(c, nil), kgo.ConsumeTopics("secured"), kgo.AllowAutoTopicCreation())...)
	if err != nil {
		return err
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 1, 1, nil, "secured"); err != nil && !strings.Contains(err.Error(), "TOPIC_ALREADY_EXISTS") {
		return err
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "secured", Value: []byte("ok")}).FirstErr(); err != nil {
		return err
	}
	fs := cl.PollFetches(ctx)
	if err := fs.Err0(); err != nil {
		return err
	}
	if fs.NumRecords() == 0 {
		return context.DeadlineExceeded
	}
	return nil
}

// A cluster that requires TLS and SCRAM is reached with the CA and the
// credentials, and refuses a client with a wrong password or no TLS.
func TestClusterOverTLSWithSCRAM(t *testing.T) {
	server, caFile := tlsFiles(t)
	fc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.TLS(server), kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-256", "pipeline", "s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	defer fc.Close()
	seeds := kafka.Seeds(fc.ListenAddrs()...)
	good, err := seeds.WithSecurity(kafka.Security{CAFile: caFile, SASLMechanism: "scram-sha-256", SASLUser: "pipeline", SASLPassword: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	if err := roundTrip(t, good); err != nil {
		t.Fatalf("with TLS and the right credentials: %v", err)
	}
	wrong, _ := seeds.WithSecurity(kafka.Security{CAFile: caFile, SASLMechanism: "SCRAM-SHA-256", SASLUser: "pipeline", SASLPassword: "guess"})
	if err := roundTrip(t, wrong); err == nil {
		t.Error("a wrong password was let in")
	}
	if err := roundTrip(t, seeds); err == nil {
		t.Error("a plain-text client without credentials was let in")
	}
	untrusted, _ := seeds.WithSecurity(kafka.Security{TLS: true, SASLMechanism: "SCRAM-SHA-256", SASLUser: "pipeline", SASLPassword: "s3cret"})
	if err := roundTrip(t, untrusted); err == nil {
		t.Error("a broker certificate from an authority the client does not trust was accepted")
	}
}

// Settings that cannot work are refused at once, naming what to fix.
func TestClusterSecurityRefusesSettingsThatCannotWork(t *testing.T) {
	junk := filepath.Join(t.TempDir(), "junk.pem")
	if err := os.WriteFile(junk, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		s    kafka.Security
		want string
	}{
		{kafka.Security{SASLUser: "u", SASLPassword: "p"}, "without a mechanism"},
		{kafka.Security{SASLMechanism: "GSSAPI", SASLUser: "u", SASLPassword: "p"}, `mechanism "GSSAPI"`},
		{kafka.Security{SASLMechanism: "PLAIN", SASLUser: "u"}, "the user and the password"},
		{kafka.Security{CertFile: junk}, "certificate and its key"},
		{kafka.Security{CAFile: junk}, "holds no PEM certificate"},
		{kafka.Security{CAFile: junk + ".missing"}, "CA file"},
	} {
		if _, err := kafka.Seeds("127.0.0.1:9092").WithSecurity(c.s); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v; want an error saying %q", c.s, err, c.want)
		}
	}
}

// Each client of a cluster with metrics reports kprom's series under a
// client id of its own, and its series go when it closes.
func TestClusterMetricsLabelEachClient(t *testing.T) {
	b := startBroker(t)
	reg := prometheus.NewRegistry()
	c := b.Cluster().WithMetrics(reg, "test")
	produce := func() *kgo.Client {
		cl, err := kgo.NewClient(kafka.ClientOpts(c, nil)...)
		if err != nil {
			t.Fatal(err)
		}
		if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: "metered", Value: []byte("x")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		return cl
	}
	clients := func() map[string]float64 {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]float64{}
		for _, mf := range mfs {
			if mf.GetName() != "commercesync_kafka_produce_records_total" {
				continue
			}
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "client_id" {
						out[l.GetValue()] += m.GetCounter().GetValue()
					}
				}
			}
		}
		return out
	}
	admin := client(t, b.Cluster())
	if _, err := kadm.NewClient(admin).CreateTopic(context.Background(), 1, 1, nil, "metered"); err != nil {
		t.Fatal(err)
	}
	a, b2 := produce(), produce()
	// kprom counts a batch in a hook that may run just after the produce
	// returns.
	got := clients()
	for deadline := time.Now().Add(5 * time.Second); len(got) < 2 && time.Now().Before(deadline); got = clients() {
		time.Sleep(10 * time.Millisecond)
	}
	if len(got) != 2 || got["commercesync-test-1"] != 1 || got["commercesync-test-2"] != 1 {
		t.Fatalf("produced records by client: %v; want one each for commercesync-test-1 and -2", got)
	}
	a.Close()
	if got := clients(); len(got) != 1 || got["commercesync-test-2"] != 1 {
		t.Errorf("after the first client closed: %v; want only commercesync-test-2", got)
	}
	b2.Close()
}
