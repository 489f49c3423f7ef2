package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/commercesync/commercesync/connectors"
	"github.com/commercesync/commercesync/gateway/records"
	"github.com/commercesync/commercesync/ledger/day"
	"github.com/commercesync/commercesync/ledger/mapping"
	"github.com/commercesync/commercesync/ledger/money"
	"github.com/commercesync/commercesync/pipeline/control"
	"github.com/commercesync/commercesync/pipeline/kafka"
	"github.com/commercesync/commercesync/pipeline/plan"
	"github.com/commercesync/commercesync/pipeline/view"
	v1 "github.com/commercesync/commercesync/proto/commercesync/v1"
)

// Server implements every service of commercesync.v1.
type Server struct {
	v1.UnimplementedPlatformServiceServer
	v1.UnimplementedCompanyServiceServer
	v1.UnimplementedSyncServiceServer
	v1.UnimplementedDataServiceServer
	v1.UnimplementedAdminServiceServer

	store      *control.Store
	prod       *kgo.Client
	topics     kafka.Topics
	ledger     *view.Ledger
	outbox     *view.Outbox
	quarantine *view.Quarantine
	exceptions *view.Exceptions
	connectors map[string]connectors.Connector
	codatKeys  map[string]string
	callback   string
	oauth      oauthFlow
	log        *slog.Logger
	now        func() time.Time
	limits     records.Limits
	skew       time.Duration
	// streamLimits bounds PushRecords streams (stream.go).
	streamLimits StreamLimits
	zones        zoneCache
	// values holds chunks of room for events (*[]byte), reused from one
	// push to the next (batch.chunk).
	values sync.Pool
	// scopes maps each gRPC method to the scope it needs.
	scopes map[string]v1.Scope
	// operator is the SHA-256 of the operator token; nil keeps the admin
	// API closed.
	operator []byte
	// records is told how many records each push accepted and refused.
	records func(accepted, rejected int)
	// recon answers reconciliation; reconOff says why there is none.
	recon    Reconciler
	reconOff string
}

// WithRecordsObserver sets what is told how many records each push, on
// any route, accepted and refused (metrics).
func WithRecordsObserver(fn func(accepted, rejected int)) Option {
	return func(s *Server) { s.records = fn }
}

// Option configures a Server.
type Option func(*Server)

// WithClock injects time.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithTopics overrides the topic names.
func WithTopics(t kafka.Topics) Option { return func(s *Server) { s.topics = t } }

// WithLimits sets what one push may hold; a zero field keeps its default
// (records.DefaultLimits). Limits that cannot be enforced (see
// records.Limits.Check) are a programming error and panic here, at start,
// rather than let records through that the broker would refuse.
func WithLimits(l records.Limits) Option {
	if err := l.Check(); err != nil {
		panic(fmt.Sprintf("gateway.WithLimits: %v", err))
	}
	return func(s *Server) { s.limits = l.WithDefaults() }
}

// WithModifiedSkew sets how far ahead of the gateway's clock a record's
// modifiedDate or sourceModifiedDate may be (default
// records.DefaultModifiedSkew). A negative skew counts as zero.
func WithModifiedSkew(d time.Duration) Option { return func(s *Server) { s.skew = max(d, 0) } }

// codatKeyOf gives the Codat platform key of each of ours, so a Codat
// integration's keys keep working. Codat never offered NetSuite for
// commerce sync, so it has none.
var codatKeyOf = map[string]string{"xero": "gbol", "qbo": "qhyg", "freeagent": "fbrh", "sage": "tgff"}

