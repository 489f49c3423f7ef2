// Package control keeps the control plane: tenants, API keys, companies,
// connections and configuration versions. Each change is a record on a
// compacted topic; every process rebuilds the same view by reading it, and a
// writer waits until its own view holds its write before answering, so a
// client always reads what it just wrote.
package control

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/commercesync/commercesync/pipeline/kafka"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// ErrNotFound is returned for a missing entity, and for one that belongs to
// another tenant: callers cannot tell the two apart, by design.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when a compare-and-set check fails.
var ErrConflict = errors.New("conflict")

// Store is the control plane view plus its single writer.
type Store struct {
	topic  string
	prod   *kgo.Client
	tail   *kafka.Tail
	sealer *Sealer
	now    func() time.Time
	log    *slog.Logger

	// writeMu serialises read-check-write sequences (create-or-reuse,
	// single-use OAuth states) within this writer.
	writeMu sync.Mutex

	mu          sync.RWMutex
	tenants     map[string]*v1.Tenant
	keys        map[string]*v1.ApiKey // by secret hash
	companies   map[string]*v1.Company
	connections map[string]*v1.Connection
	configs     map[string][]*v1.ConfigVersion // by company, ascending version
	setups      map[string]*v1.PlatformSetup   // by connection
	changed     chan struct{}
}

// Option configures a Store.
type Option func(*Store)

// WithClock injects time.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// Open starts the store and returns once it has read the whole topic.
func Open(ctx context.Context, brokers []string, topic string, sealer *Sealer, log *slog.Logger, opts ...Option) (*Store, error) {
	s := &Store{
		topic: topic, sealer: sealer, now: time.Now, log: log,
		tenants: map[string]*v1.Tenant{}, keys: map[string]*v1.ApiKey{},
		companies: map[string]*v1.Company{}, connections: map[string]*v1.Connection{},
		configs: map[string][]*v1.ConfigVersion{}, setups: map[string]*v1.PlatformSetup{}, changed: make(chan struct{}),
	}
	for _, o := range opts {
		o(s)
	}
	prod, err := kgo.NewClient(append(kafka.ClientOpts(brokers, log), kgo.DefaultProduceTopic(topic))...)
	if err != nil {
		return nil, fmt.Errorf("control producer: %w", err)
	}
	s.prod = prod
	tail, err := kafka.NewTail(brokers, topic, log, s.apply)
	if err != nil {
		prod.Close()
		return nil, err
	}
	s.tail = tail
	tail.Start(ctx)
	if err := tail.WaitCaughtUp(ctx); err != nil {
		tail.Stop()
		prod.Close()
		return nil, fmt.Errorf("read control topic: %w", err)
	}
	return s, nil
}

// Close stops the view and releases the producer.
func (s *Store) Close() {
	s.tail.Stop()
	s.prod.Close()
}

// Sealer returns the secret sealer.
func (s *Store) Sealer() *Sealer { return s.sealer }

// Changed returns a channel closed at the next change.
func (s *Store) Changed() <-chan struct{} {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.changed
}

