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
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/time/rate"
	"google.golang.org/protobuf/proto"

	"github.com/commercesync/commercesync/pipeline/kafka"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// ErrNotFound is returned for a missing entity, and for one that belongs to
// another tenant: callers cannot tell the two apart, by design.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when a compare-and-set check fails: another
// process claimed the same thing first, or claimed it so often in a row
// that this one gave up (maxAttempts).
var ErrConflict = errors.New("conflict")

// ErrIdempotencyMismatch is returned when an idempotency key is used again
// with other parameters than it was first used with. It is an ErrConflict.
var ErrIdempotencyMismatch = fmt.Errorf("%w: idempotency key already used with other parameters", ErrConflict)

// maxAttempts bounds how often a guarded write is tried again after losing
// to another writer: each loss means another write won, so a process that
// loses this often is meeting a storm, not bad luck.
const maxAttempts = 16

// head is what the view knows of a guard: the revision it is held at, the
// record key and write of the record that holds it, and the request an
// idempotency key was first used with.
type head struct {
	rev     int64
	key     string
	write   string
	request string
	// prev is the key of the record this one superseded, which its
	// writer removes once it knows it won.
	prev string
}

// Store is the control plane view plus a writer. Any number of processes
// may write: writes that must not race carry a guard (see v1.ControlRecord),
// which the view settles in the topic's order.
type Store struct {
	topic  string
	prod   *kgo.Client
	tail   *kafka.Tail
	sealer *Sealer
	now    func() time.Time
	log    *slog.Logger

	// writeMu queues this process's read-check-write sequences, so that
	// they lose to each other's guards only when another process writes
	// too.
	writeMu sync.Mutex

	mu          sync.RWMutex
	tenants     map[string]*v1.Tenant
	keys        map[string]*v1.ApiKey // by secret hash
	keyHashes   map[string]string     // secret hash by key id
	companies   map[string]*v1.Company
	connections map[string]*v1.Connection
	configs     map[string][]*v1.ConfigVersion // by company, ascending version
	setups      map[string]*v1.PlatformSetup   // by connection
	// heads holds every guard's winner (see v1.ControlRecord): one per
	// connection, configuration version and idempotency key.
	heads map[string]head
	// outcomes holds, by write id, what became of this process's guarded
	// writes still waiting for the view: decided as the view reads them,
	// since a later write may have moved the guard on by the time the
	// writer looks.
	outcomes map[string]*outcome
	changed  chan struct{}
	catchUps *rate.Limiter
}

// outcome is what the view decided of one guarded write.
type outcome struct {
	read bool
	won  bool
	// head is the guard's head once the write was read: the write's own
	// when it won, the one it lost to when it did not.
	head head
}

// Option configures a Store.
type Option func(*Store)