// NewServer makes the API. callbackURL is where platforms send merchants
// back after authorising (this server's /v1/oauth/callback).
func NewServer(store *control.Store, prod *kgo.Client, l *view.Ledger, o *view.Outbox, conns map[string]connectors.Connector, callbackURL string, log *slog.Logger, opts ...Option) *Server {
	s := &Server{
		store: store, prod: prod, topics: kafka.DefaultTopics(), ledger: l, outbox: o, connectors: conns,
		callback: callbackURL, oauth: newOAuthFlow(callbackURL), log: log, now: time.Now, codatKeys: map[string]string{},
		limits: records.DefaultLimits(), skew: records.DefaultModifiedSkew, scopes: methodScopes(),
		records: func(int, int) {},
	}
	for k, c := range codatKeyOf {
		s.codatKeys[c] = k
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// ListPlatforms lists the accounting platforms a merchant can connect.
func (s *Server) ListPlatforms(context.Context, *v1.ListPlatformsRequest) (*v1.ListPlatformsResponse, error) {
	out := &v1.ListPlatformsResponse{}
	for key, c := range s.connectors {
		caps := c.Capabilities()
		out.Platforms = append(out.Platforms, &v1.Platform{Key: key, Name: c.Name(), CodatKey: codatKeyOf[key], JournalMode: caps.JournalMode, InvoiceMode: caps.InvoiceMode})
	}
	sort.Slice(out.Platforms, func(i, j int) bool { return out.Platforms[i].Key < out.Platforms[j].Key })
	return out, nil
}

// CreateCompany registers a merchant.
func (s *Server) CreateCompany(ctx context.Context, req *v1.CreateCompanyRequest) (*v1.Company, error) {
	name := strings.TrimSpace(req.GetName())
	if name == "" {
		return nil, status.Error(codes.InvalidArgument, "name: is required; send the merchant's name or your own id for it")
	}
	if len(name) > 200 {
		return nil, status.Error(codes.InvalidArgument, "name: must be at most 200 characters")
	}
	key, err := idempotencyKey(ctx)
	if err != nil {
		return nil, err
	}
	if key == "" {
		return s.store.CreateCompany(ctx, tenantFrom(ctx), name, req.GetDescription())
	}
	c, replayed, err := s.store.CreateCompanyOnce(ctx, tenantFrom(ctx), key, name, req.GetDescription())
	switch {
	case errors.Is(err, control.ErrIdempotencyMismatch):
		return nil, status.Error(codes.FailedPrecondition, "Idempotency-Key: this key was first used with another name or description; "+
			"send the first request's name and description again to get its company, or a new key for a new company")
	case err != nil:
		return nil, status.Errorf(codes.Unavailable, "company not created: %v", err)
	}
	if replayed {
		_ = grpc.SetHeader(ctx, metadata.Pairs(replayedHeader, "true"))
	}
	return c, nil
}

// The idempotency headers of POST /v1/companies, as Stripe's API has
// them: a caller that sends the same key again, from any gateway, gets the
// company the first request made, marked replayed.
const (
	idempotencyHeader = "idempotency-key"
	replayedHeader    = "idempotent-replayed"
	// maxIdempotencyKey is Stripe's limit, long enough for any UUID or
	// hash a caller makes its keys from.
	maxIdempotencyKey = 255
)

// idempotencyKey returns the request's Idempotency-Key ("" for none).
func idempotencyKey(ctx context.Context) (string, error) {
	vals := metadata.ValueFromIncomingContext(ctx, idempotencyHeader)
	if len(vals) == 0 {
		return "", nil
	}
	if len(vals) > 1 {
		return "", status.Error(codes.InvalidArgument, "Idempotency-Key: send the header once")
	}
	k := vals[0]
	ok := k != "" && len(k) <= maxIdempotencyKey
	for i := 0; ok && i < len(k); i++ {
		ok = k[i] > ' ' && k[i] < 0x7f
	}
	if !ok {
		return "", status.Errorf(codes.InvalidArgument, "Idempotency-Key: must be 1 to %d printable ASCII characters without spaces; a random UUID per company works", maxIdempotencyKey)
	}
	return k, nil
}

// GetCompany returns a merchant.
func (s *Server) GetCompany(ctx context.Context, req *v1.GetCompanyRequest) (*v1.Company, error) {
	return company(ctx, s.store, req.GetCompanyId())
}

// GetSyncConfig returns the latest saved configuration.
func (s *Server) GetSyncConfig(ctx context.Context, req *v1.GetSyncConfigRequest) (*v1.SyncConfiguration, error) {
	c, err := company(ctx, s.store, req.GetCompanyId())
	if err != nil {
		return nil, err
	}
	var saved *v1.SyncConfiguration
	if cv, ok := s.store.Config(c.GetId()); ok {
		saved = cv.GetConfig()
	}
	return configView(c.GetId(), saved, s.setupOf(c.GetId())), nil
}

// setupOf returns the platform setup of the company's linked connection.
func (s *Server) setupOf(companyID string) *v1.PlatformSetup {
	conn, ok := s.store.AccountingConnection(companyID)
	if !ok {
		return nil
	}
	ps, _ := s.store.PlatformSetup(conn.GetId())
	return ps
}

// PutSyncConfig validates and saves a new configuration version, then tells
// the company's window writer the settings it needs, in the company's own
// partition.
func (s *Server) PutSyncConfig(ctx context.Context, req *v1.PutSyncConfigRequest) (*v1.SyncConfiguration, error) {
	c, err := company(ctx, s.store, req.GetCompanyId())
	if err != nil {
		return nil, err
	}
	cfg := req.GetConfig()
	if cfg == nil {
		return nil, status.Error(codes.InvalidArgument, "the body must be a sync configuration object")
	}
	msgs := validateConfig(cfg)
	if conn, ok := s.store.AccountingConnection(c.GetId()); ok && plan.InvoiceMode(cfg) {
		if p, ok := s.connectors[conn.GetPlatformKey()]; ok && !p.Capabilities().InvoiceMode {
			msgs = append(msgs, fmt.Sprintf("configuration.mapSettings.outputFormat: %s takes daily journals only; use \"JournalEntry\"", p.Name()))
		}
	}
	if setup := s.setupOf(c.GetId()); setup != nil {
		msgs = append(msgs, checkAgainstSetup(cfg, setup)...)
	}
	if lt := cfg.GetConfiguration().GetLocationTracking(); len(lt) > 0 {
		msgs = append(msgs, s.checkLineTracking(c.GetId(), lt)...)
	}
	if msg := s.checkModeChange(c.GetId(), cfg); msg != "" {
		msgs = append(msgs, msg)
	}
	if len(msgs) > 0 {
		return nil, status.Error(codes.InvalidArgument, strings.Join(msgs, "; "))
	}
	cfg = proto.Clone(cfg).(*v1.SyncConfiguration)
	if cfg.GetSchedule().GetTimeZone() == "" {
		cfg.Schedule.TimeZone = "Etc/UTC"
	}
	cfg.Configured = true
	cv, err := s.store.PutConfig(ctx, c.GetId(), cfg)
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "configuration not saved: %v", err)
	}
	sch := cv.GetConfig().GetSchedule()
	grace := time.Duration(sch.GetGraceMinutes()) * time.Minute
	if grace == 0 {
		grace = 120 * time.Minute
	}
	if err := s.control(ctx, c, &v1.CommerceEvent{Body: &v1.CommerceEvent_Settings{Settings: &v1.WindowSettings{
		TimeZone: sch.GetTimeZone(), CutoffHour: sch.GetSyncHour(), GraceMs: grace.Milliseconds(),
		ConfigVersion: cv.GetVersion(), StartDate: sch.GetStartDate(), GroupByLocation: groupsByLocation(cv.GetConfig()),
	}}}); err != nil {
		return nil, err
	}
	return cv.GetConfig(), nil
}