func (s *Store) apply(r *kgo.Record) {
	var rec v1.ControlRecord
	if err := proto.Unmarshal(r.Value, &rec); err != nil {
		s.log.Error("control record unreadable; skipped", "key", string(r.Key), "offset", r.Offset, "err", err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch e := rec.Entity.(type) {
	case *v1.ControlRecord_Tenant:
		s.tenants[e.Tenant.GetId()] = e.Tenant
	case *v1.ControlRecord_ApiKey:
		s.keys[e.ApiKey.GetSecretSha256()] = e.ApiKey
	case *v1.ControlRecord_Company:
		s.companies[e.Company.GetId()] = e.Company
	case *v1.ControlRecord_Connection:
		s.connections[e.Connection.GetId()] = e.Connection
	case *v1.ControlRecord_ConfigVersion:
		cv := e.ConfigVersion
		list := s.configs[cv.GetCompanyId()]
		i := sort.Search(len(list), func(i int) bool { return list[i].GetVersion() >= cv.GetVersion() })
		if i < len(list) && list[i].GetVersion() == cv.GetVersion() {
			list[i] = cv
		} else {
			list = append(list, nil)
			copy(list[i+1:], list[i:])
			list[i] = cv
		}
		s.configs[cv.GetCompanyId()] = list
	case *v1.ControlRecord_PlatformSetup:
		s.setups[e.PlatformSetup.GetConnectionId()] = e.PlatformSetup
	}
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Store) write(ctx context.Context, key string, rec *v1.ControlRecord) error {
	b, err := proto.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode control record %s: %w", key, err)
	}
	res := s.prod.ProduceSync(ctx, &kgo.Record{Key: []byte(key), Value: b})
	r, err := res.First()
	if err != nil {
		return fmt.Errorf("write control record %s: %w", key, err)
	}
	return s.tail.WaitFor(ctx, r.Partition, r.Offset)
}

func (s *Store) stamp() string { return s.now().UTC().Format(time.RFC3339) }

// NewID returns a random UUID (version 4).
func NewID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// CreateTenant registers a tenant.
func (s *Store) CreateTenant(ctx context.Context, name string) (*v1.Tenant, error) {
	t := &v1.Tenant{Id: NewID(), Name: name, Created: s.stamp()}
	return t, s.write(ctx, "tenant/"+t.Id, &v1.ControlRecord{Entity: &v1.ControlRecord_Tenant{Tenant: t}})
}

// CreateAPIKey makes a key for a tenant and returns its secret, which is
// stored only as a hash.
func (s *Store) CreateAPIKey(ctx context.Context, tenantID string, dev bool) (string, error) {
	var raw [24]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("make api key: %w", err)
	}
	secret := "csk_" + base64.RawURLEncoding.EncodeToString(raw[:])
	k := &v1.ApiKey{Id: NewID(), TenantId: tenantID, SecretSha256: hashSecret(secret), Prefix: secret[:8], Created: s.stamp()}
	if dev {
		sealed, err := s.sealer.Seal([]byte(secret), []byte("apikey/"+k.Id))
		if err != nil {
			return "", err
		}
		k.DevSecret = sealed
	}
	return secret, s.write(ctx, "apikey/"+k.Id, &v1.ControlRecord{Entity: &v1.ControlRecord_ApiKey{ApiKey: k}})
}

// DevKey returns the development tenant and key, creating them on first use.
func (s *Store) DevKey(ctx context.Context) (tenantID, secret string, err error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.RLock()
	var found *v1.ApiKey
	for _, k := range s.keys {
		// The oldest key wins; ids break ties within a second, so every
		// process and every restart picks the same one.
		if k.GetDevSecret() != nil && !k.GetRevoked() && (found == nil || k.GetCreated() < found.GetCreated() ||
			(k.GetCreated() == found.GetCreated() && k.GetId() < found.GetId())) {
			found = k
		}
	}
	s.mu.RUnlock()
	if found != nil {
		b, err := s.sealer.Open(found.GetDevSecret(), []byte("apikey/"+found.GetId()))
		if err != nil {
			return "", "", fmt.Errorf("open development key: %w", err)
		}
		return found.GetTenantId(), string(b), nil
	}
	t, err := s.CreateTenant(ctx, "Development tenant")
	if err != nil {
		return "", "", err
	}
	secret, err = s.CreateAPIKey(ctx, t.Id, true)
	return t.Id, secret, err
}

// Authenticate returns the tenant a key secret belongs to.
func (s *Store) Authenticate(secret string) (string, bool) {
	if !strings.HasPrefix(secret, "csk_") {
		return "", false
	}
	h := hashSecret(secret)
	s.mu.RLock()
	defer s.mu.RUnlock()
	k, ok := s.keys[h]
	if !ok || k.GetRevoked() || subtle.ConstantTimeCompare([]byte(k.GetSecretSha256()), []byte(h)) != 1 {
		return "", false
	}
	return k.GetTenantId(), true
}

// CreateCompany registers a merchant of a tenant.
func (s *Store) CreateCompany(ctx context.Context, tenantID, name, description string) (*v1.Company, error) {
	c := &v1.Company{Id: NewID(), TenantId: tenantID, Name: name, Description: description, Created: s.stamp()}
	return c, s.write(ctx, "company/"+c.Id, &v1.ControlRecord{Entity: &v1.ControlRecord_Company{Company: c}})
}

// Company returns a company if it belongs to tenantID.
func (s *Store) Company(tenantID, companyID string) (*v1.Company, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.companies[companyID]
	if !ok || c.GetTenantId() != tenantID {
		return nil, ErrNotFound
	}
	return c, nil
}