// WithClock injects time.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// Open starts the store and returns once it has read the whole topic.
func Open(ctx context.Context, brokers kafka.Cluster, topic string, sealer *Sealer, log *slog.Logger, opts ...Option) (*Store, error) {
	s := newStore(topic, sealer, log)
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

// newStore is a store with an empty view, not yet reading.
func newStore(topic string, sealer *Sealer, log *slog.Logger) *Store {
	return &Store{
		topic: topic, sealer: sealer, now: time.Now, log: log,
		tenants: map[string]*v1.Tenant{}, keys: map[string]*v1.ApiKey{}, keyHashes: map[string]string{},
		companies: map[string]*v1.Company{}, connections: map[string]*v1.Connection{},
		configs: map[string][]*v1.ConfigVersion{}, setups: map[string]*v1.PlatformSetup{}, heads: map[string]head{},
		outcomes: map[string]*outcome{}, changed: make(chan struct{}), catchUps: rate.NewLimiter(maxCatchUps, maxCatchUps),
	}
}

// Close stops the view and releases the producer.
func (s *Store) Close() {
	s.tail.Stop()
	s.prod.Close()
}

// CatchUp waits, up to a second, until the view holds every control
// record written before the call, and says whether it does. A caller that
// did not find what another process has just written (a key issued, a
// company made through another gateway) calls it and looks again. It is
// rate-limited (maxCatchUps a second), so a flood of unknown keys costs
// the broker little: past the limit it says false at once.
func (s *Store) CatchUp(ctx context.Context) bool {
	if !s.catchUps.Allow() {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	return s.tail.WaitCaughtUp(ctx) == nil
}

// maxCatchUps bounds CatchUp's calls to the broker a second.
const maxCatchUps = 50

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
	defer func() {
		close(s.changed)
		s.changed = make(chan struct{})
	}()
	if g := rec.GetGuard(); g != "" {
		h := s.heads[g]
		o, mine := s.outcomes[rec.GetWriteId()]
		if rec.GetRevision() <= h.rev {
			if mine {
				*o = outcome{read: true, head: h}
			}
			return // another write claimed it first
		}
		next := head{rev: rec.GetRevision(), key: string(r.Key), write: rec.GetWriteId(), request: rec.GetRequestSha256(), prev: h.key}
		s.heads[g] = next
		if mine {
			*o = outcome{read: true, won: true, head: next}
		}
	} else if c := rec.GetConnection(); c != nil {
		// A connection or key written before guards (or made new): the
		// next guarded write supersedes it.
		s.heads[connectionGuard(c.GetId())] = head{key: string(r.Key)}
	} else if k := rec.GetApiKey(); k != nil {
		s.heads[apiKeyGuard(k.GetId())] = head{key: string(r.Key)}
	}
	switch e := rec.Entity.(type) {
	case *v1.ControlRecord_Tenant:
		s.tenants[e.Tenant.GetId()] = e.Tenant
	case *v1.ControlRecord_ApiKey:
		s.keys[e.ApiKey.GetSecretSha256()] = e.ApiKey
		s.keyHashes[e.ApiKey.GetId()] = e.ApiKey.GetSecretSha256()
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

// writeGuarded writes rec claiming guard at rev, under key#<write id>
// (key alone when unique is set: the key is new to this write already),
// and waits until the view has read it. It returns whether this write won
// the guard and the guard's head as the view read it: this write's when it
// won, the winner's when it did not. The loser's record is removed, and so
// is the record the winner superseded.
func (s *Store) writeGuarded(ctx context.Context, key string, unique bool, guard string, rev int64, request string,
	rec *v1.ControlRecord) (bool, head, error) {
	write := newWriteID()
	if !unique {
		key += "#" + write
	}
	rec.Guard, rec.Revision, rec.WriteId, rec.RequestSha256 = guard, rev, write, request
	o := &outcome{}
	s.mu.Lock()
	s.outcomes[write] = o
	s.mu.Unlock()
	err := s.write(ctx, key, rec)
	s.mu.Lock()
	delete(s.outcomes, write)
	got := *o
	s.mu.Unlock()
	if err != nil {
		return false, head{}, err
	}
	if !got.read {
		return false, head{}, fmt.Errorf("control record %s was read back without its write id", key)
	}
	switch {
	case !got.won:
		s.remove(ctx, key)
	case got.head.prev != "":
		s.remove(ctx, got.head.prev)
	}
	return got.won, got.head, nil
}

// remove writes a tombstone for a record no reader needs any more: a
// losing attempt, or one its guard's winner superseded. One that fails to
// be written is only garbage: readers ignore a loser while its winner
// stands, and a superseded record while a later one stands.
func (s *Store) remove(ctx context.Context, key string) {
	if err := s.prod.ProduceSync(ctx, &kgo.Record{Key: []byte(key)}).FirstErr(); err != nil {
		s.log.Warn("control record not removed; readers ignore it", "key", key, "err", err)
	}
}

// newWriteID names one attempt of a guarded write.
func newWriteID() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err))
	}
	return hex.EncodeToString(b[:])
}

func connectionGuard(id string) string { return "connection/" + id }

func apiKeyGuard(id string) string { return "apikey/" + id }

func configGuard(companyID string, version int64) string {
	return fmt.Sprintf("config/%s/%012d", companyID, version)
}