func validateConfig(cfg *v1.SyncConfiguration) []string {
	var msgs []string
	sch := cfg.GetSchedule()
	if sch == nil {
		return []string{"schedule: is required (timeZone, syncHour)"}
	}
	if h := sch.GetSyncHour(); h < 0 || h > 23 {
		msgs = append(msgs, fmt.Sprintf("schedule.syncHour: %d is not an hour; use 0 to 23 (0 ends each business day at midnight)", h))
	} else if _, err := day.NewCalendar(sch.GetTimeZone(), int(h)); err != nil {
		msgs = append(msgs, fmt.Sprintf("schedule.timeZone: %v; use an IANA zone such as Europe/London", err))
	}
	if f := sch.GetSelectedFrequency(); f != "" && f != "Daily" {
		msgs = append(msgs, fmt.Sprintf("schedule.selectedFrequency: %q is not offered; use \"Daily\"", f))
	}
	if d := sch.GetStartDate(); d != "" {
		if _, err := time.Parse(day.DayLayout, d); err != nil {
			msgs = append(msgs, fmt.Sprintf("schedule.startDate: %q is not a date; use YYYY-MM-DD", d))
		}
	}
	if p := sch.GetLockedPeriodPolicy(); p != "" && p != "Stop" && p != "PostOnFirstOpenDay" {
		msgs = append(msgs, fmt.Sprintf("schedule.lockedPeriodPolicy: %q is not a policy; use \"Stop\" or \"PostOnFirstOpenDay\"", p))
	}
	if g := sch.GetGraceMinutes(); g < 0 || g > 30*24*60 {
		msgs = append(msgs, "schedule.graceMinutes: must be between 0 (the default of 120) and 43200 (30 days)")
	}
	conf := cfg.GetConfiguration()
	switch f := conf.GetMapSettings().GetOutputFormat(); f {
	case "JournalEntry":
	case "", "Invoice":
		if conf.GetSales().GetSalesCustomer().GetSelectedCustomerId() == "" {
			msgs = append(msgs, mapping.CustomerPath+": invoice mode issues each day's invoice to the commerce provider as a customer; "+
				"select it, or set configuration.mapSettings.outputFormat to \"JournalEntry\" for daily journals")
		}
		if st := conf.GetSales().GetInvoiceStatus().GetSelectedInvoiceStatus(); st != "" && st != "Submitted" && st != "Draft" {
			msgs = append(msgs, fmt.Sprintf("%s: Invalid invoice status selected (must be submitted or draft); %q is neither", mapping.StatusPath, st))
		}
	default:
		msgs = append(msgs, fmt.Sprintf("configuration.mapSettings.outputFormat: %q is not a format; use \"JournalEntry\" for daily journals, "+
			"or \"Invoice\" (or leave it out) for daily invoices", f))
	}
	check := func(section string, m map[string]*v1.AccountConfiguration) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ac := m[k]
			sel := ac.GetSelectedAccountId()
			path := fmt.Sprintf("configuration.%s.accounts.%s", section, k)
			if sel == "" {
				if ac.GetRequired() {
					msgs = append(msgs, path+": Config contains required accounts without selections. Set its selectedAccountId to the id of "+
						"one of its accountOptions (GET lists them once the accounting platform is connected).")
				}
				continue
			}
			if len(ac.GetAccountOptions()) == 0 {
				continue
			}
			found := false
			for _, o := range ac.GetAccountOptions() {
				found = found || o.GetId() == sel
			}
			if !found {
				msgs = append(msgs, path+".selectedAccountId: Selected Account is not a valid option.")
			}
		}
	}
	check("sales", conf.GetSales().GetAccounts())
	check("payments", conf.GetPayments().GetAccounts())
	check("newPayments", conf.GetNewPayments().GetAccounts())
	check("fees", conf.GetFees().GetAccounts())
	msgs = append(msgs, checkRates(conf.GetExchangeRates())...)
	levels := conf.GetSales().GetGrouping().GetGroupingLevels()
	for _, l := range []struct {
		key, name string
		g         *v1.GroupingLevel
	}{{"invoiceLevel", "invoice level", levels.GetInvoiceLevel()}, {"invoiceLineLevel", "invoice line level", levels.GetInvoiceLineLevel()}} {
		for _, o := range l.g.GetSelectedGroupByOptions() {
			if !slices.Contains(groupByOptions[l.key], o) {
				// Codat's "Invalid invoice level grouping selected.", with the options.
				msgs = append(msgs, fmt.Sprintf("configuration.sales.grouping.groupingLevels.%s.selectedGroupByOptions: Invalid %s grouping selected; %q is not one of %q",
					l.key, l.name, o, groupByOptions[l.key]))
			}
		}
	}
	return msgs
}