// CompanyByID returns a company regardless of tenant, for the pipeline.
func (s *Store) CompanyByID(companyID string) (*v1.Company, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.companies[companyID]
	return c, ok
}

// Companies lists every company id.
func (s *Store) Companies() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]string, 0, len(s.companies))
	for id := range s.companies {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// PutConnection writes a connection as given.
func (s *Store) PutConnection(ctx context.Context, c *v1.Connection) error {
	return s.write(ctx, "connection/"+c.GetId(), &v1.ControlRecord{Entity: &v1.ControlRecord_Connection{Connection: c}})
}

// UpdateConnection applies fn to the current connection under the writer
// lock: fn sees the latest state, so concurrent updates never lose one
// another (a rotated token and a status change, say).
func (s *Store) UpdateConnection(ctx context.Context, id string, fn func(*v1.Connection) error) (*v1.Connection, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.RLock()
	cur, ok := s.connections[id]
	s.mu.RUnlock()
	if !ok {
		return nil, ErrNotFound
	}
	next := proto.Clone(cur).(*v1.Connection)
	if err := fn(next); err != nil {
		return nil, err
	}
	return next, s.PutConnection(ctx, next)
}

// Connection returns a connection by id.
func (s *Store) Connection(id string) (*v1.Connection, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.connections[id]
	return c, ok
}

// CompanyConnections lists a company's connections, oldest first.
func (s *Store) CompanyConnections(companyID string) []*v1.Connection {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []*v1.Connection
	for _, c := range s.connections {
		if c.GetCompanyId() == companyID {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].GetCreated() != out[j].GetCreated() {
			return out[i].GetCreated() < out[j].GetCreated()
		}
		return out[i].GetId() < out[j].GetId()
	})
	return out
}

// AccountingConnection returns the company's linked accounting connection,
// the newest one if several are linked.
func (s *Store) AccountingConnection(companyID string) (*v1.Connection, bool) {
	var linked *v1.Connection
	for _, c := range s.CompanyConnections(companyID) {
		if c.GetStatus() == "Linked" {
			linked = c
		}
	}
	return linked, linked != nil
}

// PutConfig saves a new configuration version and returns it.
func (s *Store) PutConfig(ctx context.Context, companyID string, cfg *v1.SyncConfiguration) (*v1.ConfigVersion, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.RLock()
	list := s.configs[companyID]
	var next int64 = 1
	if len(list) > 0 {
		next = list[len(list)-1].GetVersion() + 1
	}
	s.mu.RUnlock()
	cfg = proto.Clone(cfg).(*v1.SyncConfiguration)
	cfg.CompanyId = companyID
	cfg.Version = next
	cv := &v1.ConfigVersion{CompanyId: companyID, Version: next, Config: cfg, Created: s.stamp()}
	key := fmt.Sprintf("config/%s/%012d", companyID, next)
	return cv, s.write(ctx, key, &v1.ControlRecord{Entity: &v1.ControlRecord_ConfigVersion{ConfigVersion: cv}})
}

// Config returns the latest configuration version of a company.
func (s *Store) Config(companyID string) (*v1.ConfigVersion, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	list := s.configs[companyID]
	if len(list) == 0 {
		return nil, false
	}
	return list[len(list)-1], true
}

// ConfigVersion returns one configuration version of a company.
func (s *Store) ConfigVersion(companyID string, version int64) (*v1.ConfigVersion, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, cv := range s.configs[companyID] {
		if cv.GetVersion() == version {
			return cv, true
		}
	}
	return nil, false
}

// PutPlatformSetup stores what a connection's platform offers.
func (s *Store) PutPlatformSetup(ctx context.Context, ps *v1.PlatformSetup) error {
	return s.write(ctx, "setup/"+ps.GetConnectionId(), &v1.ControlRecord{Entity: &v1.ControlRecord_PlatformSetup{PlatformSetup: ps}})
}

// PlatformSetup returns a connection's platform setup as last read.
func (s *Store) PlatformSetup(connectionID string) (*v1.PlatformSetup, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ps, ok := s.setups[connectionID]
	return ps, ok
}

// Connections lists every connection.
func (s *Store) Connections() []*v1.Connection {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*v1.Connection, 0, len(s.connections))
	for _, c := range s.connections {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GetId() < out[j].GetId() })
	return out
}