// idempotencyGuard is the guard of a tenant's idempotency key: the key is
// hashed, so that any text the header allows makes a key of fixed size.
func idempotencyGuard(tenantID, key string) string {
	return "idempotency/" + tenantID + "/" + hashSecret(key)
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

// DevKey returns the development tenant and key, creating them on first use.
func (s *Store) DevKey(ctx context.Context) (tenantID, secret string, err error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.RLock()
	var found *v1.ApiKey
	for _, k := range s.keys {
		// The oldest key wins; ids break ties within a second, so every
		// process and every restart picks the same one.
		if k.GetDevSecret() != nil && works(k, s.now()) && k.GetReplacedBy() == "" && (found == nil || k.GetCreated() < found.GetCreated() ||
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

// CreateCompany registers a merchant of a tenant.
func (s *Store) CreateCompany(ctx context.Context, tenantID, name, description string) (*v1.Company, error) {
	c := &v1.Company{Id: NewID(), TenantId: tenantID, Name: name, Description: description, Created: s.stamp()}
	return c, s.write(ctx, "company/"+c.Id, &v1.ControlRecord{Entity: &v1.ControlRecord_Company{Company: c}})
}

// CreateCompanyOnce registers a merchant of a tenant under an idempotency
// key: however many callers, in however many processes, send the same key
// with the same name and description, one company is made and every caller
// gets it (replayed is true for all but the one whose write made it). The
// same key with other parameters is ErrIdempotencyMismatch. A key stays
// bound to its company for as long as the company exists.
func (s *Store) CreateCompanyOnce(ctx context.Context, tenantID, key, name, description string) (c *v1.Company, replayed bool, err error) {
	guard := idempotencyGuard(tenantID, key)
	request := hashSecret(name + "\x00" + description)
	s.mu.RLock()
	h, claimed := s.heads[guard]
	s.mu.RUnlock()
	if claimed {
		c, err := s.claimedBy(h, request)
		return c, true, err
	}
	c = &v1.Company{Id: NewID(), TenantId: tenantID, Name: name, Description: description, Created: s.stamp()}
	won, h, err := s.writeGuarded(ctx, "company/"+c.Id, true, guard, 1, request, &v1.ControlRecord{Entity: &v1.ControlRecord_Company{Company: c}})
	if err != nil || won {
		return c, false, err
	}
	c, err = s.claimedBy(h, request)
	return c, true, err
}

// claimedBy returns the company an idempotency key's head made, if request
// is the one the key was first used with.
func (s *Store) claimedBy(h head, request string) (*v1.Company, error) {
	if h.request != request {
		return nil, ErrIdempotencyMismatch
	}
	id, ok := strings.CutPrefix(h.key, "company/")
	s.mu.RLock()
	c, found := s.companies[id]
	s.mu.RUnlock()
	if !ok || !found {
		return nil, fmt.Errorf("idempotency key holds %q, which names no company", h.key)
	}
	return c, nil
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

// UpdateConnection applies fn to the current connection and writes the
// result, unless another write to the connection, in this process or any
// other, came first: then fn runs again on the newer connection. fn must
// only change its argument, since it may run more than once; an error from
// it ends the update. After maxAttempts lost writes in a row the update
// gives up with ErrConflict.
func (s *Store) UpdateConnection(ctx context.Context, id string, fn func(*v1.Connection) error) (*v1.Connection, error) {
	return update(ctx, s, "connection "+id, connectionGuard(id), func() (*v1.Connection, bool) {
		c, ok := s.connections[id]
		return c, ok
	}, fn, func(c *v1.Connection) *v1.ControlRecord {
		return &v1.ControlRecord{Entity: &v1.ControlRecord_Connection{Connection: c}}
	})
}

// update is UpdateConnection for any entity kept under a guard of its own
// (written under key guard#<write id>): cur reads it from the view, under
// the view's lock, and rec makes the record of a changed copy.
func update[T proto.Message](ctx context.Context, s *Store, what, guard string, cur func() (T, bool), fn func(T) error,
	rec func(T) *v1.ControlRecord) (T, error) {
	var zero T
	// Writes of this process queue here rather than race each other.
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	for range maxAttempts {
		s.mu.RLock()
		c, ok := cur()
		h := s.heads[guard]
		s.mu.RUnlock()
		if !ok {
			return zero, ErrNotFound
		}
		next := proto.Clone(c).(T)
		if err := fn(next); err != nil {
			return zero, err
		}
		won, _, err := s.writeGuarded(ctx, guard, false, guard, h.rev+1, "", rec(next))
		if err != nil {
			return zero, err
		}
		if won {
			return next, nil
		}
	}
	return zero, fmt.Errorf("update %s: %d writes in a row lost to other processes: %w", what, maxAttempts, ErrConflict)
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

// PutConfig saves a new configuration version and returns it. Saves of
// one company race for each version number: one that loses, to a save in
// any process, takes the next number, so no saved version is ever
// overwritten. After maxAttempts lost numbers in a row it gives up with
// ErrConflict.
func (s *Store) PutConfig(ctx context.Context, companyID string, cfg *v1.SyncConfiguration) (*v1.ConfigVersion, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	for range maxAttempts {
		s.mu.RLock()
		list := s.configs[companyID]
		var next int64 = 1
		if len(list) > 0 {
			next = list[len(list)-1].GetVersion() + 1
		}
		s.mu.RUnlock()
		c := proto.Clone(cfg).(*v1.SyncConfiguration)
		c.CompanyId = companyID
		c.Version = next
		cv := &v1.ConfigVersion{CompanyId: companyID, Version: next, Config: c, Created: s.stamp()}
		guard := configGuard(companyID, next)
		won, _, err := s.writeGuarded(ctx, guard, false, guard, 1, "", &v1.ControlRecord{Entity: &v1.ControlRecord_ConfigVersion{ConfigVersion: cv}})
		if err != nil {
			return nil, err
		}
		if won {
			return cv, nil
		}
	}
	return nil, fmt.Errorf("save configuration of %s: %d versions in a row taken by other processes: %w", companyID, maxAttempts, ErrConflict)
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