// groupByOptions are the groupings offered per level: a day's documents can
// be split by location; lines are not grouped further.
var groupByOptions = map[string][]string{"invoiceLevel": {"Location"}, "invoiceLineLevel": {}}

// groupsByLocation reports whether the configuration splits each day by
// location (Codat's invoice-level grouping "by country/location of orders";
// it splits journals the same way).
func groupsByLocation(cfg *v1.SyncConfiguration) bool {
	return slices.Contains(cfg.GetConfiguration().GetSales().GetGrouping().GetGroupingLevels().GetInvoiceLevel().GetSelectedGroupByOptions(), "Location")
}

// checkRates names every exchange rate that could not convert a day.
func checkRates(rates map[string]string) []string {
	var msgs []string
	currencies := make([]string, 0, len(rates))
	for c := range rates {
		currencies = append(currencies, c)
	}
	sort.Strings(currencies)
	for _, c := range currencies {
		path := "configuration.exchangeRates." + c
		if _, ok := money.MinorUnits(c); !ok {
			msgs = append(msgs, fmt.Sprintf("%s: %q is not an ISO 4217 currency code; key each rate by the currency sold in, such as \"EUR\"", path, c))
			continue
		}
		if rates[c] == plan.PlatformRate {
			continue
		}
		r, err := decimal.NewFromString(rates[c])
		if err != nil || !r.IsPositive() {
			msgs = append(msgs, fmt.Sprintf("%s: %q is not a positive decimal; give the units of the base currency one %s buys, such as \"1.27\", "+
				"or \"platform\" for the rate the accounting platform holds", path, rates[c], c))
		}
	}
	return msgs
}

// eventRecord stamps an event with its company, tenant and receipt time,
// and keys it by company so all of a company's events share a partition.
func (s *Server) eventRecord(c *v1.Company, now time.Time, ev *v1.CommerceEvent) (*kgo.Record, error) {
	ev.CompanyId, ev.TenantId, ev.ReceivedUnixMs = c.GetId(), c.GetTenantId(), now.UnixMilli()
	b, err := proto.Marshal(ev)
	if err != nil {
		return nil, err
	}
	return &kgo.Record{Topic: s.topics.Events, Key: []byte(c.GetId()), Value: b}, nil
}

// control writes a control record into the company's partition.
func (s *Server) control(ctx context.Context, c *v1.Company, ev *v1.CommerceEvent) error {
	rec, err := s.eventRecord(c, s.now(), ev)
	if err != nil {
		return status.Errorf(codes.Internal, "encode control record: %v", err)
	}
	if err := s.prod.ProduceSync(ctx, rec).FirstErr(); err != nil {
		return status.Errorf(codes.Unavailable, "control record not stored: %v", err)
	}
	return nil
}

// SyncLatest seals every open day that ends at or before syncTo now,
// without waiting for grace.
func (s *Server) SyncLatest(ctx context.Context, req *v1.SyncLatestRequest) (*v1.SyncSummary, error) {
	c, err := company(ctx, s.store, req.GetCompanyId())
	if err != nil {
		return nil, err
	}
	to := s.now()
	if req.GetSyncTo() != "" {
		if to, err = time.Parse(time.RFC3339Nano, req.GetSyncTo()); err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "syncTo: %q is not an RFC 3339 date-time (e.g. 2026-03-12T00:00:00Z)", req.GetSyncTo())
		}
	}
	id := control.NewID()
	if err := s.control(ctx, c, &v1.CommerceEvent{Body: &v1.CommerceEvent_CloseUpTo{CloseUpTo: &v1.CloseUpTo{UpToUnixMs: to.UnixMilli(), RequestId: id}}}); err != nil {
		return nil, err
	}
	return &v1.SyncSummary{
		CompanyId: c.GetId(), SyncId: id, SyncStatusCode: 1000, SyncStatus: "Pending",
		SyncDateRangeUtc: &v1.DateRange{Finish: to.UTC().Format(time.RFC3339)},
	}, nil
}

// checkLineTracking refuses location tracking on a platform whose connector
// does not carry tracking on lines, or more categories than a line takes.
func (s *Server) checkLineTracking(companyID string, lt map[string]*v1.LocationTracking) []string {
	conn, ok := s.store.AccountingConnection(companyID)
	if !ok {
		return nil
	}
	p, ok := s.connectors[conn.GetPlatformKey()]
	if !ok {
		return nil
	}
	caps := p.Capabilities()
	if !caps.LineTracking {
		return []string{fmt.Sprintf("configuration.locationTracking: %s lines carry no tracking here yet; leave locationTracking out (days can still be grouped by location)", p.Name())}
	}
	var msgs []string
	for l, t := range lt {
		if n := len(t.GetTracking()); n > caps.TrackingDimensions {
			msgs = append(msgs, fmt.Sprintf("configuration.locationTracking.%s: %d tracking options, but a %s line takes at most %d", l, n, p.Name(), caps.TrackingDimensions))
		}
	}
	sort.Strings(msgs)
	return msgs
}

// checkModeChange refuses switching between journals and invoices once a
// document has reached the platform: Codat's choice "cannot be changed after
// the initial configuration is complete", and posted days would otherwise be
// planned again in the other form beside what is already in the books.
func (s *Server) checkModeChange(companyID string, cfg *v1.SyncConfiguration) string {
	cv, ok := s.store.Config(companyID)
	if !ok || plan.InvoiceMode(cv.GetConfig()) == plan.InvoiceMode(cfg) {
		return ""
	}
	for _, e := range s.outbox.Company(companyID) {
		posted := e.GetState() == v1.OutboxState_OUTBOX_STATE_CONFIRMED && e.GetExternalId() != ""
		if posted || e.GetLookupFirst() {
			from, to := "JournalEntry", "Invoice"
			if plan.InvoiceMode(cv.GetConfig()) {
				from, to = to, from
			}
			return fmt.Sprintf("configuration.mapSettings.outputFormat: cannot change from %q to %q once documents have been posted "+
				"(%s of %s is in the books); keep %q, or connect a new company for the other format", from, to,
				e.GetReference(), e.GetBusinessDay(), from)
		}
	}
	return ""
}

// GetSyncStatus reports the company's sync as Codat's status codes do.
func (s *Server) GetSyncStatus(ctx context.Context, req *v1.GetSyncStatusRequest) (*v1.SyncStatus, error) {
	c, err := company(ctx, s.store, req.GetCompanyId())
	if err != nil {
		return nil, err
	}
	st := &v1.SyncStatus{CompanyId: c.GetId(), DaysSealed: int32(len(s.ledger.Company(c.GetId())))}
	var firstErr string
	for _, e := range s.outbox.Company(c.GetId()) {
		ds := &v1.DocumentStatus{
			DocumentId: e.GetDocumentId(), BusinessDay: e.GetBusinessDay(), Currency: e.GetCurrency(), Revision: e.GetRevision(),
			Reference: e.GetReference(), DocumentType: e.GetDocument().GetType(), State: stateName(e.GetState()),
			ExternalId: e.GetExternalId(), ErrorMessage: e.GetErrorMessage(), Attempts: e.GetAttempts(),
		}
		if e.GetErrorClass() != v1.ErrorClass_ERROR_CLASS_UNSPECIFIED {
			ds.ErrorClass = strings.ToLower(strings.TrimPrefix(e.GetErrorClass().String(), "ERROR_CLASS_"))
		}
		st.Documents = append(st.Documents, ds)
		switch e.GetState() {
		case v1.OutboxState_OUTBOX_STATE_CONFIRMED:
			st.DocumentsConfirmed++
		case v1.OutboxState_OUTBOX_STATE_FAILED:
			st.DocumentsFailed++
			if firstErr == "" {
				firstErr = e.GetErrorMessage()
			}
		case v1.OutboxState_OUTBOX_STATE_SUPERSEDED:
			// Replaced by a later plan of the same day; never counted.
		default:
			st.DocumentsPlanned++
		}
	}
	_, hasConfig := s.store.Config(c.GetId())
	_, linked := s.store.AccountingConnection(c.GetId())
	quarantined := s.quarantineStatus(c.GetId(), st)
	conns := s.store.CompanyConnections(c.GetId())
	var deauthorized *v1.Connection
	for _, conn := range conns {
		if conn.GetStatus() == control.StatusDeauthorized {
			deauthorized = conn
		}
	}
	for _, conn := range conns[max(0, len(conns)-maxStatusConnections):] {
		st.DataConnections = append(st.DataConnections, s.publicConnection(conn))
	}
	switch {
	case !linked && deauthorized != nil:
		// Codat's 4220: the accounting platform no longer accepts the
		// connection. Said before any day fails, since documents wait.
		st.SyncStatusCode, st.SyncStatus = 4220, control.StatusDeauthorized
		st.ErrorMessage = fmt.Sprintf("%s To reconnect: POST /v1/companies/%s/connections with {\"platformKey\":%q} and have the merchant open its linkUrl.",
			deauthorizedBecause(deauthorized), c.GetId(), deauthorized.GetPlatformKey())
	case !linked:
		st.SyncStatusCode, st.SyncStatus, st.ErrorMessage = 4000, "ConfigurationError", "Company needs a linked accounting connection."
	case !hasConfig:
		st.SyncStatusCode, st.SyncStatus, st.ErrorMessage = 4000, "ConfigurationError", "No sync configuration has been saved."
	case st.DocumentsFailed > 0:
		st.SyncStatusCode, st.SyncStatus, st.ErrorMessage = 5130, "PushError", firstErr
	case quarantined != "":
		st.SyncStatusCode, st.SyncStatus, st.ErrorMessage = 5120, "DataProcessingError", quarantined
		st.DataPushed = st.DocumentsConfirmed > 0
	case st.DocumentsPlanned > 0:
		st.SyncStatusCode, st.SyncStatus = 1000, "InProgress"
	case st.DocumentsConfirmed > 0:
		st.SyncStatusCode, st.SyncStatus, st.DataPushed = 2000, "Success", true
	default:
		st.SyncStatusCode, st.SyncStatus = 2040, "Success"
	}
	return st, nil
}

// maxStatusConnections bounds the dataConnections the status lists: the
// newest ones, since every reconnect adds a connection.
const maxStatusConnections = 10

// deauthorizedBecause says why conn was deauthorized: the error recorded
// when it was, or a plain sentence.
func deauthorizedBecause(conn *v1.Connection) string {
	if errs := conn.GetDataConnectionErrors(); len(errs) > 0 {
		return errs[len(errs)-1].GetErrorMessage()
	}
	return conn.GetPlatformName() + " no longer accepts this company's connection; the company's documents wait until it is connected again."
}

func stateName(s v1.OutboxState) string {
	switch s {
	case v1.OutboxState_OUTBOX_STATE_PLANNED:
		return "Planned"
	case v1.OutboxState_OUTBOX_STATE_SENT:
		return "Sent"
	case v1.OutboxState_OUTBOX_STATE_CONFIRMED:
		return "Confirmed"
	case v1.OutboxState_OUTBOX_STATE_FAILED:
		return "Failed"
	case v1.OutboxState_OUTBOX_STATE_SUPERSEDED:
		return "Superseded"
	}
	return "Unknown"
}

// ListDays returns the ledger's summaries of a range of business days.
func (s *Server) ListDays(ctx context.Context, req *v1.ListDaysRequest) (*v1.ListDaysResponse, error) {
	c, err := company(ctx, s.store, req.GetCompanyId())
	if err != nil {
		return nil, err
	}
	for _, f := range []struct{ name, v string }{{"from", req.GetFrom()}, {"to", req.GetTo()}} {
		if f.v == "" {
			continue
		}
		if _, err := time.Parse(day.DayLayout, f.v); err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "%s: %q is not a date; use YYYY-MM-DD", f.name, f.v)
		}
	}
	out := &v1.ListDaysResponse{}
	for _, d := range s.ledger.Company(c.GetId()) {
		if (req.GetFrom() == "" || d.GetBusinessDay() >= req.GetFrom()) && (req.GetTo() == "" || d.GetBusinessDay() <= req.GetTo()) {
			out.Days = append(out.Days, d)
		}
	}
	return out, nil
}

// PushOrders takes orders over gRPC.
func (s *Server) PushOrders(ctx context.Context, req *v1.PushOrdersRequest) (*v1.PushResponse, error) {
	return pushTyped(ctx, s, req.GetCompanyId(), v1.RecordKind_RECORD_KIND_ORDER, req.GetOrders())
}

// PushPayments takes payments over gRPC.
func (s *Server) PushPayments(ctx context.Context, req *v1.PushPaymentsRequest) (*v1.PushResponse, error) {
	return pushTyped(ctx, s, req.GetCompanyId(), v1.RecordKind_RECORD_KIND_PAYMENT, req.GetPayments())
}

// PushTransactions takes transactions over gRPC.
func (s *Server) PushTransactions(ctx context.Context, req *v1.PushTransactionsRequest) (*v1.PushResponse, error) {
	return pushTyped(ctx, s, req.GetCompanyId(), v1.RecordKind_RECORD_KIND_TRANSACTION, req.GetTransactions())
}

func pushTyped[T proto.Message](ctx context.Context, s *Server, companyID string, kind v1.RecordKind, msgs []T) (*v1.PushResponse, error) {
	return typed(ctx, s, companyID, msgs, func(ctx context.Context, c *v1.Company, ps []pending) (*v1.PushResponse, error) {
		return s.ingest(ctx, c, kind, ps)
	})
}

func putTyped[T proto.Message](ctx context.Context, s *Server, companyID string, kind v1.ReferenceKind, msgs []T) (*v1.PushResponse, error) {
	return typed(ctx, s, companyID, msgs, func(ctx context.Context, c *v1.Company, ps []pending) (*v1.PushResponse, error) {
		return s.ingestReference(ctx, c, kind, ps)
	})
}

// typed answers a gRPC push the way the REST front answers its JSON: each
// record validated and answered on its own.
func typed[T proto.Message](ctx context.Context, s *Server, companyID string, msgs []T,
	ingest func(context.Context, *v1.Company, []pending) (*v1.PushResponse, error)) (*v1.PushResponse, error) {
	c, err := company(ctx, s.store, companyID)
	if err != nil {
		return nil, err
	}
	if len(msgs) > s.limits.BatchRecords {
		return nil, status.Errorf(codes.InvalidArgument, "%d records sent; a push takes at most %d; split them into several requests",
			len(msgs), s.limits.BatchRecords)
	}
	items := make([]records.Item[T], len(msgs))
	for i, m := range msgs {
		items[i] = records.Item[T]{Index: i, Msg: m, ID: idOf(m), Delete: records.IsDelete(m)}
	}
	records.ValidateItemsWithin(items, s.limits)
	return ingest(ctx, c, pendingOf(items))
}

// PutLocations takes locations over gRPC.
func (s *Server) PutLocations(ctx context.Context, req *v1.PutLocationsRequest) (*v1.PushResponse, error) {
	return putTyped(ctx, s, req.GetCompanyId(), v1.ReferenceKind_REFERENCE_KIND_LOCATION, req.GetLocations())
}

// PutProducts takes products over gRPC.
func (s *Server) PutProducts(ctx context.Context, req *v1.PutProductsRequest) (*v1.PushResponse, error) {
	return putTyped(ctx, s, req.GetCompanyId(), v1.ReferenceKind_REFERENCE_KIND_PRODUCT, req.GetProducts())
}

// PutProductCategories takes product categories over gRPC.
func (s *Server) PutProductCategories(ctx context.Context, req *v1.PutProductCategoriesRequest) (*v1.PushResponse, error) {
	return putTyped(ctx, s, req.GetCompanyId(), v1.ReferenceKind_REFERENCE_KIND_PRODUCT_CATEGORY, req.GetProductCategories())
}

// PutTaxComponents takes tax components over gRPC.
func (s *Server) PutTaxComponents(ctx context.Context, req *v1.PutTaxComponentsRequest) (*v1.PushResponse, error) {
	return putTyped(ctx, s, req.GetCompanyId(), v1.ReferenceKind_REFERENCE_KIND_TAX_COMPONENT, req.GetTaxComponents())
}

// PutPaymentMethods takes payment methods over gRPC.
func (s *Server) PutPaymentMethods(ctx context.Context, req *v1.PutPaymentMethodsRequest) (*v1.PushResponse, error) {
	return putTyped(ctx, s, req.GetCompanyId(), v1.ReferenceKind_REFERENCE_KIND_PAYMENT_METHOD, req.GetPaymentMethods())
}

func idOf(m proto.Message) string {
	fd := m.ProtoReflect().Descriptor().Fields().ByName("id")
	if fd == nil {
		return ""
	}
	return m.ProtoReflect().Get(fd).String()
}

func pendingOf[T proto.Message](items []records.Item[T]) []pending {
	out := make([]pending, len(items))
	for i, it := range items {
		out[i] = pending{index: it.Index, id: it.ID, msg: it.Msg, del: it.Delete, errs: it.Errors, wire: it.Wire}
	}
	return out
}
